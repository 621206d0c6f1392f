"""Losses: second set of cases built for mutants that survived the mutation
run (docs/testing.md, "Mutation testing"): the weighted quantile at ties and
for one sample, the robust location against a root finder, float32 kept
float32, the softmax at far-apart scores, and the per-column views."""

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import logsumexp

from sklipschitz._engine.losses import (
    AbsoluteError,
    HalfSquaredError,
    Huber,
    LogCosh,
    MultinomialLoss,
    PinballLoss,
    SmoothBinaryQuantileLoss,
    get_regression_loss,
    weighted_quantile,
)


def lower_quantile(y, w, num, den):
    """The smallest ``y_k`` whose cumulative weight reaches ``num / den`` of the
    total, in exact integer arithmetic (integer weights)."""
    order = np.argsort(y, kind="stable")
    total = int(sum(int(v) for v in w))
    cum = 0
    for i in order:
        cum += int(w[i])
        if cum * den >= num * total:
            return y[i]
    raise AssertionError


@pytest.mark.parametrize("weights, num, den", [
    (np.full(29, 1.0), 15, 29),                       # equal weights
    (np.array([6.0, 5, 3, 2, 5, 4]), 14, 25),       # unequal, a tie after the third
    (np.array([1.0, 3.0]), 1, 4),                    # a tie after the first
])
@pytest.mark.parametrize("factor", [1.0, 4e6, 1e9])
def test_weighted_quantile_lower_on_ties_at_any_weight_scale(weights, num, den, factor):
    # q lands exactly on a cumulative weight: the lower value is the answer,
    # whatever the scale of the weights (q * total is rounded in floating point)
    y = np.arange(weights.size, dtype=np.float64)[::-1].copy()
    expected = lower_quantile(y, weights, num, den)
    got = weighted_quantile(y[:, None], weights * factor, num / den)
    assert got[0] == expected


def test_weighted_quantile_one_sample_last_value_and_columns():
    # one sample: its value, at every level
    for q in (0.1, 0.5, 0.9):
        assert weighted_quantile(np.array([[3.0]]), np.array([2.0]), q)[0] == 3.0
    # a level beyond the last cumulative boundary but one is the largest value
    assert weighted_quantile(np.array([[1.0], [5.0]]), np.array([1.0, 1.0]), 0.9)[0] == 5.0
    assert weighted_quantile(np.array([[1.0], [5.0]]), np.array([1.0, 2.0]), 0.9)[0] == 5.0
    # every column, equal and unequal weights
    y = np.array([[1.0, 10.0], [2.0, 30.0], [3.0, 20.0]])
    np.testing.assert_array_equal(weighted_quantile(y, np.ones(3), 0.5), [2.0, 20.0])
    np.testing.assert_array_equal(weighted_quantile(y, np.array([1.0, 1.0, 3.0]), 0.5), [3.0, 20.0])


def test_constants_of_the_mean_and_the_median_with_unnormalised_weights():
    y = np.array([[1.0], [2.0], [10.0], [4.0]])
    w = np.array([2.0, 3.0, 1.0, 4.0])  # sum 10
    np.testing.assert_allclose(HalfSquaredError().constant_raw(y, w), [(2 + 6 + 10 + 16) / 10])
    # weighted median: sorted 1 (2), 2 (3), 4 (4), 10 (1): half the weight (5) reached at 2
    assert AbsoluteError().constant_raw(y, w)[0] == 2.0


def robust_root(loss, y, w):
    f = lambda c: float(np.sum(w * loss.psi(c - y)))  # noqa: E731
    return brentq(f, y.min() - 1, y.max() + 1, xtol=1e-14, rtol=1e-15)


@pytest.mark.parametrize("loss", [LogCosh(1.0), LogCosh(0.3), Huber(1.0), Huber(0.2)],
                         ids=["logcosh", "logcosh-0.3", "huber", "huber-0.2"])
def test_robust_location_is_the_root_of_the_weighted_psi(loss):
    # skewed data and weights so that the root is neither the median nor the mean,
    # and (for Huber) the root is unique: some residual stays inside [-eps, eps]
    rng = np.random.default_rng(3)
    y = np.concatenate([rng.normal(0, 0.3, 40), rng.exponential(4.0, 15) + 1.0, [25.0, -8.0]])
    w = rng.uniform(0.2, 3.0, y.size)
    c = loss.constant_raw(y[:, None], w)
    assert c.shape == (1,) and c.dtype == np.float64
    ref = robust_root(loss, y, w)
    assert c[0] == pytest.approx(ref, rel=1e-12, abs=1e-12)
    # two columns at once, each its own root
    Y = np.column_stack([y, 3.0 * y[::-1] - 2.0])
    C = loss.constant_raw(Y, w)
    np.testing.assert_allclose(C, [ref, robust_root(loss, Y[:, 1], w)], rtol=1e-12, atol=1e-12)


def test_robust_location_two_points_symmetric_and_far():
    # two equal-weight points: the root is their midpoint (psi is odd)
    for loss in (LogCosh(1.0), Huber(1.35)):
        np.testing.assert_allclose(loss.constant_raw(np.array([[0.0], [1.0]]), np.ones(2)), [0.5],
                                   rtol=1e-13)
    # a heavy point: the root is where the weighted tanh balance, in closed form
    # 3 tanh(c) + tanh(c - 4) = 0 has a root in (0, 1)
    y = np.array([[0.0], [4.0]])
    c = LogCosh(1.0).constant_raw(y, np.array([3.0, 1.0]))[0]
    assert 3 * np.tanh(c) + np.tanh(c - 4) == pytest.approx(0.0, abs=1e-13)


def test_float32_stays_float32():
    # a float32 fit computes its gradients, column deltas and constants in float32
    rng = np.random.default_rng(0)
    y = rng.standard_normal((30, 2)).astype(np.float32)
    raw = rng.standard_normal((30, 2)).astype(np.float32)
    w = rng.uniform(0.5, 2.0, 30)
    w32 = (w / w.sum()).astype(np.float32)
    yb = np.where(y > 0, 1.0, -1.0).astype(np.float32)
    cases = [(PinballLoss(0.3), y), (LogCosh(0.5), y), (Huber(0.4), y),
             (SmoothBinaryQuantileLoss(0.3), yb)]
    for loss, yy in cases:
        g = loss.gradient(yy, raw)
        assert g.dtype == np.float32, loss
        np.testing.assert_allclose(g, loss.gradient(yy.astype(np.float64), raw.astype(np.float64)),
                                   rtol=1e-5, atol=1e-6)
        values, delta = loss.bind(yy, w).columns(raw)
        assert delta.dtype == np.float32, loss
        np.testing.assert_allclose(delta, g * (w / w.sum())[:, None], rtol=1e-5, atol=1e-7)
        _, part = loss.bind(yy, w).take([1]).columns(raw[:, [1]])
        assert part.dtype == np.float32, loss
        np.testing.assert_allclose(part, delta[:, [1]], rtol=1e-6)
    for loss in (HalfSquaredError(), PinballLoss(0.3)):
        value, delta = loss.value_and_weighted_gradient(y, raw.copy(), w32)
        assert delta.dtype == np.float32, loss
        np.testing.assert_allclose(delta, loss.gradient(y, raw) * w32[:, None], rtol=1e-6)
        assert value == pytest.approx(float(w32 @ loss.loss(y, raw)), rel=1e-5)
    # constants: the quantile and the robust location in the dtype of y
    q = weighted_quantile(y, w, 0.5)
    assert q.dtype == np.float32
    for loss in (LogCosh(1.0), Huber(0.5)):
        c = loss.constant_raw(y, w)
        assert c.dtype == np.float32, loss
        np.testing.assert_allclose(c, loss.constant_raw(y.astype(np.float64), w), rtol=1e-6)


def test_float_weight_other_than_one_scales_the_gradient():
    y = np.array([[0.0], [1.0], [3.0]])
    raw = np.array([[0.5], [0.5], [0.5]])
    for loss in (AbsoluteError(), LogCosh(1.0), PinballLoss(0.2)):
        value, delta = loss.value_and_weighted_gradient(y, raw.copy(), 2.0)
        np.testing.assert_allclose(delta, 2.0 * loss.gradient(y, raw))
        assert value == pytest.approx(2.0 * float(loss.loss(y, raw).sum()))


def test_multinomial_far_apart_scores_and_unnormalised_targets():
    # rows of scores thousands apart: each row's log-sum-exp is shifted by its own max
    raw = np.array([[0.0, 1.0, -1.0], [1000.0, 1001.0, 999.0], [-2000.0, -1999.5, -2003.0]])
    y = np.eye(3)[[1, 0, 2]]
    ref = logsumexp(raw, axis=1) - np.sum(y * raw, axis=1)
    loss = MultinomialLoss()
    np.testing.assert_allclose(loss.loss(y, raw), ref, rtol=1e-12)
    p = np.exp(raw - logsumexp(raw, axis=1, keepdims=True))
    np.testing.assert_allclose(loss.gradient(y, raw), p - y, rtol=1e-12, atol=1e-15)
    value, delta = loss.value_and_weighted_gradient(y, raw.copy(), 1.0)
    assert value == pytest.approx(ref.sum(), rel=1e-12)
    # targets whose rows do not sum to 1 (soft or missing labels):
    # the loss is still logsumexp(raw) - y.raw
    ys = np.array([[0.5, 0.5, 1.0], [0.0, 0.0, 0.0], [0.2, 0.3, 0.1]])
    np.testing.assert_allclose(loss.loss(ys, raw),
                               logsumexp(raw, axis=1) - np.sum(ys * raw, axis=1), rtol=1e-12)


def test_per_column_views_of_the_parametrised_losses():
    # one level: the loss itself for any column
    assert PinballLoss(0.3).column(0).quantile == 0.3
    two = PinballLoss(np.array([0.1, 0.9]))
    assert two.column(1).quantile == 0.9
    np.testing.assert_array_equal(two.take([1]).quantile, [0.9])
    assert two.take([1]).lipschitz == pytest.approx(0.9)
    assert LogCosh(np.array([1.0, 2.0])).column(1).scale == 2.0
    assert LogCosh(np.array([1.0, 2.0])).column(1).lipschitz == 2.0
    assert Huber(np.array([0.5, 3.0])).column(0).epsilon == 0.5
    assert Huber(np.array([0.5, 3.0])).column(0).lipschitz == 0.5


def test_regression_loss_by_name_keeps_the_parameters():
    assert get_regression_loss("huber", epsilon=0.5).epsilon == 0.5
    assert get_regression_loss("log_cosh", scale=3.0).scale == 3.0
    assert get_regression_loss("quantile", 0.2).quantile == 0.2
    # the defaults of the networks, which pass only the quantile
    assert get_regression_loss("huber").epsilon == 1.35
    assert get_regression_loss("log_cosh").scale == 1.0
