"""Loss and learning rate per epoch with ``LossCurveDisplay``.

``LossCurveDisplay.from_estimator`` draws a fitted estimator's
``loss_curve_`` with its ``learning_rate_history_`` on a second (log) axis,
in the style of scikit-learn's Display API.  Three fits on diabetes
(standardized):

* mini-batch ``LipschitzRegressor`` (squared error): a constant rate 1/L;
* mini-batch ``LipschitzRegressor`` (absolute error): a non-smooth loss, so
  the rate decays as 1/(L sqrt(t));
* ``LipschitzQuantileClassifier`` on breast cancer: adaptive steps started
  at 1/L that grow while the loss flattens.

Usage::

    python examples/plot_loss_curve.py [--out DIR]

writes ``loss_curve.png`` into ``DIR`` (default: current directory).
"""

from __future__ import annotations

import argparse
import os
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_diabetes  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklipschitz import LipschitzQuantileClassifier  # noqa: E402
from sklipschitz.linear_model import LipschitzRegressor  # noqa: E402
from sklipschitz.plotting import LossCurveDisplay  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the PNG")
    args = parser.parse_args(argv)

    X, y = load_diabetes(return_X_y=True)
    Xc, yc = load_breast_cancer(return_X_y=True)
    fits = [
        ("squared error, batch 32", LipschitzRegressor(batch_size=32, max_iter=60,
                                                       random_state=0), X, y / y.std()),
        ("absolute error, batch 32", LipschitzRegressor(loss="absolute_error", batch_size=32,
                                                        max_iter=60, random_state=0),
         X, y / y.std()),
        ("quantile classifier", LipschitzQuantileClassifier(), Xc, yc),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4), layout="constrained")
    for ax, (title, est, X_, y_) in zip(axes, fits):
        pipe = make_pipeline(StandardScaler(), est)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            pipe.fit(X_, y_)
        disp = LossCurveDisplay.from_estimator(pipe, ax=ax, loss_scale="log")
        ax.set_title(title)
        lr = est.learning_rate_history_
        print(f"{title:26s} {est.n_iter_:4d} epochs, loss {est.loss_curve_[0]:.4g} -> "
              f"{est.loss_curve_[-1]:.4g}, learning rate {lr[0]:.3g} -> {lr[-1]:.3g}")
        assert disp.figure_ is fig
    path = os.path.join(args.out, "loss_curve.png")
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
