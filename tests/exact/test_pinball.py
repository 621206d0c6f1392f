"""Pinball and absolute error: the exact optimum against HiGHS, QuantReg and a QP."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklipschitz._exact import LinearSolution
from sklipschitz._engine.losses import AbsoluteError, PinballLoss

from exact_refs import DATASETS, data, fit, lp_quantile_objective, pinball_objective, qp_reference


@pytest.mark.parametrize("name", sorted(DATASETS))
@pytest.mark.parametrize("tau", [0.1, 0.5, 0.9])
def test_quantile_matches_lp_and_quantreg(name, tau):
    X, y = DATASETS[name]()
    sol = fit(X, y, PinballLoss(tau))
    assert isinstance(sol, LinearSolution)
    assert sol.certified and sol.converged
    ours = pinball_objective(X, y, sol.coef, sol.intercept, tau)
    ref = lp_quantile_objective(X, y, tau)
    assert abs(ours - ref) <= 1e-9 * ref
    assert sol.loss_curve[-1] == pytest.approx(ours, rel=1e-12)

    QuantReg = pytest.importorskip("statsmodels.regression.quantile_regression").QuantReg
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        qr = QuantReg(y, np.column_stack([np.ones(len(y)), X])).fit(q=tau, max_iter=5000)
    qobj = pinball_objective(X, y, qr.params[1:], qr.params[0], tau)
    assert ours <= qobj * (1 + 1e-12)
    assert abs(ours - qobj) <= 1e-6 * qobj


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_absolute_error_is_twice_median_pinball(name):
    X, y = DATASETS[name]()
    sol = fit(X, y, AbsoluteError())
    assert sol.certified
    ours = 2 * pinball_objective(X, y, sol.coef, sol.intercept, 0.5)
    assert abs(ours - 2 * lp_quantile_objective(X, y, 0.5)) <= 1e-9 * ours
    assert sol.loss_curve[-1] == pytest.approx(ours, rel=1e-12)


@pytest.mark.parametrize("tau", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_quantile_large_glob_path(tau, fit_intercept):
    # n large enough that the kept set is a small part of the data
    X, y = data(n=20000, d=6, seed=1)
    sol = fit(X, y, PinballLoss(tau), fit_intercept=fit_intercept)
    assert sol.certified
    ours = pinball_objective(X, y, sol.coef, sol.intercept, tau)
    ref = lp_quantile_objective(X, y, tau, fit_intercept=fit_intercept)
    assert abs(ours - ref) <= 1e-10 * ref
    # the FISTA iterations step at mu = 1/L and come first
    assert sol.n_iter == len(sol.loss_curve) == len(sol.learning_rate_history)
    assert sol.learning_rate_history[0] > sol.learning_rate_history[-2] > 0


def test_quantile_extreme_level_certifies():
    # FISTA alone is far off here (few points in the zone); the Newton
    # continuation and the globbed finish still certify
    X, y = data(n=15000, d=8, seed=2)
    for tau in (0.01, 0.99):
        sol = fit(X, y, PinballLoss(tau))
        assert sol.certified
        ours = pinball_objective(X, y, sol.coef, sol.intercept, tau)
        assert abs(ours - lp_quantile_objective(X, y, tau)) <= 1e-9 * ours


def test_quantile_weights_equal_repeated_rows():
    X, y = data(n=200, d=4, seed=3)
    rng = np.random.default_rng(0)
    sw = rng.integers(0, 4, size=200).astype(float)
    rep = np.repeat(np.arange(200), sw.astype(int))
    for loss in (PinballLoss(0.3), AbsoluteError()):
        a = fit(X, y, loss, sw)
        b = fit(X[rep], y[rep], loss)
        tau = getattr(loss, "quantile", 0.5)
        oa = pinball_objective(X, y, a.coef, a.intercept, tau, sw)
        ob = pinball_objective(X[rep], y[rep], b.coef, b.intercept, tau)
        assert a.certified and b.certified
        assert oa == pytest.approx(ob, rel=1e-10)
        assert oa == pytest.approx(lp_quantile_objective(X, y, tau, sw), rel=1e-10)


def test_quantile_sparse_equals_dense_and_float32():
    X, y = data(n=3000, d=6, seed=4)
    X[np.abs(X) < 0.8] = 0.0
    dense = fit(X, y, PinballLoss(0.7))
    for fmt in ("csr", "csc"):
        s = fit(sp.csr_matrix(X).asformat(fmt), y, PinballLoss(0.7))
        assert s.certified
        np.testing.assert_allclose(s.coef, dense.coef, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(s.intercept, dense.intercept, rtol=1e-7, atol=1e-9)
    X32 = X.astype(np.float32)
    s32 = fit(X32, y.astype(np.float32), PinballLoss(0.7))
    assert s32.coef.dtype == np.float32 and s32.intercept.dtype == np.float32
    ref = lp_quantile_objective(X32, y.astype(np.float32), 0.7)
    o32 = pinball_objective(X32, y.astype(np.float32), s32.coef, s32.intercept, 0.7)
    assert abs(o32 - ref) <= 1e-6 * ref


def test_quantile_multi_output():
    X, y = data(n=500, d=3, seed=5)
    Y = np.column_stack([y, -2 * y + X[:, 1]])
    sol = fit(X, Y, PinballLoss(0.25))
    assert sol.coef.shape == (3, 2) and sol.intercept.shape == (2,)
    total = 0.0
    for k in range(2):
        o = pinball_objective(X, Y[:, k], sol.coef[:, k], sol.intercept[k], 0.25)
        assert abs(o - lp_quantile_objective(X, Y[:, k], 0.25)) <= 1e-9 * o
        total += o
    assert sol.loss_curve[-1] == pytest.approx(total, rel=1e-12)


@pytest.mark.parametrize("tau", [0.2, 0.5, 0.8])
@pytest.mark.parametrize("alpha", [0.01, 0.3])
def test_quantile_with_penalty_against_qp(tau, alpha):
    X, y = data(n=40, d=3, seed=6)
    sol = fit(X, y, PinballLoss(tau), alpha=alpha)
    assert sol.certified
    ours = pinball_objective(X, y, sol.coef, sol.intercept, tau, alpha=alpha)
    ref = qp_reference(X, y, tau, alpha)
    assert ours <= ref + 1e-10 * abs(ref)
    assert ours == pytest.approx(ref, rel=1e-7)
    assert sol.loss_curve[-1] == pytest.approx(ours, rel=1e-12)
    # no perturbation improves the objective
    rng = np.random.default_rng(0)
    for _ in range(200):
        dc = rng.standard_normal(3) * 10.0 ** rng.uniform(-6, -2)
        db = rng.standard_normal() * 10.0 ** rng.uniform(-6, -2)
        o = pinball_objective(X, y, sol.coef[:, 0] + dc, sol.intercept + db, tau, alpha=alpha)
        assert o >= ours - 1e-13


def test_absolute_with_penalty_uses_factor_two():
    X, y = data(n=40, d=3, seed=7)
    alpha = 0.05
    sol = fit(X, y, AbsoluteError(), alpha=alpha)
    assert sol.certified
    # |r| + alpha/2 |w|^2 = 2 (rho_0.5 + alpha/4 |w|^2)
    ref = 2 * qp_reference(X, y, 0.5, alpha / 2)
    ours = 2 * pinball_objective(X, y, sol.coef, sol.intercept, 0.5, alpha=alpha / 2)
    assert ours == pytest.approx(ref, rel=1e-7)


def test_quantile_penalty_large_n_glob():
    X, y = data(n=20000, d=5, seed=8)
    alpha = 0.02
    sol = fit(X, y, PinballLoss(0.7), alpha=alpha)
    assert sol.certified
    ours = pinball_objective(X, y, sol.coef, sol.intercept, 0.7, alpha=alpha)
    rng = np.random.default_rng(1)
    for _ in range(50):
        dc = rng.standard_normal(5) * 1e-4
        db = rng.standard_normal() * 1e-4
        assert pinball_objective(X, y, sol.coef[:, 0] + dc, sol.intercept + db, 0.7,
                                 alpha=alpha) >= ours - 1e-13


def test_quantile_large_sparse_and_float32_paths():
    X, y = data(n=12000, d=6, seed=17)
    X[np.abs(X) < 1.0] = 0.0
    ref = lp_quantile_objective(X, y, 0.8)
    for Xv in (sp.csr_matrix(X), sp.csc_matrix(X), X.astype(np.float32)):
        yv = y.astype(Xv.dtype)
        sol = fit(Xv, yv, PinballLoss(0.8))
        assert sol.certified and sol.coef.dtype == Xv.dtype
        Xd = Xv.toarray() if sp.issparse(Xv) else Xv
        o = pinball_objective(Xd, yv, sol.coef, sol.intercept, 0.8)
        assert abs(o - ref) <= 1e-6 * ref
