"""Huber: whitened FISTA at step ``1/L = 1``, then Newton on the quadratic set.

``F = sum sn rho_eps(r) + alpha/2 |w|^2`` with ``r = y - X_c w - b'`` and
``rho_eps(r) = r^2/2`` for ``|r| <= eps``, ``eps |r| - eps^2/2`` beyond.  The
loss is smooth with curvature exactly 1 (``rho'' = 1`` on the quadratic set
``Q = {|r| <= eps}``, 0 outside), so in whitened coordinates (``z = diag(g +
alpha)^(1/2) V' w``) the smoothness constant of ``F`` is 1 and FISTA takes
steps of exactly ``1/L = 1``.  Once the residuals are near their final sides
of ``+-eps``, a Newton step (Hessian ``[X_c, 1]' diag(sn 1_Q) [X_c, 1] +
alpha``) minimises the piecewise quadratic ``F`` on the current pattern
exactly; an exact line search along it (``phi'`` is piecewise linear and
non-decreasing: safeguarded Newton inside a bisection bracket) keeps every
step a descent step, and a few steps settle the pattern.  The optimum is
certified by the whitened gradient norm (``F`` is differentiable):
``<= 1e-12 max(1, eps)``.  When the Hessian is singular (few residuals in
``Q``, no penalty), FISTA steps resume and Newton is tried again.

The column solver is the one of :mod:`.logcosh`: both losses are smooth with
curvature 1 and it uses them only through ``rho``, ``psi = rho'`` and
``dpsi = rho''`` of the residual.  This module states what it needs of the
Huber loss object.
"""

from __future__ import annotations

from . import logcosh

__all__ = ["REQUIRED_ATTRS", "solve"]

#: what this solver uses of the loss: its best constant (the starting
#: intercept), curvature 1 (the step ``1/L = 1``), the residual-space
#: functions and the loss of one output column (one ``epsilon`` per output)
REQUIRED_ATTRS = ("constant_raw", "curvature", "rho", "psi", "dpsi", "column", "epsilon")


def solve(des, Y, loss, alpha, W, B_init, warm, max_iter, tol, verbose):
    """All outputs; returns ``(W, B, n_iter, curve, lrs, certified, converged)``."""
    return logcosh.solve(des, Y, loss, alpha, W, B_init, warm, max_iter, tol, verbose)
