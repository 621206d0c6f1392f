"""Pointwise losses: gradients against finite differences, constants against sampling."""

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
    weighted_quantile,
)

RNG = np.random.default_rng(0)


def _targets(loss, n, k):
    if isinstance(loss, BinomialLoss):
        return RNG.integers(0, 2, (n, k)).astype(float)
    if isinstance(loss, MultinomialLoss):
        return np.eye(k)[RNG.integers(0, k, n)]
    if isinstance(loss, SmoothBinaryQuantileLoss):
        return np.where(RNG.random((n, k)) < 0.5, -1.0, 1.0)
    return RNG.standard_normal((n, k)) * 3


LOSSES = [
    HalfSquaredError(),
    AbsoluteError(),
    PinballLoss(0.2),
    PinballLoss(0.9),
    LogCosh(),
    BinomialLoss(),
    MultinomialLoss(),
    SmoothBinaryQuantileLoss(0.3),
    SmoothBinaryQuantileLoss(np.array([0.1, 0.5, 0.8])),
]


@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_gradient_matches_finite_differences(loss):
    k = 3
    y = _targets(loss, 200, k)
    raw = RNG.standard_normal((200, k)) * 3
    g = loss.gradient(y, raw)
    h = 1e-6
    for j in range(k):
        e = np.zeros(k)
        e[j] = h
        num = (loss.loss(y, raw + e) - loss.loss(y, raw - e)) / (2 * h)
        # away from kinks of the non-smooth losses
        ok = np.abs(raw[:, j] - y[:, j]) > 1e-3
        np.testing.assert_allclose(g[ok, j], num[ok], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("loss", [l_ for l_ in LOSSES if l_.lipschitz is not None], ids=repr)
def test_lipschitz_constant_is_tight_sup_of_gradient(loss):
    k = 3
    raw = np.concatenate([np.linspace(-30, 30, 20001)] * 1)[:, None] * np.ones((1, k))
    sup = 0.0
    for _ in range(20):
        y = _targets(loss, raw.shape[0], k)
        g = loss.gradient(y, raw)
        # separable losses: per output; multinomial: the vector norm
        g = np.linalg.norm(g, axis=1) if isinstance(loss, MultinomialLoss) else np.abs(g)
        sup = max(sup, g.max())
    assert sup <= loss.lipschitz * (1 + 1e-12)
    assert sup >= loss.lipschitz * 0.99 or isinstance(loss, MultinomialLoss)


@pytest.mark.parametrize("loss", [l_ for l_ in LOSSES if l_.smooth], ids=repr)
def test_curvature_bounds_second_derivative(loss):
    k = 3
    raw = np.linspace(-20, 20, 8001)[:, None] * np.ones((1, k))
    y = _targets(loss, raw.shape[0], k)
    h = 1e-4
    # largest eigenvalue of the Hessian along random directions
    top = 0.0
    for _ in range(30):
        d = RNG.standard_normal(k)
        d /= np.linalg.norm(d)
        second = (loss.loss(y, raw + h * d) - 2 * loss.loss(y, raw) + loss.loss(y, raw - h * d))
        top = max(top, (second / h**2).max())
    assert top <= loss.curvature * (1 + 1e-4)


def test_sbqc_constant_formula():
    for tau in [0.05, 0.3, 0.5, 0.7, 0.95]:
        loss = SmoothBinaryQuantileLoss(tau)
        published = (2 / math.pi) * max(1, (1 - tau) / tau, tau / (tau - 1))
        assert loss.lipschitz == pytest.approx(published, rel=1e-12)
    # identity: (1/tau) rho_tau(y - g) with y in {-1, 1}
    tau = 0.3
    loss = SmoothBinaryQuantileLoss(tau)
    raw = RNG.standard_normal((50, 1)) * 4
    y = np.where(RNG.random((50, 1)) < 0.5, -1.0, 1.0)
    u = y - (2 / math.pi) * np.arctan(raw)
    rho = np.maximum(tau * u, (tau - 1) * u) / tau
    np.testing.assert_allclose(loss.loss(y, raw), rho[:, 0], rtol=1e-12)


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_constant_raw_minimises(q):
    y = RNG.standard_t(2, (101, 2))
    sw = RNG.integers(1, 4, 101).astype(float)
    c = weighted_quantile(y, sw, q)
    loss = PinballLoss(q)
    grid = np.linspace(-5, 5, 4001)
    for j in range(2):
        vals = [sw @ loss.pointwise(y[:, [j]], np.full((101, 1), g))[:, 0] for g in grid]
        best = min(vals)
        mine = sw @ loss.pointwise(y[:, [j]], np.full((101, 1), c[j]))[:, 0]
        assert mine <= best + 1e-9
    lc = LogCosh()
    c = lc.constant_raw(y, sw)
    for j in range(2):
        eps = 1e-5
        f = lambda t: sw @ lc.pointwise(y[:, [j]], np.full((101, 1), t))[:, 0]  # noqa: E731
        assert f(c[j]) <= f(c[j] + eps) and f(c[j]) <= f(c[j] - eps)


@pytest.mark.parametrize("soft", [False, True])
def test_multinomial_constant_objective_matches_the_broadcast_objective(soft):
    """The closed form logsumexp(c) - ybar . c against the per-row loss of the
    constant prediction, summed with the sample weights."""
    rng = np.random.default_rng(0)
    n, k = 300, 7
    if soft:
        Y = rng.dirichlet(np.ones(k), size=n)
    else:
        Y = np.eye(k)[rng.integers(0, k, n)]
    sw = rng.uniform(0.1, 3.0, n)
    loss = MultinomialLoss()
    for c in (loss.constant_raw(Y, sw), rng.normal(0.0, 5.0, k)):
        brute = float(sw @ loss.loss(Y, np.tile(c, (n, 1)))) / sw.sum()
        np.testing.assert_allclose(loss.constant_objective(Y, c, sw), brute, rtol=1e-12)
    # at the optimal constant (the class frequencies) it is their entropy
    p = (sw @ Y) / sw.sum()
    entropy = -float(p @ np.log(p)) if not soft else None
    if entropy is not None:
        np.testing.assert_allclose(
            loss.constant_objective(Y, loss.constant_raw(Y, sw), sw), entropy, rtol=1e-12)


def test_constant_objective_of_a_separable_loss():
    rng = np.random.default_rng(1)
    y = rng.normal(size=(50, 2))
    sw = rng.uniform(0.5, 2.0, 50)
    loss = HalfSquaredError()
    c = loss.constant_raw(y, sw)
    brute = float(sw @ (0.5 * ((y - c) ** 2).sum(axis=1))) / sw.sum()
    np.testing.assert_allclose(loss.constant_objective(y, c, sw), brute, rtol=1e-12)
