"""Squared error: whitened gradient steps at ``1/L = 1``.

In coordinates where the design is white (``z = diag(g + alpha)^(1/2) V' w``)
the Hessian of ``sum sn (y - X_c w - b')^2 / 2 + alpha/2 |w|^2`` is the
identity, so one gradient step at ``1/L = 1`` is the exact (Newton)
solution; further steps refine round-off until the gap ``|grad|^2 / 2``
(exact for this quadratic) is at round-off level.
"""

from __future__ import annotations

import numpy as np

__all__ = ["REQUIRED_ATTRS", "solve"]

#: what this solver uses of the loss: its curvature must be exactly 1
#: everywhere (the half squared error), so that the whitened Hessian is I
REQUIRED_ATTRS = ("curvature",)


def solve(des, Y, loss, alpha, W, B_init, warm, max_iter, tol, verbose):
    """All outputs at once; returns ``(W, B, n_iter, curve, lrs, certified, converged)``."""
    k = Y.shape[1]
    W = des.V @ (des.V.T @ W)
    if not des.fit_intercept:
        Bc = np.zeros(k)
    elif B_init is None:
        Bc = (Y.T @ des.sn).astype(np.float64)
    else:
        Bc = B_init + des.xbar @ W
    # (out of core: Y as given, read-only, which a cluster keeps on its
    # workers; the blocks promote it to float64)
    W, Bc, n_iter, curve, lrs, cert = _steps(
        des, Y if des.blocked else Y.astype(np.float64), alpha, W, Bc, max_iter, tol, verbose)
    B = Bc - des.xbar @ W if des.fit_intercept else np.zeros(k)
    return W, B, n_iter, curve, lrs, cert, cert


def _steps(des, Y, alpha, W, B, max_iter, tol, verbose):
    """Whitened gradient steps at 1/L = 1 (each one is the exact solution)."""
    sn = des.sn
    inv = 1.0 / (des.g + alpha)
    curve, lrs = [], []
    F0 = None
    certified = False
    n_iter = 0
    max_steps = max(1, min(int(max_iter), 5))
    for it in range(max_steps + 1):
        off = B - des.xbar @ W
        if des.blocked:
            # one pass per step, no n-vector: the blocks reduce their residuals
            sq, XR, sR = des.squared_pass(Y, W, off)
            F = 0.5 * float(np.sum(sq)) + 0.5 * alpha * float(np.sum(W * W))
            Gw = -XR + alpha * W
            Gb = -sR
        else:
            R = Y - des.matvec(W, exact=True) - off
            F = 0.5 * float(np.sum(sn @ (R * R))) + 0.5 * alpha * float(np.sum(W * W))
            SR = R * sn[:, None]
            Gw = -des.rmatvec(SR, exact=True) + alpha * W
            Gb = -SR.sum(axis=0)
            del R, SR
        if it > 0:
            curve.append(F)
        Gz = np.sqrt(inv)[:, None] * (des.V.T @ Gw)
        gap = 0.5 * (float(np.sum(Gz * Gz)) + (float(np.sum(Gb * Gb)) if des.fit_intercept else 0.0))
        if F0 is None:
            F0 = F
        # for a quadratic with Hessian I the gap F - F* is exactly |grad|^2 / 2
        if gap <= tol * F + 1e-24 * F0 + np.finfo(float).tiny:
            certified = True
            break
        if it >= max_steps:
            break
        W = W - des.V @ (inv[:, None] * (des.V.T @ Gw))
        if des.fit_intercept:
            B = B - Gb
        n_iter += 1
        lrs.append(1.0)
        if verbose:
            print(f"[solve_linear] squared step {n_iter}: gradient gap {gap:.3e}")
    return W, B, n_iter, curve, lrs, certified
