"""Log-cosh: whitened FISTA at step ``1/L = 1``, then Newton.

``F = sum sn rho(r) + alpha/2 |w|^2`` with ``r = y - X_c w - b'`` and
``rho(r) = s^2 log cosh(r / s)`` (``s`` the loss's ``scale``).  The loss has
curvature at most 1, so in whitened coordinates (``z = diag(g +
alpha)^(1/2) V' w``) the smoothness constant is exactly ``L = 1``.  FISTA
(with gradient restarts) runs on the working dtype until the whitened
gradient has dropped a hundredfold (the Newton region of this loss); Newton
(float64, Hessian ``[X_c, 1]' diag(sn rho''(r)) [X_c, 1] + alpha``, exact
line search) then reaches a whitened gradient norm of ``1e-12`` (times the
scale when it is above 1: the gradient has the units of ``y``).

The column solver only uses the loss through ``rho``, ``psi = rho'`` and
``dpsi = rho''`` of the residual, so it also serves the Huber loss
(:mod:`.huber`), whose curvature is 1 as well.
"""

from __future__ import annotations

import math

import numpy as np

from .design import psd_solve
from .result import sum_curves

__all__ = ["REQUIRED_ATTRS", "solve"]

#: what this solver uses of the loss: its best constant (the starting
#: intercept), curvature 1 (the step ``1/L = 1``), the residual-space
#: functions ``rho``, ``psi``, ``dpsi`` and ``column(j)`` (the loss of one output)
REQUIRED_ATTRS = ("constant_raw", "curvature", "rho", "psi", "dpsi", "column")

# FISTA iterations before Newton at the latest
_FISTA_MAX = 50
# whitened gradient norm accepted as the optimum
_GTOL = 1e-12
# FISTA-then-Newton rounds at most
_ROUNDS = 20
# elements per chunk of the pointwise functions of the residuals (their
# temporaries stay small next to the n-vectors)
_CHUNK = 1 << 16
_EPS = float(np.finfo(np.float64).eps)


def _chunks(n):
    return ((i, min(i + _CHUNK, n)) for i in range(0, n, _CHUNK))


def chunked_dot(sn, f, *vecs):
    """``sum_i sn_i f(v1_i, v2_i, ...)`` evaluated chunk by chunk (float64)."""
    total = 0.0
    for i, j in _chunks(vecs[0].shape[0]):
        total += float(sn[i:j] @ f(*(v[i:j] for v in vecs)))
    return total


def chunked_map(sn, f, r):
    """``sn * f(r)`` (float64) written chunk by chunk into one n-vector."""
    out = np.empty(r.shape[0])
    for i, j in _chunks(r.shape[0]):
        np.multiply(sn[i:j], f(r[i:j]), out=out[i:j])
    return out


def solve(des, Y, loss, alpha, W, B_init, warm, max_iter, tol, verbose):
    """All outputs; returns ``(W, B, n_iter, curve, lrs, certified, converged)``."""
    return solve_columns(des, Y, loss, alpha, W, B_init, warm, max_iter, verbose)


def solve_columns(des, Y, loss, alpha, W, B_init, warm, max_iter, verbose, column=None):
    """:func:`solve` with the column solver class ``column`` (default :class:`_Column`)."""
    column = _Column if column is None else column
    k = Y.shape[1]
    B = np.zeros(k)
    curves, lrs0, cert_all = [], None, True
    assert loss.curvature == 1.0
    for j in range(k):
        col = column(des, Y[:, j], loss.column(j), alpha, verbose)
        w = des.project(W[:, j])
        if B_init is not None:
            b = des.centred_intercept(w, B_init[j])
        elif des.fit_intercept:
            r = des.residual(col.y64, w, 0.0)
            b = float(np.asarray(col.loss.constant_raw(r[:, None], des.sn)).ravel()[0])
        else:
            b = 0.0
        if warm and col.state(w, b, exact=True)[4] <= col.gtol:
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
    """One output column of the problem (log-cosh or Huber) and its history."""

    def __init__(self, des, y, loss, alpha, verbose):
        self.des = des
        self.loss = loss
        self.alpha = alpha
        # the gradient has the units of psi (of y for a scale above 1)
        self.gtol = _GTOL * max(1.0, float(loss.lipschitz))
        self.verbose = verbose
        self.y_dt = np.asarray(y, dtype=des.dtype)
        # (float32 targets enter the float64 passes exactly: no float64 copy)
        self.y64 = self.y_dt
        self.inv = 1.0 / (des.g + alpha)
        self.curve, self.lrs = [], []

    def state(self, w, b, exact):
        """Residuals, objective, gradient ``(gw, gb)`` and whitened gradient norm
        (the pointwise functions chunk by chunk: the residuals are the one
        n-vector that stays)."""
        des, sn, alpha = self.des, self.des.sn, self.alpha
        r = des.residual(self.y64 if exact else self.y_dt, w, b, exact=exact)
        F = chunked_dot(sn, self.loss.rho, r) + 0.5 * alpha * float(w @ w)
        v = chunked_map(sn, self.loss.psi, r)
        gw = -des.rmatvec(v, exact=exact) + alpha * w
        gb = -float(v.sum()) if des.fit_intercept else 0.0
        del v
        gz = np.sqrt(self.inv) * (des.V.T @ gw)
        return r, F, gw, gb, math.sqrt(float(gz @ gz) + gb * gb)

    def solve(self, w, b, max_iter):
        """FISTA, then Newton; where Newton stalls short of the tolerance (a
        singular Hessian: few residuals on the Huber loss's quadratic set),
        gradient steps at ``1/L`` resume, and Newton again."""
        budget, cert = max_iter, False
        for _ in range(_ROUNDS):
            w, b, budget = self.fista(w, b, budget)
            w, b, cert, budget = self.newton(w, b, budget)
            if cert or budget <= 0:
                break
        return w, b, cert

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
            r, F, gw, gb, gnorm = self.state(wy, by, exact=False)
            del r
            if g0 is None:
                g0 = gnorm
            if gnorm <= 1e-2 * g0 or gnorm <= self.gtol:
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

    def direction(self, r, gw, gb):
        """Newton direction ``(dw, db)`` in the coordinates ``(u, b')``, ``w = V u``."""
        des, alpha = self.des, self.alpha
        H = des.aug_gram(chunked_map(des.sn, self.loss.dpsi, r))
        pen = np.full(des.rank, alpha)
        if des.fit_intercept:
            pen = np.append(pen, 0.0)
        H[np.diag_indices_from(H)] += pen
        gu = des.V.T @ gw
        delta = -psd_solve(H, np.append(gu, gb) if des.fit_intercept else gu)
        return des.V @ delta[:des.rank], (float(delta[-1]) if des.fit_intercept else 0.0)

    def line_search(self, r, q, w, dw):
        """Exact line search on the convex ``phi(s) = F(x + s d)``.

        ``phi'`` is non-decreasing (piecewise linear for the Huber loss):
        Newton steps on it, kept inside a bisection bracket.
        """
        sn, alpha, loss = self.des.sn, self.alpha, self.loss
        ww, wd = float(w @ dw), float(dw @ dw)

        def d1(s):
            return -chunked_dot(sn, lambda rc, qc: loss.psi(rc - s * qc) * qc, r, q) + \
                alpha * (ww + s * wd)

        lo, hi = 0.0, 1.0
        if not d1(0.0) < 0:
            return 1.0
        while d1(hi) < 0 and hi < 1e6:
            lo, hi = hi, 2.0 * hi
        s = min(1.0, hi)
        for _ in range(60):
            g1 = d1(s)
            if g1 == 0:
                break
            if g1 < 0:
                lo = s
            else:
                hi = s
            d2 = chunked_dot(sn, lambda rc, qc: loss.dpsi(rc - s * qc) * (qc * qc), r, q) + \
                alpha * wd
            s_new = s - g1 / d2 if d2 > 0 else math.nan
            if not (lo < s_new < hi):
                s_new = 0.5 * (lo + hi)
            done = abs(s_new - s) <= 1e-12 * max(1.0, s)
            s = s_new
            if done or hi - lo <= 1e-14 * max(1.0, hi):
                break
        return s if (np.isfinite(s) and s > 0) else 1.0

    def newton(self, w, b, budget):
        """Newton steps (float64) to a whitened gradient norm of ``gtol``."""
        des = self.des
        r, F, gw, gb, gnorm = self.state(w, b, exact=True)
        certified = gnorm <= self.gtol
        if not self.curve:
            self.curve.append(F)
            self.lrs.append(1.0)
        while not certified and budget > 0:
            dw, db = self.direction(r, gw, gb)
            q = des.matvec(dw, exact=True)
            q -= float(des.xbar @ dw)
            q += db
            s = self.line_search(r, q, w, dw)
            del q
            new = self.state(w + s * dw, b + s * db, exact=True)
            # the round-off of F (a float64 sum of n terms): a change below
            # it is no evidence either way (near the optimum the decrease
            # |g|^2 / 2 of a Newton step is far below it)
            noise = (1e-15 + 4.0 * _EPS * math.sqrt(des.n)) * abs(F)
            if not new[1] <= F + noise:
                # backtracking on the Newton direction
                s = 0.5
                while s > 1e-10:
                    new = None
                    new = self.state(w + s * dw, b + s * db, exact=True)
                    if new[1] <= F + noise:
                        break
                    s *= 0.5
                if not new[1] <= F + noise:
                    break
            w, b = w + s * dw, b + s * db
            # no decrease of F and no progress of the gradient either
            stalled = F - new[1] <= 1e-16 * abs(new[1]) and not new[4] <= 0.5 * gnorm
            r, F, gw, gb, gnorm = new
            del new
            budget -= 1
            self.curve.append(F)
            self.lrs.append(float(s))
            if self.verbose > 1:
                print(f"[solve_linear] {self.loss.name} Newton: F={F:.15g} |g|={gnorm:.3e} "
                      f"step={s:.3g}")
            certified = gnorm <= self.gtol
            if stalled and not certified:
                # round-off floor: no further decrease possible
                certified = gnorm <= 1e3 * self.gtol
                break
        return w, b, certified, budget
