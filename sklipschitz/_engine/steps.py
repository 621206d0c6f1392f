"""Step-size rules as small objects with explicit state.

A rule is asked for the learning rate of every optimisation step through
``rate(state, params, grads)``, and told at the start of each epoch the
current Lipschitz constant through ``new_epoch(state, lipschitz)``.  The
state is a plain mutable object owned by the solver, so a rule keeps no
hidden state and can be reused (``partial_fit`` carries the state between
calls).

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
    started at ``1 / L``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class StepState:
    lipschitz: float = float("nan")
    epoch: int = 0
    rate: float = float("nan")
    prev_rate: float = float("nan")
    theta: float = float("inf")
    prev_params: list = field(default_factory=list)
    prev_grads: list = field(default_factory=list)


class StepRule:
    """Base class of step rules."""

    def init(self, lipschitz):
        state = StepState(lipschitz=float(lipschitz))
        return state

    def new_epoch(self, state, lipschitz=None):
        state.epoch += 1
        if lipschitz is not None:
            state.lipschitz = float(lipschitz)

    def rate(self, state, params, grads):
        raise NotImplementedError


class LipschitzStep(StepRule):
    """``1/L``, or ``1/(L sqrt(epoch))`` when ``decay`` (non-smooth losses)."""

    def __init__(self, decay=False):
        self.decay = decay

    def rate(self, state, params, grads):
        lr = 1.0 / state.lipschitz
        if self.decay:
            lr /= math.sqrt(max(state.epoch, 1))
        state.rate = lr
        return lr


class ConstantStep(StepRule):
    def __init__(self, learning_rate):
        self.learning_rate = float(learning_rate)

    def rate(self, state, params, grads):
        state.rate = self.learning_rate
        return self.learning_rate


def _sq_dist(a_list, b_list):
    return sum(float(np.vdot(a - b, a - b)) for a, b in zip(a_list, b_list))


class LocalStep(StepRule):
    """AdGD (Malitsky & Mishchenko 2020) local curvature estimate, from ``1/L``."""

    def rate(self, state, params, grads):
        if not state.prev_params:
            lr = 1.0 / state.lipschitz
        else:
            dx = math.sqrt(_sq_dist(params, state.prev_params))
            dg = math.sqrt(_sq_dist(grads, state.prev_grads))
            growth = math.sqrt(1.0 + state.theta) * state.rate
            local = dx / (2.0 * dg) if dg > 0 else math.inf
            lr = min(growth, local)
            if not math.isfinite(lr) or lr <= 0:
                lr = state.rate
            state.theta = lr / state.rate
        state.prev_params = [p.copy() for p in params]
        state.prev_grads = [g.copy() for g in grads]
        state.rate = lr
        return lr
