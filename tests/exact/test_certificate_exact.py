"""The certificate's rejection side in the solver: a warm start a little
away from the LP optimum is not accepted as it is; the solver then still
reaches the LP optimum (HiGHS through scipy's linprog) to 1e-9."""

import numpy as np
import pytest
from scipy.optimize import linprog

from sklipschitz._exact import solve_linear
from sklipschitz._exact.certificate import certify
from sklipschitz._engine.losses import PinballLoss
from pinball_refs import problem


def lp_quantile(X, y, tau):
    """min_{w,b} mean rho_tau(y - X w - b) as an LP: the optimum and its value."""
    n, d = X.shape
    A = np.column_stack([X, np.ones(n)])
    c = np.concatenate([np.zeros(d + 1), np.full(n, tau / n), np.full(n, (1 - tau) / n)])
    res = linprog(c, A_eq=np.hstack([A, np.eye(n), -np.eye(n)]), b_eq=y,
                  bounds=[(None, None)] * (d + 1) + [(0, None)] * (2 * n), method="highs")
    assert res.status == 0
    beta = res.x[:d + 1]
    # polish to the exact vertex: the d + 1 points it interpolates
    Z = np.argsort(np.abs(y - A @ beta))[:d + 1]
    return np.linalg.solve(A[Z], y[Z]), res.fun


def pinball(X, y, w, b, tau):
    u = y - X @ w - b
    return float(np.mean(np.maximum(tau * u, (tau - 1) * u)))


@pytest.mark.parametrize("tau", [0.2, 0.5, 0.8])
@pytest.mark.parametrize("offset", [1e-4, 1e-6])
def test_perturbed_warm_start_is_rejected_then_solved_to_the_lp_optimum(tau, offset):
    # n large enough that a point near the vertex has a small subgradient
    # residual (about 5e-3 relative): a loose box tolerance would accept it
    X, y, pb = problem(n=400, d=3, tau=tau, seed=4)
    beta, value = lp_quantile(X, y, tau)
    w_opt, b_opt = beta[:3], beta[3]
    assert pinball(X, y, w_opt, b_opt, tau) == pytest.approx(value, rel=1e-12)
    # the certificate rejects the perturbed point ...
    w0 = w_opt + offset * np.array([1.0, -1.0, 0.5])
    ok, _, viol = certify(pb, w0, pb.des.centred_intercept(w0, b_opt))
    assert not ok and viol > 1e-9
    # ... so the solver works from it and returns the vertex, certified
    sol = solve_linear(X, y, PinballLoss(tau), None, coef_init=w0, intercept_init=b_opt)
    assert sol.certified and sol.converged and sol.n_iter >= 1
    w, b = sol.coef[:, 0], float(sol.intercept[0])
    np.testing.assert_allclose(w, w_opt, rtol=0, atol=1e-9 * (1 + np.abs(w_opt).max()))
    assert b == pytest.approx(b_opt, abs=1e-9 * (1 + abs(b_opt)))
    assert pinball(X, y, w, b, tau) == pytest.approx(value, rel=1e-9)
    # the warm start is worse than the optimum found
    assert pinball(X, y, w0, b_opt, tau) > pinball(X, y, w, b, tau)


def test_optimal_warm_start_is_accepted_without_iterations():
    X, y, _ = problem(n=80, d=3, tau=0.3, seed=5)
    beta, value = lp_quantile(X, y, 0.3)
    sol = solve_linear(X, y, PinballLoss(0.3), None, coef_init=beta[:3], intercept_init=beta[3])
    assert sol.certified and sol.n_iter == 0
    np.testing.assert_allclose(sol.coef[:, 0], beta[:3], rtol=1e-12, atol=1e-12)
    assert pinball(X, y, sol.coef[:, 0], sol.intercept[0], 0.3) == pytest.approx(value, rel=1e-9)


@pytest.mark.parametrize("tau", [0.1, 0.5, 0.9])
def test_cold_start_reaches_the_lp_optimum(tau):
    X, y, _ = problem(n=150, d=4, tau=tau, seed=6)
    beta, value = lp_quantile(X, y, tau)
    sol = solve_linear(X, y, PinballLoss(tau), None)
    assert sol.certified
    np.testing.assert_allclose(sol.coef[:, 0], beta[:4], atol=1e-9 * (1 + np.abs(beta).max()))
    assert pinball(X, y, sol.coef[:, 0], sol.intercept[0], tau) == pytest.approx(value, rel=1e-9)
    assert sol.loss_curve[-1] == pytest.approx(value, rel=1e-9)
