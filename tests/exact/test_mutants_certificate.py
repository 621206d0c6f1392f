"""The certificate and the exact finish: cases built for mutants that
survived the mutation run (docs/testing.md, "Mutation testing"); the
references are HiGHS (scipy's linprog) and closed forms."""

import numpy as np
import pytest

from pinball_refs import highs_vertex
from sklipschitz._exact.certificate import box_solve, certify, check_reduced
from sklipschitz._exact.design import Design
from sklipschitz._exact.problem import PinballProblem


def _data(n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 2, d) + rng.uniform(-1, 1, d)
    y = X @ rng.standard_normal(d) + 1 + rng.standard_t(3, n)
    return X, y


def _vertex(X, y, tau):
    """The LP optimum by HiGHS, polished to the vertex it interpolates."""
    return highs_vertex(X, y, tau)[0]


def _problem(X, y, tau):
    n = X.shape[0]
    return PinballProblem(Design(X, np.full(n, 1.0 / n), True, True), y, tau, 0.0, 1.0, 0)


def test_zero_residuals_are_judged_relative_to_the_scale_of_y():
    # the optimum of the problem with y scaled by 1e-6 is the scaled optimum;
    # a point 1e-12 away from it (1e-6 relative) is not optimal and must be
    # rejected: its residuals of the interpolated points are 1e-12, far
    # above round-off of data of size 1e-6 (a floor of 1 on the scale of y
    # would count them as zeros and accept the point)
    X, y = _data(60, 3, 0)
    beta = _vertex(X, y, 0.3)
    s = 1e-6
    pb = _problem(X, s * y, 0.3)
    w, b = s * beta[:3], s * beta[3]
    ok, _, viol = certify(pb, w, pb.des.centred_intercept(w, b))
    assert ok and viol <= 1e-9
    ok, _, viol = certify(pb, w, pb.des.centred_intercept(w, b + 1e-12))
    assert not ok and viol > 1e-6


# box_solve's violation, written out: the largest relative step outside the
# box, below plus above (relative to hi - lo), plus the largest equation
# residual relative to |B| (hi - lo) + gref

def test_box_solve_violation_of_a_square_system_outside_the_box():
    B, lo, hi = np.eye(1), np.array([-5e-4]), np.array([5e-4])
    # c = 2e-3 is the only solution: 1.5e-3 above hi = 1.5 box widths; a
    # square system keeps it (no LP)
    c, v = box_solve(B, np.array([2e-3]), lo, hi, 3e-3)
    np.testing.assert_allclose(c, [2e-3], rtol=1e-15)
    assert v == pytest.approx(1.5, rel=1e-12)
    c, v = box_solve(B, np.array([-2e-3]), lo, hi, 3e-3)
    assert v == pytest.approx(1.5, rel=1e-12)
    # below in one coordinate, above in the other: the two maxima add up
    B2, lo2, hi2 = np.eye(2), np.full(2, -5e-4), np.full(2, 5e-4)
    c, v = box_solve(B2, np.array([-2e-3, 3e-3]), lo2, hi2, 3e-3)
    np.testing.assert_allclose(c, [-2e-3, 3e-3], rtol=1e-15)
    assert v == pytest.approx(1.5 + 2.5, rel=1e-12)


def test_box_solve_violation_of_the_equations():
    # two equations, one unknown: least squares c = 2e-4 (inside the box),
    # residuals 2e-4 relative to |B| (hi - lo) + gref = 1e-3 + 3e-3
    B, lo, hi = np.ones((2, 1)), np.array([-5e-4]), np.array([5e-4])
    c, v = box_solve(B, np.array([0.0, 4e-4]), lo, hi, 3e-3)
    np.testing.assert_allclose(c, [2e-4], rtol=1e-12)
    assert v == pytest.approx(2e-4 / 4e-3, rel=1e-12)
    # no unknowns at all: the equations' right-hand side relative to gref
    c, v = box_solve(np.zeros((2, 0)), np.array([1e-3, -2e-3]), np.zeros(0), np.zeros(0), 1e-2)
    assert c.shape == (0,) and v == pytest.approx(0.2, rel=1e-12)


def test_box_solve_lp_minimises_the_equation_residual_inside_the_box():
    # c1 + c2 = 3, c2 + c3 = 0 in [-1, 1]^3: least squares gives the
    # minimum-norm solution (2, 1, -1), half a box width above; the LP's
    # (1, 1, -1) leaves the first equation 1 short: 1 / (|B| 2 + 1) = 0.2
    B = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    lo, hi = np.full(3, -1.0), np.full(3, 1.0)
    c, v = box_solve(B, np.array([3.0, 0.0]), lo, hi, 1.0)
    np.testing.assert_allclose(c, [1.0, 1.0, -1.0], atol=1e-9)
    assert v == pytest.approx(0.2, rel=1e-9)
    # the mirror image: the first equation 1 over instead of short
    c, v = box_solve(B, np.array([-3.0, 0.0]), lo, hi, 1.0)
    np.testing.assert_allclose(c, [-1.0, -1.0, 1.0], atol=1e-9)
    assert v == pytest.approx(0.2, rel=1e-9)


class _Level:
    def __init__(self, tau):
        self.tau = tau


@pytest.mark.parametrize("beta, pen, expected", [
    # r = (-1, 0, 2): the zero residual's dual c = 2/15 must lie in
    # [sn (tau - 1), sn tau] = [-0.7/3, 0.1]: 1/30 above, 0.1 box widths
    (1.0, 0.0, 0.1),
    # r = (-0.5, 0.5, 2.5), no zero residual: the gradient -1/30 is the
    # violation, relative to max(tau, 1 - tau) = 0.7
    (0.5, 0.0, 1.0 / 21.0),
    # with a penalty 0.6: rhs 0.3 + 1/30, relative to 0.7 + 0.3
    (0.5, 0.6, 1.0 / 3.0),
])
def test_reduced_check_of_an_intercept_only_model_by_hand(beta, pen, expected):
    A = np.ones((3, 1))
    y = np.array([0.0, 1.0, 3.0])
    sn = np.full(3, 1.0 / 3.0)
    v = check_reduced(_Level(0.3), A, y, sn, np.array([beta]), np.array([pen]))
    assert v == pytest.approx(expected, rel=1e-12)
    # the optimum b = 0 (the 0.3-quantile of y): its dual -0.2 is in the box
    assert check_reduced(_Level(0.3), A, y, sn, np.array([0.0]), np.array([0.0])) == 0.0


def test_reduced_check_judges_zero_residuals_relative_to_y_and_the_fit():
    # y = 1e-6 (0, 1, 3), b = 1e-12: the first residual -1e-12 is not a
    # zero at this scale, so b is judged by its gradient (1/21 as above);
    # counted as a zero (an absolute floor of 1 on the scale) it would pass
    A = np.ones((3, 1))
    y = 1e-6 * np.array([0.0, 1.0, 3.0])
    sn = np.full(3, 1.0 / 3.0)
    v = check_reduced(_Level(0.3), A, y, sn, np.array([1e-12]), np.array([0.0]))
    assert v == pytest.approx(1.0 / 21.0, rel=1e-9)
    # the same with the data in the fit: y = 0, fit 1e-6 (0, -1, -3) + 1e-12
    A = -np.array([[0.0, 1.0], [1.0, 1.0], [3.0, 1.0]])
    v = check_reduced(_Level(0.3), A, np.zeros(3), sn, np.array([1e-6, -1e-12]), np.zeros(2))
    assert v > 1e-3


def test_float32_design_is_certified_on_float64_residuals():
    # float32 data: the optimum of the rounded data (HiGHS in float64) has
    # p residuals that are zero in float64 (float32 residuals would leave
    # them at 1e-7 relative, and the certificate would reject the optimum)
    X, y = _data(60, 3, 2)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    beta = _vertex(X32.astype(np.float64), y32.astype(np.float64), 0.6)
    n = X.shape[0]
    pb = PinballProblem(Design(X32, np.full(n, 1.0 / n), True, True), y32, 0.6, 0.0, 1.0, 0)
    w, b = beta[:3], beta[3]
    ok, r, viol = certify(pb, w, pb.des.centred_intercept(w, b))
    assert ok and viol <= 1e-9
    assert r.dtype == np.float64 and np.sort(np.abs(r))[4] > 1e-6
    assert np.sort(np.abs(r))[:4].max() <= 1e-12 * np.abs(y32).max()


def test_reduced_check_of_all_zero_data_accepts_the_zero_model():
    # y = 0 and beta = 0: every residual is an exact zero even though the
    # scale of the data is 0; the zero model is optimal (violation 0), and
    # a model off it is not
    A = np.array([[1.0, 1.0], [2.0, 1.0], [-1.0, 1.0]])
    sn = np.full(3, 1.0 / 3.0)
    assert check_reduced(_Level(0.3), A, np.zeros(3), sn, np.zeros(2), np.zeros(2)) == 0.0
    assert check_reduced(_Level(0.3), A, np.zeros(3), sn, np.array([0.0, 1e-3]),
                         np.zeros(2)) > 0.1
