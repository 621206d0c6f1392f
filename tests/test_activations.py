"""Activations: closed forms, finite-difference gradients, NaN-free behaviour."""

import numpy as np
import pytest
from scipy.optimize import brentq, minimize_scalar
from scipy.special import expit, logit

from sklipschitz._engine.activations import (
    SBAF,
    AReLU,
    Identity,
    Logistic,
    ReLU,
    Tanh,
    sbaf,
    sbaf_derivative,
    sbaf_minimum,
    sbaf_unit,
)
from sklipschitz._engine.losses import HalfSquaredError, MultinomialLoss
from sklipschitz._engine.network import DenseNetwork

ACTIVATIONS = [
    Identity(),
    ReLU(),
    Tanh(),
    Logistic(),
    SBAF(),
    SBAF(output="rescaled"),
    SBAF(0.5, 0.3, output="rescaled"),
    SBAF(0.91, 0.0, output="rescaled"),
    SBAF(input_map="clip"),
    SBAF(0.7, 0.2, input_map="clip", output="rescaled"),
    AReLU(),
    AReLU(2.0, 1.0),
]


def _points(act):
    if getattr(act, "input_map", None) == "clip":
        # inside (0, 1) and outside, away from the clip points
        return np.array([-2.0, -0.3, 0.05, 0.2, 0.41, 0.5, 0.77, 0.93, 1.4, 3.0])
    # away from the kink of ReLU / A-ReLU at 0
    return np.array([-7.0, -2.5, -0.8, -0.1, 0.13, 0.6, 1.7, 3.3, 8.0])


@pytest.mark.parametrize("act", ACTIVATIONS, ids=repr)
def test_derivative_matches_finite_differences(act):
    z = _points(act)
    h = 1e-6
    fd = (act.value(z + h) - act.value(z - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(z, act.value(z)), fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("act", ACTIVATIONS, ids=repr)
def test_no_nan_on_extreme_inputs(act):
    z = np.array([-1e300, -1e6, -50.0, -1e-12, 0.0, 1e-12, 50.0, 1e6])
    if act.name == "arelu":
        z = z[z < 1e6]  # k z^n overflows to inf only beyond float range
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        v = act.value(z)
        d = act.derivative(z, v)
    assert np.all(np.isfinite(v)) and np.all(np.isfinite(d))


def test_slope_bounds_hold():
    z = np.linspace(-30, 30, 20001)
    for act in [Tanh(), Logistic(), ReLU(), SBAF(), SBAF(0.5, 0.2, output="rescaled")]:
        d = act.derivative(z, act.value(z))
        assert np.max(np.abs(d)) <= act.slope_bound * (1 + 1e-12)
    assert SBAF(input_map="clip").slope_bound is None
    assert AReLU().slope_bound is None


def test_sbaf_closed_forms():
    k = 0.91
    # value at 1/2 and at the ends
    assert sbaf(0.5, k, 0.5) == pytest.approx(1 / (1 + k / 2), rel=1e-15)
    assert sbaf(0.0) == 1.0 and sbaf(1.0) == 1.0
    # minimum at x = alpha, found numerically
    for alpha in [0.2, 0.5, 0.8]:
        res = minimize_scalar(lambda x: sbaf(x, k, alpha), bounds=(1e-9, 1 - 1e-9),
                              method="bounded", options={"xatol": 1e-12})
        assert res.x == pytest.approx(alpha, abs=1e-5)
        assert sbaf_minimum(k, alpha) == pytest.approx(res.fun, rel=1e-12)
    assert sbaf_minimum(k, 0.0) == pytest.approx(1 / (1 + k))
    # fixed point y* = sbaf(y*): slope there equals y* - alpha (papers.md 4.3)
    ystar = brentq(lambda x: sbaf(x, k, 0.5) - x, 0.01, 0.99, xtol=1e-14)
    assert ystar == pytest.approx(0.707158, abs=1e-6)
    assert sbaf_derivative(ystar, k, 0.5) == pytest.approx(ystar - 0.5, rel=1e-9)


def test_sbaf_derivative_closed_form_and_outside_domain():
    x = np.linspace(0.01, 0.99, 99)
    h = 1e-7
    fd = (sbaf(x + h, 0.8, 0.3) - sbaf(x - h, 0.8, 0.3)) / (2 * h)
    np.testing.assert_allclose(sbaf_derivative(x, 0.8, 0.3), fd, rtol=1e-5, atol=1e-9)
    out = sbaf_derivative(np.array([-2.0, 0.0, 1.0, 5.0]))
    np.testing.assert_array_equal(out, 0.0)


def test_default_sbaf_unit_is_sbaf_of_logistic():
    z = np.linspace(-6, 6, 101)
    k, a = 0.91, 0.5
    x = 1 / (1 + np.exp(-z))
    ref = 1 / (1 + k * x**a * (1 - x) ** (1 - a))
    np.testing.assert_allclose(SBAF().value(z), ref, rtol=1e-14)
    np.testing.assert_allclose(sbaf_unit(z), ref, rtol=1e-14)
    # alpha = 1/2 with the logistic map is even in z (the reason for the rescaling)
    np.testing.assert_allclose(SBAF().value(z), SBAF().value(-z), rtol=1e-12)


def test_rescaled_sbaf_range_and_minimum():
    for alpha in [0.3, 0.5]:
        act = SBAF(0.91, alpha, output="rescaled")
        z = np.linspace(-40, 40, 4001)
        v = act.value(z)
        assert v.min() >= 0.0 and v.max() <= 1.0
        assert act.value(np.array([logit(alpha)]))[0] == pytest.approx(0.0, abs=1e-12)
        ref = (sbaf(expit(z[::50]), 0.91, alpha) - sbaf_minimum(0.91, alpha)) / (
            1 - sbaf_minimum(0.91, alpha)
        )
        np.testing.assert_allclose(v[::50], ref, atol=1e-7)


def test_clip_map_has_zero_slope_outside():
    act = SBAF(input_map="clip")
    z = np.array([-3.0, -1e-3, 1.0 + 1e-3, 4.0])
    np.testing.assert_array_equal(act.derivative(z, act.value(z)), 0.0)
    # constant outside: the value at the nearer clip point
    eps = 1e-7
    np.testing.assert_array_equal(act.value(z[:2]), sbaf(eps))
    np.testing.assert_array_equal(act.value(z[2:]), sbaf(1 - eps))


def test_arelu_values():
    act = AReLU()
    x = np.array([-3.0, 0.0, 0.5, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(act.value(x), [0, 0, 0.54 * 0.5**1.3, 0.54, 0.54 * 2**1.3,
                                              0.54 * 3**1.3])
    assert act.value(np.array([2.0]))[0] == pytest.approx(1.330, abs=5e-4)
    np.testing.assert_allclose(act.derivative(x, act.value(x))[2:], 0.54 * 1.3 * x[2:] ** 0.3)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-14), (np.float32, 2e-6)])
def test_arelu_power_matches_numpy_power_and_is_zero_off_the_support(dtype, rtol):
    """The unit's ``exp(p log z)`` against ``np.power`` in every path (values,
    slopes, the training pass, the in-place pass): equal to rounding, and
    exactly 0 (value and slope) for ``z <= 0`` (values below the dtype's
    smallest normal number are subnormal, compared absolutely)."""
    act = AReLU(0.54, 1.3)
    z = np.concatenate([np.linspace(-3, 3, 601), [0.0, -0.0, 1e-30, 1e3]]).astype(dtype)
    zp = np.maximum(z, 0).astype(np.float64)
    tiny = np.finfo(dtype).tiny
    value = 0.54 * np.power(zp, 1.3)
    slope = 0.54 * 1.3 * np.power(zp, 0.3) * (zp > 0)
    np.testing.assert_allclose(act.value(z), value, rtol=rtol, atol=tiny)
    np.testing.assert_allclose(act.derivative(z, act.value(z)), slope, rtol=rtol, atol=tiny)
    out, deriv = np.empty_like(z), np.empty_like(z)
    a, d = act.forward_train(z.copy(), out, deriv, np.empty_like(z))
    np.testing.assert_allclose(a, value, rtol=rtol, atol=tiny)
    np.testing.assert_allclose(d, slope, rtol=rtol, atol=tiny)
    np.testing.assert_allclose(act.value_into(z.copy(), None), value, rtol=rtol, atol=tiny)
    off = z <= 0
    assert np.all(a[off] == 0) and np.all(d[off] == 0)


def test_bad_sbaf_options():
    with pytest.raises(ValueError, match="input_map"):
        SBAF(input_map="tanh")
    with pytest.raises(ValueError, match="output"):
        SBAF(output="centered")


@pytest.mark.parametrize(
    "act", [SBAF(output="rescaled"), SBAF(), Tanh(), AReLU(), ReLU(), Logistic()], ids=repr
)
def test_network_gradient_matches_finite_differences(act):
    """Backpropagation through two hidden layers against central differences."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((7, 4))
    y = rng.integers(0, 3, 7)
    Y = np.eye(3)[y]
    sw = rng.uniform(0.5, 2.0, 7)
    net = DenseNetwork((4, 5, 3, 3), act)
    coefs, intercepts = net.init_params(np.random.RandomState(1))
    intercepts = [rng.standard_normal(b.shape) * 0.5 for b in intercepts]
    loss = MultinomialLoss()
    alpha = 0.01
    _, cg, ig, _ = net.objective_and_gradient(X, Y, sw, loss, alpha, coefs, intercepts)
    h = 1e-6
    for params, grads in [(coefs, cg), (intercepts, ig)]:
        for P, G in zip(params, grads):
            for idx in np.ndindex(P.shape):
                old = P[idx]
                P[idx] = old + h
                up = net.objective(X, Y, sw, loss, alpha, coefs, intercepts)
                P[idx] = old - h
                down = net.objective(X, Y, sw, loss, alpha, coefs, intercepts)
                P[idx] = old
                assert G[idx] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-8)


def test_network_gradient_regression_loss():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((6, 3))
    Y = rng.standard_normal((6, 2))
    sw = np.ones(6)
    net = DenseNetwork((3, 4, 2), SBAF(0.6, 0.35, output="rescaled"))
    coefs, intercepts = net.init_params(np.random.RandomState(0))
    _, cg, _, _ = net.objective_and_gradient(X, Y, sw, HalfSquaredError(), 0.0, coefs, intercepts)
    h = 1e-6
    W = coefs[0]
    for idx in np.ndindex(W.shape):
        old = W[idx]
        W[idx] = old + h
        up = net.objective(X, Y, sw, HalfSquaredError(), 0.0, coefs, intercepts)
        W[idx] = old - h
        down = net.objective(X, Y, sw, HalfSquaredError(), 0.0, coefs, intercepts)
        W[idx] = old
        assert cg[0][idx] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-9)
