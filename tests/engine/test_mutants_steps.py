"""Step rules: cases built for mutants that survived the mutation run
(docs/testing.md, "Mutation testing").  Every expected rate is computed by
hand from the rule's formula (AdGD: Malitsky & Mishchenko 2020)."""

import math
import warnings

import numpy as np
import pytest

from sklipschitz._engine.steps import (
    ConstantStep,
    LipschitzStep,
    LocalStep,
    make_rule,
    scale,
)


def _grid_down(x, k=8):
    """The largest 2**(j/k) <= x, j an integer (by search, not by log2)."""
    j = 0
    while 2.0 ** (j / k) > x:
        j -= 1
    while 2.0 ** ((j + 1) / k) <= x:
        j += 1
    return 2.0 ** (j / k)


def test_octave_steps_round_the_first_rate_down_to_the_grid():
    # 1/3 lies between 2**(-13/8) = 0.3242 and 2**(-12/8) = 0.3536
    rule = LocalStep(octave_steps=8)
    state = rule.init(3.0)
    lr = rule.rate(state, [np.zeros(2)], [np.ones(2)])
    assert isinstance(lr, float)
    assert lr == pytest.approx(2.0 ** (-13 / 8), rel=1e-15)
    assert lr == pytest.approx(_grid_down(1 / 3), rel=1e-15)
    # a rate already on the grid stays: 1/L = 2**(-1)
    state = rule.init(2.0)
    assert rule.rate(state, [np.zeros(2)], [np.ones(2)]) == 0.5
    # a coarser grid: 2**(j/2) <= 1/3 gives j = -4, 0.25
    rule2 = LocalStep(octave_steps=2)
    assert rule2.rate(rule2.init(3.0), [np.zeros(1)], [np.ones(1)]) == 0.25


def test_octave_steps_per_column_follow_adgd_then_round_down():
    rule = LocalStep(per_column=True, octave_steps=8)
    L = np.array([3.0, 0.2])  # 1/L: 0.333 (below 1) and 5 (above 1)
    state = rule.init(L)
    W0, b0 = np.array([[1.0, 2.0]]), np.array([0.0, 0.0])
    g0, gb0 = np.array([[2.0, 1.0]]), np.array([0.0, 0.0])
    lr0 = rule.rate(state, [W0, b0], [g0, gb0])
    assert lr0.shape == (2,) and lr0.dtype == np.float64
    np.testing.assert_allclose(lr0, [_grid_down(1 / 3), _grid_down(5.0)], rtol=1e-15)
    # second step: theta = inf, so the rate is the local estimate |dx| / (2 |dg|),
    # column 0: dx = 0.5, dg = 0.8 -> 0.3125; column 1: dx = 3, dg = 0.5 -> 3
    W1, g1 = np.array([[0.5, -1.0]]), np.array([[1.2, 0.5]])
    lr1 = rule.rate(state, [W1, b0], [g1, gb0])
    expect1 = np.array([_grid_down(0.5 / 1.6), _grid_down(3.0 / 1.0)])
    np.testing.assert_allclose(lr1, expect1, rtol=1e-15)
    np.testing.assert_allclose(state.theta, expect1 / lr0, rtol=1e-15)
    # third step: the growth bound sqrt(1 + theta) * lr1 against the local
    # estimate, then rounded down
    W2, g2 = np.array([[0.2, -1.5]]), np.array([[1.0, 0.45]])
    lr2 = rule.rate(state, [W2, b0], [g2, gb0])
    local = np.array([0.3 / 0.4, 0.5 / 0.1])
    growth = np.sqrt(1 + expect1 / lr0) * expect1
    expect2 = [_grid_down(x) for x in np.minimum(growth, local)]
    np.testing.assert_allclose(lr2, expect2, rtol=1e-14)


def test_a_point_that_does_not_move_keeps_the_rate_without_warnings():
    # column 1 stays where it is while its gradient changes: the local
    # estimate is 0, and the rule keeps the previous rate (the rounding
    # must not warn about the log of 0)
    rule = LocalStep(per_column=True, octave_steps=8)
    state = rule.init(np.array([2.0, 2.0]))
    W, b = np.array([[1.0, 1.0]]), np.zeros(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rule.rate(state, [W, b], [np.array([[1.0, 1.0]]), b])
        lr = rule.rate(state, [np.array([[0.5, 1.0]]), b], [np.array([[0.5, 3.0]]), b])
    # column 0: |dx| / (2 |dg|) = 0.5 / 1 = 0.5, on the grid; column 1 kept 0.5
    np.testing.assert_array_equal(lr, [0.5, 0.5])


def test_local_estimate_below_one_binds():
    # |dg| < 1 and |dx| / (2 |dg|) smaller than the growth bound
    rule = LocalStep()
    state = rule.init(10.0)
    assert rule.rate(state, [np.array([0.0])], [np.array([1.0])]) == 0.1
    # dx = 0.1, dg = 0.5: local 0.1; theta = 1
    assert rule.rate(state, [np.array([-0.1])], [np.array([0.5])]) == pytest.approx(0.1)
    # dx = 0.01, dg = 0.2: local 0.025 < sqrt(2) * 0.1
    assert rule.rate(state, [np.array([-0.11])], [np.array([0.3])]) == pytest.approx(
        0.025, rel=1e-12)
    assert state.theta == pytest.approx(0.25, rel=1e-12)
    # the next gradient difference is measured from the last gradient (0.3):
    # dx = 0.01, dg = 0.25 -> 0.02 < sqrt(1.25) * 0.025
    assert rule.rate(state, [np.array([-0.12])], [np.array([0.05])]) == pytest.approx(
        0.02, rel=1e-12)


def test_local_estimate_at_a_stationary_point_lets_the_rate_grow():
    # neither the point nor the gradient changes (0/0): no local bound, the
    # rate grows by sqrt(1 + theta) from the second step on
    rule = LocalStep()
    state = rule.init(4.0)
    p, g = [np.array([1.0, 2.0])], [np.array([0.5, 0.5])]
    with np.errstate(all="raise"):
        assert rule.rate(state, p, g) == 0.25
        assert rule.rate(state, p, g) == 0.25  # theta = inf: growth infinite, rate kept
        assert rule.rate(state, p, g) == pytest.approx(0.25 * math.sqrt(2.0))
        # theta = sqrt(2) now
        assert rule.rate(state, p, g) == pytest.approx(
            0.25 * math.sqrt(2.0) * math.sqrt(1.0 + math.sqrt(2.0)))


def test_constants_are_held_in_float64():
    # a float32 constant (e.g. computed from float32 data) gives float64 rates
    L = np.array([3.0, 7.0], dtype=np.float32)
    rule = LipschitzStep()
    state = rule.init(L)
    assert state.lipschitz.dtype == np.float64
    np.testing.assert_array_equal(rule.rate(state, [], []), [1 / 3, 1 / 7])


def test_constant_step_has_one_rate_per_column():
    rule = ConstantStep(0.3)
    lr = rule.rate(rule.init(np.ones(3)), [], [])
    assert np.shape(lr) == (3,)
    np.testing.assert_array_equal(lr, 0.3)


def test_scale_multiplies_every_shape():
    assert scale(0.5, 2.0) == 1.0
    assert scale(0.5, 1.0) == 0.5
    assert scale([1.0, 2.0], 2.0) == [2.0, 4.0]
    assert scale([1.0, 2.0], 0.5) == [0.5, 1.0]
    np.testing.assert_array_equal(scale(np.array([1.0, 2.0]), 4.0), [4.0, 8.0])


def test_make_rule_local_per_column():
    rule = make_rule("local", per_column=True)
    state = rule.init(np.array([1.0, 4.0]))
    lr = rule.rate(state, [np.zeros((2, 2)), np.zeros(2)], [np.ones((2, 2)), np.ones(2)])
    np.testing.assert_array_equal(lr, [1.0, 0.25])
    # the second step runs AdGD column by column: both columns moved by
    # (1, 1, 1); column 0's gradient changed by as much, column 1's did not
    W, b = -np.ones((2, 2)), -np.ones(2)
    gW, gb = np.array([[0.0, 1.0], [0.0, 1.0]]), np.array([0.0, 1.0])
    lr = rule.rate(state, [W, b], [gW, gb])
    np.testing.assert_allclose(lr, [0.5, 0.25])  # sqrt(3) / (2 sqrt(3)); kept


def test_make_rule_defaults_smooth_and_one_rate():
    # by default the loss is smooth (no subgradient decay) ...
    rule = make_rule("lipschitz")
    state = rule.init(4.0)
    for _ in range(4):
        rule.new_epoch(state)
    assert rule.rate(state, [], []) == 0.25
    # ... and 'local' runs one AdGD over all entries: |dx| / (2 |dg|) with the
    # norms of the whole vector, sqrt(2) / (2 * 2 sqrt(2)) = 0.25
    rule = make_rule("local")
    state = rule.init(1.0)
    assert rule.rate(state, [np.zeros(2)], [np.zeros(2)]) == 1.0
    lr = rule.rate(state, [np.ones(2)], [np.full(2, 2.0)])
    assert isinstance(lr, float) and lr == pytest.approx(0.25)
