"""Activations: cases built for mutants that survived the mutation run
(docs/testing.md, "Mutation testing"), against closed forms, scipy and
scikit-learn's conventions."""

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import expit
from sklearn.neural_network._base import inplace_relu_derivative

from sklipschitz._engine.activations import (
    SBAF,
    SBAF_CLIP_EPS,
    AReLU,
    ReLU,
    sbaf,
    sbaf_minimum,
)


def test_sbaf_minimum_defaults_are_the_published_unit():
    # k = 0.91, alpha = 1/2: 1 / (1 + 0.91 * 0.5**0.5 * 0.5**0.5) = 1 / 1.455
    assert sbaf_minimum() == pytest.approx(1 / 1.455, rel=1e-15)
    x = np.linspace(0.0, 1.0, 100001)
    assert sbaf_minimum() == pytest.approx(sbaf(x).min(), rel=1e-12)


def test_relu_derivative_at_zero_follows_scikit_learn():
    z = np.array([[-1.0, 0.0, 2.0, -0.0]])
    delta = np.ones_like(z)
    inplace_relu_derivative(np.maximum(z, 0.0), delta)
    unit = ReLU()
    np.testing.assert_array_equal(unit.derivative(z, unit.value(z)), delta)
    np.testing.assert_array_equal(delta, [[0.0, 0.0, 1.0, 0.0]])


def test_arelu_of_power_one_has_slope_zero_at_zero():
    # n = 1: k * max(z, 0), a scaled ReLU; its slope at 0 is 0 as ReLU's,
    # and the fused training pass agrees
    unit = AReLU(k=0.5, n=1.0)
    z = np.array([[-1.0, 0.0, 2.0]])
    np.testing.assert_array_equal(unit.derivative(z, unit.value(z)), [[0.0, 0.0, 0.5]])
    out, deriv = np.empty_like(z), np.empty_like(z)
    _, d = unit.forward_train(z.copy(), out, deriv, np.empty_like(z))
    np.testing.assert_array_equal(d, [[0.0, 0.0, 0.5]])


def _slope_sup(k, alpha, output):
    """sup |d unit / dz| from the closed form y (1 - y) (x - alpha), x = logistic(z),
    maximised by scipy on each side of 0."""
    y_min = 1.0 / (1.0 + k * alpha**alpha * (1.0 - alpha) ** (1.0 - alpha))
    scale = 1.0 / (1.0 - y_min) if output == "rescaled" else 1.0

    def minus_slope(z):
        x = expit(z)
        y = sbaf(x, k, alpha)
        return -abs(y * (1.0 - y) * (x - alpha)) * scale

    best = min((minimize_scalar(minus_slope, bounds=b, method="bounded",
                                options={"xatol": 1e-10}) for b in [(-40, 0), (0, 40)]),
               key=lambda r: r.fun)
    return -best.fun, minus_slope, 0.25 * max(alpha, 1.0 - alpha) * scale


@pytest.mark.parametrize("k, alpha, output", [
    (0.91, 0.5, "raw"), (0.91, 0.5, "rescaled"), (0.91, 0.3, "rescaled"),
    # large k: y = 1/2 where x - alpha is near its extreme, so the slope
    # nearly reaches the crude bound max(alpha, 1 - alpha) / 4, which is kept
    (1e6, 0.5, "raw"), (1e6, 0.3, "raw"),
])
def test_sbaf_slope_bound_and_steepest_input(k, alpha, output):
    sup, minus_slope, crude = _slope_sup(k, alpha, output)
    unit = SBAF(k, alpha, output=output)
    # a valid bound: at least the supremum, at most the crude bound and the
    # grid's maximum with its margin of 1e-3
    assert unit.slope_bound >= sup * (1 - 1e-12)
    assert unit.slope_bound <= min(crude, sup * 1.0011)
    # the steepest input is where the slope reaches its supremum (to the grid)
    assert -minus_slope(unit.steepest_input) >= sup * (1 - 1e-6)


def test_sbaf_clip_has_no_slope_bound_nor_steepest_input():
    unit = SBAF(input_map="clip")
    assert unit.slope_bound is None
    assert unit.steepest_input is None


def test_sbaf_clip_derivative_is_zero_from_the_clip_points_on():
    unit = SBAF(input_map="clip")
    eps = SBAF_CLIP_EPS
    z = np.array([-1.0, eps, 0.3, 1.0 - eps, 1.0, 1.0 + 0.5 * eps])
    d = unit.derivative(z, unit.value(z))
    y = sbaf(0.3)
    np.testing.assert_allclose(d[2], y * (1 - y) * (0.3 - 0.5) / (0.3 * 0.7), rtol=1e-12)
    np.testing.assert_array_equal(d[[0, 1, 3, 4, 5]], 0.0)


@pytest.mark.parametrize("output", ["raw", "rescaled"])
def test_sbaf_derivative_leaves_the_values_alone(output):
    unit = SBAF(output=output)
    z = np.linspace(-3.0, 3.0, 7)
    a = unit.value(z)
    kept = a.copy()
    d = unit.derivative(z, a)
    np.testing.assert_array_equal(a, kept)
    y = sbaf(expit(z))
    scale = 1.0 if output == "raw" else 1.0 / (1.0 - sbaf_minimum())
    np.testing.assert_allclose(d, y * (1 - y) * (expit(z) - 0.5) * scale, rtol=1e-12, atol=1e-15)
