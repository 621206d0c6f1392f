"""Constant, collinear, wide and extreme designs: finite, exact answers and
no spurious warning (through the solver and through the estimator)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import sklipschitz._exact as exact
from exact_refs import lp_quantile_objective, pinball_objective
from sklipschitz import LipschitzRegressor
from sklipschitz._engine.losses import (
    AbsoluteError, HalfSquaredError, LogCosh, PinballLoss, weighted_quantile,
)
from sklipschitz._exact import solve_linear

LOSSES = {"squared_error": HalfSquaredError(), "absolute_error": AbsoluteError(),
          "quantile": PinballLoss(0.8), "log_cosh": LogCosh()}


def best_constant(loss, y, sw):
    if isinstance(loss, HalfSquaredError):
        return float(sw @ y / sw.sum())
    if isinstance(loss, LogCosh):
        return float(loss.constant_raw(y[:, None], sw)[0])
    return float(weighted_quantile(y, sw, getattr(loss, "quantile", 0.5))[0])


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("value", [0.5, 0.1, -7.3e4])
@pytest.mark.parametrize("sparse", [False, True])
def test_all_constant_features_predict_the_best_constant(name, value, sparse):
    rng = np.random.default_rng(0)
    X = np.full((100, 2), value)
    y = rng.standard_normal(100) * 3 + 1
    sw = rng.uniform(0.5, 2, 100)
    Xf = sp.csr_matrix(X) if sparse else X
    loss = LOSSES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sol = solve_linear(Xf, y, loss, sw)
        model = LipschitzRegressor(loss=name, quantile=0.8).fit(Xf, y, sample_weight=sw)
    assert sol.converged and sol.certified
    np.testing.assert_array_equal(sol.coef, 0.0)
    c = best_constant(loss, y, sw)
    assert sol.intercept[0] == pytest.approx(c, rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(model.predict(np.full((3, 2), 0.6 * value + 1)), c, rtol=1e-9)
    assert np.all(model.coef_ == 0)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_squared_collinear_designs_are_minimum_norm(fit_intercept):
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(1)
    Z = rng.standard_normal((40, 3))
    designs = {
        "duplicated": np.column_stack([Z, Z[:, 1]]),
        "rank-deficient": np.column_stack([Z, Z @ [1.0, -2.0, 0.5]]),
        "n<d": rng.standard_normal((6, 15)),
        "constant column": np.column_stack([Z, np.full(40, 2.5)]),
    }
    for name, X in designs.items():
        y = rng.standard_normal(X.shape[0])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            sol = solve_linear(X, y, HalfSquaredError(), None, fit_intercept=fit_intercept)
        ref = LinearRegression(fit_intercept=fit_intercept).fit(X, y)
        np.testing.assert_allclose(sol.coef[:, 0], ref.coef_, rtol=1e-7, atol=1e-10, err_msg=name)
        np.testing.assert_allclose(sol.intercept[0], ref.intercept_, rtol=1e-7, atol=1e-10)
        if fit_intercept:
            Xc = X - X.mean(0)
            np.testing.assert_allclose(sol.coef[:, 0], np.linalg.lstsq(Xc, y - y.mean(),
                                                                       rcond=None)[0],
                                       rtol=1e-7, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("name", ["absolute_error", "quantile", "log_cosh"])
def test_other_losses_on_duplicated_columns_solve_the_reduced_problem(name):
    rng = np.random.default_rng(2)
    Z = rng.standard_normal((80, 2))
    y = Z @ [1.0, -1.0] + rng.standard_t(3, 80)
    loss = LOSSES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dup = solve_linear(np.column_stack([Z, Z[:, 0]]), y, loss, None)
        one = solve_linear(Z, y, loss, None)
    assert np.all(np.isfinite(dup.coef))
    # the duplicate shares the weight of its column equally (minimum norm)
    assert dup.coef[0, 0] == pytest.approx(dup.coef[2, 0], rel=1e-8)
    assert dup.loss_curve[-1] == pytest.approx(one.loss_curve[-1], rel=1e-10)
    if name != "log_cosh":
        tau = getattr(loss, "quantile", 0.5)
        assert pinball_objective(Z, y, one.coef, one.intercept, tau) == pytest.approx(
            lp_quantile_objective(Z, y, tau), rel=1e-9)


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("scale", [1e300, 1e-300, 1e200])
def test_extreme_magnitudes_are_rescaled(name, scale):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((200, 3))
    y = X @ [1.0, 2.0, -1.0] + rng.standard_normal(200)
    loss = LOSSES[name]
    ref = solve_linear(X, y, loss, None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sol = solve_linear(X * scale, y, loss, None)
    assert sol.converged
    np.testing.assert_allclose(sol.coef * scale, ref.coef, rtol=1e-8)
    np.testing.assert_allclose(sol.intercept, ref.intercept, rtol=1e-8)
    assert sol.loss_curve[-1] == pytest.approx(ref.loss_curve[-1], rel=1e-10)


@pytest.mark.parametrize("loss", ["squared_error", "quantile"])
def test_estimator_uses_the_sparse_route_for_wide_designs(monkeypatch, loss):
    from sklearn.linear_model import LinearRegression

    monkeypatch.setattr(exact, "WIDE_SPARSE_MIN_FEATURES", 50)
    rng = np.random.default_rng(4)
    X = sp.random(120, 400, density=0.02, format="csr", random_state=4)
    y = X @ rng.standard_normal(400) + rng.standard_normal(120)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LipschitzRegressor(loss=loss, quantile=0.7).fit(X, y)
    if loss == "squared_error":
        ref = LinearRegression().fit(X.toarray(), y)
        np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    else:
        # n < d: the rows are interpolated, zero loss
        assert np.abs(y - model.predict(X)).max() <= 1e-9 * np.abs(y).max()
