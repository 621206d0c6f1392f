"""Activation functions with closed-form derivatives and slope bounds.

SBAF (soft-bounded activation function) is
``sbaf(x) = 1 / (1 + k * x**alpha * (1 - x)**(1 - alpha))`` on ``[0, 1]``
(defaults ``k = 0.91, alpha = 0.5``), with derivative
``y (1 - y) (x - alpha) / (x (1 - x))``.  It is real-valued only on
``[0, 1]``; a network's pre-activations are real, so the unit used in
networks and kernels is ``sbaf(logistic(z))``: the logistic map sends R onto
(0, 1) smoothly and bijectively, which keeps every value and gradient finite
(no clipping, so no dead zone outside (0, 1)).  By the chain rule and
``logistic'(z) = x (1 - x)``, the unit's derivative simplifies to
``y (1 - y) (x - alpha)``: no division, finite everywhere.

A-ReLU is ``k * x**n`` for ``x > 0`` and ``0`` otherwise (``k = 0.54``,
``n = 1.30``); its slope ``k n x**(n-1)`` is unbounded, so it has no global
slope bound.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit


def sbaf(x, k=0.91, alpha=0.5):
    """SBAF on ``[0, 1]``: ``1 / (1 + k x^alpha (1 - x)^(1 - alpha))``.

    Inputs are clipped to ``[0, 1]`` (the function's domain); at the ends the
    product term vanishes and the value is 1.
    """
    x = np.clip(x, 0.0, 1.0)
    return 1.0 / (1.0 + k * np.power(x, alpha) * np.power(1.0 - x, 1.0 - alpha))


def sbaf_derivative(x, k=0.91, alpha=0.5):
    """``d sbaf / dx = y (1 - y) (x - alpha) / (x (1 - x))`` on ``(0, 1)``."""
    y = sbaf(x, k, alpha)
    return y * (1.0 - y) * (x - alpha) / (x * (1.0 - x))


def sbaf_unit(z, k=0.91, alpha=0.5):
    """The SBAF unit on real inputs: ``sbaf(logistic(z))``."""
    return sbaf(expit(z), k, alpha)


class Activation:
    """An activation ``g``: value, derivative and ``sup |g'|`` (or None)."""

    name = "activation"
    slope_bound = None

    def value(self, z):
        raise NotImplementedError

    def derivative(self, z, a):
        """``g'(z)``; ``a = g(z)`` is passed to avoid recomputation."""
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class Identity(Activation):
    name = "identity"
    slope_bound = 1.0

    def value(self, z):
        return z

    def derivative(self, z, a):
        return np.ones_like(z)


class ReLU(Activation):
    name = "relu"
    slope_bound = 1.0

    def value(self, z):
        return np.maximum(z, 0.0)

    def derivative(self, z, a):
        return (z > 0).astype(z.dtype)


class Tanh(Activation):
    name = "tanh"
    slope_bound = 1.0

    def value(self, z):
        return np.tanh(z)

    def derivative(self, z, a):
        return 1.0 - a * a


class Logistic(Activation):
    name = "logistic"
    slope_bound = 0.25

    def value(self, z):
        return expit(z)

    def derivative(self, z, a):
        return a * (1.0 - a)


class SBAF(Activation):
    """``sbaf(logistic(z))`` with derivative ``y (1 - y) (x - alpha)``."""

    name = "sbaf"

    def __init__(self, k=0.91, alpha=0.5):
        self.k = float(k)
        self.alpha = float(alpha)
        # |y (1-y) (x - alpha)| <= 1/4 * max(alpha, 1 - alpha)
        self.slope_bound = 0.25 * max(self.alpha, 1.0 - self.alpha)

    def value(self, z):
        return sbaf_unit(z, self.k, self.alpha)

    def derivative(self, z, a):
        x = expit(z)
        return a * (1.0 - a) * (x - self.alpha)

    def __repr__(self):
        return f"SBAF(k={self.k}, alpha={self.alpha})"


class AReLU(Activation):
    """``k * z**n`` for ``z > 0``, else 0; slope unbounded (no global bound)."""

    name = "arelu"

    def __init__(self, k=0.54, n=1.30):
        self.k = float(k)
        self.n = float(n)

    def value(self, z):
        zp = np.maximum(z, 0.0)
        return self.k * np.power(zp, self.n)

    def derivative(self, z, a):
        zp = np.maximum(z, 0.0)
        return self.k * self.n * np.power(zp, self.n - 1.0) * (z > 0)

    def __repr__(self):
        return f"AReLU(k={self.k}, n={self.n})"


ACTIVATIONS = {
    "identity": Identity,
    "relu": ReLU,
    "tanh": Tanh,
    "logistic": Logistic,
    "sbaf": SBAF,
    "arelu": AReLU,
}
