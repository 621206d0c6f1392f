"""One output of the pinball problem, the state its phases share.

``min_{w, b'} scale * (sum_i sn_i rho_tau(y_i - x_ci w - b') + alpha/2 |w|^2)``

on the centred design ``X_c`` of a :class:`~sklipschitz._exact.design.Design`
(``scale = 2`` and ``tau = 1/2`` for the absolute error).  The phases
(:mod:`.smoothing`, :mod:`.newton`, :mod:`.vertex`, :mod:`.certificate`) are
functions of this object; they append one entry per iteration to ``curve``
(objective) and ``lrs`` (step).
"""

from __future__ import annotations

import numpy as np

__all__ = ["PinballProblem", "pinball_sum"]


def pinball_sum(r, sn, tau, uniform):
    """``sum_i sn_i rho_tau(r_i)`` without temporaries the size of r."""
    if uniform:
        neg = np.minimum(r, 0.0)
        return float(tau * r.sum() - neg.sum()) * float(sn[0])
    return float(tau * (sn @ r) - sn @ np.minimum(r, 0.0))


class PinballProblem:
    """One output column: data, level, penalty and the iteration history."""

    def __init__(self, des, y, tau, alpha, scale, verbose):
        self.des = des
        self.y = y                      # working dtype
        # the targets of the float64 computations: y itself (a float32 y
        # enters them exactly, promoted by the float64 operands; no
        # float64 n-vector copy is held)
        self.y64 = y
        self.tau = tau
        self.alpha = alpha              # penalty of the pinball problem
        self.scale = scale              # objective = scale * pinball + alpha*scale/2 |w|^2
        self.verbose = verbose
        self.curve, self.lrs = [], []

    def objective(self, pin, w):
        """The objective from the weighted pinball sum ``pin`` and ``w``."""
        return self.scale * (pin + 0.5 * self.alpha * float(w @ w))

    def value(self, r, w, uniform=False):
        """The objective at the full-data residuals ``r`` and coefficients ``w``."""
        return self.objective(pinball_sum(r, self.des.sn, self.tau, uniform), w)

    def record(self, value, step=1.0):
        self.curve.append(value)
        self.lrs.append(float(step))

    def penalty_vector(self):
        """The penalty's diagonal in whitened coordinates ``(z, b')``."""
        des = self.des
        pen = self.alpha / des.g if self.alpha > 0 else np.zeros(des.rank)
        return np.append(pen, 0.0) if des.fit_intercept else pen
