"""The design: Gram matrix, whitening and the rank of the data."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklipschitz._exact.design import Design, psd_solve


def _design(X, sw=None, fit_intercept=True):
    n = X.shape[0]
    s = np.ones(n) if sw is None else sw
    return Design(X, s / s.sum(), fit_intercept, sw is None)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
def test_whitening_reproduces_the_weighted_centred_gram(fit_intercept, sparse):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5)) * [1, 2, 3, 0.5, 10] + 4
    sw = rng.uniform(0.2, 3, 200)
    des = _design(sp.csr_matrix(X) if sparse else X, sw, fit_intercept)
    s = sw / sw.sum()
    Xc = X - s @ X if fit_intercept else X
    G = Xc.T @ (Xc * s[:, None])
    np.testing.assert_allclose(des.V @ np.diag(des.g) @ des.V.T, G, rtol=1e-9, atol=1e-9)
    assert des.rank == 5 and des.p == 5 + fit_intercept
    # whitened rows have the identity as weighted Gram
    A = des.rows(np.arange(200))[:, :5]
    np.testing.assert_allclose(A.T @ (A * s[:, None]), np.eye(5), atol=1e-9)
    # products with the implicit centred design
    v = rng.standard_normal(5)
    np.testing.assert_allclose(des.matvec(v) - des.xbar @ v, Xc @ v, rtol=1e-10)
    u = rng.standard_normal(200)
    np.testing.assert_allclose(des.rmatvec(u), Xc.T @ u, rtol=1e-10)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("value", [0.5, 0.1, 3.7e5, -1e-3])
def test_constant_columns_have_no_direction(value, sparse):
    # a constant column does not centre to exactly zero (its computed mean
    # is off by an ulp); that round-off must not count as a direction
    X = np.full((100, 2), value)
    des = _design(sp.csr_matrix(X) if sparse else X)
    assert des.rank == 0
    # one genuinely varying column among constant ones is one direction
    X = np.column_stack([X, np.linspace(0, 1, 100)])
    des = _design(sp.csr_matrix(X) if sparse else X)
    assert des.rank == 1
    # without an intercept a constant column is a genuine direction
    assert _design(X, fit_intercept=False).rank == 2


def test_small_variation_on_a_large_offset_is_kept():
    rng = np.random.default_rng(1)
    X = 1e6 + 0.01 * rng.standard_normal((500, 1))
    assert _design(X).rank == 1


def test_rank_of_collinear_and_wide_designs():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((50, 3))
    assert _design(np.column_stack([X, X[:, 0], X[:, 1] - X[:, 2]])).rank == 3
    # n < d: the centred data span n - 1 directions
    assert _design(rng.standard_normal((6, 20))).rank == 5
    assert _design(rng.standard_normal((6, 20)), fit_intercept=False).rank == 6


def test_psd_solve_minimum_norm_on_singular_matrices():
    rng = np.random.default_rng(3)
    B = rng.standard_normal((4, 2))
    H = B @ B.T                      # rank 2
    rhs = H @ rng.standard_normal(4)
    x = psd_solve(H, rhs)
    np.testing.assert_allclose(x, np.linalg.pinv(H) @ rhs, rtol=1e-8, atol=1e-10)
    H = np.diag([4.0, 2.0, 1.0])
    np.testing.assert_allclose(psd_solve(H, np.ones(3)), [0.25, 0.5, 1.0])
