"""The L1 / elastic-net phases of the exact solver (sklipschitz._exact.l1)."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.linear_model import QuantileRegressor

from sklipschitz._engine.losses import HalfSquaredError, LogCosh, PinballLoss
from sklipschitz._exact import solve_linear
from sklipschitz._exact.design import Design
from sklipschitz._exact.l1 import (
    diagonal_majorant,
    kkt_violation,
    pinball_certificate,
    quad_l1,
)


def data(n=150, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) + rng.uniform(-2, 2, d)
    y = X[:, 0] - 0.5 * X[:, 1] + rng.standard_t(3, n)
    return X, y


def design(X, fit_intercept=True, sn=None):
    n = X.shape[0]
    sn = np.full(n, 1.0 / n) if sn is None else sn
    return Design(X, sn, fit_intercept, bool(np.all(sn == sn[0])))


def test_quad_l1_matches_split_qp():
    """1/2 x'Hx - c'x + lam |x| with a free coordinate, against L-BFGS-B on
    the split x = u - v (u, v >= 0)."""
    rng = np.random.default_rng(1)
    A = rng.standard_normal((30, 7))
    H = A.T @ A / 30
    c = rng.standard_normal(7)
    lam = np.full(7, 0.3)
    lam[-1] = 0.0
    x = quad_l1(H, c, lam, np.zeros(7))

    def f(z):
        u, v = z[:7], z[7:]
        w = u - v
        g = H @ w - c
        return 0.5 * w @ H @ w - c @ w + lam @ (u + v), np.concatenate([g + lam, -g + lam])

    res = minimize(f, np.zeros(14), jac=True, method="L-BFGS-B", bounds=[(0, None)] * 14,
                   options={"gtol": 1e-13, "ftol": 1e-16, "maxiter": 10000})
    np.testing.assert_allclose(x, res.x[:7] - res.x[7:], atol=1e-6)
    assert 0.5 * x @ H @ x - c @ x + lam @ np.abs(x) <= res.fun + 1e-12
    assert np.any(x[:-1] == 0)


def test_diagonal_majorant_is_valid():
    for seed in range(3):
        X, _ = data(seed=seed)
        X[:, 2] *= 100.0          # columns of very different scales
        des = design(X)
        D = diagonal_majorant(des)
        G = (des.V * des.g) @ des.V.T
        assert np.linalg.eigvalsh(np.diag(D) - G)[0] >= -1e-9 * np.abs(G).max()
        # the Gershgorin choice adapts to the scales: far below lambda_max I
        assert np.sum(np.log(D)) <= X.shape[1] * np.log(des.g[-1])


@pytest.mark.parametrize("tau", [0.25, 0.5])
def test_certificate_accepts_the_optimum_and_rejects_a_perturbation(tau):
    X, y = data(seed=2)
    lam = 0.05
    q = QuantileRegressor(quantile=tau, alpha=lam, solver="highs").fit(X, y)
    des = design(X)
    res = solve_linear(X, y, PinballLoss(tau), None, l1=lam)
    w = res.coef[:, 0]
    b = des.centred_intercept(w, res.intercept[0])
    ok, _, viol = pinball_certificate(des, y, w, b, tau, lam)
    assert ok and res.certified and viol <= 1e-9
    # the same optimum as HiGHS (up to its tolerance)
    np.testing.assert_allclose(w, q.coef_, atol=1e-6)
    for j in (0, int(np.flatnonzero(w == 0)[0])):
        w2 = w.copy()
        w2[j] += 1e-4
        assert not pinball_certificate(des, y, w2, b, tau, lam)[0]
    assert not pinball_certificate(des, y, w, b + 1e-4, tau, lam)[0]


def test_kkt_violation_of_the_squared_problem():
    X, y = data(seed=3)
    des = design(X)
    l1 = 0.1
    res = solve_linear(X, y, HalfSquaredError(), None, l1=l1)
    assert res.certified
    w = res.coef[:, 0]
    b = des.centred_intercept(w, res.intercept[0])

    def viol(w, b):
        r = des.residual(y, w, b)
        gw = -des.rmatvec(des.sn * r, exact=True)
        return kkt_violation(gw, -float(des.sn @ r), w, l1, 1.0, True)

    assert viol(w, b) <= 1e-12
    w2 = w.copy()
    w2[np.flatnonzero(w == 0)[0]] = 1e-3
    assert viol(w2, b) > 1e-5


def test_float32_sparse_and_no_intercept():
    X, y = data(seed=4)
    lam, tau = 0.05, 0.7
    ref = solve_linear(X, y, PinballLoss(tau), None, l1=lam, fit_intercept=False)
    for Xv in (X.astype(np.float32), sp.csr_matrix(X)):
        res = solve_linear(Xv, y, PinballLoss(tau), None, l1=lam, fit_intercept=False)
        assert res.converged
        np.testing.assert_allclose(res.coef[:, 0], ref.coef[:, 0], atol=1e-4)
    q = QuantileRegressor(quantile=tau, alpha=lam, fit_intercept=False, solver="highs").fit(X, y)
    np.testing.assert_allclose(ref.coef[:, 0], q.coef_, atol=1e-6)


def test_log_cosh_warm_start_is_certified_at_once():
    X, y = data(seed=5)
    first = solve_linear(X, y, LogCosh(), None, l1=0.05, alpha=0.1)
    again = solve_linear(X, y, LogCosh(), None, l1=0.05, alpha=0.1, coef_init=first.coef,
                         intercept_init=first.intercept)
    assert first.certified and again.certified
    np.testing.assert_allclose(again.coef, first.coef, atol=1e-12)


def test_refuses_pinball_elastic_net():
    X, y = data(n=20)
    with pytest.raises(ValueError, match="no L1 penalty"):
        solve_linear(X, y, PinballLoss(0.5), None, l1=0.1, alpha=0.1)
