"""SBAF's derivative in every configuration against central differences of
its own value, and the module-level ``sbaf_derivative`` defaults and dtypes."""

import numpy as np
import pytest

from sklipschitz._engine.activations import SBAF, sbaf, sbaf_derivative


@pytest.mark.parametrize("input_map", ["logistic", "clip"])
@pytest.mark.parametrize("alpha", [0.5, 0.3, 0.8])
@pytest.mark.parametrize("output", ["raw", "rescaled"])
def test_sbaf_derivative_matches_central_differences(input_map, alpha, output):
    act = SBAF(k=1.3, alpha=alpha, input_map=input_map, output=output)
    z = np.linspace(-4, 4, 161) if input_map == "logistic" else np.linspace(0.02, 0.98, 97)
    h = 1e-6
    fd = (act.value(z + h) - act.value(z - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(z, act.value(z)), fd, rtol=1e-6, atol=1e-9)
    # the value itself: sbaf of the input map, rescaled to [0, 1] on request
    x = 1 / (1 + np.exp(-z)) if input_map == "logistic" else z
    y = sbaf(x, 1.3, alpha)
    if output == "rescaled":
        y = (y - act.y_min) / (1 - act.y_min)
    np.testing.assert_allclose(act.value(z), y, rtol=1e-12, atol=1e-15)


def test_sbaf_derivative_defaults_and_dtypes():
    x = np.linspace(0.05, 0.95, 19)
    # the defaults are k = 0.91, alpha = 0.5
    np.testing.assert_array_equal(sbaf_derivative(x), sbaf_derivative(x, 0.91, 0.5))
    h = 1e-6
    fd = (sbaf(x + h, 0.91, 0.5) - sbaf(x - h, 0.91, 0.5)) / (2 * h)
    np.testing.assert_allclose(sbaf_derivative(x), fd, rtol=1e-6, atol=1e-10)
    # a float32 input keeps its dtype; integers become float64 zeros (no
    # integer lies inside (0, 1))
    assert sbaf_derivative(x.astype(np.float32)).dtype == np.float32
    out = sbaf_derivative(np.array([-1, 0, 1, 2]))
    assert out.dtype == np.float64 and out.shape == (4,)
    np.testing.assert_array_equal(out, 0.0)


def test_sbaf_unit_is_sbaf_of_the_logistic():
    from sklipschitz._engine.activations import sbaf_unit

    z = np.linspace(-5, 5, 41)
    for k, alpha in [(0.91, 0.5), (1.4, 0.2), (0.5, 0.85)]:
        np.testing.assert_allclose(sbaf_unit(z, k, alpha), sbaf(1 / (1 + np.exp(-z)), k, alpha),
                                   rtol=1e-13)


def test_reprs_name_the_non_default_settings():
    from sklipschitz._engine.activations import ReLU, Tanh

    assert repr(ReLU()) == "ReLU()" and repr(Tanh()) == "Tanh()"
    assert repr(SBAF()) == "SBAF(k=0.91, alpha=0.5)"
    assert repr(SBAF(k=2, alpha=0.3, input_map="clip")) == \
        "SBAF(k=2.0, alpha=0.3, input_map='clip')"
    assert repr(SBAF(output="rescaled")) == "SBAF(k=0.91, alpha=0.5, output='rescaled')"
    assert repr(SBAF(input_map="clip", output="rescaled")) == \
        "SBAF(k=0.91, alpha=0.5, input_map='clip', output='rescaled')"


def test_sbaf_clips_its_input_to_the_unit_interval():
    np.testing.assert_array_equal(sbaf(np.array([-0.5, -3.0, 1.5, 7.0]), 1.2, 0.3),
                                  sbaf(np.array([0.0, 0.0, 1.0, 1.0]), 1.2, 0.3))


@pytest.mark.parametrize("act", [
    SBAF(k=1.3, alpha=0.5, output="rescaled"), SBAF(k=0.91, alpha=0.3),
    SBAF(k=0.6, alpha=0.8, output="rescaled"), SBAF(k=1.3, alpha=0.4, input_map="clip"),
    "tanh", "logistic",
], ids=repr)
def test_second_derivative_matches_central_differences_of_the_derivative(act):
    # g'' is the closed form for the curved units (the central difference of
    # g' for SBAF's clipped input map): against a central difference of g'
    # itself at a step 100x smaller than the fallback's
    from sklipschitz._engine.activations import make_activation

    act = make_activation(act) if isinstance(act, str) else act
    clip = getattr(act, "input_map", "logistic") == "clip"
    z = np.linspace(0.05, 0.95, 91) if clip else np.linspace(-8, 8, 321)
    h = 1e-6
    fd = (act.derivative(z + h, act.value(z + h)) - act.derivative(z - h, act.value(z - h))) / (2 * h)
    np.testing.assert_allclose(act.second_derivative(z, act.value(z)), fd,
                               rtol=1e-5, atol=1e-8 if not clip else 1e-5)
