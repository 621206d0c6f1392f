"""Log-cosh: whitened FISTA at step ``1/L = 1``, then Newton.

``F = sum sn logcosh(r) + alpha/2 |w|^2`` with ``r = y - X_c w - b'``.  The
loss has curvature at most 1, so in whitened coordinates (``z = diag(g +
alpha)^(1/2) V' w``) the smoothness constant is exactly ``L = 1``.  FISTA
(with gradient restarts) runs on the working dtype until the whitened
gradient has dropped a hundredfold (the Newton region of this loss); Newton
(float64, Hessian ``[X_c, 1]' diag(sn sech^2 r) [X_c, 1] + alpha``, exact
line search) then reaches a whitened gradient norm of ``1e-12``.
"""

from __future__ import annotations

import math

import numpy as np

from .._engine.losses import log_cosh
from .design import psd_solve
from .result import sum_curves

__all__ = ["REQUIRED_ATTRS", "solve"]

#: what this solver uses of the loss: its best constant (the starting
#: intercept) and curvature 1 (the step ``1/L = 1``)
REQUIRED_ATTRS = ("constant_raw", "curvature")

# FISTA iterations before Newton at the latest
_FISTA_MAX = 50
# whitened gradient norm accepted as the optimum
_GTOL = 1e-12


def solve(des, Y, loss, alpha, W, B_init, warm, max_iter, tol, verbose):
    """All outputs; returns ``(W, B, n_iter, curve, lrs, certified, converged)``."""
    k = Y.shape[1]
    B = np.zeros(k)
    curves, lrs0, cert_all = [], None, True
    for j in range(k):
        col = _Column(des, Y[:, j], alpha, verbose)
        w = des.project(W[:, j])
        if B_init is not None:
            b = des.centred_intercept(w, B_init[j])
        elif des.fit_intercept:
            r = des.residual(col.y64, w, 0.0)
            b = float(np.asarray(loss.constant_raw(r[:, None], des.sn)).ravel()[0])
        else:
            b = 0.0
        if warm and col.state(w, b, exact=True)[5] <= _GTOL:
            # a warm start at the optimum returns at once
            cert = True
        else:
            w, b, cert = col.solve(w, b, max_iter)
        W[:, j] = w
        B[j] = des.raw_intercept(w, b)
        curves.append(col.curve)
        if j == 0:
            lrs0 = col.lrs
        cert_all &= cert
    return W, B, max(len(c) for c in curves), sum_curves(curves), lrs0, cert_all, cert_all


class _Column:
    """One output column of the log-cosh problem and its history."""

    def __init__(self, des, y, alpha, verbose):
        self.des = des
        self.alpha = alpha
        self.verbose = verbose
        self.y64 = np.asarray(y, dtype=np.float64)
        self.y_dt = np.asarray(y, dtype=des.dtype)
        self.inv = 1.0 / (des.g + alpha)
        self.curve, self.lrs = [], []

    def state(self, w, b, exact):
        """Residuals, objective, tanh, gradient and whitened gradient norm."""
        des, sn, alpha = self.des, self.des.sn, self.alpha
        r = des.residual(self.y64 if exact else self.y_dt, w, b, exact=exact)
        F = float(sn @ log_cosh(r)) + 0.5 * alpha * float(w @ w)
        th = np.tanh(r)
        v = sn * th
        gw = -des.rmatvec(v, exact=exact) + alpha * w
        gb = -float(v.sum()) if des.fit_intercept else 0.0
        gz = np.sqrt(self.inv) * (des.V.T @ gw)
        return r, F, th, gw, gb, math.sqrt(float(gz @ gz) + gb * gb)

    def solve(self, w, b, max_iter):
        w, b, budget = self.fista(w, b, max_iter)
        return self.newton(w, b, budget)

    def fista(self, w, b, budget):
        """FISTA at step 1 until the whitened gradient dropped a hundredfold."""
        des = self.des
        w_prev, b_prev, t = w.copy(), b, 1.0
        g0 = None
        k = 0
        while budget > 0 and k < _FISTA_MAX:
            t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            mom = (t - 1.0) / t_next
            wy, by = w + mom * (w - w_prev), b + mom * (b - b_prev)
            r, F, th, gw, gb, gnorm = self.state(wy, by, exact=False)
            if g0 is None:
                g0 = gnorm
            if gnorm <= 1e-2 * g0 or gnorm <= _GTOL:
                w, b = wy, by
                break
            w_new = wy - des.V @ (self.inv * (des.V.T @ gw))
            b_new = by - gb
            if float(gw @ (w_new - w)) + gb * (b_new - b) > 0:
                t, w_prev, b_prev = 1.0, w_new, b_new
            else:
                t, w_prev, b_prev = t_next, w, b
            w, b = w_new, b_new
            self.curve.append(F)      # objective at the point the step was taken from
            self.lrs.append(1.0)
            budget -= 1
            k += 1
        return w, b, budget

    def direction(self, th, gw, gb):
        """Newton direction ``(dw, db)`` in the coordinates ``(u, b')``, ``w = V u``."""
        des, alpha = self.des, self.alpha
        H = des.aug_gram(des.sn * (1.0 - th * th))
        pen = np.full(des.rank, alpha)
        if des.fit_intercept:
            pen = np.append(pen, 0.0)
        H[np.diag_indices_from(H)] += pen
        gu = des.V.T @ gw
        delta = -psd_solve(H, np.append(gu, gb) if des.fit_intercept else gu)
        return des.V @ delta[:des.rank], (float(delta[-1]) if des.fit_intercept else 0.0)

    def line_search(self, r, q, w, dw):
        """Exact line search: Newton on the smooth convex ``phi(s) = F(x + s d)``."""
        sn, alpha = self.des.sn, self.alpha
        ww, wd = float(w @ dw), float(dw @ dw)
        s = 1.0
        for _ in range(30):
            tt = np.tanh(r - s * q)
            d1 = -float(sn @ (tt * q)) + alpha * (ww + s * wd)
            d2 = float(sn @ ((1.0 - tt * tt) * (q * q))) + alpha * wd
            if not d2 > 0:
                break
            s_new = min(max(s - d1 / d2, 0.0), 4.0 * max(s, 1.0))
            done = abs(s_new - s) <= 1e-12 * max(1.0, s)
            s = s_new
            if done:
                break
        return s if (np.isfinite(s) and s > 0) else 1.0

    def newton(self, w, b, budget):
        """Newton steps (float64) to a whitened gradient norm of ``1e-12``."""
        des = self.des
        r, F, th, gw, gb, gnorm = self.state(w, b, exact=True)
        certified = gnorm <= _GTOL
        if not self.curve:
            self.curve.append(F)
            self.lrs.append(1.0)
        while not certified and budget > 0:
            dw, db = self.direction(th, gw, gb)
            q = des.matvec(dw, exact=True) - float(des.xbar @ dw) + db
            s = self.line_search(r, q, w, dw)
            new = self.state(w + s * dw, b + s * db, exact=True)
            if not new[1] <= F + 1e-15 * abs(F):
                # backtracking on the Newton direction
                s = 0.5
                while s > 1e-10:
                    new = self.state(w + s * dw, b + s * db, exact=True)
                    if new[1] <= F:
                        break
                    s *= 0.5
                if not new[1] <= F:
                    break
            w, b = w + s * dw, b + s * db
            stalled = F - new[1] <= 1e-16 * abs(new[1])
            r, F, th, gw, gb, gnorm = new
            budget -= 1
            self.curve.append(F)
            self.lrs.append(float(s))
            if self.verbose > 1:
                print(f"[solve_linear] log_cosh Newton: F={F:.15g} |g|={gnorm:.3e} step={s:.3g}")
            certified = gnorm <= _GTOL
            if stalled and not certified:
                # round-off floor: no further decrease possible
                certified = gnorm <= 1e-9
                break
        return w, b, certified
