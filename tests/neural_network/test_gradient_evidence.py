"""SymNet's gradient-evidence stopping rule (``evidence_tol``)."""

import numpy as np
import pytest
from sklearn.datasets import make_classification

from sklipschitz import _symnet_base
from sklipschitz.neural_network import SymNetClassifier, SymNetRegressor

# (short fits: max_iter reached, and the underfit check, warn)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def data():
    X, y = make_classification(n_samples=600, n_features=6, n_informative=4, n_classes=3,
                               random_state=0)
    return X, y


def _fit(X, y, max_iter=8, **kw):
    return SymNetClassifier(hidden_layer_sizes=(8, 8), random_state=0, max_iter=max_iter,
                            **kw).fit(X, y)


def test_none_turns_it_off(data):
    assert _fit(*data)._evidence_curve is None  # off by default
    assert _fit(*data, evidence_tol=None)._evidence_curve is None
    assert _fit(*data, evidence_tol=0.0)._evidence_curve is not None


def test_observing_changes_nothing(data):
    X, y = data
    plain = _fit(X, y, 11, evidence_tol=None)
    observed = _fit(X, y, 11, evidence_tol=0.999999)  # EB <= 1: never stops
    assert observed.n_iter_ == plain.n_iter_ == 11
    for a, b in zip(plain.coefs_ + plain.intercepts_, observed.coefs_ + observed.intercepts_):
        np.testing.assert_array_equal(a, b)
    # one value per accepted epoch, NaN until 30 batches (3 per epoch) were seen
    curve = observed._evidence_curve
    assert len(curve) == len(observed.loss_curve_)
    assert np.all(np.isnan(curve[:9])) and np.all(np.isfinite(curve[9:]))


@pytest.mark.parametrize("patience", [1, 3])
def test_positive_evidence_stops(data, monkeypatch, patience):
    X, y = data
    monkeypatch.setattr(_symnet_base, "_EVIDENCE_WINDOW", None)  # each epoch's batches
    monkeypatch.setattr(_symnet_base, "_EVIDENCE_PATIENCE", patience)
    est = _fit(X, y, evidence_tol=-1e300)
    assert est.n_iter_ == patience


@pytest.mark.parametrize("bad", [1.0, 2.0, "0.1"])
def test_evidence_tol_is_validated(bad):
    X = np.random.default_rng(0).standard_normal((20, 2))
    with pytest.raises((ValueError, TypeError), match="evidence_tol"):
        SymNetRegressor(evidence_tol=bad).fit(X, X[:, 0])
