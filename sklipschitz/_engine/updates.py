"""Parameter updates: given gradients and a rate, move the weights.

Each update is a small object with ``init(params) -> state`` and
``update(params, grads, lr, state) -> state``; the weights are changed in
place and the state is explicit, so the loop owns it (``partial_fit``
carries it between calls).
"""

from __future__ import annotations

import numpy as np



class SGD:
    """``w <- w - lr * g``."""

    def init(self, params):
        return None

    def update(self, params, grads, lr, state):
        for p, g in zip(params, grads):
            p -= lr * g
        return state


class Momentum:
    """Exponential moving average of gradients (AdaMo's ``V``), step ``lr * V``.

    ``V <- beta V + (1 - beta) g``; the average is bias-corrected so the first
    steps have the size of a plain gradient step.
    """

    def __init__(self, beta=0.9):
        self.beta = beta

    def init(self, params):
        return {"v": [np.zeros_like(p) for p in params], "t": 0}

    def update(self, params, grads, lr, state):
        state["t"] += 1
        corr = 1.0 - self.beta ** state["t"]
        for p, g, v in zip(params, grads, state["v"]):
            v *= self.beta
            v += (1.0 - self.beta) * g
            p -= (lr / corr) * v
        return state


class Adam:
    """Adam with bias correction, its global step set by the step rule."""

    def __init__(self, beta1=0.9, beta2=0.999, epsilon=1e-8):
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon

    def init(self, params):
        return {
            "m": [np.zeros_like(p) for p in params],
            "v": [np.zeros_like(p) for p in params],
            "t": 0,
        }

    def update(self, params, grads, lr, state):
        state["t"] += 1
        t = state["t"]
        c1 = 1.0 - self.beta1**t
        c2 = 1.0 - self.beta2**t
        for p, g, m, v in zip(params, grads, state["m"], state["v"]):
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * g * g
            p -= lr * (m / c1) / (np.sqrt(v / c2) + self.epsilon)
        return state


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}
