"""The training loop's mini-batches: cases built for mutants that survived
the mutation run (docs/testing.md, "Mutation testing")."""

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklipschitz._engine.loop import TrainState, _batch_slices, train
from sklipschitz._engine.losses import HalfSquaredError
from sklipschitz._engine.monitors import DivergenceStop, Stopping
from sklipschitz._engine.network import DenseNetwork
from sklipschitz._engine.problems import NetworkProblem
from sklipschitz._engine.steps import ConstantStep
from sklipschitz._engine.updates import SGD


def test_batch_slices_cover_the_rows_in_order():
    assert _batch_slices(10, 4) == [slice(0, 4), slice(4, 8), slice(8, 10)]
    assert _batch_slices(9, 3) == [slice(0, 3), slice(3, 6), slice(6, 9)]
    # one batch of all rows: the full-batch path (None), also at batch_size == n
    assert _batch_slices(10, None) == [None]
    assert _batch_slices(10, 10) == [None]
    assert _batch_slices(10, 11) == [None]


class _Recording:
    """A problem that records the rows each step evaluates."""

    def __init__(self, problem):
        self._problem, self.rows = problem, []

    def evaluate(self, coefs, intercepts, rows):
        self.rows.append(rows)
        return self._problem.evaluate(coefs, intercepts, rows)

    def __getattr__(self, name):
        return getattr(self._problem, name)


def _one_epoch(shuffle, seed):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    Y = X @ np.array([[1.0], [-2.0], [0.5]])
    problem = _Recording(NetworkProblem(DenseNetwork((3, 1)), HalfSquaredError(), X, Y,
                                        np.ones(80)))
    rule = ConstantStep(0.01)
    state = TrainState(coefs=[np.zeros((3, 1))], intercepts=[np.zeros(1)])
    state.step_state = rule.init(1.0)
    train(problem, state, rule=rule, update=SGD(), stopping=Stopping(1e-14, 10),
          guard=DivergenceStop(), max_iter=1, batch_size=32, shuffle=shuffle,
          rng=np.random.default_rng(seed), incremental=True)
    return problem.rows, state


def test_a_shuffled_epoch_steps_through_a_permutation_in_batches():
    rows, state = _one_epoch(True, 3)
    perm = np.random.default_rng(3).permutation(80)
    assert len(rows) == 3 and state.t == 3
    for got, sl in zip(rows, [slice(0, 32), slice(32, 64), slice(64, 80)]):
        np.testing.assert_array_equal(got, perm[sl])


def test_an_unshuffled_epoch_steps_through_the_rows_in_order():
    rows, state = _one_epoch(False, 3)
    assert rows == [slice(0, 32), slice(32, 64), slice(64, 80)] and state.t == 3


def _adgd_history(Y, report):
    from sklipschitz._engine.steps import LocalStep

    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3))
    k = Y(X).shape[1]
    problem = NetworkProblem(DenseNetwork((3, k)), HalfSquaredError(), X, Y(X), np.ones(60))
    rule = LocalStep(per_column=True)
    state = TrainState(coefs=[np.zeros((3, k))], intercepts=[np.zeros(k)])
    state.step_state = rule.init(np.full(k, 4.0))
    with pytest.warns(ConvergenceWarning, match="Maximum number of iterations"):
        train(problem, state, rule=rule, update=SGD(), stopping=Stopping(1e-14, 10),
              guard=DivergenceStop(), max_iter=6, report=report)
    return state.learning_rate_history


def test_per_column_rates_are_reported_for_the_chosen_column():
    # the columns of a per-column AdGD fit are independent problems: the
    # history reported for column 1 is the history of column 1 fitted alone
    two = lambda X: np.column_stack([X @ [1.0, -2.0, 0.5], np.sin(X[:, 0]) + X[:, 1] ** 2])
    one = lambda X: two(X)[:, [1]]
    both, alone = _adgd_history(two, 1), _adgd_history(one, 0)
    np.testing.assert_allclose(both, alone, rtol=1e-12)
    assert not np.allclose(both, _adgd_history(two, 0), rtol=1e-6)
