"""The squared error's L1 certificate along a path, from the Gram matrix.

On a path (:func:`sklipschitz._exact.solve_path`) the squared error + L1
solves certify from the full Gram matrix, ``X_c' (sn y)`` and ``sum sn
(y - b')^2`` (no pass over ``X``).  The references: the pass over the data
(:func:`sklipschitz._exact.l1._residual_pass`), and the closed form of the
objective on data the Gram form cannot resolve (an exact fit).
"""

import numpy as np
import pytest

from sklipschitz._engine.losses import get_regression_loss
from sklipschitz._exact import l1 as l1_module
from sklipschitz._exact import solve_linear, solve_path
from sklipschitz._exact.design import Design


def _data(n=300, d=6, seed=0, noise=1.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 3.0, d) + rng.uniform(-5, 5, d)
    w = np.array([1.5, -2.0, 0.0, 0.7, 0.0, 3.0])[:d]
    return X, X @ w + 2.0 + noise * rng.standard_normal(n), w


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_gram_check_equals_the_pass_over_the_data(weighted, l2):
    X, y, _ = _data()
    s = np.random.default_rng(1).uniform(0.2, 3.0, len(y)) if weighted else np.ones(len(y))
    sn = s / s.sum()
    des = Design(X, sn, True, not weighted)
    col = l1_module._Squared(des, y, l2, 0.05, 0)
    c = des.rmatvec(sn * y, exact=True)
    bc = float(sn @ y)
    yy = 0.5 * float(sn @ (y - bc) ** 2)
    ref = float(np.abs(c).max()) + col.l1
    # at the optimum (certified) the two agree to round-off
    H = col.gram() + l2 * np.eye(des.d)
    w = l1_module.quad_l1(H, c, np.full(des.d, col.l1), np.zeros(des.d))
    F, viol = col._gram_check(w, c, yy, ref)
    sq, Xr, sr = l1_module._residual_pass(des, y, w, bc)
    assert F == pytest.approx(0.5 * sq + col.penalty(w), rel=1e-12)
    viol_data = l1_module.kkt_violation(-Xr + l2 * w, -sr, w, col.l1, ref, True)
    assert viol <= l1_module.KKT_TOL and viol_data <= l1_module.KKT_TOL
    # off the optimum it does not certify (the pass then decides)
    assert col._gram_check(w * 1.01, c, yy, ref) is None


def test_path_of_an_exact_fit_falls_back_to_the_pass():
    # y = X w + b exactly: at small penalties the residuals cancel in the
    # Gram form (2 yy - 2 c'w + w'Gw); the objective comes from the data
    X, y, w_true = _data(noise=0.0)
    loss = get_regression_loss("squared_error")
    l1s = np.geomspace(1.0, 1e-9, 6)
    sol = solve_path(X, y, loss, None, alpha=np.zeros(6), l1=l1s)
    assert sol.certified.all()
    for i, lam in enumerate(l1s):
        single = solve_linear(X, y, loss, None, alpha=0.0, l1=lam)
        assert single.certified
        assert sol.objectives[i] == pytest.approx(single.loss_curve[-1], rel=1e-9)
    # the last penalty: w_true up to the L1 shrinkage (closed form: the
    # objective is at most lam ||w_true||_1, the cost of w_true itself)
    assert sol.objectives[-1] <= l1s[-1] * np.abs(w_true).sum() * (1 + 1e-9)
    np.testing.assert_allclose(sol.coefs[-1].ravel(), w_true, atol=1e-6)
