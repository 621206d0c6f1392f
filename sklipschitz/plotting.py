"""Plots in the style of scikit-learn's Display API.

matplotlib is imported only inside :meth:`LossCurveDisplay.plot` (install the
``plot`` extra: ``pip install 'sklipschitz[plot]'``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["LossCurveDisplay"]


def _final_step(estimator):
    """The last step of a Pipeline (or the estimator itself)."""
    steps = getattr(estimator, "steps", None)
    if steps:
        return steps[-1][1]
    return estimator


class LossCurveDisplay:
    """Training loss and learning rate per epoch of a fitted estimator.

    Use :meth:`from_estimator` to build it from a fitted estimator (ours, a
    Pipeline ending with one, or any estimator with ``loss_curve_`` such as
    ``MLPClassifier``); ``__init__`` only stores the data.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Training objective per epoch (``loss_curve_``).
    learning_rate_history : array-like of shape (n_epochs,) or None
        Learning rate per epoch (``learning_rate_history_``); None to plot
        the loss only.
    estimator_name : str or None
        Name used in the legend.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes of the loss curve.
    ax_lr_ : matplotlib Axes or None
        Twin axes (right-hand scale) of the learning rate.
    figure_ : matplotlib Figure
        Figure holding ``ax_``.
    line_ : matplotlib Line2D
        The loss curve.
    lr_line_ : matplotlib Line2D or None
        The learning-rate curve.

    See Also
    --------
    sklearn.model_selection.LearningCurveDisplay : Scores against the training-set size.
    sklearn.metrics.PredictionErrorDisplay : Predictions against the targets.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklipschitz import LipschitzRegressor
    >>> from sklipschitz.plotting import LossCurveDisplay
    >>> X, y = load_diabetes(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> reg = LipschitzRegressor(batch_size=64, random_state=0).fit(X, y)
    >>> disp = LossCurveDisplay.from_estimator(reg)  # doctest: +SKIP
    """

    def __init__(self, loss_curve: Sequence[float],
                 learning_rate_history: Sequence[Any] | None = None, *,
                 estimator_name: str | None = None) -> None:
        self.loss_curve = loss_curve
        self.learning_rate_history = learning_rate_history
        self.estimator_name = estimator_name

    def plot(self, ax: Axes | None = None, *, name: str | None = None,
             show_learning_rate: bool = True, loss_scale: Literal["linear", "log"] = "linear",
             lr_kw: dict[str, Any] | None = None, **kwargs: Any) -> LossCurveDisplay:
        """Plot the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw the loss on; a new figure when None.
        name : str, default=None
            Legend label of the loss curve (default: the estimator name).
        show_learning_rate : bool, default=True
            Draw the learning rate on a twin axis when the history is
            available (log scale when it spans more than a decade).
        loss_scale : {'linear', 'log'}, default='linear'
            Scale of the loss axis.
        lr_kw : dict, default=None
            Keyword arguments of the learning-rate line.
        **kwargs
            Keyword arguments of the loss line (``matplotlib.axes.Axes.plot``).

        Returns
        -------
        self : LossCurveDisplay
            The display, with the ``ax_``, ``ax_lr_``, ``figure_``, ``line_``
            and ``lr_line_`` attributes set.
        """
        import matplotlib.pyplot as plt

        loss = np.asarray(self.loss_curve, dtype=float).ravel()
        if loss.size == 0:
            raise ValueError("loss_curve is empty: nothing to plot")
        epochs = np.arange(1, loss.size + 1)
        if ax is None:
            _, ax = plt.subplots(layout="constrained")
        name = self.estimator_name if name is None else name
        line_kw = {"label": f"training loss ({name})" if name else "training loss",
                   "color": "tab:blue"}
        if loss.size <= 20:
            line_kw["marker"] = "o"
        line_kw.update(kwargs)
        (self.line_,) = ax.plot(epochs, loss, **line_kw)
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
        if loss_scale == "log":
            if np.all(loss > 0):
                ax.set_yscale("log")
        elif loss_scale != "linear":
            raise ValueError(f"loss_scale must be 'linear' or 'log', got {loss_scale!r}")
        if loss.size == 1:
            ax.set_xlim(0.5, 1.5)
        self.ax_lr_ = self.lr_line_ = None
        handles = [self.line_]
        rates: Any = self.learning_rate_history
        if show_learning_rate and rates is not None and len(rates) > 0:
            rates = np.asarray(rates, dtype=float).ravel()
            ax_lr = ax.twinx()
            kw = {"label": "learning rate", "color": "tab:orange", "linestyle": "--"}
            if rates.size <= 20:
                kw["marker"] = "s"
            kw.update(lr_kw or {})
            (self.lr_line_,) = ax_lr.plot(np.arange(1, rates.size + 1), rates, **kw)
            handles.append(self.lr_line_)
            if np.all(np.isfinite(rates) & (rates > 0)) and rates.max() > 10 * rates.min():
                ax_lr.set_yscale("log")  # only for rates spanning more than a decade
            ax_lr.set_ylabel("learning rate")
            self.ax_lr_ = ax_lr
        ax.legend(handles=handles, loc="upper right", fontsize="small")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator: Any, *, ax: Axes | None = None, name: str | None = None,
                       show_learning_rate: bool = True,
                       loss_scale: Literal["linear", "log"] = "linear",
                       lr_kw: dict[str, Any] | None = None,
                       **kwargs: Any) -> LossCurveDisplay:
        """Plot the curves of a fitted estimator.

        Parameters
        ----------
        estimator : fitted estimator or Pipeline
            Must have ``loss_curve_``; ``learning_rate_history_`` is used
            when present.  For a Pipeline
            the final step is used.
        ax : matplotlib Axes, default=None
            Axes to draw the loss on; a new figure when None.
        name : str, default=None
            Legend label of the loss curve (default: the estimator's class
            name).
        show_learning_rate : bool, default=True
            Draw the learning rate on a twin axis when the estimator has
            ``learning_rate_history_``.
        loss_scale : {'linear', 'log'}, default='linear'
            Scale of the loss axis.
        lr_kw : dict, default=None
            Keyword arguments of the learning-rate line.
        **kwargs
            Keyword arguments of the loss line (``matplotlib.axes.Axes.plot``).

        Returns
        -------
        display : LossCurveDisplay
            The display, already plotted (see :meth:`plot`).
        """
        from sklearn.utils.validation import check_is_fitted

        final = _final_step(estimator)
        check_is_fitted(final)
        if not hasattr(final, "loss_curve_"):
            raise ValueError(
                f"{type(final).__name__} has no loss_curve_: LossCurveDisplay needs an "
                "estimator trained by gradient descent (e.g. LipschitzRegressor)")
        disp = cls(
            final.loss_curve_,
            getattr(final, "learning_rate_history_", None),
            estimator_name=type(final).__name__,
        )
        return disp.plot(ax=ax, name=name, show_learning_rate=show_learning_rate,
                         loss_scale=loss_scale, lr_kw=lr_kw, **kwargs)
