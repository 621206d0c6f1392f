"""The gradient-evidence stopping switch of SymNet (a measured candidate, off by default)."""

import numpy as np
import pytest
from sklearn.datasets import make_classification

from sklipschitz import _symnet_base
from sklipschitz.neural_network import SymNetClassifier

# (short fits: max_iter reached, and the underfit check, warn)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def data():
    X, y = make_classification(n_samples=600, n_features=6, n_informative=4, n_classes=3,
                               random_state=0)
    return X, y


def _fit(X, y, **kw):
    return SymNetClassifier(hidden_layer_sizes=(8, 8), random_state=0, max_iter=8, **kw).fit(
        X, y)


def test_off_by_default(data):
    est = _fit(*data)
    assert _symnet_base._EVIDENCE is None
    assert est._evidence_curve is None


def test_observing_changes_nothing(data, monkeypatch):
    X, y = data
    plain = _fit(X, y)
    monkeypatch.setattr(_symnet_base, "_EVIDENCE", "rows")
    monkeypatch.setattr(_symnet_base, "_EVIDENCE_THRESHOLD", np.inf)
    observed = _fit(X, y)
    assert observed.n_iter_ == plain.n_iter_
    for a, b in zip(plain.coefs_ + plain.intercepts_, observed.coefs_ + observed.intercepts_):
        np.testing.assert_array_equal(a, b)
    # one finite value per accepted epoch (3 batches of 200 rows each)
    assert len(observed._evidence_curve) == len(observed.loss_curve_)
    assert np.all(np.isfinite(observed._evidence_curve))


@pytest.mark.parametrize("patience", [1, 3])
def test_positive_evidence_stops(data, monkeypatch, patience):
    X, y = data
    monkeypatch.setattr(_symnet_base, "_EVIDENCE", "output")
    monkeypatch.setattr(_symnet_base, "_EVIDENCE_THRESHOLD", -np.inf)
    monkeypatch.setattr(_symnet_base, "_EVIDENCE_PATIENCE", patience)
    est = _fit(X, y)
    assert est.n_iter_ == patience
