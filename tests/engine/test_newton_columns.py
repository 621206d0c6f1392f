"""Damped Newton steps on a column problem (sklipschitz._engine.newton):
the minimiser against scipy and scikit-learn, the stopping rule, and the
cases where it hands back None."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import expit, log_expit
from sklearn.linear_model import LogisticRegression

from sklipschitz._engine import newton as newton_module
from sklipschitz._engine.losses import BinomialLoss, HalfSquaredError, SmoothBinaryQuantileLoss
from sklipschitz._engine.newton import newton_columns, newton_cost
from sklipschitz._engine.problems import ColumnProblem


def _data(seed=0, n=120, d=5, k=3, shift=5.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.arange(1, d + 1) + shift  # uncentred, unscaled
    T = (X @ rng.standard_normal((d, k)) + rng.standard_normal((n, k)) * 3 > shift).astype(float)
    sw = rng.random(n) + 0.1
    return X, T, sw


def _reference(X, T, sw, alpha):
    """The minimiser of every column of sum_i s_i log(1 + exp(-y_i f_i)) / sum(s)
    + 1/2 sum_f alpha_f w_f^2 (f = X w + b) by L-BFGS, from scipy."""
    s = sw / sw.sum()
    out = []
    for t in T.T:
        sign = 2 * t - 1

        def f(theta):
            w, b = theta[:-1], theta[-1]
            m = sign * (X @ w + b)
            r = -s * sign * expit(-m)
            return (-s @ log_expit(m) + 0.5 * np.sum(alpha * w * w),
                    np.append(X.T @ r + alpha * w, r.sum()))

        res = minimize(f, np.zeros(X.shape[1] + 1), jac=True, method="L-BFGS-B",
                       options=dict(maxiter=50000, maxcor=30, gtol=1e-13, ftol=1e-16))
        out.append(res.x)
    return np.array(out).T  # (d + 1, k)


def test_newton_columns_reaches_the_penalised_logistic_minimiser():
    X, T, sw = _data()
    alpha = np.array([1e-3, 2e-3, 5e-4, 1e-2, 3e-3])  # one value per feature
    reference = _reference(X, T, sw, alpha)
    # the problem in centred, scaled variables: V = scale * W, penalty alpha / scale^2
    offset, scale = X.mean(axis=0), X.std(axis=0)
    problem = ColumnProblem(BinomialLoss(), X, T, sw, alpha=alpha / scale**2,
                            offset=offset, scale=scale)
    V, c, n_iter = newton_columns(problem, np.zeros((5, 3)), np.zeros(3))
    W, b = problem.original(V, c)
    np.testing.assert_allclose(W, reference[:-1], atol=1e-6, rtol=0)
    np.testing.assert_allclose(b, reference[-1], atol=1e-6, rtol=0)
    assert 3 <= n_iter <= 15
    # stationarity of the penalised objective, computed independently
    s = sw / sw.sum()
    r = s[:, None] * (expit(X @ W + b) - T)
    np.testing.assert_allclose(X.T @ r + alpha[:, None] * W, 0, atol=1e-8)
    np.testing.assert_allclose(r.sum(axis=0), 0, atol=1e-9)


def test_newton_columns_matches_logistic_regression_with_sample_weights():
    X, T, sw = _data(seed=1, k=1)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    alpha = 1e-2
    problem = ColumnProblem(BinomialLoss(), X, T, sw, alpha=alpha)
    W, b, _ = newton_columns(problem, np.zeros((5, 1)), np.zeros(1))
    # sklearn: C sum_i s_i loss_i + ||w||^2 / 2 = the same objective times C sum(s)
    lr = LogisticRegression(C=1.0 / (alpha * sw.sum()), solver="newton-cholesky", tol=1e-12,
                            max_iter=1000).fit(X, T[:, 0], sample_weight=sw)
    np.testing.assert_allclose(W[:, 0], lr.coef_[0], atol=1e-6, rtol=0)
    np.testing.assert_allclose(b, lr.intercept_, atol=1e-6, rtol=0)


def test_newton_columns_without_intercept_and_on_sparse_input():
    X, T, sw = _data(seed=2, k=2, shift=0.0)
    alpha = 1e-2
    dense = ColumnProblem(BinomialLoss(), X, T, sw, alpha=alpha, fit_intercept=False)
    W, b, _ = newton_columns(dense, np.zeros((5, 2)), np.zeros(2))
    assert np.all(b == 0)
    s = sw / sw.sum()
    r = s[:, None] * (expit(X @ W) - T)  # stationary in w alone
    np.testing.assert_allclose(X.T @ r + alpha * W, 0, atol=1e-9)
    sparse = ColumnProblem(BinomialLoss(), sp.csr_matrix(X), T, sw, alpha=alpha,
                           fit_intercept=False)
    W2, _, _ = newton_columns(sparse, np.zeros((5, 2)), np.zeros(2))
    np.testing.assert_allclose(W2, W, atol=1e-12)


def test_newton_columns_weights_equal_repeated_rows():
    X, T, _ = _data(seed=3)
    counts = np.random.default_rng(3).integers(0, 4, X.shape[0])
    weighted = ColumnProblem(BinomialLoss(), X, T, counts.astype(float), alpha=1e-3,
                             offset=X.mean(axis=0), scale=X.std(axis=0))
    repeated = ColumnProblem(BinomialLoss(), X.repeat(counts, axis=0), T.repeat(counts, axis=0),
                             np.ones(counts.sum()), alpha=1e-3, offset=X.mean(axis=0),
                             scale=X.std(axis=0))
    a = newton_columns(weighted, np.zeros((5, 3)), np.zeros(3))
    b = newton_columns(repeated, np.zeros((5, 3)), np.zeros(3))
    np.testing.assert_allclose(a[0], b[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-10, atol=1e-12)


def test_newton_columns_stops_on_the_newton_decrement():
    X, T, sw = _data(seed=4)
    problem = ColumnProblem(BinomialLoss(), X, T, sw, alpha=1e-3, offset=X.mean(axis=0),
                            scale=X.std(axis=0))
    V0, c0 = np.zeros((5, 3)), np.zeros(3)
    # a tolerance above every column's decrement at the start: no step
    V, c, n_iter = newton_columns(problem, V0, c0, tol=1e3)
    assert n_iter == 0 and np.all(V == 0) and np.all(c == 0)
    # a looser tolerance takes fewer steps, each column within it of the optimum
    exact = newton_columns(problem, V0, c0, tol=1e-14)
    loose = newton_columns(problem, V0, c0, tol=1e-3)
    assert loose[2] < exact[2]
    gap = problem.evaluate([loose[0]], [loose[1]])[0] - problem.evaluate([exact[0]], [exact[1]])[0]
    assert np.all(gap >= -1e-15) and np.all(gap <= 1e-3) and np.any(gap > 1e-9)
    # the start may be anywhere: the same minimiser from a far point
    far = newton_columns(problem, np.full((5, 3), 3.0), np.full(3, -4.0), tol=1e-14)
    np.testing.assert_allclose(far[0], exact[0], atol=1e-8)


def test_newton_columns_float32_start_keeps_its_dtype():
    X, T, sw = _data(seed=5)
    X32, T32 = X.astype(np.float32), T.astype(np.float32)
    problem = ColumnProblem(BinomialLoss(), X32, T32, sw, alpha=1e-2, offset=X.mean(axis=0),
                            scale=X.std(axis=0))
    V, c, _ = newton_columns(problem, np.zeros((5, 3), np.float32), np.zeros(3, np.float32),
                             tol=1e-8)
    assert V.dtype == np.float32 and c.dtype == np.float32
    exact = newton_columns(ColumnProblem(BinomialLoss(), X, T, sw, alpha=1e-2,
                                         offset=X.mean(axis=0), scale=X.std(axis=0)),
                           np.zeros((5, 3)), np.zeros(3))
    np.testing.assert_allclose(V, exact[0], rtol=1e-4, atol=1e-5)


def test_newton_columns_hands_back_none_when_it_cannot_conclude():
    X, T, sw = _data(seed=6, k=1)
    # separable and unpenalised: no minimiser, the steps grow until max_iter
    Ts = (X[:, :1] > X[:, :1].mean()).astype(float)
    separable = ColumnProblem(BinomialLoss(), X, Ts, sw, alpha=0.0, offset=X.mean(axis=0),
                              scale=X.std(axis=0))
    assert newton_columns(separable, np.zeros((5, 1)), np.zeros(1), max_iter=20) is None
    # a feature that is zero on every row, unpenalised: a singular Hessian
    Xz = np.hstack([X, np.zeros((X.shape[0], 1))])
    singular = ColumnProblem(BinomialLoss(), Xz, T, sw, alpha=0.0)
    assert newton_columns(singular, np.zeros((6, 1)), np.zeros(1)) is None
    # a non-finite start
    fine = ColumnProblem(BinomialLoss(), X, T, sw, alpha=1e-3)
    assert newton_columns(fine, np.full((5, 1), np.nan), np.zeros(1)) is None
    # a loss without a second derivative says so
    quantile = ColumnProblem(SmoothBinaryQuantileLoss(0.5), X, 2 * T - 1, sw, alpha=1e-3)
    with pytest.raises(NotImplementedError, match="second derivative"):
        newton_columns(quantile, np.zeros((5, 1)), np.zeros(1))


def test_newton_columns_line_search_failure_hands_back_none(monkeypatch):
    X, T, sw = _data(seed=7, k=1)
    problem = ColumnProblem(BinomialLoss(), X, T, sw, alpha=1e-3, offset=X.mean(axis=0),
                            scale=X.std(axis=0))
    monkeypatch.setattr(newton_module, "MAX_HALVINGS", 0)
    far = np.full((5, 1), 30.0)  # the full Newton step from here overshoots
    assert newton_columns(problem, far, np.zeros(1)) is None
    monkeypatch.setattr(newton_module, "MAX_HALVINGS", 30)
    assert newton_columns(problem, far, np.zeros(1)) is not None


def test_binomial_second_derivative_and_bound_curvatures():
    rng = np.random.default_rng(8)
    raw = rng.standard_normal((50, 2)) * 4
    y = (rng.random((50, 2)) > 0.5).astype(float)
    loss, h = BinomialLoss(), 1e-6
    numeric = (loss.gradient(y, raw + h) - loss.gradient(y, raw - h)) / (2 * h)
    np.testing.assert_allclose(loss.second_derivative(y, raw), numeric, rtol=1e-6)
    np.testing.assert_allclose(loss.second_derivative(y, raw), expit(raw) * expit(-raw),
                               rtol=1e-12)
    sw = rng.random(50)
    bound = loss.bind(y, sw)
    np.testing.assert_allclose(bound.curvatures(raw),
                               (sw / sw.sum())[:, None] * expit(raw) * expit(-raw), rtol=1e-12)
    with pytest.raises(NotImplementedError, match="HalfSquaredError"):
        HalfSquaredError().second_derivative(y, raw)


def test_newton_cost_counts_the_hessians():
    X, T, sw = _data(n=40, d=5)
    problem = ColumnProblem(BinomialLoss(), X, T, sw)
    assert newton_cost(problem, 3) == 3 * 40 * 36
