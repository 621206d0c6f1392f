"""Decision boundaries of SVC with the SBAF kernel and with the RBF kernel.

Two-moons data (standardized); each SVC is tuned by a small grid search
(3-fold) and its decision function is drawn on a grid.  The SBAF kernel is
shown with the default unit (``alpha=0.5``, ``shift=0``: an even unit, so the
kernel has only even powers of the cosine rho) and with ``shift=1`` (odd
powers, including rho itself, are back).

Usage::

    python examples/plot_sbaf_kernel.py [--out DIR]

writes ``sbaf_kernel_moons.png`` into ``DIR`` (default: current directory).
"""

from __future__ import annotations

import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import make_moons  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

from sklipschitz.kernels import SBAFKernel  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the PNG")
    args = parser.parse_args(argv)

    X, y = make_moons(n_samples=300, noise=0.25, random_state=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    C = [1, 10, 100]
    models = {
        "SBAF (alpha=0.5, shift=0)": (SVC(kernel=SBAFKernel()), {"svc__kernel__k": [0.5, 2.0]}),
        "SBAF (alpha=0.5, shift=1)": (
            SVC(kernel=SBAFKernel(shift=1.0)), {"svc__kernel__k": [0.5, 2.0]}
        ),
        "RBF": (SVC(kernel="rbf"), {"svc__gamma": [0.1, 0.5, 1.0, 2.0]}),
    }
    xx, yy = np.meshgrid(np.linspace(-2.0, 3.0, 120), np.linspace(-1.5, 2.0, 120))
    grid = np.c_[xx.ravel(), yy.ravel()]

    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 4.2))
    for ax, (name, (svc, params)) in zip(axes, models.items()):
        gs = GridSearchCV(make_pipeline(StandardScaler(), svc), {"svc__C": C, **params}, cv=3)
        gs.fit(Xtr, ytr)
        Z = gs.decision_function(grid).reshape(xx.shape)
        ax.contourf(xx, yy, Z, levels=20, cmap="RdBu", alpha=0.7)
        ax.contour(xx, yy, Z, levels=[0.0], colors="k", linewidths=1.5)
        ax.scatter(Xtr[:, 0], Xtr[:, 1], c=ytr, cmap="RdBu", edgecolors="k", s=18)
        ax.scatter(Xte[:, 0], Xte[:, 1], c=yte, cmap="RdBu", edgecolors="k", marker="^", s=22)
        best = {k.split("__")[-1]: v for k, v in gs.best_params_.items()}
        ax.set_title(f"{name}\ntest acc {gs.score(Xte, yte):.3f}  {best}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        print(f"{name:28s} test accuracy {gs.score(Xte, yte):.3f}  best {best}")
    fig.tight_layout()
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "sbaf_kernel_moons.png")
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
