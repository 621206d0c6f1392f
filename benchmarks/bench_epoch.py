"""Cost of one full-batch epoch of the general training loop, in units of two matvecs.

An epoch of full-batch gradient descent on a linear model needs ``r = X w``
and ``g = X' delta`` (two passes over ``X``) plus O(n) work on vectors.  This
benchmark times the epoch of :func:`sklipschitz._engine.loop.train` with
``batch_size=None`` -- the loop ``LipschitzRegressor(learning_rate=<float>)``,
``'local'`` and ``batch_size=n`` run -- and divides it by the time of those two
matvecs on the same array (the better of ``X @ w`` with ``w`` of shape
``(d,)`` and ``(d, 1)``; likewise for ``X.T @ r``).  Target: at most 1.3 at
``n >= 1e5``.

It also reports the cost of the Lipschitz constant the estimator computes
once per fit (``_lipschitz.linear_lipschitz``), in the same matvec units,
and checks that the dtype of ``X`` is kept by the weights and gradients.

Every time is the median of ``--repeats`` runs; each repeat times
``--epochs`` rounds of the two matvecs right before ``--epochs`` epochs and
the ratio is taken per repeat (median reported), since the machine may be shared.  BLAS runs on ``--threads``
threads (1 by default: on a loaded machine multi-threaded BLAS timings are
erratic) and the clock is the process CPU time by default (``--clock wall``
for wall time), which other jobs on the machine disturb much less.

Usage::

    python benchmarks/bench_epoch.py [--quick] [--loss squared_error|quantile]
        [--epochs 20] [--repeats 5] [--density 0.1]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from sklipschitz._engine import lipschitz as _lipschitz
from sklipschitz._engine.losses import get_regression_loss
from sklipschitz._engine.network import DenseNetwork
from sklipschitz._engine.loop import TrainState, train
from sklipschitz._engine.monitors import DivergenceStop, Stopping
from sklipschitz._engine.problems import NetworkProblem
from sklipschitz._engine.updates import SGD
from sklipschitz._engine.steps import ConstantStep


CLOCK = {"cpu": time.process_time, "wall": time.perf_counter}
_clock = time.process_time


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = _clock()
        fn()
        times.append(_clock() - t0)
    return statistics.median(times)


def make_data(n, d, dtype, fmt, density, rng):
    if fmt == "dense":
        X = rng.standard_normal((n, d)).astype(dtype)
    else:
        X = sp.random(n, d, density=density, format="csr", dtype=np.float64, random_state=rng,
                      data_rvs=rng.standard_normal).astype(dtype)
    w = rng.standard_normal(d)
    y = np.asarray(X @ w).astype(dtype) + rng.standard_normal(n).astype(dtype)
    return X, y


def two_matvecs(X):
    """A callable running ``X @ w`` and ``X.T @ r`` (the better of 1-d and (., 1) shapes)."""
    n, d = X.shape
    dtype = X.dtype
    w1 = np.ones(d, dtype=dtype)
    r1 = np.ones(n, dtype=dtype)
    w2 = w1[:, None].copy()
    r2 = r1[:, None].copy()
    fwd = min((lambda: X @ w1, lambda: X @ w2), key=lambda f: median_time(f, 5))
    bwd = min((lambda: X.T @ r1, lambda: X.T @ r2), key=lambda f: median_time(f, 5))

    def run():
        fwd()
        bwd()

    return run


def epoch_runner(X, y, loss_name, epochs):
    """A callable running ``epochs`` full-batch epochs of the general loop."""
    loss = get_regression_loss(loss_name, 0.5)
    n, d = X.shape
    Y = y.reshape(-1, 1)
    sw = np.ones(n, dtype=X.dtype)
    network = DenseNetwork((d, 1))
    # a valid, small constant step so that no epoch stops the loop
    lr = 0.5 / (_lipschitz.max_row_sq_norm(X, True) + 1.0)
    out = {}

    def run():
        coefs, intercepts = network.init_params(None, dtype=X.dtype)
        intercepts[0][...] = loss.constant_raw(Y, sw)
        rule = ConstantStep(lr)
        state = TrainState(coefs=coefs, intercepts=intercepts)
        state.step_state = rule.init(1.0 / lr)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            state = train(
                NetworkProblem(network, loss, X, Y, sw), state, rule=rule, update=SGD(),
                stopping=Stopping(0.0, epochs + 1), guard=DivergenceStop(), max_iter=epochs,
                batch_size=None, shuffle=False, rng=np.random.default_rng(0),
            )
        assert state.n_iter == epochs
        out["dtype"] = state.coefs[0].dtype
        return state

    return run, out


def measure(X, y, loss_name, epochs, repeats):
    """Median over ``repeats`` of (2 matvecs, epoch, epoch / 2 matvecs), interleaved.

    Each repeat times ``epochs`` rounds of the two matvecs right before
    ``epochs`` epochs (same loop length, same clock), so that both see the
    same load on a shared machine; the ratio is taken per repeat.
    """
    mv_one = two_matvecs(X)

    def mv_run():
        for _ in range(epochs):
            mv_one()

    ep_run, out = epoch_runner(X, y, loss_name, epochs)
    ep_run()  # warm-up
    mvs, eps, ratios = [], [], []
    for _ in range(repeats):
        mv = median_time(mv_run, 1) / epochs
        ep = median_time(ep_run, 1) / epochs
        mvs.append(mv)
        eps.append(ep)
        ratios.append(ep / mv)
    med = statistics.median
    return med(mvs), med(eps), med(ratios), out["dtype"]


def constant_time(X, loss_name, repeats):
    loss = get_regression_loss(loss_name, 0.5)
    sw = np.ones(X.shape[0], dtype=X.dtype)
    return median_time(
        lambda: _lipschitz.linear_lipschitz(loss, X, sw, fit_intercept=True), repeats
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n up to 1e5 only")
    parser.add_argument("--loss", default="squared_error")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--density", type=float, default=0.1, help="CSR density")
    parser.add_argument("--n", type=float, nargs="*", default=None)
    parser.add_argument("--d", type=int, nargs="*", default=[20, 200])
    parser.add_argument("--formats", nargs="*", default=["dense", "csr"])
    parser.add_argument("--dtypes", nargs="*", default=["float64", "float32"])
    parser.add_argument("--clock", choices=sorted(CLOCK), default="cpu",
                        help="process CPU time (robust to other jobs with 1 thread) or wall time")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads for both the matvecs and the epochs")
    args = parser.parse_args(argv)
    global _clock
    _clock = CLOCK[args.clock]
    ns = args.n or ([1e4, 1e5] if args.quick else [1e4, 1e5, 1e6])
    rng = np.random.default_rng(0)
    print(f"loss={args.loss}  epochs={args.epochs}  repeats={args.repeats}  "
          f"CSR density={args.density}  BLAS threads={args.threads}  clock={args.clock}")
    header = (f"{'dtype':8} {'format':6} {'n':>8} {'d':>4} {'2 matvecs ms':>13} "
              f"{'epoch ms':>9} {'epoch/2mv':>10} {'L ms':>8} {'L/2mv':>6} {'w dtype':>8}")
    print(header)
    print("-" * len(header))
    with threadpool_limits(limits=args.threads):
        for dtype in args.dtypes:
            for fmt in args.formats:
                for n in ns:
                    for d in args.d:
                        n = int(n)
                        X, y = make_data(n, d, np.dtype(dtype), fmt, args.density, rng)
                        mv, ep, ratio, wdtype = measure(X, y, args.loss, args.epochs,
                                                        args.repeats)
                        lt = constant_time(X, args.loss, max(1, args.repeats // 2))
                        print(f"{dtype:8} {fmt:6} {n:8.0e} {d:4d} {1e3 * mv:13.3f} "
                              f"{1e3 * ep:9.3f} {ratio:10.2f} {1e3 * lt:8.2f} "
                              f"{lt / mv:6.1f} {str(wdtype):>8}", flush=True)
                        del X, y


if __name__ == "__main__":
    main()
