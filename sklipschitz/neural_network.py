"""SymNet: SBAF / A-ReLU networks trained at a learning rate computed from the data.

The networks are :class:`~sklipschitz._engine.network.DenseNetwork` instances
trained by the one training loop of :mod:`sklipschitz._engine.loop`, the engine
:class:`~sklipschitz.LipschitzRegressor` also runs on; with
``hidden_layer_sizes=()`` a SymNet *is* the linear model (softmax / logistic
regression, or linear regression under the chosen loss).

Every epoch the learning rate is ``1 / L`` with ``L`` recomputed from the
training data and the current network (:mod:`sklipschitz._engine.network_lipschitz`
says which factors are valid bounds and which follow the published
heuristic).
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._engine import lipschitz as _lipschitz
from ._engine import network_lipschitz as _nl
from ._engine.activations import AReLU, Identity, Logistic, ReLU, SBAF, Tanh
from ._engine.losses import BinomialLoss, MultinomialLoss, get_regression_loss
from ._engine.network import DenseNetwork
from ._base import divergence_hint
from ._engine.loop import TrainState, train
from ._engine.monitors import DivergenceStop, HalvingGuard, Stopping, Validation
from ._engine.problems import NetworkProblem
from ._engine.updates import UPDATES
from ._engine.steps import ConstantStep, LipschitzStep

_AUTO_BATCH = 200


def make_activation(name, *, sbaf_k=0.91, sbaf_alpha=0.5, arelu_k=0.54, arelu_n=1.30):
    """The hidden-layer activation object for an activation name.

    'sbaf' is the rescaled SBAF unit ``(sbaf(logistic(z)) - y_min) / (1 - y_min)``
    (see :mod:`sklipschitz._engine.activations`).
    """
    if name == "sbaf":
        return SBAF(sbaf_k, sbaf_alpha, input_map="logistic", output="rescaled")
    if name == "arelu":
        return AReLU(arelu_k, arelu_n)
    return {"relu": ReLU, "tanh": Tanh, "logistic": Logistic, "identity": Identity}[name]()


class _ForwardMemoNetwork(DenseNetwork):
    """A :class:`DenseNetwork` that can hand one stored forward pass over once.

    Full-batch training evaluates the network on the whole training set
    twice at the same weights: at the end of an epoch (the guard's loss and
    the next ``K_z``) and at the start of the next one (its gradient).  The
    first pass is stored with a copy of the weights; the next forward call
    on the same ``X`` at equal weights returns it (once: the loss may then
    overwrite ``raw``) instead of recomputing it.
    """

    _memo = None

    def remember(self, X, coefs, intercepts, result):
        self._memo = (X, [p.copy() for p in (*coefs, *intercepts)], result)

    def forget(self):
        self._memo = None

    def forward(self, X, coefs, intercepts):
        memo = self._memo
        if memo is not None and memo[0] is X and all(
            np.array_equal(p, q) for p, q in zip(memo[1], (*coefs, *intercepts))
        ):
            self._memo = None
            return memo[2]
        return super().forward(X, coefs, intercepts)


class _BaseSymNet(BaseEstimator):
    """Everything the classifier and the regressor share."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"sbaf", "arelu", "relu", "tanh", "logistic", "identity"})],
        "sbaf_k": [Interval(Real, 0, None, closed="neither")],
        "sbaf_alpha": [Interval(Real, 0, 1, closed="both")],
        "arelu_k": [Interval(Real, 0, None, closed="neither")],
        "arelu_n": [Interval(Real, 1, None, closed="left")],
        "optimizer": [StrOptions({"sgd", "momentum", "adam"})],
        "learning_rate": [
            StrOptions({"lipschitz", "paper"}),
            Interval(Real, 0, None, closed="neither"),
        ],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    # -- configuration ---------------------------------------------------------

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, (Integral, np.integer)):
            sizes = [sizes]
        sizes = list(sizes)
        for s in sizes:
            if isinstance(s, (bool, np.bool_)) or not isinstance(s, (Integral, np.integer)):
                raise TypeError(
                    f"hidden_layer_sizes must contain integers, got {s!r} in "
                    f"{self.hidden_layer_sizes!r}."
                )
            if s < 1:
                raise ValueError(
                    f"hidden_layer_sizes must contain positive integers, got {s} in "
                    f"{self.hidden_layer_sizes!r}."
                )
        return [int(s) for s in sizes]

    def _activation_object(self):
        return make_activation(
            self.activation, sbaf_k=self.sbaf_k, sbaf_alpha=self.sbaf_alpha,
            arelu_k=self.arelu_k, arelu_n=self.arelu_n,
        )

    def _batch(self, n):
        if self.batch_size == "auto":
            return min(_AUTO_BATCH, n)
        return min(int(self.batch_size), n)

    # -- the engine call ----------------------------------------------------------

    def _constant(self, A, raw, Y, batch_size, mode, last_coef):
        raise NotImplementedError

    def _guard_threshold(self, initial_loss):
        raise NotImplementedError

    def _validation_score(self, Y_true, raw):
        raise NotImplementedError

    def _init_params(self, network, loss, Y, dtype, rng):
        coefs, intercepts = network.init_params(rng, dtype=dtype)
        return coefs, intercepts

    def _run(self, X, Y, loss, *, incremental, X_val=None, Y_val=None):
        hidden = self._hidden_sizes()
        n, n_features = X.shape
        n_outputs = Y.shape[1]
        dtype = X.dtype
        network = _ForwardMemoNetwork(
            (n_features, *hidden, n_outputs), self._activation_object()
        )
        sw = np.ones(n, dtype=dtype)
        m = self._batch(n)
        lr = self.learning_rate
        mode = lr if isinstance(lr, str) else "lipschitz"

        shapes = [(a, b) for a, b in zip(network.layer_sizes[:-1], network.layer_sizes[1:])]
        state = getattr(self, "_train_state", None) if incremental else None
        if state is None:
            reuse = (
                self.warm_start or incremental
            ) and getattr(self, "coefs_", None) is not None and [
                W.shape for W in self.coefs_
            ] == shapes
            if reuse:
                coefs = [W.astype(dtype, copy=True) for W in self.coefs_]
                intercepts = [b.astype(dtype, copy=True) for b in self.intercepts_]
            else:
                coefs, intercepts = self._init_params(network, loss, Y, dtype, self._rng)
            state = TrainState(coefs=coefs, intercepts=intercepts)
            rule = LipschitzStep() if isinstance(lr, str) else ConstantStep(lr)
        else:
            rule = self._step_rule

        cache = {}
        linear_valid = not hidden and mode == "lipschitz"
        if linear_valid:
            # a linear model has a global constant: the valid bound of
            # LipschitzRegressor (smoothness for smooth losses, per-sample
            # bound for mini-batches, Lipschitz constant for non-smooth ones)
            L_linear = _lipschitz.linear_lipschitz(
                loss, X, sw, fit_intercept=True, alpha=self.alpha, minibatch=m < n
            )

        buffers = {}

        def forward_full(c, i):
            # the full training set in chunks of the batch size into two
            # buffers kept across epochs: every temporary of the pass stays
            # small (no large allocation per layer and per epoch)
            if n <= m:
                # one batch: the next epoch's gradient reuses this pass
                result = network.forward(X, c, i)
                network.remember(X, c, i, result)
                return result[0], result[2][-1]
            if not buffers:
                buffers["raw"] = np.empty((n, n_outputs), dtype=dtype)
                if hidden:
                    buffers["A"] = np.empty((n, hidden[-1]), dtype=dtype)
            raw_buf, A_buf = buffers["raw"], buffers.get("A")
            for start in range(0, n, m):
                sl = slice(start, min(start + m, n))
                raw, _, acts = network.forward(X[sl], c, i)
                raw_buf[sl] = raw
                if A_buf is not None:
                    A_buf[sl] = acts[-1]
            return raw_buf, (A_buf if A_buf is not None else X)

        def lipschitz_fn(c, i):
            if linear_valid:
                return L_linear
            hit = cache.pop("end", None)
            if hit is not None and all(
                np.array_equal(p, q) for p, q in zip(hit[0], [c[-1], *i])
            ):
                raw, A = hit[1], hit[2]
            else:
                raw, A = forward_full(c, i)
            return self._constant(A, raw, Y, m, mode, c[-1])

        def guard_loss_fn(c, i):
            raw, A = forward_full(c, i)
            value = loss.objective(Y, raw, sw)
            if self.alpha:
                value += 0.5 * self.alpha * sum(float(np.vdot(W, W)) for W in c)
            cache["end"] = ([c[-1].copy(), *[b.copy() for b in i]], raw, A)
            return value

        score_fn = None
        if X_val is not None:
            def score_fn(c, i):  # noqa: E306
                return self._validation_score(Y_val, network.predict_raw(X_val, c, i))

        if isinstance(lr, str) and lr == "lipschitz":
            initial = network.objective(X, Y, sw, loss, self.alpha, state.coefs, state.intercepts)
            guard = HalvingGuard(self._guard_threshold(initial) * (1.0 + 1e-9), guard_loss_fn)
        else:
            guard = DivergenceStop(hint=divergence_hint(lr))
        problem = NetworkProblem(network, loss, X, Y, sw, alpha=self.alpha)
        state = train(
            problem, state, rule=rule, update=UPDATES[self.optimizer](),
            lipschitz_fn=lipschitz_fn, max_iter=self.max_iter, batch_size=m,
            stopping=Stopping(self.tol, self.n_iter_no_change, absolute=True), guard=guard,
            validation=None if score_fn is None else Validation(score_fn),
            shuffle=self.shuffle, rng=self._rng, verbose=self.verbose, incremental=incremental,
        )
        self._train_state = state
        self._step_rule = rule
        self.coefs_ = list(state.coefs)
        self.intercepts_ = list(state.intercepts)
        self.n_iter_ = state.n_iter
        self.t_ = state.t
        self.n_layers_ = len(hidden) + 2
        self.n_outputs_ = n_outputs
        self.loss_curve_ = list(state.loss_curve)
        self.learning_rate_history_ = list(state.learning_rate_history)
        self.lipschitz_constant_ = float(state.lipschitz)
        self.loss_ = float(
            network.objective(X, Y, sw, loss, self.alpha, state.coefs, state.intercepts)
        )
        self.best_loss_ = float(min(self.loss_curve_)) if self.loss_curve_ else self.loss_
        if X_val is not None:
            self.validation_scores_ = list(state.validation_scores)
            self.best_validation_score_ = float(state.best_score)
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
        network.forget()
        self._network = network
        return self

    def _raw(self, X):
        check_is_fitted(self, "coefs_")
        X = validate_data(
            self, X, reset=False, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32]
        )
        if sp.issparse(X):
            X = X.tocsr()
        return np.asarray(self._network.predict_raw(X, self.coefs_, self.intercepts_))

    def _validate_X_y(self, X, y, reset, **kw):
        X, y = validate_data(
            self, X, y, reset=reset, accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32], **kw,
        )
        if sp.issparse(X):
            X = X.tocsr()
        return X, y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


_COMMON_PARAMS_DOC = """
    hidden_layer_sizes : tuple of int, default=(100,)
        Sizes of the hidden layers; ``()`` is the linear model.
    activation : {'sbaf', 'arelu', 'relu', 'tanh', 'logistic', 'identity'}, default='sbaf'
        Hidden-layer activation.

        - 'sbaf': the soft-bounded activation
          ``y = 1 / (1 + k x^alpha (1 - x)^(1 - alpha))`` applied to
          ``x = logistic(z)`` (which keeps every value and gradient finite)
          and rescaled to ``u = (y - y_min) / (1 - y_min)`` in ``[0, 1]``,
          ``y_min = sbaf(alpha)`` its minimum.  Derivative
          ``y (1 - y) (x - alpha) / (1 - y_min)``.
        - 'arelu': ``arelu_k * z^arelu_n`` for ``z > 0``, else 0.
    sbaf_k : float > 0, default=0.91
    sbaf_alpha : float in [0, 1], default=0.5
    arelu_k : float > 0, default=0.54
    arelu_n : float >= 1, default=1.30
    optimizer : {'sgd', 'momentum', 'adam'}, default='sgd'
        Update using the computed rate: plain gradient steps, momentum
        (AdaMo: moving average of gradients, bias-corrected) or Adam with
        bias correction (Auto-Adam: the computed rate is Adam's global step).
    learning_rate : {'lipschitz', 'paper'} or float > 0, default='lipschitz'
        - 'lipschitz': ``1/L`` recomputed every epoch from the training data
          and the current network, the published rule with its loss factor
          corrected to the true supremum (1 for cross-entropy; ``(c-1)/c``
          and ``1/2`` in the paper), ``+ alpha``; for squared error the
          exact smoothness constant of the last layer.  The bound covers the
          last layer only (no global constant exists for a network), so the
          rate is guarded: an epoch after which the full training loss is not
          finite or exceeds the threshold (the initial loss, and ``log c``
          for ``c`` classes) is undone and the rate halved.
        - 'paper': the published rule, exactly (LipschitzLR eq. 19-29,
          LALR): ``K_z`` = maximum over batches of the Frobenius norm of the
          last hidden layer's activations (``X`` itself for the linear
          model; no bias column is added -- pass it in ``X`` to reproduce a
          constant computed with one), ``m`` the batch size,
          ``L = (c-1) K_z / (c m)`` for softmax, ``K_z / (2m)`` for binary,
          ``K_z / m`` (times ``max(tau, 1-tau)`` for quantile) for the
          Lipschitz regression losses, ``(||raw|| + ||y||) K_z / m`` for
          squared error, plus ``alpha * ||W_last||_F``.  No guard: a
          diverging fit stops with a ``ConvergenceWarning``.
        - float: a constant rate.
    batch_size : int or 'auto', default='auto'
        Mini-batch size; 'auto' is ``min(200, n_samples)``.
    alpha : float >= 0, default=1e-4
        L2 penalty ``alpha/2 * sum ||W||^2`` on the weights (not the
        intercepts); added to ``L``.
    max_iter : int >= 1, default=200
        Maximum number of epochs.
    tol : float >= 0, default=1e-4
        Training stops when the training loss (or the validation score with
        early stopping) has not improved by at least ``tol`` for
        ``n_iter_no_change`` epochs.
    n_iter_no_change : int >= 1, default=10
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data and stop (and
        keep the weights) on its score.
    validation_fraction : float in (0, 1), default=0.1
    shuffle : bool, default=True
        Shuffle the samples every epoch.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial weights, the shuffling and the validation split.
    warm_start : bool, default=False
        Start from the previous weights when the shapes agree.
    verbose : int, default=0
        Print one line per epoch (loss and learning rate) when positive.
"""

_COMMON_ATTRS_DOC = """
    coefs_ : list of ndarray
        Weight matrices, ``coefs_[i]`` of shape ``(n_in, n_out)`` of layer ``i``.
    intercepts_ : list of ndarray
    n_iter_ : int
        Epochs run (a rejected, undone epoch counts).
    t_ : int
        Optimisation steps taken.
    loss_ : float
        Training objective (mean loss plus L2 term) at the final weights.
    best_loss_ : float or None
        Smallest epoch loss (None with early stopping).
    loss_curve_ : list of float
        Epoch loss (mean of the mini-batch objectives) per accepted epoch.
    learning_rate_history_ : list of float
        Learning rate used per accepted epoch.
    lipschitz_constant_ : float
        The constant ``L`` of the last epoch (``1 / lipschitz_constant_`` is
        the rate of the rule before any halving).
    validation_scores_, best_validation_score_ : list, float or None
        With early stopping.
    n_outputs_ : int
    n_layers_ : int
    out_activation_ : str
    n_features_in_ : int
    feature_names_in_ : ndarray of str
"""


class SymNetClassifier(ClassifierMixin, _BaseSymNet):
    __doc__ = (
        """Neural-network classifier trained at a learning rate computed from the data.

    A dense network (SBAF hidden units by default) with a softmax output
    (a single logistic output for two classes), trained on the mean
    cross-entropy plus an L2 term by (mini-batch) gradient descent at the
    rate ``1/L`` of LipschitzLR (Yedida, Saha & Prashanth, 2021), so no
    learning rate is tuned.  ``hidden_layer_sizes=()`` is multinomial /
    logistic regression.

    Parameters
    ----------"""
        + _COMMON_PARAMS_DOC
        + """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)"""
        + _COMMON_ATTRS_DOC
        + """
    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklipschitz import SymNetClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), SymNetClassifier(random_state=0)).fit(X, y)
    >>> bool(clf.score(X, y) > 0.95)
    True
    """
    )

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="sbaf",
        *,
        sbaf_k=0.91,
        sbaf_alpha=0.5,
        arelu_k=0.54,
        arelu_n=1.30,
        optimizer="sgd",
        learning_rate="lipschitz",
        batch_size="auto",
        alpha=1e-4,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        random_state=None,
        warm_start=False,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.sbaf_k = sbaf_k
        self.sbaf_alpha = sbaf_alpha
        self.arelu_k = arelu_k
        self.arelu_n = arelu_n
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    # -- targets -------------------------------------------------------------------

    def _loss(self):
        return BinomialLoss() if len(self.classes_) == 2 else MultinomialLoss()

    def _encode(self, y, dtype):
        if len(self.classes_) == 2:
            return (y == self.classes_[1]).astype(dtype)[:, None]
        return (y[:, None] == self.classes_[None, :]).astype(dtype)

    def _constant(self, A, raw, Y, batch_size, mode, last_coef):
        return _nl.classifier_lipschitz(
            A, len(self.classes_), batch_size, mode=mode, alpha=self.alpha, last_coef=last_coef
        )

    def _guard_threshold(self, initial_loss):
        return max(initial_loss, math.log(len(self.classes_)))

    def _validation_score(self, Y_true, raw):
        if len(self.classes_) == 2:
            return accuracy_score(Y_true[:, 0] > 0.5, raw[:, 0] > 0)
        return accuracy_score(Y_true.argmax(axis=1), raw.argmax(axis=1))

    def _check_y(self, y):
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        return y

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the network to ``X`` and the class labels ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        X, y = self._validate_X_y(X, y, reset=True)
        y = self._check_y(y)
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(
                "SymNetClassifier needs samples of at least 2 classes in the data; got "
                f"1 class ({classes[0]!r})."
            )
        self._rng = check_random_state(self.random_state)
        if not self.warm_start or getattr(self, "classes_", None) is None or not np.array_equal(
            self.classes_, classes
        ):
            self.coefs_ = None
        self.classes_ = classes
        self.out_activation_ = "logistic" if len(classes) == 2 else "softmax"
        self._train_state = None
        X_val = Y_val = None
        if self.early_stopping:
            stratify = y if np.min(np.unique(y, return_counts=True)[1]) >= 2 else None
            X, X_val, y, y_val = train_test_split(
                X, y, test_size=self.validation_fraction, random_state=self._rng,
                stratify=stratify,
            )
            Y_val = self._encode(y_val, X.dtype)
        Y = self._encode(y, X.dtype)
        return self._run(X, Y, self._loss(), incremental=False, X_val=X_val, Y_val=Y_val)

    def partial_fit(self, X, y, classes=None):
        """Run one epoch on the given data (mini-batches of ``batch_size``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            All the classes; required on the first call.

        Returns
        -------
        self
        """
        first = getattr(self, "_train_state", None) is None or not hasattr(self, "classes_")
        if first:
            self._validate_params()
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            classes = np.unique(np.asarray(classes))
            if len(classes) < 2:
                raise ValueError(
                    f"SymNetClassifier needs at least 2 classes; got 1 class ({classes[0]!r})."
                )
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes={classes!r} is not the same as on the first call to partial_fit "
                f"({self.classes_!r})."
            )
        X, y = self._validate_X_y(X, y, reset=first)
        y = self._check_y(y)
        if first:
            self._rng = check_random_state(self.random_state)
            self.classes_ = classes
            self.out_activation_ = "logistic" if len(classes) == 2 else "softmax"
            self.coefs_ = None
            self._train_state = None
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if unknown.size:
            raise ValueError(f"y contains labels {unknown!r} not in classes {self.classes_!r}.")
        Y = self._encode(y, X.dtype)
        return self._run(X, Y, self._loss(), incremental=True)

    def decision_function(self, X):
        """Raw scores: shape (n_samples,) for two classes, else (n_samples, n_classes)."""
        raw = self._raw(X)
        return raw[:, 0] if len(self.classes_) == 2 else raw

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes)."""
        raw = self._raw(X)
        if len(self.classes_) == 2:
            p = expit(raw[:, 0])
            return np.column_stack([1.0 - p, p])
        return softmax(raw, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predicted class labels."""
        raw = self._raw(X)
        if len(self.classes_) == 2:
            return self.classes_[(raw[:, 0] > 0).astype(int)]
        return self.classes_[raw.argmax(axis=1)]


class SymNetRegressor(RegressorMixin, _BaseSymNet):
    __doc__ = (
        """Neural-network regressor trained at a learning rate computed from the data.

    A dense network (SBAF hidden units by default) with an identity output
    layer, one output per target (multi-target regression as in
    LipGene / D-GEX), trained on the mean loss plus an L2 term by
    (mini-batch) gradient descent at the rate ``1/L`` (LipschitzLR, LALR).
    ``hidden_layer_sizes=()`` is the linear model of
    :class:`~sklipschitz.LipschitzRegressor` (same engine).

    Parameters
    ----------
    loss : {'squared_error', 'absolute_error', 'log_cosh', 'quantile'}, default='squared_error'
        ``(y - r)^2 / 2``, ``|y - r|``, ``log cosh(y - r)`` or the pinball
        loss at level ``quantile``.
    quantile : float in (0, 1), default=0.5
        Level of the pinball loss."""
        + _COMMON_PARAMS_DOC
        + """
    Attributes
    ----------"""
        + _COMMON_ATTRS_DOC
        + """
    Examples
    --------
    >>> from sklearn.datasets import load_linnerud
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklipschitz import SymNetRegressor
    >>> X, Y = load_linnerud(return_X_y=True)
    >>> X, Y = StandardScaler().fit_transform(X), StandardScaler().fit_transform(Y)
    >>> reg = SymNetRegressor(loss="log_cosh", random_state=0).fit(X, Y)
    >>> reg.predict(X).shape
    (20, 3)
    """
    )

    _parameter_constraints: dict = {
        **_BaseSymNet._parameter_constraints,
        "loss": [StrOptions({"squared_error", "absolute_error", "log_cosh", "quantile"})],
        "quantile": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="sbaf",
        *,
        loss="squared_error",
        quantile=0.5,
        sbaf_k=0.91,
        sbaf_alpha=0.5,
        arelu_k=0.54,
        arelu_n=1.30,
        optimizer="sgd",
        learning_rate="lipschitz",
        batch_size="auto",
        alpha=1e-4,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        random_state=None,
        warm_start=False,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
        self.quantile = quantile
        self.sbaf_k = sbaf_k
        self.sbaf_alpha = sbaf_alpha
        self.arelu_k = arelu_k
        self.arelu_n = arelu_n
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    def _constant(self, A, raw, Y, batch_size, mode, last_coef):
        return _nl.regressor_lipschitz(
            A, raw, Y, get_regression_loss(self.loss, self.quantile), batch_size,
            mode=mode, alpha=self.alpha, last_coef=last_coef,
        )

    def _guard_threshold(self, initial_loss):
        return initial_loss

    def _validation_score(self, Y_true, raw):
        return r2_score(Y_true, raw)

    def _init_params(self, network, loss, Y, dtype, rng):
        coefs, intercepts = network.init_params(rng, dtype=dtype)
        # the output starts at the loss's best constant (mean, median,
        # quantile): an epoch worse than that predictor counts as diverging
        intercepts[-1][...] = np.asarray(
            loss.constant_raw(Y, np.ones(Y.shape[0], dtype=dtype)), dtype=dtype
        )
        return coefs, intercepts

    def _validate_y(self, X, y, reset):
        y = np.asarray(y, dtype=X.dtype)
        if not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinity.")
        if reset:
            self._y_ndim = y.ndim
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        return Y

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        self
        """
        X, y = self._validate_X_y(X, y, reset=True, multi_output=True, y_numeric=True)
        Y = self._validate_y(X, y, reset=True)
        self._rng = check_random_state(self.random_state)
        if not self.warm_start:
            self.coefs_ = None
        self._train_state = None
        self.out_activation_ = "identity"
        X_val = Y_val = None
        if self.early_stopping:
            X, X_val, Y, Y_val = train_test_split(
                X, Y, test_size=self.validation_fraction, random_state=self._rng
            )
        loss = get_regression_loss(self.loss, self.quantile)
        return self._run(X, Y, loss, incremental=False, X_val=X_val, Y_val=Y_val)

    def partial_fit(self, X, y):
        """Run one epoch on the given data (mini-batches of ``batch_size``).

        Returns
        -------
        self
        """
        first = getattr(self, "_train_state", None) is None
        if first:
            self._validate_params()
        X, y = self._validate_X_y(X, y, reset=first, multi_output=True, y_numeric=True)
        Y = self._validate_y(X, y, reset=first)
        if first:
            self._rng = check_random_state(self.random_state)
            self.coefs_ = None
            self.out_activation_ = "identity"
        elif Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} targets, but the model was fitted with {self.n_outputs_}."
            )
        loss = get_regression_loss(self.loss, self.quantile)
        return self._run(X, Y, loss, incremental=True)

    def predict(self, X):
        """Predicted targets, shape (n_samples,) or (n_samples, n_targets)."""
        raw = self._raw(X)
        return raw[:, 0] if self._y_ndim == 1 else raw

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
