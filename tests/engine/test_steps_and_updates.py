"""Step rules and updates over a few steps, against values computed by hand."""

import math

import numpy as np
import pytest

from sklipschitz._engine.steps import ConstantStep, LipschitzStep, LocalStep, make_rule
from sklipschitz._engine.updates import SGD, Adam, Momentum, Nesterov

GRADS = [np.array([1.0, -2.0]), np.array([0.5, 0.5]), np.array([-1.0, 3.0])]


def run_update(update, lr, grads=GRADS):
    p = np.zeros(2)
    state = update.init([p])
    out = []
    for g in grads:
        state = update.update([p], [g.copy()], lr, state)
        out.append(p.copy())
    return out


def test_sgd_per_column_and_per_parameter_rates():
    W, b = np.ones((2, 3)), np.ones(3)
    gW, gb = np.full((2, 3), 2.0), np.full(3, 4.0)
    rates = np.array([0.1, 0.2, 0.3])
    SGD().update([W, b], [gW, gb], rates, None)
    np.testing.assert_allclose(W, np.tile(1 - 2.0 * rates, (2, 1)))
    np.testing.assert_allclose(b, 1 - 4.0 * rates)
    W, b = np.ones((2, 3)), np.ones(3)
    SGD().update([W, b], [gW, gb], [0.5, 0.25], None)
    np.testing.assert_allclose(W, 0.0)
    np.testing.assert_allclose(b, 0.0)


def test_momentum_three_steps():
    beta, lr = 0.9, 0.1
    out = run_update(Momentum(beta), lr)
    v = np.zeros(2)
    p = np.zeros(2)
    for t, g in enumerate(GRADS, start=1):
        v = beta * v + (1 - beta) * g
        p = p - lr / (1 - beta**t) * v
        np.testing.assert_allclose(out[t - 1], p, rtol=1e-14)
    # the first step has the size of a plain gradient step
    np.testing.assert_allclose(out[0], -lr * GRADS[0], rtol=1e-14)


def test_adam_three_steps_with_both_bias_corrections():
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.01
    out = run_update(Adam(b1, b2, eps), lr)
    m = v = np.zeros(2)
    p = np.zeros(2)
    for t, g in enumerate(GRADS, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        np.testing.assert_allclose(out[t - 1], p, rtol=1e-12)
    # bias-corrected, the first Adam step is lr * sign(g)
    np.testing.assert_allclose(out[0], -lr * np.sign(GRADS[0]), rtol=1e-6)


def test_nesterov_three_steps_and_restart():
    lr = 0.1
    W = np.zeros((1, 2))
    upd = Nesterov()
    state = upd.init([W])
    x_prev, t = np.zeros((1, 2)), np.ones(2)
    grads = [np.array([[1.0, 1.0]]), np.array([[1.0, -1.0]]), np.array([[1.0, 0.1]])]
    y = np.zeros((1, 2))
    for g in grads:
        state = upd.update([W], [g], lr, state)
        x_new = y - lr * g
        restart = (g * (x_new - x_prev)).sum(axis=0) > 0  # gradient along the last move
        t_used = np.where(restart, 1.0, t)
        t_next = 0.5 * (1 + np.sqrt(1 + 4 * t_used**2))
        y = x_new + (t_used - 1) / t_next * (x_new - x_prev)
        x_prev, t = x_new, t_next
        np.testing.assert_allclose(W, y, rtol=1e-14)
    # at the third step column 1's gradient points along its last move: it restarts
    assert t[0] != t[1]


def test_lipschitz_step_and_its_decay():
    rule = LipschitzStep()
    state = rule.init(4.0)
    rule.new_epoch(state)
    assert rule.rate(state, [], []) == 0.25
    rule.new_epoch(state, [2.0, 8.0])
    assert rule.rate(state, [], []) == [0.5, 0.125]
    decay = LipschitzStep(decay=True)
    state = decay.init(np.array([1.0, 2.0]))
    for _ in range(4):
        decay.new_epoch(state)
    np.testing.assert_allclose(decay.rate(state, [], []), [0.5, 0.25])  # 1/(L sqrt(4))


def test_constant_step_per_column():
    rule = ConstantStep(0.3)
    state = rule.init(np.ones(3))
    np.testing.assert_array_equal(rule.rate(state, [], []), [0.3, 0.3, 0.3])


def test_local_step_follows_adgd():
    # Malitsky & Mishchenko (2020): lr_k = min(sqrt(1 + theta) lr, |dx| / (2 |dg|))
    rule = LocalStep()
    state = rule.init(2.0)
    p, g = [np.array([1.0, 0.0])], [np.array([2.0, 0.0])]
    assert rule.rate(state, p, g) == 0.5
    p2, g2 = [np.array([0.0, 0.0])], [np.array([1.0, 0.0])]
    lr = rule.rate(state, p2, g2)
    assert lr == pytest.approx(min(math.inf, 1.0 / (2 * 1.0)))  # theta = inf at first
    assert state.theta == pytest.approx(1.0)
    p3, g3 = [np.array([-0.5, 0.0])], [np.array([0.9, 0.0])]
    lr3 = rule.rate(state, p3, g3)
    assert lr3 == pytest.approx(min(math.sqrt(2.0) * 0.5, 0.5 / (2 * 0.1)))


def test_local_step_per_column_matches_one_column_at_a_time():
    rng = np.random.default_rng(0)
    seq = [(rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(3, 2)),
            rng.normal(size=2)) for _ in range(4)]
    both = LocalStep(per_column=True)
    sb = both.init(np.array([1.0, 3.0]))
    rates = [both.rate(sb, [W, b], [gW, gb]) for W, b, gW, gb in seq]
    for j, L in enumerate([1.0, 3.0]):
        one = LocalStep()
        so = one.init(L)
        for (W, b, gW, gb), r in zip(seq, rates):
            assert one.rate(so, [W[:, j], b[j:j + 1]], [gW[:, j], gb[j:j + 1]]) == \
                pytest.approx(r[j], rel=1e-12)


def test_make_rule():
    assert isinstance(make_rule("lipschitz", smooth=False), LipschitzStep)
    assert make_rule("lipschitz", smooth=False).decay
    assert not make_rule("paper", smooth=False).decay
    assert isinstance(make_rule("local"), LocalStep)
    assert isinstance(make_rule("local", stochastic=True), LipschitzStep)
    assert make_rule(0.5).learning_rate == 0.5
