"""LipschitzQuantileClassifier on features of extreme or unequal scales.

Every fit either matches LogisticRegression on the same (or the standardized)
data, or says why it cannot: a warning or a ValueError naming the problem."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from sklipschitz import LipschitzQuantileClassifier


def _classification(n=300, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((d, 2)) * 2
    y = np.argmax(X @ W + 0.3 * rng.standard_normal((n, 2)), axis=1)
    return X, y


def _fit_recording(fit):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = fit()
    return est, [w for w in caught if issubclass(w.category, UserWarning)]


def _reference(X, y):
    # LogisticRegression is scale-equivariant in exact arithmetic; lbfgs is not
    # at 1e50, so the reference is fitted on the standardized features
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    return LogisticRegression(max_iter=5000).fit(Xs, y).score(Xs, y)


def test_huge_features_keep_their_coefficients():
    # weights of order 1e-50 are below float32's range: fit keeps them in float64
    X, y = _classification()
    ref = _reference(X, y)  # 0.963
    Xs = X * 1e50
    est, warned = _fit_recording(lambda: LipschitzQuantileClassifier().fit(Xs, y))
    assert not warned
    assert est.score(Xs, y) >= ref - 0.02
    assert np.all(est.coef_ != 0)
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict_proba(Xs), est.predict_proba(Xs))


def test_quantile_classifier_huge_features():
    # robust6's check (tests/test_robustness_handover.py), without its xfail
    X, y = _classification()
    Xs = X * 1e50
    est, warned = _fit_recording(lambda: LipschitzQuantileClassifier().fit(Xs, y))
    assert warned or est.score(Xs, y) > 0.9


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_overflowing_squares_raise(method):
    X, y = _classification()
    est = LipschitzQuantileClassifier()
    kw = {"classes": [0, 1]} if method == "partial_fit" else {}
    with pytest.raises(ValueError, match=r"X contains values of magnitude .* overflow float64"):
        getattr(est, method)(X * 1e160, y, **kw)
    # float32 data overflow far sooner
    with pytest.raises(ValueError, match="overflow float32"):
        getattr(est, method)((X * 1e19).astype(np.float32), y, **kw)
