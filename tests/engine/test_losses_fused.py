"""The fused ``value_and_weighted_gradient`` that training uses, and the
column-wise ``bind(...).columns``, against each loss's own value and gradient
(plain NumPy formulas written out here), with float and array weights."""

import math

import numpy as np
import pytest

from sklipschitz._engine.losses import (
    AbsoluteError,
    BinomialLoss,
    HalfSquaredError,
    LogCosh,
    MultinomialLoss,
    PinballLoss,
    SmoothBinaryQuantileLoss,
)


def _targets(loss, rng, n, k):
    if isinstance(loss, BinomialLoss):
        return rng.integers(0, 2, (n, k)).astype(float)
    if isinstance(loss, MultinomialLoss):
        return np.eye(k)[rng.integers(0, k, n)]
    if isinstance(loss, SmoothBinaryQuantileLoss):
        return np.where(rng.random((n, k)) < 0.5, -1.0, 1.0)
    return rng.standard_normal((n, k)) * 3


def _reference(loss, y, raw):
    """Per-sample value and per-entry derivative, written out independently."""
    r = raw - y
    if isinstance(loss, HalfSquaredError):
        return 0.5 * (r**2).sum(1), r
    if isinstance(loss, AbsoluteError):
        return np.abs(r).sum(1), np.sign(r)
    if isinstance(loss, PinballLoss):
        tau, u = loss.quantile, y - raw
        value = np.where(u >= 0, tau * u, (tau - 1) * u).sum(1)
        grad = np.where(u > 0, -tau, np.where(u < 0, 1 - tau, 0.0))
        return value, grad
    if isinstance(loss, LogCosh):
        return np.log(np.cosh(r)).sum(1), np.tanh(r)
    if isinstance(loss, BinomialLoss):
        p = 1 / (1 + np.exp(-raw))
        return (-(y * np.log(p) + (1 - y) * np.log(1 - p))).sum(1), p - y
    if isinstance(loss, MultinomialLoss):
        e = np.exp(raw)
        p = e / e.sum(1, keepdims=True)
        return -(y * np.log(p)).sum(1), p - y
    if isinstance(loss, SmoothBinaryQuantileLoss):
        tau = loss.quantile
        g = 2 / math.pi * np.arctan(raw)
        u = y - g
        value = (np.maximum(tau * u, (tau - 1) * u) / tau).sum(1)
        du = -2 / math.pi / (1 + raw**2)          # d u / d raw
        grad = np.where(u > 0, tau, tau - 1) / tau * du
        return value, grad
    raise AssertionError(loss)


LOSSES = [
    HalfSquaredError(),
    AbsoluteError(),
    PinballLoss(0.2),
    PinballLoss(0.85),
    LogCosh(),
    BinomialLoss(),
    MultinomialLoss(),
    SmoothBinaryQuantileLoss(0.3),
    SmoothBinaryQuantileLoss(np.array([0.1, 0.5, 0.8])),
]


@pytest.mark.parametrize("loss", LOSSES, ids=repr)
@pytest.mark.parametrize("weights", ["float", "one", "array"])
def test_fused_value_and_gradient_match_the_loss(loss, weights):
    rng = np.random.default_rng(3)
    n, k = 60, 3
    y = _targets(loss, rng, n, k)
    raw = rng.standard_normal((n, k)) * 2
    raw[:4] = y[:4]                    # ties: the subgradient 0 of the kinked losses
    ref_value, ref_grad = _reference(loss, y, raw)
    if weights == "array":
        w = rng.uniform(0.1, 2.0, n)
        w /= w.sum()
        expected = (w @ ref_value, ref_grad * w[:, None])
    else:
        w = 1.0 if weights == "one" else 0.37
        expected = (w * ref_value.sum(), ref_grad * w)
    # the loss's own value and gradient agree with the written-out formulas
    np.testing.assert_allclose(loss.loss(y, raw), ref_value, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(loss.gradient(y, raw), ref_grad, rtol=1e-12, atol=1e-12)
    value, delta = loss.value_and_weighted_gradient(y, raw.copy(), w)
    assert value == pytest.approx(expected[0], rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(delta, expected[1], rtol=1e-12, atol=1e-15)
    # and against the loss's own (unfused) methods
    own = loss.loss(y, raw)
    own_value = w * own.sum() if isinstance(w, float) else w @ own
    assert value == pytest.approx(own_value, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("loss", [l_ for l_ in LOSSES if not isinstance(l_, MultinomialLoss)],
                         ids=repr)
def test_bound_columns_match_the_loss_per_column(loss):
    rng = np.random.default_rng(4)
    n, k = 50, 3
    y = _targets(loss, rng, n, k)
    raw = rng.standard_normal((n, k)) * 2
    sw = rng.uniform(0.5, 3.0, n)
    s = sw / sw.sum()
    bound = loss.bind(y, sw)
    values, delta = bound.columns(raw.copy())
    # per column: the weighted mean of the per-entry value, s_i * derivative
    _, ref_grad = _reference(loss, y, raw)
    def column_loss(j):
        if isinstance(loss, SmoothBinaryQuantileLoss):
            return SmoothBinaryQuantileLoss(loss.quantile[j % loss.quantile.size])
        return loss

    per_entry = np.stack([_reference(column_loss(j), y[:, [j]], raw[:, [j]])[0]
                          for j in range(k)], axis=1)
    np.testing.assert_allclose(values, s @ per_entry, rtol=1e-12)
    np.testing.assert_allclose(delta, ref_grad * s[:, None], rtol=1e-12, atol=1e-15)
    # a subset of the columns gives the same numbers for those columns
    part = bound.take(np.array([2, 0]))
    v2, d2 = part.columns(raw[:, [2, 0]].copy())
    np.testing.assert_allclose(v2, values[[2, 0]], rtol=1e-12)
    np.testing.assert_allclose(d2, (ref_grad * s[:, None])[:, [2, 0]], rtol=1e-12, atol=1e-15)


def test_pinball_fused_gradient_uses_tau_not_one_minus_tau():
    # one sample above and one below the prediction at tau = 0.2
    loss = PinballLoss(0.2)
    y = np.array([[1.0], [-1.0]])
    raw = np.zeros((2, 1))
    value, delta = loss.value_and_weighted_gradient(y, raw.copy(), 1.0)
    # rho(1) = 0.2, rho(-1) = 0.8; derivatives in raw: -0.2 and +0.8
    assert value == pytest.approx(1.0, rel=1e-15)
    np.testing.assert_array_equal(delta, [[-0.2], [0.8]])
    v, d = loss.value_and_weighted_gradient(y, raw.copy(), np.array([0.75, 0.25]))
    assert v == pytest.approx(0.75 * 0.2 + 0.25 * 0.8, rel=1e-15)
    np.testing.assert_allclose(d, [[-0.15], [0.2]], rtol=1e-15)


def test_smooth_binary_quantile_repr_and_float32_columns():
    assert repr(SmoothBinaryQuantileLoss(0.3)) == "SmoothBinaryQuantileLoss(quantile=0.3)"
    assert repr(SmoothBinaryQuantileLoss([0.2, 0.6])) == \
        "SmoothBinaryQuantileLoss(quantile=[0.2 0.6])"
    # float32 targets: delta stays float32, the values are summed in float64
    rng = np.random.default_rng(8)
    loss = SmoothBinaryQuantileLoss(np.array([0.3, 0.7]))
    y = np.where(rng.random((20000, 2)) < 0.5, -1.0, 1.0).astype(np.float32)
    raw = (rng.standard_normal((20000, 2)) * 3).astype(np.float32)
    sw = np.ones(20000)
    values, delta = loss.bind(y, sw).columns(raw)
    assert delta.dtype == np.float32
    ref_value, ref_grad = _reference(loss, y.astype(np.float64), raw.astype(np.float64))
    per_col = np.stack([_reference(SmoothBinaryQuantileLoss(q), y[:, [j]].astype(np.float64),
                                   raw[:, [j]].astype(np.float64))[0]
                        for j, q in enumerate([0.3, 0.7])], axis=1).mean(0)
    np.testing.assert_allclose(values, per_col, rtol=1e-7)
    np.testing.assert_allclose(delta, ref_grad / 20000, rtol=1e-5)


def test_smooth_binary_quantile_constants_per_output():
    # (2/pi) max(1, (1 - tau)/tau) and (2/pi)(3 sqrt(3)/8) max(1, (1 - tau)/tau)
    tau = np.array([0.2, 0.5, 0.8])
    factor = np.array([4.0, 1.0, 1.0])
    loss = SmoothBinaryQuantileLoss(tau)
    np.testing.assert_allclose(loss.lipschitz_per_output, 2 / math.pi * factor, rtol=1e-15)
    np.testing.assert_allclose(loss.curvature_per_output,
                               2 / math.pi * 3 * math.sqrt(3) / 8 * factor, rtol=1e-15)
    assert loss.curvature == pytest.approx(2 / math.pi * 3 * math.sqrt(3) / 8 * 4, rel=1e-15)
