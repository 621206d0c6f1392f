"""Confidence of the quantile classifier's predictions: how wide a band of
levels around ``quantile`` keeps each prediction unchanged."""

from __future__ import annotations

from numbers import Real
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit
from sklearn.utils.validation import _num_samples, column_or_1d

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


class QuantileConfidenceMixin:
    """Confidence methods of :class:`LipschitzQuantileClassifier` (they need
    ``_crossing``, ``predict``, ``classes_``, ``quantile`` and ``confidence_band``)."""

    def _check_labels(self, X, y):
        """``y`` as an array of labels of the classes, one per row of ``X``."""
        y = column_or_1d(np.asarray(y), warn=True)
        n = _num_samples(X)
        if y.shape[0] != n:
            raise ValueError(f"y has {y.shape[0]} labels but X has {n} rows.")
        numeric = y.dtype.kind in "biuf"
        if numeric != (self.classes_.dtype.kind in "biuf"):
            raise TypeError(
                f"y holds labels of type {y.dtype} but the classes are of type "
                f"{self.classes_.dtype} ({self.classes_!r})."
            )
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if unknown.size:
            raise ValueError(f"y contains labels {unknown!r} not in classes_ {self.classes_!r}.")
        return y

    def _band(self, band):
        band = self.confidence_band if band is None else band
        if not (isinstance(band, Real) and 0 <= band < 1):
            raise ValueError(f"band must be a number in [0, 1); got {band!r}.")
        return float(band)

    def confidence_score(self, X: ArrayLike) -> np.ndarray:
        """Half-width of the widest band of levels around ``quantile`` with an unchanged prediction.

        Two classes: ``c(x) = |quantile - tau*(x)|`` -- the label predicted
        at every level ``tau`` with ``|tau - quantile| < c(x)`` is the label
        predicted at ``quantile``.  More classes: at a level ``tau`` the
        one-vs-rest classifier of class ``k`` claims ``x`` when
        ``tau >= tau*_k(x)``; ``c(x)`` is the half-width of the widest band
        over which the predicted class is claimed and no other class is,
        ``min(quantile - tau*_pred, min_{k != pred} tau*_k - quantile)``,
        and 0 when that is negative.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        confidence : ndarray of shape (n_samples,)
            Values in [0, 1).
        """
        tau_star = expit(self._crossing(X))
        tau = float(self.quantile)
        if tau_star.ndim == 1:
            return np.abs(tau - tau_star)
        pred = np.argmax(-tau_star, axis=1)
        rows = np.arange(tau_star.shape[0])
        own = tau - tau_star[rows, pred]
        others = tau_star.copy()
        others[rows, pred] = np.inf
        return np.maximum(np.minimum(own, others.min(axis=1) - tau), 0.0)

    def predict_reliable(self, X: ArrayLike, band: float | None = None) -> np.ndarray:
        """Whether each prediction is reliable: unchanged over the band of levels.

        A prediction is reliable when :meth:`confidence_score` is at least
        ``band`` (default ``confidence_band``): the same label is predicted
        at every level in ``[quantile - band, quantile + band]``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.
        band : float in [0, 1), default=None
            Half-width of the band of levels around ``quantile``; None uses
            ``confidence_band``.

        Returns
        -------
        reliable : ndarray of bool, shape (n_samples,)
            True where the prediction is reliable.
        """
        return self.confidence_score(X) >= self._band(band)

    def model_confidence(self, X: ArrayLike, band: float | None = None) -> float:
        """Fraction of the samples of ``X`` whose prediction is reliable (no labels needed).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.
        band : float in [0, 1), default=None
            Half-width of the band of levels around ``quantile``; None uses
            ``confidence_band``.

        Returns
        -------
        fraction : float
            The share of samples with a reliable prediction, in [0, 1].
        """
        return float(np.mean(self.predict_reliable(X, band)))

    def retention_rate(self, X: ArrayLike, y: ArrayLike, band: float | None = None) -> float:
        """Fraction of the correctly classified samples whose prediction is reliable.

        The share of right answers kept when unreliable predictions are
        discarded (``nan`` when no sample is classified correctly).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.
        y : array-like of shape (n_samples,)
            The true labels.
        band : float in [0, 1), default=None
            Half-width of the band of levels around ``quantile``; None uses
            ``confidence_band``.

        Returns
        -------
        rate : float
            The share of correctly classified samples that are reliable.
        """
        correct = self.predict(X) == self._check_labels(X, y)
        if not correct.any():
            return float("nan")
        return float(np.mean(self.predict_reliable(X, band)[correct]))

    def retained_accuracy(self, X: ArrayLike, y: ArrayLike, band: float | None = None) -> float:
        """Accuracy on the samples whose prediction is reliable (``nan`` if none is).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.
        y : array-like of shape (n_samples,)
            The true labels.
        band : float in [0, 1), default=None
            Half-width of the band of levels around ``quantile``; None uses
            ``confidence_band``.

        Returns
        -------
        accuracy : float
            The accuracy over the reliable samples.
        """
        y = self._check_labels(X, y)
        keep = self.predict_reliable(X, band)
        if not keep.any():
            return float("nan")
        return float(np.mean(self.predict(X)[keep] == y[keep]))
