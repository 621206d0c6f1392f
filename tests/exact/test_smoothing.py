"""FISTA on the smoothed pinball loss: steps at exactly 1/L = mu, and it
converges to the minimiser of the smoothed problem."""

import numpy as np
import pytest

from pinball_refs import problem, smoothed
from sklipschitz._exact.newton import newton
from sklipschitz._exact.smoothing import fista


@pytest.mark.parametrize("alpha", [0.0, 0.1])
def test_fista_converges_to_the_smoothed_minimiser(alpha):
    X, y, pb = problem(n=200, d=3, tau=0.3, alpha=alpha, seed=8)
    des = pb.des
    A = des.rows(np.arange(des.n))
    pen = pb.penalty_vector()
    mu = 2.0                          # a wide zone: a well-conditioned problem
    ref = newton(pb, A, y, des.sn, pen, np.zeros(des.p), mu)[0]
    f_ref = smoothed(A, y, des.sn, pen, ref, mu, 0.3)
    w, b = fista(pb, np.zeros(3), 0.0, [mu], 300, 300)
    f = smoothed(A, y, des.sn, pen, des.join(w, b), mu, 0.3)
    # the Newton reference is itself exact only to rounding, which depends on
    # the BLAS threads of the run (seen: a few 1e-14 relative below it)
    assert f_ref * (1 - 1e-12) <= f <= f_ref + 1e-9 * abs(f_ref)
    # one entry per step, each at the step 1/L = mu of the smoothed problem
    assert pb.lrs == [mu] * 300 and len(pb.curve) == 300
    # the history holds the exact (not smoothed) objective
    r = y - X @ np.zeros(3)
    assert pb.curve[0] == pytest.approx(pb.value(r - 0.0, np.zeros(3)), rel=1e-12)


def test_fista_budget_and_float32_passes():
    X, y, pb = problem(n=3000, d=4, tau=0.6, seed=9)
    w, b = fista(pb, np.zeros(4), 0.0, [1.0, 0.3], 10, 15)
    assert len(pb.lrs) == 15 and pb.lrs[:10] == [1.0] * 10 and pb.lrs[10:] == [0.3] * 5
    # the same steps on float32 data stay close
    from sklipschitz._exact.design import Design
    from sklipschitz._exact.problem import PinballProblem

    des32 = Design(X.astype(np.float32), pb.des.sn, True, True)
    pb32 = PinballProblem(des32, y.astype(np.float32), 0.6, 0.0, 1.0, 0)
    w32, b32 = fista(pb32, np.zeros(4), 0.0, [1.0, 0.3], 10, 15)
    np.testing.assert_allclose(w32, w, rtol=1e-4, atol=1e-5)
