"""SymNet on digits: a neural network with no learning rate to tune.

``SymNetClassifier`` (one hidden layer of 100 SBAF units by default) computes
its learning rate from the data every epoch (1/L), so it is used here with
its defaults.  It is compared on a held-out quarter of the digits data with
``SymNetClassifier(activation='relu')`` and with scikit-learn's
``MLPClassifier`` at its default learning rate (Adam, 1e-3) - the value a
user would otherwise have to tune.  The figure shows the training loss and
the learning rate per epoch of each SymNet fit (``LossCurveDisplay``) and the
MLP's loss curve.

Usage::

    python examples/plot_symnet_digits.py [--out DIR]

writes ``symnet_digits.png`` into ``DIR`` (default: current directory).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklipschitz.neural_network import SymNetClassifier  # noqa: E402
from sklipschitz.plotting import LossCurveDisplay  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the PNG")
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y,
                                                        random_state=0)
    models = [
        ("SymNet, SBAF (defaults)", SymNetClassifier(random_state=0)),
        ("SymNet, ReLU", SymNetClassifier(activation="relu", random_state=0)),
        ("MLPClassifier (defaults)", MLPClassifier(random_state=0)),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4), layout="constrained")
    print(f"{'model':26s} {'test acc.':>9s} {'epochs':>6s} {'fit (s)':>8s}")
    for ax, (name, est) in zip(axes, models):
        pipe = make_pipeline(StandardScaler(), est)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            pipe.fit(X_train, y_train)
        elapsed = time.perf_counter() - t0
        acc = pipe.score(X_test, y_test)
        print(f"{name:26s} {acc:9.4f} {est.n_iter_:6d} {elapsed:8.2f}")
        LossCurveDisplay.from_estimator(pipe, ax=ax, loss_scale="log")
        ax.set_title(f"{name}: test accuracy {acc:.3f}")
    path = os.path.join(args.out, "symnet_digits.png")
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
