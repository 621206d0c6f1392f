"""LipschitzRegressor: linear regression trained at a learning rate computed from the data."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from sklearn.base import RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import SparseCoefMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_y, check_consistent_length, check_is_fitted

from .._base import (
    QUANTILE_CONSTRAINT,
    REGRESSION_LOSS_CONSTRAINT,
    LipschitzEstimator,
    as_target,
    constraints,
    divergence_hint,
)
from .._engine.lipschitz import column_moments, distance_scale, linear_constant
from .._engine.loop import TrainState, train
from .._engine.losses import get_regression_loss, weighted_quantile
from .._engine.monitors import DivergenceStop, Stopping, Validation
from .._engine.network import DenseNetwork
from .._engine.network_lipschitz import CentredUpdate, RunningMeans
from .._engine.penalties import L1, ProximalUpdate, Tikhonov, penalty_strengths
from .._engine.problems import NetworkProblem
from .._engine.steps import make_rule
from .._engine.updates import SGD, IterateAverage
from ._robust import FLAT_RATIO, build_loss, flat_ratio

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


def _predict_block(xb, est):
    """``est.predict`` of one block of a dask array."""
    return est.predict(np.asarray(xb))


def _in_memory(*arrays):
    """dask arrays among ``arrays`` computed (together: one dask computation)."""
    from .._exact.blocked import is_dask_array

    lazy = [i for i, a in enumerate(arrays) if is_dask_array(a)]
    if not lazy:
        return arrays
    import dask

    done = dask.compute(*(arrays[i] for i in lazy))
    out = list(arrays)
    for i, a in zip(lazy, done):
        out[i] = a
    return tuple(out)


#: a general-loop fit that stops early must improve on the constant
#: predictor's objective by more than this fraction, or it warns
STALL_TOL = 1e-4

#: a general-loop fit that stops by its tolerance while the
#: gradient in standardized coordinates still has this fraction of its norm
#: at the start warns (features on scales far apart: the rate 1/L, set by the
#: largest, barely moves the coefficients of the smallest); for the
#: piecewise-linear losses, whose subgradient at the optimum vanishes only up
#: to the ~d samples a vertex fits, the fraction is ``STATIONARITY_TOL_NONSMOOTH``
#: and the check needs ``n_samples >= 10 (n_features + 1)``
STATIONARITY_TOL = 0.3
STATIONARITY_TOL_NONSMOOTH = 0.5

#: ``partial_fit`` warns once when, over its first ``SCALE_ROWS`` rows, the
#: standard deviations of the features with a spread differ by more than this
#: factor (no stopping rule judges a stream: its steps at the rate 1/L, set by
#: the largest, barely move the coefficients of the smallest; on
#: benchmarks/bench_robustness.py's stream, one column 10 times the others
#: ends five passes in chunks of 20 at R^2 0.70 against 0.97).  Dense X only:
#: the spreads of sparse columns follow their frequencies, not their units
SCALE_RATIO = 10.0
SCALE_ROWS = 20

#: the decay exponent of ``average='auto'``'s polynomial-decay average
#: (measured on the stream of benchmarks/bench_partial_fit_average.py and three
#: variants, docs/scaling.md: 2 to 5 do about as well after a few passes, 3 is
#: the best compromise after one)
AUTO_AVERAGE_ETA = 3


#: start of the message of the warning that an L1 fit is empty (every
#: coefficient zero); the regularisation path silences it for its alphas
EMPTY_L1_MESSAGE = "Every coefficient is zero"

#: start of the message of the warning that an L2 penalty keeps a loss of
#: bounded derivative from fitting (the path silences it too)
CAPPED_L2_MESSAGE = "The L2 penalty caps the predictions"

#: the L2 warning fires when the largest move the penalty allows the
#: predictions is below this fraction of the targets' mean absolute deviation
#: (the bound is loose by about 10 at 5 features, 100 at 50: at 1 the fits
#: measured reach R^2 <= 0.11 where least absolute deviations reach 0.95-0.99)
CAPPED_L2_FRACTION = 1.0


def _warn_flat_loss(loss, ratio):
    """Warn when the general loop starts a Huber / log-cosh fit from zero with
    a threshold small against the targets' deviation (``ratio`` times)."""
    name, param = ("epsilon", loss.epsilon) if loss.name == "huber" else ("scale", loss.scale)
    warnings.warn(
        f"loss={loss.name!r} with {name}={np.min(param):.3g} on targets whose mean "
        f"absolute deviation is {ratio:.3g} times larger: the loss is nearly the "
        "absolute error there, and gradient steps at the valid rate 1/L advance slowly, "
        f"so the fit may stop far from the optimum. Use {name}='auto' (a scale "
        "estimated from the data), rescale y, or use fit with the default solver='auto' "
        "(the exact solver).",
        ConvergenceWarning,
    )


def _fits_constant_targets(X, Y, W, b):
    """Whether the model ``X W + b`` reproduces targets that are constant in
    each column (to 1e-9 of their magnitude): a fit the constant predictor
    cannot improve on."""
    Y = np.asarray(Y)
    if np.any(np.ptp(Y, axis=0) > 0):
        return False
    raw = np.asarray(X @ W) + b
    return bool(np.all(np.abs(raw - Y) <= 1e-9 * np.maximum(np.abs(Y), 1e-300)))


def standardized_gradient_norm(X, Y, sw, loss, W, b, l2, l1, fit_intercept=True):
    """The norm of the objective's (minimum-norm sub)gradient in ``W`` in the
    coordinates of the standardized features (centred when the model fits an
    intercept, only scaled by their root mean square otherwise), over the
    columns with a spread.

    Scale-free: on features of scales far apart, the gradient of the small
    ones is tiny in the raw coordinates although their coefficients are far
    from the optimum; divided by the columns' standard deviations it is the
    weighted covariance of each feature with the loss's derivative.
    """
    raw = np.asarray(X @ W) + b
    g = loss.gradient(Y, raw)
    if not loss.smooth:
        # a vertex of a piecewise-linear loss fits d + 1 samples exactly, and
        # the subgradient of those can be anything in their interval: leave
        # out the samples closest to their fit (then it is a bound of the
        # distance to stationarity that vanishes at the optimum up to ties)
        k = min(X.shape[0], X.shape[1] + int(fit_intercept))
        near = np.argpartition(np.abs(raw - Y), k - 1, axis=0)[:k]
        np.put_along_axis(g, near, 0.0, axis=0)
    g = g * (sw / sw.sum())[:, None]
    mean, std = column_moments(X, sw)
    if not fit_intercept:
        std, mean = np.sqrt(std * std + mean * mean), np.zeros_like(mean)
    G = np.asarray(X.T @ g) - mean[:, None] * g.sum(axis=0) + l2 * W
    if l1 > 0:  # the minimum-norm subgradient of + l1 ||W||_1
        G = np.where(W != 0, G + l1 * np.sign(W),
                     np.sign(G) * np.maximum(np.abs(G) - l1, 0.0))
    keep = std > 0
    return float(np.linalg.norm(G[keep] / std[keep, None]))


def solver_settings(est):
    """The parameters of a :class:`LipschitzRegressor` that :func:`choose_solver` reads."""
    return dict(solver=est.solver, loss=est.loss, scale=est.scale,
                learning_rate=est.learning_rate, batch_size=est.batch_size,
                early_stopping=est.early_stopping)


def exact_solver_reasons(loss, l2, l1, X=None, *, scale=1.0, learning_rate="lipschitz",
                         batch_size=None, early_stopping=False, tikhonov=False, whitened=False):
    """What the exact solver needs and this problem lacks (empty: it fits it).

    ``loss``, ``scale``, ``learning_rate``, ``batch_size`` and
    ``early_stopping`` are a :class:`LipschitzRegressor`'s parameters, ``l2``
    and ``l1`` its penalty strengths (``penalty_strengths``), ``X`` the
    training data (None: not known yet), ``tikhonov`` whether a Tikhonov
    matrix is set and ``whitened`` whether it has a whitening root.
    """
    from .._exact import WIDE_SPARSE_MIN_FEATURES

    reasons = []
    if not (isinstance(learning_rate, str) and learning_rate == "lipschitz"):
        reasons.append(f"learning_rate='lipschitz' (got {learning_rate!r})")
    if batch_size is not None:
        reasons.append(f"batch_size=None (got {batch_size!r})")
    if tikhonov and not whitened and l1 == 0:
        reasons.append("a positive definite alpha*I + 2*tikhonov'tikhonov")
    if l1 > 0:
        if tikhonov:
            reasons.append("no tikhonov matrix with an L1 penalty")
        if loss in ("quantile", "absolute_error") and l2 > 0:
            reasons.append(f"penalty='l1' with loss={loss!r} (elastic net is not exact there)")
        if X is not None and hasattr(X, "tocsr") and X.shape[1] >= WIDE_SPARSE_MIN_FEATURES:
            reasons.append(f"a sparse X with fewer than {WIDE_SPARSE_MIN_FEATURES} columns "
                           "for an L1 penalty")
        if loss == "huber" or (loss == "log_cosh" and not (isinstance(scale, Real)
                                                           and scale == 1.0)):
            reasons.append(f"penalty='l2' or None with loss={loss!r}"
                           + (" at a scale other than 1" if loss == "log_cosh" else "")
                           + " (the exact L1 solver does not take it)")
    if early_stopping:
        reasons.append(
            "early_stopping=False (the exact solver returns the optimum of the training "
            "objective: it has no epochs to stop early)")
    return reasons


def choose_solver(solver, loss, l2, l1, X=None, **settings):
    """The solver of a :class:`LipschitzRegressor` fit: ``'exact'`` or ``'gd'``.

    ``solver='auto'`` takes the exact solver when :func:`exact_solver_reasons`
    (the other arguments, :func:`solver_settings` of an estimator among them)
    finds nothing missing.

    Raises
    ------
    ValueError
        If ``solver='exact'`` and the exact solver cannot fit the problem
        (the message names what it needs).
    """
    reasons = exact_solver_reasons(loss, l2, l1, X, **settings)
    if solver == "auto":
        return "gd" if reasons else "exact"
    if solver == "exact" and reasons:
        raise ValueError(
            "solver='exact' (the exact full-batch solver) needs " + " and ".join(reasons)
            + "; use solver='gd' or solver='auto'."
        )
    return solver


class LipschitzRegressor(SparseCoefMixin, RegressorMixin, LipschitzEstimator):
    """Linear regression trained by gradient descent at the rate ``1/L``.

    ``L`` is computed from the data, so there is no learning rate to tune.
    The objective is the weighted mean loss plus a penalty,

    ``F(w, b) = sum_i s_i loss(y_i, x_i w + b) / sum_i s_i + P(w) + ||G w||^2``

    with SGDRegressor's convention ``P(w) = alpha * (l1_ratio ||w||_1 +
    (1 - l1_ratio)/2 ||w||^2)`` for ``penalty='elasticnet'``, ``alpha
    ||w||_1`` for 'l1', ``alpha/2 ||w||^2`` for 'l2' (the default) and 0 for
    None (the intercept is not penalised; ``G`` is the optional ``tikhonov``
    matrix).  With ``loss='squared_error'`` the loss is ``(y - r)^2 / 2``,
    so the solution equals ``Ridge(alpha=alpha * sum(sample_weight))``
    (``alpha * n_samples`` without weights) and ``LinearRegression`` for
    ``alpha=0``; with ``penalty='l1'`` or ``'elasticnet'`` the objective is
    exactly that of ``Lasso(alpha)`` / ``ElasticNet(alpha, l1_ratio)``
    (which also minimise ``||y - Xw - b||^2 / (2 n) + P(w)``), so the same
    ``alpha`` gives the same model.  With ``loss='quantile'`` and
    ``penalty='l1'`` the objective is exactly ``QuantileRegressor``'s
    (mean pinball loss plus ``alpha ||w||_1``): the same ``alpha`` gives the
    same model.

    Parameters
    ----------
    loss : {'squared_error', 'absolute_error', 'quantile', 'log_cosh', 'huber'}, \
            default='squared_error'
        Pointwise loss. 'quantile' is the pinball loss at level ``quantile``;
        'absolute_error' its median case (up to a factor 2); 'log_cosh' is
        ``scale^2 log cosh(r / scale)``; 'huber' is ``r^2 / 2`` for
        ``|r| <= epsilon`` and ``epsilon |r| - epsilon^2 / 2`` beyond
        (``r = y - prediction``; the loss of ``SGDRegressor(loss='huber')``).
    quantile : float in (0, 1) or array-like of such floats, default=0.5
        Level of the pinball loss (used with ``loss='quantile'``).  Several
        distinct levels fit one model per level in one call (single-output
        ``y`` only; the exact solver builds the design's Gram matrix and
        whitening once for all of them): ``coef_`` has one row per level and
        ``predict`` returns one column per level, in the order given,
        rearranged so that the predicted quantiles never cross (each row of
        predictions is sorted along the sorted levels: the rearrangement of
        Chernozhukov, Fernandez-Val & Galichon 2010, after which the curve
        over the levels is at least as close to the true conditional
        quantile curve in every L^p norm).
    epsilon : 'auto' or float > 0, default='auto'
        Threshold of the Huber loss (``loss='huber'`` only), in the units of
        ``y`` (``SGDRegressor``'s meaning).  'auto' is ``1.35 * sigma``, the
        choice of ``HuberRegressor``, with ``sigma`` a robust scale of the
        residuals: ``1.4826 * median|r - median(r)|`` (weighted), ``r`` the
        residuals of the absolute-error fit with the same L2 penalty and
        intercept (solved exactly), one value per output, reweighted
        once the gross outliers are known (the residuals beyond 2.5
        ``sigma`` are left out and the MAD of the others made consistent at
        Gaussian noise; see the user guide).  The value used is stored in
        ``epsilon_``.
    scale : 'auto' or float > 0, default=1.0
        Scale ``s`` of the log-cosh loss ``s^2 log cosh(r / s)``
        (``loss='log_cosh'`` only), in the units of ``y``: quadratic for
        residuals well below ``s``, linear well above.  1.0 is the plain
        ``log cosh(r)`` (and the published 'paper' constant); 'auto' is
        ``sigma / 2``, with ``sigma`` the robust residual scale described
        under ``epsilon``, so that the fit does not depend on the units of
        ``y`` and gross outliers fall in the linear zone (at Gaussian noise
        this scale keeps 84% efficiency, the absolute error 64%).  The
        value used is stored in ``scale_``.
    alpha : float >= 0, default=0.0
        Strength of the penalty (see ``penalty``).
    penalty : {'l2', 'l1', 'elasticnet'} or None, default='l2'
        The penalty ``P(w)`` above.  The L1 part is handled by proximal
        (soft-threshold) steps: the exact solver supports 'l1' and
        'elasticnet' for the squared error and log-cosh at ``scale=1`` and 'l1' for the
        absolute and pinball losses (an exact, certified LP finish); other
        combinations, and 'l1'/'elasticnet' with ``tikhonov``, run the
        general loop, whose gradient step at ``1/L`` on the smooth part is
        followed by the soft-threshold at ``rate * alpha * l1_ratio``.
        An ``alpha`` at or above ``alpha_max`` sets every coefficient to
        zero: the fit then warns (``UserWarning``, naming ``alpha_max``).
    l1_ratio : float in [0, 1], default=0.15
        The elastic-net mixing parameter (used with
        ``penalty='elasticnet'``): 1 is the L1 penalty, 0 the L2 penalty.
    fit_intercept : bool, default=True
        Whether to fit an intercept (not penalised).
    tikhonov : array-like of shape (n_rows, n_features) or None, default=None
        Tikhonov matrix ``G`` of the penalty ``||G w||^2`` (per output). The
        valid constant adds ``2 lambda_max(G'G)``, the smoothness constant of
        the penalty; 'paper' mode adds the published ``2 K ||G'G||_F``
        (LipschitzLR 6.3) with ``K`` the published estimate of ``||w||``
        (half the sum of the column means plus the mean column maximum).
        With the squared error the solution is the generalised ridge
        ``(X'SX/sum(s) + alpha I + 2 G'G)^-1 X'Sy/sum(s)`` (centred data).
        When ``alpha I + 2 G'G`` is positive definite the full-batch solver
        works in the variables ``v = R w`` (``R'R = alpha I + 2 G'G``), where
        the penalty is a plain L2 term (``X R^-1`` is formed densely);
        otherwise the general loop takes the 1/L steps.
    learning_rate : {'lipschitz', 'paper', 'local'} or float > 0, default='lipschitz'
        - 'lipschitz': ``1/L`` with a mathematically valid ``L``: the
          smoothness constant ``sup loss'' * lambda_max(X~' S X~) / sum(s) + alpha``
          for smooth losses (squared, log-cosh), the Lipschitz constant
          ``sup|loss'| * sum_i s_i ||x~_i|| / sum(s) + alpha`` for absolute and
          pinball losses (with the subgradient schedule ``1/(L sqrt(t))``).
          With ``batch_size=None`` the fit uses the exact full-batch solver:
          gradient steps at exactly ``1/L`` in whitened coordinates,
          accelerated, with smoothing continuation and an exact finish for
          the piecewise-linear losses.
        - 'paper': the published constants (LipschitzLR 5.1 for squared
          error, LALR ``max(tau, 1-tau) ||[1, X]||_F / m`` for absolute and
          pinball losses, ``|tanh(g(0) - ||y||)| ||[1, X]||_F / m`` for
          log-cosh), reproduced exactly, with a constant step.  They are not
          valid step sizes in general (see the package documentation).
        - 'local': adaptive gradient descent (Malitsky & Mishchenko 2020)
          started at ``1/L``.
        - float: a constant learning rate.
    solver : {'auto', 'exact', 'gd'}, default='auto'
        Which training loop ``fit`` runs.

        - 'exact': the exact full-batch solver (gradient steps at exactly
          ``1/L`` in whitened coordinates, accelerated, with smoothing
          continuation and an exact, certified finish for the
          piecewise-linear losses).  Needs ``learning_rate='lipschitz'``,
          ``batch_size=None`` and, with ``tikhonov``, a positive definite
          ``alpha I + 2 G'G``.
        - 'gd': the general gradient-descent loop (mini-batches, every
          learning-rate mode, ``average``).
        - 'auto': 'exact' when its conditions hold, else 'gd'.

        ``partial_fit`` always runs the general loop.  The choice made is
        stored in ``solver_``.
    block_rows : int >= 1 or None, default=None
        Read ``X`` in blocks of this many rows (the exact solver only).
        None: a ``numpy.memmap`` is read in blocks of about 64 MB and a
        ``dask.array`` by its own chunks; other arrays are fitted in
        memory.  An int blocks any array (a dask array is rechunked to it).
        A blocked fit never copies ``X`` whole: every pass of the exact
        solver reads it block by block (on a dask array, one dask
        computation per pass, on the active scheduler), with the same
        result and certificate as in memory.  It needs the exact solver
        (the default ``learning_rate``, ``batch_size=None``, no
        ``tikhonov``): otherwise a memory map with ``block_rows=None`` is
        fitted as an in-memory array, as any array is, and a dask array or
        an int ``block_rows`` raise a ``ValueError`` (use ``partial_fit``
        over the blocks).  See the documentation page on scaling.
    batch_size : int or None, default=None
        Mini-batch size; None is full batch.
    max_iter : int >= 1, default=1000
        Maximum number of epochs (iterations of the full-batch solver).
    tol : float >= 0, default=1e-6
        Relative improvement of the training loss below which an epoch counts
        as not improving.
    n_iter_no_change : int >= 1, default=10
        Number of epochs without improvement that stops training (of the
        training loss, or of the validation score with ``early_stopping``).
    early_stopping : bool, default=False
        ``fit`` only (MLP's semantics): hold out ``validation_fraction`` of
        the training data, score the model on it after every epoch (the
        score is minus the weighted mean loss on the held-out part, the
        loss of ``loss``, so higher is better), stop when the score has not
        improved by at least ``tol`` for ``n_iter_no_change`` epochs, and
        keep the weights of the best score.  It needs the gradient loop:
        ``solver='auto'`` then runs 'gd', and ``solver='exact'`` is an
        error (the exact solver returns the optimum of the training
        objective, it has no epochs to stop early).
    validation_fraction : float in (0, 1), default=0.1
        Fraction of the training data held out with ``early_stopping``.
    shuffle : bool, default=True
        Shuffle the samples every epoch (mini-batch only).
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffling.
    warm_start : bool, default=False
        Start from the previous solution.
    average : 'auto', bool or int >= 1, default='auto'
        Which weights the general loop (mini-batch, ``partial_fit``, the
        non-default rates) reports in ``coef_`` and ``intercept_``; the
        steps always continue from the last weights.

        - 'auto': for ``partial_fit`` with ``loss='absolute_error'`` or
          ``'quantile'`` at the default ``learning_rate='lipschitz'``, a
          polynomial-decay average of the iterates (Shamir & Zhang 2013),
          ``w_bar_t = (1 - c_t) w_bar_{t-1} + c_t w_t`` with
          ``c_t = 4 / (t + 3)`` over the steps ``t`` of every call (a
          suffix average: the weight of step ``s`` grows as ``s^3``, so the
          early iterates are forgotten).  The subgradient steps
          ``R / (L sqrt(t))`` of these losses have a convergence guarantee
          for such an average, not for the last iterate, which stalls
          about 1e-5 above the optimum.  As for the iterates, a call never
          leaves the reported weights worse on its chunk: when the new
          average is, the call's steps are left out of it.  Otherwise
          (``fit``, the smooth losses, the other rates) the last weights,
          as False.
        - False: the last weights.
        - True or an int: the mean of the weights over the steps (from step
          ``average`` on when an int; True is 1).  With a constant step over
          a fixed cycle of chunks the weights settle into a cycle around the
          optimum, and their mean converges to it.

        The full-batch default solver is exact and ignores it.
    verbose : int, default=0
        Print one line per epoch when positive.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_outputs, n_features)
        With several quantile levels: shape (n_levels, n_features), one row
        per level (the fitted models, before the rearrangement of
        ``predict``).
    intercept_ : float or ndarray of shape (n_outputs,) or (n_levels,)
    n_iter_ : int
        Epochs (or full-batch iterations) run.
    loss_ : float
        Final value of the objective ``F`` on the data of the last call
        (after ``partial_fit``: on the last chunk only).
    loss_curve_ : list of float
        Objective per epoch (mean of the mini-batch objectives).
    learning_rate_history_ : list of float
        Learning rate used per epoch.
    solver_ : {'exact', 'gd'}
        The training loop the last fit ran.
    certified_ : bool or None
        Whether the exact solver certified the optimum (the KKT conditions
        of the full problem checked in float64, see the documentation of
        the exact solver); None after a 'gd' fit.
    n_passes_ : int or None
        Passes over ``X`` the last fit made: for 'exact', the input check,
        the Gram matrix, every product with ``X`` or ``X'`` (a fused
        product counts once), every gather of the kept rows from a blocked
        ``X``, the constant and the final objective; for 'gd', the epochs
        run.  None for the sparse route of wide designs (not counted).
    epsilon_ : float or ndarray of shape (n_outputs,)
        The Huber threshold used (``loss='huber'`` only).
    scale_ : float or ndarray of shape (n_outputs,)
        The log-cosh scale used (``loss='log_cosh'`` only).
    validation_scores_ : list of float or None
        The validation score after every epoch (``early_stopping=True``),
        else None.
    best_validation_score_ : float or None
        The best validation score (``early_stopping=True``), else None.
    lipschitz_constant_ : float
        The constant ``L`` (valid bound, or published formula for 'paper').
        The L1 part of the penalty adds nothing to it (proximal steps).  The
        general loop (``solver='gd'``, mini-batches, ``partial_fit``) steps
        in coordinates centred at the column means of ``X`` when it fits an
        intercept, and reports the constant of ``X - mean``; the exact
        solver reports that of ``X`` itself.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    See Also
    --------
    sklearn.linear_model.SGDRegressor : The stochastic-gradient estimator this
        one replaces; its ``learning_rate``/``eta0`` schedule is computed here
        (``learning_rate='lipschitz'``; a float is its
        ``learning_rate='constant', eta0=float``). ``alpha``, ``penalty`` and
        ``l1_ratio`` follow its convention (its default ``alpha`` is 1e-4,
        here 0); ``loss='squared_error'`` and ``loss='huber'`` with
        ``epsilon`` are the same losses; ``max_iter``, ``n_iter_no_change``,
        ``shuffle``, ``warm_start``, ``average`` and ``verbose`` have its
        meaning, ``tol`` is relative here.
    sklearn.linear_model.Ridge : The same solution as
        ``loss='squared_error'`` with ``alpha_Ridge = alpha * sum(sample_weight)``
        (``alpha * n_samples`` without weights); ``LinearRegression`` for
        ``alpha=0``.
    sklearn.linear_model.Lasso : The same model for the same ``alpha`` with
        ``penalty='l1'`` and the squared error (``ElasticNet`` with
        ``penalty='elasticnet'`` and the same ``l1_ratio``).
    sklearn.linear_model.QuantileRegressor : The same model for the same
        ``alpha`` with ``loss='quantile'`` and ``penalty='l1'`` (its ``alpha``
        is an L1 penalty; with the default ``penalty='l2'`` the ``alpha`` here
        is an L2 penalty instead). ``loss='absolute_error'`` is its
        ``quantile=0.5``.
    sklearn.linear_model.HuberRegressor : The Huber loss of ``loss='huber'``;
        ``epsilon='auto'`` takes its threshold ``1.35 sigma`` with a robust
        scale ``sigma`` fixed before the fit, where HuberRegressor estimates
        the scale jointly, so the models differ slightly. ``'log_cosh'`` is a
        smooth loss of the same shape.
    LipschitzRegressorCV : The same model with ``alpha`` chosen by
        cross-validation.
    SymNetRegressor : The same engine with hidden layers.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklipschitz import LipschitzRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = LipschitzRegressor(loss="quantile", quantile=0.9).fit(X, y)
    >>> round(float((y <= reg.predict(X)).mean()), 1)
    0.9

    ``penalty='l1'`` with the quantile loss is ``QuantileRegressor``'s model:

    >>> sparse = LipschitzRegressor(loss="quantile", alpha=0.005, penalty="l1").fit(X, y)
    >>> int((sparse.coef_ != 0).sum())
    4
    """

    _parameter_constraints: dict = constraints(
        "alpha", "fit_intercept", "learning_rate", "batch_size", "max_iter", "tol",
        "n_iter_no_change", "shuffle", "random_state", "warm_start", "verbose",
        loss=REGRESSION_LOSS_CONSTRAINT,
        quantile=QUANTILE_CONSTRAINT + ["array-like"],
        epsilon=[StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        scale=[StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        early_stopping=["boolean"],
        validation_fraction=[Interval(Real, 0, 1, closed="neither")],
        tikhonov=["array-like", "sparse matrix", None],
        solver=[StrOptions({"auto", "exact", "gd"})],
        block_rows=[Interval(Integral, 1, None, closed="left"), None],
        penalty=[StrOptions({"l2", "l1", "elasticnet"}), None],
        l1_ratio=[Interval(Real, 0, 1, closed="both")],
        average=[StrOptions({"auto"}), "boolean", Interval(Integral, 1, None, closed="left")],
    )

    def __init__(
        self,
        loss="squared_error",
        *,
        quantile=0.5,
        epsilon="auto",
        scale=1.0,
        alpha=0.0,
        penalty="l2",
        l1_ratio=0.15,
        fit_intercept=True,
        tikhonov=None,
        learning_rate="lipschitz",
        solver="auto",
        block_rows=None,
        batch_size=None,
        max_iter=1000,
        tol=1e-6,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        random_state=None,
        warm_start=False,
        average="auto",
        verbose=0,
    ):
        self.loss = loss
        self.quantile = quantile
        self.epsilon = epsilon
        self.scale = scale
        self.alpha = alpha
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tikhonov = tikhonov
        self.learning_rate = learning_rate
        self.solver = solver
        self.block_rows = block_rows
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.average = average
        self.verbose = verbose

    # -- parameters -> problem ---------------------------------------------------

    def _validate(self, X, y, sample_weight, reset, allow_zero=False):
        X, y = self._validate_X_y(X, y, reset=reset, multi_output=True, y_numeric=True)
        y = as_target(y, X.dtype)
        return X, y, self._target_matrix(y), self._check_weights(
            sample_weight, X, allow_zero=allow_zero)

    def _target_matrix(self, y):
        """``y`` as an (n, k) matrix: one column per output, or per level when
        ``quantile`` lists several (then ``y`` must be single-output)."""
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        levels = self._quantile_levels()
        if levels is not None:
            if y.ndim != 1:
                raise ValueError(
                    f"quantile with several levels ({levels.size}) needs a single-output y "
                    f"of shape (n_samples,); got y of shape {y.shape}. Fit one model per "
                    "output, or pass one level."
                )
            Y = np.repeat(Y, levels.size, axis=1)
        return Y

    def _quantile_levels(self):
        """The array of levels when ``quantile`` is a list, else None (checked)."""
        if np.ndim(self.quantile) == 0:
            return None
        levels = np.asarray(self.quantile, dtype=np.float64)
        if self.loss != "quantile":
            raise ValueError(
                f"quantile={self.quantile!r} holds several levels, which only "
                f"loss='quantile' uses; got loss={self.loss!r}."
            )
        if levels.ndim != 1 or levels.size == 0:
            raise ValueError(
                f"quantile must be a float or a 1-d list of levels; got shape {levels.shape}.")
        if not np.all((levels > 0) & (levels < 1)):
            raise ValueError(f"quantile levels must lie in (0, 1); got {self.quantile!r}.")
        if np.unique(levels).size != levels.size:
            raise ValueError(f"quantile levels must be distinct; got {self.quantile!r}.")
        return levels

    def _init_params(self, n_features, loss, Y, sw, dtype, start=None):
        """The starting weights ``(W, b, warm)``: the previous fit's with
        ``warm_start`` (same shapes), else those of ``start`` (the
        absolute-error pilot of a Huber / log-cosh fit, float64), else zero
        coefficients and the loss's optimal constant.  ``warm`` says whether
        the exact solver takes them as its start."""
        n_outputs = Y.shape[1]
        if (self.warm_start and hasattr(self, "_coef_matrix")
                and self._coef_matrix.shape == (n_features, n_outputs)):
            return (self._coef_matrix.astype(dtype, copy=True),
                    self._intercept_vector.astype(dtype, copy=True), True)
        if start is not None:
            return (np.array(start.coef, dtype=np.float64).reshape(n_features, n_outputs),
                    np.array(start.intercept, dtype=np.float64).reshape(n_outputs), True)
        W = np.zeros((n_features, n_outputs), dtype=dtype)
        if self.fit_intercept:
            b = np.asarray(loss.constant_raw(Y, sw), dtype=dtype).reshape(n_outputs)
        else:
            b = np.zeros(n_outputs, dtype=dtype)
        return W, b, bool(self.warm_start)

    def _network(self, n_features, n_outputs):
        P = None if self._penalty is None else self._penalty.matrix
        return DenseNetwork((n_features, n_outputs), penalty_matrix=P)

    def _constant(self, loss, X, Y, sw, offset=None):
        mode = self.learning_rate if isinstance(self.learning_rate, str) else "lipschitz"
        return linear_constant(
            loss, X, Y, sw, mode=mode, fit_intercept=self.fit_intercept, alpha=self._l2,
            batch_size=self.batch_size, penalty=self._penalty, offset=offset,
        )

    def _descent_offset(self, X, sw, running):
        """The column means at which the general loop centres its steps
        (None: not centred).

        The loop steps in the coordinates ``(W, b + offset W)`` of the same
        model, whose design ``X - offset`` has no direction of size
        ``|mean|`` next to the intercept's column: uncentred features (an
        offset of 30 standard deviations) otherwise make ``L`` that large and
        the other directions never move.  ``fit`` centres at the means of
        ``X``; ``partial_fit`` (``running``) at the running means of every
        row seen so far, so the first chunk need not be representative.
        Only with an intercept (which absorbs the offset), for the valid
        constant and a fixed rate: the published 'paper' constants are
        applied as published, and 'local' estimates its rate from distances
        and gradient differences in the model's own coordinates.
        """
        if not self.fit_intercept or self.learning_rate in ("paper", "local"):
            self._x_offset = None
            return None
        sw = np.asarray(sw, dtype=np.float64)
        weight = float(sw.sum())
        kept = getattr(self, "_x_offset", None) if running else None
        means = RunningMeans(*((self._x_offset_weight, [kept]) if kept is not None else (0.0, None)))
        (mean,) = means.combine([np.asarray(X.T @ sw, dtype=np.float64).ravel() / weight], weight)
        self._x_offset_weight, (self._x_offset,) = means.committed()
        return mean if np.any(mean) and np.all(np.isfinite(mean)) else None

    # -- problem -> solver -------------------------------------------------------

    def _fit_gd(self, X, Y, sw, loss, *, incremental, validation=None, start=None):
        l1 = L1(self._l1) if self._l1 > 0 else None
        problem = NetworkProblem(
            self._network(X.shape[1], Y.shape[1]), loss, X, Y, sw,
            alpha=self._l2, fit_intercept=self.fit_intercept, l1=l1,
        )
        state = getattr(self, "_train_state", None) if incremental else None
        offset = self._descent_offset(X, sw, running=state is not None)
        L = self._constant(loss, X, Y, sw, offset)
        if not np.isfinite(L):
            raise ValueError(
                f"The Lipschitz constant of this data overflows (L={L}): X has entries of "
                "extreme magnitude. Rescale the features (e.g. with StandardScaler), or use "
                "the default solver='auto' (the exact solver rescales them itself)."
            )
        lipschitz_fn = None
        if state is None:
            W, b, _ = self._init_params(X.shape[1], loss, Y, sw, X.dtype, start)
            W, b = W.astype(X.dtype, copy=False), b.astype(X.dtype, copy=False)
            self._step_rule = make_rule(self.learning_rate, smooth=loss.smooth)
            state = TrainState(coefs=[W], intercepts=[b])
            state.step_state = self._step_rule.init(L)
            state.lipschitz = L
            if not loss.smooth and self.learning_rate == "lipschitz":
                # the subgradient schedule R / (L sqrt(t)): steps in the units of y
                state.rate_scale = distance_scale(X, Y, sw, b, self.fit_intercept, offset)
            # judged on the first data with a spread (not a first chunk of one row)
            self._flat_pending = loss.name in ("huber", "log_cosh") and start is None
        else:
            # a running maximum keeps the constant valid for every chunk seen
            L_run = max(state.lipschitz, L)
            lipschitz_fn = lambda c, i: L_run  # noqa: E731
        if getattr(self, "_flat_pending", False):
            ratio = flat_ratio(Y, sw, loss.epsilon if loss.name == "huber" else loss.scale)
            if ratio > 0:
                self._flat_pending = False
                if ratio > FLAT_RATIO:
                    _warn_flat_loss(loss, ratio)
        # a full-batch step at the valid 1/L of a smooth loss cannot go up
        full = self.batch_size is None or self.batch_size >= X.shape[0]
        descent = self.learning_rate == "lipschitz" and loss.smooth and full
        if offset is not None:
            update = CentredUpdate(SGD(), penalty=l1)
            update.means = [offset]
        else:
            update = SGD() if l1 is None else ProximalUpdate(SGD(), l1)
        state = train(
            problem, state, rule=self._step_rule, update=update, lipschitz_fn=lipschitz_fn,
            monotone=not descent,
            stopping=Stopping(self.tol, self.n_iter_no_change),
            guard=DivergenceStop(hint=divergence_hint(self.learning_rate)),
            averaging=self._averaging(loss, incremental),
            validation=validation,
            max_iter=self.max_iter, batch_size=self.batch_size, shuffle=self.shuffle,
            rng=self._rng, incremental=incremental, verbose=self.verbose,
        )
        return state

    def _averaging(self, loss, incremental):
        """The average of the iterates a general-loop call keeps (None: the
        last iterate); see ``average``."""
        if isinstance(self.average, str):  # 'auto'
            subgradient = not loss.smooth and (isinstance(self.learning_rate, str)
                                               and self.learning_rate == "lipschitz")
            if incremental and subgradient:
                return IterateAverage("polynomial", eta=AUTO_AVERAGE_ETA)
            return None
        return IterateAverage("uniform", start=int(self.average)) if self.average else None

    def _warn_on_stall(self, X, Y, sw, loss):
        """Warn when a general-loop fit stopped by its tolerance ends (on the
        weights it keeps, averaged with ``average``) no better than the
        constant predictor (the best intercept-only model), or with a gradient in standardized features still above
        ``STATIONARITY_TOL`` (``STATIONARITY_TOL_NONSMOOTH``) times its norm
        at the start."""
        if not 0 < self.n_iter_ < self.max_iter:
            return
        W, b = self._coef_matrix, self._intercept_vector
        b0 = (np.asarray(loss.constant_raw(Y, sw), dtype=b.dtype).reshape(b.shape)
              if self.fit_intercept else np.zeros_like(b))
        network = self._network(X.shape[1], Y.shape[1])
        const_value = network.objective(X, Y, sw, loss, self._l2, [np.zeros_like(W)], [b0])
        end_value = self.loss_
        if const_value <= 0 and _fits_constant_targets(X, Y, W, b):
            return  # constant targets fitted exactly: nothing to improve on
        if not end_value < const_value - STALL_TOL * abs(const_value):
            warnings.warn(
                f"The fit stopped after {self.n_iter_} epochs with an objective "
                f"({end_value:.6g}) no better than the constant predictor's "
                f"({const_value:.6g}): either X explains nothing of y, or the steps did "
                "not fit this data. Standardize X (e.g. with StandardScaler), or use the "
                "default solver='auto' (the exact solver).",
                ConvergenceWarning,
            )
            return
        if self._penalty is not None or self.early_stopping:
            return
        tol = STATIONARITY_TOL
        if not loss.smooth:
            if X.shape[0] < 10 * (X.shape[1] + 1):
                return
            tol = STATIONARITY_TOL_NONSMOOTH
        end = standardized_gradient_norm(X, Y, sw, loss, W, b, self._l2, self._l1,
                                         self.fit_intercept)
        start = standardized_gradient_norm(X, Y, sw, loss, np.zeros_like(W), b0,
                                           self._l2, self._l1, self.fit_intercept)
        if end > tol * start:
            warnings.warn(
                f"The fit stopped after {self.n_iter_} epochs (its relative improvement "
                f"fell below tol={self.tol:g}) far from the optimum: in standardized "
                f"features the gradient still has {end / start:.0%} of its initial "
                "norm. The features are on scales far apart, so the steps at the rate 1/L "
                "(set by the largest) barely move the coefficients of the smallest. "
                "Standardize X (e.g. with StandardScaler), or use the default "
                "solver='auto' (the exact solver).",
                ConvergenceWarning,
            )

    def _fit_exact(self, X, Y, sw, loss, root, start=None):
        from .._exact import solve_linear

        W0, b0, warm = self._init_params(X.shape[1], loss, Y, sw, X.dtype, start)
        coef_init = W0 if warm else None
        if root is None:
            design, alpha, back = X, self._l2, None
        else:  # Tikhonov: solve for v = R w with a plain L2 penalty, exactly
            back = root.astype(X.dtype)
            design, alpha = np.asarray(X @ back), 1.0
            if coef_init is not None:
                coef_init = np.linalg.solve(back, coef_init)
        sol = solve_linear(
            design, Y, loss, sw, alpha=alpha, l1=self._l1, fit_intercept=self.fit_intercept,
            coef_init=coef_init, intercept_init=b0 if warm else None,
            max_iter=self.max_iter, verbose=self.verbose,
        )
        self.certified_ = bool(sol.certified)
        # the constant of a smooth loss comes from the solver's Gram matrix
        own_constant = not (root is None and loss.smooth and sol.gram_top is not None)
        # + the input check, the constant (when computed here) and the final
        # objective (+ X R^-1)
        self.n_passes_ = None if sol.n_passes is None else \
            int(sol.n_passes) + 2 + int(own_constant) + int(root is not None)
        if not sol.converged:
            warnings.warn(
                f"The full-batch solver did not converge in {self.max_iter} iterations; "
                "increase max_iter.",
                ConvergenceWarning,
            )
        W = np.asarray(sol.coef if back is None else back @ sol.coef, dtype=X.dtype)
        b = np.asarray(sol.intercept, dtype=X.dtype).reshape(-1)
        self._step_rule = make_rule("lipschitz", smooth=loss.smooth)
        if not own_constant:
            L = float(loss.curvature * sol.gram_top + self._l2)
        else:
            L = self._constant(loss, X, Y, sw)
        state = TrainState(coefs=[W], intercepts=[b], n_iter=int(sol.n_iter), lipschitz=L)
        state.step_state = self._step_rule.init(L)
        state.loss_curve = list(sol.loss_curve)
        state.learning_rate_history = list(sol.learning_rate_history)
        return state

    # -- solver -> attributes ----------------------------------------------------

    def _finish(self, X, Y, sw, loss, state, objective=None, average=None):
        """The fitted attributes; ``average`` (an IterateAverage): report its
        value on ``state`` (when it holds one) instead of the last weights."""
        W, b = state.coefs[0], state.intercepts[0]
        if average is not None and state.average_params is not None:
            W, b = average.value(state)
        self._coef_matrix, self._intercept_vector = W, b
        self._levels = self._quantile_levels()
        self.coef_ = W[:, 0].copy() if self._y_ndim == 1 else W.T.copy()
        self.intercept_ = float(b[0]) if self._y_ndim == 1 else b.copy()
        if objective is None:
            objective = self._objective(X, Y, sw, loss, W, b)
        self._set_fitted(state, objective)

    def _objective(self, X, Y, sw, loss, W, b):
        """The objective ``F`` of the weights ``(W, b)`` on ``(X, Y, sw)``."""
        network = self._network(X.shape[1], Y.shape[1])
        value = network.objective(X, Y, sw, loss, self._l2, [W], [b])
        if self._l1 > 0:
            value += L1(self._l1).value([W])
        return value

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> LipschitzRegressor:
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The training samples: also a ``numpy.memmap`` or a
            ``dask.array``, read in row blocks by the exact solver.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; integer weights are equivalent to
            repeating samples.

        Returns
        -------
        self : LipschitzRegressor
            The fitted estimator.
        """
        from .._exact.blocked import as_source

        src = as_source(X, self.block_rows)
        if src is not None and (self.block_rows is not None or not isinstance(X, np.ndarray)
                                or not self._exact_unavailable()):
            return self._fit_blocked(src, y, sample_weight)
        X, y, Y, sw = self._validate(X, y, sample_weight, reset=True)
        return self._fit_arrays(X, y, Y, sw)

    def _fit_arrays(self, X, y, Y, sw):
        """:meth:`fit` on arrays :meth:`_validate` has checked (a regularisation
        path checks them once for all of its alphas)."""
        self._rng = check_random_state(self.random_state)
        self._reset_training(keep_weights=self.warm_start)
        self._y_ndim = y.ndim if np.ndim(self.quantile) == 0 else 2
        self._l2, self._l1 = penalty_strengths(self.penalty, self.alpha, self.l1_ratio)
        self._penalty = None if self.tikhonov is None else Tikhonov(self.tikhonov, X.shape[1])
        root = None if self._penalty is None else self._penalty.whitening_root(self._l2)
        if self._l1 > 0 and self._penalty is not None:
            root = None
        self.solver_ = choose_solver(**solver_settings(self), l2=self._l2, l1=self._l1, X=X,
                                     tikhonov=self._penalty is not None,
                                     whitened=root is not None)
        validation = None
        if self.early_stopping:
            X, Y, sw, validation = self._hold_out(X, Y, sw)
        loss, start = self._set_loss(X, Y, sw, start=True)
        if validation is not None:
            validation = self._validation_monitor(loss, *validation)
        if self.solver_ == "exact":
            state = self._fit_exact(X, Y, sw, loss, root, start=start)
        else:
            state = self._fit_gd(X, Y, sw, loss, incremental=False, validation=validation,
                                 start=start)
        self._finish(X, Y, sw, loss, state,
                     average=self._averaging(loss, False) if self.solver_ == "gd" else None)
        self._set_validation(state, validation is not None)
        if self.solver_ == "gd":
            self.certified_, self.n_passes_ = None, self.n_iter_
            self._warn_on_stall(X, Y, sw, loss)
        self._warn_if_empty(Y, lambda: self._alpha_max(X, Y, loss, sw))
        self._warn_if_capped(X, Y, sw, loss)
        return self

    def _warn_if_capped(self, X, Y, sw, loss):
        """Warn when the L2 penalty alone keeps a loss of bounded derivative
        (absolute error, quantile, log-cosh, Huber: ``|l'| <= G``) from
        fitting the targets.

        At the optimum of ``mean l + alpha/2 ||w||^2`` the coefficients are
        ``w = -(1/alpha) sum_i v_i l'_i (x_i - c)`` (``v``: the normalised
        weights; ``c`` the weighted mean of the rows with an intercept, whose
        optimality makes ``sum v_i l'_i`` zero, else 0), so ``||w|| <= (G /
        alpha) sum_i v_i ||x_i - c||`` and every prediction stays within
        ``R ||w||`` of the intercept, ``R = max ||x_i - c||``.  Unlike the
        squared error's, this bound does not grow with the targets: targets in
        large units (or a large ``alpha``) leave a nearly constant model.
        The warning fires when the bound is below ``CAPPED_L2_FRACTION`` times
        the targets' mean absolute deviation (about their weighted median
        with an intercept, about 0 without)."""
        G = getattr(loss, "lipschitz", None)
        if not self._l2 > 0 or self._l1 > 0 or self._penalty is not None or G is None:
            return
        v = sw / sw.sum()
        c = np.asarray(v @ X).ravel() if self.fit_intercept else np.zeros(X.shape[1])
        if sp.issparse(X):
            sq = (np.asarray(X.multiply(X).sum(axis=1)).ravel() - 2 * np.asarray(X @ c).ravel()
                  + c @ c)
        else:
            sq = np.einsum("ij,ij->i", X - c, X - c)
        dist = np.sqrt(np.maximum(sq, 0.0))
        bound = float(G) / self._l2 * float(v @ dist) * float(dist.max())
        if self.fit_intercept:
            centre = weighted_quantile(Y, v, 0.5)
        else:
            centre = np.zeros(Y.shape[1])
        deviation = v @ np.abs(Y - centre)
        if not np.any(bound < CAPPED_L2_FRACTION * deviation):
            return
        j = int(np.argmax(deviation))
        warnings.warn(
            f"{CAPPED_L2_MESSAGE}: with loss={self.loss!r} (|derivative| <= {float(G):.3g}) "
            f"and alpha={self.alpha:g}, no prediction can move more than {bound:.3g} from "
            f"the intercept, {bound / deviation[j]:.2g} times the targets' mean absolute "
            f"deviation ({deviation[j]:.3g}): the penalty, not the data, limits the fit, "
            "and the model predicts nearly a constant. With this loss the penalty does not "
            "scale with y: use a much smaller alpha (or rescale y), or "
            "LipschitzRegressorCV to choose it.",
            UserWarning,
        )

    def _warn_if_empty(self, Y, alpha_max):
        """Warn when an L1 / elastic-net fit ends with every coefficient zero
        on targets that vary: the model predicts a constant, because ``alpha``
        is at or above ``alpha_max`` (``Lasso`` is silent there).
        ``alpha_max()`` gives that bound, or None when it is not computed."""
        if not self._l1 > 0 or np.any(self._coef_matrix):
            return
        if not np.any(np.ptp(Y, axis=0) > 0):
            return
        bound = alpha_max()
        known = "" if bound is None else f" (alpha_max={bound:.6g} for this data)"
        warnings.warn(
            f"{EMPTY_L1_MESSAGE}: alpha={self.alpha:g} with penalty={self.penalty!r} is at "
            f"or above the smallest alpha that sets every coefficient to zero{known}, so "
            "the model predicts a constant. Use a smaller alpha, or LipschitzRegressorCV "
            "to choose it by cross-validation.",
            UserWarning,
        )

    def _alpha_max(self, X, Y, loss, sw):
        """``alpha_max`` of a single-output fit (None for several outputs or
        quantile levels)."""
        from .._exact import penalty_alpha_max

        if Y.shape[1] != 1 or self._quantile_levels() is not None:
            return None
        l1_ratio = 1.0 if self.penalty == "l1" else float(self.l1_ratio)
        return penalty_alpha_max(X, Y[:, 0], loss, sw, l1_ratio=l1_ratio,
                                 fit_intercept=self.fit_intercept)

    def _exact_unavailable(self):
        """What keeps ``fit`` off the exact solver on a data source read by
        row blocks, which is never whitened (empty: nothing)."""
        reasons = ["solver='exact' or 'auto' (got 'gd')"] if self.solver == "gd" else []
        if self.tikhonov is not None:
            reasons.append("no tikhonov matrix")
        settings = solver_settings(self)
        del settings["solver"]
        l2, l1 = penalty_strengths(self.penalty, self.alpha, self.l1_ratio)
        return reasons + exact_solver_reasons(l2=l2, l1=l1, **settings)

    def _fit_blocked(self, src, y, sample_weight):
        """``fit`` on ``X`` read by row blocks (a memory map, a dask array)."""
        from .._exact import solve_linear
        from .._exact.blocked import check_blocks, constant_if_equal

        kind = type(src.X).__module__.split(".")[0] + "." + type(src.X).__name__
        reasons = self._exact_unavailable()
        if reasons:
            raise ValueError(
                f"X ({kind}) is read in row blocks, which only the exact solver does; it "
                f"needs {' and '.join(reasons)}. Use partial_fit over the blocks "
                "(e.g. dask_ml.wrappers.Incremental), or fit an in-memory array."
            )
        n, d = src.shape
        y, sample_weight = _in_memory(y, sample_weight)
        y = _check_y(y, multi_output=True, y_numeric=True, estimator=self)
        # a (n, 0) stand-in for X: the sample count and dtype of the checks
        stand_in = np.empty((n, 0), dtype=src.dtype)
        check_consistent_length(stand_in, y)
        y = np.asarray(y, dtype=src.dtype)
        Y = self._target_matrix(y)
        sw = self._check_weights(sample_weight, stand_in)
        self._rng = check_random_state(self.random_state)
        self._reset_training(keep_weights=self.warm_start)
        self._y_ndim = y.ndim if np.ndim(self.quantile) == 0 else 2
        self._penalty = None
        self._l2, self._l1 = penalty_strengths(self.penalty, self.alpha, self.l1_ratio)
        lo, hi, norm, _ = check_blocks(src, sw, self.fit_intercept)
        # (an 'auto' Huber threshold or log-cosh scale: a pilot fit, blockwise too)
        loss, start = self._set_loss(src, Y, sw, start=True)
        # features are known once the check passed: the model is in memory
        self.n_features_in_ = d
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        passes = 1
        W0, b0, warm = self._init_params(d, loss, Y, sw, src.dtype, start)
        # (no weights: None, so that the solver holds no n-vector of ones)
        sol = solve_linear(
            src, Y, loss, None if sample_weight is None else sw, alpha=self._l2, l1=self._l1,
            fit_intercept=self.fit_intercept,
            coef_init=W0 if warm else None,
            intercept_init=b0 if warm else None,
            max_iter=self.max_iter, verbose=self.verbose, x_range=(lo, hi),
        )
        # a smooth loss: the constant from the solver's Gram matrix, as in memory
        L = loss.curvature * sol.gram_top if loss.smooth else loss.lipschitz * norm
        L = float(L + self._l2)
        if not sol.converged:
            warnings.warn(
                f"The full-batch solver did not converge in {self.max_iter} iterations; "
                "increase max_iter.",
                ConvergenceWarning,
            )
        W = np.asarray(sol.coef, dtype=src.dtype)
        b = np.asarray(sol.intercept, dtype=src.dtype).reshape(-1)
        self._step_rule = make_rule("lipschitz", smooth=loss.smooth)
        state = TrainState(coefs=[W], intercepts=[b], n_iter=int(sol.n_iter), lipschitz=L)
        state.step_state = self._step_rule.init(L)
        state.loss_curve = list(sol.loss_curve)
        state.learning_rate_history = list(sol.learning_rate_history)
        # the final objective: one more pass, each block summing its weighted
        # losses (no n-vector of predictions gathered)
        sw_b = constant_if_equal(sw)
        value = float(src.map_sum(lambda xb, yb, sb: float(sb @ loss.loss(yb, xb @ W + b)),
                                  Y, sw_b)) / float(sw.sum())
        if self._l2:
            value += 0.5 * self._l2 * float(np.vdot(W, W))
        if self._l1 > 0:
            value += L1(self._l1).value([W])
        self.solver_ = "exact"
        self.certified_ = bool(sol.certified)
        self.n_passes_ = passes + int(sol.n_passes) + 1
        self._finish(None, Y, sw, loss, state, objective=value)
        self._set_validation(state, False)
        self._warn_if_empty(Y, lambda: None)
        return self

    # -- robust losses and early stopping ----------------------------------------

    def _set_loss(self, X, Y, sw, start=False):
        """The loss on this data and the start of a Huber / log-cosh fit (an
        absolute-error pilot fit, or None); sets ``epsilon_`` / ``scale_``
        (estimated for 'auto'), which later ``partial_fit`` calls keep."""
        loss, value, pilot = build_loss(self, X, Y, sw, start=start)
        for name in ("epsilon_", "scale_"):
            if hasattr(self, name):
                delattr(self, name)
        if self.loss == "huber":
            self.epsilon_ = value
        elif self.loss == "log_cosh":
            self.scale_ = value
        return loss, pilot

    def _fitted_loss(self):
        """The loss of the fitted model, with its fitted ``epsilon_`` / ``scale_``."""
        kw = {}
        if self.loss == "huber":
            kw["epsilon"] = self.epsilon_
        elif self.loss == "log_cosh":
            kw["scale"] = self.scale_
        return get_regression_loss(self.loss, self.quantile, **kw)

    def _hold_out(self, X, Y, sw):
        """The training part and ``(X_val, Y_val, sw_val)``, the held-out part."""
        n_val = int(np.ceil(self.validation_fraction * X.shape[0]))
        if n_val < 1 or X.shape[0] - n_val < 2:
            raise ValueError(
                f"early_stopping needs at least 2 training samples and 1 validation sample; "
                f"{X.shape[0]} samples with validation_fraction={self.validation_fraction} "
                "leave too few. Use more data or early_stopping=False."
            )
        X, X_val, Y, Y_val, sw, sw_val = train_test_split(
            X, Y, sw, test_size=self.validation_fraction, random_state=self._rng)
        if sw.sum() <= 0 or sw_val.sum() <= 0:
            raise ValueError(
                "early_stopping: the training or the validation part has zero total "
                "sample_weight; use more samples with positive weight."
            )
        return X, Y, sw, (X_val, Y_val, sw_val)

    @staticmethod
    def _validation_monitor(loss, X_val, Y_val, sw_val):
        """Minus the weighted mean loss on the held-out part (higher is better)."""
        def score(coefs, intercepts):
            raw = np.asarray(X_val @ coefs[0] + intercepts[0])
            return -loss.objective(Y_val, raw, sw_val)

        return Validation(score)

    def _set_validation(self, state, used):
        if used:
            self.validation_scores_ = [float(v) for v in state.validation_scores]
            self.best_validation_score_ = float(state.best_score)
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def partial_fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> LipschitzRegressor:
        """Run one epoch on the given chunk (mini-batches of ``batch_size``).

        The constant is a running maximum over the chunks seen, so every
        step stays valid for the data it is taken on.  With
        ``loss='absolute_error'`` or ``'quantile'`` and the default
        ``average='auto'``, ``coef_`` and ``intercept_`` are a running
        (polynomial-decay) average of the subgradient iterates of every
        call so far, and the next call continues from the last iterate.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The chunk's samples.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The chunk's targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the chunk's samples.  A chunk of total
            weight zero carries no information: the call checks it and
            leaves the model as it was.

        Returns
        -------
        self : LipschitzRegressor
            The updated estimator.
        """
        first = self._is_first_partial_call()
        X, y, Y, sw = self._validate(X, y, sample_weight, reset=not self._stream_is_open(first)
                                     and first, allow_zero=True)
        if first:
            self._rng = check_random_state(self.random_state)
            self._y_ndim = y.ndim if np.ndim(self.quantile) == 0 else 2
            self._l2, self._l1 = penalty_strengths(self.penalty, self.alpha, self.l1_ratio)
            self._penalty = None if self.tikhonov is None else Tikhonov(self.tikhonov, X.shape[1])
        elif Y.shape[1] != self._coef_matrix.shape[1]:
            raise ValueError(
                f"y has {Y.shape[1]} outputs, but the model was fitted with "
                f"{self._coef_matrix.shape[1]}."
            )
        if self._skip_empty_chunk(first, sw):
            return self
        self._check_stream_scales(X, sw, first)
        # 'auto' parameters are estimated on the first chunk and kept
        loss = self._set_loss(X, Y, sw)[0] if first else self._fitted_loss()
        averaging = self._averaging(loss, True)
        kept = objective = None
        if averaging is not None and averaging.schedule == "polynomial" and hasattr(
                self, "_coef_matrix"):
            kept = self._kept_average()
        state = self._fit_gd(X, Y, sw, loss, incremental=True)
        if kept is not None:
            objective = self._keep_average_if_worse(X, Y, sw, loss, state, kept, averaging)
        self.solver_ = "gd"
        self._finish(X, Y, sw, loss, state, objective=objective, average=averaging)
        self._set_validation(state, False)
        self.certified_, self.n_passes_ = None, self.n_iter_
        return self

    def _check_stream_scales(self, X, sw, first):
        """Accumulate the weighted moments of the stream's first
        ``SCALE_ROWS`` rows, then warn once if the features' standard
        deviations are ``SCALE_RATIO`` apart."""
        if first:
            d = X.shape[1]
            self._stream_moments = None if sp.issparse(X) else [0, 0.0, np.zeros(d), np.zeros(d)]
        moments = getattr(self, "_stream_moments", None)
        if moments is None:
            return
        w = np.asarray(sw, dtype=np.float64)
        Xd = np.asarray(X, dtype=np.float64)
        moments[0] += X.shape[0]
        moments[1] += float(w.sum())
        moments[2] = moments[2] + w @ Xd
        moments[3] = moments[3] + w @ (Xd * Xd)
        if moments[0] < SCALE_ROWS:
            return
        self._stream_moments = None
        mean, second = moments[2] / moments[1], moments[3] / moments[1]
        if not self.fit_intercept:
            mean = np.zeros_like(mean)
        std = np.sqrt(np.maximum(second - mean * mean, 0.0))
        spread = std[std > 1e-12 * np.sqrt(second)]
        if spread.size >= 2 and spread.max() > SCALE_RATIO * spread.min():
            warnings.warn(
                f"The standard deviations of the features range from {spread.min():.3g} "
                f"to {spread.max():.3g}: partial_fit's steps at the rate 1/L (set by the "
                "largest) barely move the coefficients of the smallest, so the model "
                "may stay far from the least-loss fit. Standardize X (e.g. with a "
                "StandardScaler fitted on a first chunk).",
                ConvergenceWarning,
            )

    def _kept_average(self):
        """Copies of the reported weights and of the average's state, before a call."""
        return (self._coef_matrix.copy(), self._intercept_vector.copy(),
                IterateAverage.saved(self._train_state))

    def _keep_average_if_worse(self, X, Y, sw, loss, state, kept, averaging):
        """``average='auto'``: undo this call's share of the average when the
        new average has a higher objective on the call's chunk than the
        weights reported before the call (so that, as for the iterates, a
        call never leaves the reported model worse on its chunk).  Returns
        the objective of the weights then reported (None: not computed)."""
        if state.average_params is None:
            return None
        W0, b0, average = kept
        before = self._objective(X, Y, sw, loss, W0, b0)
        after = self._objective(X, Y, sw, loss, *averaging.value(state))
        if after <= before + 1e-12 * abs(before):
            return after
        IterateAverage.restore(state, average)
        # no average before this call: the last iterate (its objective not computed)
        return None if average is None else before

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict with the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), (n_samples, n_outputs) or (n_samples, n_levels)
            With several quantile levels, one column per level (in the
            order of ``quantile``), sorted along the levels in every row.
            A dask array (computed block by block) when ``X`` is one.
        """
        from .._exact.blocked import is_dask_array

        if is_dask_array(X):
            return self._predict_dask(X)
        raw = self._linear_scores(X)
        levels = getattr(self, "_levels", None)
        if levels is not None:
            # rearrangement: the k-th smallest prediction goes to the k-th smallest level
            order = np.argsort(levels, kind="stable")
            out = np.empty_like(raw)
            out[:, order] = np.sort(raw, axis=1)
            return out
        return raw[:, 0] if self._y_ndim == 1 else raw

    def score(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """R² of the predictions, or the mean D² pinball score of several levels.

        One level (or a loss other than the quantile loss) gives R², as every
        scikit-learn regressor.  Several levels give, per level ``tau``, the
        fraction of the pinball loss of the best constant (the ``tau``-quantile
        of ``y``) that the model explains
        (:func:`sklearn.metrics.d2_pinball_score` with ``alpha=tau``), averaged
        over the levels: 1 is perfect, 0 is the constant quantile, and it can
        be negative.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            R², or the mean D² pinball score over the quantile levels.
        """
        levels = getattr(self, "_levels", None)
        if levels is None:
            return super().score(X, y, sample_weight=sample_weight)
        from sklearn.metrics import d2_pinball_score

        pred = self.predict(X)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        return float(np.mean([
            d2_pinball_score(y, pred[:, k], sample_weight=sample_weight, alpha=float(tau))
            for k, tau in enumerate(levels)
        ]))

    def _predict_dask(self, X):
        """``predict`` of a dask array, lazily and block by block."""
        check_is_fitted(self, "_coef_matrix")
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has shape {X.shape}, but LipschitzRegressor is expecting "
                f"{self.n_features_in_} features as input."
            )
        if len(X.chunks[1]) > 1:
            X = X.rechunk({1: -1})
        W = self._coef_matrix
        dtype = np.result_type(X.dtype, W.dtype) if X.dtype.kind == "f" else np.float64
        if self._y_ndim == 1:
            return X.map_blocks(_predict_block, self, drop_axis=1, dtype=dtype)
        return X.map_blocks(_predict_block, self, chunks=(X.chunks[0], (W.shape[1],)),
                            dtype=dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
