"""Step-size rules as small objects with explicit state.

A rule is told at the start of each epoch the current Lipschitz constant
(``new_epoch(state, lipschitz)``) and asked for the learning rate of every
optimisation step (``rate(state, params, grads)``).  The state is a plain
object owned by the loop, so a rule keeps no hidden state and can be reused
(``partial_fit`` carries the state between calls).

A constant -- and so a rate -- comes in one of three shapes:

* a float: one rate for every parameter;
* an ndarray of shape ``(n_columns,)``: one rate per output column of a
  linear model whose columns are independent problems (every parameter's
  last axis is the column axis, so the rate broadcasts);
* a list with one entry (float) per parameter, in the order
  ``coefs + intercepts`` (a rate per layer of a network).

Rules
-----
``LipschitzStep``
    ``1 / L``; for a non-smooth loss (no gradient-Lipschitz constant) the
    classical subgradient schedule ``1 / (L sqrt(t))``, t the epoch number.
``ConstantStep``
    a user-given float.
``LocalStep``
    adaptive gradient descent without descent (Malitsky & Mishchenko, 2020):
    ``lr_k = min(sqrt(1 + theta) lr_{k-1}, ||x_k - x_{k-1}|| / (2 ||g_k - g_{k-1}||))``,
    started at ``1 / L``; with ``per_column`` every column runs its own copy;
    with ``octave_steps`` every rate is rounded down to the grid
    ``2**(k / octave_steps)`` (both conditions of the rule still hold, and
    rounding differences of the data no longer reach the rate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


def _as_constant(value):
    """A constant in one of the three shapes (see the module docstring)."""
    if isinstance(value, (list, tuple)):
        return [float(v) for v in value]
    arr = np.asarray(value, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr.copy()


def invert(value):
    """``1 / value`` for each of the three shapes."""
    if isinstance(value, list):
        return [1.0 / v for v in value]
    return 1.0 / value


def scale(rate, factor):
    """``rate * factor`` for each of the three shapes (``factor``: a float,
    or one value per output column)."""
    if factor == 1.0 if isinstance(factor, float) else (np.ndim(factor) == 0 and factor == 1.0):
        return rate
    if isinstance(rate, list):
        return [r * factor for r in rate]
    return rate * factor


def take_columns(value, keep):
    """The entries of the kept columns of a per-column value (others unchanged)."""
    if isinstance(value, np.ndarray) and value.ndim >= 1:
        return value[..., keep]
    return value


@dataclass
class StepState:
    """What a rule carries between steps: its constant, its last rate, and
    (AdGD) the previous point and gradient."""

    lipschitz: object = float("nan")
    epoch: int = 0
    rate: object = float("nan")
    theta: object = float("inf")
    prev_params: list = field(default_factory=list)
    prev_grads: list = field(default_factory=list)


class StepRule:
    """Base class of step rules."""

    def init(self, lipschitz):
        return StepState(lipschitz=_as_constant(lipschitz))

    def new_epoch(self, state, lipschitz=None):
        state.epoch += 1
        if lipschitz is not None:
            state.lipschitz = _as_constant(lipschitz)

    def rate(self, state, params, grads):
        raise NotImplementedError

    def restrict(self, state, keep):
        """Keep only the columns ``keep`` (a boolean mask) of a per-column state."""
        state.lipschitz = take_columns(state.lipschitz, keep)
        state.rate = take_columns(state.rate, keep)
        state.theta = take_columns(state.theta, keep)
        state.prev_params = [p[..., keep] for p in state.prev_params]
        state.prev_grads = [g[..., keep] for g in state.prev_grads]


class LipschitzStep(StepRule):
    """``1/L``, or ``1/(L sqrt(epoch))`` when ``decay`` (non-smooth losses)."""

    def __init__(self, decay=False):
        self.decay = decay

    def rate(self, state, params, grads):
        lr = invert(state.lipschitz)
        if self.decay:
            lr = scale(lr, 1.0 / math.sqrt(max(state.epoch, 1)))
        state.rate = lr
        return lr


class ConstantStep(StepRule):
    """The same user-given rate at every step (for every column)."""

    def __init__(self, learning_rate):
        self.learning_rate = float(learning_rate)

    def rate(self, state, params, grads):
        L = state.lipschitz
        lr = self.learning_rate
        if isinstance(L, np.ndarray):
            lr = np.full(L.shape, lr)
        state.rate = lr
        return lr


def _sq_norms(arrays, per_column):
    """Squared norm over a list of arrays: one number, or one per column."""
    if not per_column:
        return sum(float(np.vdot(a, a)) for a in arrays)
    total = 0.0
    for a in arrays:
        total = total + (
            a.astype(np.float64) ** 2 if a.ndim == 1
            else np.einsum("ij,ij->j", a, a, dtype=np.float64)
        )
    return total


def _diff_norms(new, old, per_column):
    return np.sqrt(_sq_norms([a - b for a, b in zip(new, old)], per_column))


class LocalStep(StepRule):
    """AdGD (Malitsky & Mishchenko 2020) local curvature estimate, from ``1/L``.

    With ``per_column`` the parameters are ``[W, b]`` of a linear model whose
    columns are independent problems, and every column runs its own AdGD
    (its distances and gradient differences involve only its own entries).

    With ``octave_steps`` (an integer) every rate is rounded down to the
    nearest ``2**(k / octave_steps)``, k an integer: the rule's two bounds
    (growth by at most ``sqrt(1 + theta)`` and at most the local estimate
    ``||dx|| / (2 ||dg||)``) still hold, since the rate only gets smaller
    and ``theta`` is the ratio of the rounded rates.  AdGD's rate is a ratio
    of differences, so rounding errors of the data (a weighted sum against
    a repeated one) change it in the last bits, and on a non-convex
    objective such changes grow over hundreds of steps; on the grid they
    change the rate only when it lies within rounding of a grid point.
    """

    def __init__(self, per_column=False, octave_steps=None):
        self.per_column = per_column
        self.octave_steps = octave_steps

    def _round(self, lr):
        if self.octave_steps is None:
            return lr
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._round_quiet(lr)

    def _round_quiet(self, lr):
        """:meth:`_round` for a caller that already silenced the log of 0."""
        if self.octave_steps is None:
            return lr
        k = self.octave_steps
        rounded = np.exp2(np.floor(np.log2(lr) * k) / k)
        return np.where(np.isfinite(rounded) & (rounded > 0), rounded, lr)

    def _next_rate(self, state, dx, dg):
        """AdGD's rate from the norms of the last move ``dx`` and of the
        gradient's change ``dg``: ``min(sqrt(1 + theta) * rate, dx / (2 dg))``
        (rounded down to the octave grid), the previous rate where that is
        not a positive number; updates ``state.theta``."""
        growth = np.sqrt(1.0 + state.theta) * state.rate
        if isinstance(dx, np.ndarray) and dx.ndim == 1:
            return self._next_column_rates(state, dx, dg, growth)
        with np.errstate(divide="ignore", invalid="ignore"):
            local = np.where(dg > 0, dx / (2.0 * dg), np.inf)
            lr = np.minimum(growth, local)
            lr = np.where(~np.isfinite(lr) | (lr <= 0), state.rate, self._round_quiet(lr))
        state.theta = lr / state.rate
        return lr

    def _next_column_rates(self, state, dx, dg, growth):
        """:meth:`_next_rate` of one rate per column (``dx``, ``dg`` 1-D), with
        the same operations on the entries it uses: the division skips the
        entries without a positive ``dg`` and the logarithm those whose rate
        is not a positive number (so neither divides by zero)."""
        local = np.full(dx.shape, np.inf)
        with np.errstate(invalid="ignore"):  # inf / inf: NaN, then the previous rate
            np.divide(dx, 2.0 * dg, out=local, where=dg > 0)
        lr = np.minimum(growth, local)
        ok = (lr > 0) & (lr < np.inf)  # a positive number (not NaN)
        if self.octave_steps is not None:
            k = self.octave_steps
            e = np.zeros(lr.shape)
            np.log2(lr, out=e, where=ok)
            e *= k
            np.floor(e, out=e)
            e /= k
            np.exp2(e, out=e)  # at most lr: finite, and zero only on underflow
            lr = np.where(e > 0, e, lr)
        lr = np.where(ok, lr, state.rate)
        state.theta = lr / state.rate
        return lr

    def _column_rate(self, state, params, grads):
        """The AdGD rate of every column of ``[W, b]`` (``per_column``, after
        the first step): the same operations as the general case, with
        fewer temporary arrays (the loop calls it every epoch)."""
        (W, b), (gW, gb) = params, grads
        (W0, b0), (gW0, gb0) = state.prev_params, state.prev_grads
        d = W - W0
        dx = np.einsum("ij,ij->j", d, d, dtype=np.float64)
        np.subtract(gW, gW0, out=d)
        dg = np.einsum("ij,ij->j", d, d, dtype=np.float64)
        db = (b - b0).astype(np.float64, copy=False)
        dx += db * db
        db = (gb - gb0).astype(np.float64, copy=False)
        dg += db * db
        np.sqrt(dx, out=dx)
        np.sqrt(dg, out=dg)
        lr = self._next_rate(state, dx, dg)
        np.copyto(W0, W)
        np.copyto(b0, b)
        np.copyto(gW0, gW)
        np.copyto(gb0, gb)
        return lr

    def rate(self, state, params, grads):
        if not state.prev_params:
            lr = invert(state.lipschitz)
            if self.octave_steps is not None:
                lr = self._round(lr)
                lr = lr if self.per_column else float(lr)
            if self.per_column:
                state.theta = np.full(np.shape(lr), np.inf)
            state.prev_params = [np.array(p, copy=True) for p in params]
            state.prev_grads = [np.array(g, copy=True) for g in grads]
        elif (self.per_column and len(params) == 2 and params[0].ndim == 2
              and params[1].ndim == 1 and grads[0].dtype == params[0].dtype):
            lr = self._column_rate(state, params, grads)
        else:
            dx = _diff_norms(params, state.prev_params, self.per_column)
            dg = _diff_norms(grads, state.prev_grads, self.per_column)
            lr = self._next_rate(state, dx, dg)
            if not self.per_column:
                lr, state.theta = float(lr), float(state.theta)
            for q, p in zip(state.prev_params, params):
                q[...] = p
            for q, g in zip(state.prev_grads, grads):
                q[...] = g
        state.rate = lr
        return lr


def make_rule(learning_rate, *, smooth=True, per_column=False, stochastic=False):
    """The step rule of a ``learning_rate`` parameter value.

    'paper': the published constant as a constant step; 'lipschitz': ``1/L``
    (with the subgradient decay for a non-smooth loss); 'local': AdGD, which
    needs full gradients (``stochastic`` fits fall back to 'lipschitz');
    a float: that constant rate.
    """
    if isinstance(learning_rate, str):
        if learning_rate == "paper":
            return LipschitzStep(decay=False)
        if learning_rate == "local" and not stochastic:
            return LocalStep(per_column=per_column)
        return LipschitzStep(decay=not smooth)
    return ConstantStep(learning_rate)
