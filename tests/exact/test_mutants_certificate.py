"""The certificate and the exact finish: cases built for mutants that
survived the mutation run (docs/testing.md, "Mutation testing"); the
references are HiGHS (scipy's linprog) and closed forms."""

import numpy as np
import pytest
from scipy.optimize import linprog

from sklipschitz._exact.certificate import certify
from sklipschitz._exact.design import Design
from sklipschitz._exact.problem import PinballProblem


def _data(n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 2, d) + rng.uniform(-1, 1, d)
    y = X @ rng.standard_normal(d) + 1 + rng.standard_t(3, n)
    return X, y


def _vertex(X, y, tau):
    """The LP optimum by HiGHS, polished to the vertex it interpolates."""
    n, d = X.shape
    A = np.column_stack([X, np.ones(n)])
    c = np.concatenate([np.zeros(d + 1), np.full(n, tau), np.full(n, 1 - tau)])
    res = linprog(c, A_eq=np.hstack([A, np.eye(n), -np.eye(n)]), b_eq=y,
                  bounds=[(None, None)] * (d + 1) + [(0, None)] * (2 * n), method="highs")
    assert res.status == 0
    Z = np.argsort(np.abs(y - A @ res.x[:d + 1]))[:d + 1]
    return np.linalg.solve(A[Z], y[Z])


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
