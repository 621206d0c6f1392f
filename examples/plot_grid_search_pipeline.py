"""Tune everything but the learning rate: Pipeline + GridSearchCV.

``LipschitzRegressor`` computes its learning rate from the data (1/L), so a
grid search only has to cover the choices that change the model - here the
loss and the L2 strength ``alpha`` - on top of a ``StandardScaler``.  The same
search for ``SGDRegressor`` needs a third axis, the learning rate ``eta0``,
which multiplies the number of fits by the size of that axis.

Usage::

    python examples/plot_grid_search_pipeline.py [--out DIR]

prints both searches (best parameters, CV score, fits, time) and writes
``grid_search_pipeline.png`` (CV score against alpha, one line per loss)
into ``DIR`` (default: current directory).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.linear_model import SGDRegressor  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklipschitz.linear_model import LipschitzRegressor  # noqa: E402

ALPHAS = [0.0, 1e-3, 1e-2, 1e-1]


def search(model, grid, X, y, cv):
    pipe = Pipeline([("scale", StandardScaler()), ("model", model)])
    gs = GridSearchCV(pipe, {f"model__{k}": v for k, v in grid.items()}, cv=cv)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SGD's convergence warnings at small eta0
        gs.fit(X, y)
    return gs, time.perf_counter() - t0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the PNG")
    args = parser.parse_args(argv)

    X, y = load_diabetes(return_X_y=True)
    cv = KFold(3, shuffle=True, random_state=0)
    losses = ["squared_error", "log_cosh", "absolute_error"]
    ours, t_ours = search(LipschitzRegressor(), {"loss": losses, "alpha": ALPHAS}, X, y, cv)
    sgd_losses = ["squared_error", "huber", "epsilon_insensitive"]
    sgd, t_sgd = search(
        SGDRegressor(random_state=0, epsilon=0.0),
        {"loss": sgd_losses, "alpha": ALPHAS, "eta0": [1e-4, 1e-3, 1e-2, 1e-1, 1.0]},
        X, y, cv,
    )
    for name, gs, t in [("LipschitzRegressor", ours, t_ours), ("SGDRegressor", sgd, t_sgd)]:
        n_fits = len(gs.cv_results_["params"]) * cv.get_n_splits() + 1
        best = {k.split("__")[1]: v for k, v in gs.best_params_.items()}
        print(f"{name:19s} CV R^2 {gs.best_score_:.4f}  {n_fits:3d} fits  {t:6.2f} s  best {best}")
    print(f"time ratio (SGD search / ours): {t_sgd / t_ours:.1f}x")

    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    res = ours.cv_results_
    for loss in losses:
        idx = [i for i, p in enumerate(res["params"]) if p["model__loss"] == loss]
        alphas = [res["params"][i]["model__alpha"] for i in idx]
        ax.errorbar(np.array(alphas) + 1e-4, res["mean_test_score"][idx],
                    yerr=res["std_test_score"][idx], marker="o", capsize=3, label=loss)
    ax.set_xscale("log")
    ax.set_xlabel("alpha (+1e-4 to show alpha=0)")
    ax.set_ylabel("3-fold CV R^2")
    ax.set_title("LipschitzRegressor on diabetes: no learning rate in the grid")
    ax.legend(title="loss")
    path = os.path.join(args.out, "grid_search_pipeline.png")
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
