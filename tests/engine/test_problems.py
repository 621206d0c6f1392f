"""The problems the loop minimises: values and gradients against direct computations."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklipschitz._engine.losses import HalfSquaredError, SmoothBinaryQuantileLoss
from sklipschitz._engine.monitors import ColumnFreezing
from sklipschitz._engine.network import DenseNetwork
from sklipschitz._engine.problems import ColumnProblem, NetworkProblem


@pytest.fixture
def problem_data():
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 5.0, size=(50, 4))
    Y = np.where(rng.random((50, 3)) > 0.4, 1.0, -1.0)
    sw = rng.uniform(0.5, 2.0, size=50)
    return X, Y, sw


@pytest.mark.parametrize("sparse", [False, True])
def test_preconditioned_column_problem_is_the_same_objective(problem_data, sparse):
    X, Y, sw = problem_data
    loss = SmoothBinaryQuantileLoss(np.array([0.2, 0.5, 0.8]))
    offset, scale = X.mean(axis=0), X.std(axis=0) + 0.1
    Xin = sp.csr_matrix(X) if sparse else X
    alpha = 0.3 / scale**2  # alpha/2 ||W||^2 on X's coefficients
    pre = ColumnProblem(loss, Xin, Y, sw, alpha=alpha, offset=offset, scale=scale)
    plain = ColumnProblem(loss, X, Y, sw, alpha=0.3)
    rng = np.random.default_rng(1)
    V, c = rng.normal(size=(4, 3)), rng.normal(size=3)
    W, b = pre.original(V, c)
    np.testing.assert_allclose(W, V / scale[:, None])
    np.testing.assert_allclose(b, c - offset @ W)
    V2, c2 = pre.variables(W, b)
    np.testing.assert_allclose(V2, V)
    np.testing.assert_allclose(c2, c)
    v_pre, (gV, gc), _ = pre.evaluate([V], [c])
    v_plain, (gW, gb), _ = plain.evaluate([W], [b])
    np.testing.assert_allclose(v_pre, v_plain, rtol=1e-12)
    # chain rule of W = V / scale, b = c - offset W
    np.testing.assert_allclose(gc, gb, rtol=1e-12)
    np.testing.assert_allclose(gV, (gW - np.outer(offset, gb)) / scale[:, None], rtol=1e-10,
                               atol=1e-12)


def test_column_problem_matches_direct_formula(problem_data):
    X, Y, sw = problem_data
    taus = np.array([0.2, 0.5, 0.8])
    loss = SmoothBinaryQuantileLoss(taus)
    W, b = np.full((4, 3), 0.05), np.array([0.1, -0.2, 0.3])
    values, _, wsum = ColumnProblem(loss, X, Y, sw, alpha=0.5).evaluate([W], [b])
    F = X @ W + b
    g = (2 / np.pi) * np.arctan(F)
    pointwise = np.where(Y > 0, 1 - g, (1 - taus) / taus * (1 + g))
    expected = sw @ pointwise / sw.sum() + 0.25 * (W**2).sum(axis=0)
    np.testing.assert_allclose(values, expected, rtol=1e-12)
    assert wsum == pytest.approx(sw.sum())


def test_network_problem_mini_batch_uses_the_rows_weights(problem_data):
    X, Y, sw = problem_data
    net = DenseNetwork((4, 3))
    W, b = np.full((4, 3), 0.1), np.zeros(3)
    prob = NetworkProblem(net, HalfSquaredError(), X, Y, sw)
    rows = np.arange(10, 30)
    value, grads, wsum = prob.evaluate([W], [b], rows)
    r = X[rows] @ W + b - Y[rows]
    s = sw[rows] / sw[rows].sum()
    assert value == pytest.approx(float(s @ (0.5 * r**2).sum(axis=1)), rel=1e-12)
    np.testing.assert_allclose(grads[0], X[rows].T @ (r * s[:, None]), rtol=1e-12)
    assert wsum == pytest.approx(sw[rows].sum())


def test_stable_signs_freeze_a_settled_column():
    freezing = ColumnFreezing(tol=0.0, n_iter_no_change=3, stable_signs=True)
    freezing.start(2)
    best = [np.zeros((1, 2)), np.zeros(2)]
    scores = np.array([[1.0, 1.0], [-1.0, -1.0]])
    keep = None
    for epoch in range(4):
        values = np.array([10.0 - epoch, 10.0 - epoch])  # both keep improving
        flipped = scores.copy()
        if epoch % 2:
            flipped[:, 1] *= -1  # column 1 keeps changing its decisions
        keep = freezing.record(values, [np.full((1, 2), epoch), np.full(2, epoch)], best,
                               flipped)
        if not keep.all():
            break
    # column 0: the same signs at epochs 1, 2, 3 -> frozen after the 4th epoch
    assert epoch == 3
    np.testing.assert_array_equal(keep, [False, True])
    np.testing.assert_array_equal(freezing.active, [1])
    assert best[0][0, 0] == 3.0  # its best (last, lowest) iterate was kept
