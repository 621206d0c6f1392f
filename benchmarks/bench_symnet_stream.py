"""SymNet on a stream: CPU seconds per ``partial_fit`` call and the score after
a few passes, for chunks of a few hundred rows.

A ``partial_fit`` call is one epoch over its chunk; the per-layer rule's
curvature estimate (``JacobianCurvature``) runs power iterations on a sample
of the chunk's rows at every call where a layer is due.  This prints, per
activation, layer sizes and chunk size: the mean CPU seconds per call (the
first call, which starts the power iterations cold, excluded), the share of
it spent in the estimate (the same stream with the estimate switched off,
``--no-estimate`` column), and the held-out R² (regressor) or accuracy
(classifier) after ``--passes`` passes over the stream.

Data: 10,000 training and 2,000 test rows of 50 standard-normal features; the
regressor's target is a random tanh network of the features plus noise, the
classifier's the argmax of three such outputs.

Run:  OMP_NUM_THREADS=1 python benchmarks/bench_symnet_stream.py
      OMP_NUM_THREADS=1 python benchmarks/bench_symnet_stream.py --chunks 200 500 2000 \
          --activations sbaf relu --layers 256,256
"""
import argparse
import time
import warnings
from contextlib import contextmanager

import numpy as np


def make_data(task, n_train=10_000, n_test=2_000, n_features=50, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_train + n_test, n_features))
    W1 = rng.standard_normal((n_features, 32)) / np.sqrt(n_features)
    H = np.tanh(2.0 * X @ W1)
    if task == "regression":
        y = H @ rng.standard_normal(32) / np.sqrt(32) + 0.1 * rng.standard_normal(len(X))
    else:
        y = np.argmax(H @ rng.standard_normal((32, 3)), axis=1)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


@contextmanager
def estimate_off(enabled):
    """Switch the hidden layers' curvature estimate off (the bound alone)."""
    if not enabled:
        yield
        return
    from sklipschitz import _symnet_base

    kept = _symnet_base._JACOBIAN_UNITS
    _symnet_base._JACOBIAN_UNITS = frozenset()
    try:
        yield
    finally:
        _symnet_base._JACOBIAN_UNITS = kept


def run_stream(task, activation, layers, chunk, passes, no_estimate, seed=0):
    from sklipschitz.neural_network import SymNetClassifier, SymNetRegressor

    X, y, Xt, yt = make_data(task)
    if task == "regression":
        est = SymNetRegressor(hidden_layer_sizes=layers, activation=activation,
                              random_state=seed)
        kw = {}
    else:
        est = SymNetClassifier(hidden_layer_sizes=layers, activation=activation,
                               random_state=seed)
        kw = {"classes": np.unique(y)}
    times = []
    with estimate_off(no_estimate), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(passes):
            for s in range(0, len(y), chunk):
                t0 = time.process_time()
                est.partial_fit(X[s:s + chunk], y[s:s + chunk], **kw)
                times.append(time.process_time() - t0)
    return float(np.mean(times[1:])), float(est.score(Xt, yt))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["regression", "classification"])
    parser.add_argument("--activations", nargs="+", default=["sbaf", "relu", "arelu"])
    parser.add_argument("--layers", nargs="+", default=["256,256"],
                        help="hidden layer sizes, comma-separated, one network per item")
    parser.add_argument("--chunks", nargs="+", type=int, default=[200, 500, 2000])
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"{'task':<15}{'act':<7}{'layers':<12}{'chunk':>6}  {'CPU s/call':>10}"
          f"  {'no estimate':>11}  {'estimate share':>14}  {'score':>7}  {'no-est score':>12}")
    for task in args.tasks:
        for act in args.activations:
            for spec in args.layers:
                layers = tuple(int(v) for v in spec.split(","))
                for chunk in args.chunks:
                    t, s = run_stream(task, act, layers, chunk, args.passes, False, args.seed)
                    t0, s0 = run_stream(task, act, layers, chunk, args.passes, True, args.seed)
                    share = max(0.0, 1.0 - t0 / t) if t > 0 else float("nan")
                    print(f"{task:<15}{act:<7}{spec:<12}{chunk:>6}  {t:>10.4f}  {t0:>11.4f}"
                          f"  {share:>14.2f}  {s:>7.4f}  {s0:>12.4f}", flush=True)


if __name__ == "__main__":
    main()
