"""
==================================================
Loss and learning rate per epoch: LossCurveDisplay
==================================================

:meth:`LossCurveDisplay.from_estimator
<sklipschitz.plotting.LossCurveDisplay.from_estimator>` draws a fitted
estimator's ``loss_curve_`` with its ``learning_rate_history_`` on a second
axis, in the style of scikit-learn's Display API.  It accepts the estimator
itself or a pipeline ending with it.
"""

# %%
# Three fits
# ----------
# * mini-batch :class:`~sklipschitz.LipschitzRegressor` with the squared
#   error on diabetes: a constant rate ``1/L``;
# * the same with the absolute error: a non-smooth loss, so the rate decays
#   as ``1/(L sqrt(t))``;
# * :class:`~sklipschitz.LipschitzQuantileClassifier` on breast cancer:
#   adaptive steps started at ``1/L``.
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklipschitz import LipschitzQuantileClassifier, LipschitzRegressor
from sklipschitz.plotting import LossCurveDisplay

X, y = load_diabetes(return_X_y=True)
Xc, yc = load_breast_cancer(return_X_y=True)
fits = [
    ("squared error, batch 32",
     LipschitzRegressor(batch_size=32, max_iter=60, random_state=0), X, y / y.std()),
    ("absolute error, batch 32",
     LipschitzRegressor(loss="absolute_error", batch_size=32, max_iter=60, random_state=0),
     X, y / y.std()),
    ("quantile classifier", LipschitzQuantileClassifier(), Xc, yc),
]
fig, axes = plt.subplots(1, 3, figsize=(15, 4), layout="constrained")
for ax, (title, est, X_, y_) in zip(axes, fits):
    pipe = make_pipeline(StandardScaler(), est)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X_, y_)
    LossCurveDisplay.from_estimator(pipe, ax=ax, loss_scale="log")
    ax.set_title(title)
    lr = est.learning_rate_history_
    print(f"{title:26s} {est.n_iter_:4d} epochs, loss {est.loss_curve_[0]:.4g} -> "
          f"{est.loss_curve_[-1]:.4g}, learning rate {lr[0]:.3g} -> {lr[-1]:.3g}")
plt.show()

# %%
# Reading the curves
# ------------------
# The squared error keeps the same rate ``1/L`` in every epoch, because the
# smoothness constant bounds the curvature everywhere: every step of that
# size is safe.  The absolute error has no curvature bound (its gradient
# jumps at zero residual), so its rate falls as ``1/sqrt(t)``, which is what
# lets the iterates settle; its fit stops early when the objective stops
# improving.  The classifier's adaptive steps grow by orders of magnitude
# while its objective flattens: the local curvature near the
# optimum is much smaller than the global bound ``L``, and the steps follow
# it.
