"""How the cost of a fit grows with n: time to a 1e-6 relative objective gap.

For n = 1e3 ... 1e6 (d = 20, the data of DESIGN.md: mixed feature scales,
heteroscedastic t(2) noise), in the same run:

* squared error: ``LipschitzRegressor()`` (default full-batch solver),
  ``LipschitzRegressor(learning_rate='local')`` (the general loop, AdGD
  steps from 1/L) and ``sklearn.linear_model.LinearRegression``; the optimum
  is the least-squares solution (``numpy.linalg.lstsq``).
* quantile loss (tau = 0.9): ``LipschitzRegressor(loss='quantile')`` and
  ``statsmodels`` ``QuantReg``; the optimum is the smaller of the two
  objectives (both are exact LP-type solutions when they converge).

``time`` is the median wall time of a whole fit over ``--repeats`` runs;
``gap`` the relative objective gap of its result.  For the general loop the
time *to* the gap is read off ``loss_curve_`` (first epoch within 1e-6 of the
optimum, times the mean epoch cost); ``-`` when it is not reached.  The
``time/n`` column shows the growth (constant for linear cost).

All solvers run with ``--threads`` BLAS threads (1 by default).

Usage::

    python benchmarks/bench_scaling.py [--quick] [--repeats 3] [--gap 1e-6] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from threadpoolctl import threadpool_limits

from sklipschitz import LipschitzRegressor

TAU = 0.9


def make_data(n, d=20, seed=11):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 3, d) + rng.uniform(-1, 1, d)
    y = X @ rng.standard_normal(d) + 2 + rng.standard_t(2, n) * (1 + 0.5 * np.abs(X[:, 0]))
    return X, y


def squared_objective(coef, intercept, X, y):
    r = y - X @ coef - intercept
    return 0.5 * float(r @ r) / len(y)


def pinball_objective(coef, intercept, X, y, tau=TAU):
    r = y - X @ coef - intercept
    return float(np.mean(np.maximum(tau * r, (tau - 1) * r)))


def timed(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def time_to_gap(est, fit_time, ref, gap):
    """Time to the first epoch within ``gap`` of ``ref``, from ``loss_curve_``."""
    curve = np.asarray(est.loss_curve_)
    hit = np.nonzero(curve <= ref * (1 + gap))[0]
    if hit.size == 0:
        return None
    return fit_time * (hit[0] + 1) / len(curve)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n up to 1e5, 1 repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--gap", type=float, default=1e-6)
    parser.add_argument("--n", type=float, nargs="*", default=None)
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads for every solver (1: stable on a shared machine)")
    args = parser.parse_args(argv)
    with threadpool_limits(limits=args.threads):
        run(args)


def run(args):
    ns = args.n or ([1e3, 1e4, 1e5] if args.quick else [1e3, 1e4, 1e5, 1e6])
    repeats = 1 if args.quick else args.repeats
    warnings.simplefilter("ignore", ConvergenceWarning)
    try:
        import statsmodels.api as sm
    except ImportError:  # pragma: no cover - statsmodels is in the test extra
        sm = None

    print(f"d=20, tau={TAU}, target gap {args.gap:g}, median of {repeats} run(s), wall time, "
          f"BLAS threads={args.threads}")
    header = f"{'loss':9} {'n':>8} {'solver':34} {'time s':>9} {'gap':>9} {'us/row':>8}"
    print(header)
    print("-" * len(header))

    def row(loss, n, name, t, gap):
        ts = "-" if t is None else f"{t:9.3f}"
        per = "-" if t is None else f"{1e6 * t / n:8.2f}"
        print(f"{loss:9} {n:8.0e} {name:34} {ts:>9} {gap:9.1e} {per:>8}", flush=True)

    for n in ns:
        n = int(n)
        X, y = make_data(n)
        # -- squared error ------------------------------------------------------
        A = np.hstack([X, np.ones((n, 1))])
        sol = np.linalg.lstsq(A, y, rcond=None)[0]
        ref = squared_objective(sol[:-1], sol[-1], X, y)
        t, est = timed(lambda: LipschitzRegressor().fit(X, y), repeats)
        row("squared", n, "LipschitzRegressor()", t,
            squared_objective(est.coef_, est.intercept_, X, y) / ref - 1)
        t, est = timed(lambda: LipschitzRegressor(learning_rate="local", max_iter=5000,
                                                  tol=0.0, n_iter_no_change=5000).fit(X, y),
                       repeats)
        row("squared", n, "LipschitzRegressor('local') to gap", time_to_gap(est, t, ref, args.gap),
            min(est.loss_curve_) / ref - 1)
        t, est = timed(lambda: LinearRegression().fit(X, y), repeats)
        row("squared", n, "LinearRegression", t,
            squared_objective(est.coef_, est.intercept_, X, y) / ref - 1)
        # -- quantile -------------------------------------------------------------
        t_ours, ours = timed(
            lambda: LipschitzRegressor(loss="quantile", quantile=TAU).fit(X, y), repeats)
        obj_ours = pinball_objective(ours.coef_, ours.intercept_, X, y)
        results = [("LipschitzRegressor('quantile')", t_ours, obj_ours)]
        if sm is not None:
            Xc = sm.add_constant(X, has_constant="add")
            t_qr, qr = timed(lambda: sm.QuantReg(y, Xc).fit(q=TAU, max_iter=5000), repeats)
            results.append(("statsmodels QuantReg", t_qr,
                            pinball_objective(qr.params[1:], qr.params[0], X, y)))
        best = min(r[2] for r in results)
        for name, t, obj in results:
            row("quantile", n, name, t, obj / best - 1)
        del X, y, A


if __name__ == "__main__":
    main()
