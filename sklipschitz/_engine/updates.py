"""Parameter updates: given gradients and a rate, move the weights.

Each update is a small object with ``init(params) -> state`` and
``update(params, grads, lr, state) -> state``; the weights are changed in
place and the state is explicit, so the loop owns it (``partial_fit``
carries it between calls).  ``lr`` has one of the shapes of
:mod:`sklipschitz._engine.steps`: a float, a per-column array (broadcast
along every parameter's last axis) or a list with one rate per parameter.
Updates whose state is per column also implement ``restrict(state, keep)``.

:class:`IterateAverage` is not an update: it keeps a weighted mean of
the iterates an update produces (the loop's ``averaging`` slot, a network's
weight average).
"""

from __future__ import annotations

import numpy as np


def per_parameter(lr, n):
    """The rate of each of ``n`` parameters."""
    return lr if isinstance(lr, list) else [lr] * n


class SGD:
    """``w <- w - lr * g``."""

    def init(self, params):
        return None

    def update(self, params, grads, lr, state):
        for p, g, r in zip(params, grads, per_parameter(lr, len(params))):
            if isinstance(r, np.ndarray):
                r = r.astype(p.dtype, copy=False)
            p -= r * g
        return state

    def restrict(self, state, keep):
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
        for p, g, v, r in zip(params, grads, state["v"], per_parameter(lr, len(params))):
            v *= self.beta
            v += (1.0 - self.beta) * g
            p -= (r / corr) * v
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
        rates = per_parameter(lr, len(params))
        for p, g, m, v, r in zip(params, grads, state["m"], state["v"], rates):
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * g * g
            p -= r * (m / c1) / (np.sqrt(v / c2) + self.epsilon)
        return state


class Nesterov:
    """Nesterov's accelerated gradient with adaptive restart, per column.

    The parameters ``[W, b]`` hold the extrapolated point ``y_k``; the update
    takes the gradient step ``x_{k+1} = y_k - lr g(y_k)`` and extrapolates
    ``y_{k+1} = x_{k+1} + (t_k - 1)/t_{k+1} (x_{k+1} - x_k)`` (FISTA momentum).
    A column's momentum restarts whenever its gradient points along its last
    move (``g(y_k)' (x_{k+1} - x_k) > 0``, O'Donoghue & Candes 2015), which
    keeps the method robust on non-convex objectives.
    """

    def init(self, params):
        n_cols = params[0].shape[-1]
        return {"x": [np.array(p, copy=True) for p in params], "t": np.ones(n_cols)}

    def update(self, params, grads, lr, state):
        rates = per_parameter(lr, len(params))
        x_old = state["x"]
        x_new = [y - r * g for y, g, r in zip(params, grads, rates)]
        inner = 0.0
        for g, a, b in zip(grads, x_new, x_old):
            d = np.asarray(a - b, dtype=np.float64)
            g = np.asarray(g, dtype=np.float64)
            inner = inner + (g * d if g.ndim == 1 else np.einsum("ij,ij->j", g, d))
        t = np.where(inner > 0, 1.0, state["t"])
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        beta = (t - 1.0) / t_next
        for p, a, b in zip(params, x_new, x_old):
            p[...] = a + beta * (a - b)
        state["x"] = x_new
        state["t"] = t_next
        return state

    def restrict(self, state, keep):
        return {"x": [p[..., keep] for p in state["x"]], "t": state["t"][keep]}


#: the schedules of :class:`IterateAverage`
AVERAGE_SCHEDULES = ("uniform", "polynomial", "exponential")


class IterateAverage:
    """A running average of the iterates, with an explicit schedule.

    The one average of the engine: the loop's ``averaging`` slot (one term
    per step: ``LipschitzRegressor(average=...)``) and a network's weight
    average (one term per accepted epoch, taken by the stopping rule:
    ``SymNetRegressor(average_weights=...)``).  ``accumulate(state, params)``
    adds a term; ``value(state)`` is the average (None before the first
    term).  Its state lives on the :class:`~sklipschitz._engine.loop.TrainState`,
    as plain values saved with it: the arrays ``state.average_params`` and
    the number of terms ``state.n_averaged`` (``t`` below).  The iterates
    themselves are not changed.  Schedules, with ``w_t`` the ``t``-th term:

    * ``'uniform'``: the mean of the terms (Polyak & Juditsky 1992),
      ``w_bar_t = w_bar_{t-1} + (w_t - w_bar_{t-1}) / t``.
    * ``'polynomial'``: polynomial-decay averaging (Shamir & Zhang 2013),
      ``w_bar_t = (1 - c_t) w_bar_{t-1} + c_t w_t`` with
      ``c_t = (eta + 1) / (t + eta)`` (``c_1 = 1``: the first term itself).
      The weight of term ``s`` in ``w_bar_t`` is ``(eta + 1) prod_{k=1}^{eta}
      (s + k - 1) / prod_{k=0}^{eta} (t + k)`` (integer ``eta``), about
      ``(eta + 1) s^eta / t^(eta + 1)``: a suffix average in O(1) memory,
      whose weights favour the last steps and forget the early iterates, far
      from the optimum, as the step count grows.  ``eta = 0`` is
      ``'uniform'``.  Subgradient steps ``~ 1/sqrt(t)`` come with a
      guarantee for such averages, not for the last iterate (Rakhlin, Shamir
      & Sridharan 2012; Shamir & Zhang 2013).
    * ``'exponential'``: the bias-corrected exponential moving average
      (the "temporal averaging" of Kingma & Ba, *Adam*, ICLR 2015, section
      7.2): the state holds ``m_t = d m_{t-1} + (1 - d) w_t`` from
      ``m_0 = 0`` and the average is ``m_t / (1 - d^t)``, ``d = decay``.

    Terms are counted from the loop's step ``start`` on (``state.t >=
    start``).  A term with a non-finite entry (a step that overflowed: the
    loop's guard restores the weights and stops) is left out, so that the
    average keeps the finite iterates only.
    """

    def __init__(self, schedule="uniform", *, eta=None, decay=None, start=1):
        if schedule not in AVERAGE_SCHEDULES:
            raise ValueError(f"schedule must be one of {AVERAGE_SCHEDULES}; got {schedule!r}")
        for name, value, owner in (("eta", eta, "polynomial"), ("decay", decay, "exponential")):
            if (value is None) == (schedule == owner):
                raise ValueError(f"{name} is the parameter of the {owner!r} schedule (and "
                                 f"only of it); got {name}={value!r} with {schedule!r}")
        if schedule == "polynomial" and not eta >= 0:
            raise ValueError(f"eta must be >= 0; got {eta!r}")
        if schedule == "exponential" and not 0 < decay < 1:
            raise ValueError(f"decay must be in (0, 1); got {decay!r}")
        self.schedule = schedule
        self.eta = 0 if eta is None else eta  # 'uniform': c_t = 1 / t
        self.decay = decay
        self.start = int(start)

    def accumulate(self, state, params):
        """Add ``params`` (a list of arrays) as the next term of the average."""
        if state.t < self.start or not all(np.isfinite(p).all() for p in params):
            return
        if state.average_params is None:
            state.average_params = [np.zeros_like(p) for p in params]
            state.n_averaged = 0
        state.n_averaged += 1
        if self.schedule == "exponential":
            d = self.decay
            for a, p in zip(state.average_params, params):
                a *= d
                a += (1.0 - d) * p
            return
        c = (self.eta + 1.0) / (state.n_averaged + self.eta)
        for a, p in zip(state.average_params, params):
            a += c * (p - a)

    def value(self, state):
        """The average of the terms added so far (None: no term yet).

        The running mean of ``'uniform'`` and ``'polynomial'`` is the state
        itself (not a copy); ``'exponential'`` returns new arrays."""
        if state.average_params is None:
            return None
        if self.schedule == "exponential":
            correction = 1.0 - self.decay ** state.n_averaged
            return [a / correction for a in state.average_params]
        return state.average_params

    @staticmethod
    def saved(state):
        """A copy of the average's state (None: no term yet), for :meth:`restore`."""
        if state.average_params is None:
            return None
        return [a.copy() for a in state.average_params], state.n_averaged

    @staticmethod
    def restore(state, saved):
        """Set the average's state to ``saved`` (from :meth:`saved`; None: no term)."""
        state.average_params, state.n_averaged = (None, 0) if saved is None else saved


UPDATES = {"sgd": SGD, "momentum": Momentum, "adam": Adam, "nesterov": Nesterov}
# the name the estimators' ``optimizer`` parameter uses
OPTIMIZERS = UPDATES
