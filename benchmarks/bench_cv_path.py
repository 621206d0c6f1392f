"""LipschitzRegressorCV: the path on one design against the per-alpha fits
and against scikit-learn.

``LipschitzRegressorCV`` fits every fold along the alpha grid with
``sklipschitz._exact.solve_path`` (one design per fold, each alpha
warm-started at the previous).  ``per-alpha`` is the same estimator with
the path run as before: one ``LipschitzRegressor`` fit per alpha (its own
design, loss and state; warm-started too).  The references, on the same
grid and the same folds (``KFold(5)``):

* squared error + L1: ``LassoCV(alphas=grid, tol=1e-10)``;
* squared error + elastic net (``l1_ratio=0.5``):
  ``ElasticNetCV(l1_ratio=0.5, alphas=grid, tol=1e-10)`` (the same objective,
  ``||y - Xw - b||^2 / (2n) + alpha (l1_ratio ||w||_1 + (1 - l1_ratio)/2
  ||w||^2)``);
* pinball loss (``quantile=0.5``) + L1: a loop of
  ``QuantileRegressor(alpha, solver='highs')`` over the grid and the folds
  (the same objective); on the larger data only ``--qr-fits`` of its fits
  run and the table gives the total extrapolated from their mean.

Data: ``diabetes`` (442 x 10, standardised as sklearn ships it) and a
synthetic set (``--n`` x ``--d``, 10 informative features, heteroscedastic
noise, as in ``bench_l1.py``).  Times are CPU seconds (``process_time``,
``OMP_NUM_THREADS=1`` recommended), the median of ``--repeat`` runs in which
the contenders alternate; the ratio column divides by the reference of the
same row (``per-alpha``: before / after; sklearn: ours / sklearn).  ``|d
coef|`` is the largest relative difference of the final coefficients and
``alpha_`` says whether the chosen alphas agree.

    OMP_NUM_THREADS=1 python benchmarks/bench_cv_path.py
    OMP_NUM_THREADS=1 python benchmarks/bench_cv_path.py --n 20000 --d 50 --repeat 3

Before / after a change: run it alternately on the two checkouts
(``PYTHONPATH``), e.g. ``--data synthetic --kinds lasso,quantile --qr-fits 0
--repeat 1``, and compare the ``solve_path`` rows (the ``per-alpha`` row,
which a change of the path leaves as it was, is the load reference).
"""

import argparse
import time
import warnings
from unittest import mock

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import ElasticNetCV, LassoCV, QuantileRegressor
from sklearn.model_selection import KFold

from sklipschitz import LipschitzRegressorCV
from sklipschitz._engine.losses import get_regression_loss
from sklipschitz.linear_model import _cv


def make_data(n, d, k=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = np.zeros(d)
    w[:k] = rng.standard_normal(k)
    y = X @ w + 1 + rng.standard_normal(n) * (1 + 0.5 * np.abs(X[:, 0]))
    return X, y


def cpu(fn):
    t = time.process_time()
    out = fn()
    return time.process_time() - t, out


def ours(X, y, cv, grid, **kw):
    return LipschitzRegressorCV(alphas=grid, cv=cv, **kw).fit(X, y)


def per_alpha(X, y, cv, grid, **kw):
    # the path as it ran before solve_path: one estimator fit per alpha
    with mock.patch.object(_cv, "_exact_path", lambda *a: False):
        return ours(X, y, cv, grid, **kw)


def qr_loop(X, y, cv, grid, quantile, max_fits=None):
    """QuantileRegressor over the grid and the folds; the held-out mean
    pinball loss picks alpha.  With ``max_fits``, only that many fits run
    (spread over the grid, fold 0) and None is returned as the choice."""
    folds = list(cv.split(X))
    if max_fits is not None:
        idx = np.unique(np.linspace(0, len(grid) - 1, max_fits).round().astype(int))
        train = folds[0][0]
        for i in idx:
            QuantileRegressor(quantile=quantile, alpha=grid[i], solver="highs").fit(
                X[train], y[train])
        return None, len(idx)
    losses = np.zeros((len(grid), len(folds)))
    for f, (train, test) in enumerate(folds):
        for i, a in enumerate(grid):
            m = QuantileRegressor(quantile=quantile, alpha=a, solver="highs").fit(
                X[train], y[train])
            r = y[test] - m.predict(X[test])
            losses[i, f] = np.mean(np.maximum(quantile * r, (quantile - 1) * r))
    best = int(np.argmin(losses.mean(axis=1)))
    m = QuantileRegressor(quantile=quantile, alpha=grid[best], solver="highs").fit(X, y)
    return m, len(grid) * len(folds) + 1


def rel(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def run_case(name, X, y, kind, n_alphas, repeat, qr_fits):
    cv = KFold(5)
    if kind == "lasso":
        kw = dict(loss="squared_error", penalty="l1")
    elif kind == "enet":
        kw = dict(loss="squared_error", penalty="elasticnet", l1_ratio=0.5)
    else:
        kw = dict(loss="quantile", quantile=0.5, penalty="l1")
    # the estimator's own grid: alpha_max from the KKT condition, log-spaced down to 1e-3 of it
    loss = get_regression_loss(kw["loss"], kw.get("quantile", 0.5))
    grid = _cv._alpha_grid(X, y, loss, None, kw.get("l1_ratio", 1.0), True, n_alphas, 1e-3)
    contenders = {"solve_path": lambda: ours(X, y, cv, grid, **kw),
                  "per-alpha": lambda: per_alpha(X, y, cv, grid, **kw)}
    if kind == "lasso":
        contenders["LassoCV"] = lambda: LassoCV(alphas=grid, cv=cv, tol=1e-10,
                                                max_iter=100_000).fit(X, y)
    elif kind == "enet":
        contenders["ElasticNetCV"] = lambda: ElasticNetCV(
            l1_ratio=0.5, alphas=grid, cv=cv, tol=1e-10, max_iter=100_000).fit(X, y)
    times = {k: [] for k in contenders}
    fitted = {}
    for _ in range(repeat):
        for k, fn in contenders.items():
            t, fitted[k] = cpu(fn)
            times[k].append(t)
    med = {k: float(np.median(v)) for k, v in times.items()}
    if kind == "quantile" and qr_fits != 0:
        # the HiGHS loop is slow: it runs once
        full = qr_fits is None or len(grid) * 5 + 1 <= qr_fits
        t, (m, nfits) = cpu(lambda: qr_loop(X, y, cv, grid, 0.5,
                                            None if full else qr_fits))
        total = t if full else t / nfits * (len(grid) * 5 + 1)
        med["QR loop" + ("" if full else f" (~{nfits} fits, extrapolated)")] = total
        fitted["QR loop"] = m
    ref = fitted["solve_path"]
    rows = []
    for k, t in med.items():
        if k == "solve_path":
            continue
        other = fitted.get(k.split(" (")[0])
        if k == "per-alpha":
            ratio = f"{t / med['solve_path']:.2f}x faster"
        else:
            ratio = f"{med['solve_path'] / t:.3g}x its time"
        coef = "-" if other is None else f"{rel(ref.coef_, other.coef_):.1e}"
        same = "-" if other is None else str(bool(np.isclose(ref.alpha_, other.alpha_,
                                                             rtol=1e-12)) if hasattr(
            other, "alpha_") else "-")
        if k.startswith("QR loop") and other is not None:
            same = str(bool(np.isclose(ref.alpha_, other.alpha, rtol=1e-12)))
        rows.append((name, kind, len(grid), k, t, ratio, coef, same))
    print(f"{name:>14} {kind:>8} {len(grid):>4}  {'solve_path':<32} {med['solve_path']:8.3f}")
    for r in rows:
        print(f"{r[0]:>14} {r[1]:>8} {r[2]:>4}  {r[3]:<32} {r[4]:8.3f}  {r[5]:<18} "
              f"{r[6]:>8} {r[7]:>6}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=20_000)
    p.add_argument("--d", type=int, default=50)
    p.add_argument("--n-alphas", type=int, default=100)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--qr-fits", type=int, default=6,
                   help="HiGHS fits run on the synthetic set (the rest extrapolated; "
                        "0: no HiGHS loop)")
    p.add_argument("--data", choices=["diabetes", "synthetic", "both"], default="both")
    p.add_argument("--kinds", default="lasso,enet,quantile")
    a = p.parse_args()
    warnings.simplefilter("ignore")
    print(f"{'data':>14} {'kind':>8} {'#a':>4}  {'contender':<32} {'CPU s':>8}  "
          f"{'ratio':<18} {'|d coef|':>8} {'alpha_':>6}")
    sets = []
    if a.data in ("diabetes", "both"):
        sets.append(("diabetes", *load_diabetes(return_X_y=True), None))
    if a.data in ("synthetic", "both"):
        sets.append((f"{a.n}x{a.d}", *make_data(a.n, a.d), a.qr_fits))
    for name, X, y, qr_fits in sets:
        for kind in a.kinds.split(","):
            run_case(name, X, y, kind, a.n_alphas, a.repeat, qr_fits)


if __name__ == "__main__":
    main()
