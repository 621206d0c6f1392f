"""The regularisation path of the L1 / elastic-net penalty and its
cross-validation: :func:`lipschitz_path` and :class:`LipschitzRegressorCV`."""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import RegressorMixin, _fit_context, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._base import QUANTILE_CONSTRAINT, LipschitzEstimator
from .._engine.losses import get_regression_loss
from .._engine.penalties import penalty_strengths
from .._exact import _BLAS_SINGLE_BELOW, solve_path
from .._threads import single_blas_thread
from ._regressor import (
    CAPPED_L2_MESSAGE,
    EMPTY_L1_MESSAGE,
    LipschitzRegressor,
    choose_solver,
    solver_settings,
)

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["LipschitzRegressorCV", "lipschitz_path"]


#: the standard deviations of the dense features differ by more than this factor:
#: the L1 penalty (not scale invariant) and the grid it sets are warned about
L1_SCALE_RATIO = 1e3


def _warn_on_feature_scales(X, sw):
    """Warn when the dense features' standard deviations are ``L1_SCALE_RATIO``
    apart: ``alpha_max`` is set by the widest feature, and the L1 penalty on
    the raw coefficients weighs a feature's coefficient by the inverse of its
    scale, so the grid may never reach the alphas at which the narrow
    features enter (cross-validation then picks a model without them,
    silently). Sparse columns are left out: their spreads follow their
    frequencies, not their units."""
    if sp.issparse(X) or X.shape[0] < 2 or X.shape[1] < 2:
        return
    w = np.full(X.shape[0], 1.0 / X.shape[0]) if sw is None else sw / np.sum(sw)
    mean = w @ X
    std = np.sqrt(w @ np.square(X - mean, dtype=np.float64))
    spread = std[std > 1e-12 * np.maximum(np.abs(mean), np.finfo(np.float64).tiny)]
    if spread.size >= 2 and spread.max() > L1_SCALE_RATIO * spread.min():
        warnings.warn(
            f"The standard deviations of the features range from {spread.min():.3g} to "
            f"{spread.max():.3g}: the L1 penalty is not scale invariant, so the alpha grid "
            "(set by the widest feature) may never let the narrow features enter, and the "
            "chosen alpha_ may leave them out. Standardize X (e.g. StandardScaler in a "
            "pipeline).",
            UserWarning,
        )


def _l1_ratio(penalty, l1_ratio):
    r = 1.0 if penalty == "l1" else float(l1_ratio)
    if not 0.0 < r <= 1.0:
        raise ValueError(
            f"l1_ratio must be in (0, 1] for an alpha grid (got {l1_ratio!r}): with "
            "l1_ratio=0 no alpha zeroes every coefficient."
        )
    return r


def _alpha_grid(X, y, loss, sample_weight, l1_ratio, fit_intercept, n_alphas, eps):
    """``n_alphas`` values from ``alpha_max`` down to ``eps * alpha_max``, log-spaced.

    With several outputs (``y`` of shape (n_samples, n_outputs), independent
    columns under one penalty) ``alpha_max`` is the largest of the outputs'
    values: the smallest alpha that zeroes every coefficient of every output."""
    from .._exact import penalty_alpha_max

    columns = [y] if y.ndim == 1 else [y[:, j] for j in range(y.shape[1])]
    amax = max(penalty_alpha_max(X, col, loss, sample_weight, l1_ratio=l1_ratio,
                                 fit_intercept=fit_intercept) for col in columns)
    if not amax > np.finfo(float).resolution:
        # constant target or features: every alpha gives the constant model
        return np.full(n_alphas, np.finfo(float).resolution)
    return np.geomspace(amax, amax * eps, num=n_alphas)


def _path(X, y, sample_weight, alphas, params):
    """Warm-started fits along ``alphas`` (decreasing); returns the fitted
    ``(coefs (n_outputs, n_features, n_alphas), intercepts (n_outputs,
    n_alphas), n_iter)`` (one output for a 1-D ``y``).

    When the exact solver takes every alpha (what ``LipschitzRegressor``
    would choose), the whole path is one :func:`~sklipschitz._exact.solve_path`
    on one design; otherwise (e.g. the elastic net with the pinball loss,
    which the gradient-descent solver fits) one estimator fit per alpha."""
    reg = LipschitzRegressor(warm_start=True, **params)
    reg._validate_params()
    # the data are checked once; every alpha then fits the checked arrays
    X, y, Y, sample_weight = reg._validate(X, y, sample_weight, reset=True)
    strengths = [penalty_strengths(params["penalty"], a, params["l1_ratio"]) for a in alphas]
    if _exact_path(reg, X, strengths):
        return _exact_path_fit(X, Y, sample_weight, strengths, params)
    coefs = np.zeros((Y.shape[1], X.shape[1], len(alphas)))
    intercepts = np.zeros((Y.shape[1], len(alphas)))
    n_iter = np.zeros(len(alphas), dtype=int)
    # the BLAS limit of the exact solver's narrow passes is set once for the
    # whole path (each fit would otherwise look the BLAS libraries up again)
    with single_blas_thread(X.shape[1] < _BLAS_SINGLE_BELOW), _empty_models_expected():
        for i, a in enumerate(alphas):
            reg.set_params(alpha=float(a))
            reg._fit_arrays(X, y, Y, sample_weight)
            coefs[:, :, i] = reg._coef_matrix.T
            intercepts[:, i] = reg._intercept_vector
            n_iter[i] = reg.n_iter_
    return coefs, intercepts, n_iter


@contextmanager
def _empty_models_expected():
    """Silence the empty-model warning of :class:`LipschitzRegressor`: a
    path starts at ``alpha_max``, where every coefficient is zero by design."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=EMPTY_L1_MESSAGE, category=UserWarning)
        warnings.filterwarnings("ignore", message=CAPPED_L2_MESSAGE, category=UserWarning)
        yield


def _exact_path(reg, X, strengths):
    """Whether ``reg`` (the path's settings) fits every alpha with the exact
    solver on an in-memory ``X``."""
    if not isinstance(X, np.ndarray) and not sp.issparse(X):
        return False
    settings = solver_settings(reg)
    return all(choose_solver(**settings, l2=l2, l1=l1, X=X) == "exact" for l2, l1 in strengths)


def _exact_path_fit(X, Y, sw, strengths, params):
    """The path by :func:`~sklipschitz._exact.solve_path`: one design, the
    first alpha started where ``LipschitzRegressor`` starts (zero
    coefficients, the loss's best constant), each next one at the previous
    solution."""
    loss = get_regression_loss(params["loss"], params["quantile"])
    d = X.shape[1]
    b0 = (np.asarray(loss.constant_raw(Y, sw), dtype=np.float64).reshape(-1)
          if params["fit_intercept"] else None)
    l2s, l1s = np.array(strengths, dtype=np.float64).reshape(-1, 2).T
    sol = solve_path(X, Y, loss, sw, alpha=l2s, l1=l1s, fit_intercept=params["fit_intercept"],
                     coef_init=np.zeros((d, Y.shape[1])), intercept_init=b0,
                     max_iter=params["max_iter"])
    if not np.all(sol.converged):
        bad = np.flatnonzero(~sol.converged)
        warnings.warn(
            f"The full-batch solver did not converge in {params['max_iter']} iterations at "
            f"{bad.size} of the {l2s.size} alphas of the path; increase max_iter.",
            ConvergenceWarning,
        )
    # sol.coefs: (n_alphas, n_features, n_outputs); sol.intercepts: (n_alphas, n_outputs)
    return (np.asarray(np.transpose(sol.coefs, (2, 1, 0)), dtype=np.float64),
            np.asarray(sol.intercepts.T, dtype=np.float64), sol.n_iter)


def lipschitz_path(X, y, *, loss="squared_error", quantile=0.5, penalty="l1", l1_ratio=0.15,
                   alphas=None, n_alphas=100, eps=1e-3, fit_intercept=True,
                   sample_weight=None, max_iter=1000):
    """The L1 / elastic-net regularisation path of :class:`LipschitzRegressor`.

    Fits ``LipschitzRegressor(loss, penalty, l1_ratio, alpha)`` for every
    ``alpha`` of a decreasing grid, each fit warm-started at the previous
    solution.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,)
        Target values.
    loss : {'squared_error', 'absolute_error', 'quantile', 'log_cosh'}, default='squared_error'
        The loss of :class:`LipschitzRegressor`.
    quantile : float in (0, 1), default=0.5
        Level of the pinball loss (``loss='quantile'``).
    penalty : {'l1', 'elasticnet'}, default='l1'
        The penalty ``alpha * (l1_ratio ||w||_1 + (1 - l1_ratio)/2 ||w||^2)``
        (``l1_ratio = 1`` for 'l1').
    l1_ratio : float in (0, 1], default=0.15
        The mixing parameter of 'elasticnet'.
    alphas : array-like or None, default=None
        The grid (sorted decreasing here); None builds ``n_alphas`` values
        log-spaced from ``alpha_max`` to ``eps * alpha_max``, where
        ``alpha_max`` is the smallest alpha whose fit has every coefficient
        zero, computed exactly from the optimality (KKT) condition at the
        intercept-only fit (for the pinball loss with ties at the
        ``quantile``-quantile, by a small LP over their multipliers).
    n_alphas : int, default=100
        Size of the generated grid.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the generated grid.
    fit_intercept : bool, default=True
        Whether to fit an intercept (not penalised).
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    max_iter : int, default=1000
        ``max_iter`` of every fit.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        The grid, decreasing.
    coefs : ndarray of shape (n_features, n_alphas)
        The coefficients along the path.
    intercepts : ndarray of shape (n_alphas,)
        The intercepts along the path.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklipschitz.linear_model import lipschitz_path
    >>> X, y = load_diabetes(return_X_y=True)
    >>> alphas, coefs, _ = lipschitz_path(X, y, loss="quantile", n_alphas=5)
    >>> [int((coefs[:, i] != 0).sum()) for i in range(5)]
    [0, 5, 8, 9, 10]
    """
    if loss == "huber":
        raise ValueError("lipschitz_path supports the losses 'squared_error', "
                         "'absolute_error', 'quantile' and 'log_cosh'; got loss='huber'.")
    params = dict(loss=loss, quantile=quantile, penalty=penalty, l1_ratio=l1_ratio,
                  fit_intercept=fit_intercept, max_iter=max_iter)
    est = LipschitzRegressor(**params)
    est._validate_params()
    X, y = est._validate_X_y(X, y, reset=True, y_numeric=True)
    sw = None if sample_weight is None else est._check_weights(sample_weight, X)
    if alphas is None:
        r = _l1_ratio(penalty, l1_ratio)
        alphas = _alpha_grid(X, y, get_regression_loss(loss, quantile), sw, r, fit_intercept,
                             int(n_alphas), float(eps))
    else:
        alphas = np.sort(np.asarray(alphas, dtype=np.float64).ravel())[::-1]
        if alphas.size == 0 or np.any(alphas < 0) or not np.all(np.isfinite(alphas)):
            raise ValueError("alphas must be a non-empty list of finite values >= 0.")
    coefs, intercepts, _ = _path(X, y, sw, alphas, params)
    return alphas, coefs[0], intercepts[0]


def _fold_losses(X, y, sw, train, test, alphas, params, loss):
    """The held-out mean loss of every alpha of the path fitted on ``train``,
    shape (n_outputs, n_alphas) (one output for a 1-D ``y``)."""
    sw_train = None if sw is None else sw[train]
    coefs, intercepts, _ = _path(X[train], y[train], sw_train, alphas, params)
    w = np.ones(len(test)) if sw is None else np.asarray(sw[test], dtype=np.float64)
    if w.sum() <= 0:
        w = np.ones(len(test))
    Yt = y[test].astype(np.float64).reshape(len(test), -1)
    out = np.empty(intercepts.shape)
    for j in range(coefs.shape[0]):
        raw = np.asarray(X[test] @ coefs[j]) + intercepts[j]
        out[j] = (w @ loss.pointwise(Yt[:, j:j + 1], raw)) / w.sum()
    return out


class LipschitzRegressorCV(RegressorMixin, LipschitzEstimator):
    """LipschitzRegressor with an L1 / elastic-net penalty chosen by cross-validation.

    :class:`LipschitzRegressor` along the regularisation path. Like ``LassoCV`` / ``ElasticNetCV``: a decreasing grid of ``alpha``
    from ``alpha_max`` (the smallest alpha whose fit has every coefficient
    zero, computed exactly), every fold fitted along it with warm starts
    (folds in parallel with joblib), each alpha scored by the held-out mean
    of the model's own loss (the mean pinball loss at ``quantile`` for
    ``loss='quantile'``, half the mean squared error for
    ``'squared_error'``), and a final fit on all the data at the best alpha.
    With ``loss='quantile'`` and ``penalty='l1'`` every fit is
    ``QuantileRegressor(alpha)``'s model, solved exactly.

    The penalty acts on the raw coefficients, so it is not scale invariant:
    standardize ``X`` (e.g. ``StandardScaler`` in a pipeline). When the dense
    features' standard deviations are more than 1000 times apart, ``fit``
    warns: the grid is then set by the widest feature and may never reach
    the alphas at which the narrow ones enter.

    A 2-D ``y`` of shape (n_samples, n_outputs) is fitted as
    :class:`LipschitzRegressor` fits it: independent outputs under one
    penalty. One alpha is chosen for all outputs, the one with the smallest
    held-out loss averaged over the outputs (as ``RidgeCV`` with
    ``alpha_per_target=False``); the grid starts at the largest of the
    outputs' ``alpha_max``.

    Parameters
    ----------
    loss : {'squared_error', 'absolute_error', 'quantile', 'log_cosh'}, default='squared_error'
        The loss of :class:`LipschitzRegressor`.
    quantile : float in (0, 1), default=0.5
        Level of the pinball loss (``loss='quantile'``).
    penalty : {'l1', 'elasticnet'}, default='l1'
        The penalty ``alpha * (l1_ratio ||w||_1 + (1 - l1_ratio)/2 ||w||^2)``
        (``l1_ratio = 1`` for 'l1').
    l1_ratio : float in (0, 1], default=0.15
        The mixing parameter of 'elasticnet'.
    eps : float > 0, default=1e-3
        ``alpha_min / alpha_max`` of the generated grid.
    n_alphas : int >= 1, default=100
        Size of the generated grid.
    alphas : array-like or None, default=None
        The grid to use instead (sorted decreasing).
    fit_intercept : bool, default=True
        Whether to fit an intercept (not penalised).
    max_iter : int >= 1, default=1000
        ``max_iter`` of every fit.
    cv : int, cross-validation generator or iterable, default=None
        The folds (``sklearn.model_selection.check_cv``: None is 5-fold
        ``KFold``).
    n_jobs : int or None, default=None
        Folds fitted in parallel (joblib).
    verbose : int, default=0
        Verbosity of joblib.

    Attributes
    ----------
    alpha_ : float
        The chosen alpha.
    l1_ratio_ : float
        The l1_ratio used (1.0 for ``penalty='l1'``).
    alphas_ : ndarray of shape (n_alphas,)
        The grid, decreasing.
    loss_path_ : ndarray of shape (n_alphas, n_folds)
        Held-out mean loss of every alpha on every fold; with several
        outputs, its mean over the outputs (what ``alpha_`` minimises,
        averaged over the folds).
    coef_ : ndarray of shape (n_features,) or (n_outputs, n_features)
        Coefficients of the final fit.
    intercept_ : float or ndarray of shape (n_outputs,)
        Intercept of the final fit.
    estimator_ : LipschitzRegressor
        The final fit on all the data at ``alpha_``.
    n_iter_ : int
        Iterations of the final fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of the features seen during fit (when they are strings).

    See Also
    --------
    LipschitzRegressor : The model fitted at one alpha.
    lipschitz_path : The regularisation path.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklipschitz import LipschitzRegressorCV
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = LipschitzRegressorCV(loss="quantile", n_alphas=10).fit(X, y)
    >>> bool(reg.alpha_ < reg.alphas_[0])
    True

    Several outputs, one alpha:

    >>> import numpy as np
    >>> Y = np.column_stack([y, X[:, 2] * 100 + X[:, 3] * 50])
    >>> reg = LipschitzRegressorCV(n_alphas=10).fit(X, Y)
    >>> reg.coef_.shape, reg.predict(X[:2]).shape
    ((2, 10), (2, 2))
    """

    _parameter_constraints: dict = {
        # (not 'huber': its threshold is estimated per fit, the path has none)
        "loss": [StrOptions({"squared_error", "absolute_error", "quantile", "log_cosh"})],
        "quantile": QUANTILE_CONSTRAINT,
        "penalty": [StrOptions({"l1", "elasticnet"})],
        "l1_ratio": [Interval(Real, 0, 1, closed="right")],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "n_alphas": [Interval(Integral, 1, None, closed="left")],
        "alphas": ["array-like", None],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "cv": ["cv_object"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, loss="squared_error", *, quantile=0.5, penalty="l1", l1_ratio=0.15,
                 eps=1e-3, n_alphas=100, alphas=None, fit_intercept=True, max_iter=1000,
                 cv=None, n_jobs=None, verbose=0):
        self.loss = loss
        self.quantile = quantile
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.n_alphas = n_alphas
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.cv = cv
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _params(self):
        return dict(loss=self.loss, quantile=self.quantile, penalty=self.penalty,
                    l1_ratio=self.l1_ratio, fit_intercept=self.fit_intercept,
                    max_iter=self.max_iter)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> LipschitzRegressorCV:
        """Choose alpha by cross-validation, then fit on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values (several outputs: one alpha for all of them).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, used in the fits and in the held-out scores.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, y = self._validate_X_y(X, y, reset=True, multi_output=True, y_numeric=True)
        y = np.asarray(y, dtype=X.dtype)
        if not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinity.")
        sw = None if sample_weight is None else self._check_weights(sample_weight, X)
        loss = get_regression_loss(self.loss, self.quantile)
        params = self._params()
        _warn_on_feature_scales(X, sw)
        if self.alphas is None:
            r = _l1_ratio(self.penalty, self.l1_ratio)
            alphas = _alpha_grid(X, y, loss, sw, r, self.fit_intercept, self.n_alphas, self.eps)
        else:
            alphas = np.sort(np.asarray(self.alphas, dtype=np.float64).ravel())[::-1]
            if alphas.size == 0 or np.any(alphas < 0) or not np.all(np.isfinite(alphas)):
                raise ValueError("alphas must be a non-empty list of finite values >= 0.")
        folds = list(check_cv(self.cv).split(X, y))
        paths = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
            delayed(_fold_losses)(X, y, sw, train, test, alphas, params, loss)
            for train, test in folds
        )
        # paths: one (n_outputs, n_alphas) array per fold; one alpha for all
        # outputs, by the loss averaged over them
        self.loss_path_ = np.column_stack([p.mean(axis=0) for p in paths])
        mean = self.loss_path_.mean(axis=1)
        best = int(np.argmin(mean))          # ties: the largest alpha
        self.alphas_ = alphas
        self.alpha_ = float(alphas[best])
        self.l1_ratio_ = 1.0 if self.penalty == "l1" else float(self.l1_ratio)
        est = clone(LipschitzRegressor(alpha=self.alpha_, **params))
        with _empty_models_expected():
            # (cross-validation chose this alpha: an empty model is its answer)
            est.fit(X, y, sample_weight=sw)
        self.estimator_ = est
        self.coef_ = est.coef_
        self.intercept_ = est.intercept_
        self.n_iter_ = est.n_iter_
        return self

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict with the final fit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions (2-D when ``y`` was).
        """
        check_is_fitted(self, "estimator_")
        X = self._validate_X(X, reset=False)
        raw = np.asarray(X @ self.estimator_._coef_matrix + self.estimator_._intercept_vector)
        return raw[:, 0] if self.estimator_._y_ndim == 1 else raw

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
