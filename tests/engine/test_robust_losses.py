"""The Huber loss and the scaled log-cosh loss: values, derivatives, constants,
per-output parameters and the column-wise form, against direct formulas."""

import numpy as np
import pytest

from sklipschitz._engine.losses import Huber, LogCosh, PinballLoss, get_regression_loss


def finite_difference(f, raw, h=1e-6):
    return (f(raw + h) - f(raw - h)) / (2 * h)


@pytest.mark.parametrize("loss", [Huber(0.7), Huber(np.array([0.3, 2.0])),
                                  LogCosh(0.5), LogCosh(np.array([0.2, 5.0]))],
                         ids=["huber", "huber-per-output", "logcosh", "logcosh-per-output"])
def test_gradient_constants_and_columns(loss):
    rng = np.random.default_rng(0)
    y = rng.standard_normal((200, 2)) * 3
    raw = rng.standard_normal((200, 2)) * 3
    g = loss.gradient(y, raw)
    np.testing.assert_allclose(g, finite_difference(lambda r: loss.pointwise(y, r), raw),
                               rtol=1e-6, atol=1e-6)
    # sup |loss'| is the parameter (epsilon or scale), and the slope reaches it
    param = np.broadcast_to(getattr(loss, "epsilon", getattr(loss, "scale", None)), (2,))
    assert np.all(np.abs(g) <= param + 1e-12)
    assert loss.lipschitz == pytest.approx(param.max())
    far = loss.gradient(np.zeros((1, 2)), np.full((1, 2), 1e3))
    np.testing.assert_allclose(far[0], param, rtol=1e-12)
    # curvature 1: the derivative is 1-Lipschitz, and its slope reaches 1 at r = 0
    assert loss.curvature == 1.0
    r = np.linspace(-10, 10, 4001)[:, None] * np.ones((1, 2))
    slope = np.diff(loss.gradient(np.zeros_like(r), r), axis=0) / np.diff(r, axis=0)
    assert slope.max() <= 1 + 1e-9 and slope.max() > 0.999
    # residual-space functions: rho(y - raw) is the loss, psi its derivative in r
    np.testing.assert_allclose(loss.rho(y - raw), loss.pointwise(y, raw), rtol=1e-12)
    np.testing.assert_allclose(loss.psi(y - raw), -g, rtol=1e-12, atol=1e-15)
    # the column-wise form and a subset of its columns
    sw = rng.uniform(0.5, 2, 200)
    values, delta = loss.bind(y, sw).columns(raw)
    s = sw / sw.sum()
    np.testing.assert_allclose(values, s @ loss.pointwise(y, raw), rtol=1e-12)
    np.testing.assert_allclose(delta, g * s[:, None], rtol=1e-12)
    part = loss.bind(y, sw).take(np.array([1]))
    np.testing.assert_allclose(part.columns(raw[:, [1]])[0], values[[1]], rtol=1e-12)


def test_huber_values_and_best_constant():
    h = Huber(1.5)
    r = np.array([[-4.0], [-1.5], [0.5], [3.0]])
    np.testing.assert_allclose(h.pointwise(np.zeros_like(r), r)[:, 0],
                               [1.5 * 4 - 1.125, 1.125, 0.125, 1.5 * 3 - 1.125])
    y = np.array([[0.0], [1.0], [2.0], [50.0]])
    c = h.constant_raw(y, np.ones(4))[0]
    # the root of sum clip(c - y, -1.5, 1.5): (c - 0) + (c - 1) + (c - 2) - 1.5 = 0
    assert c == pytest.approx(4.5 / 3)


def test_logcosh_scale_one_is_the_plain_loss_and_best_constant():
    rng = np.random.default_rng(1)
    y = rng.standard_normal((100, 1)) * 4
    raw = rng.standard_normal((100, 1))
    r = raw - y
    np.testing.assert_allclose(LogCosh().pointwise(y, raw), np.log(np.cosh(r)), rtol=1e-12)
    sw = rng.uniform(0.5, 2, 100)
    for s in (1.0, 0.1, 10.0):
        c = LogCosh(s).constant_raw(y, sw)[0]
        assert abs(sw @ np.tanh((c - y[:, 0]) / s)) < 1e-9


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf, [1.0, 0.0], [[1.0]]])
def test_bad_parameters(bad):
    with pytest.raises(ValueError, match="epsilon must be a positive finite float"):
        Huber(bad)
    with pytest.raises(ValueError, match="scale must be a positive finite float"):
        LogCosh(bad)


def test_registry_and_pinball_levels():
    assert isinstance(get_regression_loss("huber", epsilon=2.0), Huber)
    assert get_regression_loss("log_cosh", scale=3.0).scale == 3.0
    p = PinballLoss(np.array([0.1, 0.9]))
    assert p.lipschitz == 0.9 and p.column(0).quantile == 0.1
    y = np.column_stack([np.arange(10.0), np.arange(10.0)])
    np.testing.assert_allclose(p.constant_raw(y, np.ones(10)), [0.0, 8.0])
