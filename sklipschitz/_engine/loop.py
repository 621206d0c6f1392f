"""The gradient-descent loop every estimator trains with.

One loop serves full-batch and mini-batch gradient descent, ``partial_fit``
(one epoch per call, the state carried over), every step rule
(:mod:`.steps`) and update (:mod:`.updates`).  Each epoch it asks for the
current Lipschitz constant, asks the step rule for a rate per step, records
the history, and consults small objects (:mod:`.monitors`) for what the
estimator wants: the stopping rule, the divergence guard, early stopping on
a validation score, an average of the iterates
(:class:`~.updates.IterateAverage`), and per-column best iterates
with an active-column mask.  The problem (:mod:`.problems`) gives the
objective and its gradient.

The full-batch linear fits with the default rate have a faster exact solver
(:mod:`sklipschitz._exact`); both report the same history attributes.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .steps import scale


@dataclass
class TrainState:
    """Everything a fit carries between epochs and between partial_fit calls."""

    coefs: list
    intercepts: list
    step_state: object = None
    opt_state: object = None
    n_iter: int = 0
    t: int = 0
    loss_curve: list = field(default_factory=list)
    learning_rate_history: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_loss: float = math.inf
    best_score: float = -math.inf
    no_improvement: int = 0
    rate_scale: float = 1.0
    halvings: int = 0
    # a guard with ``release_first``: the halvings of the fit's first epoch
    # (before any epoch was accepted) and, per parameter, half the smallest
    # rate that failed in it; once an epoch is accepted they become
    # ``released = (factor, caps)`` (see _released)
    first_halvings: int = 0
    first_caps: list = None
    released: tuple = None
    released_halvings: int = 0
    lipschitz: float = float("nan")
    # the state of an average of the iterates (updates.IterateAverage)
    average_params: list = None
    n_averaged: int = 0


def reported(value, n_coefs, column=0):
    """The one number recorded for a constant or rate of any shape: the last
    layer's weights of a per-parameter list, the column ``column`` of a
    per-column array."""
    if isinstance(value, list):
        return float(value[n_coefs - 1])
    if isinstance(value, np.ndarray) and value.ndim:
        return float(value[column])
    return float(value)


def _copy(arrays):
    return [a.copy() for a in arrays]


def _finite(arrays):
    """Whether every entry of every array is finite."""
    for a in arrays:
        if not np.logical_and.reduce(np.isfinite(a), axis=None):
            return False
    return True


def _restore(params, saved):
    for p, q in zip(params, saved):
        p[...] = q


def _released(lr, factor, caps):
    """The rates after the first epoch's halvings were released.

    ``min(r, max(cap, factor r))`` per parameter: the computed rate ``r``
    (re-measured at the accepted weights) where it is at most ``cap``, half
    the smallest rate that failed in the first epoch; the halved rate
    ``factor r`` where that is smaller than the cap; the cap in between.  The
    halvings therefore stop applying once the constants have risen past the
    failure (A-ReLU's curvature at the initial weights is ~50x below its
    value after one epoch), and keep applying while they have not.
    """
    if not isinstance(lr, list):
        lr = [lr] * len(caps)
    return [min(r, max(c, factor * r)) for r, c in zip(lr, caps)]


def _batch_slices(n, batch_size):
    if batch_size is None or batch_size >= n:
        return [None]
    return [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]


class _Fit:
    """One call of :func:`train`: the loop's working variables."""

    def __init__(self, problem, state, kw):
        self.problem, self.state, self.kw = problem, state, kw
        self.params = state.coefs + state.intercepts
        self.n_coefs = len(state.coefs)
        self.slices = _batch_slices(problem.n_samples, kw["batch_size"])
        self.full = len(self.slices) == 1
        self.best = _copy(self.params)  # the weights known to be best
        self.accepted = self.best  # the last accepted weights (halving guard)
        # divergence reference: the loss of the first batch of this call (at the
        # weights the call started from) and the best epoch loss of this call
        self.first_value = None
        self.call_best = math.inf
        self.freezing = kw["freezing"]
        self.last_rate = None  # the rates of the last step taken (release_first)
        # incremental calls that must not leave the chunk worse keep its start
        self.call_start = _copy(self.params) if (kw["incremental"] and kw["monotone"]) else None
        if self.freezing is not None:
            self.freezing.start(self.params[0].shape[-1])
            self.full_params = self.params
            self.full_lipschitz = state.step_state.lipschitz
            self.full_rate = np.full(self.params[0].shape[-1], np.nan)

    # -- one epoch ---------------------------------------------------------------

    def epoch(self, rule, update, rng, averaging):
        """Run the batches of one epoch; return (values, epoch loss, mean rate)."""
        state, problem = self.state, self.problem
        n = problem.n_samples
        order = rng.permutation(n) if (self.kw["shuffle"] and not self.full) else None
        loss_sum = weight_sum = 0.0
        rates, values = [], None
        for sl in self.slices:
            rows = None if sl is None else (order[sl] if order is not None else sl)
            values, grads, wsum = problem.evaluate(state.coefs, state.intercepts, rows)
            if wsum <= 0:
                continue
            value = float(np.add.reduce(values, axis=None) if isinstance(values, np.ndarray)
                          else np.sum(values))
            if self.freezing is not None:
                value += self.freezing.frozen_sum
            lr = scale(rule.rate(state.step_state, self.params, grads), state.rate_scale)
            if state.released is not None:
                lr = _released(lr, *state.released)
            self.last_rate = lr
            rates.append(self._reported_rate(lr))
            loss_sum += value * wsum
            weight_sum += wsum
            if self.first_value is None:
                self.first_value = value
            if not math.isfinite(value):
                break
            state.opt_state = update.update(self.params, grads, lr, state.opt_state)
            state.t += 1
            if averaging is not None:
                averaging.accumulate(state, self.params)
        epoch_loss = loss_sum / weight_sum if weight_sum > 0 else math.inf
        mean_rate = (rates[0] if len(rates) == 1 else float(np.mean(rates))) if rates else math.nan
        return values, epoch_loss, mean_rate

    def _reported_rate(self, lr):
        if self.freezing is not None and isinstance(lr, np.ndarray):
            self.full_rate[self.freezing.active] = lr
            return float(self.full_rate[self.kw["report"]])
        return reported(lr, self.n_coefs, self.kw["report"])

    # -- the divergence guard ----------------------------------------------------

    def diverged(self, guard, epoch_loss, start):
        """Judge the epoch; restore weights when it failed.  Returns 'ok',
        'retry' (rate halved) or 'stop'."""
        state = self.state
        bad = not math.isfinite(epoch_loss) or not _finite(self.params)
        overflow = bad
        if guard.halving:
            bad = bad or guard.is_bad(epoch_loss, state)
        elif not bad:
            reference = min(self.call_best, math.inf if self.first_value is None else self.first_value)
            bad = guard.is_bad(epoch_loss, reference)
            if bad and not self.full:
                # the epoch loss is a mean over moving weights: confirm on the
                # objective at the weights reached against the best ones known
                end = self.problem.objective(state.coefs, state.intercepts)
                known = self.problem.objective(self.best[: self.n_coefs], self.best[self.n_coefs:])
                bad = not math.isfinite(end) or guard.is_bad(end, known)
        if not bad:
            self.call_best = min(self.call_best, epoch_loss)
            return "ok"
        if guard.halving:
            _restore(self.params, start if guard.end_loss_fn is not None else self.accepted)
        elif self.freezing is not None:
            _restore(self.params, [b[..., self.freezing.active] for b in self.best])
        else:
            _restore(self.params, self.best)
        state.opt_state = self.kw["update"].init(self.params)
        if guard.halving and state.halvings < guard.max_halvings:
            state.rate_scale *= 0.5
            state.halvings += 1
            if getattr(guard, "release_first", False):
                self._note_first_halving(overflow or guard.blew_up())
            if self.kw["verbose"]:
                print(f"Epoch {state.n_iter}: loss diverged, rate halved")
            return "retry"
        state.n_iter -= 1
        guard.warn(state.n_iter + 1, epoch_loss)
        return "stop"

    def _note_first_halving(self, blew_up):
        """``release_first``: remember a halving of the first epoch that the
        loss blew up for, and the rates that failed; a later halving also
        halves the released caps."""
        state = self.state
        if state.released is not None:
            factor, caps = state.released
            state.released = (factor, [0.5 * c for c in caps])
            return
        if state.loss_curve or self.last_rate is None or not blew_up:
            return  # not the first epoch, or a mild rise: the halving stays
        rates = self.last_rate if isinstance(self.last_rate, list) else [self.last_rate]
        half = [0.5 * float(r) for r in rates]
        state.first_caps = half if state.first_caps is None else [
            min(c, h) for c, h in zip(state.first_caps, half)]
        state.first_halvings += 1

    def release_first(self):
        """The first epoch was accepted: its halvings leave the scale and are
        applied through the caps (_released) at the re-measured constants."""
        state = self.state
        if state.first_halvings:
            factor = 0.5 ** state.first_halvings
            state.rate_scale /= factor
            state.released = (factor, state.first_caps)
            state.released_halvings = state.first_halvings
            state.first_halvings, state.first_caps = 0, None

    # -- best iterate, stopping, freezing ----------------------------------------

    def record(self, values, epoch_loss, start, stopping, validation):
        """Best iterates and the stopping rule; True when the fit should stop."""
        state = self.state
        if validation is not None:
            score = validation.score_fn(state.coefs, state.intercepts)
            state.validation_scores.append(score)
            improved = score > state.best_score + stopping.tol
            if score > state.best_score:
                state.best_score = score
                self.best = _copy(self.params)
        else:
            improved = stopping.improved(epoch_loss, state.best_loss)
        if epoch_loss < state.best_loss:
            state.best_loss = epoch_loss
            if validation is None and self.freezing is None:
                # full batch: the loss was measured before this epoch's step
                self.best = start if self.full else _copy(self.params)
        stop = stopping.update(state, improved) and not self.kw["incremental"]
        if self.freezing is not None:
            keep = self.freezing.record(values, start, self.best,
                                        getattr(self.problem, "scores", None))
            if stop or not np.logical_or.reduce(keep):
                return True
            if not np.logical_and.reduce(keep):
                self._drop_columns(keep)
        return stop

    def _drop_columns(self, keep):
        state, kw = self.state, self.kw
        self.params = [p[..., keep] for p in self.params]
        state.coefs, state.intercepts = self.params[: self.n_coefs], self.params[self.n_coefs:]
        self.problem = self.problem.restrict(keep)
        kw["rule"].restrict(state.step_state, keep)
        state.opt_state = kw["update"].restrict(state.opt_state, keep)

    def _keep_start_if_worse(self):
        """``monotone``: undo an incremental call that raised its chunk's objective."""
        problem, n = self.problem, self.n_coefs
        start = self.first_value if self.full else problem.objective(
            self.call_start[:n], self.call_start[n:])
        end = problem.objective(self.state.coefs, self.state.intercepts)
        if not end <= start + 1e-12 * abs(start):
            _restore(self.params, self.call_start)
            self.state.opt_state = self.kw["update"].init(self.params)

    def finish(self, stopped, diverged):
        state, kw = self.state, self.kw
        if self.call_start is not None and not diverged and self.first_value is not None:
            self._keep_start_if_worse()
        if not kw["incremental"]:
            if self.freezing is not None:
                # every column ends on its own best iterate, in the full arrays
                _restore(self.full_params, self.best)
                self.params = self.full_params
                state.step_state.lipschitz = self.full_lipschitz
                state.step_state.rate = self.full_rate
                state.step_state.prev_params, state.step_state.prev_grads = [], []
                state.opt_state = kw["update"].init(self.params)
            elif (self.full or kw["validation"] is not None) and not diverged:
                _restore(self.params, self.best)
            if not stopped and not diverged and state.n_iter >= kw["max_iter"]:
                warnings.warn(
                    f"Maximum number of iterations ({kw['max_iter']}) reached before the "
                    f"training loss stopped improving (tol={kw['stopping'].tol}); increase "
                    "max_iter or tol.",
                    ConvergenceWarning,
                )
        state.coefs = self.params[: self.n_coefs]
        state.intercepts = self.params[self.n_coefs:]
        return state


def train(problem, state, *, rule, update, stopping, guard, max_iter=200, lipschitz_fn=None,
          batch_size=None, shuffle=True, rng=None, validation=None, averaging=None,
          freezing=None, incremental=False, monotone=False, verbose=0, report=0):
    """Run epochs of gradient descent on ``problem`` until a stopping rule fires.

    ``state`` (a :class:`TrainState`) is modified in place and returned; pass
    the previous one to continue.  ``lipschitz_fn(coefs, intercepts)`` gives
    the constant of the coming epoch (None: unchanged); ``incremental`` runs
    exactly one epoch (``partial_fit``) without the convergence warning;
    with ``monotone`` too, a call that leaves the objective on its data above
    where it started is undone (stochastic or subgradient steps are not
    descent steps); ``report`` is the column whose rate per-column rules
    record.
    """
    kw = dict(batch_size=batch_size, shuffle=shuffle, freezing=freezing, rule=rule,
              update=update, verbose=verbose, incremental=incremental, max_iter=max_iter,
              stopping=stopping, validation=validation, report=report,
              monotone=monotone)
    if state.step_state is None:
        L0 = lipschitz_fn(state.coefs, state.intercepts) if lipschitz_fn else None
        state.step_state = rule.init(L0 if L0 is not None else float("nan"))
    if state.opt_state is None:
        state.opt_state = update.init(state.coefs + state.intercepts)
    fit = _Fit(problem, state, kw)
    stopped, diverged = incremental, False
    for _ in range(1 if incremental else max(max_iter - state.n_iter, 0)):
        # the constant of the first epoch was computed by rule.init
        L = None if (state.n_iter == 0 or lipschitz_fn is None) else lipschitz_fn(
            state.coefs, state.intercepts)
        rule.new_epoch(state.step_state, L)
        L_now = state.step_state.lipschitz if fit.freezing is None else fit.full_lipschitz
        state.lipschitz = reported(L_now, fit.n_coefs, report)
        judge_end = guard.halving and guard.end_loss_fn is not None
        start = _copy(fit.params) if (fit.full or judge_end) else None
        values, epoch_loss, mean_rate = fit.epoch(rule, update, rng, averaging)
        state.n_iter += 1
        verdict = fit.diverged(guard, epoch_loss, start)
        if verdict == "retry":
            continue
        if verdict == "stop":
            diverged = True
            break
        fit.release_first()
        state.loss_curve.append(epoch_loss)
        state.learning_rate_history.append(float(mean_rate))
        if verbose:
            print(f"Epoch {state.n_iter}, loss = {epoch_loss:.8g}, learning rate = {mean_rate:.6g}")
        if guard.halving:
            # full batch: this epoch's loss was measured before its step
            fit.accepted = start if fit.full else _copy(fit.params)
        if fit.record(values, epoch_loss, start, stopping, validation):
            stopped = True
            break
    return fit.finish(stopped, diverged)
