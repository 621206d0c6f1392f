"""SymNetRegressor(average_weights=...): the fit ends on the averaged weights of its epochs."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sklipschitz import SymNetRegressor
from sklipschitz._engine.updates import IterateAverage

DECAY = 0.95


@pytest.fixture(scope="module")
def small_regression():
    X, y = make_regression(n_samples=300, n_features=6, noise=5.0, random_state=0)
    return StandardScaler().fit_transform(X), y


def _fit(X, y, **kw):
    params = dict(hidden_layer_sizes=(16,), random_state=0, tol=0.0, n_iter_no_change=50,
                  progress_tol=0.0)
    params.update(kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return SymNetRegressor(**params).fit(X, y)


def test_fit_ends_on_the_average_of_the_epochs_weights(small_regression):
    # the first k epochs of a fit of K epochs are those of a fit of k epochs
    # (same seed, no stopping rule): the epoch-end weights, one fit each
    X, y = small_regression
    K = 5
    epochs = []
    for k in range(1, K + 1):
        est = _fit(X, y, max_iter=k, average_weights=False)
        assert len(est.loss_curve_) == k  # no epoch undone by the guard
        epochs.append([*est.coefs_, *est.intercepts_])
    averaged = _fit(X, y, max_iter=K, average_weights=True)
    assert averaged.weights_averaged_ is True
    assert epochs[-1][0].shape == averaged.coefs_[0].shape
    w = np.array([DECAY ** (K - 1 - i) for i in range(K)])
    w /= w.sum()
    got = [*averaged.coefs_, *averaged.intercepts_]
    for j in range(len(got)):
        expected = sum(wi * params[j] for wi, params in zip(w, epochs))
        np.testing.assert_allclose(got[j], expected, rtol=1e-10, atol=1e-12)
    # loss_ is the objective at the returned (averaged) weights
    last = _fit(X, y, max_iter=K, average_weights=False)
    assert last.weights_averaged_ is False
    assert averaged.loss_ != pytest.approx(last.loss_, rel=1e-9)


def test_auto_averages_small_data_when_the_stopping_rule_ends_the_fit():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    # 4,800 weights > 442 targets, mini-batches of 200: averaged
    reg = SymNetRegressor(hidden_layer_sizes=(64, 64), activation="relu",
                          random_state=0).fit(X, y)
    assert reg.n_iter_ < reg.max_iter and reg.weights_averaged_ is True
    # the same fit without averaging ends elsewhere: the same epochs until
    # the averaged fit stopped (without an average a jump of the loss does
    # not end the fit, so it may run on)
    last = SymNetRegressor(hidden_layer_sizes=(64, 64), activation="relu", random_state=0,
                           average_weights=False).fit(X, y)
    assert last.n_iter_ >= reg.n_iter_ and last.weights_averaged_ is False
    common = len(reg.loss_curve_)
    np.testing.assert_allclose(last.loss_curve_[:common], reg.loss_curve_)
    assert not np.allclose(last.predict(X), reg.predict(X))
    # fewer weights (11 x 8 + 8) than targets: not averaged
    narrow = SymNetRegressor(hidden_layer_sizes=(8,), random_state=0).fit(X, y)
    assert narrow.weights_averaged_ is False
    # early stopping keeps the best validated weights: not averaged
    es = SymNetRegressor(hidden_layer_sizes=(64, 64), activation="relu", random_state=0,
                         early_stopping=True).fit(X, y)
    assert es.weights_averaged_ is False


def test_auto_does_not_average_full_batch_or_unfinished_fits(small_regression):
    X, y = small_regression
    # one batch (n <= batch_size): deterministic steps, nothing to average
    full = _fit(X[:150], y[:150], hidden_layer_sizes=(64,), max_iter=20)
    assert full.weights_averaged_ is False
    # max_iter reached (the loss still falling): the last weights are kept
    unfinished = _fit(X, y, hidden_layer_sizes=(64,), max_iter=5)
    assert unfinished.n_iter_ == 5 and unfinished.weights_averaged_ is False
    forced = _fit(X, y, hidden_layer_sizes=(64,), max_iter=5, average_weights=True)
    assert forced.weights_averaged_ is True


def test_average_that_fits_no_better_than_the_constant_is_not_taken(small_regression,
                                                                     monkeypatch):
    X, y = small_regression
    last = _fit(X, y, max_iter=5, average_weights=False)
    monkeypatch.setattr(IterateAverage, "value",
                        lambda self, state: [np.full_like(a, np.nan) for a in state.average_params])
    est = _fit(X, y, max_iter=5, average_weights=True)
    assert est.weights_averaged_ is False
    for a, b in zip(est.coefs_, last.coefs_):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad", ["yes", 2, None])
def test_average_weights_invalid_value_is_a_value_error(bad):
    X, y = make_regression(n_samples=20, n_features=2, random_state=0)
    with pytest.raises(ValueError, match="average_weights"):
        SymNetRegressor(average_weights=bad).fit(X, y)
