"""The evidence-based stopping criterion (evidence.py) against independent references."""

import numpy as np
import pytest

from sklipschitz._engine.activations import make_activation
from sklipschitz._engine.evidence import GradientEvidence
from sklipschitz._engine.losses import HalfSquaredError, MultinomialLoss
from sklipschitz._engine.network import DenseNetwork


def _rows_reference(network, X, Y, loss, coefs, intercepts, w):
    """EB from every row's gradient, one backward pass per row (w: normalized weights)."""
    grads = []
    for i in range(X.shape[0]):
        raw, pre, acts = network.forward(X[i:i + 1], coefs, intercepts)
        delta = loss.gradient(Y[i:i + 1], raw)
        cg, ig = network.backward(delta, pre, acts, coefs)
        grads.append(np.concatenate([g.ravel() for g in cg + ig]))
    G = np.array(grads)  # rows x parameters
    g = w @ G
    s = w @ w
    # variance of the weighted mean: sum_i w_i^2 (G_i - g)^2, bias-corrected
    V = (w ** 2) @ ((G - g) ** 2) / (1.0 - s)
    keep = V > 1e-14 * np.max(V)
    return 1.0 - np.mean(g[keep] ** 2 / V[keep]), V


def _observe(ev, network, X, Y, coefs, intercepts, loss=None, alpha=0.0, weight=None):
    """One gradient evaluation of ``network`` with ``ev`` observing it (equal
    row weights unless ``weight``); returns the layers' gradients."""
    network.evidence = ev
    try:
        _, cg, ig, _ = network.objective_and_gradient(
            X, Y, None, HalfSquaredError() if loss is None else loss, alpha, coefs, intercepts,
            normalized_weight=1.0 / X.shape[0] if weight is None else weight)
    finally:
        network.evidence = None
    return cg, ig


@pytest.mark.parametrize("buffers", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_rows_criterion_matches_a_loop_over_rows(buffers, weighted):
    rng = np.random.default_rng(0)
    n, d, h, k = 40, 5, 7, 3
    X = rng.standard_normal((n, d))
    labels = rng.integers(0, k, n)
    Y = np.eye(k)[labels]
    network = DenseNetwork((d, h, h, k), make_activation("relu"), buffers=buffers)
    coefs, intercepts = network.init_params(rng)
    loss = MultinomialLoss()
    sw = rng.uniform(0.2, 3.0, n) if weighted else np.ones(n)
    w = sw / sw.sum()
    ev = GradientEvidence("rows")
    _observe(ev, network, X, Y, coefs, intercepts, loss=loss, alpha=0.3,
             weight=w if weighted else None)
    expected, V = _rows_reference(network, X, Y, loss, coefs, intercepts, w)
    assert ev.epoch_value() == pytest.approx(expected, rel=1e-9)


def test_rows_criterion_leaves_out_zero_variance_entries():
    # a hidden unit dead on every row (large negative intercept): its weights
    # and those leaving it have zero gradient and zero variance
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 4))
    Y = rng.standard_normal((30, 1))
    network = DenseNetwork((4, 3, 1), make_activation("relu"))
    coefs, intercepts = network.init_params(rng)
    intercepts[0][0] = -1e3
    ev = GradientEvidence("rows")
    _observe(ev, network, X, Y, coefs, intercepts)
    value = ev.epoch_value()
    expected, V = _rows_reference(network, X, Y, HalfSquaredError(), coefs, intercepts,
                                  np.full(30, 1.0 / 30))
    assert np.sum(V == 0) == 4 + 1 + 1  # the unit's 4 weights in, its intercept, 1 weight out
    assert np.isfinite(value) and value == pytest.approx(expected, rel=1e-9)


def test_least_squares_closed_form():
    # a linear least-squares problem (no hidden layer): the rows' gradients are
    # x_i r_i (and r_i for the intercept); with equal weights the criterion is
    # 1 - (n / D) sum_k g_k^2 / S_k (the paper's form, S_k the rows' variance)
    rng = np.random.default_rng(2)
    n, d = 50, 4
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.5 + rng.standard_normal(n)
    W = rng.standard_normal((d, 1))
    b = np.array([0.1])
    network = DenseNetwork((d, 1))
    ev = GradientEvidence("rows")
    _observe(ev, network, X, y[:, None], [W], [b])
    r = X @ W[:, 0] + b[0] - y
    G = np.column_stack([X * r[:, None], r])
    g = G.mean(axis=0)
    S = G.var(axis=0, ddof=1)
    assert ev.epoch_value() == pytest.approx(1.0 - n / (d + 1) * np.sum(g ** 2 / S), rel=1e-10)
    # at the least-squares solution the gradient is zero: EB = 1 exactly
    A = np.column_stack([X, np.ones(n)])
    beta = np.linalg.lstsq(A, y, rcond=None)[0]
    ev.new_epoch()
    _observe(ev, network, X, y[:, None], [beta[:d, None].copy()], [beta[d:].copy()])
    assert ev.epoch_value() == pytest.approx(1.0, abs=1e-12)


def test_l2_term_is_not_part_of_the_gradient():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((20, 3))
    Y = rng.standard_normal((20, 2))
    network = DenseNetwork((3, 4, 2), make_activation("tanh"))
    coefs, intercepts = network.init_params(rng)
    values = []
    for alpha in (0.0, 10.0):
        ev = GradientEvidence("rows")
        _observe(ev, network, X, Y, coefs, intercepts, alpha=alpha)
        values.append(ev.epoch_value())
    assert values[0] == values[1]


def test_output_mode_uses_the_last_layer_only():
    rng = np.random.default_rng(4)
    n = 25
    X = rng.standard_normal((n, 3))
    Y = rng.standard_normal((n, 2))
    network = DenseNetwork((3, 6, 2), make_activation("tanh"))
    coefs, intercepts = network.init_params(rng)
    ev = GradientEvidence("output")
    _observe(ev, network, X, Y, coefs, intercepts)
    # reference: the last layer is a linear model on the hidden activations
    raw, pre, acts = network.forward(X, coefs, intercepts)
    r = raw - Y
    H = acts[-1]
    G = np.concatenate([(H[:, :, None] * r[:, None, :]).reshape(n, -1), r], axis=1)
    g = G.mean(axis=0)
    S = G.var(axis=0, ddof=1)
    expected = 1.0 - n / G.shape[1] * np.sum(g ** 2 / S)
    assert ev.epoch_value() == pytest.approx(expected, rel=1e-9)


def test_batches_mode_against_numpy_variance():
    rng = np.random.default_rng(5)
    n, B = 60, 5
    X = rng.standard_normal((n, 3))
    Y = rng.standard_normal((n, 1))
    network = DenseNetwork((3, 4, 1), make_activation("relu"))
    coefs, intercepts = network.init_params(rng)
    ev = GradientEvidence("batches")
    batch_grads = []
    for rows in np.array_split(np.arange(n), B):
        cg, ig = _observe(ev, network, X[rows], Y[rows], coefs, intercepts, alpha=0.5)
        # the data gradient: the L2 term's (0.5 W) removed
        batch_grads.append(np.concatenate(
            [(g - 0.5 * W).ravel() for g, W in zip(cg, coefs)] + [g.ravel() for g in ig]))
    G = np.array(batch_grads)
    m, v = G.mean(axis=0), G.var(axis=0, ddof=1)
    keep = v > 0
    expected = 1.0 / B - np.mean(m[keep] ** 2 / v[keep])
    assert ev.epoch_value() == pytest.approx(expected, rel=1e-9)
    # fewer batches than min_batches: no value
    ev.new_epoch()
    _observe(ev, network, X, Y, coefs, intercepts)
    assert np.isnan(ev.epoch_value())


def test_unknown_mode():
    with pytest.raises(ValueError, match="mode must be one of"):
        GradientEvidence("validation")
