"""Updates and AdGD's edge cases against values computed by hand: the
default hyperparameters, Nesterov on ``[W, b]`` with per-column restarts,
and AdGD when a move or a gradient change is zero."""

import warnings

import numpy as np
import pytest

from sklipschitz._engine.steps import LocalStep
from sklipschitz._engine.updates import Adam, Momentum


def test_momentum_default_beta_is_0_9():
    p = np.zeros(1)
    upd = Momentum()
    state = upd.init([p])
    for g in (1.0, 3.0):
        upd.update([p], [np.array([g])], 0.1, state)
    # v1 = 0.1, p1 = -0.1 * 0.1 / 0.1 = -0.1; v2 = 0.09 + 0.3 = 0.39,
    # p2 = -0.1 - 0.1 * 0.39 / 0.19
    assert p[0] == pytest.approx(-0.1 - 0.039 / 0.19, rel=1e-14)


def test_adam_defaults_are_0_9_0_999_1e_8():
    p = np.zeros(2)
    upd = Adam()
    state = upd.init([p])
    upd.update([p], [np.array([2e-8, 4.0])], 0.01, state)
    # first step: m^ = g, v^ = g^2, so p = -lr g / (|g| + eps)
    np.testing.assert_allclose(p, [-0.01 * 2e-8 / (2e-8 + 1e-8), -0.01 * 4 / (4 + 1e-8)],
                               rtol=1e-12)
    upd.update([p], [np.array([0.0, -2.0])], 0.01, state)
    # second step of coordinate 1: m = 0.9*0.4 - 0.2 = 0.16, m^ = 0.16/0.19;
    # v = 0.999*0.016 + 0.004 = 0.019984, v^ = 0.019984/0.001999
    m_hat, v_hat = 0.16 / 0.19, 0.019984 / 0.001999
    expected = -0.01 * 4 / (4 + 1e-8) - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8)
    assert p[1] == pytest.approx(expected, rel=1e-12)


def _nesterov_reference(W, b, grads, lr):
    """FISTA momentum on [W, b] with the per-column restart, written out."""
    xW, xb = W.copy(), b.copy()
    yW, yb = W.copy(), b.copy()
    t = np.ones(W.shape[1])
    out = []
    for gW, gb in grads:
        nW, nb = yW - lr * gW, yb - lr * gb
        inner = (gW * (nW - xW)).sum(axis=0) + gb * (nb - xb)
        t_used = np.where(inner > 0, 1.0, t)
        t_next = (1 + np.sqrt(1 + 4 * t_used**2)) / 2
        beta = (t_used - 1) / t_next
        yW, yb = nW + beta * (nW - xW), nb + beta * (nb - xb)
        xW, xb, t = nW, nb, t_next
        out.append((yW.copy(), yb.copy(), t_used.copy()))
    return out


def test_nesterov_on_weights_and_intercepts_with_restarts():
    from sklipschitz._engine.updates import Nesterov

    W, b = np.zeros((3, 2)), np.array([0.5, -0.5])
    grads = [
        (np.array([[1.0, 1.0], [0.0, 2.0], [1.0, 0.0]]), np.array([1.0, -1.0])),
        (np.array([[1.0, 1.0], [0.0, 1.0], [1.0, 0.0]]), np.array([1.0, -1.0])),
        # column 1: a zero gradient while it moves (inner product 0)
        (np.array([[-5.0, 0.0], [0.0, 0.0], [-5.0, 0.0]]), np.array([-5.0, 0.0])),
        # column 0: the gradient now points along its last move
        (np.array([[1.0, -1.0], [1.0, 1.0], [0.0, 0.5]]), np.array([0.5, 0.5])),
    ]
    ref = _nesterov_reference(W, b, grads, 0.1)
    upd = Nesterov()
    state = upd.init([W, b])
    for (gW, gb), (rW, rb, t_used) in zip(grads, ref):
        upd.update([W, b], [gW.copy(), gb.copy()], 0.1, state)
        np.testing.assert_allclose(W, rW, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(b, rb, rtol=1e-14, atol=1e-15)
    # column 0 restarts at the fourth step; column 1's zero gradient at the
    # third is no reason to restart
    used = np.array([r[2] for r in ref])
    assert used[3, 0] == 1.0 and np.all(used[1:3, 0] > 1.0)
    assert np.all(used[1:, 1] > 1.0)


def _adgd(params_seq, grads_seq, L):
    rule = LocalStep()
    state = rule.init(L)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # no division warnings
        return [rule.rate(state, [p], [g]) for p, g in zip(params_seq, grads_seq)]


def test_adgd_keeps_the_rate_when_a_difference_is_zero():
    p0, g0 = np.array([1.0, 0.0]), np.array([2.0, 0.0])
    # the gradient does not change: no curvature seen, the rate is kept
    rates = _adgd([p0, np.array([0.0, 0.0])], [g0, g0.copy()], 2.0)
    assert rates == [0.5, 0.5]
    # the point does not move but the gradient changes: local rate 0, kept
    rates = _adgd([p0, p0.copy()], [g0, np.array([1.0, 0.0])], 2.0)
    assert rates == [0.5, 0.5]
    # neither changes (0/0)
    rates = _adgd([p0, p0.copy()], [g0, g0.copy()], 4.0)
    assert rates == [0.25, 0.25]


def test_restricted_adgd_state_continues_as_the_kept_columns_alone():
    rng = np.random.default_rng(9)
    seq = [(rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=(3, 3)),
            rng.normal(size=3)) for _ in range(4)]
    L = np.array([1.0, 2.0, 4.0])
    keep = np.array([True, False, True])
    full = LocalStep(per_column=True)
    sf = full.init(L.copy())
    for W, b, gW, gb in seq[:2]:
        full.rate(sf, [W, b], [gW, gb])
    full.restrict(sf, keep)
    assert sf.lipschitz.shape == (2,) and sf.rate.shape == (2,) and sf.theta.shape == (2,)
    after = [full.rate(sf, [W[:, keep], b[keep]], [gW[:, keep], gb[keep]])
             for W, b, gW, gb in seq[2:]]
    part = LocalStep(per_column=True)
    sp_ = part.init(L[keep])
    for W, b, gW, gb in seq[:2]:
        part.rate(sp_, [W[:, keep], b[keep]], [gW[:, keep], gb[keep]])
    ref = [part.rate(sp_, [W[:, keep], b[keep]], [gW[:, keep], gb[keep]])
           for W, b, gW, gb in seq[2:]]
    for a, r in zip(after, ref):
        np.testing.assert_allclose(a, r, rtol=1e-14)
