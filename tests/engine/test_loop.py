"""The training loop on problems with a known optimum."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklipschitz._engine.loop import TrainState, train
from sklipschitz._engine.losses import HalfSquaredError
from sklipschitz._engine.monitors import (
    ColumnFreezing,
    DivergenceStop,
    HalvingGuard,
    Stopping,
    Validation,
)
from sklipschitz._engine.network import DenseNetwork
from sklipschitz._engine.problems import ColumnProblem, NetworkProblem
from sklipschitz._engine.steps import ConstantStep, LipschitzStep
from sklipschitz._engine.updates import SGD, IterateAverage


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    Y = (X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3 + 0.1 * rng.normal(size=(80, 1)))
    return X, Y


def smoothness(X):
    """lambda_max of [X, 1]'[X, 1] / n: the valid constant of the half squared error."""
    A = np.hstack([X, np.ones((X.shape[0], 1))])
    return float(np.linalg.eigvalsh(A.T @ A / X.shape[0])[-1])


def lstsq(X, Y):
    A = np.hstack([X, np.ones((X.shape[0], 1))])
    return np.linalg.lstsq(A, Y, rcond=None)[0]


def quadratic(X, Y, sw=None):
    sw = np.ones(X.shape[0]) if sw is None else sw
    net = DenseNetwork((X.shape[1], Y.shape[1]))
    return NetworkProblem(net, HalfSquaredError(), X, Y, sw)


def fresh_state(d, k, rule, L):
    state = TrainState(coefs=[np.zeros((d, k))], intercepts=[np.zeros(k)])
    state.step_state = rule.init(L)
    return state


def run(problem, state, rule, **kw):
    args = dict(update=SGD(), stopping=Stopping(1e-14, 10), guard=DivergenceStop(), max_iter=5000)
    args.update(kw)
    return train(problem, state, rule=rule, **args)


def test_full_batch_gradient_descent_reaches_the_least_squares_optimum(data):
    X, Y = data
    rule = LipschitzStep()
    state = run(quadratic(X, Y), fresh_state(3, 1, rule, smoothness(X)), rule)
    beta = lstsq(X, Y)
    np.testing.assert_allclose(state.coefs[0], beta[:3], atol=1e-6)
    np.testing.assert_allclose(state.intercepts[0], beta[3], atol=1e-6)
    # a valid 1/L step never increases the objective
    assert np.all(np.diff(state.loss_curve) <= 1e-15)
    assert state.learning_rate_history[0] == pytest.approx(1 / smoothness(X), rel=1e-14)


def test_stopping_counts_epochs_without_improvement(data):
    X, Y = data
    rule = LipschitzStep()
    # tol=1: no epoch improves by the whole best loss, so the fit stops after
    # exactly n_iter_no_change epochs
    state = run(quadratic(X, Y), fresh_state(3, 1, rule, smoothness(X)), rule,
                stopping=Stopping(1.0, 4))
    assert state.n_iter == 4
    assert state.no_improvement == 4


def test_max_iter_warns():
    X = np.eye(3)
    Y = np.ones((3, 1))
    rule = LipschitzStep()
    with pytest.warns(ConvergenceWarning, match="Maximum number of iterations"):
        state = run(quadratic(X, Y), fresh_state(3, 1, rule, 100.0), rule, max_iter=3,
                    stopping=Stopping(0.0, 10))
    assert state.n_iter == 3


def test_divergence_stop_keeps_the_best_weights_full_batch(data):
    X, Y = data
    problem = quadratic(X, Y)
    rule = ConstantStep(50.0 / smoothness(X))
    with pytest.warns(ConvergenceWarning, match="diverged.*too large"):
        state = run(problem, fresh_state(3, 1, rule, 1.0), rule,
                    guard=DivergenceStop(hint="too large"))
    kept = problem.objective(state.coefs, state.intercepts)
    assert kept == pytest.approx(min(state.loss_curve), rel=1e-12)
    assert np.all(np.isfinite(state.coefs[0]))


def test_divergence_stop_restores_the_start_weights_mini_batch(data):
    # the first mini-batch epoch already blows up: the only weights known to
    # be good are the ones the fit started from
    X, Y = data
    problem = quadratic(X, Y)
    rule = ConstantStep(1e6)
    state = fresh_state(3, 1, rule, 1.0)
    state.intercepts[0][...] = 0.25
    with pytest.warns(ConvergenceWarning, match="diverged"):
        state = run(problem, state, rule, batch_size=16, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(state.coefs[0], 0.0)
    np.testing.assert_array_equal(state.intercepts[0], 0.25)


def test_incremental_calls_judge_divergence_on_their_own_data(data):
    # a chunk fitted perfectly must not make later chunks look like divergence
    X, Y = data
    rule = LipschitzStep()
    L = smoothness(X) * 4
    state = fresh_state(3, 1, rule, L)
    zero = quadratic(X[:20], np.zeros((20, 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        state = run(zero, state, rule, incremental=True)
        for _ in range(200):
            state = run(quadratic(X, Y), state, rule, incremental=True)
    beta = lstsq(X, Y)
    np.testing.assert_allclose(state.coefs[0], beta[:3], atol=1e-3)


def test_halving_guard_halves_until_an_epoch_is_accepted(data):
    X, Y = data
    problem = quadratic(X, Y)
    L = smoothness(X)
    rule = ConstantStep(8.0 / L)  # 4 times the largest stable step 2/L
    state = fresh_state(3, 1, rule, 1.0)
    initial = problem.objective(state.coefs, state.intercepts)
    end = lambda c, i: problem.objective(c, i)  # noqa: E731
    # (the threshold allows the rounding of a loss evaluated two ways)
    state = run(problem, state, rule, guard=HalvingGuard(initial * (1 + 1e-9), end), max_iter=300)
    # at 8/L the first step overshoots far above the initial loss; halving
    # brings the rate to where no accepted epoch ends above the threshold
    assert state.halvings >= 1
    assert state.rate_scale == 0.5 ** state.halvings
    assert state.learning_rate_history[-1] == pytest.approx(8.0 / L * state.rate_scale)
    assert max(state.loss_curve) <= initial * (1 + 1e-9)
    assert problem.objective(state.coefs, state.intercepts) < 0.1 * initial


def test_averaging_is_the_mean_of_the_iterates(data):
    X, Y = data
    problem = quadratic(X, Y)
    lr = 0.3 / smoothness(X)
    rule = ConstantStep(lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        state = run(problem, fresh_state(3, 1, rule, 1.0), rule, max_iter=6,
                    stopping=Stopping(0.0, 100), averaging=IterateAverage("uniform", start=2))
    # the same iteration by hand
    W, b, iterates = np.zeros((3, 1)), np.zeros(1), []
    A = np.hstack([X, np.ones((80, 1))])
    for _ in range(6):
        r = A @ np.vstack([W, b[None]]) - Y
        g = A.T @ r / 80
        W, b = W - lr * g[:3], b - lr * g[3]
        iterates.append(np.vstack([W, b[None]]))
    mean = np.mean(iterates[1:], axis=0)  # steps 2..6
    np.testing.assert_allclose(state.average_params[0], mean[:3], rtol=1e-12)
    np.testing.assert_allclose(state.average_params[1], mean[3], rtol=1e-12)
    assert state.n_averaged == 5


def test_validation_keeps_the_best_scoring_weights(data):
    X, Y = data
    problem = quadratic(X, Y)
    rule = LipschitzStep()
    scores = []

    def score(c, i):  # best at the 3rd epoch, worse afterwards
        scores.append(len(scores))
        return -abs(len(scores) - 3)

    state = run(problem, fresh_state(3, 1, rule, smoothness(X)), rule,
                validation=Validation(score), stopping=Stopping(0.0, 4))
    assert state.n_iter == 7 and state.best_score == 0
    assert state.validation_scores == [-2, -1, 0, -1, -2, -3, -4]


class CountingBound:
    """A bound loss that records how many columns every evaluation computes."""

    def __init__(self, bound, log):
        self.bound, self.log = bound, log

    def columns(self, raw):
        self.log.append(raw.shape[1])
        return self.bound.columns(raw)

    def take(self, keep):
        return CountingBound(self.bound.take(keep), self.log)


def test_column_freezing_drops_columns_that_stopped_improving(data):
    X, Y = data
    # column 0 is fitted by the zero model already; column 1 needs work
    Y2 = np.hstack([np.zeros_like(Y), Y])
    loss = HalfSquaredError()
    log = []
    sw = np.ones(X.shape[0])
    bound = CountingBound(loss.bind(Y2, sw), log)
    problem = ColumnProblem(loss, X, Y2, sw, bound=bound)
    rule = LipschitzStep()
    state = fresh_state(3, 2, rule, np.full(2, smoothness(X)))
    state = run(problem, state, rule, freezing=ColumnFreezing(1e-10, 5))
    assert log[0] == 2 and log[-1] == 1  # the fitted column left the products
    # the first epoch counts as an improvement, then 5 without one
    assert log.count(2) == 6
    beta = lstsq(X, Y)
    np.testing.assert_allclose(state.coefs[0][:, 1:], beta[:3], atol=1e-6)
    np.testing.assert_array_equal(state.coefs[0][:, 0], 0.0)
    assert state.coefs[0].shape == (3, 2)


def test_per_parameter_rates(data):
    # a rate per parameter (here: the weights and the intercept of one layer)
    X, Y = data
    problem = quadratic(X, Y)
    rule = LipschitzStep()
    state = fresh_state(3, 1, rule, [4.0, 2.0])
    value, grads, _ = problem.evaluate(state.coefs, state.intercepts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        state = run(problem, state, rule, incremental=True)
    np.testing.assert_allclose(state.coefs[0], -grads[0] / 4.0)
    np.testing.assert_allclose(state.intercepts[0], -grads[1] / 2.0)
    # the reported constant and rate are those of the (last) layer's weights
    assert state.lipschitz == 4.0
    assert state.learning_rate_history == [0.25]
