"""``IterateAverage``: each schedule against its closed form.

References: ``np.mean`` of the iterates (uniform), the weights of Shamir &
Zhang (2013) written as products (polynomial decay), and the bias-corrected
exponential moving average written as a weighted sum (Kingma & Ba 2015,
section 7.2).  The average's state is plain arrays on the ``TrainState``:
it survives pickling and the engine's plain-value form.
"""

import pickle
from math import prod

import numpy as np
import pytest

from sklipschitz._engine.loop import TrainState
from sklipschitz._engine.state import from_plain, to_plain
from sklipschitz._engine.updates import IterateAverage


def _state():
    return TrainState(coefs=[], intercepts=[])


def _step(avg, state, params):
    """One step of the loop: the step count grows, then the average takes the iterate."""
    state.t += 1
    avg.accumulate(state, params)


def _iterates(seed, n=12):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal((4, 2)), rng.standard_normal(2)] for _ in range(n)]


def poly_weight(s, t, eta):
    """Weight of iterate ``s`` in the average after ``t`` steps (Shamir & Zhang 2013)."""
    return (eta + 1) * prod(s + k - 1 for k in range(1, eta + 1)) / prod(
        t + k for k in range(eta + 1))


def _weighted(weights, iterates, j):
    return sum(w * params[j] for w, params in zip(weights, iterates))


@pytest.mark.parametrize("start", [1, 2, 5])
def test_uniform_is_the_mean_of_the_iterates_from_step_start(start):
    iterates = _iterates(start)
    avg, state = IterateAverage("uniform", start=start), _state()
    for t, params in enumerate(iterates, start=1):
        _step(avg, state, [p.copy() for p in params])
        if t < start:
            assert state.average_params is None and avg.value(state) is None
            continue
        assert state.n_averaged == t - start + 1
        for j in range(2):
            expected = np.mean([params[j] for params in iterates[start - 1:t]], axis=0)
            np.testing.assert_allclose(avg.value(state)[j], expected, rtol=1e-13, atol=1e-15)


def test_polynomial_average_by_hand():
    # eta = 3: c_t = 4 / (t + 3); iterates 1, 2, 3 (and a second parameter x10):
    # t=1: 1;  t=2: 1/5 * 1 + 4/5 * 2 = 9/5;  t=3: 1/15 * 1 + 4/15 * 2 + 10/15 * 3 = 39/15
    avg, state = IterateAverage("polynomial", eta=3), _state()
    expected = [1.0, 9 / 5, 39 / 15]
    for w, e in zip([1.0, 2.0, 3.0], expected):
        _step(avg, state, [np.array([w]), np.array([10 * w])])
        np.testing.assert_allclose(avg.value(state)[0], [e], rtol=1e-15)
        np.testing.assert_allclose(avg.value(state)[1], [10 * e], rtol=1e-15)
    assert state.n_averaged == 3


@pytest.mark.parametrize("eta", [0, 1, 3, 5])
def test_polynomial_average_has_the_closed_form_weights(eta):
    iterates = _iterates(eta)
    avg, state = IterateAverage("polynomial", eta=eta), _state()
    for t, params in enumerate(iterates, start=1):
        _step(avg, state, [p.copy() for p in params])
        weights = [poly_weight(s, t, eta) for s in range(1, t + 1)]
        assert sum(weights) == pytest.approx(1.0, rel=1e-14)
        for j in range(2):
            np.testing.assert_allclose(avg.value(state)[j], _weighted(weights, iterates[:t], j),
                                       rtol=1e-12, atol=1e-14)


def test_polynomial_with_eta_zero_is_the_uniform_average_bit_for_bit():
    iterates = _iterates(7)
    poly, uni = IterateAverage("polynomial", eta=0), IterateAverage("uniform")
    s1, s2 = _state(), _state()
    for params in iterates:
        _step(poly, s1, [p.copy() for p in params])
        _step(uni, s2, [p.copy() for p in params])
    for a, b in zip(poly.value(s1), uni.value(s2)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("decay", [0.95, 0.5])
def test_exponential_is_the_bias_corrected_moving_average(decay):
    iterates = _iterates(3, n=7)
    avg, state = IterateAverage("exponential", decay=decay), _state()
    for t, params in enumerate(iterates, start=1):
        _step(avg, state, [p.copy() for p in params])
        # m_t = sum_s (1 - d) d^(t - s) w_s, reported as m_t / (1 - d^t)
        raw = [(1 - decay) * decay ** (t - s) for s in range(1, t + 1)]
        weights = [w / (1 - decay ** t) for w in raw]
        assert sum(weights) == pytest.approx(1.0, rel=1e-14)
        for j in range(2):
            np.testing.assert_allclose(state.average_params[j], _weighted(raw, iterates[:t], j),
                                       rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(avg.value(state)[j], _weighted(weights, iterates[:t], j),
                                       rtol=1e-12, atol=1e-14)
    # the value is new arrays: the state keeps the uncorrected sums
    assert avg.value(state)[0] is not state.average_params[0]


@pytest.mark.parametrize("avg", [IterateAverage("uniform"), IterateAverage("polynomial", eta=3),
                                 IterateAverage("exponential", decay=0.5)],
                         ids=["uniform", "polynomial", "exponential"])
def test_non_finite_iterates_are_left_out(avg):
    state, ref = _state(), _state()
    finite = [[np.array([1.0, 2.0]), np.array([3.0])], [np.array([2.0, 2.0]), np.array([4.0])]]
    _step(avg, state, finite[0])
    _step(avg, state, [np.array([np.inf, 2.0]), np.array([3.0])])
    _step(avg, state, [np.array([1.0, 2.0]), np.array([np.nan])])
    assert state.n_averaged == 1
    _step(avg, state, finite[1])
    for params in finite:
        _step(avg, ref, [p.copy() for p in params])
    for a, b in zip(avg.value(state), avg.value(ref)):
        np.testing.assert_array_equal(a, b)
    if avg.schedule == "polynomial":  # t = 2: c = 4/5
        np.testing.assert_allclose(avg.value(state)[0], [1.8, 2.0], rtol=1e-15)


def test_saved_state_is_a_copy_and_restores():
    avg, state = IterateAverage("polynomial", eta=3), _state()
    assert IterateAverage.saved(state) is None
    _step(avg, state, [np.array([1.0])])
    saved = IterateAverage.saved(state)
    _step(avg, state, [np.array([5.0])])
    assert state.n_averaged == 2 and saved[1] == 1
    np.testing.assert_array_equal(saved[0][0], [1.0])
    IterateAverage.restore(state, saved)
    assert state.n_averaged == 1
    np.testing.assert_array_equal(avg.value(state)[0], [1.0])
    IterateAverage.restore(state, None)
    assert state.average_params is None and state.n_averaged == 0


@pytest.mark.parametrize("schedule", ["uniform", "polynomial", "exponential"])
@pytest.mark.parametrize("save", ["pickle", "plain"])
def test_state_round_trips_and_continues_identically(schedule, save):
    iterates = _iterates(11, n=6)
    avg = IterateAverage(schedule, **{"uniform": {}, "polynomial": dict(eta=2),
                                      "exponential": dict(decay=0.8)}[schedule])
    whole, half = _state(), _state()
    for params in iterates:
        _step(avg, whole, [p.copy() for p in params])
    for params in iterates[:3]:
        _step(avg, half, [p.copy() for p in params])
    half = pickle.loads(pickle.dumps(half)) if save == "pickle" else from_plain(to_plain(half))
    assert isinstance(half, TrainState) and half.n_averaged == 3
    for params in iterates[3:]:
        _step(avg, half, [p.copy() for p in params])
    for a, b in zip(avg.value(half), avg.value(whole)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kw, match", [
    (dict(schedule="mean"), "schedule must be one of"),
    (dict(schedule="polynomial", eta=-1), "eta must be >= 0"),
    (dict(schedule="exponential", decay=1.0), "decay must be"),
    (dict(schedule="exponential", decay=0.0), "decay must be"),
    (dict(schedule="polynomial"), "eta is the parameter of the 'polynomial' schedule"),
    (dict(schedule="exponential"), "decay is the parameter of the 'exponential' schedule"),
    (dict(schedule="uniform", eta=3), "eta is the parameter of the 'polynomial' schedule"),
    (dict(schedule="polynomial", eta=3, decay=0.5), "decay is the parameter of the 'exp"),
])
def test_invalid_schedule_is_a_value_error(kw, match):
    with pytest.raises(ValueError, match=match):
        IterateAverage(**kw)
