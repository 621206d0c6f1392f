"""Squared error against scikit-learn and lstsq."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklipschitz._engine.losses import HalfSquaredError

from exact_refs import data, diabetes, fit


@pytest.mark.parametrize("alpha", [0.0, 0.1])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_squared_matches_sklearn(alpha, fit_intercept):
    from sklearn.linear_model import LinearRegression, Ridge

    X, y = diabetes()
    rng = np.random.default_rng(0)
    sw = rng.uniform(0.5, 2.0, len(y))
    sol = fit(X, y, HalfSquaredError(), sw, alpha=alpha, fit_intercept=fit_intercept)
    if alpha == 0:
        ref = LinearRegression(fit_intercept=fit_intercept).fit(X, y, sample_weight=sw)
    else:
        ref = Ridge(alpha=alpha * sw.sum(), fit_intercept=fit_intercept, solver="cholesky",
                    tol=1e-12).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(sol.coef[:, 0], ref.coef_, rtol=1e-6)
    np.testing.assert_allclose(sol.intercept[0], ref.intercept_, rtol=1e-6, atol=1e-9)
    assert sol.certified and sol.n_iter <= 3
    assert sol.learning_rate_history == [1.0] * sol.n_iter


def test_squared_multi_output_linnerud():
    from sklearn.datasets import load_linnerud
    from sklearn.linear_model import LinearRegression, Ridge

    X, Y = load_linnerud(return_X_y=True)
    sol = fit(X, Y, HalfSquaredError())
    ref = LinearRegression().fit(X, Y)
    np.testing.assert_allclose(sol.coef, ref.coef_.T, rtol=1e-6)
    np.testing.assert_allclose(sol.intercept, ref.intercept_, rtol=1e-6)
    sol = fit(X, Y, HalfSquaredError(), alpha=0.5)
    ref = Ridge(alpha=0.5 * len(Y), solver="cholesky").fit(X, Y)
    np.testing.assert_allclose(sol.coef, ref.coef_.T, rtol=1e-6)
    np.testing.assert_allclose(sol.intercept, ref.intercept_, rtol=1e-6)


def test_squared_rank_deficient_min_norm():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 4))
    X = np.column_stack([X, X[:, 0], 2 * X[:, 1] - X[:, 2], np.full(30, 3.0)])  # rank 5
    y = rng.standard_normal(30)
    sol = fit(X, y, HalfSquaredError(), fit_intercept=False)
    ref = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(sol.coef[:, 0], ref, rtol=1e-6, atol=1e-10)
    # n < d
    X = rng.standard_normal((5, 12))
    y = rng.standard_normal(5)
    sol = fit(X, y, HalfSquaredError(), fit_intercept=False)
    np.testing.assert_allclose(sol.coef[:, 0], np.linalg.lstsq(X, y, rcond=None)[0],
                               rtol=1e-6, atol=1e-10)
    # with intercept: minimum norm of the centred problem, as LinearRegression
    from sklearn.linear_model import LinearRegression

    sol = fit(X, y, HalfSquaredError())
    ref = LinearRegression().fit(X, y)
    np.testing.assert_allclose(sol.coef[:, 0], ref.coef_, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(sol.intercept[0], ref.intercept_, rtol=1e-6, atol=1e-10)


def test_squared_sparse_float32_and_weights():
    X, y = data(n=400, d=6, seed=9, heavy=False)
    X[np.abs(X) < 0.7] = 0
    dense = fit(X, y, HalfSquaredError(), alpha=0.01)
    for fmt in ("csr", "csc"):
        s = fit(sp.csr_matrix(X).asformat(fmt), y, HalfSquaredError(), alpha=0.01)
        np.testing.assert_allclose(s.coef, dense.coef, rtol=1e-9)
        np.testing.assert_allclose(s.intercept, dense.intercept, rtol=1e-9)
    s32 = fit(X.astype(np.float32), y.astype(np.float32), HalfSquaredError(), alpha=0.01)
    assert s32.coef.dtype == np.float32 and s32.intercept.dtype == np.float32
    np.testing.assert_allclose(s32.coef, dense.coef, rtol=1e-4, atol=1e-5)
    sw = np.random.default_rng(0).integers(0, 3, 400).astype(float)
    rep = np.repeat(np.arange(400), sw.astype(int))
    a = fit(X, y, HalfSquaredError(), sw, alpha=0.01)
    b = fit(X[rep], y[rep], HalfSquaredError(), alpha=0.01)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-9)
    np.testing.assert_allclose(a.intercept, b.intercept, rtol=1e-9)


def test_squared_max_iter_one_is_exact():
    from sklearn.linear_model import LinearRegression

    X, y = diabetes()
    sol = fit(X, y, HalfSquaredError(), max_iter=1)
    assert sol.n_iter == 1
    np.testing.assert_allclose(sol.coef[:, 0], LinearRegression().fit(X, y).coef_, rtol=1e-6)
