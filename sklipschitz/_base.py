"""What every estimator of the package shares: parameter constraints built
from the engine's registries, input checks, the ``partial_fit`` first-call
logic and the fitted attributes of a training run."""

from __future__ import annotations

import inspect
import math
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._engine.losses import REGRESSION_LOSSES
from ._engine.network import DenseNetwork
from ._engine.state import TAG, from_plain, is_plain_state, to_plain

# scikit-learn versions that reject all-zero weights take a flag to accept them
_ZERO_WEIGHTS_CHECKED = "allow_all_zero_weights" in inspect.signature(
    _check_sample_weight).parameters

def warn_class_ordered_stream(n_unlike, n_chunks, model="model"):
    """The ``ConvergenceWarning`` of a ``partial_fit`` stream ordered by class:
    ``n_unlike`` of its ``n_chunks`` chunks had class shares far from those of
    the rows seen before them (each classifier counts them, with its own
    thresholds)."""
    warnings.warn(
        f"{n_unlike} of {n_chunks} partial_fit chunks so far have class shares far "
        "from those of the rows seen before them (chunks sorted by class, or "
        f"classes arriving late): the {model} follows the latest chunks and may "
        "stay far from a fit on all the rows. Shuffle the rows across chunks.",
        ConvergenceWarning,
    )


#: the learning-rate modes every estimator understands ('local' only where noted)
RATE_MODES = {"lipschitz", "paper", "local"}


def learning_rate_constraint(modes=RATE_MODES):
    return [StrOptions(set(modes)), Interval(Real, 0, None, closed="neither")]


#: constraints of the parameters the estimators share
COMMON_CONSTRAINTS = {
    "alpha": [Interval(Real, 0, None, closed="left")],
    "fit_intercept": ["boolean"],
    "learning_rate": learning_rate_constraint(),
    "batch_size": [Interval(Integral, 1, None, closed="left"), None],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "shuffle": ["boolean"],
    "random_state": ["random_state"],
    "warm_start": ["boolean"],
    "verbose": ["verbose"],
}

REGRESSION_LOSS_CONSTRAINT = [StrOptions(set(REGRESSION_LOSSES))]
QUANTILE_CONSTRAINT = [Interval(Real, 0, 1, closed="neither")]


def constraints(*names, **extra):
    """The shared constraints of ``names``, plus ``extra``."""
    out = {name: COMMON_CONSTRAINTS[name] for name in names}
    out.update(extra)
    return out


def _finite(a):
    """Whether every entry of the float array ``a`` is finite (a sum of
    finite values is finite unless it overflows; NaN and infinities
    propagate)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(a.sum()))


def _plain_y(y, X):
    """Whether ``validate_data`` would hand the targets ``y`` back as they are
    (values unchanged): a 1-D ndarray (no subclass) of integers, booleans or
    finite floats, one per row of ``X``."""
    if not (type(y) is np.ndarray and y.ndim == 1 and y.dtype.kind in "iubf"
            and y.shape[0] == getattr(X, "shape", (None,))[0]):
        return False
    return y.dtype.kind != "f" or _finite(y)


class LipschitzEstimator(BaseEstimator):
    """Base of the estimators: input checks and the fitted attributes."""

    #: accepted dtypes of X (others are converted to the first)
    _dtypes = [np.float64, np.float32]

    @classmethod
    def _get_param_names(cls):
        """The parameter names of ``__init__`` (``BaseEstimator``'s), read
        once per class: ``get_params`` (every ``clone``, every parameter
        validation of ``fit``) otherwise inspects the signature each time,
        about 0.1 ms for the many parameters of these estimators."""
        names = cls.__dict__.get("_param_names")
        if names is None:
            names = tuple(super()._get_param_names())
            cls._param_names = names
        return list(names)

    def _validate_X(self, X, *, reset):
        if self._plain_X(X, reset):
            return X
        X = validate_data(self, X, reset=reset, accept_sparse=["csr", "csc"], dtype=self._dtypes)
        return X.tocsr() if sp.issparse(X) else X

    def _validate_X_y(self, X, y, *, reset, **kw):
        # (multi_output and y_numeric change nothing in a plain 1-D y)
        if set(kw) <= {"multi_output", "y_numeric"} and _plain_y(y, X) and self._plain_X(
                X, reset):
            return X, y
        X, y = validate_data(
            self, X, y, reset=reset, accept_sparse=["csr", "csc"], dtype=self._dtypes, **kw
        )
        return (X.tocsr() if sp.issparse(X) else X), y

    def _plain_X(self, X, reset):
        """Whether ``validate_data`` would hand ``X`` back as it is, without
        a message: a finite 2-D ndarray (no subclass, no feature names) of at
        least one sample and one feature in one of the accepted dtypes (in
        the machine's byte order), with the number of features of the fit
        (``reset=False``; ``reset=True`` then sets ``n_features_in_`` and
        drops a previous fit's ``feature_names_in_`` as it does).  Every
        other input goes through ``validate_data``, which converts it or
        raises its own error; this only skips its cost (a fraction of a
        millisecond per call, which on small data sets is a good part of a
        ``predict``)."""
        if not (type(X) is np.ndarray and X.ndim == 2 and X.shape[0] > 0 and X.shape[1] > 0
                and any(X.dtype == dtype for dtype in self._dtypes)):
            return False
        if reset:
            if not _finite(X):
                return False
            self.n_features_in_ = X.shape[1]
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            return True
        return (X.shape[1] == getattr(self, "n_features_in_", None)
                and getattr(self, "feature_names_in_", None) is None and _finite(X))

    @staticmethod
    def _check_weights(sample_weight, X, factor=None, allow_zero=False):
        """Non-negative, finite weights in X's dtype, times ``factor`` (class
        weights); at least one must be positive, unless ``allow_zero``
        (``partial_fit``: a chunk of total weight zero is a no-op)."""
        kw = {"allow_all_zero_weights": True} if allow_zero and _ZERO_WEIGHTS_CHECKED else {}
        sw = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True, **kw)
        if not np.all(np.isfinite(sw)):
            raise ValueError("sample_weight contains NaN or infinity.")
        if factor is not None:
            sw = sw * factor.astype(sw.dtype)
        if not allow_zero and sw.sum() <= 0:
            raise ValueError(
                "sample_weight sums to zero: at least one sample needs a positive weight."
            )
        return sw

    def _linear_scores(self, X):
        """``X W + b`` of a fitted linear model, one column per output."""
        check_is_fitted(self, "_coef_matrix")
        X = self._validate_X(X, reset=False)
        return np.asarray(X @ self._coef_matrix + self._intercept_vector)

    def _is_first_partial_call(self):
        """True on the first ``partial_fit`` call (then the parameters are validated)."""
        first = getattr(self, "_train_state", None) is None
        if first:
            self._validate_params()
        return first

    def _stream_is_open(self, first):
        """Whether this first training call of ``partial_fit`` follows calls
        whose chunks all had total weight zero: those set ``n_features_in_``
        (and ``classes_``), which this call then checks instead of resetting."""
        return first and getattr(self, "_empty_stream", False)

    def _skip_empty_chunk(self, first, sw):
        """True when ``partial_fit``'s chunk has total weight zero: it carries
        no information, so the call ends after its checks, leaving the model
        as it was (unfitted when no chunk has had weight yet)."""
        if sw.sum() > 0:
            self._empty_stream = False
            return False
        if first:
            self._empty_stream = True
        return True

    def _reset_training(self, keep_weights):
        """Forget the training state of a previous fit (``fit`` starts anew)."""
        self._train_state = None
        if not keep_weights and hasattr(self, "_coef_matrix"):
            del self._coef_matrix

    def _set_fitted(self, state, loss_value):
        """The attributes every fit sets, from a finished training state."""
        self._train_state = state
        self.n_iter_ = int(state.n_iter)
        self.loss_curve_ = [float(v) for v in state.loss_curve]
        self.learning_rate_history_ = [float(v) for v in state.learning_rate_history]
        self.lipschitz_constant_ = float(state.lipschitz)
        self.loss_ = float(loss_value)
        if not math.isfinite(self.loss_):  # pragma: no cover - guarded by the loop
            raise FloatingPointError("training produced a non-finite loss")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- saving and loading ------------------------------------------------------
    # The training state that continuing a fit needs (the loop's state, the step
    # rule, the update, the power iterations, the penalty) lives in objects of the
    # engine's private classes.  Saved (pickle, joblib, skops, copy), every private
    # attribute is replaced by plain values (_engine.state.to_plain: numbers,
    # arrays, lists and string-keyed dicts, engine objects as tagged dicts) and a
    # network by its layer sizes and activation, so a saved estimator names no
    # private class; loading rebuilds them from the engine's closed registry.

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: the live __dict__ stays whole
        for key, value in state.items():
            if not key.startswith("_") or key.startswith("__"):
                continue
            if isinstance(value, DenseNetwork):
                state[key] = {TAG: "network", "layer_sizes": [int(s) for s in value.layer_sizes],
                              "activation": to_plain(value.activation)}
            else:
                state[key] = to_plain(value)
        return state

    def __setstate__(self, state):
        state = dict(state)
        networks = {}
        for key, value in state.items():
            if not key.startswith("_") or key.startswith("__"):
                continue
            if is_plain_state(value, "network"):
                networks[key] = value
            elif isinstance(value, (list, dict)):
                state[key] = from_plain(value)
        for key in networks:
            del state[key]
        super().__setstate__(state)
        for key, network in networks.items():
            activation = from_plain(network.get("activation"))
            setattr(self, key, self._rebuild_network(network.get("layer_sizes"), activation))

    def _rebuild_network(self, layer_sizes, activation):
        """The network a loaded estimator predicts with, from its layer sizes."""
        raise ValueError(f"{type(self).__name__} keeps no network")


#: targets beyond ``sqrt(largest float) * TARGET_MARGIN`` are refused: their
#: squares (the squared and Huber losses, the targets' variance), summed over
#: up to 1e8 rows, would overflow
TARGET_MARGIN = 1e-4


def as_target(y, dtype):
    """The regression targets ``y`` (already checked finite) in ``dtype``, X's.

    Raises a ValueError naming the magnitude when the targets are too large
    for the losses in ``dtype`` (they would overflow to inf or NaN inside the
    fit, or cast to inf for float32).
    """
    y = np.asarray(y)
    if y.dtype.kind not in "fiub":  # strings, objects: numbers or a ValueError
        y = y.astype(np.float64)
    limit = math.sqrt(float(np.finfo(dtype).max)) * TARGET_MARGIN
    with np.errstate(over="ignore", invalid="ignore"):
        top = float(np.max(np.abs(y))) if y.size else 0.0
    if not math.isfinite(top):
        raise ValueError("y contains NaN or infinity.")
    if top > limit:
        hint = (" (y is converted to X's dtype, float32: pass X as float64 for targets "
                "up to ~1e150)") if np.dtype(dtype) == np.float32 else ""
        raise ValueError(
            f"y has entries of magnitude up to {top:.3g}, beyond the {limit:.3g} that "
            f"the losses can square in {np.dtype(dtype).name} without overflow{hint}. "
            "Rescale y, e.g. divide it by its standard deviation."
        )
    return y.astype(dtype, copy=False)


def check_feature_magnitude(X, power=2):
    """A ValueError when sums of ``power``-th powers of ``X`` overflow its dtype.

    The curvature bound of every rate, the moments that scale the design and
    the scores of a gradient step add up squares of the features (``power=2``:
    entries of magnitude ``m`` over ``n`` rows overflow once ``n m^2`` exceeds
    the dtype's largest value, about ``1e154`` in float64 for a few hundred
    rows); a network's constants multiply the Gram matrix of its activations
    by squared weight norms of the same scale (``power=4``: about ``1e76``).
    Beyond that the fit would end on NaN, an eigenvalue error or a KeyError
    deep in the power iterations.
    """
    data = X.data if hasattr(X, "data") and not isinstance(X, np.ndarray) else X
    if data.size == 0:
        return
    top = float(np.max(np.abs(data)))
    limit = float((np.finfo(X.dtype).max / max(X.shape[0], 1)) ** (1.0 / power))
    if top > limit:
        raise ValueError(
            f"X contains values of magnitude {top:.3g}: sums of their {power}th powers over "
            f"{X.shape[0]} samples overflow {X.dtype} (largest magnitude that fits: "
            f"{limit:.3g}). Rescale the features (e.g. StandardScaler)."
        )


def divergence_hint(learning_rate):
    """What a user can do after a diverging fit with this ``learning_rate``."""
    if not isinstance(learning_rate, str):
        return (
            f"The learning rate {learning_rate!r} is too large for this data: use the "
            "default learning_rate='lipschitz' or a smaller value."
        )
    if learning_rate == "paper":
        return (
            "The published constant is not a valid step size for this data: use the "
            "default learning_rate='lipschitz'."
        )
    return ""
