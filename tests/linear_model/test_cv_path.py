"""The regularisation path on one design (``sklipschitz._exact.solve_path``)
behind ``LipschitzRegressorCV`` / ``lipschitz_path``: equal to the
per-alpha fits it replaces, and to scikit-learn's LassoCV / ElasticNetCV
where the objectives coincide."""

from unittest import mock

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNetCV, LassoCV
from sklearn.model_selection import KFold

from sklipschitz import LipschitzRegressor, LipschitzRegressorCV
from sklipschitz._engine.losses import get_regression_loss
from sklipschitz._exact import solve_linear, solve_path
from sklipschitz.linear_model import _cv, lipschitz_path


def make(n=120, d=5, seed=0, outputs=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 3.0, d) + rng.uniform(-2, 2, d)
    w = rng.standard_normal((d,) if outputs is None else (d, outputs))
    w[-1] = 0.0
    noise = rng.standard_normal(n if outputs is None else (n, outputs))
    y = X @ w + 1.5 + noise * (1 + 0.5 * np.abs(X[:, [0]] if outputs else X[:, 0]))
    return X, y


def rel(a, b, scale=None):
    """Largest difference relative to the largest entry of ``b`` (or ``scale``)."""
    scale = np.abs(b).max() if scale is None else scale
    return np.abs(np.asarray(a) - b).max() / max(scale, 1e-300)


def start(loss, Y, sw, k, fit_intercept):
    sw = np.ones(len(Y)) if sw is None else sw
    return (np.asarray(loss.constant_raw(Y.reshape(len(Y), k), sw), dtype=float).reshape(-1)
            if fit_intercept else None)


def loop_of_single_fits(X, Y, loss, sw, l2s, l1s, fit_intercept=True):
    """The reference: solve_linear at every penalty, warm-started at the
    previous solution from the start solve_path is given."""
    k = 1 if Y.ndim == 1 else Y.shape[1]
    W = np.zeros((X.shape[1], k))
    B = start(loss, Y, sw, k, fit_intercept)
    out = []
    for a, lam in zip(l2s, l1s):
        s = solve_linear(X, Y, loss, sw, alpha=a, l1=lam, fit_intercept=fit_intercept,
                         coef_init=W, intercept_init=B)
        W, B = s.coef.astype(float), s.intercept.astype(float)
        out.append(s)
    return out


def path_of(X, Y, loss, sw, l2s, l1s, fit_intercept=True):
    k = 1 if Y.ndim == 1 else Y.shape[1]
    B = start(loss, Y, sw, k, fit_intercept)
    return solve_path(X, Y, loss, sw, alpha=l2s, l1=l1s, fit_intercept=fit_intercept,
                      coef_init=np.zeros((X.shape[1], k)), intercept_init=B)


def grid(X, y, loss, l1_ratio=1.0, n=8, eps=1e-3, sw=None):
    from sklipschitz._exact import penalty_alpha_max

    amax = penalty_alpha_max(X, y, loss, sw, l1_ratio=l1_ratio)
    return np.geomspace(amax, amax * eps, n)


@pytest.mark.parametrize("name, l1_ratio", [
    ("squared_error", 1.0), ("squared_error", 0.5), ("quantile", 1.0),
    ("absolute_error", 1.0), ("log_cosh", 1.0), ("log_cosh", 0.7)])
@pytest.mark.parametrize("weighted", [False, True])
def test_solve_path_equals_the_single_fits(name, l1_ratio, weighted):
    X, y = make(seed=1)
    if name == "log_cosh":
        y = y / 3.0        # residuals of order 1: log-cosh away from its absolute-error limit
    sw = np.random.default_rng(2).uniform(0.2, 3.0, y.size) if weighted else None
    loss = get_regression_loss(name, 0.3)
    alphas = grid(X, y, loss, l1_ratio, sw=sw)
    l2s, l1s = alphas * (1 - l1_ratio), alphas * l1_ratio
    sol = path_of(X, y, loss, sw, l2s, l1s)
    ref = loop_of_single_fits(X, y, loss, sw, l2s, l1s)
    assert sol.coefs.shape == (alphas.size, X.shape[1], 1)
    assert np.all(sol.certified) and np.all(sol.converged)
    assert all(r.certified for r in ref)
    for i, r in enumerate(ref):
        # both certified optima: equal coefficients, or (the LP's ties) equal objectives
        if rel(sol.coefs[i], r.coef, scale=np.abs(sol.coefs).max()) > 1e-8:
            assert sol.objectives[i] == pytest.approx(r.loss_curve[-1], rel=1e-10)
        np.testing.assert_allclose(sol.intercepts[i], r.intercept, rtol=1e-8,
                                   atol=1e-8 * np.abs(y).max())
    # alpha_max zeroes every coefficient (log-cosh: to round-off)
    assert np.abs(sol.coefs[0]).max() <= 1e-12 * np.abs(sol.coefs).max()
    assert np.count_nonzero(sol.coefs[-1]) > 0


def test_solve_path_multi_output_sparse_no_intercept_and_extreme_scale():
    X, Y = make(n=90, d=4, seed=3, outputs=2)
    loss = get_regression_loss("squared_error", 0.5)
    alphas = grid(X, Y[:, 0], loss)
    zeros = np.zeros_like(alphas)
    sol = path_of(X, Y, loss, None, zeros, alphas)
    ref = loop_of_single_fits(X, Y, loss, None, zeros, alphas)
    for i, r in enumerate(ref):
        assert rel(sol.coefs[i], r.coef) <= 1e-8
    # CSR X, no intercept: the same path as dense X
    dense = path_of(X, Y[:, 0], loss, None, zeros, alphas, fit_intercept=False)
    csr = path_of(sp.csr_matrix(X), Y[:, 0], loss, None, zeros, alphas, fit_intercept=False)
    assert np.all(dense.intercepts == 0)
    assert rel(csr.coefs, dense.coefs) <= 1e-8
    # X of magnitude 1e120 is solved as X / 2^k: coefficients scale back exactly
    big = path_of(X * 1e120, Y[:, 0], loss, None, zeros, alphas * 1e120)
    small = path_of(X, Y[:, 0], loss, None, zeros, alphas)
    assert rel(big.coefs * 1e120, small.coefs) <= 1e-8


def test_lipschitz_path_equals_the_per_alpha_estimator_fits():
    """What LipschitzRegressorCV ran before solve_path: one warm-started
    LipschitzRegressor fit per alpha."""
    X, y = make(n=150, seed=4)
    for loss in ("squared_error", "quantile"):
        alphas, coefs, intercepts = lipschitz_path(X, y, loss=loss, quantile=0.7, n_alphas=6)
        reg = LipschitzRegressor(loss=loss, quantile=0.7, penalty="l1", warm_start=True)
        for i, a in enumerate(alphas):
            reg.set_params(alpha=a).fit(X, y)
            assert rel(coefs[:, i], reg.coef_, scale=np.abs(coefs).max()) <= 1e-8
            assert intercepts[i] == pytest.approx(reg.intercept_, rel=1e-8, abs=1e-8)


@pytest.mark.parametrize("loss", ["squared_error", "quantile"])
def test_cv_on_one_design_equals_the_per_alpha_path(loss):
    X, y = make(n=160, seed=5)
    kw = dict(loss=loss, quantile=0.4, n_alphas=8, cv=KFold(4))
    new = LipschitzRegressorCV(**kw).fit(X, y)
    with mock.patch.object(_cv, "_exact_path", lambda *a: False):
        old = LipschitzRegressorCV(**kw).fit(X, y)
    np.testing.assert_allclose(new.loss_path_, old.loss_path_, rtol=1e-8)
    assert new.alpha_ == old.alpha_
    np.testing.assert_array_equal(new.coef_, old.coef_)


def test_cv_equals_lasso_cv():
    """The same objective, grid and folds: the same alpha_ and coef_."""
    X, y = make(n=200, d=6, seed=6)
    folds = KFold(5)
    ours = LipschitzRegressorCV(n_alphas=30, cv=folds).fit(X, y)
    ref = LassoCV(alphas=ours.alphas_, cv=folds, tol=1e-12, max_iter=100_000).fit(X, y)
    assert ours.alpha_ == ref.alpha_
    np.testing.assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-12)
    # LassoCV's mse_path_ is the mean squared error; ours half of it
    np.testing.assert_allclose(2 * ours.loss_path_, ref.mse_path_, rtol=1e-7)
    assert rel(ours.coef_, ref.coef_) <= 1e-7
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-7)


def test_cv_equals_elastic_net_cv():
    X, y = make(n=200, d=6, seed=7)
    folds = KFold(4)
    ours = LipschitzRegressorCV(penalty="elasticnet", l1_ratio=0.5, n_alphas=20,
                                cv=folds).fit(X, y)
    ref = ElasticNetCV(l1_ratio=0.5, alphas=ours.alphas_, cv=folds, tol=1e-12,
                       max_iter=100_000).fit(X, y)
    assert ours.alpha_ == ref.alpha_
    np.testing.assert_allclose(2 * ours.loss_path_, ref.mse_path_, rtol=1e-7)
    assert rel(ours.coef_, ref.coef_) <= 1e-7


def test_cv_keeps_per_alpha_fits_where_the_exact_solver_does_not_go():
    """The pinball elastic net is fitted by gradient descent: no single design."""
    X, y = make(n=60, seed=8)
    reg = LipschitzRegressor(loss="quantile", penalty="elasticnet", l1_ratio=0.5)
    reg._validate_params()
    assert not _cv._exact_path(reg, X, [(0.05, 0.05)])
    reg = LipschitzRegressor(loss="quantile", penalty="l1")
    assert _cv._exact_path(reg, X, [(0.0, 0.1), (0.0, 0.0)])


def test_path_warns_when_an_alpha_does_not_converge():
    X, y = make(n=100, seed=9)
    with pytest.warns(ConvergenceWarning, match="alphas of the path; increase max_iter"):
        lipschitz_path(X, y / 10.0, loss="log_cosh", n_alphas=4, max_iter=1)


@pytest.mark.parametrize("kwargs, match", [
    (dict(alpha=[0.0, 0.1], l1=[0.1]), "same length"),
    (dict(alpha=[], l1=[]), "non-empty"),
    (dict(alpha=[0.0], l1=[-1.0]), "finite and >= 0"),
    (dict(alpha=[np.nan], l1=[1.0]), "finite and >= 0"),
])
def test_solve_path_rejects_bad_penalties(kwargs, match):
    X, y = make(n=30)
    with pytest.raises(ValueError, match=match):
        solve_path(X, y, get_regression_loss("squared_error", 0.5), None, **kwargs)


def test_solve_path_refuses_what_it_cannot_solve():
    X, y = make(n=30)
    with pytest.raises(ValueError, match="no L1 penalty"):
        solve_path(X, y, get_regression_loss("quantile", 0.5), None, alpha=[0.1], l1=[0.1])
    wide = sp.random(30, 3000, density=0.01, format="csr", random_state=0)
    with pytest.raises(ValueError, match="fewer than 3000 columns"):
        solve_path(wide, y, get_regression_loss("squared_error", 0.5), None, alpha=[0.0],
                   l1=[0.1])
