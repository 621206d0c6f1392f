"""Constants: second set of cases built for mutants that survived the mutation
run (docs/testing.md, "Mutation testing"): one sample and equal non-unit
weights, zero, tiny and huge designs, the dense/Lanczos switch at its bound,
sparse designs in the published rules, and hand-computed published constants."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklipschitz._engine import lipschitz as lip
from sklipschitz._engine.losses import AbsoluteError, HalfSquaredError


def top_eig(X, sw, fit_intercept):
    Xt = np.hstack([X, np.ones((X.shape[0], 1))]) if fit_intercept else X
    Xw = Xt * np.sqrt(sw)[:, None]
    return np.linalg.eigvalsh(Xw.T @ Xw / sw.sum())[-1]


def test_gram_one_sample_and_equal_weights_other_than_one():
    # one row x: lambda_max(x~ x~') = ||x~||^2, whatever its weight
    x = np.array([[3.0, 4.0]])
    assert lip.gram_top_eigenvalue(x, np.array([2.5]), fit_intercept=False) == pytest.approx(25.0)
    assert lip.gram_top_eigenvalue(x, np.array([2.5]), fit_intercept=True) == pytest.approx(26.0)
    # equal weights w: the Gram matrix is X'X w / (n w), the same for any w
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 3))
    for w in (0.5, 3.0):
        got = lip.gram_top_eigenvalue(X, np.full(20, w), fit_intercept=True)
        assert got == pytest.approx(top_eig(X, np.ones(20), True), rel=1e-12)


def test_gram_of_zero_and_tiny_designs_with_an_intercept():
    # zero design: only the ones column, eigenvalue 1 (0 without it)
    Z = np.zeros((5, 2))
    assert lip.gram_top_eigenvalue(Z, np.ones(5), fit_intercept=True) == 1.0
    assert lip.gram_top_eigenvalue(Z, np.ones(5), fit_intercept=False) == 0.0
    assert lip.gram_top_eigenvalue(sp.csr_matrix(Z), np.ones(5), fit_intercept=True) == 1.0
    # entries of 1e-200: their squares underflow, the ones column gives 1
    X = np.random.default_rng(0).normal(size=(6, 2)) * 1e-200
    assert lip.gram_top_eigenvalue(X, np.ones(6), fit_intercept=True) == pytest.approx(1.0)


def test_gram_of_huge_entries_without_an_intercept():
    # the squares overflow float64: the result comes from the rescaled Gram
    # matrix (1e150: 1e300 times the eigenvalue; 1e200: beyond float64, inf)
    rng = np.random.default_rng(4)
    X = rng.normal(size=(10, 2))
    ref = top_eig(X, np.ones(10), False)
    got = lip.gram_top_eigenvalue(X * 1e150, np.ones(10), fit_intercept=False)
    assert got == pytest.approx(ref * 1e300, rel=1e-12)
    assert lip.gram_top_eigenvalue(X * 1e200, np.ones(10), fit_intercept=False) == np.inf


def test_dense_gram_up_to_and_including_the_bound(monkeypatch):
    # at most DENSE_GRAM_MAX_FEATURES columns: the exact eigenvalue; one more:
    # Lanczos with its 0.1% margin (the bound lowered so that the case is small)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 3))
    sw = rng.uniform(0.5, 2.0, 40)
    monkeypatch.setattr(lip, "DENSE_GRAM_MAX_FEATURES", 4)
    exact = top_eig(X, sw, True)
    assert lip.gram_top_eigenvalue(X, sw, fit_intercept=True) == pytest.approx(exact, rel=1e-12)
    monkeypatch.setattr(lip, "DENSE_GRAM_MAX_FEATURES", 3)
    assert lip.gram_top_eigenvalue(X, sw, fit_intercept=True) == pytest.approx(
        exact * lip._LANCZOS_SAFETY, rel=1e-6)


def test_lanczos_small_eigenvalue_and_a_converged_ritz_value(monkeypatch):
    # the Lanczos path on a design whose top eigenvalue is far below 1, and on a
    # wide one with a cluster of top eigenvalues (slow to separate)
    monkeypatch.setattr(lip, "DENSE_GRAM_MAX_FEATURES", 1)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 4)) * 0.01
    sw = rng.uniform(0.5, 2.0, 30)
    exact = top_eig(X, sw, False)
    assert exact < 0.01
    assert lip.gram_top_eigenvalue(X, sw, fit_intercept=False) == pytest.approx(
        exact * lip._LANCZOS_SAFETY, rel=1e-6)
    W = rng.normal(size=(60, 300)) @ np.diag(np.linspace(1.0, 1.02, 300))
    sw = np.ones(60)
    exact = top_eig(W, sw, False)
    got = lip.gram_top_eigenvalue(W, sw, fit_intercept=False)
    # ARPACK's tolerance 1e-6 bounds the relative error of the Ritz value
    assert got == pytest.approx(exact * lip._LANCZOS_SAFETY, rel=1e-6)


def test_preconditioned_gram_below_one_without_intercept():
    # Z = (X - o) / s: lambda_max(Z' S Z / sum s) directly
    rng = np.random.default_rng(3)
    X = rng.normal(size=(25, 3)) * 0.1 + 2.0
    sw = rng.uniform(0.5, 2.0, 25)
    o = np.array([2.0, 1.9, 2.1])
    s = np.array([2.0, 3.0, 4.0])
    Z = (X - o) / s
    ref = top_eig(Z, sw, False)
    assert ref < 0.1
    got = lip.preconditioned_gram_top_eigenvalue(X, sw, o, s, fit_intercept=False)
    assert got == pytest.approx(ref, rel=1e-10)


def test_max_row_sq_norm_of_one_and_no_rows():
    assert lip.max_row_sq_norm(np.array([[1.0, 2.0]]), True) == 6.0
    assert lip.max_row_sq_norm(np.array([[1.0, 2.0]]), False) == 5.0
    assert lip.max_row_sq_norm(np.empty((0, 2)), True) == 0.0


def test_batch_size_equal_to_the_number_of_samples_is_the_full_batch():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(12, 2))
    Y = rng.normal(size=(12, 1))
    sw = np.ones(12)
    kw = dict(mode="lipschitz", fit_intercept=True)
    full = lip.linear_constant(HalfSquaredError(), X, Y, sw, **kw)
    assert full == pytest.approx(top_eig(X, sw, True), rel=1e-12)
    assert lip.linear_constant(HalfSquaredError(), X, Y, sw, batch_size=12, **kw) == full
    # a smaller batch: the per-sample bound max ||x~_i||^2
    half = lip.linear_constant(HalfSquaredError(), X, Y, sw, batch_size=6, **kw)
    assert half == pytest.approx(np.max(np.sum(X * X, axis=1)) + 1.0)


def test_paper_rules_on_sparse_designs_equal_the_dense_ones():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(10, 3)) * (rng.uniform(size=(10, 3)) < 0.5) + 0.0
    X[:, 1] = np.abs(X[:, 1])
    y = rng.normal(size=10)
    S = sp.csr_matrix(X)
    for fit_intercept in (True, False):
        assert lip.paper_weight_bound(S, fit_intercept) == pytest.approx(
            lip.paper_weight_bound(X, fit_intercept), rel=1e-14)
        for bs in (None, 4):
            for f, kw in ((lip.paper_frobenius_factor, {}),
                          (lip.paper_squared_lipschitz, dict(y=y, alpha=0.2)),
                          (lip.paper_log_cosh_lipschitz, dict(y=y, alpha=0.2))):
                args = (S,) if not kw else (S, kw.pop("y"))
                dense_args = (X,) + args[1:]
                got = f(*args, fit_intercept=fit_intercept, batch_size=bs, **kw)
                ref = f(*dense_args, fit_intercept=fit_intercept, batch_size=bs, **kw)
                assert got == pytest.approx(ref, rel=1e-12), (f.__name__, fit_intercept, bs)
    # K = (a + b) / 2 by hand: with the ones column, means (1, 0.5, 1.5), maxima (1, 1, 3)
    D = np.array([[0.0, 0.0], [1.0, 3.0]])
    assert lip.paper_weight_bound(sp.csr_matrix(D), True) == pytest.approx((3.0 + 5.0 / 3.0) / 2)


def test_paper_squared_constant_by_hand_below_one():
    # X = [0.1, 0.2]', y = [0.1, 0.3], no intercept, full batch (m = 2):
    # K = (0.15 + 0.2) / 2 = 0.175, ||X'X|| = 0.05, ||X'y|| = 0.07
    X = np.array([[0.1], [0.2]])
    y = np.array([0.1, 0.3])
    L = 0.175 * 0.05 / 2 + 0.07 / 2
    assert lip.paper_squared_lipschitz(X, y, fit_intercept=False) == pytest.approx(L, rel=1e-12)
    assert lip.paper_squared_lipschitz(X, y[:, None], fit_intercept=False) == pytest.approx(L, rel=1e-12)
    assert lip.paper_linear_lipschitz(HalfSquaredError(), X, y, fit_intercept=False,
                                      alpha=0.5) == pytest.approx(L + 0.5 * 0.175, rel=1e-12)
    # the LALR form for absolute error: ||X||_F / m
    assert lip.paper_linear_lipschitz(AbsoluteError(), X, y, fit_intercept=False) == pytest.approx(
        np.sqrt(0.05) / 2, rel=1e-12)


def test_paper_log_cosh_constant_with_a_scale_by_hand():
    # ||y|| = 0.5, s = 2: factor s |tanh(-0.5 / s)| = 2 tanh(0.25); ||X||_F / m = sqrt(2) / 2
    X = np.ones((2, 1))
    y = np.array([0.3, 0.4])
    got = lip.paper_log_cosh_lipschitz(X, y, fit_intercept=False, scale=2.0)
    assert got == pytest.approx(2.0 * np.tanh(0.25) * np.sqrt(2.0) / 2, rel=1e-12)
