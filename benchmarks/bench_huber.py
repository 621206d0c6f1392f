"""Huber loss: the exact solver against an independent L-BFGS-B solve.

For each data set and ``epsilon`` (and ``alpha``), ``LipschitzRegressor(loss='huber',
epsilon=...)`` (exact solver: whitened FISTA at 1/L, then Newton on the
quadratic set) is compared with scipy's L-BFGS-B on the same objective

``mean_i huber_eps(y_i - x_i w - b) + alpha/2 ||w||^2``

started at zero with ``gtol=1e-12, ftol=1e-15``.  Reported: the relative
objective gap ``(ours - lbfgs) / lbfgs`` (the target is <= 1e-9: never above
the reference by more), and the time ratio ``t_lbfgs / t_ours`` (median of
``--repeats`` alternated runs, both timed in the same process; machine load
affects both).

Data: diabetes (442 x 10, y in its units), California housing (20640 x 8,
standardized X), and a synthetic problem with t(2) noise and 10% gross
outliers (n = 20000, d = 50).

Usage::

    python benchmarks/bench_huber.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.optimize import minimize
from sklearn.datasets import fetch_california_housing, load_diabetes
from sklearn.preprocessing import StandardScaler

from sklipschitz import LipschitzRegressor


def huber_fg(theta, X, y, eps, alpha):
    w, b = theta[:-1], theta[-1]
    r = y - X @ w - b
    a = np.abs(r)
    psi = np.clip(r, -eps, eps)
    n = len(y)
    value = np.where(a <= eps, 0.5 * a * a, eps * a - 0.5 * eps * eps).mean() + 0.5 * alpha * w @ w
    return value, np.append(-X.T @ psi / n + alpha * w, -psi.mean())


def lbfgs(X, y, eps, alpha):
    res = minimize(huber_fg, np.zeros(X.shape[1] + 1), args=(X, y, eps, alpha), jac=True,
                   method="L-BFGS-B",
                   options={"maxiter": 100000, "maxfun": 200000, "ftol": 1e-15, "gtol": 1e-12})
    return res.fun


def datasets():
    X, y = load_diabetes(return_X_y=True)
    out = {"diabetes": (StandardScaler().fit_transform(X), y)}
    try:
        Xc, yc = fetch_california_housing(return_X_y=True)
        out["california"] = (StandardScaler().fit_transform(Xc), yc)
    except Exception as exc:  # offline: no download
        print(f"(california housing skipped: {type(exc).__name__})")
    rng = np.random.default_rng(0)
    n, d = 20000, 50
    Xs = rng.standard_normal((n, d))
    ys = Xs @ rng.standard_normal(d) + rng.standard_t(2, n)
    bad = rng.choice(n, n // 10, replace=False)
    ys[bad] += rng.uniform(20, 60, bad.size)
    out["synthetic"] = (Xs, ys)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"{'data':<11}{'n x d':>12}{'epsilon':>10}{'alpha':>7}{'rel. gap':>12}"
          f"{'n_iter':>8}{'t_lbfgs/t_ours':>16}")
    for name, (X, y) in datasets().items():
        auto = LipschitzRegressor(loss="huber").fit(X, y).epsilon_
        for eps in (float(auto), 0.1 * float(auto)):
            for alpha in (0.0, 0.01):
                t_ours, t_ref = [], []
                for _ in range(args.repeats):
                    t0 = time.perf_counter()
                    reg = LipschitzRegressor(loss="huber", epsilon=eps, alpha=alpha).fit(X, y)
                    t_ours.append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    ref = lbfgs(X, y, eps, alpha)
                    t_ref.append(time.perf_counter() - t0)
                ours = huber_fg(np.append(reg.coef_, reg.intercept_), X, y, eps, alpha)[0]
                gap = (ours - ref) / abs(ref)
                print(f"{name:<11}{f'{X.shape[0]}x{X.shape[1]}':>12}{eps:>10.4g}{alpha:>7g}"
                      f"{gap:>12.2e}{reg.n_iter_:>8d}"
                      f"{np.median(t_ref) / np.median(t_ours):>16.1f}")


if __name__ == "__main__":
    main()
