"""The feature-sign search of the exact L1 solver (``quad_l1``) from any start.

``1/2 x'Hx - c'x + sum_j lam_j |x_j|`` must end on a KKT point whatever the
start: a warm start along a path (``solve_path``) hands the search the
previous penalty's solution directly, without proximal steps first.  The
references are independent: the brute-force enumeration of the sign patterns
(small problems), scikit-learn's ``Lasso`` / ``ElasticNet`` / ``lasso_path``
at tight tolerance, and the KKT conditions computed here.
"""

import itertools
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import ElasticNet, Lasso, lasso_path

from sklipschitz._engine.losses import HalfSquaredError
from sklipschitz._exact.l1 import quad_l1
from sklipschitz._exact.path import solve_path

#: the solver's KKT tolerance (relative to max|c| + max lam)
KKT_TOL = 1e-9


def kkt(H, c, lam, x):
    """Relative KKT violation: ``|g_j + lam_j sign(x_j)|`` on the nonzero
    (and the unpenalised) coordinates, ``max(|g_j| - lam_j, 0)`` on the zero
    ones, divided by ``max|c| + max lam``."""
    g = H @ x - c
    nz = (x != 0) | (lam == 0)
    v = np.concatenate([np.abs(g[nz] + lam[nz] * np.sign(x[nz])),
                        np.maximum(np.abs(g[~nz]) - lam[~nz], 0.0)])
    return v.max(initial=0.0) / (np.abs(c).max() + lam.max())


def objective(H, c, lam, x):
    return 0.5 * x @ H @ x - c @ x + lam @ np.abs(x)


def brute_force(H, c, lam):
    """The minimum over the sign patterns ``s`` in ``{-1, 0, 1}^d`` of the
    stationary points of the signed quadratics (``H_SS x_S = c_S - lam_S
    s_S``) that keep their signs: the optimum of a positive definite ``H``."""
    d = len(c)
    best, best_x = np.inf, None
    for s in itertools.product((-1, 0, 1), repeat=d):
        s = np.array(s, dtype=float)
        S = np.flatnonzero(s != 0)
        x = np.zeros(d)
        if S.size:
            x[S] = np.linalg.solve(H[np.ix_(S, S)], c[S] - lam[S] * s[S])
            if np.any(np.sign(x[S]) != s[S]):
                continue
        F = objective(H, c, lam, x)
        if F < best:
            best, best_x = F, x
    return best_x


def diabetes_gram():
    X, y = load_diabetes(return_X_y=True)
    Xc, yc = X - X.mean(0), y - y.mean()
    n = len(y)
    return X, y, Xc.T @ Xc / n, Xc.T @ yc / n


def test_activation_waits_for_the_optimum_of_the_nonzero_coefficients():
    """A start whose nonzero coefficients are far from optimal: activating the
    zero coordinate of largest excess at once gave it a step of the wrong
    sign, and the search stopped at ``[1/3, 0, 0]`` (KKT violation 2/3 of
    the bound)."""
    H = np.array([[9.0, -3.0, -4.0], [-3.0, 14.0, 2.0], [-4.0, 2.0, 9.0]])
    c = np.array([4.0, 0.0, -3.0])
    lam = np.ones(3)
    x = quad_l1(H, c, lam, np.array([0.0, -1.0, 3.0]))
    ref = brute_force(H, c, lam)
    np.testing.assert_allclose(x, ref, rtol=0, atol=1e-9)
    assert kkt(H, c, lam, x) <= KKT_TOL


@pytest.mark.parametrize("seed", range(6))
def test_random_starts_match_the_enumeration(seed):
    """Integer data (optima exactly at kinks: coefficients whose signed
    optimum is exactly zero), an unpenalised coordinate, random starts far
    from the optimum: the same point as the enumeration of the signs."""
    rng = np.random.default_rng(seed)
    d = 4
    for _ in range(40):
        A = rng.integers(-3, 4, size=(2 * d, d)).astype(float)
        H = A.T @ A / (2 * d)
        if np.linalg.eigvalsh(H)[0] < 1e-3:
            continue
        c = A.T @ rng.integers(-5, 6, size=2 * d) / (2 * d)
        if not np.any(c):
            continue
        lam = np.full(d, rng.choice([0.1, 0.5, 1.0]) * np.abs(c).max())
        lam[rng.integers(d)] *= rng.integers(2)          # sometimes a free coordinate
        x0 = rng.integers(-3, 4, size=d) * 10.0 ** rng.integers(0, 3)
        x = quad_l1(H, c, lam, x0.astype(float))
        ref = brute_force(H, c, lam)
        assert kkt(H, c, lam, x) <= KKT_TOL
        np.testing.assert_allclose(x, ref, rtol=0, atol=1e-9 * (np.abs(ref).max() + 1.0))


def test_warm_starts_on_diabetes_match_lasso():
    """From every other penalty's solution and from random points: the
    diabetes lasso (``1/(2n) ||y - Xw - b||^2 + alpha ||w||_1``) against
    ``Lasso(tol=1e-14)``."""
    X, y, H, c = diabetes_gram()
    alphas = np.abs(c).max() * np.logspace(-0.1, -3, 8)
    refs = [Lasso(alpha=a, tol=1e-14, max_iter=100_000).fit(X, y).coef_ for a in alphas]
    rng = np.random.default_rng(0)
    starts = refs + [rng.normal(size=10) * rng.choice([0, 1, 10, 100], size=10)
                     for _ in range(12)]
    for a, ref in zip(alphas, refs):
        lam = np.full(10, a)
        for x0 in starts:
            x = quad_l1(H, c, lam, x0)
            assert kkt(H, c, lam, x) <= KKT_TOL
            np.testing.assert_allclose(x, ref, rtol=0, atol=1e-7 * np.abs(ref).max())


def test_start_of_wrong_signs_on_diabetes():
    """The start (of a warm-started path) that made the search stop short:
    KKT violation 8.5e-2 before, the lasso optimum now."""
    X, y, H, c = diabetes_gram()
    x0 = np.array([-3.63, -9.22, 18.19, 0.0, -2.64, -2.13, 0.0, 85.0, -0.72, 39.8])
    alpha = 0.29
    lam = np.full(10, alpha)
    x = quad_l1(H, c, lam, x0)
    ref = Lasso(alpha=alpha, tol=1e-14, max_iter=100_000).fit(X, y).coef_
    assert kkt(H, c, lam, x) <= KKT_TOL
    np.testing.assert_allclose(x, ref, rtol=0, atol=1e-7 * np.abs(ref).max())


@pytest.mark.parametrize("seed", range(3))
def test_elastic_net_with_correlated_columns_from_other_penalties(seed):
    """``H = X_c'X_c / n + l2 I`` (elastic net, ``l1_ratio=0.7``, strongly
    correlated columns) started at the solutions of the other penalties (the
    starts of a path), at the opposite of its own and at random points,
    against ``ElasticNet(tol=1e-14)``."""
    rng = np.random.default_rng(seed)
    n, d = 80, 12
    X = rng.standard_normal((n, d))
    X[:, 1:] += 2.0 * X[:, :1]
    y = X[:, :4].sum(1) + rng.standard_normal(n)
    Xc, yc = X - X.mean(0), y - y.mean()
    ratio = 0.7
    c = Xc.T @ yc / n
    alphas = np.abs(c).max() / ratio * np.logspace(-0.05, -2.5, 8)
    refs = [ElasticNet(alpha=a, l1_ratio=ratio, tol=1e-14, max_iter=100_000).fit(X, y).coef_
            for a in alphas]
    for a, ref in zip(alphas, refs):
        H = Xc.T @ Xc / n + a * (1 - ratio) * np.eye(d)
        lam = np.full(d, a * ratio)
        for x0 in refs + [-2 * ref, rng.standard_normal(d) * 5 * (rng.random(d) < 0.6)]:
            x = quad_l1(H, c, lam, x0)
            assert kkt(H, c, lam, x) <= KKT_TOL
            np.testing.assert_allclose(x, ref, rtol=0, atol=1e-7 * np.abs(ref).max())


@pytest.mark.parametrize("n, d", [(200, 30), (60, 12), (40, 60)])
def test_path_search_alone_certifies(n, d):
    """``solve_path`` with ``max_iter=1``: no proximal steps, every penalty is
    the feature-sign search from the previous solution alone.  It certifies
    every penalty and matches ``lasso_path`` (before: 10 to 14 of 20
    certified, coefficients off by up to 30%)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    X[:, 1:] += 1.5 * X[:, :1]
    y = X[:, :5].sum(1) + rng.standard_normal(n)
    Xc, yc = X - X.mean(0), y - y.mean()
    amax = np.abs(Xc.T @ yc).max() / n
    alphas = amax * np.logspace(-0.01, -2, 20)
    res = solve_path(X, y, HalfSquaredError(), None, alpha=np.zeros(20), l1=alphas,
                     max_iter=1)
    _, ref, _ = lasso_path(Xc, yc, alphas=alphas, tol=1e-14, max_iter=100_000)
    assert res.certified.all()
    np.testing.assert_allclose(res.coefs[:, :, 0], ref.T, rtol=0,
                               atol=1e-7 * np.abs(ref).max())


def test_zero_block_returns_the_start_without_warnings():
    # a log-cosh Hessian whose residuals all saturate is zero: no finite
    # step on the active block; the search hands the start back (the
    # proximal Newton caller then damps) instead of stepping to inf / NaN
    H = np.zeros((3, 3))
    c = np.array([1.0, -2.0, 0.5])
    lam = np.array([0.1, 0.1, 0.0])
    x0 = np.array([0.3, 0.0, -1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = quad_l1(H, c, lam, x0)
    np.testing.assert_array_equal(x, x0)


def test_l1_log_cosh_with_saturated_residuals_is_certified_without_warnings():
    # 5 rows, targets of size 1e2: every residual saturates tanh, and
    # alpha = 100 is above the largest |gradient| of the loss at w = 0, so
    # the optimum is w = 0 and the intercept is the log-cosh location of y
    from scipy.optimize import minimize_scalar
    from sklearn.datasets import make_regression

    from sklipschitz import LipschitzRegressor

    X, Y = make_regression(random_state=42, n_samples=11, n_features=10, n_targets=5)
    X, y = X[6:], Y[6:, 1]
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        est = LipschitzRegressor(loss="log_cosh", penalty="l1", alpha=100).fit(X, y)
    # the one warning: the model is empty (alpha above alpha_max)
    assert [str(w.message)[:25] for w in rec] == ["Every coefficient is zero"]
    assert est.certified_
    np.testing.assert_array_equal(est.coef_, 0.0)

    def f(b):
        r = y - b
        return np.mean(np.abs(r) + np.log1p(np.exp(-2 * np.abs(r))) - np.log(2))

    ref = minimize_scalar(f, bounds=(y.min(), y.max()), method="bounded",
                          options={"xatol": 1e-12})
    assert f(est.intercept_) <= f(ref.x) + 1e-9
