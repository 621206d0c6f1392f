"""The network constants of ``_engine.network_lipschitz`` against direct NumPy
computations of the published formulas (LipschitzLR section 4 and 6.3, LALR)
and of the per-layer Gauss-Newton bounds; dense and sparse activations."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklipschitz._engine import network_lipschitz as nl
from sklipschitz._engine.losses import (BinomialLoss, HalfSquaredError, LogCosh,
                                        MultinomialLoss, PinballLoss)


@pytest.fixture(scope="module")
def acts():
    rng = np.random.default_rng(21)
    A = np.abs(rng.normal(size=(50, 4)))
    A[rng.random(A.shape) < 0.4] = 0.0            # sparse-looking activations
    raw = rng.normal(size=(50, 2))
    Y = rng.normal(size=(50, 2)) * 3
    W = rng.normal(size=(4, 2))
    return A, raw, Y, W


def _batches(n, m):
    return [slice(i, min(i + m, n)) for i in range(0, n, m)]


@pytest.mark.parametrize("batch_size", [None, 16, 50, 80])
@pytest.mark.parametrize("sparse", [False, True])
def test_regressor_paper_constant_squared_error(acts, batch_size, sparse):
    A, raw, Y, W = acts
    n = A.shape[0]
    m = n if batch_size is None else min(batch_size, n)
    # eq. 14-15: (||raw_b||_F + ||y_b||) ||A_b||_F / m, maximum over batches
    expected = max((np.linalg.norm(raw[b]) + np.linalg.norm(Y[b])) * np.linalg.norm(A[b])
                   for b in _batches(n, m)) / m
    A_in = sp.csr_matrix(A) if sparse else A
    got = nl.regressor_lipschitz(A_in, raw, Y, HalfSquaredError(), m)
    assert got == pytest.approx(expected, rel=1e-12)
    # the L2 term adds alpha ||W_last|| (section 6.3), only with the weights given
    got = nl.regressor_lipschitz(A_in, raw, Y, HalfSquaredError(), m, alpha=0.3, last_coef=W)
    assert got == pytest.approx(expected + 0.3 * np.linalg.norm(W), rel=1e-12)
    assert nl.regressor_lipschitz(A_in, raw, Y, HalfSquaredError(), m, alpha=0.3) == \
        pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("loss, g", [(PinballLoss(0.2), 0.8), (LogCosh(), 1.0)])
@pytest.mark.parametrize("sparse", [False, True])
def test_regressor_paper_constant_gradient_bounded_losses(acts, loss, g, sparse):
    A, raw, Y, W = acts
    m = 16
    Kz = max(np.linalg.norm(A[b]) for b in _batches(A.shape[0], m)) / m
    A_in = sp.csr_matrix(A) if sparse else A
    assert nl.regressor_lipschitz(A_in, raw, Y, loss, m) == pytest.approx(g * Kz, rel=1e-12)
    got = nl.regressor_lipschitz(A_in, raw, Y, loss, m, alpha=2.0, last_coef=W)
    assert got == pytest.approx(g * Kz + 2.0 * np.linalg.norm(W), rel=1e-12)


@pytest.mark.parametrize("n_classes, g", [(2, 0.5), (3, 2 / 3), (5, 4 / 5)])
def test_classifier_paper_constant(acts, n_classes, g):
    A, _, _, W = acts
    Kz = max(np.linalg.norm(A[b]) for b in _batches(A.shape[0], 16)) / 16
    assert nl.classifier_lipschitz(A, n_classes, 16) == pytest.approx(g * Kz, rel=1e-12)
    got = nl.classifier_lipschitz(sp.csr_matrix(A), n_classes, 16, alpha=0.5, last_coef=W)
    assert got == pytest.approx(g * Kz + 0.5 * np.linalg.norm(W), rel=1e-12)
    # full batch: ||A||_F / n
    assert nl.classifier_lipschitz(A, n_classes, None) == \
        pytest.approx(g * np.linalg.norm(A) / A.shape[0], rel=1e-12)


def test_power_iteration_converges_to_the_exact_eigenvalues(acts):
    A, _, _, W = acts
    rng = np.random.default_rng(2)
    w = rng.uniform(0.5, 1.5, A.shape[0])
    w /= w.sum()
    mean = A.T @ w
    At = np.column_stack([A - mean, np.ones(A.shape[0])])
    exact = np.linalg.eigvalsh(At.T @ (At * w[:, None]))[-1]
    power = nl.PowerIteration(seed=0)
    first = power.gram("A", A, w, mean)
    assert first <= exact * (1 + 1e-12)               # from below
    for _ in range(40):                               # warm-started epochs
        est = power.gram("A", A, w, mean)
    assert est == pytest.approx(exact, rel=1e-8)
    # sparse input and a float weight (1/n) without centring
    At = np.column_stack([A, np.ones(A.shape[0])])
    exact = np.linalg.eigvalsh(At.T @ At / A.shape[0])[-1]
    power = nl.PowerIteration(seed=1)
    for _ in range(40):
        est = power.gram("B", sp.csr_matrix(A), 1.0 / A.shape[0])
    assert est == pytest.approx(exact, rel=1e-8)
    for _ in range(40):
        s = power.spectral_norm("W", W)
    assert s == pytest.approx(np.linalg.norm(W, 2), rel=1e-8)


def test_local_curvature():
    raw = np.array([[-3.0], [0.0], [2.0]])
    p = 1 / (1 + np.exp(-raw[:, 0]))
    np.testing.assert_allclose(nl.local_curvature(BinomialLoss(), raw, 0.0), p * (1 - p),
                               rtol=1e-12)
    # floored at floor * sup = 0.2 * 0.25
    np.testing.assert_allclose(nl.local_curvature(BinomialLoss(), raw, 0.2),
                               np.maximum(p * (1 - p), 0.05), rtol=1e-12)
    raw3 = np.array([[0.0, 0.0, 0.0], [5.0, 0.0, -5.0]])
    e = np.exp(raw3)
    P = e / e.sum(1, keepdims=True)
    expected = np.maximum(np.minimum(0.5, 1 - (P**2).sum(1)), 0.1 * 0.5)
    np.testing.assert_allclose(nl.local_curvature(MultinomialLoss(), raw3, 0.1), expected,
                               rtol=1e-12)
    assert expected[0] == pytest.approx(0.5) and expected[1] < 0.5
    assert nl.local_curvature(HalfSquaredError(), raw, 0.1) is None


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loss_and_local_curvature_in_one_pass(dtype):
    # the softmax cross-entropy's losses and curvatures from one pass of
    # exponentials: against scipy's log-softmax and the curvature's formula
    from scipy.special import log_softmax

    rng = np.random.default_rng(0)
    raw = (4 * rng.standard_normal((50, 7))).astype(dtype)
    raw[0] = [800.0, 0, 0, 0, 0, 0, -800.0]  # overflow-safe
    Y = np.eye(7)[rng.integers(0, 7, 50)]
    logp = log_softmax(raw.astype(np.float64), axis=1)
    values, c = nl.loss_and_local_curvature(MultinomialLoss(), Y, raw, 0.1)
    np.testing.assert_allclose(values, -(Y * logp).sum(1), rtol=1e-12, atol=1e-12)
    P = np.exp(logp)
    np.testing.assert_allclose(c, np.maximum(np.minimum(0.5, 1 - (P**2).sum(1)), 0.05),
                               rtol=1e-12)
    assert c[0] == 0.05
    # other losses: their own loss and local_curvature
    yb = rng.integers(0, 2, (50, 1)).astype(float)
    values, c = nl.loss_and_local_curvature(BinomialLoss(), yb, raw[:, :1], 0.2)
    np.testing.assert_array_equal(values, BinomialLoss().loss(yb, raw[:, :1]))
    np.testing.assert_array_equal(c, nl.local_curvature(BinomialLoss(), raw[:, :1], 0.2))
    values, c = nl.loss_and_local_curvature(HalfSquaredError(), yb, raw[:, :1], 0.2)
    assert c is None


def test_column_means(acts):
    A = acts[0]
    w = np.linspace(1, 2, A.shape[0])
    w /= w.sum()
    np.testing.assert_allclose(nl.column_means(A, w), w @ A, rtol=1e-12)
    np.testing.assert_allclose(nl.column_means(sp.csr_matrix(A), 1.0 / A.shape[0]),
                               A.mean(0), rtol=1e-12)
