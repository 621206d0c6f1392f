"""Linear models trained at a learning rate computed from the data."""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._engine import lipschitz as _lipschitz
from ._engine.losses import get_regression_loss
from ._engine.network import DenseNetwork
from ._engine.loop import TrainState, train
from ._engine.steps import ConstantStep, LipschitzStep, LocalStep


def _check_finite_weights(sample_weight, X, dtype):
    sw = _check_sample_weight(sample_weight, X, dtype=dtype, ensure_non_negative=True)
    if not np.all(np.isfinite(sw)):
        raise ValueError("sample_weight contains NaN or infinity.")
    if sw.sum() <= 0:
        raise ValueError("sample_weight sums to zero: at least one sample needs a positive weight.")
    return sw


class _LipschitzLinearMixin:
    """The part every linear estimator shares: choose the constant and the
    step rule, and run the engine (general loop or the exact full-batch
    solver).  Subclasses provide ``_make_loss`` and the target encoding."""

    def _uses_exact_solver(self):
        return (
            isinstance(self.learning_rate, str)
            and self.learning_rate == "lipschitz"
            and self.batch_size is None
            and self._loss_supports_exact_solver()
            and (self._penalty is None or self._penalty_root() is not None)
        )

    def _penalty_root(self):
        """``R^-1`` with ``R'R = alpha I + P`` (None when that is singular).

        With ``v = R w`` the penalty ``1/2 w'(alpha I + P)w`` becomes the plain
        ``1/2 ||v||^2`` on the design ``X R^-1``, which the full-batch solver
        handles exactly.
        """
        M = self.alpha * np.eye(self._penalty.shape[0]) + self._penalty
        lam, Q = np.linalg.eigh(M)
        if lam[0] <= 1e-12 * max(lam[-1], 1e-300):
            return None
        return Q / np.sqrt(lam)

    def _loss_supports_exact_solver(self):
        return False

    def _penalty_matrix(self, n_features):
        """``P = 2 G'G`` for a Tikhonov matrix ``G`` (None without one)."""
        G = getattr(self, "tikhonov", None)
        if G is None:
            return None
        if sp.issparse(G):
            G = G.toarray()
        try:
            G = np.asarray(G, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"tikhonov must be a numeric matrix: {exc}") from None
        if G.ndim != 2 or G.shape[1] != n_features:
            raise ValueError(
                f"tikhonov must be a matrix with n_features={n_features} columns, "
                f"got shape {G.shape}."
            )
        if not np.all(np.isfinite(G)):
            raise ValueError("tikhonov contains NaN or infinity.")
        return 2.0 * (G.T @ G)

    def _valid_lipschitz(self, loss, X, sw, minibatch):
        L = _lipschitz.linear_lipschitz(
            loss, X, sw, fit_intercept=self.fit_intercept, alpha=self.alpha, minibatch=minibatch
        )
        if self._penalty is not None:  # + 2 lambda_max(G'G)
            L += float(np.linalg.eigvalsh(self._penalty)[-1])
        return L

    def _step_rule_and_constant(self, loss, X, Y, sw):
        """The step rule and the Lipschitz constant for this data."""
        minibatch = self.batch_size is not None and self.batch_size < X.shape[0]
        lr = self.learning_rate
        if isinstance(lr, str) and lr == "paper":
            if loss.name == "log_cosh":  # the published "tighter" log-cosh rule
                L = _lipschitz.paper_log_cosh_lipschitz(
                    X, Y, fit_intercept=self.fit_intercept, alpha=self.alpha,
                    batch_size=self.batch_size,
                )
            else:
                L = _lipschitz.paper_linear_lipschitz(
                    loss, X, Y, fit_intercept=self.fit_intercept, alpha=self.alpha,
                    batch_size=self.batch_size,
                )
            if self._penalty is not None:  # + 2 K ||G'G||_F (LipschitzLR 6.3)
                K = _lipschitz.paper_weight_bound(X, self.fit_intercept)
                L += K * float(np.linalg.norm(self._penalty))
            return LipschitzStep(decay=False), L
        L = self._valid_lipschitz(loss, X, sw, minibatch)
        if isinstance(lr, str) and lr == "local":
            return LocalStep(), L
        if isinstance(lr, str):  # 'lipschitz'
            return LipschitzStep(decay=not loss.smooth), L
        return ConstantStep(lr), L

    def _init_params(self, n_features, n_outputs, loss, Y, sw, dtype):
        reuse = (
            self.warm_start
            and hasattr(self, "_coef_matrix")
            and self._coef_matrix.shape == (n_features, n_outputs)
        )
        if reuse:
            W = self._coef_matrix.astype(dtype, copy=True)
            b = self._intercept_vector.astype(dtype, copy=True)
        else:
            W = np.zeros((n_features, n_outputs), dtype=dtype)
            if self.fit_intercept:
                b = np.asarray(loss.constant_raw(Y, sw), dtype=dtype).reshape(n_outputs)
            else:
                b = np.zeros(n_outputs, dtype=dtype)
        return W, b

    def _run_engine(self, X, Y, sw, loss, *, incremental):
        """Fit (or continue fitting) ``W, b`` and set the fitted attributes."""
        n_features, n_outputs = X.shape[1], Y.shape[1]
        if not (incremental and hasattr(self, "_train_state")):
            self._penalty = self._penalty_matrix(n_features)
        network = DenseNetwork((n_features, n_outputs), penalty_matrix=self._penalty)
        dtype = X.dtype
        if incremental and hasattr(self, "_train_state"):
            state = self._train_state
            rule = self._step_rule
            # a running maximum keeps the constant valid for every chunk seen
            L_run = max(state.lipschitz, self._step_rule_and_constant(loss, X, Y, sw)[1])
            lipschitz_fn = lambda c, i: L_run  # noqa: E731
        else:
            W, b = self._init_params(n_features, n_outputs, loss, Y, sw, dtype)
            rule, L = self._step_rule_and_constant(loss, X, Y, sw)
            state = TrainState(coefs=[W], intercepts=[b])
            lipschitz_fn = lambda c, i: None  # noqa: E731 (constant over epochs)
            state.step_state = rule.init(L)
            state.lipschitz = L
        if self._uses_exact_solver() and not incremental:
            self._fit_exact(X, Y, sw, loss, state)
        else:
            state = train(
                network, loss, X, Y, sw,
                rule=rule, lipschitz_fn=lipschitz_fn, state=state, alpha=self.alpha,
                fit_intercept=self.fit_intercept, optimizer="sgd",
                batch_size=self.batch_size, max_iter=self.max_iter, tol=self.tol,
                n_iter_no_change=self.n_iter_no_change, shuffle=self.shuffle,
                rng=self._rng, verbose=self.verbose, incremental=incremental,
                average=int(getattr(self, "average", 0)),
            )
        self._train_state = state
        self._step_rule = rule
        W, b = state.coefs[0], state.intercepts[0]
        if getattr(self, "average", False) and state.average_params is not None:
            W, b = state.average_params
        self._coef_matrix = W
        self._intercept_vector = b
        self._set_public_coefs()
        self.n_iter_ = state.n_iter
        self.loss_curve_ = list(state.loss_curve)
        self.learning_rate_history_ = list(state.learning_rate_history)
        self.lipschitz_constant_ = float(state.lipschitz)
        self.loss_ = float(network.objective(X, Y, sw, loss, self.alpha, [W], [b]))
        if not math.isfinite(self.loss_):  # pragma: no cover - guarded by the loop
            raise FloatingPointError("training produced a non-finite loss")

    def _fit_exact(self, X, Y, sw, loss, state):
        from ._exact import solve_linear

        coef_init = state.coefs[0] if self.warm_start else None
        if self._penalty is None:
            design, alpha, back = X, self.alpha, None
        else:  # Tikhonov: solve for v = R w with a plain L2 penalty, exactly
            back = self._penalty_root().astype(X.dtype)
            design, alpha = np.asarray(X @ back), 1.0
            if coef_init is not None:
                coef_init = np.linalg.solve(back, coef_init)
        sol = solve_linear(
            design, Y, loss, sw, alpha=alpha, fit_intercept=self.fit_intercept,
            coef_init=coef_init,
            intercept_init=state.intercepts[0] if self.warm_start else None,
            max_iter=self.max_iter, verbose=self.verbose,
        )
        state.coefs[0][...] = sol.coef if back is None else back @ sol.coef
        state.intercepts[0][...] = sol.intercept
        state.n_iter = int(sol.n_iter)
        state.loss_curve = list(sol.loss_curve)
        state.learning_rate_history = list(sol.learning_rate_history)
        if not sol.converged:
            warnings.warn(
                f"The full-batch solver did not converge in {self.max_iter} iterations; "
                "increase max_iter.",
                ConvergenceWarning,
            )


class LipschitzRegressor(_LipschitzLinearMixin, RegressorMixin, BaseEstimator):
    """Linear regression trained by gradient descent at the rate ``1/L``.

    ``L`` is computed from the data, so there is no learning rate to tune.
    The objective is the weighted mean loss plus an L2 penalty,

    ``F(w, b) = sum_i s_i loss(y_i, x_i w + b) / sum_i s_i + alpha/2 ||w||^2
    + ||G w||^2``

    (the intercept is not penalised; ``G`` is the optional ``tikhonov``
    matrix).  With ``loss='squared_error'`` the
    loss is ``(y - r)^2 / 2``, so the solution equals
    ``Ridge(alpha=alpha * sum(sample_weight))`` (``alpha * n_samples`` without
    weights) and ``LinearRegression`` for ``alpha=0``.

    Parameters
    ----------
    loss : {'squared_error', 'absolute_error', 'quantile', 'log_cosh'}, default='squared_error'
        Pointwise loss. 'quantile' is the pinball loss at level ``quantile``;
        'absolute_error' its median case (up to a factor 2).
    quantile : float in (0, 1), default=0.5
        Level of the pinball loss (used with ``loss='quantile'``).
    alpha : float >= 0, default=0.0
        Strength of the L2 penalty ``alpha/2 ||w||^2``.
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
    batch_size : int or None, default=None
        Mini-batch size; None is full batch.
    max_iter : int >= 1, default=1000
        Maximum number of epochs (iterations of the full-batch solver).
    tol : float >= 0, default=1e-6
        Relative improvement of the training loss below which an epoch counts
        as not improving.
    n_iter_no_change : int >= 1, default=10
        Number of epochs without improvement that stops training.
    shuffle : bool, default=True
        Shuffle the samples every epoch (mini-batch only).
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffling.
    warm_start : bool, default=False
        Start from the previous solution.
    average : bool or int >= 1, default=False
        Mini-batch, ``partial_fit`` and the non-default rates only: report the
        mean of the weights over the steps (from step ``average`` on when an
        int; True is 1) instead of the last weights.  With a constant step
        over a fixed cycle of chunks the weights settle into a cycle around
        the optimum, and their mean converges to it.  The full-batch default
        solver is exact and ignores it.
    verbose : int, default=0
        Print one line per epoch when positive.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_outputs, n_features)
    intercept_ : float or ndarray of shape (n_outputs,)
    n_iter_ : int
        Epochs (or full-batch iterations) run.
    loss_ : float
        Final value of the objective ``F`` on the data of the last call
        (after ``partial_fit``: on the last chunk only).
    loss_curve_ : list of float
        Objective per epoch (mean of the mini-batch objectives).
    learning_rate_history_ : list of float
        Learning rate used per epoch.
    lipschitz_constant_ : float
        The constant ``L`` (valid bound, or published formula for 'paper').
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklipschitz import LipschitzRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = LipschitzRegressor(loss="quantile", quantile=0.9).fit(X, y)
    >>> round(float((y <= reg.predict(X)).mean()), 1)
    0.9
    """

    _parameter_constraints: dict = {
        "loss": [StrOptions({"squared_error", "absolute_error", "quantile", "log_cosh"})],
        "quantile": [Interval(Real, 0, 1, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "tikhonov": ["array-like", "sparse matrix", None],
        "learning_rate": [
            StrOptions({"lipschitz", "paper", "local"}),
            Interval(Real, 0, None, closed="neither"),
        ],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "average": ["boolean", Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        loss="squared_error",
        *,
        quantile=0.5,
        alpha=0.0,
        fit_intercept=True,
        tikhonov=None,
        learning_rate="lipschitz",
        batch_size=None,
        max_iter=1000,
        tol=1e-6,
        n_iter_no_change=10,
        shuffle=True,
        random_state=None,
        warm_start=False,
        average=False,
        verbose=0,
    ):
        self.loss = loss
        self.quantile = quantile
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.tikhonov = tikhonov
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.average = average
        self.verbose = verbose

    def _make_loss(self):
        return get_regression_loss(self.loss, self.quantile)

    def _loss_supports_exact_solver(self):
        return True

    def _validate(self, X, y, sample_weight, reset):
        X, y = validate_data(
            self, X, y, reset=reset, accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32], multi_output=True, y_numeric=True,
        )
        if sp.issparse(X):
            X = X.tocsr()
        y = np.asarray(y, dtype=X.dtype)
        if not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinity.")
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        sw = _check_finite_weights(sample_weight, X, X.dtype)
        return X, y, Y, sw

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; integer weights are equivalent to
            repeating samples.

        Returns
        -------
        self
        """
        X, y, Y, sw = self._validate(X, y, sample_weight, reset=True)
        self._rng = check_random_state(self.random_state)
        if not self.warm_start and hasattr(self, "_coef_matrix"):
            del self._coef_matrix
        if hasattr(self, "_train_state"):
            del self._train_state
        self._y_ndim = y.ndim
        self._run_engine(X, Y, sw, self._make_loss(), incremental=False)
        return self

    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch on the given chunk (mini-batches of ``batch_size``).

        The constant is a running maximum over the chunks seen, so every
        step stays valid for the data it is taken on.

        Returns
        -------
        self
        """
        first = not hasattr(self, "_train_state")
        if first:
            self._validate_params()
        X, y, Y, sw = self._validate(X, y, sample_weight, reset=first)
        if first:
            self._rng = check_random_state(self.random_state)
            self._y_ndim = y.ndim
        elif Y.shape[1] != self._coef_matrix.shape[1]:
            raise ValueError(
                f"y has {Y.shape[1]} outputs, but the model was fitted with "
                f"{self._coef_matrix.shape[1]}."
            )
        self._run_engine(X, Y, sw, self._make_loss(), incremental=True)
        return self

    def _set_public_coefs(self):
        W, b = self._coef_matrix, self._intercept_vector
        self.coef_ = W[:, 0].copy() if self._y_ndim == 1 else W.T.copy()
        self.intercept_ = float(b[0]) if self._y_ndim == 1 else b.copy()

    def predict(self, X):
        """Predict with the linear model.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        check_is_fitted(self, "_coef_matrix")
        X = validate_data(self, X, reset=False, accept_sparse=["csr", "csc"],
                          dtype=[np.float64, np.float32])
        raw = X @ self._coef_matrix + self._intercept_vector
        raw = np.asarray(raw)
        return raw[:, 0] if self._y_ndim == 1 else raw

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags


# The quantile classifier lives in its own module (it is larger than a thin
# estimator: a grid of levels, rearrangement, confidence); re-exported here.
from ._quantile_classifier import LipschitzQuantileClassifier  # noqa: E402

__all__ = ["LipschitzRegressor", "LipschitzQuantileClassifier"]
