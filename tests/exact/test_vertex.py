"""The exact finish: globbing, the path to the LP vertex and the active set."""

import numpy as np
import pytest
from scipy.optimize import linprog

from exact_refs import qp_reference
from pinball_refs import pinball_value, problem
from sklipschitz._exact.newton import newton
from sklipschitz._exact.vertex import (
    lp_reduced, path_to_vertex, reduced_problem, solve_reduced,
)


def lp_value(A, y, sn, tau):
    """Optimal ``sum sn rho_tau(y - A beta)`` by HiGHS (dual LP)."""
    res = linprog(-y, A_eq=A.T, b_eq=np.zeros(A.shape[1]),
                  bounds=np.column_stack([sn * (tau - 1), sn * tau]), method="highs")
    assert res.status == 0
    return -res.fun


@pytest.mark.parametrize("tau", [0.15, 0.5, 0.8])
def test_path_to_vertex_ends_at_the_lp_optimum(tau):
    X, y, pb = problem(n=120, d=3, tau=tau, seed=4)
    des = pb.des
    A = des.rows(np.arange(des.n))
    pen = pb.penalty_vector()
    mu = 0.05
    beta = newton(pb, A, y, des.sn, pen, np.zeros(des.p), mu)[0]
    vertex = path_to_vertex(pb, A, y, des.sn, beta, mu)
    assert vertex is not None
    ours = pinball_value(A, y, des.sn, vertex, tau)
    ref = lp_value(A, y, des.sn, tau)
    assert ours == pytest.approx(ref, rel=1e-12)
    # a vertex: p points interpolated
    assert np.sum(np.abs(y - A @ vertex) <= 1e-10) >= des.p


@pytest.mark.parametrize("tau", [0.3, 0.9])
def test_solve_reduced_and_highs_fallback_agree_with_linprog(tau):
    X, y, pb = problem(n=90, d=2, tau=tau, seed=5)
    des = pb.des
    A = des.rows(np.arange(des.n))
    ref = lp_value(A, y, des.sn, tau)
    beta, ok, _ = solve_reduced(pb, A, y, des.sn, np.zeros(des.p), 1.0)
    assert ok
    assert pinball_value(A, y, des.sn, beta, tau) == pytest.approx(ref, rel=1e-12)
    lp = lp_reduced(pb, A, y, des.sn)
    assert pinball_value(A, y, des.sn, lp, tau) == pytest.approx(ref, rel=1e-10)


@pytest.mark.parametrize("alpha", [0.02, 0.5])
def test_active_set_solves_the_penalised_problem(alpha):
    X, y, pb = problem(n=40, d=3, tau=0.6, alpha=alpha, seed=6)
    des = pb.des
    A = des.rows(np.arange(des.n))
    beta, ok, _ = solve_reduced(pb, A, y, des.sn, np.zeros(des.p), 1.0)
    assert ok
    w, b = des.split(beta)
    b = des.raw_intercept(w, b)
    r = y - X @ w - b
    ours = np.mean(np.maximum(0.6 * r, -0.4 * r)) + 0.5 * alpha * w @ w
    ref = qp_reference(X, y, 0.6, alpha)
    assert ours <= ref + 1e-10 * abs(ref)
    assert ours == pytest.approx(ref, rel=1e-7)


def test_globbed_problem_is_exact_while_signs_hold():
    X, y, pb = problem(n=400, d=3, tau=0.7, seed=7)
    des = pb.des
    A = des.rows(np.arange(des.n))
    beta = newton(pb, A, y, des.sn, pb.penalty_vector(), np.zeros(des.p), 0.2)[0]
    r = y - A @ beta
    K = np.argsort(np.abs(r))[:80]
    Ar, yr, snr, n_pseudo = reduced_problem(pb, r, K)
    assert n_pseudo == 2 and Ar.shape == (82, des.p)
    assert snr.sum() == pytest.approx(1.0)
    # any point that keeps the sign of every globbed residual: same objective
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(20):
        b2 = beta + 1e-4 * rng.standard_normal(des.p)
        r2 = y - A @ b2
        out = np.setdiff1d(np.arange(des.n), K)
        if np.all(np.sign(r2[out]) == np.sign(r[out])):
            checked += 1
            assert pinball_value(Ar, yr, snr, b2, 0.7) == pytest.approx(
                pinball_value(A, y, des.sn, b2, 0.7), rel=1e-12)
    assert checked >= 10
