"""The training loop against gradient descent written out by hand: cases
built for mutants that survived the mutation run (docs/testing.md,
"Mutation testing").

The problem is a one-parameter-per-column quadratic: the prediction of
column j is ``p_j = W[0, j] + b[j]``, the loss of a row ``0.5 (p - c_i)^2``
(weighted mean over the rows of a batch), so both gradients are the mean
residual and a step of rate ``lr`` moves ``p`` to ``p - 2 lr (p - mean c)``.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklipschitz._engine.loop import TrainState, train
from sklipschitz._engine.monitors import DivergenceStop, HalvingGuard, Stopping
from sklipschitz._engine.steps import ConstantStep, LipschitzStep
from sklipschitz._engine.updates import SGD, Momentum

C = np.array([[1.0], [3.0], [2.0], [6.0]])  # targets of 4 rows, one column


class Quadratic:
    def __init__(self, C=C):
        self.C = np.asarray(C, dtype=float)
        self.n_samples = self.C.shape[0]
        self.rows = []

    def _value_grad(self, W, b, C):
        r = W[0] + b - C
        return 0.5 * np.mean(r**2, axis=0), np.mean(r, axis=0)

    def evaluate(self, coefs, intercepts, rows=None):
        self.rows.append(rows)
        C = self.C if rows is None else self.C[rows]
        values, g = self._value_grad(coefs[0], intercepts[0], C)
        return values, [g[None, :].copy(), g.copy()], float(C.shape[0])

    def objective(self, coefs, intercepts):
        return float(np.sum(self._value_grad(coefs[0], intercepts[0], self.C)[0]))


def value(p, C=C):
    return float(np.sum(0.5 * np.mean((p - C) ** 2, axis=0)))


def fresh(k=1, p0=0.0):
    return TrainState(coefs=[np.full((1, k), p0)], intercepts=[np.zeros(k)])


def p_of(state):
    return state.coefs[0][0] + state.intercepts[0]


def test_constant_of_each_epoch_comes_from_lipschitz_fn():
    # no step state yet: the first constant is lipschitz_fn at the start,
    # then it is asked again before every epoch, at the current weights
    def lipschitz_fn(coefs, intercepts):
        return 2.0 + float(coefs[0][0, 0] ** 2) + 3.0 * float(intercepts[0][0] ** 2)

    state = fresh()
    with pytest.warns(ConvergenceWarning, match="Maximum number of iterations"):
        train(Quadratic(), state, rule=LipschitzStep(), update=SGD(),
              stopping=Stopping(0.0, 100), guard=DivergenceStop(), max_iter=4,
              lipschitz_fn=lipschitz_fn)
    W = b = 0.0
    rates, losses, points = [], [], []
    for _ in range(4):
        L = 2.0 + W**2 + 3.0 * b**2
        lr = 1.0 / L
        points.append((W, b))
        losses.append(value(W + b))
        g = W + b - C.mean()
        W, b = W - lr * g, b - lr * g
        rates.append(lr)
    np.testing.assert_allclose(state.learning_rate_history, rates, rtol=1e-13)
    np.testing.assert_allclose(state.loss_curve, losses, rtol=1e-13)
    assert state.lipschitz == pytest.approx(2.0 + points[-1][0] ** 2 + 3 * points[-1][1] ** 2)
    # full batch: the loss of the last epoch is that of its start, the best weights
    np.testing.assert_allclose([state.coefs[0][0, 0], state.intercepts[0][0]], points[-1],
                               rtol=1e-13)


def test_a_fresh_state_without_constant_and_update_state():
    # no lipschitz_fn: the constant is NaN, which a constant step ignores;
    # the update's state (momentum) is created by the loop
    state = TrainState(coefs=[np.zeros((1, 1))], intercepts=[np.zeros(1)])
    lr, beta = 0.1, 0.9
    with pytest.warns(ConvergenceWarning, match="Maximum number of iterations"):
        train(Quadratic(), state, rule=ConstantStep(lr), update=Momentum(beta),
              stopping=Stopping(0.0, 100), guard=DivergenceStop(), max_iter=3, shuffle=False,
              batch_size=2)
    assert np.isnan(state.lipschitz)
    # two mini-batches in order, momentum by hand
    W = b = v = 0.0
    t = 0
    for _ in range(3):
        for rows in (slice(0, 2), slice(2, 4)):
            g = W + b - C[rows].mean()
            t += 1
            v = beta * v + (1 - beta) * g
            W, b = W - lr / (1 - beta**t) * v, b - lr / (1 - beta**t) * v
    np.testing.assert_allclose([state.coefs[0][0, 0], state.intercepts[0][0]], [W, b],
                               rtol=1e-13)
    assert state.t == 6


def test_a_continued_fit_runs_up_to_max_iter_in_total():
    rule = ConstantStep(0.1)
    state = fresh()
    kw = dict(rule=rule, update=SGD(), stopping=Stopping(0.0, 100), guard=DivergenceStop())
    with pytest.warns(ConvergenceWarning):
        train(Quadratic(), state, max_iter=2, **kw)
    with pytest.warns(ConvergenceWarning):
        train(Quadratic(), state, max_iter=5, **kw)
    assert state.n_iter == 5 and len(state.loss_curve) == 5
    p = p_of(state).copy()
    problem = Quadratic()
    with pytest.warns(ConvergenceWarning):
        train(problem, state, max_iter=5, **kw)
    assert problem.rows == [] and state.n_iter == 5  # nothing left to run
    np.testing.assert_array_equal(p_of(state), p)


def test_defaults_report_column_zero_shuffle_and_print_nothing(capsys):
    # two columns with their own constants: column 0's rate and constant
    # are recorded unless report says otherwise
    C2 = np.column_stack([C[:, 0], 2 * C[:, 0]])
    for report, expect in [(None, 0), (1, 1)]:
        state = fresh(2)
        rule = LipschitzStep()
        state.step_state = rule.init(np.array([2.0, 8.0]))
        kw = {} if report is None else {"report": report}
        with pytest.warns(ConvergenceWarning):
            train(Quadratic(C2), state, rule=rule, update=SGD(), stopping=Stopping(0.0, 100),
                  guard=DivergenceStop(), max_iter=2, **kw)
        assert state.learning_rate_history == [1 / [2.0, 8.0][expect]] * 2
        assert state.lipschitz == [2.0, 8.0][expect]
    assert capsys.readouterr().out == ""
    # mini-batches: shuffled by default
    problem = Quadratic(np.arange(8.0)[:, None])
    train(problem, fresh(), rule=ConstantStep(0.01), update=SGD(), stopping=Stopping(0.0, 100),
          guard=DivergenceStop(), max_iter=1, batch_size=4, rng=np.random.default_rng(5),
          incremental=True)
    perm = np.random.default_rng(5).permutation(8)
    np.testing.assert_array_equal(problem.rows[0], perm[:4])


def test_verbose_prints_every_epoch(capsys):
    state = fresh()
    train(Quadratic(), state, rule=ConstantStep(0.25), update=SGD(),
          stopping=Stopping(0.0, 2), guard=DivergenceStop(), max_iter=1, verbose=1,
          incremental=True)
    assert capsys.readouterr().out == f"Epoch 1, loss = {value(0.0):.8g}, learning rate = 0.25\n"


def _grow(lr, p, n):
    """n full-batch steps of rate lr from p (both gradients: the mean residual)."""
    for _ in range(n):
        p = p - 2 * lr * (p - C.mean())
    return p


def test_incremental_call_that_raises_the_objective():
    # rate 1.25: p moves to 2.5 * mean - 1.5 p, the objective goes up
    lr = 1.25
    kw = dict(rule=ConstantStep(lr), update=SGD(), stopping=Stopping(0.0, 10),
              guard=DivergenceStop(), incremental=True)
    # kept by default (not monotone) ...
    state = fresh(p0=1.0)
    train(Quadratic(), state, **kw)
    np.testing.assert_allclose(p_of(state), _grow(lr, 1.0, 1), rtol=1e-14)
    assert value(p_of(state)) > value(1.0)
    # ... undone with monotone
    state = fresh(p0=1.0)
    train(Quadratic(), state, monotone=True, **kw)
    np.testing.assert_array_equal(state.coefs[0], [[1.0]])
    np.testing.assert_array_equal(state.intercepts[0], [0.0])
    # a whole (non-incremental) mini-batch fit is not undone by monotone
    state = fresh(p0=1.0)
    with pytest.warns(ConvergenceWarning, match="Maximum number of iterations"):
        train(Quadratic(), state, rule=ConstantStep(0.6), update=SGD(),
              stopping=Stopping(0.0, 10), guard=DivergenceStop(), monotone=True,
              batch_size=2, shuffle=False, max_iter=2)
    W, b = 1.0, 0.0
    for _ in range(2):
        for rows in (slice(0, 2), slice(2, 4)):
            g = W + b - C[rows].mean()
            W, b = W - 0.6 * g, b - 0.6 * g
    np.testing.assert_allclose([state.coefs[0][0, 0], state.intercepts[0][0]], [W, b],
                               rtol=1e-13)


def test_halving_guard_full_batch_rolls_back_to_the_last_accepted_weights(capsys):
    # rate 1.25: p's distance to the mean grows by 1.5 per epoch; the threshold
    # 1.5 f0 accepts epoch 1 (loss at p0) and rejects epoch 2 (loss at p1): the
    # weights go back to p0, the start of the last accepted epoch
    lr, p0 = 1.25, 0.0
    f0 = value(p0)
    state = fresh(p0=p0)
    guard = HalvingGuard(1.5 * f0)
    with pytest.warns(ConvergenceWarning, match="Maximum number of iterations"):
        train(Quadratic(), state, rule=ConstantStep(lr), update=SGD(),
              stopping=Stopping(0.0, 100), guard=guard, max_iter=3, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 2: loss diverged, rate halved" in out
    assert state.halvings == 1 and state.rate_scale == 0.5
    # accepted: epoch 1 at p0 (rate lr), epoch 3 at p0 again (rate lr / 2)
    np.testing.assert_allclose(state.loss_curve, [f0, f0], rtol=1e-14)
    assert state.learning_rate_history == [lr, lr / 2]
    # the best weights: p0 (the loss at p0 was the lowest, measured twice)
    np.testing.assert_allclose(p_of(state), p0, atol=1e-14)


def test_halving_guard_with_end_loss_rolls_back_to_the_epoch_start():
    # the end loss is judged: epoch 1 ends at 11.875 (accepted, threshold
    # 3 f0 = 18.75), epoch 2 ends at 24.5 (rejected): back to p1, the start of
    # epoch 2, then a step of half the rate
    lr = 1.25
    problem = Quadratic()
    f0 = value(0.0)
    guard = HalvingGuard(3.0 * f0, end_loss_fn=problem.objective)
    state = fresh()
    with pytest.warns(ConvergenceWarning, match="Maximum number of iterations"):
        train(problem, state, rule=ConstantStep(lr), update=SGD(), stopping=Stopping(0.0, 100),
              guard=guard, max_iter=3)
    p1 = _grow(lr, 0.0, 1)
    p2 = _grow(lr / 2, p1, 1)
    np.testing.assert_allclose(state.loss_curve, [f0, value(p1)], rtol=1e-14)
    # full batch: the fit ends on the weights of the lowest loss measured, p0
    np.testing.assert_allclose(p_of(state), 0.0, atol=1e-14)
    assert value(p2) < value(p1)
    # one more epoch from the kept state: it starts from p2
    train(problem, state, rule=ConstantStep(lr), update=SGD(), stopping=Stopping(0.0, 100),
          guard=guard, max_iter=4, incremental=True)
    np.testing.assert_allclose(state.loss_curve[-1], value(0.0), rtol=1e-14)


@pytest.mark.parametrize("end", [False, True])
def test_halving_guard_mini_batch(end):
    # two batches in order; rate 1.25 is too large for each batch (factor
    # 1.5 per step on its own mean): the threshold rejects epoch 2 and the
    # weights go back to the end of epoch 1 (the last accepted weights,
    # which are also the start of epoch 2), then on with half the rate
    lr = 1.25
    problem = Quadratic()
    state = fresh()
    W = b = 0.0

    def epoch(W, b, lr):
        losses = []
        for rows in (slice(0, 2), slice(2, 4)):
            r = W + b - C[rows]
            losses.append(float(np.mean(0.5 * r**2)))
            g = float(np.mean(r))
            W, b = W - lr * g, b - lr * g
        return W, b, np.mean(losses)

    W1, b1, l1 = epoch(W, b, lr)
    W2, b2, l2 = epoch(W1, b1, lr)
    W3, b3, l3 = epoch(W1, b1, lr / 2)
    threshold = 3.0
    assert l1 < threshold < l2 and l3 < threshold
    guard = HalvingGuard(threshold, end_loss_fn=problem.objective if end else None)
    if end:  # the end losses of epochs 1 and 3 pass too
        assert value(W1 + b1) < threshold and value(W3 + b3) < threshold
    with pytest.warns(ConvergenceWarning, match="Maximum number of iterations"):
        train(problem, state, rule=ConstantStep(lr), update=SGD(), stopping=Stopping(0.0, 100),
              guard=guard, max_iter=3, batch_size=2, shuffle=False)
    np.testing.assert_allclose(state.loss_curve, [l1, l3], rtol=1e-13)
    np.testing.assert_allclose([state.coefs[0][0, 0], state.intercepts[0][0]], [W3, b3],
                               rtol=1e-13)


def test_halving_guard_gives_up_after_max_halvings():
    # every epoch exceeds the threshold: the rate is halved max_halvings
    # times, then the fit stops on the start weights with a warning
    state = fresh(p0=0.5)
    guard = HalvingGuard(0.1 * value(0.5), max_halvings=2)
    with pytest.warns(ConvergenceWarning, match="diverged at epoch 3 .*halved 2 times"):
        train(Quadratic(), state, rule=ConstantStep(0.1), update=SGD(),
              stopping=Stopping(0.0, 100), guard=guard, max_iter=10)
    assert state.halvings == 2 and state.rate_scale == 0.25
    assert state.n_iter == 2 and state.loss_curve == []
    np.testing.assert_allclose(p_of(state), 0.5, atol=0)


def test_divergence_stop_on_weights_that_overflow_full_batch():
    # a full-batch epoch's loss is measured before its step: a step that
    # sends the weights to infinity fails the epoch at once
    state = fresh(p0=1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        with pytest.warns(ConvergenceWarning, match="diverged at epoch 1 "):
            train(Quadratic(), state, rule=ConstantStep(1e308), update=SGD(),
                  stopping=Stopping(0.0, 100), guard=DivergenceStop(), max_iter=10)
    assert state.n_iter == 0 and state.loss_curve == []
    np.testing.assert_array_equal(state.coefs[0], [[1.0]])
    np.testing.assert_array_equal(state.intercepts[0], [0.0])


class Weighted(Quadratic):
    """The quadratic with row weights: weighted means, ``wsum`` the batch's weight."""

    def __init__(self, sw, C=C):
        super().__init__(C)
        self.sw = np.asarray(sw, dtype=float)

    def evaluate(self, coefs, intercepts, rows=None):
        self.rows.append(rows)
        sl = slice(None) if rows is None else rows
        C, sw = self.C[sl], self.sw[sl]
        wsum = float(sw.sum())
        if wsum <= 0:
            return 0.0, None, 0.0
        r = coefs[0][0] + intercepts[0] - C
        values = 0.5 * (sw @ r**2) / wsum
        g = (sw @ r) / wsum
        return values, [g[None, :].copy(), g.copy()], wsum


def test_batches_of_zero_weight_are_skipped_and_small_weights_count():
    # weights below 1 in total: every batch counts; the first batch weighs 0
    sw = np.array([0.0, 0.0, 0.25, 0.5])
    state = fresh()
    train(Weighted(sw), state, rule=ConstantStep(0.5), update=SGD(), stopping=Stopping(0.0, 10),
          guard=DivergenceStop(), max_iter=1, batch_size=2, shuffle=False, incremental=True)
    # one step, on rows 2 and 3 only
    c = (0.25 * 2.0 + 0.5 * 6.0) / 0.75
    loss = (0.25 * 0.5 * 4.0 + 0.5 * 0.5 * 36.0) / 0.75
    np.testing.assert_allclose(state.loss_curve, [loss], rtol=1e-14)
    np.testing.assert_allclose(p_of(state), -2 * 0.5 * (0.0 - c), rtol=1e-14)
    assert state.t == 1 and state.learning_rate_history == [0.5]


def test_an_epoch_without_weight_is_a_failed_epoch():
    state = fresh(p0=1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(Weighted(np.zeros(4)), state, rule=ConstantStep(0.5), update=SGD(),
              stopping=Stopping(0.0, 10), guard=DivergenceStop(), max_iter=3)
    assert [type(w.message) for w in caught] == [ConvergenceWarning]
    assert "diverged at epoch 1 (loss inf)" in str(caught[0].message)
    assert state.n_iter == 0 and state.t == 0
    np.testing.assert_array_equal(p_of(state), [1.0])


def test_a_batch_with_an_infinite_loss_ends_the_epoch():
    # the second batch's loss overflows: no step is taken on it, the epoch
    # fails and the start weights are kept
    C_big = np.array([[0.0], [0.0], [1e200], [1e200]])
    state = fresh()
    with np.errstate(over="ignore"):
        with pytest.warns(ConvergenceWarning, match="diverged at epoch 1 "):
            train(Quadratic(C_big), state, rule=ConstantStep(0.1), update=SGD(),
                  stopping=Stopping(0.0, 10), guard=DivergenceStop(), max_iter=3,
                  batch_size=2, shuffle=False)
    assert state.t == 1 and state.n_iter == 0
    np.testing.assert_array_equal(p_of(state), [0.0])


class _Rates(ConstantStep):
    """A stand-in rule whose rate changes at every step: 0.1, 0.2, 0.3, ..."""

    def __init__(self):
        super().__init__(0.0)
        self.k = 0

    def rate(self, state, params, grads):
        self.k += 1
        return 0.1 * self.k


@pytest.mark.parametrize("batch_size, expect", [(2, [0.15, 0.35]), (3, [0.15, 0.35]),
                                                (1, [0.25, 0.65]), (None, [0.1, 0.2])])
def test_the_recorded_rate_is_the_mean_over_the_epoch(batch_size, expect):
    state = fresh()
    with pytest.warns(ConvergenceWarning):
        train(Quadratic(C / 10), state, rule=_Rates(), update=SGD(), stopping=Stopping(0.0, 10),
              guard=DivergenceStop(), max_iter=2, batch_size=batch_size, shuffle=False)
    np.testing.assert_allclose(state.learning_rate_history, expect, rtol=1e-14)


def test_halving_guard_without_halvings_stops_on_the_last_accepted_weights():
    # rate 1.25: losses 6.25 and 11.875 (under 3 f0 = 18.75, accepted), then
    # 24.5: no halving allowed, the fit stops on the start of epoch 2
    lr = 1.25
    f0 = value(0.0)
    state = fresh()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(Quadratic(), state, rule=ConstantStep(lr), update=SGD(),
              stopping=Stopping(0.0, 100), guard=HalvingGuard(3.0 * f0, max_halvings=0),
              max_iter=10)
    assert len(caught) == 1 and "the last accepted weights were kept" in str(caught[0].message)
    np.testing.assert_allclose(state.loss_curve, [f0, value(_grow(lr, 0.0, 1))], rtol=1e-13)
    np.testing.assert_allclose(p_of(state), _grow(lr, 0.0, 1), rtol=1e-14)


def test_a_fit_stopped_by_its_rule_at_max_iter_does_not_warn():
    # the first epoch cannot improve on an infinite best loss by a relative
    # tol, the second does not improve by tol = 0.9 either: stop at epoch 2
    state = fresh()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train(Quadratic(), state, rule=ConstantStep(0.1), update=SGD(),
              stopping=Stopping(0.9, 2), guard=DivergenceStop(), max_iter=2)
    assert state.n_iter == 2
    with pytest.warns(ConvergenceWarning, match=r"\(2\) reached .*increase max_iter or tol\.$"):
        train(Quadratic(), fresh(), rule=ConstantStep(0.1), update=SGD(),
              stopping=Stopping(0.9, 3), guard=DivergenceStop(), max_iter=2)


def test_divergence_stop_mini_batch_keeps_the_best_epoch():
    # rate 1.25 on batches of 2: each step overshoots its batch's mean by
    # half again; the epoch losses grow until 1e6 times the first one: the
    # fit stops on the weights after epoch 1, the lowest epoch loss
    lr = 1.25
    W = b = 0.0
    for rows in (slice(0, 2), slice(2, 4)):
        g = W + b - C[rows].mean()
        W, b = W - lr * g, b - lr * g
    state = fresh()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(Quadratic(), state, rule=ConstantStep(lr), update=SGD(),
              stopping=Stopping(0.0, 100), guard=DivergenceStop(), max_iter=100,
              batch_size=2, shuffle=False)
    assert len(caught) == 1 and "diverged" in str(caught[0].message)
    assert state.loss_curve[0] == min(state.loss_curve)
    np.testing.assert_allclose([state.coefs[0][0, 0], state.intercepts[0][0]], [W, b],
                               rtol=1e-13)


class Columns(Quadratic):
    """The quadratic of independent columns, restricted as the freezing loop asks."""

    def restrict(self, keep):
        part = Columns(self.C[:, keep])
        part.rows = self.rows
        return part


C2 = np.column_stack([C[:, 0], 2 * C[:, 0]])  # column means 3 and 6


def test_column_freezing_keeps_the_frozen_columns_in_the_loss_and_the_record():
    # column 0 starts at its optimum (frozen after 1 + 2 epochs); column 1
    # halves its distance to 6 every epoch (rate 1/4) until it stalls
    from sklipschitz._engine.monitors import ColumnFreezing

    rule = LipschitzStep()
    state = TrainState(coefs=[np.array([[3.0, 0.0]])], intercepts=[np.zeros(2)])
    state.step_state = rule.init(np.array([8.0, 4.0]))
    problem = Columns(C2)
    train(problem, state, rule=rule, update=SGD(), stopping=Stopping(0.0, 1000),
          guard=DivergenceStop(), max_iter=60, freezing=ColumnFreezing(1e-3, 2))
    E = state.n_iter
    assert 3 < E < 60
    var0, var1 = 0.5 * np.var(C2[:, 0]), 0.5 * np.var(C2[:, 1])
    dev = 6.0 * 0.5 ** np.arange(E)
    np.testing.assert_allclose(state.loss_curve, var0 + var1 + 0.5 * dev**2, rtol=1e-13)
    # column 0's rate and constant are the ones recorded, frozen or not
    assert state.learning_rate_history == [0.125] * E and state.lipschitz == 8.0
    # every column ends on its best iterate, the state on the full columns
    np.testing.assert_allclose(p_of(state), [3.0, 6.0 - dev[-1]], rtol=1e-13)
    np.testing.assert_array_equal(state.step_state.lipschitz, [8.0, 4.0])
    np.testing.assert_array_equal(state.step_state.rate, [0.125, 0.25])


def test_column_freezing_stops_when_every_column_is_frozen():
    from sklipschitz._engine.monitors import ColumnFreezing

    state = TrainState(coefs=[np.array([[3.0, 6.0]])], intercepts=[np.zeros(2)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train(Columns(C2), state, rule=ConstantStep(0.1), update=SGD(),
              stopping=Stopping(0.0, 1000), guard=DivergenceStop(), max_iter=50,
              freezing=ColumnFreezing(1e-3, 2))
    assert state.n_iter == 3
    np.testing.assert_allclose(p_of(state), [3.0, 6.0], rtol=1e-15)


def test_column_freezing_with_nesterov_drops_the_update_state_of_frozen_columns():
    from sklipschitz._engine.monitors import ColumnFreezing
    from sklipschitz._engine.updates import Nesterov

    state = TrainState(coefs=[np.array([[3.0, 0.0]])], intercepts=[np.zeros(2)])
    train(Columns(C2), state, rule=ConstantStep(0.1), update=Nesterov(),
          stopping=Stopping(0.0, 1000), guard=DivergenceStop(), max_iter=200,
          freezing=ColumnFreezing(1e-12, 3))
    np.testing.assert_allclose(p_of(state), [3.0, 6.0], atol=1e-5)
    assert [x.shape for x in state.opt_state["x"]] == [(1, 2), (2,)]


def test_column_freezing_divergence_restores_each_columns_best():
    # rate 1.25: both columns overshoot more every epoch until the loss is
    # 1e6 times the first: each column returns to its best (the start)
    from sklipschitz._engine.monitors import ColumnFreezing

    state = TrainState(coefs=[np.array([[1.0, 2.0]])], intercepts=[np.zeros(2)])
    with pytest.warns(ConvergenceWarning, match="diverged"):
        train(Columns(C2), state, rule=ConstantStep(1.25), update=SGD(),
              stopping=Stopping(0.0, 1000), guard=DivergenceStop(), max_iter=200,
              freezing=ColumnFreezing(1e-12, 1000))
    np.testing.assert_array_equal(state.coefs[0], [[1.0, 2.0]])
    np.testing.assert_array_equal(state.intercepts[0], [0.0, 0.0])


def test_halving_guard_restarts_the_momentum_after_a_rejected_epoch():
    # every epoch is rejected: after each the weights and the momentum
    # start over (a retry with a fresh momentum, then the stop)
    state = fresh(p0=0.5)
    with pytest.warns(ConvergenceWarning, match="halved 1 times"):
        train(Quadratic(), state, rule=ConstantStep(0.1), update=Momentum(0.9),
              stopping=Stopping(0.0, 100), guard=HalvingGuard(0.1 * value(0.5), max_halvings=1),
              max_iter=10)
    assert state.halvings == 1 and state.opt_state["t"] == 0
    np.testing.assert_allclose(p_of(state), 0.5, atol=0)


def test_validation_mini_batch_keeps_the_best_scoring_epoch():
    # the score is best where p is nearest 1.5; p rises from 0 to the mean 3
    from sklipschitz._engine.monitors import Validation

    def score(c, i):
        return -abs(float(c[0][0, 0] + i[0][0]) - 1.5)

    lr, tol, patience = 0.05, 0.05, 3
    p, ps = 0.0, []
    for _ in range(40):
        for rows in (slice(0, 2), slice(2, 4)):
            p = p - 2 * lr * (p - C[rows].mean())
        ps.append(p)
    scores = [-abs(q - 1.5) for q in ps]
    # the stopping rule: improved when the score beats the best by tol
    best, streak, n = -np.inf, 0, 0
    for s in scores:
        n += 1
        streak = 0 if s > best + tol else streak + 1
        best = max(best, s)
        if streak >= patience:
            break
    state = fresh()
    train(Quadratic(), state, rule=ConstantStep(lr), update=SGD(), stopping=Stopping(tol, patience),
          guard=DivergenceStop(), max_iter=40, batch_size=2, shuffle=False,
          validation=Validation(score))
    assert n < 40 and state.n_iter == n
    np.testing.assert_allclose(state.validation_scores, scores[:n], rtol=1e-12)
    k = int(np.argmax(scores[:n]))
    assert 0 < k < n - 1
    np.testing.assert_allclose(p_of(state), ps[k], rtol=1e-12)
