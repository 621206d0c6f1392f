"""Epochs to reach the optimum: the computed learning rate against a grid of constants.

For each loss and data set, the reference optimum comes from an independent
solver (least squares, the HiGHS linear program, L-BFGS-B).  Every rule then
runs plain full-batch gradient descent (the general training loop) and we
count the epochs until the objective is within ``--gap`` (relative) of the
optimum:

* ``lipschitz``: the valid constant, 1/L (1/(L sqrt(t)) for non-smooth losses);
* ``paper``: the published constant;
* ``local``: adaptive steps started at 1/L;
* each constant learning rate of the grid 1e-4 ... 10.

The column ``default`` is what a user gets with no options: the full-batch
solver (whitened 1/L steps with an exact finish), in iterations.

Usage::

    python benchmarks/bench_no_tuning.py [--quick] [--gap 1e-4] [--max-epochs 5000]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from scipy.optimize import linprog, minimize
from sklearn.datasets import load_diabetes, load_linnerud, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sklipschitz import LipschitzRegressor
from sklipschitz._engine.losses import get_regression_loss

GRID = [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]


def datasets(quick):
    X, y = load_diabetes(return_X_y=True)
    out = {"diabetes (std)": (StandardScaler().fit_transform(X), y / y.std())}
    out["diabetes (raw)"] = (X, y / y.std())
    Xl, Yl = load_linnerud(return_X_y=True)
    out["linnerud (std)"] = (StandardScaler().fit_transform(Xl), Yl[:, 0] / Yl[:, 0].std())
    rng = np.random.default_rng(11)
    n = 2000 if quick else 20000
    Xs = rng.standard_normal((n, 20)) * rng.uniform(0.5, 3, 20) + rng.uniform(-1, 1, 20)
    ys = Xs @ rng.standard_normal(20) + 2 + rng.standard_t(2, n) * (1 + 0.5 * abs(Xs[:, 0]))
    out["heavy-tailed synthetic"] = (Xs, ys / ys.std())
    Xr, yr = make_regression(n_samples=1000, n_features=50, noise=5.0, random_state=0)
    out["make_regression"] = (Xr, yr / yr.std())
    return out


def objective(loss, X, y, w, b):
    return get_regression_loss(loss, 0.9).objective(
        y[:, None], (X @ w + b)[:, None], np.ones(len(y))
    )


def reference_optimum(loss, X, y):
    n, d = X.shape
    Xt = np.hstack([X, np.ones((n, 1))])
    if loss == "squared_error":
        coef = np.linalg.lstsq(Xt, y, rcond=None)[0]
        return objective(loss, X, y, coef[:-1], coef[-1])
    if loss in ("quantile", "absolute_error"):
        tau = 0.9 if loss == "quantile" else 0.5
        scale = 1.0 if loss == "quantile" else 2.0
        # min tau 1'u + (1 - tau) 1'v  s.t.  Xt beta + u - v = y, u, v >= 0
        c = np.concatenate([np.zeros(d + 1), tau * np.ones(n), (1 - tau) * np.ones(n)]) / n
        A = np.hstack([Xt, np.eye(n), -np.eye(n)]) if n <= 3000 else None
        if A is None:
            import scipy.sparse as sp

            A = sp.hstack([sp.csr_matrix(Xt), sp.eye(n), -sp.eye(n)], format="csr")
        bounds = [(None, None)] * (d + 1) + [(0, None)] * (2 * n)
        res = linprog(c, A_eq=A, b_eq=y, bounds=bounds, method="highs")
        return scale * res.fun
    # log-cosh
    def f(p):
        r = Xt @ p - y
        a = np.abs(r)
        return np.mean(a + np.log1p(np.exp(-2 * a)) - np.log(2)), Xt.T @ np.tanh(r) / n

    res = minimize(f, np.zeros(d + 1), jac=True, method="L-BFGS-B",
                   options={"maxiter": 100000, "ftol": 1e-16, "gtol": 1e-13})
    return res.fun


def epochs_to_gap(est, loss, X, y, opt, gap):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    # loss_curve_ holds the objective at the start of each epoch
    curve = np.asarray(est.loss_curve_ + [est.loss_])
    hit = np.nonzero(curve <= opt * (1 + gap) + 1e-15)[0]
    return int(hit[0]) if hit.size else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--gap", type=float, default=1e-4)
    parser.add_argument("--max-epochs", type=int, default=None)
    args = parser.parse_args(argv)
    max_epochs = args.max_epochs or (2000 if args.quick else 5000)
    losses = ["squared_error", "log_cosh", "quantile", "absolute_error"]
    header = ["problem", "default", "lipschitz", "paper", "local"] + [f"{g:g}" for g in GRID]
    rows = []
    wins = {"default": 0, "lipschitz": 0}
    total = 0
    for name, (X, y) in datasets(args.quick).items():
        for loss in losses:
            opt = reference_optimum(loss, X, y)
            row = [f"{name} / {loss}"]
            default = LipschitzRegressor(loss=loss, quantile=0.9)
            e = epochs_to_gap(default, loss, X, y, opt, args.gap)
            # the solver's curve holds the objective after each iteration
            default_iters = default.n_iter_ if e is not None else None
            row.append(str(default_iters) if e is not None else f">{default.n_iter_}")
            results = {}
            for rule in ["lipschitz", "paper", "local"] + GRID:
                est = LipschitzRegressor(
                    loss=loss, quantile=0.9, learning_rate=rule, batch_size=len(y),
                    max_iter=max_epochs, tol=0.0, n_iter_no_change=max_epochs,
                )
                results[rule] = epochs_to_gap(est, loss, X, y, opt, args.gap)
                row.append(str(results[rule]) if results[rule] is not None else "-")
            best_const = min((results[g] for g in GRID if results[g] is not None), default=None)
            total += 1
            for key, ours in (("default", default_iters), ("lipschitz", results["lipschitz"])):
                if ours is not None and (best_const is None or ours <= best_const):
                    wins[key] += 1
            rows.append(row)
            print(" | ".join(row), flush=True)
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    print(f"epochs to {args.gap:g} relative gap (plain gradient descent, '-' = not within "
          f"{max_epochs} epochs); default = full-batch solver iterations")
    for key, label in (("default", "the default (full-batch solver)"),
                       ("lipschitz", "plain gradient descent at the valid 1/L")):
        print(f"{label} needs no more iterations than the best constant rate on "
              f"{wins[key]}/{total} problems ({100 * wins[key] / total:.0f}%)")


if __name__ == "__main__":
    main()
