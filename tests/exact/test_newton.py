"""Semismooth Newton and its exact line search against scipy.optimize."""

import numpy as np
import pytest
from scipy.optimize import minimize, minimize_scalar

from pinball_refs import problem, smoothed, smoothed_grad
from sklipschitz._exact.newton import DesignOp, line_search, newton


@pytest.mark.parametrize("tau", [0.2, 0.5, 0.9])
@pytest.mark.parametrize("alpha", [0.0, 0.05])
def test_newton_minimises_the_smoothed_problem(tau, alpha):
    X, y, pb = problem(n=80, d=3, tau=tau, alpha=alpha, seed=1)
    des = pb.des
    A = des.rows(np.arange(des.n))
    sn, pen = des.sn, pb.penalty_vector()
    mu = 0.5
    beta, zone, r, steps = newton(pb, A, y, sn, pen, np.zeros(des.p), mu)
    ref = minimize(_smoothed_wrapped, np.zeros(des.p), jac=_grad_wrapped, args=(A, y, sn, pen, mu, tau),
                   method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10000})
    ours = smoothed(A, y, sn, pen, beta, mu, tau)
    assert ours <= ref.fun + 1e-13
    assert ours == pytest.approx(ref.fun, rel=1e-9)
    # it ends at the exact minimiser: zero smoothed gradient
    assert np.abs(smoothed_grad(A, y, sn, pen, beta, mu, tau)).max() < 1e-10
    np.testing.assert_allclose(r, y - A @ beta, atol=1e-12)
    assert steps < 50


def _smoothed_wrapped(beta, A, y, sn, pen, mu, tau):
    return smoothed(A, y, sn, pen, beta, mu, tau)


def test_newton_on_the_implicit_design_equals_dense_rows():
    X, y, pb = problem(n=300, d=4, tau=0.7, seed=2)
    des = pb.des
    A = des.rows(np.arange(des.n))
    pen = pb.penalty_vector()
    b_dense = newton(pb, A, y, des.sn, pen, np.zeros(des.p), 0.3)[0]
    b_op = newton(pb, DesignOp(des), y, des.sn, pen, np.zeros(des.p), 0.3)[0]
    np.testing.assert_allclose(b_op, b_dense, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_line_search_finds_the_minimum_along_the_direction(seed):
    X, y, pb = problem(n=50, d=2, tau=0.35, alpha=0.1, seed=seed)
    des = pb.des
    A = des.rows(np.arange(des.n))
    sn, pen, mu, tau = des.sn, pb.penalty_vector(), 0.4, pb.tau
    rng = np.random.default_rng(seed)
    beta = rng.standard_normal(des.p)
    delta = -smoothed_grad(A, y, sn, pen, beta, mu, tau) * rng.uniform(0.5, 20)
    u0 = (y - A @ beta) / mu + tau - 0.5
    d0 = float(smoothed_grad(A, y, sn, pen, beta, mu, tau) @ delta)
    t = line_search(pb, u0, A @ delta, sn, pen, beta, delta, mu, d0)

    def phi(s):
        return smoothed(A, y, sn, pen, beta + s * delta, mu, tau)

    ref = minimize_scalar(phi, bounds=(0, 50), method="bounded", options={"xatol": 1e-12})
    # either the exact minimiser or an accepted full step that decreases
    assert phi(t) <= phi(0.0)
    if t != 1.0:
        assert phi(t) <= ref.fun + 1e-12 * abs(ref.fun)
    else:
        assert phi(1.0) <= phi(0.0) + 0.1 * 0.5 * d0 or phi(1.0) <= ref.fun + 1e-9


def _grad_wrapped(beta, A, y, sn, pen, mu, tau):
    return smoothed_grad(A, y, sn, pen, beta, mu, tau)
