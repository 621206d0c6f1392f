"""Prediction intervals from quantile regression (tau = 0.05, 0.5, 0.95).

One ``LipschitzRegressor(loss='quantile')`` per level, on spline features of a
single input, fits the 5% and 95% conditional quantiles (a 90% prediction
interval) and the median of heteroscedastic, heavy-tailed data.  The learning
rate is computed from the data, so each level is one call to ``fit`` with no
tuning.  The coverage of the interval is checked on fresh test data, and the
fits are timed against scikit-learn's ``QuantileRegressor`` (HiGHS linear
program), which solves the same problem exactly.

Usage::

    python examples/plot_quantile_intervals.py [--out DIR]

writes ``quantile_intervals.png`` into ``DIR`` (default: current directory).
"""

from __future__ import annotations

import argparse
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.linear_model import QuantileRegressor  # noqa: E402
from sklearn.metrics import mean_pinball_loss  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import SplineTransformer  # noqa: E402

from sklipschitz.linear_model import LipschitzRegressor  # noqa: E402

LEVELS = (0.05, 0.5, 0.95)


def make_data(n, rng):
    x = rng.uniform(0, 10, n)
    noise = rng.standard_t(3, n) * (0.3 + 0.25 * x)  # spread grows with x
    y = np.sin(x) * 2 + 0.5 * x + noise
    return x.reshape(-1, 1), y


def fit_levels(make_model, X, y):
    models, t0 = {}, time.perf_counter()
    for q in LEVELS:
        models[q] = make_pipeline(SplineTransformer(n_knots=8, degree=3), make_model(q)).fit(X, y)
    return models, time.perf_counter() - t0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the PNG")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    X, y = make_data(2000, rng)
    X_test, y_test = make_data(5000, rng)

    ours, t_ours = fit_levels(
        lambda q: LipschitzRegressor(loss="quantile", quantile=q), X, y)
    ref, t_ref = fit_levels(
        lambda q: QuantileRegressor(quantile=q, alpha=0.0, solver="highs"), X, y)

    print(f"{'level':>6s} {'pinball (ours)':>15s} {'pinball (HiGHS)':>16s} {'below (test)':>13s}")
    for q in LEVELS:
        p_ours = ours[q].predict(X_test)
        p_ref = ref[q].predict(X_test)
        loss_ours = mean_pinball_loss(y_test, p_ours, alpha=q)
        loss_ref = mean_pinball_loss(y_test, p_ref, alpha=q)
        print(f"{q:6.2f} {loss_ours:15.4f} {loss_ref:16.4f} {np.mean(y_test <= p_ours):13.3f}")
    lo, hi = ours[0.05].predict(X_test), ours[0.95].predict(X_test)
    coverage = np.mean((y_test >= lo) & (y_test <= hi))
    print(f"90% interval: test coverage {coverage:.3f}")
    print(f"fit time, 3 levels: LipschitzRegressor {t_ours:.2f} s, "
          f"QuantileRegressor {t_ref:.2f} s ({t_ref / t_ours:.1f}x)")

    grid = np.linspace(0, 10, 400).reshape(-1, 1)
    fig, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
    ax.scatter(X[:, 0], y, s=4, color="0.6", alpha=0.5, label="training data")
    ax.fill_between(grid[:, 0], ours[0.05].predict(grid), ours[0.95].predict(grid),
                    color="tab:blue", alpha=0.25,
                    label=f"90% interval (test coverage {coverage:.2f})")
    ax.plot(grid[:, 0], ours[0.5].predict(grid), color="tab:blue", label="median")
    for q in (0.05, 0.95):
        ax.plot(grid[:, 0], ref[q].predict(grid), color="tab:orange", linestyle=":",
                linewidth=1.5, label="QuantileRegressor (HiGHS)" if q == 0.05 else None)
    ax.set_ylim(np.percentile(y, [0.5, 99.5]))
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("Quantile regression with LipschitzRegressor (tau = 0.05, 0.5, 0.95)")
    ax.legend(fontsize=8, loc="upper left")
    path = os.path.join(args.out, "quantile_intervals.png")
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
