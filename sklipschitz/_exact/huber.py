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
``dpsi = rho''`` of the residual; only the Newton system differs.  Its
Hessian is the design's Gram matrix (whose eigendecomposition the
whitening already holds: ``V' X_c' S X_c V = diag(g)``) minus the rows
outside the quadratic set, so it costs ``O(|out| d^2)`` instead of
``O(n d^2)`` while fewer than half of the residuals are beyond ``eps``.
"""

from __future__ import annotations

import numpy as np

from . import logcosh
from .design import psd_solve

__all__ = ["REQUIRED_ATTRS", "solve"]

#: what this solver uses of the loss: its best constant (the starting
#: intercept), curvature 1 (the step ``1/L = 1``), the residual-space
#: functions and the loss of one output column (one ``epsilon`` per output)
REQUIRED_ATTRS = ("constant_raw", "curvature", "rho", "psi", "dpsi", "column", "epsilon")

# rows per product of the Gram matrix of the rows outside Q
_ROWS_BLOCK = 4096
# out of core, the rows outside Q are gathered while their float64 whitened
# copy is at most this share of the size of X
_ROWS_SHARE = 0.125


def solve(des, Y, loss, alpha, W, B_init, warm, max_iter, tol, verbose):
    """All outputs; returns ``(W, B, n_iter, curve, lrs, certified, converged)``."""
    return logcosh.solve_columns(des, Y, loss, alpha, W, B_init, warm, max_iter, verbose,
                                 column=_Column)


class _Column(logcosh._Column):
    """One output of the Huber problem: the Newton system from the Gram matrix
    minus the rows outside the quadratic set."""

    def direction(self, r, gw, gb):
        des, alpha = self.des, self.alpha
        out = np.flatnonzero(np.abs(r) > self.loss.epsilon)
        p = des.rank + int(des.fit_intercept)
        if des.rank == 0 or out.size > des.n // 2 or (
                des.blocked and out.size * p * 8 > _ROWS_SHARE * des.n * des.d * des.dtype.itemsize):
            # (out of core, the gathered rows must stay small next to X;
            # the Gram matrix is one pass either way)
            return super().direction(r, gw, gb)
        # (x_i - xbar) V for the rows outside Q, from the whitened rows,
        # and their weighted Gram matrix block by block (no scaled copy)
        Z = des.rows(out)[:, :des.rank]
        Z *= np.sqrt(des.g)
        s_out = des.sn[out]
        ZSZ, m = np.zeros((des.rank, des.rank)), np.zeros(des.rank)
        for i in range(0, out.size, _ROWS_BLOCK):
            Zs = Z[i:i + _ROWS_BLOCK] * s_out[i:i + _ROWS_BLOCK, None]
            ZSZ += Z[i:i + _ROWS_BLOCK].T @ Zs
            m -= Zs.sum(axis=0)
        del Z
        H = np.empty((p, p))
        H[:des.rank, :des.rank] = np.diag(des.g) - ZSZ
        H[np.diag_indices(des.rank)] += alpha
        if des.fit_intercept:
            # the column of ones: X_c' sn = 0 by the centring, sum(sn) = 1
            H[:-1, -1] = m
            H[-1, :-1] = m
            H[-1, -1] = 1.0 - float(s_out.sum())
        gu = des.V.T @ gw
        delta = -psd_solve(H, np.append(gu, gb) if des.fit_intercept else gu)
        return des.V @ delta[:des.rank], (float(delta[-1]) if des.fit_intercept else 0.0)
