"""Update rules: cases built for mutants that survived the mutation run
(docs/testing.md, "Mutation testing"), against values computed by hand."""

import numpy as np

from sklipschitz._engine.updates import Nesterov


def test_nesterov_restart_test_multiplies_the_intercepts_move_by_its_gradient():
    # y = (W, b) = (0, 0), last point x_old = (0, -3.5), t = 2, rate 0.5,
    # gradients (2, 1): x_new = (-1, -0.5), moves (-1, 3); the restart test
    # g'(x_new - x_old) = 2*(-1) + 1*3 = 1 > 0 restarts (t -> 1, no momentum).
    # (Dividing the intercept's gradient by its move would give -2 + 1/3 < 0.)
    W, b = np.zeros((1, 1)), np.zeros(1)
    upd = Nesterov()
    state = upd.init([W, b])
    state["x"] = [np.zeros((1, 1)), np.array([-3.5])]
    state["t"] = np.array([2.0])
    upd.update([W, b], [np.array([[2.0]]), np.array([1.0])], 0.5, state)
    np.testing.assert_allclose(state["t"], [0.5 * (1 + np.sqrt(5.0))], rtol=1e-15)
    np.testing.assert_allclose(W, [[-1.0]], rtol=1e-15)
    np.testing.assert_allclose(b, [-0.5], rtol=1e-15)
    # the same move without the intercept's push: -2 < 0, momentum kept
    # (t = 2 -> t_next = (1 + sqrt 17)/2, beta = 1/t_next)
    W, b = np.zeros((1, 1)), np.zeros(1)
    state = upd.init([W, b])
    state["x"] = [np.zeros((1, 1)), np.array([-0.5])]
    state["t"] = np.array([2.0])
    upd.update([W, b], [np.array([[2.0]]), np.array([1.0])], 0.5, state)
    t_next = 0.5 * (1 + np.sqrt(17.0))
    np.testing.assert_allclose(state["t"], [t_next], rtol=1e-15)
    np.testing.assert_allclose(W, [[-1.0 - 1.0 / t_next]], rtol=1e-15)
    np.testing.assert_allclose(b, [-0.5], rtol=1e-15)
