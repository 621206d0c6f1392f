"""The KKT certificate: accepts the LP optimum, rejects points near it."""

import numpy as np
import pytest

from pinball_refs import highs_vertex, problem
from sklipschitz._exact.certificate import box_solve, certify, check_reduced


@pytest.mark.parametrize("tau", [0.1, 0.5, 0.75])
@pytest.mark.parametrize("seed", [0, 1])
def test_certificate_accepts_the_lp_optimum_and_rejects_perturbations(tau, seed):
    X, y, pb = problem(n=60, d=3, tau=tau, seed=seed)
    beta, value = highs_vertex(X, y, tau)
    w, b = beta[:3], beta[3]
    des = pb.des
    ok, r, viol = certify(pb, w, des.centred_intercept(w, b))
    assert ok and viol <= 1e-9
    np.testing.assert_allclose(r, y - X @ w - b, atol=1e-12)
    assert pb.value(r, w) == pytest.approx(value, rel=1e-9)
    for j in range(4):
        for sign in (1.0, -1.0):
            wp, bp = w.copy(), b
            if j < 3:
                wp[j] += sign * 1e-4
            else:
                bp += sign * 1e-4
            ok, _, viol = certify(pb, wp, des.centred_intercept(wp, bp))
            assert not ok and viol > 1e-6, (j, sign)


def test_reduced_check_agrees_with_the_full_certificate():
    X, y, pb = problem(n=40, d=2, tau=0.4, seed=3)
    beta, _ = highs_vertex(X, y, 0.4)
    des = pb.des
    w, b = beta[:2], beta[2]
    A = des.rows(np.arange(des.n))
    z = des.join(w, des.centred_intercept(w, b))
    pen = pb.penalty_vector()
    assert check_reduced(pb, A, y, des.sn, z, pen) <= 1e-9
    assert check_reduced(pb, A, y, des.sn, z + 1e-4, pen) > 1e-6


def test_box_solve_finds_a_point_of_the_box_or_reports_the_violation():
    B = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    lo, hi = np.full(3, -1.0), np.full(3, 1.0)
    # feasible (more unknowns than equations: the LP finds a box point)
    c, v = box_solve(B, np.array([1.9, 1.9]), lo, hi, 1.0)
    assert v <= 1e-9 and np.all(c >= lo - 1e-12) and np.all(c <= hi + 1e-12)
    np.testing.assert_allclose(B @ c, [1.9, 1.9], atol=1e-9)
    # infeasible: B c = (3, 0) needs c_1 + c_2 = 3 > 2
    c, v = box_solve(B, np.array([3.0, 0.0]), lo, hi, 1.0)
    assert v > 0.1
