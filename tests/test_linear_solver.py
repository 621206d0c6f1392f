"""Tests of the exact full-batch linear solver against independent references."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog, minimize

from sklipschitz._linear_solver import LinearSolution, solve_linear
from sklipschitz._engine.losses import AbsoluteError, HalfSquaredError, LogCosh, PinballLoss


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """The references (SLSQP, L-BFGS-B, HiGHS, QuantReg) make many small BLAS
    calls; with several threads on a busy machine they slow down by 20x."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield

# ----------------------------------------------------------------------------
# references
# ----------------------------------------------------------------------------


def pinball_objective(X, y, coef, intercept, tau, sw=None, alpha=0.0):
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    coef = np.asarray(coef, dtype=np.float64).reshape(X.shape[1], -1)
    sw = np.ones(X.shape[0]) if sw is None else np.asarray(sw, dtype=np.float64)
    r = y - X @ coef - np.asarray(intercept, dtype=np.float64)
    rho = np.maximum(tau * r, (tau - 1) * r).sum(axis=1)
    return float(sw @ rho) / sw.sum() + 0.5 * alpha * float(np.sum(coef**2))


def lp_quantile_objective(X, y, tau, sw=None, fit_intercept=True):
    """Optimal weighted mean pinball loss by HiGHS (dual LP)."""
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    sw = np.ones(n) if sw is None else np.asarray(sw, dtype=np.float64)
    A = np.column_stack([X, np.ones(n)]) if fit_intercept else X
    res = linprog(-np.asarray(y, dtype=np.float64), A_eq=A.T, b_eq=np.zeros(A.shape[1]),
                  bounds=np.column_stack([sw * (tau - 1), sw * tau]), method="highs")
    assert res.status == 0
    return -res.fun / sw.sum()


def logcosh(r):
    a = np.abs(r)
    return a + np.log1p(np.exp(-2 * a)) - np.log(2)


def lbfgs_logcosh(X, y, sw, alpha, fit_intercept=True):
    n, d = X.shape
    s = sw / sw.sum()

    def f(theta):
        w, b = theta[:d], (theta[d] if fit_intercept else 0.0)
        r = X @ w + b - y
        t = np.tanh(r)
        g = np.concatenate([X.T @ (s * t) + alpha * w, [s @ t] if fit_intercept else []])
        return s @ logcosh(r) + 0.5 * alpha * w @ w, g

    res = minimize(f, np.zeros(d + int(fit_intercept)), jac=True, method="L-BFGS-B",
                   options={"maxiter": 20000, "ftol": 1e-15, "gtol": 1e-12})
    return res.fun


def data(n=300, d=5, seed=0, heavy=True):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 3, d) + rng.uniform(-1, 1, d)
    noise = rng.standard_t(2, n) if heavy else rng.standard_normal(n)
    y = X @ rng.standard_normal(d) + 2 + noise * (1 + 0.5 * np.abs(X[:, 0]))
    return X, y


def engel():
    sm = pytest.importorskip("statsmodels.datasets.engel")
    df = sm.load_pandas().data
    return df[["income"]].to_numpy(dtype=float), df["foodexp"].to_numpy(dtype=float)


def stackloss():
    sm = pytest.importorskip("statsmodels.datasets.stackloss")
    df = sm.load_pandas().data
    return (df[["AIRFLOW", "WATERTEMP", "ACIDCONC"]].to_numpy(dtype=float),
            df["STACKLOSS"].to_numpy(dtype=float))


def diabetes():
    from sklearn.datasets import load_diabetes

    return load_diabetes(return_X_y=True)


DATASETS = {"engel": engel, "stackloss": stackloss, "diabetes": diabetes}


def fit(X, y, loss, sw=None, **kw):
    y = np.asarray(y)
    Y = y[:, None] if y.ndim == 1 else y
    return solve_linear(X, Y.astype(X.dtype), loss, sw, **kw)


# ----------------------------------------------------------------------------
# pinball and absolute loss: exact optimum against LP and QuantReg
# ----------------------------------------------------------------------------


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


def _qp_reference(X, y, tau, alpha, sw=None):
    """Epigraph QP of the penalised pinball problem solved by SLSQP."""
    n, d = X.shape
    sw = np.ones(n) if sw is None else sw
    s = sw / sw.sum()

    def obj(v):
        w, u, t = v[:d], v[d + 1:d + 1 + n], v[d + 1 + n:]
        return s @ (tau * u + (1 - tau) * t) + 0.5 * alpha * w @ w

    def grad(v):
        g = np.zeros_like(v)
        g[:d] = alpha * v[:d]
        g[d + 1:d + 1 + n] = tau * s
        g[d + 1 + n:] = (1 - tau) * s
        return g

    A = np.hstack([X, np.ones((n, 1)), np.eye(n), -np.eye(n)])
    cons = {"type": "eq", "fun": lambda v: A @ v - y, "jac": lambda v: A}
    bounds = [(None, None)] * (d + 1) + [(0, None)] * (2 * n)
    r0 = y - np.median(y)
    v0 = np.concatenate([np.zeros(d), [np.median(y)], np.maximum(r0, 0), np.maximum(-r0, 0)])
    res = minimize(obj, v0, jac=grad, constraints=[cons], bounds=bounds, method="SLSQP",
                   options={"maxiter": 2000, "ftol": 1e-14})
    return res.fun


@pytest.mark.parametrize("tau", [0.2, 0.5, 0.8])
@pytest.mark.parametrize("alpha", [0.01, 0.3])
def test_quantile_with_penalty_against_qp(tau, alpha):
    X, y = data(n=40, d=3, seed=6)
    sol = fit(X, y, PinballLoss(tau), alpha=alpha)
    assert sol.certified
    ours = pinball_objective(X, y, sol.coef, sol.intercept, tau, alpha=alpha)
    ref = _qp_reference(X, y, tau, alpha)
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
    ref = 2 * _qp_reference(X, y, 0.5, alpha / 2)
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


# ----------------------------------------------------------------------------
# squared error
# ----------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------
# log-cosh
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.0, 0.05])
@pytest.mark.parametrize("name", ["diabetes", "stackloss", "synthetic"])
def test_logcosh_matches_lbfgs(alpha, name):
    if name == "synthetic":
        X, y = data(n=2000, d=8, seed=10)
    else:
        X, y = DATASETS[name]()
        X = (X - X.mean(0)) / X.std(0)
        y = (y - y.mean()) / y.std()
    sw = np.random.default_rng(2).uniform(0.5, 2, len(y))
    sol = fit(X, y, LogCosh(), sw, alpha=alpha)
    assert sol.certified
    s = sw / sw.sum()
    r = X @ sol.coef[:, 0] + sol.intercept[0] - y
    ours = s @ logcosh(r) + 0.5 * alpha * sol.coef[:, 0] @ sol.coef[:, 0]
    ref = lbfgs_logcosh(X, y, sw, alpha)
    assert ours <= ref + 1e-12 * abs(ref)
    assert ours == pytest.approx(ref, rel=1e-6)
    assert sol.loss_curve[-1] == pytest.approx(ours, rel=1e-12)
    # sparse and repeated rows
    sp_sol = fit(sp.csr_matrix(X), y, LogCosh(), sw, alpha=alpha)
    np.testing.assert_allclose(sp_sol.coef, sol.coef, rtol=1e-6, atol=1e-9)


def test_logcosh_weights_equal_repeated_rows():
    X, y = data(n=300, d=4, seed=11)
    sw = np.random.default_rng(3).integers(0, 4, 300).astype(float)
    rep = np.repeat(np.arange(300), sw.astype(int))
    a = fit(X, y, LogCosh(), sw)
    b = fit(X[rep], y[rep], LogCosh())
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(a.intercept, b.intercept, rtol=1e-8, atol=1e-10)


# ----------------------------------------------------------------------------
# edge cases, warm start, contract
# ----------------------------------------------------------------------------

ALL_LOSSES = [HalfSquaredError(), AbsoluteError(), PinballLoss(0.8), LogCosh()]


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=lambda l: l.name)
@pytest.mark.parametrize("alpha", [0.0, 0.1])
def test_edge_cases_finite(loss, alpha):
    rng = np.random.default_rng(0)
    cases = {
        "n=1": (rng.standard_normal((1, 3)), rng.standard_normal(1)),
        "d=1": (rng.standard_normal((50, 1)), rng.standard_normal(50)),
        "n<d": (rng.standard_normal((4, 10)), rng.standard_normal(4)),
        "constant y": (rng.standard_normal((30, 3)), np.full(30, 2.5)),
        "constant column": (np.column_stack([rng.standard_normal((40, 2)), np.ones(40)]),
                            rng.standard_normal(40)),
        "duplicated column": (np.repeat(rng.standard_normal((40, 2)), 2, axis=1),
                              rng.standard_normal(40)),
        "duplicated rows": (np.repeat(rng.integers(0, 3, (15, 2)).astype(float), 3, axis=0),
                            np.repeat(rng.integers(0, 5, 15).astype(float), 3)),
        "zero X": (np.zeros((20, 3)), rng.standard_normal(20)),
    }
    for name, (X, y) in cases.items():
        for fit_intercept in (True, False):
            sol = fit(X, y, loss, alpha=alpha, fit_intercept=fit_intercept)
            assert np.all(np.isfinite(sol.coef)), name
            assert np.all(np.isfinite(sol.intercept)), name
            assert np.all(np.isfinite(sol.loss_curve)), name
            assert sol.coef.shape == (X.shape[1], 1)
            if loss.name in ("quantile", "absolute_error") and alpha == 0:
                tau = getattr(loss, "quantile", 0.5)
                ours = pinball_objective(X, y, sol.coef, sol.intercept, tau)
                ref = lp_quantile_objective(X, y, tau, fit_intercept=fit_intercept)
                assert ours <= ref + 1e-9 * ref + 1e-12 * (1 + np.abs(y).mean()), name
                assert sol.certified, name
    # all-equal y with an intercept is fitted exactly
    X, y = cases["constant y"]
    sol = fit(X, y, loss, alpha=alpha)
    np.testing.assert_allclose(sol.intercept, 2.5, rtol=1e-10)
    np.testing.assert_allclose(sol.coef, 0, atol=1e-10)


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=lambda l: l.name)
def test_warm_start_from_optimum_returns_immediately(loss):
    X, y = data(n=5000, d=5, seed=12)
    first = fit(X, y, loss)
    again = fit(X, y, loss, coef_init=first.coef, intercept_init=first.intercept)
    assert again.n_iter <= 1
    assert again.certified
    np.testing.assert_allclose(again.coef, first.coef, rtol=1e-9, atol=1e-12)


def test_warm_start_from_elsewhere_still_exact():
    X, y = data(n=5000, d=5, seed=13)
    sol = fit(X, y, PinballLoss(0.6), coef_init=np.ones((5, 1)), intercept_init=np.array([-3.0]))
    assert sol.certified
    ours = pinball_objective(X, y, sol.coef, sol.intercept, 0.6)
    assert abs(ours - lp_quantile_objective(X, y, 0.6)) <= 1e-9 * ours


def test_zero_weights_are_absent_rows():
    X, y = data(n=300, d=3, seed=14)
    sw = np.ones(300)
    sw[::3] = 0
    for loss in ALL_LOSSES:
        a = fit(X, y, loss, sw)
        b = fit(X[sw > 0], y[sw > 0], loss)
        np.testing.assert_allclose(a.coef, b.coef, rtol=1e-8, atol=1e-10)


def test_bad_input():
    X, y = data(n=20, d=2)
    with pytest.raises(ValueError):
        fit(X, y, HalfSquaredError(), -np.ones(20))
    with pytest.raises(ValueError):
        fit(X, y, HalfSquaredError(), alpha=-1.0)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError):
        fit(Xn, y, HalfSquaredError())
    with pytest.raises(ValueError):
        fit(X, y, HalfSquaredError(), np.zeros(20))


def test_logcosh_multi_output_intercepts():
    X, y = data(n=400, d=3, seed=15)
    Y = np.column_stack([y, 5 - y, 0.1 * y + 20])
    sol = fit(X, Y, LogCosh())
    for k in range(3):
        one = fit(X, Y[:, k], LogCosh())
        np.testing.assert_allclose(sol.coef[:, k], one.coef[:, 0], rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(sol.intercept[k], one.intercept[0], rtol=1e-8)


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=lambda l: l.name)
def test_history_contract(loss):
    X, y = data(n=6000, d=4, seed=16)
    sol = fit(X, y, loss, alpha=0.01)
    assert sol.n_iter == len(sol.loss_curve) == len(sol.learning_rate_history) > 0
    assert all(np.isfinite(sol.loss_curve)) and all(v > 0 for v in sol.learning_rate_history)
    # the last entry is the objective of the returned coefficients
    r = X @ sol.coef[:, 0] + sol.intercept[0] - y
    tau = getattr(loss, "quantile", 0.5)
    pen = 0.005 * sol.coef[:, 0] @ sol.coef[:, 0]
    value = {"squared_error": np.mean(0.5 * r**2), "log_cosh": np.mean(logcosh(r)),
             "absolute_error": np.mean(np.abs(r)),
             "quantile": np.mean(np.maximum(-tau * r, (1 - tau) * r))}[loss.name] + pen
    assert sol.loss_curve[-1] == pytest.approx(value, rel=1e-10)
    if loss.name == "quantile":
        # FISTA steps are at mu = 1/L of the smoothed problem: s0, 0.3 s0
        mus = sorted(set(sol.learning_rate_history[:20]), reverse=True)
        assert mus[0] == pytest.approx(mus[1] / 0.3, rel=1e-12)


def test_squared_max_iter_one_is_exact():
    from sklearn.linear_model import LinearRegression

    X, y = diabetes()
    sol = fit(X, y, HalfSquaredError(), max_iter=1)
    assert sol.n_iter == 1
    np.testing.assert_allclose(sol.coef[:, 0], LinearRegression().fit(X, y).coef_, rtol=1e-6)


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


def test_verbose_smoke(capsys):
    X, y = data(n=3000, d=3, seed=18)
    for loss in ALL_LOSSES:
        fit(X, y, loss, verbose=2)
    assert "solve_linear" in capsys.readouterr().out
