"""Quantile regression: the exact linear solver against statsmodels and HiGHS.

Data (n samples, 20 features, heteroscedastic Student-t(2) noise)::

    rng = np.random.default_rng(11)
    X = rng.standard_normal((n, 20)) * rng.uniform(0.5, 3, 20) + rng.uniform(-1, 1, 20)
    y = X @ rng.standard_normal(20) + 2 + rng.standard_t(2, n) * (1 + 0.5 * abs(X[:, 0]))

For each method: wall time (best of ``--repeat`` runs for the fast solvers,
one run for the slow references), the final mean pinball loss, its relative
gap to the best objective found at that n, and the speed-up over
statsmodels' ``QuantReg`` measured in the same run.

    python benchmarks/bench_quantile.py            # n = 1e5 (+ a run at n = 1e6)
    python benchmarks/bench_quantile.py --quick    # n = 1e5, HiGHS only at n = 1e4
    python benchmarks/bench_quantile.py --n 20000 --tau 0.5
"""

import argparse
import time
import warnings

import numpy as np

from sklipschitz._exact import solve_linear
from sklipschitz._engine.losses import PinballLoss


def make_data(n, seed=11):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 20)) * rng.uniform(0.5, 3, 20) + rng.uniform(-1, 1, 20)
    y = X @ rng.standard_normal(20) + 2 + rng.standard_t(2, n) * (1 + 0.5 * abs(X[:, 0]))
    return X, y


def pinball(X, y, coef, intercept, tau):
    r = y - X @ np.asarray(coef, dtype=np.float64).ravel() - float(np.ravel(intercept)[0])
    return float(np.mean(np.maximum(tau * r, (tau - 1) * r)))


def timed(fn, repeat):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run_ours(X, y, tau, dtype, repeat):
    Xd, Y = X.astype(dtype), y[:, None].astype(dtype)
    sw = np.ones(len(y))
    solve_linear(Xd[:2000], Y[:2000], PinballLoss(tau), sw[:2000])  # warm-up (imports)
    t, sol = timed(lambda: solve_linear(Xd, Y, PinballLoss(tau), sw), repeat)
    return t, pinball(X, y, sol.coef, sol.intercept, tau), sol


def run_quantreg(X, y, tau):
    from statsmodels.regression.quantile_regression import QuantReg

    A = np.column_stack([np.ones(len(y)), X])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t, res = timed(lambda: QuantReg(y, A).fit(q=tau), 1)
    return t, pinball(X, y, res.params[1:], res.params[0], tau)


def run_highs(X, y, tau):
    from sklearn.linear_model import QuantileRegressor

    t, m = timed(lambda: QuantileRegressor(quantile=tau, alpha=0.0, solver="highs").fit(X, y), 1)
    return t, pinball(X, y, m.coef_, m.intercept_, tau)


def table(n, tau, rows):
    best = min(r[2] for r in rows)
    t_sm = next((r[1] for r in rows if r[0].startswith("statsmodels")), None)
    print(f"\nn = {n:,}, d = 20, tau = {tau}")
    print(f"{'method':<44}{'time [s]':>10}{'objective':>22}{'rel. gap':>11}{'vs QuantReg':>13}")
    for name, t, obj, note in rows:
        gap = (obj - best) / best
        ratio = f"{t_sm / t:.1f}x" if t_sm else "-"
        print(f"{name:<44}{t:>10.3f}{obj:>22.15f}{gap:>11.1e}{ratio:>13}  {note}")


def bench(n, tau, repeat, highs_n, with_quantreg=True):
    X, y = make_data(n)
    rows = []
    for dtype in (np.float64, np.float32):
        t, obj, sol = run_ours(X, y, tau, dtype, repeat)
        note = f"certified={sol.certified} n_iter={sol.n_iter}"
        rows.append((f"solve_linear {np.dtype(dtype).name}", t, obj, note))
    if with_quantreg:
        t, obj = run_quantreg(X, y, tau)
        rows.append(("statsmodels QuantReg", t, obj, ""))
    if highs_n == n:
        t, obj = run_highs(X, y, tau)
        rows.append(("sklearn QuantileRegressor(highs)", t, obj, ""))
    table(n, tau, rows)
    if highs_n is not None and highs_n != n:
        # the HiGHS reference at a smaller n, next to our solver at that n
        Xs, ys = make_data(highs_n)
        rows = []
        t, obj, sol = run_ours(Xs, ys, tau, np.float64, repeat)
        rows.append(("solve_linear float64", t, obj, f"certified={sol.certified}"))
        t, obj = run_quantreg(Xs, ys, tau)
        rows.append(("statsmodels QuantReg", t, obj, ""))
        t, obj = run_highs(Xs, ys, tau)
        rows.append(("sklearn QuantileRegressor(highs)", t, obj, ""))
        table(highs_n, tau, rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--tau", type=float, default=0.9)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true",
                    help="HiGHS only at n = 1e4 and no run at n = 1e6")
    ap.add_argument("--blas-threads", type=int, default=1,
                    help="BLAS threads for every method (0: library default)")
    args = ap.parse_args()
    highs_n = min(10_000, args.n) if args.quick else args.n
    from threadpoolctl import threadpool_limits

    limits = args.blas_threads if args.blas_threads > 0 else None
    with threadpool_limits(limits=limits, user_api="blas"):
        print(f"BLAS threads: {args.blas_threads or 'default'} for every method")
        bench(args.n, args.tau, args.repeat, highs_n)
        if not args.quick and args.n < 1_000_000:
            bench(1_000_000, args.tau, max(1, args.repeat // 2), None)


if __name__ == "__main__":
    main()
