"""``partial_fit`` on a chunk of total weight zero: a no-op after its checks.

The reference is a twin estimator that never saw the chunk: the two must
agree exactly.  ``fit`` with all-zero weights keeps raising (nothing to fit).
"""
import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils import compute_class_weight

from sklipschitz.linear_model import LipschitzQuantileClassifier, LipschitzRegressor
from sklipschitz.neural_network import SymNetClassifier, SymNetRegressor

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 3))
Y_REG = X @ np.array([1.0, 2.0, 3.0])
Y_CLS = (X[:, 0] > 0).astype(int)

CASES = [
    (LipschitzRegressor, Y_REG, {}),
    (LipschitzQuantileClassifier, Y_CLS, {"classes": [0, 1]}),
    (SymNetClassifier, Y_CLS, {"classes": [0, 1]}),
    (SymNetRegressor, Y_REG, {}),
]
IDS = [c[0].__name__ for c in CASES]


def _make(cls, **kw):
    if cls in (SymNetClassifier, SymNetRegressor):
        kw.setdefault("hidden_layer_sizes", (8,))
    return cls(random_state=0, **kw)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.mark.parametrize("cls, y, kw", CASES, ids=IDS)
def test_zero_weight_chunk_leaves_the_model_as_it_was(cls, y, kw):
    a, b = _make(cls), _make(cls)
    a.partial_fit(X[:30], y[:30], **kw)
    b.partial_fit(X[:30], y[:30], **kw)
    before = a.predict(X)
    a.partial_fit(X[30:], y[30:], sample_weight=np.zeros(30), **kw)
    np.testing.assert_array_equal(a.predict(X), before)
    a.partial_fit(X[30:], y[30:], **kw)
    b.partial_fit(X[30:], y[30:], **kw)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert a.n_iter_ == b.n_iter_


@pytest.mark.parametrize("cls, y, kw", CASES, ids=IDS)
def test_zero_weight_first_chunk_sets_the_checks_not_a_model(cls, y, kw):
    est = _make(cls)
    est.partial_fit(X[:30], y[:30], sample_weight=np.zeros(30), **kw)
    assert est.n_features_in_ == 3
    if "classes" in kw:
        np.testing.assert_array_equal(est.classes_, [0, 1])
    with pytest.raises(NotFittedError):
        est.predict(X)
    # the stream is still one of 3 features, with the classes of the first call
    with pytest.raises(ValueError, match="X has 2 features"):
        est.partial_fit(X[:30, :2], y[:30])
    if "classes" in kw:
        with pytest.raises(ValueError, match="classes"):
            est.partial_fit(X[:30], y[:30], classes=[0, 1, 2])
    est = pickle.loads(pickle.dumps(est))
    # then it trains as a stream that starts at its first chunk of positive weight
    est.partial_fit(X[:30], y[:30])
    est.partial_fit(X[30:], y[30:])
    ref = _make(cls)
    ref.partial_fit(X[:30], y[:30], **kw)
    ref.partial_fit(X[30:], y[30:])
    np.testing.assert_array_equal(est.predict(X), ref.predict(X))


@pytest.mark.parametrize("cls, y, kw", CASES, ids=IDS)
def test_fit_with_all_zero_weights_still_raises(cls, y, kw):
    with pytest.raises(ValueError, match="non-zero|sums to zero"):
        _make(cls).fit(X, y, sample_weight=np.zeros(60))


@pytest.mark.parametrize("cls", [LipschitzQuantileClassifier, SymNetClassifier])
def test_chunk_zeroed_by_class_weights(cls):
    """class_weight={0: 0}: a chunk of class 0 only has total weight zero."""
    a, b = _make(cls, class_weight={0: 0.0}), _make(cls, class_weight={0: 0.0})
    a.partial_fit(X, Y_CLS, classes=[0, 1])
    b.partial_fit(X, Y_CLS, classes=[0, 1])
    zero = Y_CLS == 0
    a.partial_fit(X[zero], Y_CLS[zero])
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


def test_balanced_class_weight_on_a_chunk_missing_a_class():
    """'balanced' takes the classes present in the chunk (compute_class_weight
    raises when a class of ``classes`` is missing from ``y``)."""
    y = RNG.integers(0, 3, 60)
    est = LipschitzQuantileClassifier(class_weight="balanced", random_state=0)
    est.partial_fit(X, y, classes=[0, 1, 2])
    kept = y != 1
    sw = est._sample_weight(None, X[kept], y[kept])
    ref = compute_class_weight("balanced", classes=np.array([0, 2]), y=y[kept])
    np.testing.assert_allclose(sw, ref[(y[kept] == 2).astype(int)])
    full = est._sample_weight(None, X, y)
    np.testing.assert_allclose(
        full, compute_class_weight("balanced", classes=np.array([0, 1, 2]), y=y)[y])
    est.partial_fit(X[kept], y[kept])
    assert est.n_iter_ == 2
