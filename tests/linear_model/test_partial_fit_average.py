"""``average='auto'``: the polynomial-decay average of the subgradient
iterates that ``partial_fit`` reports for the absolute and pinball losses.

References: the subgradient iterates of a one-dimensional problem written
out by hand, and the certified optimum of the exact solver (the average's
weights against their closed form: tests/engine/test_averaging.py).
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sklipschitz import LipschitzRegressor


def pinball(y, pred, tau):
    u = y - pred
    return float(np.mean(np.maximum(tau * u, (tau - 1) * u)))


@pytest.fixture(scope="module")
def diabetes_std():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("loss, tau, up, down, power", [("quantile", 0.9, 0.9, 0.1, 1),
                                                        ("absolute_error", 0.5, 1.0, 1.0, 2)])
def test_auto_reports_the_average_of_the_subgradient_iterates_1d(loss, tau, up, down, power):
    # minimise mean loss(y - w) over one weight w (a column of ones, no
    # intercept), one full-batch call a step from w = 0: the steps are
    # w <- w - R / (L sqrt(t)) g with R = mean|y| (distance_scale with the
    # start 0 and features of size 1), L = max(up, down) (the loss's slopes
    # times the mean row norm 1) and g = -(up * share(r > 0) - down * share(r < 0))
    X, y = np.ones((100, 1)), np.arange(1.0, 101.0) ** power / 100 ** (power - 1)
    averaged = LipschitzRegressor(loss=loss, quantile=tau, fit_intercept=False)
    last = LipschitzRegressor(loss=loss, quantile=tau, fit_intercept=False, average=False)
    R, L = np.mean(np.abs(y)), max(up, down)
    value = lambda w: np.mean(np.where(y > w, up * (y - w), down * (w - y)))  # noqa: E731
    w, iterates = 0.0, []
    for t in range(1, 11):
        averaged.partial_fit(X, y)
        last.partial_fit(X, y)
        r = y - w
        g = -(up * np.mean(r > 0) - down * np.mean(r < 0))
        w_next = w - R / (L * np.sqrt(t)) * g
        assert value(w_next) <= value(w)  # (no call is undone: the loop's iterates)
        w = w_next
        iterates.append(w)
        assert last.coef_[0] == pytest.approx(w, rel=1e-12)
        # the weights of Shamir & Zhang (2013) at eta = 3
        weights = [4 * s * (s + 1) * (s + 2) / (t * (t + 1) * (t + 2) * (t + 3))
                   for s in range(1, t + 1)]
        expected = sum(wt * it for wt, it in zip(weights, iterates))
        assert averaged.coef_[0] == pytest.approx(expected, rel=1e-12)
        assert averaged.lipschitz_constant_ == pytest.approx(L, rel=1e-12)
    # the iterates still travel: the average lags behind the last one
    assert abs(averaged.coef_[0] - last.coef_[0]) > 0.3
    assert averaged.intercept_ == 0.0


def test_auto_stream_reaches_the_exact_objective():
    # 4000 rows of 3 features of mixed scales, heteroscedastic t(2) noise (the
    # generator of benchmarks/bench_partial_fit_average.py), in 2 chunks of
    # mini-batches of 50 (80 steps a pass), 20 passes
    rng = np.random.default_rng(0)
    scale, shift, beta = rng.uniform(0.5, 3, 3), rng.uniform(-1, 1, 3), rng.standard_normal(3)
    X = rng.standard_normal((4000, 3)) * scale + shift
    y = X @ beta + 2 + rng.standard_t(2, 4000) * (1 + 0.5 * np.abs(X[:, 0]))
    X = StandardScaler().fit_transform(X)
    tau = 0.8
    # the exact solver's certified optimum (QuantileRegressor's objective with
    # HiGHS on this data, which HiGHS takes 20 times longer to reach)
    exact = LipschitzRegressor(loss="quantile", quantile=tau).fit(X, y)
    assert exact.certified_
    f_star = pinball(y, exact.predict(X), tau)
    est = LipschitzRegressor(loss="quantile", quantile=tau, batch_size=50, random_state=0)
    for _ in range(20):
        for i in range(0, 4000, 2000):
            est.partial_fit(X[i:i + 2000], y[i:i + 2000])
    gap = (pinball(y, est.predict(X), tau) - f_star) / f_star
    W, b = est._train_state.coefs[0], est._train_state.intercepts[0]
    gap_last = (pinball(y, (X @ W + b)[:, 0], tau) - f_star) / f_star
    assert 0 <= gap < 1e-5
    # the last iterate, which the steps continue from, is 10x further
    assert gap_last > 10 * gap


def _stream(est, X, y, calls, chunk=100):
    for k in range(calls):
        i = (k * chunk) % (len(y) - chunk)
        est.partial_fit(X[i:i + chunk], y[i:i + chunk])
    return est


@pytest.mark.parametrize("params", [
    dict(loss="squared_error", batch_size=32),
    dict(loss="squared_error"),
    dict(loss="huber", batch_size=32),
    dict(loss="log_cosh", scale="auto", batch_size=32),
    dict(loss="quantile", quantile=0.7, batch_size=32, learning_rate="paper"),
    dict(loss="absolute_error", batch_size=32, learning_rate=0.01),
])
def test_auto_leaves_other_streams_unchanged(diabetes_std, params):
    # smooth losses and the non-default rates: 'auto' is the last iterate
    X, y = diabetes_std
    a = _stream(LipschitzRegressor(random_state=0, **params), X, y, 12)
    b = _stream(LipschitzRegressor(random_state=0, average=False, **params), X, y, 12)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.intercept_ == b.intercept_
    assert a.loss_ == b.loss_


@pytest.mark.parametrize("params", [
    dict(loss="quantile", quantile=0.7, batch_size=64, max_iter=20),
    dict(loss="absolute_error", solver="gd", max_iter=20),
    dict(loss="quantile", quantile=0.3, batch_size=64, early_stopping=True, max_iter=20),
    dict(loss="squared_error", batch_size=64, max_iter=20),
])
def test_auto_leaves_fit_unchanged(diabetes_std, params):
    X, y = diabetes_std
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = LipschitzRegressor(random_state=0, **params).fit(X, y)
        b = LipschitzRegressor(random_state=0, average=False, **params).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.intercept_ == b.intercept_
    assert a.loss_curve_ == b.loss_curve_


@pytest.mark.parametrize("loss", ["quantile", "absolute_error"])
def test_auto_average_survives_saving(diabetes_std, loss, round_trip):
    X, y = diabetes_std
    whole = _stream(LipschitzRegressor(loss=loss, batch_size=32, random_state=0), X, y, 14)
    half = _stream(LipschitzRegressor(loss=loss, batch_size=32, random_state=0), X, y, 7)
    n_averaged = half._train_state.n_averaged
    assert n_averaged == 7 * 4  # 4 mini-batches of 100 rows a call
    half = round_trip(half)
    assert half._train_state.n_averaged == n_averaged
    for k in range(7, 14):
        i = (k * 100) % (len(y) - 100)
        half.partial_fit(X[i:i + 100], y[i:i + 100])
    np.testing.assert_array_equal(half.coef_, whole.coef_)
    assert half.intercept_ == whole.intercept_
    # coef_ is the average, not the iterate the steps continue from
    assert np.abs(whole.coef_ - whole._train_state.coefs[0][:, 0]).max() > 1e-3


def test_auto_partial_fit_after_fit_averages_from_the_first_partial_step(diabetes_std):
    # fit leaves no average; partial_fit then averages its own steps only,
    # continuing from the fitted weights
    X, y = diabetes_std
    est = LipschitzRegressor(loss="quantile", quantile=0.6, batch_size=64, max_iter=5,
                             random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    assert est._train_state.average_params is None
    fitted = np.append(est.coef_, est.intercept_)
    est.partial_fit(X[:64], y[:64])  # one mini-batch step: its iterate is the average
    state = est._train_state
    assert state.n_averaged == 1
    iterate = np.append(state.coefs[0][:, 0], state.intercepts[0])
    np.testing.assert_array_equal(np.append(est.coef_, est.intercept_), iterate)
    assert np.abs(iterate - fitted).max() > 0


def test_average_rejects_unknown_string(diabetes_std):
    X, y = diabetes_std
    with pytest.raises(ValueError, match="average"):
        LipschitzRegressor(average="suffix").partial_fit(X, y)


def test_auto_loss_is_judged_on_the_averaged_weights(diabetes_std):
    # loss_ is the objective of the reported (averaged) weights on the last
    # chunk, not that of the last iterate
    X, y = diabetes_std
    est = _stream(LipschitzRegressor(loss="quantile", quantile=0.7, batch_size=32,
                                     random_state=0), X, y, 9)
    i = (8 * 100) % (len(y) - 100)
    Xc, yc = X[i:i + 100], y[i:i + 100]
    assert est.loss_ == pytest.approx(pinball(yc, Xc @ est.coef_ + est.intercept_, 0.7),
                                      rel=1e-12)
    W, b = est._train_state.coefs[0][:, 0], est._train_state.intercepts[0][0]
    assert abs(est.loss_ - pinball(yc, Xc @ W + b, 0.7)) > 1e-6


@pytest.mark.parametrize("loss, batch_size", [("quantile", 32), ("absolute_error", 32),
                                              ("quantile", None)])
def test_auto_never_leaves_the_reported_model_worse_on_its_chunk(diabetes_std, loss,
                                                                 batch_size):
    # as the loop does for the iterates: a call whose new average is worse on
    # its chunk than the weights reported before keeps the previous average
    X, y = diabetes_std
    est = LipschitzRegressor(loss=loss, quantile=0.7, batch_size=batch_size, random_state=0)
    tau = 0.7 if loss == "quantile" else 0.5  # (|r| = 2 pinball_0.5(r))
    undone = 0
    for k in range(30):
        i = (k * 100) % (len(y) - 100)
        Xc, yc = X[i:i + 100], y[i:i + 100]
        if k:
            before = pinball(yc, Xc @ est.coef_ + est.intercept_, tau)
            n_before = est._train_state.n_averaged
        est.partial_fit(Xc, yc)
        if k:
            after = pinball(yc, Xc @ est.coef_ + est.intercept_, tau)
            assert after <= before * (1 + 1e-9), k
            undone += est._train_state.n_averaged == n_before
    if batch_size is not None:  # (the rule was needed on these streams)
        assert undone > 0
