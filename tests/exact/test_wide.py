"""Sparse designs with many columns: the route that never forms a d x d matrix."""

import numpy as np
import pytest
import scipy.sparse as sp

import sklipschitz._exact as exact
from exact_refs import lp_quantile_objective, pinball_objective
from sklipschitz._engine.losses import AbsoluteError, HalfSquaredError, LogCosh, PinballLoss
from sklipschitz._exact import solve_linear


@pytest.fixture
def wide_from(monkeypatch):
    """Force the sparse route from a small number of columns."""
    def set_threshold(d):
        monkeypatch.setattr(exact, "WIDE_SPARSE_MIN_FEATURES", d)
    return set_threshold


def sparse_data(n, d, density, seed=0, noise=1.0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed,
                  data_rvs=rng.standard_normal)
    y = X @ rng.standard_normal(d) + 3 + noise * rng.standard_t(3, n)
    return X, y


@pytest.mark.parametrize("alpha", [0.0, 0.05])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("shape", [(400, 60), (50, 200)])
def test_squared_matches_lstsq_and_ridge(wide_from, alpha, fit_intercept, shape):
    from sklearn.linear_model import LinearRegression, Ridge

    wide_from(10)
    n, d = shape
    X, y = sparse_data(n, d, 0.05, seed=1)
    sw = np.random.default_rng(2).uniform(0.5, 2, n)
    sol = solve_linear(X, y, HalfSquaredError(), sw, alpha=alpha, fit_intercept=fit_intercept)
    assert sol.method == "wide" and sol.converged and sol.certified
    Xd = X.toarray()
    if alpha == 0:
        ref = LinearRegression(fit_intercept=fit_intercept).fit(Xd, y, sample_weight=sw)
    else:
        ref = Ridge(alpha=alpha * sw.sum(), fit_intercept=fit_intercept, solver="svd").fit(
            Xd, y, sample_weight=sw)
    # minimum norm in the rank-deficient case (n < d, alpha = 0), as lstsq
    np.testing.assert_allclose(sol.coef[:, 0], ref.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(sol.intercept[0], ref.intercept_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("loss", [PinballLoss(0.8), AbsoluteError(), PinballLoss(0.2)],
                         ids=lambda l: repr(l))
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_quantile_matches_highs_when_n_exceeds_d(wide_from, loss, fit_intercept):
    wide_from(10)
    X, y = sparse_data(3000, 40, 0.1, seed=3)
    sol = solve_linear(X, y, loss, None, fit_intercept=fit_intercept)
    assert sol.method == "wide" and sol.certified and sol.converged
    tau = getattr(loss, "quantile", 0.5)
    ours = pinball_objective(X, y, sol.coef, sol.intercept, tau)
    ref = lp_quantile_objective(X.toarray(), y, tau, fit_intercept=fit_intercept)
    assert abs(ours - ref) <= 1e-9 * ref
    assert sol.loss_curve[-1] == pytest.approx(ours * (2 if tau == 0.5 and
                                                       isinstance(loss, AbsoluteError) else 1),
                                               rel=1e-10)


def test_quantile_interpolates_when_rows_are_few(wide_from):
    wide_from(10)
    X, y = sparse_data(60, 300, 0.05, seed=4)
    sol = solve_linear(X, y, PinballLoss(0.3), None)
    assert sol.certified
    assert pinball_objective(X, y, sol.coef, sol.intercept, 0.3) <= 1e-12 * np.abs(y).mean()


def test_quantile_with_penalty_and_logcosh_are_finite_and_honest(wide_from):
    wide_from(10)
    X, y = sparse_data(500, 30, 0.1, seed=5)
    for loss, alpha in ((PinballLoss(0.4), 0.01), (LogCosh(), 0.0), (LogCosh(), 0.1)):
        sol = solve_linear(X, y, loss, None, alpha=alpha, max_iter=3000)
        assert np.all(np.isfinite(sol.coef)) and np.isfinite(sol.intercept).all()
        assert not sol.certified or isinstance(loss, LogCosh)
        dense = solve_linear(X.toarray(), y, loss, None, alpha=alpha)
        # close to the exact dense solution (log-cosh converges; the
        # penalised pinball loss gets within its smoothing bias)
        ref = dense.loss_curve[-1]
        assert sol.loss_curve[-1] == pytest.approx(ref, rel=1e-6 if isinstance(loss, LogCosh)
                                                   else 1e-3)


def test_route_is_chosen_by_the_threshold():
    assert exact.WIDE_SPARSE_MIN_FEATURES == 3000
    X, y = sparse_data(100, 20, 0.2, seed=6)
    assert solve_linear(X, y, HalfSquaredError(), None).method == "whitened"
    assert solve_linear(X.toarray(), y, HalfSquaredError(), None).method == "whitened"
