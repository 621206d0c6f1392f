"""Deep networks: the hidden-to-hidden layers of curved units start with a gain.

Glorot's weights multiply the variance of the pre-activations by about the
unit's output variance ``Var[g(z)]`` per layer (0.034 for SBAF at its steepest
input): four SBAF layers of 32 started with a top layer of pre-activation
variance 6e-5.  From four hidden layers on, SymNet's initialisation scales
each hidden-to-hidden layer of a unit whose slope is bounded below 1 (sbaf,
logistic) by the unit's own moments
(``Activation.gaussian_moments``), centres its intercepts, and with the
training rows sets every unit's variance exactly on a row sample.
"""

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, special, stats
from sklearn.preprocessing import StandardScaler

from sklipschitz._engine.activations import make_activation
from sklipschitz._engine.network import DenseNetwork
from sklipschitz._engine.losses import get_regression_loss
from sklipschitz.neural_network import SymNetClassifier, SymNetRegressor

UNITS = ["relu", "arelu", "sbaf", "tanh", "logistic", "identity"]


def _quad_moments(act, mean, std):
    """Simpson's rule on 200,001 nodes split at the kink 0 (independent of the
    trapezoid rule of gaussian_moments)."""
    lo, hi = mean - 12 * std, mean + 12 * std
    parts = [np.linspace(lo, min(0.0, hi), 100001), np.linspace(max(0.0, lo), hi, 100001)]
    m1 = m2 = 0.0
    for z in parts:
        if z[-1] <= z[0]:
            continue
        g = np.asarray(act.value(z.copy()), dtype=np.float64)
        p = stats.norm.pdf(z, mean, std)
        m1 += integrate.simpson(g * p, x=z)
        m2 += integrate.simpson(g * g * p, x=z)
    return m1, m2 - m1 * m1


@pytest.mark.parametrize("name", UNITS)
@pytest.mark.parametrize("mean, std", [(0.0, 1.0), (-2.2, 1.0), (0.7, 0.5)])
def test_gaussian_moments_match_quadrature(name, mean, std):
    act = make_activation(name)
    m1, v = act.gaussian_moments(np.array([mean]), std)
    ref = _quad_moments(act, mean, std)
    np.testing.assert_allclose([m1[0], v[0]], ref, rtol=1e-4, atol=1e-9)


def test_gaussian_moments_closed_forms():
    # relu at N(0, 1): mean 1/sqrt(2 pi), variance 1/2 - 1/(2 pi)
    m1, v = make_activation("relu").gaussian_moments(np.zeros(1), 1.0)
    np.testing.assert_allclose([m1[0], v[0]], [1 / math.sqrt(2 * math.pi),
                                                0.5 - 1 / (2 * math.pi)], rtol=1e-4)
    # A-ReLU k z+^n at N(0, s^2): E[z+^p] = s^p 2^(p/2) Gamma((p+1)/2) / (2 sqrt(pi))
    k, n, s = 0.54, 1.3, 1.7

    def half(p):
        return s**p * 2 ** (p / 2) * special.gamma((p + 1) / 2) / (2 * math.sqrt(math.pi))

    m1, v = make_activation("arelu", arelu_k=k, arelu_n=n).gaussian_moments(np.zeros(1), s)
    np.testing.assert_allclose([m1[0], v[0]], [k * half(n), k * k * half(2 * n)
                                               - (k * half(n)) ** 2], rtol=1e-4)


@pytest.fixture
def before_gain(monkeypatch):
    """The weights and intercepts as ``_keep_variance`` receives them (the
    unit's own start, before the gain and the centring), per call."""
    from sklipschitz import _symnet_base

    seen = []
    original = _symnet_base._keep_variance

    def spy(network, coefs, intercepts, dtype, X=None):
        seen.append(([W.copy() for W in coefs], [b.copy() for b in intercepts]))
        return original(network, coefs, intercepts, dtype, X)

    monkeypatch.setattr(_symnet_base, "_keep_variance", spy)
    return seen


def _start(name, layers, n_features=20, seed=0):
    est = SymNetRegressor(hidden_layer_sizes=layers, activation=name)
    net = DenseNetwork((n_features, *layers, 1), est._activation_object())
    Y = np.zeros((10, 1))
    return net, est._init_params(net, get_regression_loss("squared_error"), Y, np.ones(10), np.float64,
                                 np.random.RandomState(seed))


@pytest.mark.parametrize("name", ["sbaf", "logistic"])
@pytest.mark.parametrize("seed", [0, 1])
def test_hidden_layers_keep_the_first_layers_variance(name, seed, before_gain):
    """From the unit's moments alone (no rows: a small first partial_fit call),
    every hidden layer's pre-activations start with about the first layer's
    variance (Glorot's, ``2 n_in / (n_in + n_out)`` for unit inputs) around
    their intercepts, on standard normal inputs; with Glorot's weights alone
    the variance of the sixth layer is below a third of it (SBAF below 1e-4)."""
    layers = (64,) * 6
    net, (coefs, intercepts) = _start(name, layers, seed=seed)
    X = np.random.RandomState(1).standard_normal((2000, 20))
    _, pre, _ = net.forward(X, coefs, intercepts)
    variances = np.array([float(np.mean(np.var(z, axis=0))) for z in pre])
    s2 = 2 * 20 / 84
    np.testing.assert_allclose(variances[0], s2, rtol=0.15)
    np.testing.assert_allclose(variances[1:], s2, rtol=0.3)
    # centred: each unit's mean pre-activation is near its own start (the
    # intercept the unit was given before the gain: SBAF's steepest input with
    # a random sign, the logistic's 0), not shifted by W' E[g]
    (_, starts), = before_gain
    start = 0.0 if net.activation.steepest_input is None else abs(net.activation.steepest_input)
    for z, b in zip(pre[1:3], starts[1:3]):
        np.testing.assert_allclose(np.abs(b), start)
        shift = np.abs(z.mean(axis=0) - b)
        assert float(np.median(shift)) < 0.3
    # Glorot's start, for comparison: the signal fades
    glorot_W, glorot_b = net.init_params(np.random.RandomState(seed))
    _, pre_glorot, _ = net.forward(X, glorot_W, glorot_b)
    assert float(np.mean(np.var(pre_glorot[-1], axis=0))) < s2 / 3


@pytest.mark.parametrize("name", ["sbaf", "logistic"])
def test_rows_set_every_units_variance(name):
    """With the training rows, every hidden unit's pre-activations on the
    sample rows have exactly the first layer's mean variance, and their mean
    is the unit's start (SBAF: +-its steepest input; logistic: 0), on correlated,
    skewed features (where the Gaussian moments alone drift)."""
    rng = np.random.RandomState(0)
    X = np.exp(rng.standard_normal((300, 8)) @ rng.standard_normal((8, 20)) / 3)
    X = StandardScaler().fit_transform(X)
    est = SymNetRegressor(hidden_layer_sizes=(32,) * 5, activation=name)
    net = DenseNetwork((20, *est.hidden_layer_sizes, 1), est._activation_object())
    coefs, intercepts = est._init_params(net, get_regression_loss("squared_error"),
                                         np.zeros((300, 1)), np.ones(300), np.float64,
                                         np.random.RandomState(0), X)
    _, pre, _ = net.forward(X, coefs, intercepts)  # 300 rows: all are sampled
    target = float(np.mean(np.var(pre[0], axis=0)))
    start = 0.0 if net.activation.steepest_input is None else abs(net.activation.steepest_input)
    for z, b in zip(pre[1:], intercepts[1:-1]):
        np.testing.assert_allclose(np.var(z, axis=0), target, rtol=1e-9)
        np.testing.assert_allclose(np.abs(z.mean(axis=0)), start, atol=1e-9)
    # the first and the output layer are Glorot's
    ref_W, _ = DenseNetwork(net.layer_sizes).init_params(np.random.RandomState(0))
    np.testing.assert_array_equal(coefs[0], ref_W[0])
    np.testing.assert_array_equal(coefs[-1], ref_W[-1])


@pytest.mark.parametrize("name, layers", [
    ("logistic", (32,)), ("logistic", (32, 32, 32)),
    ("relu", (32,) * 5), ("arelu", (32,) * 5), ("tanh", (32,) * 5), ("identity", (32,) * 5),
])
def test_shallow_networks_and_steep_units_keep_glorot(name, layers):
    """Up to three hidden layers, and for units of slope 1 or unbounded (relu,
    A-ReLU, tanh, identity) at any depth, the weights are Glorot's, rows or
    not (SBAF: test_sbaf_layers_start_with_lecun_weights_at_the_steepest_input)."""
    X = np.random.RandomState(2).standard_normal((200, 20))
    est = SymNetRegressor(hidden_layer_sizes=layers, activation=name)
    net = DenseNetwork((20, *layers, 1), est._activation_object())
    coefs, _ = est._init_params(net, get_regression_loss("squared_error"), np.zeros((200, 1)),
                                np.ones(200), np.float64, np.random.RandomState(0), X)
    ref_W, _ = DenseNetwork((20, *layers, 1)).init_params(np.random.RandomState(0))
    for W, R in zip(coefs, ref_W):
        np.testing.assert_array_equal(W, R)


@pytest.mark.parametrize("layers", [(32,), (100,), (16, 64, 8)])
def test_sbaf_layers_start_with_lecun_weights_at_the_steepest_input(layers):
    """Up to three hidden layers, SBAF's hidden weights are uniform with LeCun's
    variance ``1/fan_in`` (Glorot's ``2/(fan_in + fan_out)`` gave one input
    and 100 units pre-activations of standard deviation 0.14) and its hidden
    intercepts are ``+-z*`` (the steepest input, random signs); the output
    layer is Glorot's and its intercept the loss's best constant."""
    n_in = 3
    est = SymNetRegressor(hidden_layer_sizes=layers)
    net = DenseNetwork((n_in, *layers, 1), est._activation_object())
    Y = np.full((50, 1), 7.0)
    coefs, intercepts = est._init_params(net, get_regression_loss("squared_error"), Y,
                                         np.ones(50), np.float64, np.random.RandomState(0))
    z0 = abs(net.activation.steepest_input)
    assert z0 == pytest.approx(2.187, abs=1e-3)
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        lim = math.sqrt(3.0 / W.shape[0])
        assert np.abs(W).max() <= lim
        # a uniform law on +-lim: Kolmogorov-Smirnov against scipy's
        assert stats.kstest(W.ravel(), stats.uniform(-lim, 2 * lim).cdf).pvalue > 1e-3
        np.testing.assert_allclose(np.abs(b), z0)
        assert (b > 0).any() and (b < 0).any()
    bound = math.sqrt(6.0 / (layers[-1] + 1))
    assert coefs[-1].shape == (layers[-1], 1) and np.abs(coefs[-1]).max() <= bound
    assert intercepts[-1][0] == pytest.approx(7.0)
    # pre-activations of the first layer on standard normal inputs: variance 1
    X = np.random.RandomState(1).standard_normal((20000, n_in))
    _, pre, _ = net.forward(X, coefs, intercepts)
    assert float(np.mean(np.var(pre[0], axis=0))) == pytest.approx(1.0, rel=0.2)


def test_deep_sbaf_fits_like_an_mlp():
    """Five SBAF layers of 32 on a 4-class problem of 600 rows: training
    accuracy 0.89 from Glorot's start (150 epochs); from the deep start it
    fits the training rows as scikit-learn's MLPClassifier with the same
    layers does."""
    from sklearn.datasets import make_classification
    from sklearn.neural_network import MLPClassifier

    X, y = make_classification(n_samples=600, n_features=20, n_informative=10, n_classes=4,
                               n_clusters_per_class=2, random_state=0)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SymNetClassifier(hidden_layer_sizes=(32,) * 5, activation="sbaf",
                                 random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = MLPClassifier(hidden_layer_sizes=(32,) * 5, random_state=0).fit(X, y)
    assert model.score(X, y) >= mlp.score(X, y) - 0.02
