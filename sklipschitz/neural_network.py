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

from numbers import Real
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets

from ._base import as_target
from ._engine import network_lipschitz as _nl
from ._engine.activations import make_activation  # noqa: F401 (the one registry)
from ._engine.losses import BinomialLoss, MultinomialLoss, get_regression_loss
from ._symnet_base import _COMMON_ATTRS_DOC, _COMMON_PARAMS_DOC, _LAYERS_DOC, _BaseSymNet

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


def _mlp_mapping(mlp):
    """The start of the See Also entry of scikit-learn's ``mlp`` (how its
    parameters map to ours), shared by the two estimators' docstrings."""
    return f"""
    sklearn.neural_network.{mlp} : The network this one replaces;
        its ``learning_rate_init`` (and ``learning_rate`` schedule) is
        computed here (``learning_rate='lipschitz'``; a float is its
        ``learning_rate='constant', learning_rate_init=float``).
        ``optimizer`` is its ``solver`` ('sgd', 'adam'; 'momentum' is its
        'sgd' with ``momentum``). ``alpha`` here is the L2 penalty on the mean
        loss of a batch, while {mlp} divides its penalty by the batch's
        sample count (the sum of its sample weights):
        ``alpha_MLP = alpha * batch_size`` (``n_samples`` for full batches)
        gives the same objective."""


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
        + _LAYERS_DOC
        + _COMMON_PARAMS_DOC
        + """
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes in the mean loss, ``{class_label: weight}``;
        'balanced' is ``n_samples / (n_classes * count)`` (in ``partial_fit``
        from the counts of the first call).  Multiplies ``sample_weight``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)"""
        + _COMMON_ATTRS_DOC
        + """
    See Also
    --------"""
        + _mlp_mapping("MLPClassifier")
        + """ ``hidden_layer_sizes``,
        ``activation`` (plus 'sbaf' and 'arelu'), ``batch_size``,
        ``max_iter``, ``tol``, ``n_iter_no_change``, ``early_stopping``,
        ``validation_fraction``, ``shuffle``, ``random_state``,
        ``warm_start`` and ``verbose`` have its meaning.
    LipschitzQuantileClassifier : A linear classifier with
        quantile-based probabilities and confidence.
    SymNetRegressor : The regressor of the same engine.

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

    _parameter_constraints: dict = {
        **_BaseSymNet._parameter_constraints,
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }

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
        progress_tol=0.01,
        evidence_tol=None,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        random_state=None,
        warm_start=False,
        verbose=0,
        class_weight=None,
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
        self.progress_tol = progress_tol
        self.evidence_tol = evidence_tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.class_weight = class_weight

    # -- targets -------------------------------------------------------------------

    def _loss(self):
        return BinomialLoss() if len(self.classes_) == 2 else MultinomialLoss()

    def _encode(self, y, dtype):
        if len(self.classes_) == 2:
            return (y == self.classes_[1]).astype(dtype)[:, None]
        return (y[:, None] == self.classes_[None, :]).astype(dtype)

    def _paper_constant(self, A, raw, Y, batch_size, last_coef):
        return _nl.classifier_lipschitz(
            A, len(self.classes_), batch_size, alpha=self.alpha, last_coef=last_coef
        )

    def _penalty_scale(self, loss, Y, sw):
        """``H / log 2``, ``H`` the entropy of the (weighted) class
        frequencies: the loss of the constant predictor, the scale of the
        cross-entropy, so that ``alpha`` weighs against the loss the same at
        any class balance and any number of classes (``alpha`` as given for
        two balanced classes).  With one positive in 5,000 rows ``H`` is
        0.0019, and the L2 term of ``alpha=1e-4`` outweighed the whole loss:
        it drove the hidden weights to zero (the constant predictor, AUC
        0.5).  Five balanced classes (``H = log 5``) take 2.32 ``alpha``:
        three SBAF layers of 32 on a 5-class problem of 2,000 training rows
        overfit at ``alpha`` itself (over three seeds: training accuracy
        0.98, test 0.706; 0.736 with the scale; the tuned MLP 0.742)."""
        from ._symnet_base import _constant_loss

        return _constant_loss(loss, Y, sw) / float(np.log(2.0))

    def _stream_prior(self, Y, sw):
        """The first ``partial_fit`` call's class frequencies with one
        pseudo-row per class (Laplace's rule of succession).

        The output of a stream starts at their log-odds.  The exact
        frequencies of a first call of one row (or of rows of one class) are
        0 and 1: the output started at ``logit(1e-12) = -27.6``, where the
        cross-entropy has no gradient and almost no curvature, so the first
        row of the other class came with a residual of 1 at rates computed
        for that flat point, and its step saturated the hidden units (three
        SBAF layers of 32 on breast cancer: the majority class after 300
        one-row calls).
        """
        w = sw.astype(np.float64)
        w = w / w.mean() if w.sum() > 0 else np.ones_like(w)
        n_classes = len(self.classes_)
        counts = w @ Y.astype(np.float64)
        prior = (counts + 1.0) / (w.sum() + n_classes)
        return np.broadcast_to(prior.astype(Y.dtype), Y.shape)

    def _validation_score(self, Y_true, raw):
        if len(self.classes_) == 2:
            return accuracy_score(Y_true[:, 0] > 0.5, raw[:, 0] > 0)
        return accuracy_score(Y_true.argmax(axis=1), raw.argmax(axis=1))

    def _check_y(self, y):
        if not (type(y) is np.ndarray and y.ndim == 1):
            y = column_or_1d(y, warn=True)
        n = y.shape[0]
        if not (y.dtype.kind in "iub" and (n <= 20 or np.unique(y).shape[0] <= round(0.5 * n))):
            # (1-D integer and boolean labels are 'binary' or 'multiclass' targets,
            # which the check accepts; it warns only when more than half of over
            # 20 labels are distinct.  It costs most of a one-row partial_fit's checks)
            check_classification_targets(y)
        return y

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> SymNetClassifier:
        """Fit the network to ``X`` and the class labels ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The training samples.
        y : array-like of shape (n_samples,)
            Their class labels (at least two classes).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the mean loss (multiplied by the
            ``class_weight`` of their class).

        Returns
        -------
        self : SymNetClassifier
            The fitted estimator.
        """
        X, y = self._validate_X_y(X, y, reset=True)
        y = self._check_y(y)
        sw = self._check_weights(sample_weight, X)
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
        self._class_weight = self._class_weights(y)
        sw = sw * self._class_weight[np.searchsorted(classes, y)].astype(X.dtype)
        X_val = Y_val = None
        if self.early_stopping:
            stratify = y if np.min(np.unique(y, return_counts=True)[1]) >= 2 else None
            try:
                X, X_val, y, y_val, sw, _ = train_test_split(
                    X, y, sw, test_size=self.validation_fraction, random_state=self._rng,
                    stratify=stratify,
                )
            except ValueError as exc:
                raise ValueError(
                    f"early_stopping cannot hold out validation_fraction="
                    f"{self.validation_fraction} of {len(y)} samples ({len(classes)} "
                    f"classes): {exc}. Use more samples, a larger validation_fraction, or "
                    "early_stopping=False."
                ) from exc
            Y_val = self._encode(y_val, X.dtype)
        Y = self._encode(y, X.dtype)
        return self._run(X, Y, sw, self._loss(), incremental=False, X_val=X_val, Y_val=Y_val)

    def _class_weights(self, y):
        """One weight per class in ``classes_`` (1 without ``class_weight``).

        'balanced' is ``n / (n_classes * count)`` over ``y``; a class absent
        from ``y`` (possible on the first call to ``partial_fit``) gets the
        largest weight of the present ones.
        """
        cw = self.class_weight
        weights = np.ones(len(self.classes_))
        if cw is None:
            return weights
        if isinstance(cw, str):
            counts = np.array([np.sum(y == c) for c in self.classes_], dtype=float)
            present = counts > 0
            weights[present] = len(y) / (present.sum() * counts[present])
            weights[~present] = weights[present].max()
            return weights
        unknown = [k for k in cw if k not in set(self.classes_.tolist())]
        if unknown:
            raise ValueError(
                f"class_weight has keys {unknown!r} that are not classes ({self.classes_!r})."
            )
        for j, c in enumerate(self.classes_):
            weights[j] = float(cw.get(c, 1.0))
        if np.any(weights < 0) or not np.all(np.isfinite(weights)):
            raise ValueError(f"class_weight must be finite and >= 0, got {cw!r}.")
        return weights

    def partial_fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        classes: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
    ) -> SymNetClassifier:
        """Run one epoch on the given data (mini-batches of ``batch_size``).

        Calls of fewer rows than ``batch_size`` take a decaying rate (the
        computed rate divided by ``sqrt(k)`` at the ``k``-th such call) and
        the loss's largest curvature.  The first call's class frequencies,
        with one pseudo-row per class, start the output.  Each call's rows
        are scored before the update on them: a stream that, after 200 rows
        in 10 calls, scores no better than the class frequencies of the
        earlier rows raises a ``ConvergenceWarning`` (once).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The chunk's samples.
        y : array-like of shape (n_samples,)
            Their class labels.
        classes : array-like of shape (n_classes,), default=None
            All the classes; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the chunk's samples.
            ``class_weight='balanced'`` takes the class frequencies of the
            first call and keeps them.  A chunk of total weight zero (with
            the class weights) carries no information: the call checks it
            (and, on the first call, sets ``classes_``) and leaves the model
            as it was.

        Returns
        -------
        self : SymNetClassifier
            The updated estimator.
        """
        first = getattr(self, "_train_state", None) is None or not hasattr(self, "classes_")
        opened = first and self._stream_is_open(first) and hasattr(self, "classes_")
        if opened:  # earlier calls, of total weight zero, set the classes
            self._validate_params()
            first = False
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
        sw = self._check_weights(sample_weight, X, allow_zero=True)
        if first:
            self.classes_ = classes
            self._train_state = None
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(f"y contains labels {unknown!r} not in classes {self.classes_!r}.")
        start = first or opened
        class_weight = self._class_weights(y) if start else self._class_weight
        sw = sw * class_weight[np.searchsorted(self.classes_, y)].astype(X.dtype)
        if self._skip_empty_chunk(start, sw):
            return self
        if start:
            self._rng = check_random_state(self.random_state)
            self.out_activation_ = "logistic" if len(self.classes_) == 2 else "softmax"
            self.coefs_ = None
            self._class_weight = class_weight
        Y = self._encode(y, X.dtype)
        return self._run(X, Y, sw, self._loss(), incremental=True)

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """Raw scores of the output layer (before the logistic or softmax).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            One score per sample for two classes, else one per class.
        """
        raw = self._raw(X)
        return raw[:, 0] if len(self.classes_) == 2 else raw

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The probability of each class, in the order of ``classes_``.
        """
        raw = self._raw(X)
        if len(self.classes_) == 2:
            p = expit(raw[:, 0])
            return np.column_stack([1.0 - p, p])
        return softmax(raw, axis=1)

    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`, computed in log space.

        ``log_expit`` / ``log_softmax`` of the raw scores: finite for every
        finite score (the logarithm of a probability that rounds to 0 is
        still the exact, large negative number).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The log-probability of each class, in the order of ``classes_``.
        """
        raw = self._raw(X)
        if len(self.classes_) == 2:
            r = raw[:, 0]
            return np.column_stack([log_expit(-r), log_expit(r)])
        return log_softmax(raw, axis=1)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            The most probable class of each sample.
        """
        raw = self._raw(X)
        if len(self.classes_) == 2:
            return self.classes_[(raw[:, 0] > 0).astype(int)]
        return self.classes_[raw.argmax(axis=1)]


#: ``partial_fit`` with ``normalize_y``: the target statistics are those of
#: the first call, or of the first calls until they hold this many rows
#: (one row has no spread: the scale would be 1, in the units of y)
_STAT_ROWS = 30


def _target_moments(Y, sw):
    """``(rows, weight, mean, M2)`` of the targets (weighted, per column, float64)."""
    w = sw.astype(np.float64)
    weight = float(w.sum())
    mean = (w @ Y.astype(np.float64)) / weight
    m2 = w @ (Y.astype(np.float64) - mean) ** 2
    return Y.shape[0], weight, mean, m2


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
    ----------"""
        + _LAYERS_DOC
        + """    loss : {'squared_error', 'absolute_error', 'log_cosh', 'quantile'}, \
default='squared_error'
        ``(y - r)^2 / 2``, ``|y - r|``, ``log cosh(y - r)`` or the pinball
        loss at level ``quantile``.
    quantile : float in (0, 1), default=0.5
        Level of the pinball loss."""
        + _COMMON_PARAMS_DOC
        + """    normalize_y : bool, default=True
        Train on each target minus its (weighted) mean, divided by its
        standard deviation, and undo the scaling in ``predict``: the fit and
        the learning rate do not depend on the units of ``y``.  ``loss_``,
        ``loss_curve_`` and ``alpha`` refer to the scaled targets.
        ``partial_fit`` takes the statistics of its first call and keeps
        them.  With ``learning_rate='paper'`` the published rule is computed
        on the targets the network is trained on (``False`` to reproduce
        published runs on raw targets).
    average_weights : bool or 'auto', default='auto'
        End a mini-batch ``fit`` on the bias-corrected exponential moving
        average of the weights of its epochs (decay 0.95 per epoch) instead
        of the last epoch's weights (kept instead if the average fits the
        training data no better than the constant predictor).
        ``'auto'``: when the network has more weights than there are target
        values (``n_samples * n_outputs``) and the stopping rule ended the
        fit -- a small data set, where the last epochs mostly fit noise
        (diabetes, 295 training rows: test R^2 of relu ``(64, 64)`` 0.413
        without, 0.442 with).  Not used with ``early_stopping``, full-batch
        fits or ``partial_fit``.

    Attributes
    ----------"""
        + _COMMON_ATTRS_DOC
        + """
    See Also
    --------"""
        + _mlp_mapping("MLPRegressor")
        + """ ``loss='squared_error'`` is
        its loss; ``normalize_y=True`` is
        ``TransformedTargetRegressor(MLPRegressor(), transformer=StandardScaler())``.
        The other shared parameters (``hidden_layer_sizes``, ``activation``,
        ``batch_size``, ``max_iter``, ``tol``, ``n_iter_no_change``,
        ``early_stopping``, ``validation_fraction``, ``shuffle``,
        ``random_state``, ``warm_start``, ``verbose``) have its meaning.
    LipschitzRegressor : The linear model, with an exact full-batch solver.
    SymNetClassifier : The classifier of the same engine.

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
        "normalize_y": ["boolean"],
        "average_weights": ["boolean", StrOptions({"auto"})],
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
        progress_tol=0.01,
        evidence_tol=None,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        random_state=None,
        warm_start=False,
        verbose=0,
        normalize_y=True,
        average_weights="auto",
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
        self.progress_tol = progress_tol
        self.evidence_tol = evidence_tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.normalize_y = normalize_y
        self.average_weights = average_weights

    def _averaging(self, n, n_outputs, network):
        if self.average_weights == "auto":
            sizes = network.layer_sizes
            n_weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
            return "auto" if n_weights > n * n_outputs else False
        return bool(self.average_weights)

    def _paper_constant(self, A, raw, Y, batch_size, last_coef):
        return _nl.regressor_lipschitz(
            A, raw, Y, get_regression_loss(self.loss, self.quantile), batch_size,
            alpha=self.alpha, last_coef=last_coef,
        )

    def _validation_score(self, Y_true, raw):
        return r2_score(Y_true, raw)

    def _settle_constant_targets(self, state, Y, sw):
        """Outputs whose targets are one value on every weighted row get that
        value exactly: zero weights into the output and the value as its
        intercept, the optimum of the loss (zero) and of the L2 term for that
        output (gradient steps only approach it, from the random start)."""
        # a stream that continues a fit does not report settled outputs (steps
        # from a settled output on the same value leave it there)
        self._stream_constant = None
        rows = Y[sw > 0]
        constant = np.all(rows == rows[:1], axis=0)
        if np.any(constant):
            W, b = state.coefs[-1], state.intercepts[-1]
            W[:, constant] = 0
            b[constant] = rows[0, constant]

    def _track_constant_targets(self, Y, sw, first):
        """``partial_fit``: per output, the one value of every weighted target
        of the stream so far, NaN once two differ (or after a ``fit``)."""
        rows = Y[sw > 0]
        same = np.all(rows == rows[:1], axis=0)
        value = np.where(same, rows[0].astype(np.float64), np.nan)
        if not first:
            kept = getattr(self, "_stream_constant", None)
            value = np.where(value == kept, value, np.nan) if kept is not None else (
                np.full_like(value, np.nan))
        self._stream_constant = value

    def _validate_y(self, X, y, reset):
        y = as_target(y, X.dtype)
        if reset:
            self._y_ndim = y.ndim
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        return Y

    def _update_target_scaling(self, Y, sw):
        """The statistics of every target seen so far (``partial_fit`` while
        fewer than ``_STAT_ROWS`` rows have been seen), with the output layer
        re-expressed so that the predictions do not change."""
        rows, weight, mean, m2 = self._y_seen
        c_rows, c_weight, c_mean, c_m2 = _target_moments(Y, sw)
        if not c_weight > 0:
            return
        total = weight + c_weight
        delta = c_mean - mean
        mean = mean + delta * (c_weight / total)
        m2 = m2 + c_m2 + delta ** 2 * (weight * c_weight / total)
        self._y_seen = (rows + c_rows, total, mean, m2)
        std = np.sqrt(m2 / total)
        std = np.where(std > 1e-12 * np.maximum(np.abs(mean), 1.0), std, 1.0)
        new_mean, new_scale = mean.astype(Y.dtype), std.astype(Y.dtype)
        old_mean, old_scale = self._y_mean, self._y_scale
        # raw_new = (raw_old * old_scale + old_mean - new_mean) / new_scale
        outputs = [(self._train_state.coefs[-1], self._train_state.intercepts[-1])]
        if self.coefs_[-1] is not outputs[0][0]:  # the reported model's settled copy
            outputs.append((self.coefs_[-1], self.intercepts_[-1]))
        for W, b in outputs:
            W *= (old_scale / new_scale).astype(W.dtype)
            b[...] = (b * old_scale + old_mean - new_mean) / new_scale
        self._y_mean, self._y_scale = new_mean, new_scale

    def _target_scaling(self, Y, sw):
        """Per-target weighted mean and standard deviation (0 and 1 when off)."""
        if not self.normalize_y:
            return np.zeros(Y.shape[1], dtype=Y.dtype), np.ones(Y.shape[1], dtype=Y.dtype)
        w = sw.astype(np.float64) / float(sw.sum())
        mean = w @ Y.astype(np.float64)
        std = np.sqrt(w @ (Y.astype(np.float64) - mean) ** 2)
        std = np.where(std > 1e-12 * np.maximum(np.abs(mean), 1.0), std, 1.0)
        return mean.astype(Y.dtype), std.astype(Y.dtype)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> SymNetRegressor:
        """Fit the network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The training samples.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            The targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples in the mean loss.

        Returns
        -------
        self : SymNetRegressor
            The fitted estimator.
        """
        X, y = self._validate_X_y(X, y, reset=True, multi_output=True, y_numeric=True)
        Y = self._validate_y(X, y, reset=True)
        sw = self._check_weights(sample_weight, X)
        self._rng = check_random_state(self.random_state)
        if not self.warm_start:
            self.coefs_ = None
        self._train_state = None
        self.out_activation_ = "identity"
        self._y_mean, self._y_scale = self._target_scaling(Y, sw)
        Y = (Y - self._y_mean) / self._y_scale
        X_val = Y_val = None
        if self.early_stopping:
            # the held-out part is scored by R^2, which needs two samples
            n_val = int(np.ceil(self.validation_fraction * X.shape[0]))
            if n_val < 2 or X.shape[0] - n_val < 1:
                raise ValueError(
                    f"early_stopping scores R^2 on the held-out part, which needs at least "
                    f"2 samples (and 1 left to train on); validation_fraction="
                    f"{self.validation_fraction} of {X.shape[0]} samples holds out {n_val}. "
                    "Use more samples, a larger validation_fraction, or early_stopping=False."
                )
            X, X_val, Y, Y_val, sw, _ = train_test_split(
                X, Y, sw, test_size=self.validation_fraction, random_state=self._rng
            )
        loss = get_regression_loss(self.loss, self.quantile)
        return self._run(X, Y, sw, loss, incremental=False, X_val=X_val, Y_val=Y_val)

    def partial_fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> SymNetRegressor:
        """Run one epoch on the given data (mini-batches of ``batch_size``).

        With ``normalize_y`` the first call's target mean and standard
        deviation scale the targets of every later call (they are kept, not
        updated); when the first call has fewer than 30 rows, they are those
        of all the targets seen, updated (the output layer re-expressed, the
        predictions unchanged) until 30 rows have been seen.  Calls of fewer
        rows than ``batch_size`` take a decaying rate (the computed rate
        divided by ``sqrt(k)`` at the ``k``-th such call).  Each call's rows
        are scored before the update on them: a stream that, after 200 rows
        in 10 calls, scores no better than the best constant of the earlier
        rows' targets raises a ``ConvergenceWarning`` (once).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The chunk's input samples.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            The chunk's targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the chunk's samples.  A chunk of total
            weight zero carries no information: the call checks it and
            leaves the model as it was.

        Returns
        -------
        self : SymNetRegressor
            The updated estimator.
        """
        first = self._is_first_partial_call()
        X, y = self._validate_X_y(X, y, reset=first and not self._stream_is_open(first),
                                  multi_output=True, y_numeric=True)
        Y = self._validate_y(X, y, reset=first)
        sw = self._check_weights(sample_weight, X, allow_zero=True)
        if not first and Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} targets, but the model was fitted with {self.n_outputs_}."
            )
        if self._skip_empty_chunk(first, sw):
            return self
        if first:
            self._rng = check_random_state(self.random_state)
            self.coefs_ = None
            self.out_activation_ = "identity"
            self._y_seen = _target_moments(Y, sw) if self.normalize_y else None
            self._y_mean, self._y_scale = self._target_scaling(Y, sw)
        elif getattr(self, "_y_seen", None) is not None:
            self._update_target_scaling(Y, sw)
        self._track_constant_targets(Y, sw, first)
        if getattr(self, "_y_seen", None) is not None and self._y_seen[0] >= _STAT_ROWS:
            self._y_seen = None  # the statistics are fixed from now on
        Y = ((Y - self._y_mean) / self._y_scale).astype(X.dtype, copy=False)
        loss = get_regression_loss(self.loss, self.quantile)
        self._run(X, Y, sw, loss, incremental=True)
        self._report_constant_targets(Y, sw)
        return self

    def _report_constant_targets(self, Y, sw):
        """``partial_fit``: the reported model (``coefs_``, ``intercepts_``)
        predicts the outputs whose targets have been one value on every
        weighted row of the stream so far exactly (as :meth:`fit` does:
        zero weights into the output, the value as its intercept).  The
        training state keeps its own weights: zero weights into an output
        would stop the gradient to the hidden layers once the target varies."""
        kept = getattr(self, "_stream_constant", None)
        constant = np.zeros(Y.shape[1], dtype=bool) if kept is None else ~np.isnan(kept)
        if not np.any(constant):
            return
        W, b = self.coefs_[-1].copy(), self.intercepts_[-1].copy()
        W[:, constant] = 0
        b[constant] = Y[sw > 0][0, constant]
        self.coefs_ = [*self.coefs_[:-1], W]
        self.intercepts_ = [*self.intercepts_[:-1], b]

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted targets, in the units of ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            One column per target when ``y`` had several.
        """
        raw = self._raw(X) * self._y_scale + self._y_mean
        return raw[:, 0] if self._y_ndim == 1 else raw

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
