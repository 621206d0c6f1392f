"""The guard's halvings of a first epoch that blew up are released.

The constants of the first epoch are measured at the initial weights; A-ReLU's
curvature there is far below its value after one epoch, the first epoch blows
up and the guard halves the rates.  Once an epoch is accepted the constants are
re-measured at the weights training reached, and the rates of the next epoch
are those constants' (``min(1/L, max(cap, f/L))``, ``cap`` half the smallest
rate that failed, ``f`` the released factor), not 1/8 of them for the rest of
the fit.  A milder rise keeps its halving.  The rates are checked against the
constants the engine computed at the accepted weights (recorded per epoch).
"""

import math
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from sklipschitz import _symnet_base
from sklipschitz._engine import loop
from sklipschitz._engine.monitors import HalvingGuard
from sklipschitz.neural_network import SymNetClassifier


@pytest.fixture
def epochs(monkeypatch):
    """Per attempted epoch: the constants it ran with, its rates, the verdict."""
    records = []
    epoch, diverged = loop._Fit.epoch, loop._Fit.diverged

    def recorded_epoch(fit, *args):
        out = epoch(fit, *args)
        records.append({"L": list(fit.state.step_state.lipschitz),
                        "rate": list(fit.last_rate)})
        return out

    def recorded_diverged(fit, *args):
        verdict = diverged(fit, *args)
        records[-1]["verdict"] = verdict
        return verdict

    monkeypatch.setattr(loop._Fit, "epoch", recorded_epoch)
    monkeypatch.setattr(loop._Fit, "diverged", recorded_diverged)
    return records


def _blowing_up():
    X, y = make_classification(n_samples=1000, n_features=20, n_informative=10, n_classes=5,
                               n_clusters_per_class=2, random_state=0)
    return StandardScaler().fit_transform(X), y


def _fit(X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return SymNetClassifier(**kw).fit(X, y)


ARELU = dict(hidden_layer_sizes=(32, 32, 32), activation="arelu", random_state=2, max_iter=6)


def test_first_epoch_blow_ups_give_the_rates_back(epochs):
    X, y = _blowing_up()
    clf = _fit(X, y, **ARELU)
    verdicts = [r["verdict"] for r in epochs]
    assert verdicts == ["retry"] * 3 + ["ok"] * 3
    assert clf._train_state.halvings == 3
    # the three attempts ran at 1, 1/2, 1/4 of the initial constants' rates
    L0 = np.array(epochs[0]["L"])
    for k, record in enumerate(epochs[:4]):
        np.testing.assert_allclose(record["rate"], 0.5 ** k / np.array(record["L"]), rtol=1e-12)
    # the initial constants are far below those at the accepted weights
    L1 = np.array(epochs[4]["L"])
    n = len(L1) // 2
    assert np.all(L1[: n - 1] > 8 * L0[: n - 1])
    # after the release: min(1/L, max(cap, 1/8 / L)), cap half the smallest failed rate
    cap = 0.5 * np.min([r["rate"] for r in epochs[:3]], axis=0)
    for record in epochs[4:]:
        L = np.array(record["L"])
        expected = np.minimum(1 / L, np.maximum(cap, 0.125 / L))
        np.testing.assert_allclose(record["rate"], expected, rtol=1e-12)
        # the hidden layers' constants have risen past the failure: their own rates
        np.testing.assert_allclose(record["rate"][: n - 1], 1 / L[: n - 1], rtol=1e-12)
        np.testing.assert_allclose(record["rate"][n: 2 * n - 1], 1 / L[n: 2 * n - 1],
                                   rtol=1e-12)
    assert clf._train_state.rate_scale == 1.0
    assert clf._train_state.released_halvings == 3


def test_without_the_release_the_halvings_last(epochs, monkeypatch):
    monkeypatch.setattr(_symnet_base._EndLossGuard, "release_first", False)
    X, y = _blowing_up()
    clf = _fit(X, y, **ARELU)
    assert [r["verdict"] for r in epochs] == ["retry"] * 3 + ["ok"] * 3
    for record in epochs[4:]:
        np.testing.assert_allclose(record["rate"], 0.125 / np.array(record["L"]), rtol=1e-12)
    assert clf._train_state.rate_scale == 0.125


def test_a_mild_first_epoch_rise_keeps_its_halving(epochs):
    """Breast cancer, relu (32, 32, 32), the third training fold of the depth
    benchmark: the first epoch ends at about 2x the guard's threshold."""
    X, y = load_breast_cancer(return_X_y=True)
    train = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))[2][0]
    X = StandardScaler().fit_transform(X[train])
    clf = _fit(X, y[train], hidden_layer_sizes=(32, 32, 32), activation="relu",
               random_state=0, max_iter=4)
    assert [r["verdict"] for r in epochs] == ["retry", "ok", "ok", "ok"]
    for record in epochs[1:]:
        np.testing.assert_allclose(record["rate"], 0.5 / np.array(record["L"]), rtol=1e-12)
    assert clf._train_state.rate_scale == 0.5
    assert clf._train_state.released is None


class _State:
    coefs, intercepts = [], []


@pytest.mark.parametrize("end, blew_up", [(5.0, False), (9.99, False), (10.01, True),
                                          (math.inf, True), (math.nan, True)])
def test_a_blow_up_is_an_order_of_magnitude_above_the_threshold(end, blew_up):
    guard = _symnet_base._EndLossGuard(1.0, lambda c, i: end, start=0.5)
    assert guard.is_bad(0.5, _State())
    assert guard.blew_up() is blew_up


def test_the_linear_guard_releases_nothing():
    assert HalvingGuard.release_first is False
    assert HalvingGuard().blew_up() is False


def test_released_rates_and_later_halvings():
    """The bookkeeping by hand: two blow-ups at rates (2, 4) and (1, 2), one
    accepted epoch, then a halving of a later epoch."""
    fit = loop._Fit.__new__(loop._Fit)
    fit.state = loop.TrainState(coefs=[], intercepts=[])
    for rates in ([2.0, 4.0], [1.0, 2.0]):
        fit.last_rate = rates
        fit.state.rate_scale *= 0.5
        fit._note_first_halving(True)
    fit.last_rate = [0.5, 1.0]
    fit.state.rate_scale *= 0.5
    fit._note_first_halving(False)  # a mild rise: stays in the scale
    assert fit.state.first_halvings == 2 and fit.state.first_caps == [0.5, 1.0]
    fit.release_first()
    assert fit.state.rate_scale == 0.5 and fit.state.released == (0.25, [0.5, 1.0])
    # min(r, max(cap, f r)): its own rate, the cap, the halved rate
    assert loop._released([0.3, 2.0], 0.25, [0.5, 1.0]) == [0.3, 1.0]
    assert loop._released([0.3, 8.0], 0.25, [0.5, 1.0]) == [0.3, 2.0]
    fit.state.loss_curve.append(1.0)
    fit._note_first_halving(False)  # a later halving halves the caps too
    assert fit.state.released == (0.25, [0.25, 0.5])


def test_the_warning_counts_the_halvings_in_effect():
    """Released halvings no longer divide the rates: 12 halvings of which 3
    were released are 9 (no warning); 13 of which 3 are 10 (the warning)."""
    X, y = _blowing_up()
    clf = _fit(X[:200], y[:200], hidden_layer_sizes=(3,), random_state=0, max_iter=2)
    state = clf._train_state
    state.halvings, state.released_halvings = 12, 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf._warn_on_failure(state, const_loss=10.0)
    state.halvings = 13
    with pytest.warns(ConvergenceWarning, match=r"halved 10 times \(divided by 1.02e\+03\)"):
        clf._warn_on_failure(state, const_loss=10.0)
