"""SymNet at depth 1-3 against a tuned MLP: 3-fold test score and epochs.

For 1, 2 and 3 hidden layers ((128,), (64, 64), (32, 32, 32)) and the
activations sbaf, arelu and relu, the default SymNet (no learning rate) is
compared with scikit-learn's MLPClassifier / MLPRegressor (relu, the same
layers, Adam) at its best ``learning_rate_init`` in {1e-4, 1e-3, 1e-2, 1e-1}
(chosen on the same test folds: an optimistic baseline).  Data: breast
cancer, digits, diabetes (X standardized inside the pipeline, y in its
units) and a synthetic 5-class problem (make_classification, 3000 x 20).

    OMP_NUM_THREADS=1 python benchmarks/bench_symnet_depth.py [--quick]

Prints one markdown table row per (data, depth): the MLP's score, epochs and
chosen rate, then score / epochs of each SymNet activation.  ``--quick``
runs one depth and two data sets.

    OMP_NUM_THREADS=1 python benchmarks/bench_symnet_depth.py --epoch-cost

measures instead the CPU time per epoch (``time.process_time`` of whole fits
of 10 epochs, setup included; 5 rounds alternating the models, the ratio to
the MLP of the same round, median over rounds) at one hidden layer of 2,000
units on 5,000 x 50 data, batch 200: MLPRegressor (relu) against
SymNetRegressor with relu, sbaf and arelu (the SymNet epoch includes its
constants and the guard's pass).

    OMP_NUM_THREADS=1 python benchmarks/bench_symnet_depth.py --epoch-cost-shapes

the same per-epoch ratio (fits of 5 epochs, 3 rounds) over other shapes:
classifiers with 2, 10, 100 and 1,000 classes, three hidden layers of 256,
a sparse 2,000 x 20,000 input (density 0.001), a 300-row problem and a
regressor with 500 outputs; MLPClassifier / MLPRegressor (relu) against
SymNet with sbaf and relu.

``--candidate VARIANT`` runs the table under one of the candidate changes of
``bench_symnet_stopping.py --candidates`` (patched for the run, not in the
package), e.g. ``--symnet-only --candidate release``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklipschitz.neural_network import SymNetClassifier, SymNetRegressor

DEPTHS = {1: (128,), 2: (64, 64), 3: (32, 32, 32)}
ACTIVATIONS = ("sbaf", "arelu", "relu")
MLP_RATES = (1e-4, 1e-3, 1e-2, 1e-1)


def _synthetic():
    return make_classification(
        n_samples=3000, n_features=20, n_informative=10, n_classes=5, n_clusters_per_class=2,
        random_state=0,
    )


DATA = {
    "breast cancer": (lambda: load_breast_cancer(return_X_y=True), True),
    "digits": (lambda: load_digits(return_X_y=True), True),
    "diabetes": (lambda: load_diabetes(return_X_y=True), False),
    "synthetic 5-class": (_synthetic, True),
}


def _cv(model, X, y, classifier):
    cv = (StratifiedKFold if classifier else KFold)(3, shuffle=True, random_state=0)
    t0 = time.process_time()
    res = cross_validate(make_pipeline(StandardScaler(), model), X, y, cv=cv,
                         return_estimator=True)
    cpu = time.process_time() - t0
    epochs = np.mean([est[-1].n_iter_ for est in res["estimator"]])
    return float(np.mean(res["test_score"])), float(epochs), cpu


def run(depths, datasets, mlp=True, activations=ACTIVATIONS):
    print("| data | layers | MLP relu (tuned lr): score / epochs / lr / CPU s | "
          + " | ".join(f"SymNet {a}: score / epochs / CPU s" for a in activations) + " |")
    print("| --- " * (3 + len(activations)) + "|")
    for name in datasets:
        load, classifier = DATA[name]
        X, y = load()
        for depth in depths:
            layers = DEPTHS[depth]
            mlp_cls = MLPClassifier if classifier else MLPRegressor
            best = None
            for lr in MLP_RATES if mlp else ():
                score, ep, cpu = _cv(
                    mlp_cls(hidden_layer_sizes=layers, learning_rate_init=lr, random_state=0),
                    X, y, classifier,
                )
                if best is None or score > best[0]:
                    best = (score, ep, lr, cpu)
            if best is None:  # --symnet-only
                best = (-np.inf, np.nan, np.nan, np.nan)
            cells = [f"{best[0]:.4f} / {best[1]:.0f} / {best[2]:g} / {best[3]:.1f}"]
            sym_cls = SymNetClassifier if classifier else SymNetRegressor
            for act in activations:
                score, ep, cpu = _cv(
                    sym_cls(hidden_layer_sizes=layers, activation=act, random_state=0),
                    X, y, classifier,
                )
                flag = "" if score >= best[0] - 0.02 else " (!)"
                cells.append(f"{score:.4f}{flag} / {ep:.0f} / {cpu:.1f}")
            print(f"| {name} | {layers} | " + " | ".join(cells) + " |", flush=True)


def _epoch_times(models, X, y, repeats):
    """CPU seconds per epoch of whole fits of each ``models[name]()``, one list
    per model: rounds alternate the models (the machine's load changes over
    time), so that a ratio is taken within each round, then the median."""
    times = {name: [] for name in models}
    for _ in range(repeats):
        for name, make in models.items():
            model = make()
            t0 = time.process_time()
            model.fit(X, y)
            times[name].append((time.process_time() - t0) / model.n_iter_)
    return times


def epoch_cost(width=2000, n=5000, d=50, epochs=10, repeats=5):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    y = np.tanh(X @ rng.standard_normal(d) / np.sqrt(d)) + 0.1 * rng.standard_normal(n)
    common = dict(hidden_layer_sizes=(width,), batch_size=200, max_iter=epochs, tol=0.0,
                  n_iter_no_change=epochs + 1, random_state=0)
    models = {"MLPRegressor relu": lambda: MLPRegressor(activation="relu", **common)}
    for act in ("relu", "sbaf", "arelu"):
        models[f"SymNetRegressor {act}"] = lambda a=act: SymNetRegressor(activation=a, **common)
    times = _epoch_times(models, X, y, repeats)
    base = np.array(times["MLPRegressor relu"])
    print(f"| model ({n} x {d}, one hidden layer of {width}, batch 200, {epochs} epochs) "
          "| CPU s / epoch (median) | ratio to MLP (median over rounds) |")
    print("| --- | --- | --- |")
    for name, ts in times.items():
        ratio = float(np.median(np.array(ts) / base))
        print(f"| {name} | {np.median(ts):.3f} | {ratio:.2f} |", flush=True)


def _shape_cases():
    """(name, X, y, layers, classifier) of ``--epoch-cost-shapes``."""
    import scipy.sparse as sp

    rng = np.random.default_rng(0)

    def labels(X, k):
        if k >= 100:  # random labels: every class present, none learnable
            return rng.integers(0, k, X.shape[0])
        scores = np.asarray(X @ rng.standard_normal((X.shape[1], k)))
        return scores.argmax(axis=1) if k > 2 else (scores[:, 0] > 0).astype(int)

    def dense(n, d):
        return rng.standard_normal((n, d))

    cases = []
    for k in (2, 10, 100):
        X = dense(5000, 50)
        cases.append((f"5000 x 50, (256,), {k} classes", X, labels(X, k), (256,), True))
    X = dense(3000, 20)
    cases.append(("3000 x 20, (100,), 1000 classes", X, labels(X, 1000), (100,), True))
    X = dense(5000, 50)
    cases.append(("5000 x 50, (256, 256, 256), 10 classes", X, labels(X, 10), (256,) * 3, True))
    X = sp.random(2000, 20000, density=0.001, format="csr", random_state=0)
    cases.append(("2000 x 20000 sparse, (100,), 2 classes", X, labels(X, 2), (100,), True))
    X = dense(300, 5)
    cases.append(("300 x 5, (32,), 2 classes", X, labels(X, 2), (32,), True))
    X = dense(5000, 50)
    cases.append(("5000 x 50, (256,), 500 outputs", X, dense(5000, 500), (256,), False))
    return cases


def epoch_cost_shapes(epochs=5, repeats=3):
    """CPU s per epoch of MLP (relu) and SymNet (sbaf, relu) over _shape_cases."""
    print(f"| shape ({epochs} epochs, batch 200) | MLP relu: CPU s / epoch | "
          "SymNet sbaf: CPU s / epoch (ratio) | SymNet relu: CPU s / epoch (ratio) |")
    print("| --- | --- | --- | --- |")
    for name, X, y, layers, classifier in _shape_cases():
        mlp_cls, sym_cls = ((MLPClassifier, SymNetClassifier) if classifier
                            else (MLPRegressor, SymNetRegressor))
        common = dict(hidden_layer_sizes=layers, max_iter=epochs, tol=0.0,
                      n_iter_no_change=epochs + 1, random_state=0)
        models = {"mlp": lambda: mlp_cls(activation="relu", **common)}
        for act in ("sbaf", "relu"):
            models[act] = lambda a=act: sym_cls(activation=a, **common)
        times = _epoch_times(models, X, y, repeats)
        base = np.array(times["mlp"])
        cells = [f"{np.median(base):.4f}"]
        for key in ("sbaf", "relu"):
            ratio = float(np.median(np.array(times[key]) / base))
            cells.append(f"{np.median(times[key]):.4f} ({ratio:.2f}x)")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--epoch-cost", action="store_true")
    parser.add_argument("--epoch-cost-shapes", action="store_true")
    parser.add_argument("--data", nargs="+", choices=list(DATA), default=list(DATA),
                        help="data sets of the table (default: all)")
    parser.add_argument("--depths", nargs="+", type=int, choices=list(DEPTHS),
                        default=list(DEPTHS), help="depths of the table (default: 1 2 3)")
    parser.add_argument("--activations", nargs="+", choices=ACTIVATIONS, default=ACTIVATIONS,
                        help="SymNet columns of the table (default: all)")
    parser.add_argument("--symnet-only", action="store_true",
                        help="skip the MLP grid (its column then reads -inf)")
    parser.add_argument("--candidate", default="current",
                        help="run the SymNet columns under a candidate change of "
                             "bench_symnet_stopping.py --candidates (a patch for this run)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    if args.epoch_cost:
        epoch_cost()
    elif args.epoch_cost_shapes:
        epoch_cost_shapes()
    elif args.quick:
        run([2], ["breast cancer", "diabetes"])
    else:
        undo = None
        if args.candidate != "current":
            import os
            import sys

            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            from bench_symnet_stopping import CANDIDATES, _apply

            if args.candidate not in CANDIDATES:
                parser.error(f"--candidate must be one of {CANDIDATES}")
            undo = _apply(args.candidate)
        try:
            run(args.depths, args.data, mlp=not args.symnet_only,
                activations=args.activations)
        finally:
            if undo is not None:
                undo()


if __name__ == "__main__":
    main()
