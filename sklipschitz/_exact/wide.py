"""Sparse designs with many columns: no ``d x d`` matrix, no dense ``n x d`` array.

:func:`~sklipschitz._exact.solve_linear` routes a sparse ``X`` with at least
``WIDE_SPARSE_MIN_FEATURES`` columns here.  Memory stays proportional to the
non-zeros of ``X`` (plus vectors of length ``n`` and ``d``).

* **Squared error**: LSQR (Paige & Saunders 1982) on the weighted, centred
  design as an implicit operator, ``min ||S^(1/2) (y_c - X_c w)||^2 +
  alpha ||w||^2`` (``damp = sqrt(alpha)``); started from zero it converges to
  the minimum-norm solution of a rank-deficient problem, as ``lstsq``.
  Converged (and certified) when LSQR's stopping test holds: a relative
  residual of the normal equations below ``1e-12``.
* **Pinball / absolute error**: when the rows can be interpolated (``n <=
  d + 1`` and ``alpha = 0``), LSQR's minimum-norm interpolant has zero loss,
  the optimum.  Otherwise FISTA on the smoothed loss in the original
  coordinates, at ``1/L`` with ``L = lambda_max([X, 1]' S [X, 1]) / mu +
  alpha`` (the Lanczos bound of :mod:`sklipschitz._engine.lipschitz`), then,
  for ``alpha = 0``, the exact finish: the LP restricted to the ``M`` points
  of smallest residual with the others globbed into two rows (Portnoy &
  Koenker 1997), solved by HiGHS, polished to its vertex.  It is the optimum
  of the full problem when every globbed point keeps the sign of its glob
  (LP duality: the reduced dual, extended by the bounds of the globbed
  points, is feasible for the full dual with the same value); otherwise the
  kept set grows.  For ``alpha > 0`` (a QP) FISTA continues to a width whose
  bias ``mu/8`` is below ``1e-8`` relative, or reports no convergence.
* **Log-cosh**: FISTA at ``1/L``, ``L = lambda_max([X, 1]' S [X, 1]) +
  alpha`` (curvature 1), until the gradient is below ``1e-10`` relative.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, lsqr

from .._engine.lipschitz import gram_top_eigenvalue
from .._engine.losses import weighted_quantile
from . import huber, logcosh, pinball, squared
from .result import sum_curves
from .vertex import lp_vertex

__all__ = ["solve"]

# FISTA on the smoothed pinball loss: widths relative to the mean absolute
# residual of the best constant, and iterations per width
_MU_SCHEDULE = (1.0, 0.3, 0.1, 0.03, 0.01)
_STEPS_PER_MU = 40
# rounds of the kept-set enlargement of the LP finish before the full LP
_LP_ROUNDS = 3
# LSQR stopping tolerances (relative residual of the normal equations)
_LSQR_TOL = 1e-12


def solve(X, Y, loss, module, sn, alpha, fit_intercept, W, B, max_iter, verbose):
    """All outputs; returns ``(W, B, n_iter, curve, lrs, certified, converged)``."""
    X = X.tocsr()
    prob = _Problem(X, sn, fit_intercept)
    k = Y.shape[1]
    B_out = np.zeros(k)
    curves, lrs0, cert_all, conv_all = [], None, True, True
    for j in range(k):
        y = np.asarray(Y[:, j], dtype=np.float64)
        b0 = None if B is None else float(B[j])
        if module is squared:
            w, b, curve, lrs, cert, conv = _squared(prob, y, alpha, W[:, j], max_iter)
        elif module is pinball:
            w, b, curve, lrs, cert, conv = _pinball(prob, y, loss, alpha, W[:, j], b0, max_iter,
                                                    verbose)
        else:  # log-cosh or Huber: smooth, curvature 1
            assert module is logcosh or module is huber
            w, b, curve, lrs, cert, conv = _logcosh(prob, y, loss.column(j), alpha, W[:, j], b0,
                                                    max_iter)
        W[:, j], B_out[j] = w, b
        curves.append(curve)
        lrs0 = lrs if j == 0 else lrs0
        cert_all &= cert
        conv_all &= conv
    return W, B_out, max(len(c) for c in curves), sum_curves(curves), lrs0, cert_all, conv_all


class _Problem:
    """The sparse design with its weights; products without densifying."""

    def __init__(self, X, sn, fit_intercept):
        self.X = X
        self.XT = X.T.tocsr()
        self.sn = sn
        self.n, self.d = X.shape
        self.fit_intercept = fit_intercept
        self.xbar = np.asarray(self.XT @ sn).ravel() if fit_intercept else np.zeros(self.d)
        self._L = None

    def predict(self, w, b):
        return np.asarray(self.X @ w).ravel() + b

    def gradient(self, v):
        """``(X' v, sum v)``: the gradient of a loss with derivative ``v`` (weighted)."""
        return np.asarray(self.XT @ v).ravel(), (float(v.sum()) if self.fit_intercept else 0.0)

    def lipschitz(self):
        """``lambda_max([X, 1]' S [X, 1])`` (a valid bound: Lanczos with a margin)."""
        if self._L is None:
            self._L = gram_top_eigenvalue(self.X, self.sn, self.fit_intercept)
        return self._L

    def centred_operator(self, with_intercept=False, weighted=True):
        """``S^(1/2) X_c`` (or ``[X, 1]`` unweighted) as a LinearOperator."""
        X, XT, xbar = self.X, self.XT, self.xbar
        root = np.sqrt(self.sn) if weighted else np.ones(self.n)
        if with_intercept:
            def mv(v):
                v = np.ravel(v)
                return np.asarray(X @ v[:-1]).ravel() + v[-1]

            def rmv(u):
                u = np.ravel(u)
                return np.append(np.asarray(XT @ u).ravel(), u.sum())

            return LinearOperator((self.n, self.d + 1), matvec=mv, rmatvec=rmv, dtype=np.float64)

        def mv(v):
            v = np.ravel(v)
            return root * (np.asarray(X @ v).ravel() - float(xbar @ v))

        def rmv(u):
            u = root * np.ravel(u)
            return np.asarray(XT @ u).ravel() - xbar * u.sum()

        return LinearOperator((self.n, self.d), matvec=mv, rmatvec=rmv, dtype=np.float64)


def _squared(prob, y, alpha, w0, max_iter):
    sn = prob.sn
    ybar = float(sn @ y) if prob.fit_intercept else 0.0
    rhs = np.sqrt(sn) * (y - ybar)
    out = lsqr(prob.centred_operator(), rhs, damp=math.sqrt(alpha), atol=_LSQR_TOL,
               btol=_LSQR_TOL, iter_lim=max(int(max_iter), 1), x0=w0 if np.any(w0) else None)
    w, istop = out[0], out[1]
    b = ybar - float(prob.xbar @ w) if prob.fit_intercept else 0.0
    r = y - prob.predict(w, b)
    F = 0.5 * float(sn @ (r * r)) + 0.5 * alpha * float(w @ w)
    ok = istop in (0, 1, 2)
    # the iterative solve counts as one step at 1/L = 1 (a Newton step)
    return w, b, [F], [1.0], ok, ok


def _fista(prob, grad_fn, value_fn, w, b, L, alpha, steps, stop=None):
    """FISTA with gradient restarts at the step ``1/L`` on ``(w, b)``."""
    w_prev, b_prev, t = w.copy(), b, 1.0
    curve = []
    for _ in range(steps):
        t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        mom = (t - 1.0) / t_next
        wy, by = w + mom * (w - w_prev), b + mom * (b - b_prev)
        r = prob.predict(wy, by)
        gw, gb = prob.gradient(grad_fn(r))
        gw = gw + alpha * wy
        curve.append(value_fn(r, wy))
        if stop is not None and stop(gw, gb):
            w, b = wy, by
            break
        w_new, b_new = wy - gw / L, by - gb / L
        if float(gw @ (w_new - w)) + gb * (b_new - b) > 0:
            t, w_prev, b_prev = 1.0, w_new, b_new
        else:
            t, w_prev, b_prev = t_next, w, b
        w, b = w_new, b_new
    return w, b, curve


def _logcosh(prob, y, loss, alpha, w, b0, max_iter):
    sn = prob.sn
    if b0 is None:
        b0 = 0.0
        if prob.fit_intercept:
            r = y - prob.predict(w, 0.0)
            b0 = float(np.asarray(loss.constant_raw(r[:, None], sn)).ravel()[0])
    L = prob.lipschitz() + alpha
    # (the gradient has the units of psi: of y for a scale above 1)
    gscale = (math.sqrt(L) + 1e-300) * max(1.0, float(loss.lipschitz))

    def grad(p):
        return -sn * loss.psi(y - p)

    def value(p, ww):
        return float(sn @ loss.rho(y - p)) + 0.5 * alpha * float(ww @ ww)

    def stop(gw, gb):
        return math.sqrt(float(gw @ gw) + gb * gb) <= 1e-10 * gscale

    w, b, curve = _fista(prob, grad, value, w, b0, L, alpha, max(int(max_iter), 1), stop)
    gw, gb = prob.gradient(grad(prob.predict(w, b)))
    ok = stop(gw + alpha * w, gb)
    curve.append(value(prob.predict(w, b), w))
    return w, b, curve, [1.0 / L] * len(curve), ok, ok


def _pinball(prob, y, loss, alpha, w, b0, max_iter, verbose):
    tau, scale = pinball.pinball_form(loss)
    sn = prob.sn
    ap = alpha / scale

    def value(p, ww):
        r = y - p
        return scale * (float(sn @ np.maximum(tau * r, (tau - 1.0) * r)) + 0.5 * ap * float(ww @ ww))

    if b0 is None:
        b0 = 0.0
        if prob.fit_intercept:
            b0 = float(weighted_quantile(y - prob.predict(w, 0.0), sn, tau)[0])
    p = prob.d + int(prob.fit_intercept)
    if ap == 0 and prob.n <= p:
        found = _interpolate(prob, y, value, b0)
        if found is not None:
            return found
    r = y - prob.predict(w, b0)
    s0 = float(sn @ np.abs(r)) + 1e-300
    curve, lrs, b = [], [], b0
    budget = max(int(max_iter), 1)
    mu = s0
    for f in _MU_SCHEDULE:
        mu = s0 * f
        L = prob.lipschitz() / mu + ap
        steps = min(_STEPS_PER_MU, budget)
        c = tau - 0.5

        def grad(q, mu=mu, c=c):
            return -sn * np.clip((y - q) / mu + c, tau - 1.0, tau)

        w, b, cv = _fista(prob, grad, value, w, b, L, ap, steps)
        curve += cv
        lrs += [1.0 / L] * len(cv)
        budget -= steps
        if budget <= 0:
            break
    if ap > 0:
        F = value(prob.predict(w, b), w)
        curve.append(F)
        lrs.append(lrs[-1] if lrs else 1.0)
        conv = scale * mu / 8 <= 1e-8 * max(F, 1e-300)
        return w, b, curve, lrs, False, conv
    w, b, cert = _lp_finish(prob, y, tau, w, b, verbose)
    curve.append(value(prob.predict(w, b), w))
    lrs.append(1.0)
    return w, b, curve, lrs, cert, cert


def _interpolate(prob, y, value, b0):
    """Zero loss by interpolation, when the rows allow it (``alpha = 0``)."""
    # [X, 1] (or X): the unweighted, uncentred design
    op = prob.centred_operator(with_intercept=prob.fit_intercept, weighted=False)
    sol = lsqr(op, y, atol=1e-14, btol=1e-14, iter_lim=10 * min(prob.n, prob.d) + 100)[0]
    w, b = (sol[:-1], float(sol[-1])) if prob.fit_intercept else (sol, 0.0)
    F = value(prob.predict(w, b), w)
    F0 = value(prob.predict(np.zeros(prob.d), b0), np.zeros(prob.d))
    # the optimum is 0: certified when the loss left is round-off
    if F <= 1e-12 * F0:
        return w, b, [F], [1.0], True, True
    return None


def _lp_finish(prob, y, tau, w, b, verbose):
    """Exact LP optimum by HiGHS on kept sets with globbing (``alpha = 0``)."""
    n, sn = prob.n, prob.sn
    r = y - prob.predict(w, b)
    M = max(20 * (prob.d + 1), n // 50)
    extra = np.zeros(0, dtype=np.intp)
    for rnd in range(_LP_ROUNDS + 1):
        if rnd == _LP_ROUNDS or M >= n // 2:
            K = np.arange(n)
        else:
            K = np.union1d(np.argpartition(np.abs(r), M)[:M], extra)
        out = np.ones(n, dtype=bool)
        out[K] = False
        beta = _reduced_lp(prob, y, tau, K, out, r > 0)
        if beta is None:
            break
        w_new, b_new = (beta[:-1], float(beta[-1])) if prob.fit_intercept else (beta, 0.0)
        r_new = y - prob.predict(w_new, b_new)
        keeps = np.all(np.where(r[out] > 0, r_new[out] > 0, r_new[out] < 0))
        if verbose:
            print(f"[solve_linear] sparse LP round {rnd}: kept {K.size} of {n}, "
                  f"globbed signs kept: {bool(keeps)}")
        if keeps:
            return w_new, b_new, True
        flipped = np.flatnonzero(out & ((r_new > 0) != (r > 0)))
        extra = flipped if flipped.size <= M else np.zeros(0, dtype=np.intp)
        w, b, r, M = w_new, b_new, r_new, 2 * M
    return w, b, False


def _reduced_lp(prob, y, tau, K, out, pos):
    """The dual LP of the kept rows plus two glob rows; the primal from its
    marginals, polished to the vertex it interpolates."""
    sn = prob.sn
    rows = [prob.X[K]]
    ys, ws = [y[K]], [sn[K]]
    for side in (out & pos, out & ~pos):
        s = float(sn[side].sum())
        if s > 0:
            v = np.where(side, sn, 0.0)
            rows.append(sp.csr_matrix(np.asarray(prob.XT @ v).ravel()[None, :] / s))
            ys.append([float(v @ y) / s])
            ws.append([s])
    A = sp.vstack(rows).tocsr()
    if prob.fit_intercept:
        A = sp.hstack([A, np.ones((A.shape[0], 1))]).tocsr()
    return lp_vertex(A, np.concatenate(ys), np.concatenate(ws), tau)
