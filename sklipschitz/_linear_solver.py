"""Fast, exact full-batch solver for linear models.

Minimises, separately for every output column ``k``,

``F(W, b) = sum_i s_i loss(y_ik, x_i W_k + b_k) / sum_i s_i + alpha/2 ||W||_F^2``

(the intercept is not penalised) for the squared, absolute, pinball (quantile)
and log-cosh losses, and certifies the optimum.

1. **Whitening.**  One pass over the data gives the weighted Gram matrix
   ``G`` of the (centred, when fitting an intercept) design and its
   eigendecomposition ``G = V diag(g) V'``.  Gradient steps are taken in
   coordinates where the design is white (``z = diag(g + a)^(1/2) V' w``,
   intercept untouched), where the smoothness constant of the problem is
   known exactly, and every gradient step is at exactly ``1/L``: ``L = 1`` for
   the squared and log-cosh losses (``a = alpha``), ``L = 1/mu`` for the
   pinball loss smoothed at width ``mu`` (``a = alpha mu``).  Directions with
   ``g = 0`` (constant or duplicated columns, ``n < d``) are dropped, which
   gives the minimum-norm solution, as ``LinearRegression`` / ``lstsq``.
2. **Squared error.**  The whitened Hessian is the identity: one gradient
   step at ``1/L = 1`` is the exact (Newton) solution; further steps refine
   round-off until the gap ``|grad|^2 / 2`` (exact for this quadratic) is
   at round-off level.
3. **Pinball / absolute error** (absolute error = 2 x pinball(0.5)).

   a. FISTA (Beck & Teboulle) with gradient-test restarts (O'Donoghue &
      Candes) on the Moreau envelope of the pinball loss shifted so that its
      quadratic zone is ``|r| < mu/2`` (``psi = clip(r/mu + tau - 1/2,
      tau - 1, tau)``), at step ``mu = 1/L``, for ``mu = s0 (1, 0.3)``
      (``s0`` the mean absolute residual of the best constant), 10 steps
      each.  The smoothed problem's condition number is about one over the
      fraction of points in the zone, so FISTA is efficient while the zone
      is wide and slow once it is narrow (extreme quantiles: hopeless).
   b. Semismooth Newton (generalised Hessian: the Gram matrix of the zone
      points, cheap because they are few; exact line search on the
      piecewise-quadratic objective), with ``mu`` shrunk until about ``M/2``
      points are in the zone; each width ends at the exact smoothed
      minimiser (a full step that keeps the zone).  It runs on the whole
      data set, or, when that is large, on the 20% of points of smallest
      ``|r|`` with the others globbed as in (c).
   c. Exact finish: keep the ``M = max(20 p, n/50)`` points of smallest
      ``|r|`` and merge the others into two pseudo-rows by residual sign
      ("globbing", Portnoy & Koenker 1997).  On that small problem: Newton
      continuation in ``mu``, then, for ``alpha = 0``, the exact
      piecewise-linear path of the smoothed solution down to ``mu = 0``
      (each event a point entering or leaving the zone), ending at the LP
      vertex; for ``alpha > 0`` (a QP) the exact solution of the KKT system
      of the partition found, corrected by an active-set loop for ties.
      HiGHS (``scipy.optimize.linprog``) is only a fallback of the LP case.
   d. Certificate: all residuals are recomputed and the KKT conditions of
      the *full* problem are checked in float64: with the residual signs
      fixed, a dual vector in the box ``[tau - 1, tau]`` must exist for the
      zero-residual points (a small least-squares solve, an LP for ties).
      If a point outside the kept set changed sign, the kept set grows
      around the new point and the finish is repeated.
4. **Log-cosh.**  Whitened FISTA at step 1 (= ``1/L``) with restarts until
   the gradient has dropped a hundredfold, then Newton (Hessian
   ``[X_c, 1]' diag(s sech^2) [X_c, 1]``, exact line search) to a whitened
   gradient norm of ``1e-12``.

Sparse ``X`` (CSR/CSC) is never densified; only ``d x d`` matrices and the
rows of the kept set are dense.  ``float32`` data stay ``float32`` in the
passes over the data; the exact finish and the certificate use ``float64``.
The passes run with one BLAS thread for narrow designs (``d < 128``).
"""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

__all__ = ["LinearSolution", "solve_linear"]

# FISTA schedule for the smoothed pinball loss: widths relative to s0 and
# iterations per width
_MU_SCHEDULE = (1.0, 0.3)
_STEPS_PER_MU = 10
# semismooth Newton on the whole data set: first width (zone of about this
# fraction of the points), number of widths, steps per width
_FULL_NEWTON_START = 0.05
_FULL_NEWTON_LEVELS = 6
_FULL_NEWTON_STEPS = 20
# fraction of the points kept (the rest globbed) for that Newton phase on large
# data sets
_WIDE_BAND = 0.2
# continuation factor of the exact finish and its number of levels
_FINISH_MU_FACTOR = 0.1
_FINISH_MAX_LEVELS = 40
_NEWTON_MAX_STEPS = 50
# rounds of the kept-set enlargement before the whole data set is kept
_MAX_ROUNDS = 4
# relative tolerance of the dual box in the certificate
_BOX_TOL = 1e-9
# largest X (in elements) copied to column-major order for the passes
_MAX_COPY = 100_000_000
# X larger than this (bytes) is read in row blocks, each block used for both
# products of an iteration while it is in cache
_FUSE_BYTES = 16 << 20
# rows per block when a dense pass is done in float64 blocks
_BLOCK = 8192
# FISTA iterations of the log-cosh loss before Newton at the latest
_LOGCOSH_FISTA_MAX = 50


@dataclass
class LinearSolution:
    """Result of :func:`solve_linear`.

    Attributes
    ----------
    coef : ndarray of shape (n_features, n_outputs)
        Coefficients, in the dtype of ``X``.
    intercept : ndarray of shape (n_outputs,)
    n_iter : int
        Iterations (the maximum over outputs); ``len(loss_curve)``.  0 when a
        warm start is already certified optimal.
    loss_curve : list of float
        One entry per iteration: the objective (original coordinates,
        penalty included, the exact loss, not its smoothing), summed over
        outputs (an output that stopped earlier contributes its final
        value).  For a FISTA step it is the value at the (extrapolated)
        point whose gradient the step uses; for Newton steps, the squared
        loss and the exact finish it is the value reached.  The last entry
        is the objective of the returned coefficients.
    learning_rate_history : list of float
        The step of each iteration of output 0, in the solver's
        coordinates.  For gradient steps it is exactly ``1/L`` of the
        problem stepped on (``1`` for the squared and log-cosh losses,
        ``mu`` for the pinball loss smoothed at width ``mu``).  Newton steps
        are gradient steps in coordinates whitened by the local Hessian,
        where ``L = 1``: their entry is the step length along the Newton
        direction (1.0 for a full step).  A round of the exact finish (the
        jump to the vertex / KKT point of the kept set) counts as a full
        step, 1.0.
    converged : bool
        The solver met its stopping rule (certified, or for the penalised
        pinball problem without a certificate: a smoothed problem solved
        exactly at a width whose objective bias ``mu/8`` is below ``1e-8``
        relative).
    certified : bool
        True when optimality was certified: the KKT conditions of the full
        problem were verified in float64 (exact vertex / active-set check
        for the pinball and absolute losses; whitened gradient at round-off
        level, ``<= 1e-12`` for log-cosh, ``|grad|^2/2 <= tol F`` for the
        squared loss).
    """

    coef: np.ndarray
    intercept: np.ndarray
    n_iter: int
    loss_curve: list = field(default_factory=list)
    learning_rate_history: list = field(default_factory=list)
    converged: bool = False
    certified: bool = False


# ----------------------------------------------------------------------------
# The design: passes over X, Gram matrix, whitening
# ----------------------------------------------------------------------------


class _Design:
    """``X`` with weights, its centring and the eigendecomposition of its Gram.

    ``X_c = X - 1 xbar'`` (``xbar = 0`` without intercept) is never formed.
    ``G = X_c' diag(sn) X_c`` with ``sn = s / sum(s)``; ``G = V diag(g) V'``
    restricted to the eigenvalues above round-off.
    """

    def __init__(self, X, sn, fit_intercept, uniform):
        self.X = X
        self.sparse = sp.issparse(X)
        self.dtype = X.dtype
        self.n, self.d = X.shape
        self.sn = sn
        self.uniform = uniform
        self.fit_intercept = fit_intercept
        self.xbar = np.zeros(self.d)
        if fit_intercept:
            # float64 accumulation, without a float64 copy of a float32 X
            self.xbar = self.rmatvec(sn, exact=True) if self.dtype != np.float64 else \
                np.asarray(X.T @ sn, dtype=np.float64).ravel()
        G = self._gram(sn)
        self.g_max = float(np.max(np.diag(G))) if self.d else 0.0
        if self.d and self.g_max > 0:
            g, V = sla.eigh(G, check_finite=False)
            thr = max(g[-1], 0.0) * max(self.d, 8) * 64 * np.finfo(np.float64).eps
            keep = g > thr
            self.g = g[keep].copy()
            self.V = np.ascontiguousarray(V[:, keep])
        else:
            self.g = np.zeros(0)
            self.V = np.zeros((self.d, 0))
        self.rank = self.g.size
        # whitened coordinates of the exact finish: w = T z, T = V g^(-1/2)
        self.T = self.V / np.sqrt(self.g) if self.rank else self.V
        self.p = self.rank + int(fit_intercept)

    def prefer_columns(self):
        """Use a column-major copy of a dense row-major X for the passes.

        ``X @ w`` with a narrow row-major float32 X runs as short dot products
        per row, about three times slower than streaming the columns (float64
        gains ~10% only, not worth the copy).  Worth one copy when many
        passes follow.
        """
        X = self.X
        if (not self.sparse and self.d > 1 and X.dtype == np.float32 and X.flags.c_contiguous
                and not X.flags.f_contiguous and X.size <= _MAX_COPY):
            self.X = np.asfortranarray(X)

    # -- passes over the data -------------------------------------------------
    def _gram(self, v):
        """``X_c' diag(v) X_c`` in float64 (``v >= 0``)."""
        X, d = self.X, self.d
        if self.sparse:
            X64 = X.astype(np.float64)
            G = np.asarray((X64.T @ X64.multiply(v[:, None]).tocsc()).toarray())
            if self.fit_intercept:
                m = np.asarray(X64.T @ v).ravel()
                sv = v.sum()
                G -= np.outer(m, self.xbar) + np.outer(self.xbar, m)
                G += sv * np.outer(self.xbar, self.xbar)
            return 0.5 * (G + G.T)
        G = np.zeros((d, d))
        # equal weights (the common case): one temporary per block, scaled
        # at the end
        const = v.size > 0 and bool(np.all(v == v[0]))
        sq = None if const else np.sqrt(v)
        for i in range(0, self.n, _BLOCK):
            xb = X[i:i + _BLOCK]
            if self.fit_intercept:
                xb = xb - self.xbar           # float64 result
            elif xb.dtype != np.float64:
                xb = xb.astype(np.float64)
            if not const:
                xb = xb * sq[i:i + _BLOCK, None]
            G += xb.T @ xb
        if const:
            G *= float(v[0])
        return 0.5 * (G + G.T)

    def aug_gram(self, v):
        """``[X_c, 1]' diag(v) [X_c, 1]`` restricted to span(V) (float64)."""
        G = self.V.T @ self._gram(v) @ self.V
        if not self.fit_intercept:
            return G
        m = self.V.T @ (np.asarray(self.X.T @ v, dtype=np.float64).ravel() - self.xbar * v.sum())
        p = self.rank + 1
        H = np.empty((p, p))
        H[:-1, :-1] = G
        H[:-1, -1] = m
        H[-1, :-1] = m
        H[-1, -1] = v.sum()
        return H

    def matvec(self, w, exact=False):
        """``X w`` (without the centring) in the working dtype, or float64."""
        X = self.X
        if exact and self.dtype != np.float64:
            if self.sparse:
                return np.asarray(X.astype(np.float64) @ w)
            out = np.empty((self.n,) + np.shape(w)[1:])
            for i in range(0, self.n, _BLOCK):
                out[i:i + _BLOCK] = np.asarray(X[i:i + _BLOCK], dtype=np.float64) @ w
            return out
        dt = np.float64 if exact else self.dtype
        return np.asarray(X @ w.astype(dt, copy=False))

    def rmatvec(self, v, exact=False):
        """``X_c' v`` in float64 (``v`` of shape (n,) or (n, k))."""
        X = self.X
        if exact and self.dtype != np.float64:
            v = np.asarray(v, dtype=np.float64)
            if self.sparse:
                out = np.asarray(X.T.astype(np.float64) @ v)
            else:
                out = np.zeros((self.d,) + v.shape[1:])
                for i in range(0, self.n, _BLOCK):
                    out += np.asarray(X[i:i + _BLOCK], dtype=np.float64).T @ v[i:i + _BLOCK]
        else:
            out = np.asarray(X.T @ v.astype(self.dtype, copy=False), dtype=np.float64)
        if self.fit_intercept:
            out = out - np.multiply.outer(self.xbar, v.sum(axis=0))
        return out

    def rows(self, idx):
        """Whitened rows ``[(x_i - xbar) T, 1]`` of the points ``idx`` (float64)."""
        xr = self.X[idx]
        xr = xr.toarray() if self.sparse else np.asarray(xr)
        A = (xr.astype(np.float64) - self.xbar) @ self.T
        if self.fit_intercept:
            A = np.hstack([A, np.ones((A.shape[0], 1))])
        return A

    # -- whitened <-> original coordinates -------------------------------------
    def split(self, beta):
        """Whitened ``beta = (z, b')`` to ``(w, b')``."""
        z = beta[:self.rank]
        b = beta[self.rank] if self.fit_intercept else 0.0
        return self.T @ z, b

    def join(self, w, b):
        z = np.sqrt(self.g) * (self.V.T @ w)
        return np.append(z, b) if self.fit_intercept else z

    def residual(self, y, w, b, exact=True):
        """``y - X_c w - b'`` (float64 when ``exact``)."""
        off = b - float(self.xbar @ w)
        return y - self.matvec(w, exact=exact) - off


def _pinball_sum(r, sn, tau, uniform):
    """``sum_i sn_i rho_tau(r_i)`` without temporaries the size of r."""
    if uniform:
        neg = np.minimum(r, 0.0)
        return float(tau * r.sum() - neg.sum()) * float(sn[0])
    return float(tau * (sn @ r) - sn @ np.minimum(r, 0.0))


def _weighted_quantile(v, sn, q, uniform):
    """Lower weighted ``q``-quantile (minimiser of ``sum sn rho_q(v - c)``)."""
    n = v.size
    if uniform:
        k = min(max(int(math.ceil(q * n * (1 - 1e-12))) - 1, 0), n - 1)
        return float(np.partition(v, k)[k])
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(sn[order])
    idx = int(np.searchsorted(cum, q * cum[-1] * (1 - 1e-12)))
    return float(v[order[min(idx, n - 1)]])


# ----------------------------------------------------------------------------
# Small dense helpers
# ----------------------------------------------------------------------------


def _psd_solve(H, rhs):
    """Solve ``H x = rhs`` for a symmetric PSD ``H``; minimum norm if singular."""
    try:
        c, low = sla.cho_factor(H, check_finite=False)
        x = sla.cho_solve((c, low), rhs, check_finite=False)
        if np.all(np.isfinite(x)):
            # guard against a numerically singular factorisation
            d = np.abs(np.diag(c))
            if d.min() > 1e-7 * d.max():
                return x
    except (np.linalg.LinAlgError, ValueError):
        pass
    e, U = np.linalg.eigh(H)
    keep = e > max(e.max(), 0.0) * H.shape[0] * 1e-13
    if not keep.any():
        return np.zeros_like(rhs)
    return U[:, keep] @ ((U[:, keep].T @ rhs) / e[keep])


def _box_solve(B, rhs, lo, hi, gref):
    """Find ``c`` with ``B c = rhs`` and ``lo <= c <= hi``.

    Returns ``(c, violation)``: ``violation`` is the relative box violation
    plus the residual of the equations relative to ``|B| (hi - lo) + gref``
    (``gref``: the scale of the gradient terms), 0 for an exact solution.
    """
    m = B.shape[1]
    scale = np.maximum(hi - lo, 1e-300)
    ref = np.abs(B) @ scale + gref + 1e-300

    def viol(c):
        box = np.max(np.maximum(lo - c, 0) / scale, initial=0.0) + np.max(
            np.maximum(c - hi, 0) / scale, initial=0.0)
        eq = np.max(np.abs(B @ c - rhs) / ref, initial=0.0)
        return box + eq

    if m == 0:
        return np.zeros(0), viol(np.zeros(0))
    c = np.linalg.lstsq(B, rhs, rcond=None)[0]
    v = viol(c)
    if v <= _BOX_TOL or m <= B.shape[0]:
        return c, v
    # degenerate: more zero residuals than parameters, look for a point of
    # the box by a small LP (minimise the l1 violation of the equations)
    from scipy.optimize import linprog

    p = B.shape[0]
    A_eq = np.hstack([B, np.eye(p), -np.eye(p)])
    cost = np.concatenate([np.zeros(m), np.ones(2 * p)])
    bounds = np.vstack([np.column_stack([lo, hi]), np.column_stack([np.zeros(2 * p),
                                                                    np.full(2 * p, np.inf)])])
    res = linprog(cost, A_eq=A_eq, b_eq=rhs, bounds=bounds, method="highs")
    if res.status == 0:
        c2 = res.x[:m]
        v2 = viol(c2)
        if v2 < v:
            return c2, v2
    return c, v


# ----------------------------------------------------------------------------
# Squared error
# ----------------------------------------------------------------------------


def _solve_squared(des, Y, alpha, W, B, max_iter, tol, verbose):
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
        R = Y - des.matvec(W, exact=True) - off
        if sn.size:
            F = 0.5 * float(np.sum(sn @ (R * R))) + 0.5 * alpha * float(np.sum(W * W))
        else:  # pragma: no cover
            F = 0.0
        if it > 0:
            curve.append(F)
        SR = R * sn[:, None]
        Gw = -des.rmatvec(SR, exact=True) + alpha * W
        Gb = -SR.sum(axis=0)
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


# ----------------------------------------------------------------------------
# Pinball loss
# ----------------------------------------------------------------------------


class _DenseOp:
    """Dense whitened rows ``A`` (the reduced problem)."""

    def __init__(self, A):
        self.A = A
        self.p = A.shape[1]

    def mv(self, beta):
        return self.A @ beta

    def rmv(self, v):
        return self.A.T @ v

    def rows(self, mask):
        return self.A[mask]

    def trace(self, sn):
        return float(np.einsum("ij,ij,i->", self.A, self.A, sn))


class _DesignOp:
    """The whole data set in whitened coordinates ``beta = (z, b')``,
    ``w = T z``, in the working dtype (never densified)."""

    def __init__(self, des):
        self.des = des
        self.p = des.p

    def mv(self, beta):
        des = self.des
        w = des.T @ beta[:des.rank]
        out = des.matvec(w)
        off = -float(des.xbar @ w)
        if des.fit_intercept:
            off += float(beta[des.rank])
        return out + out.dtype.type(off)

    def rmv(self, v):
        des = self.des
        g = des.T.T @ des.rmatvec(v)
        return np.append(g, v.sum(dtype=np.float64)) if des.fit_intercept else g

    def rows(self, mask):
        return self.des.rows(np.flatnonzero(mask))

    def trace(self, sn):
        return float(np.sum(self.des.g / self.des.g)) + float(self.des.fit_intercept)


class _PinballColumn:
    """One output of ``min sum sn rho_tau(y - X_c w - b') + alpha/2 |w|^2``."""

    def __init__(self, des, y, tau, alpha, scale, verbose):
        self.des = des
        self.y = y                      # working dtype
        self.y64 = np.asarray(y, dtype=np.float64)
        self.tau = tau
        self.alpha = alpha              # penalty of the pinball problem
        self.scale = scale              # objective = scale * pinball + alpha*scale/2 |w|^2
        self.verbose = verbose
        self.curve, self.lrs = [], []

    def objective(self, pin, w):
        return self.scale * (pin + 0.5 * self.alpha * float(w @ w))

    # -- FISTA on the smoothed loss -----------------------------------------
    def _blocks(self):
        """Row blocks of the fused passes: one block when X fits in cache,
        else about 4 MB each (X is then read from memory once per iteration,
        not twice: the block is still in the last-level cache)."""
        des = self.des
        X = des.X
        if des.sparse or X.nbytes <= _FUSE_BYTES:
            return [(0, des.n)]
        B = max(1024, (1 << 22) // max(des.d * X.itemsize, 1))
        return [(i, min(i + B, des.n)) for i in range(0, des.n, B)]

    def _pass(self, w, off, mu, blocks, rbuf, pbuf):
        """One fused pass at the residual ``r = y - X w - off``.

        Returns ``(sum sn r, sum sn min(r, 0), sum sn psi, X' (sn psi))`` with
        ``psi = clip(r/mu + tau - 1/2, tau - 1, tau)``.
        """
        des, y, tau = self.des, self.y, self.tau
        X, uniform = des.X, des.uniform
        dt = des.dtype
        wd = w.astype(dt)
        a, cc = 1.0 / mu, (tau - 0.5) - off / mu
        tot = neg = gs = 0.0
        g = np.zeros(des.d)
        for i, j in blocks:
            Xb = X[i:j]
            rb, pb = rbuf[:j - i], pbuf[:j - i]
            if des.sparse:
                rb[:] = Xb @ wd
            else:
                np.matmul(Xb, wd, out=rb)
            np.subtract(y[i:j], rb, out=rb)
            np.minimum(rb, off, out=pb)
            if uniform:
                tot += float(rb.sum())
                neg += float(pb.sum())
            else:
                sb = des.sn[i:j]
                tot += float(sb @ rb)
                neg += float(sb @ pb)
            np.multiply(rb, a, out=pb)
            pb += cc
            np.clip(pb, tau - 1.0, tau, out=pb)
            if not uniform:
                pb *= self._sn_dt[i:j]
            gs += float(pb.sum(dtype=np.float64))
            g += np.asarray(Xb.T @ pb, dtype=np.float64)
        if uniform:
            s = float(des.sn[0]) if des.n else 0.0
            tot, neg, gs, g = tot * s, neg * s, gs * s, g * s
        # true residual r - off: sums of sn (r - off), sn min(r - off, 0)
        return tot - off, neg - off, gs, g

    def fista(self, w, b, mus, steps, budget):
        """FISTA at step ``mu`` (= 1/L in whitened coordinates) on the pinball
        loss smoothed at the widths ``mus``, gradient restarts, a momentum
        restart per width."""
        des, tau = self.des, self.tau
        dt = des.dtype
        self._sn_dt = None if des.uniform else des.sn.astype(dt)
        blocks = self._blocks()
        m = max(j - i for i, j in blocks) if blocks else 0
        rbuf = np.empty(m, dtype=dt)
        pbuf = np.empty(m, dtype=dt)
        xbar = des.xbar
        for mu in mus:
            if budget <= 0:
                break
            inv = 1.0 / (des.g + self.alpha * mu)
            w_prev, b_prev = w.copy(), b
            t = 1.0
            for step in range(steps):
                if budget <= 0:
                    break
                budget -= 1
                t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
                mom = (t - 1.0) / t_next
                wy = w + mom * (w - w_prev)
                by = b + mom * (b - b_prev)
                off = by - float(xbar @ wy)
                tot, neg, gsum, gx = self._pass(wy, off, mu, blocks, rbuf, pbuf)
                self.curve.append(self.objective(tau * tot - neg, wy))
                self.lrs.append(mu)
                # gradient of the smoothed objective in (w, b')
                gw = -(gx - xbar * gsum)
                gw += self.alpha * wy
                gb = -gsum if des.fit_intercept else 0.0
                w_new = wy - mu * (des.V @ (inv * (des.V.T @ gw)))
                b_new = by - mu * gb
                # gradient restart (O'Donoghue & Candes)
                if float(gw @ (w_new - w)) + gb * (b_new - b) > 0:
                    t = 1.0
                    w_prev, b_prev = w_new, b_new
                else:
                    t = t_next
                    w_prev, b_prev = w, b
                w, b = w_new, b_new
            if self.verbose > 1:
                print(f"[solve_linear] mu={mu:.3e} objective {self.curve[-1]:.10g}")
        return w, b

    # -- exact finish ----------------------------------------------------------
    def reduced_problem(self, r, K):
        """Kept rows ``K`` plus the two glob pseudo-rows (whitened, float64).

        The points outside ``K`` are merged by the sign of ``r`` into their
        weighted mean row and mean target with their total weight; while
        every merged point keeps its sign, a pseudo-row contributes exactly
        what its points do (one pass over the data for both).
        """
        des = self.des
        n = des.n
        A = des.rows(K)
        yK = self.y64[K]
        snK = des.sn[K]
        if K.size == n:
            return A, yK, snK, 0
        out = np.ones(n, dtype=bool)
        out[K] = False
        pos = out & (r > 0)
        V = np.zeros((n, 2))
        V[pos, 0] = des.sn[pos]
        neg = out & ~pos
        V[neg, 1] = des.sn[neg]
        sv = V.sum(axis=0)
        sy = self.y64 @ V
        G = des.T.T @ des.rmatvec(V, exact=True)
        rows, ys, ss = [], [], []
        for j in range(2):
            if sv[j] > 0:
                xr = G[:, j] / sv[j]
                rows.append(np.append(xr, 1.0) if des.fit_intercept else xr)
                ys.append(sy[j] / sv[j])
                ss.append(sv[j])
        if rows:
            A = np.vstack([A, np.array(rows)])
            yK = np.concatenate([yK, ys])
            snK = np.concatenate([snK, ss])
        return A, yK, snK, len(rows)

    def penalty_vector(self):
        des = self.des
        pen = self.alpha / des.g if self.alpha > 0 else np.zeros(des.rank)
        return np.append(pen, 0.0) if des.fit_intercept else pen

    def newton(self, A, y, sn, pen, beta, mu, max_steps=_NEWTON_MAX_STEPS, record=False):
        """Minimise the problem smoothed at width ``mu`` by semismooth Newton.

        ``A`` is a dense matrix of whitened rows (the reduced problem) or an
        :class:`_DesignOp` (the whole data set).  The generalised Hessian is
        the Gram matrix of the points in the zone, ``/ mu``; the line search
        is exact (the objective is piecewise quadratic), so the iteration
        ends, at the exact smoothed minimiser, when a full step keeps the
        zone.
        """
        tau = self.tau
        c = tau - 0.5
        op = A if isinstance(A, _DesignOp) else _DenseOp(A)
        ridge = 1e-9 * op.trace(sn) / (op.p * mu) + 1e-300
        zone_prev, full_prev = None, False
        r = y - op.mv(beta)
        gscale = None
        # float32 passes (the whole float32 data set) are an estimate only
        single = r.dtype == np.float32
        gtol = 1e-6 if single else 1e-14 + 4e-16 * math.sqrt(r.size)
        ttol = 1e-4 if single else 1e-6
        for it in range(max_steps):
            u = r / mu + c
            zone = (u > tau - 1.0) & (u < tau)
            if full_prev and np.array_equal(zone, zone_prev):
                break
            psi = np.clip(u, tau - 1.0, tau)
            grad = -op.rmv(sn * psi) + pen * beta
            gnorm = float(np.abs(grad).max(initial=0.0))
            if gscale is None:
                # the gradient of the loss part is at most max(tau, 1 - tau)
                # times the rms row norm: round-off level well below that
                gscale = max(tau, 1.0 - tau) * math.sqrt(op.trace(sn) / op.p) + gnorm + 1e-300
            if gnorm <= gtol * gscale:
                break
            Az, sz = op.rows(zone), sn[zone]
            H = (Az * (sz / mu)[:, None]).T @ Az
            # directions no zone point constrains are piecewise linear: a
            # tiny ridge turns them into steepest descent (the exact line
            # search picks the step)
            H[np.diag_indices_from(H)] += pen + ridge
            delta = -_psd_solve(H, grad)
            if not np.all(np.isfinite(delta)) or not np.any(delta):
                break
            q = op.mv(delta)
            t = self._line_search(u, q, sn, pen, beta, delta, mu, float(grad @ delta),
                                  rtol=1e-6 if single else 1e-12)
            beta = beta + t * delta
            r = r - t * q
            if record:
                w = op.des.T @ beta[:op.des.rank]
                self.curve.append(self.objective(
                    _pinball_sum(r, sn, tau, op.des.uniform), w))
                self.lrs.append(float(t))
            # a (numerically) full step that keeps the zone ends at the
            # exact minimiser of the smoothed problem
            full_prev, zone_prev = abs(t - 1.0) <= ttol, zone
        u = r / mu + c
        zone = (u > tau - 1.0) & (u < tau)
        return beta, zone, r, it + 1

    def _line_search(self, u0, q, sn, pen, beta, delta, mu, d0, t_hi=2.0, rtol=1e-12):
        """Step along ``delta`` minimising the (piecewise quadratic) objective.

        ``phi'(t) = -sum sn q psi(u0 - t q/mu) + pen.(beta + t delta) delta`` is
        piecewise linear and non-decreasing, ``phi'(0) = d0 < 0``.  The full
        step is taken when ``0.1 d0 <= phi'(1) <= 0`` (then
        ``phi(1) <= phi(0) + phi'(1)``, a decrease); otherwise the root of
        ``phi'`` is found exactly.  Points that stay in one piece (below, in
        or above the zone) for all ``t`` in ``[0, t_hi]`` enter through two
        sums; only the points that change piece are evaluated in the root
        search (safeguarded Newton on ``phi'``, exact on the last piece).
        """
        tau = self.tau
        lo_b, hi_b = tau - 1.0, tau
        pb, pd = float(pen @ (beta * delta)), float(pen @ (delta * delta))
        uniform = sn.size > 1 and sn[0] == sn[-1] and isinstance(self.des, _Design) and \
            self.des.uniform and sn.size == self.des.n
        s0 = float(sn[0]) if uniform else None
        v = q * (1.0 / mu)
        u1 = u0 - v
        psi1 = np.clip(u1, lo_b, hi_b)
        d1 = (-(s0 * float(q @ psi1)) if uniform else -float((sn * q) @ psi1)) + pb + pd
        scale = abs(d0) + 1e-300
        if 0.1 * d0 <= d1 <= rtol * scale:
            return 1.0
        bins = np.array([lo_b, hi_b], dtype=u0.dtype)
        reg0 = np.digitize(u0, bins, right=True)
        u1 -= (t_hi - 1.0) * v
        C = np.digitize(u1, bins, right=True) != reg0
        sq = q * s0 if uniform else sn * q
        clip0 = np.clip(u0, lo_b, hi_b)
        zone0 = reg0 == 1
        # sums over all points, then the changing points removed
        a0 = float(sq @ clip0)
        a1 = float((sq * v) @ zone0)
        sqC, u0C, vC = sq[C], u0[C], v[C]
        a0 -= float(sqC @ clip0[C])
        a1 -= float((sqC * vC) @ zone0[C])

        def dphi(t):
            if t > t_hi:  # outside the precomputed range: all points
                u = u0 - t * v
                z = (u > lo_b) & (u < hi_b)
                return (-float(sq @ np.clip(u, lo_b, hi_b)) + pb + t * pd,
                        float(sq[z] @ v[z]) + pd)
            u = u0C - t * vC
            z = (u > lo_b) & (u < hi_b)
            return (-a0 + t * a1 - float(sqC @ np.clip(u, lo_b, hi_b)) + pb + t * pd,
                    a1 + float(sqC[z] @ vC[z]) + pd)

        d1, h1 = dphi(1.0)
        if abs(d1) <= rtol * scale:
            return 1.0
        lo, hi = 0.0, None
        if d1 < 0:
            lo, t = 1.0, t_hi
            for _ in range(60):
                d_, _h = dphi(t)
                if d_ >= 0:
                    hi = t
                    break
                lo, t = t, 2.0 * t
            if hi is None:
                return lo
            t, (d, h) = hi, dphi(hi)
        else:
            hi, t, d, h = 1.0, 1.0, d1, h1
        for _ in range(100):
            if abs(d) <= rtol * scale:
                return t
            if d > 0:
                hi = t
            else:
                lo = t
            t_new = t - d / h if h > 0 else 0.5 * (lo + hi)
            if not (lo < t_new < hi):
                t_new = 0.5 * (lo + hi)
            if hi - lo <= 1e-15 * hi:
                return t_new
            t = t_new
            d, h = dphi(t)
        return t

    def partition_solve(self, A, y, sn, pen, Z, pos, beta):
        """Exact solution of the KKT system of the partition (sign(r), Z).

        ``A_Z beta = y_Z`` (zero residuals on Z) and ``pen * beta - A_Z' c =
        g`` (stationarity, ``g`` the contribution of the points off Z).  With
        ``A_Z = U S V'`` (rank k): ``beta = V_k S^-1 U_k' y_Z + V_perp theta``
        and ``theta`` solves the stationarity projected on ``V_perp``
        (where ``A_Z' c`` has no component).  Components the system leaves
        free keep their current value ``beta``.
        """
        tau = self.tau
        p = A.shape[1]
        a = np.where(pos, tau, tau - 1.0)
        a[Z] = 0.0
        g = A.T @ (sn * a)
        AZ = A[Z]
        if AZ.shape[0]:
            U, S, Vt = np.linalg.svd(AZ, full_matrices=True)
            k = int(np.sum(S > S[0] * max(AZ.shape) * 1e-13)) if S.size else 0
        else:
            Vt, k = np.eye(p), 0
        Vk, Vp = Vt[:k].T, Vt[k:].T
        beta_new = Vk @ ((U[:, :k].T @ y[Z]) / S[:k]) if k else np.zeros(p)
        if k < p:
            # theta: Vp' (pen * (beta_new + Vp theta)) = Vp' g, min-norm change
            theta0 = Vp.T @ beta
            Hp = Vp.T @ (pen[:, None] * Vp)
            rhs = Vp.T @ g - Vp.T @ (pen * (beta_new + Vp @ theta0))
            theta = theta0 + _psd_solve(Hp, rhs) if np.any(pen) else theta0
            beta_new = beta_new + Vp @ theta
        return beta_new

    def check_reduced(self, A, y, sn, beta, pen):
        """KKT violation of ``beta`` on the reduced problem (0 when optimal)."""
        tau = self.tau
        fit = A @ beta
        r = y - fit
        scale = np.abs(y).max(initial=0.0) + np.abs(fit).max(initial=0.0) + 1e-300
        Z = np.abs(r) <= 1e-11 * scale
        a = np.where(r > 0, tau, tau - 1.0)
        a[Z] = 0.0
        rhs = pen * beta - A.T @ (sn * a)
        # whitened rows: sum sn |A_ij| <= 1, so the loss gradient is O(1)
        gref = max(tau, 1.0 - tau) + np.abs(pen * beta)
        _, viol = _box_solve(A[Z].T, rhs, sn[Z] * (tau - 1.0), sn[Z] * tau, gref)
        return viol

    def path_to_vertex(self, A, y, sn, beta, mu, max_events=None):
        """Follow the piecewise-linear path of the smoothed solution to mu = 0.

        ``beta`` must minimise the smoothed reduced problem at width ``mu``
        (``alpha = 0``).  With the partition (zone Z, positive P, negative N)
        fixed, stationarity reads ``A_Z' D (y_Z - A_Z beta) + mu h = 0``
        (``h = c A_Z' D 1 + sum_P sn tau A + sum_N sn (tau - 1) A``), so
        ``beta(mu) = beta0 + mu beta1`` and ``r(mu) = e - mu f``.  Each event
        is a point entering or leaving the zone; the path ends at the vertex
        ``beta0`` (``|Z| = p`` points interpolated).  Returns ``None`` if the
        zone becomes rank deficient.
        """
        tau = self.tau
        c = tau - 0.5
        p = A.shape[1]
        r = y - A @ beta
        u = r / mu + c
        Z = (u > tau - 1.0) & (u < tau)
        P = (~Z) & (u >= tau)
        N = (~Z) & (u <= tau - 1.0)
        if max_events is None:
            max_events = 20 * A.shape[0] + 100
        for _ in range(max_events):
            if Z.sum() < p:
                return None
            AZ = A[Z]
            D = sn[Z]
            Hs = (AZ * D[:, None]).T @ AZ
            a = np.where(P, tau, tau - 1.0)
            a[Z] = c
            h = A.T @ (sn * a)
            try:
                cf = sla.cho_factor(Hs, check_finite=False)
                dg = np.abs(np.diag(cf[0]))
                if dg.min() <= 1e-9 * dg.max():
                    return None
                beta0 = sla.cho_solve(cf, AZ.T @ (D * y[Z]), check_finite=False)
                beta1 = sla.cho_solve(cf, h, check_finite=False)
            except (np.linalg.LinAlgError, ValueError):
                return None
            fit0 = A @ beta0
            e = y - fit0
            f = A @ beta1
            # residuals at round-off level are zero (interpolated points)
            e[np.abs(e) <= 1e-12 * (np.abs(y) + np.abs(fit0) + 1e-300)] = 0.0
            with np.errstate(divide="ignore", invalid="ignore"):
                mu_up = e / (0.5 + f)    # u = tau
                mu_lo = e / (f - 0.5)    # u = tau - 1
            ev = np.full(e.shape, -np.inf)
            ez = Z & (e > 0)
            ev[ez] = mu_up[ez]
            ez = Z & (e < 0)
            ev[ez] = mu_lo[ez]
            ez = P & (e < 0)
            ev[ez] = mu_up[ez]
            ez = N & (e > 0)
            ev[ez] = mu_lo[ez]
            ev[~((ev > 0) & (ev < mu))] = -np.inf
            mu_next = ev.max()
            if not np.isfinite(mu_next) or mu_next <= 0:
                return beta0
            hit = ev >= mu_next * (1.0 - 1e-12)
            leave_up = hit & Z & (e > 0)
            leave_lo = hit & Z & (e < 0)
            enter = hit & ~Z
            Z[leave_up | leave_lo] = False
            P[leave_up] = True
            N[leave_lo] = True
            Z[enter] = True
            P[enter] = False
            N[enter] = False
            mu = mu_next
        return None

    def reduced_objective(self, A, y, sn, pen, beta):
        r = y - A @ beta
        return float(sn @ np.maximum(self.tau * r, (self.tau - 1.0) * r)) + 0.5 * float(
            pen @ (beta * beta))

    def active_set(self, A, y, sn, pen, zone, r, beta, max_iter=20):
        """Exact solution from the partition of a smoothed solution (alpha > 0).

        Solves the KKT system of the partition, then moves points whose
        multiplier left the box ``[tau - 1, tau]`` off ``Z`` and points whose
        residual changed sign onto ``Z``, until the partition is consistent.
        """
        tau = self.tau
        Z = zone.copy()
        pos = r > 0
        tried = set()
        for _ in range(max_iter):
            key = np.flatnonzero(Z).tobytes() + np.flatnonzero(pos & ~Z).tobytes()
            if key in tried:
                break
            tried.add(key)
            cand = self.partition_solve(A, y, sn, pen, Z, pos, beta)
            fit = A @ cand
            rc = y - fit
            tol_r = 1e-11 * (np.abs(y).max(initial=0.0) + np.abs(fit).max(initial=0.0) + 1e-300)
            a = np.where(pos, tau, tau - 1.0)
            a[Z] = 0.0
            rhs = pen * cand - A.T @ (sn * a)
            idx = np.flatnonzero(Z)
            if idx.size:
                c = np.linalg.lstsq(A[idx].T, rhs, rcond=None)[0]
                az = c / sn[idx]
            else:
                az = np.zeros(0)
            up = az > tau + _BOX_TOL
            lo = az < tau - 1.0 - _BOX_TOL
            flip = (~Z) & (np.abs(rc) > tol_r) & ((rc > 0) != pos)
            if not (up.any() or lo.any() or flip.any()):
                return cand
            # multipliers out of the box leave Z on the side they point to
            Z[idx[up | lo]] = False
            pos[idx[up]] = True
            pos[idx[lo]] = False
            Z[flip] = True
        return cand

    def solve_reduced(self, A, y, sn, beta, mu):
        """Exact solution of the reduced problem.

        Newton continuation on the smoothed problem (``mu`` shrinks so that
        about ``2p`` points stay in the zone), then, for ``alpha = 0``, the
        exact piecewise-linear path to the vertex; for ``alpha > 0`` the
        exact solve of the KKT system of the partition found (active-set
        corrections for ties).  Returns ``(beta, ok, mu)``: ``ok`` when the
        KKT conditions of the reduced problem hold; otherwise ``beta``
        minimises the problem smoothed at the returned ``mu``, whose
        objective exceeds the optimum by at most ``mu/8``.
        """
        pen = self.penalty_vector()
        p = A.shape[1]
        nz_prev = -1
        mu_done = mu
        for level in range(_FINISH_MAX_LEVELS):
            beta, zone, r, nsteps = self.newton(A, y, sn, pen, beta, mu)
            mu_done = mu
            nz = int(zone.sum())
            cands = []
            if self.alpha == 0:
                # small zone, or a zone that no longer shrinks (ties: more
                # than p points interpolated)
                if nz <= 3 * p or nz == nz_prev or level == _FINISH_MAX_LEVELS - 1:
                    cand = self.path_to_vertex(A, y, sn, beta, mu)
                    if cand is not None:
                        cands.append(("path", cand))
                    cands.append(("lp", None))
            else:
                cands.append(("kkt", self.active_set(A, y, sn, pen, zone, r, beta)))
            viol, how = np.inf, ""
            for how, cand in cands:
                if cand is None:
                    cand = self.lp_reduced(A, y, sn)
                    if cand is None:
                        continue
                viol = self.check_reduced(A, y, sn, cand, pen)
                if viol <= _BOX_TOL:
                    break
            if self.verbose > 1:
                print(f"[solve_linear]   level {level}: mu={mu:.3e} |zone|={nz} "
                      f"newton steps {nsteps} {how} KKT violation {viol:.2e}")
            if viol <= _BOX_TOL:
                return cand, True, 0.0
            if self.alpha == 0 and cands:
                break
            nz_prev = nz
            # shrink the zone to about 2p points per level, at most 10x
            factor = _FINISH_MU_FACTOR
            if nz > p:
                factor = min(max(factor, 1.5 * p / (nz - p)), 0.5)
            mu *= factor
            if mu <= 1e-300:
                break
        return beta, False, mu_done

    def lp_reduced(self, A, y, sn):
        """The reduced LP (alpha = 0) by HiGHS, as a fallback; vertex polished."""
        from scipy.optimize import linprog

        tau = self.tau
        m, p = A.shape
        f = m / sn.sum()
        ys = np.abs(y).max(initial=0.0) + 1e-300
        res = linprog(-y / ys, A_eq=A.T, b_eq=np.zeros(p),
                      bounds=np.column_stack([f * sn * (tau - 1.0), f * sn * tau]),
                      method="highs-ds", options={"presolve": False})
        if res.status != 0:
            return None
        beta = -np.asarray(res.eqlin.marginals) * ys
        d = res.x / (f * sn)
        inner = np.flatnonzero((d > tau - 1.0 + 1e-9) & (d < tau - 1e-9))
        if inner.size == p:
            try:
                return np.linalg.solve(A[inner], y[inner])
            except np.linalg.LinAlgError:
                pass
        return beta

    def certify(self, w, b):
        """KKT check of ``(w, b')`` on the full problem (float64)."""
        des, tau = self.des, self.tau
        r = des.residual(self.y64, w, b, exact=True)
        raw_scale = float(np.abs(self.y64).max(initial=0.0)) + float(np.abs(self.y64 - r).max(initial=0.0))
        Z = np.abs(r) <= 1e-11 * (raw_scale + 1e-300)
        a = np.where(r > 0, tau, tau - 1.0)
        a[Z] = 0.0
        v = des.sn * a
        gw = des.rmatvec(v, exact=True)
        g = des.T.T @ gw
        if des.fit_intercept:
            g = np.append(g, v.sum())
        beta = des.join(w, b)
        pen = self.penalty_vector()
        idx = np.flatnonzero(Z)
        AZ = des.rows(idx)
        rhs = pen * beta - g
        gref = max(tau, 1.0 - tau) + np.abs(pen * beta)
        _, viol = _box_solve(AZ.T, rhs, des.sn[idx] * (tau - 1.0), des.sn[idx] * tau, gref)
        return viol <= _BOX_TOL, r, viol

    def newton_continuation(self, w, b, M, mu_last):
        """Semismooth Newton at widths shrunk until about ``M/2`` points are
        in the zone (the kept set of the finish then holds the points that
        matter).

        On large data sets it runs on the ``_WIDE_BAND`` fraction of points
        of smallest ``|r|`` with the others globbed (two pseudo-rows): exact
        for the whole problem while the globbed points keep their signs, and
        the finish certifies the end point anyway.  Returns ``(w, b', mu,
        wide)``; ``wide`` tells that the steps were on the band (not
        recorded one by one: the caller records the objective reached).
        """
        des = self.des
        n = des.n
        if not _FULL_NEWTON_LEVELS:
            return w, b, mu_last, False
        pen = self.penalty_vector()
        beta = des.join(w, b)
        full = _DesignOp(des)
        r = self.y - full.mv(beta)
        j0 = min(n - 1, max(M, int(_FULL_NEWTON_START * n)))
        mu = 2.0 * float(np.partition(np.abs(r), j0)[j0])
        if not mu > 0:
            return w, b, mu_last, False
        jw = int(_WIDE_BAND * n)
        wide = jw >= 4 * j0 and jw < n
        if wide:
            Kw = np.argpartition(np.abs(r), jw)[:jw]
            A, yv, snv, _ = self.reduced_problem(r, Kw)
            op = A
        else:
            op, yv, snv = full, self.y, des.sn
        nz_prev = -1
        for level in range(_FULL_NEWTON_LEVELS):
            beta, zone, r, ns = self.newton(op, yv, snv, pen, beta, mu,
                                            max_steps=_FULL_NEWTON_STEPS, record=not wide)
            nz = int(np.count_nonzero(zone))
            if self.verbose > 1:
                print(f"[solve_linear] {'band' if wide else 'full-data'} Newton at mu={mu:.3e}: "
                      f"{ns} steps, |zone|={nz}")
            if nz <= 0.6 * M or nz == nz_prev:
                # small enough, or ties: a zone that no longer shrinks
                break
            nz_prev = nz
            mu *= min(max(0.5 * M / max(nz, 1), 0.1), 0.5)
        w, b = des.split(beta)
        return w, b, mu, wide

    def finish(self, w, b, r, mu, max_rounds=_MAX_ROUNDS, final_all=True):
        """Globbing + exact reduced solve + certificate, growing the kept set.

        ``max_rounds`` rounds on kept sets, then (``final_all``) one on the
        whole data set.  Returns ``(w, b', certified, converged)``.  Without a
        certificate
        (which needs the exact KKT conditions of the full problem) the point
        still counts as converged when it minimises the whole problem
        smoothed at a width ``mu`` with ``mu/8 <= 1e-8`` times the objective
        (the smoothed objective exceeds the exact one by at most ``mu/8``).
        """
        des = self.des
        n, p = des.n, des.p
        # the kept set holds the points in the zone of the smoothed solution
        # (many with ties) with room to spare
        nz = int(np.count_nonzero(np.abs(r) < 0.5 * mu))
        M = max(20 * p, n // 50, 2 * nz)
        extra = np.zeros(0, dtype=np.intp)
        beta = des.join(w, b)
        certified = converged = False
        best = None
        for rnd in range(max_rounds + int(final_all)):
            if rnd == max_rounds or M >= 0.5 * n:
                K = np.arange(n)
            else:
                K = np.argpartition(np.abs(r), M)[:M]
                if extra.size:
                    K = np.union1d(K, extra)
            A, yK, snK, n_pseudo = self.reduced_problem(r, K)
            # start where about an eighth of the kept points is in the zone
            j = max(min(K.size // 8, K.size - 1), min(2 * p, K.size - 1))
            mu_r = 2.0 * float(np.partition(np.abs(r[K]), j)[j])
            mu_r = min(mu, mu_r) if mu_r > 0 else mu
            beta_new, ok, mu_end = self.solve_reduced(A, yK, snK, beta, mu_r)
            w_new, b_new = des.split(beta_new)
            cert, r_new, viol = self.certify(w_new, b_new)
            F = self.objective(_pinball_sum(r_new, des.sn, self.tau, False), w_new)
            self.curve.append(F)
            self.lrs.append(1.0)
            if self.verbose:
                print(f"[solve_linear] finish round {rnd}: kept {K.size} of {n}, "
                      f"reduced {'exact' if ok else 'inexact'}, certified={cert} "
                      f"(violation {viol:.2e})")
            if cert:
                w, b, certified, converged = w_new, b_new, True, True
                best = None
                break
            if best is None or F <= best[0]:
                best = (F, w_new, b_new, beta_new, r_new)
            if K.size == n:
                # the whole problem was solved: smoothed to mu_end at worst
                converged = self.scale * mu_end / 8 <= 1e-8 * max(F, 1e-300)
                break
            # a larger kept set around the new point, plus the points outside
            # K whose sign changed if they are few
            outside = np.ones(n, dtype=bool)
            outside[K] = False
            flipped = np.flatnonzero(outside & (np.sign(r_new) != np.sign(r)) & (r_new != 0))
            extra = flipped if flipped.size <= M else np.zeros(0, dtype=np.intp)
            beta, r = best[3], best[4]
            M *= 2
            jm = min(M // 8, n - 1)
            mu = max(mu, float(np.partition(np.abs(r), jm)[jm]))
        if best is not None:
            F, w, b = best[0], best[1], best[2]
            if self.curve[-1] != F:
                self.curve.append(F)
                self.lrs.append(1.0)
        return w, b, certified, converged


def _solve_pinball(des, Y, tau, scale, alpha, W, B_init, warm, max_iter, tol, verbose):
    """All outputs of the pinball problem (``scale * pinball + alpha/2 |w|^2``)."""
    k = Y.shape[1]
    B = np.zeros(k)
    alpha_p = alpha / scale
    curves, lrs0, iters = [], None, []
    cert_all = conv_all = True
    for j in range(k):
        col = _PinballColumn(des, Y[:, j], tau, alpha_p, scale, verbose)
        w = des.V @ (des.V.T @ W[:, j])
        if B_init is not None:
            b = float(B_init[j]) + float(des.xbar @ w) if des.fit_intercept else 0.0
        else:
            b = 0.0
        r = des.residual(col.y64, w, b, exact=True)
        if des.fit_intercept and B_init is None:
            q = _weighted_quantile(r, des.sn, tau, des.uniform)
            b += q
            r -= q
        certified = converged = done = False
        if des.rank == 0:
            # no usable direction: the intercept-only model, exact
            w = np.zeros(des.d)
            b = _weighted_quantile(col.y64, des.sn, tau, des.uniform) if des.fit_intercept else 0.0
            r = des.residual(col.y64, w, b)
            certified = converged = done = True
        elif not np.any(r) and (alpha_p == 0 or not np.any(w)):
            # zero loss (and no penalty): optimal
            certified = converged = done = True
        elif warm:
            cert, _, _ = col.certify(w, b)
            if cert:
                certified = converged = done = True
            else:
                # try the exact finish straight from the warm start
                nk = min(max(20 * des.p, des.n // 50), des.n - 1)
                mu = 2.0 * float(np.partition(np.abs(r), nk // 8)[nk // 8]) + 1e-300
                w2, b2, cert, _ = col.finish(w, b, r, mu, max_rounds=1, final_all=False)
                if cert:
                    w, b, certified, converged, done = w2, b2, True, True, True
        if done and not col.curve and not (warm and certified):
            col.curve.append(col.objective(_pinball_sum(r, des.sn, tau, False), w))
            col.lrs.append(1.0)
        if not done:
            s0 = float(des.sn @ np.abs(r))
            n, p = des.n, des.p
            M = max(20 * p, n // 50)
            mus = [s0 * f for f in _MU_SCHEDULE]
            if M < 0.5 * n:
                des.prefer_columns()
                w, b = col.fista(w, b, mus, _STEPS_PER_MU, max(max_iter - 1, 0))
                w, b, mu, wide = col.newton_continuation(w, b, M, mus[-1])
                r = des.residual(col.y64, w, b, exact=True)
                if wide:
                    # the Newton phase on the band counts as one step
                    col.curve.append(col.objective(_pinball_sum(r, des.sn, tau, False), w))
                    col.lrs.append(1.0)
            else:
                mu = mus[0]
            w, b, certified, converged = col.finish(w, b, r, mu)
        W[:, j] = w
        B[j] = b - float(des.xbar @ w) if des.fit_intercept else 0.0
        curves.append(col.curve)
        if j == 0:
            lrs0 = col.lrs
        iters.append(len(col.curve))
        cert_all &= certified
        conv_all &= converged
    return W, B, max(iters), _sum_curves(curves), lrs0, cert_all, conv_all


def _sum_curves(curves):
    m = max(len(c) for c in curves)
    if m == 0:
        return []
    out = np.zeros(m)
    for c in curves:
        if c:
            out[:len(c)] += c
            out[len(c):] += c[-1]
    return [float(v) for v in out]


# ----------------------------------------------------------------------------
# Log-cosh
# ----------------------------------------------------------------------------


def _logcosh(a):
    a = np.abs(a)
    return a + np.log1p(np.exp(-2.0 * a)) - math.log(2.0)


def _solve_logcosh_column(des, y, alpha, w, b, max_iter, verbose):
    """Whitened FISTA at step 1 (= 1/L), then Newton with an exact line search.

    ``F = sum sn logcosh(r) + alpha/2 |w|^2`` with ``r = y - X_c w - b'``.  FISTA
    runs on the working dtype until the whitened gradient has dropped a
    hundredfold (the Newton region of this loss); Newton (float64, Hessian
    ``[X_c, 1]' diag(sn sech^2 r) [X_c, 1] + alpha``) then reaches a whitened
    gradient norm of ``1e-12``.
    """
    sn = des.sn
    inv = 1.0 / (des.g + alpha)
    curve, lrs = [], []
    xbar = des.xbar
    y64 = np.asarray(y, dtype=np.float64)
    y_dt = np.asarray(y, dtype=des.dtype)

    def state(w, b, exact):
        r = des.residual(y64 if exact else y_dt, w, b, exact=exact)
        F = float(sn @ _logcosh(r)) + 0.5 * alpha * float(w @ w)
        th = np.tanh(r)
        v = sn * th
        gw = -des.rmatvec(v, exact=exact) + alpha * w
        gb = -float(v.sum()) if des.fit_intercept else 0.0
        gz = np.sqrt(inv) * (des.V.T @ gw)
        return r, F, th, gw, gb, math.sqrt(float(gz @ gz) + gb * gb)

    budget = max_iter
    # -- FISTA -------------------------------------------------------------
    w_prev, b_prev, t = w.copy(), b, 1.0
    g0 = None
    k = 0
    while budget > 0 and k < _LOGCOSH_FISTA_MAX:
        t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        mom = (t - 1.0) / t_next
        wy, by = w + mom * (w - w_prev), b + mom * (b - b_prev)
        r, F, th, gw, gb, gnorm = state(wy, by, exact=False)
        if g0 is None:
            g0 = gnorm
        if gnorm <= 1e-2 * g0 or gnorm <= 1e-12:
            w, b = wy, by
            break
        w_new = wy - des.V @ (inv * (des.V.T @ gw))
        b_new = by - gb
        if float(gw @ (w_new - w)) + gb * (b_new - b) > 0:
            t, w_prev, b_prev = 1.0, w_new, b_new
        else:
            t, w_prev, b_prev = t_next, w, b
        w, b = w_new, b_new
        curve.append(F)      # objective at the point the step was taken from
        lrs.append(1.0)
        budget -= 1
        k += 1
    # -- Newton in the coordinates (u, b'), w = V u ---------------------------
    r, F, th, gw, gb, gnorm = state(w, b, exact=True)
    certified = gnorm <= 1e-12
    if not curve:
        curve.append(F)
        lrs.append(1.0)
    while not certified and budget > 0:
        h = sn * (1.0 - th * th)
        H = des.aug_gram(h)
        pen = np.full(des.rank, alpha)
        if des.fit_intercept:
            pen = np.append(pen, 0.0)
        H[np.diag_indices_from(H)] += pen
        gu = des.V.T @ gw
        grad = np.append(gu, gb) if des.fit_intercept else gu
        delta = -_psd_solve(H, grad)
        dw = des.V @ delta[:des.rank]
        db = float(delta[-1]) if des.fit_intercept else 0.0
        q = des.matvec(dw, exact=True) - float(xbar @ dw) + db
        # exact line search: Newton on the smooth convex phi(s) = F(x + s d)
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
        if not (np.isfinite(s) and s > 0):
            s = 1.0
        r2, F2, th2, gw2, gb2, gn2 = state(w + s * dw, b + s * db, exact=True)
        if not F2 <= F + 1e-15 * abs(F):
            # backtracking on the Newton direction
            s = 0.5
            while s > 1e-10:
                r2, F2, th2, gw2, gb2, gn2 = state(w + s * dw, b + s * db, exact=True)
                if F2 <= F:
                    break
                s *= 0.5
            if not F2 <= F:
                break
        w, b = w + s * dw, b + s * db
        stalled = F - F2 <= 1e-16 * abs(F2)
        r, F, th, gw, gb, gnorm = r2, F2, th2, gw2, gb2, gn2
        budget -= 1
        curve.append(F)
        lrs.append(float(s))
        if verbose > 1:
            print(f"[solve_linear] log_cosh Newton: F={F:.15g} |g|={gnorm:.3e} step={s:.3g}")
        certified = gnorm <= 1e-12
        if stalled and not certified:
            # round-off floor: no further decrease possible
            certified = gnorm <= 1e-9
            break
    return w, b, curve, lrs, certified, gnorm


def _solve_logcosh(des, Y, alpha, W, B_init, warm, max_iter, verbose):
    k = Y.shape[1]
    B = np.zeros(k)
    curves, lrs0, cert_all = [], None, True
    for j in range(k):
        y = np.asarray(Y[:, j], dtype=np.float64)
        w = des.V @ (des.V.T @ W[:, j])
        if B_init is not None:
            b = float(B_init[j]) + float(des.xbar @ w) if des.fit_intercept else 0.0
        else:
            b = 0.0
            if des.fit_intercept:
                b = _logcosh_constant(des.residual(y, w, 0.0), des.sn)
        if warm:
            # a warm start at the optimum returns at once
            r = des.residual(y, w, b)
            v = des.sn * np.tanh(r)
            gw = -des.rmatvec(v, exact=True) + alpha * w
            gb = -float(v.sum()) if des.fit_intercept else 0.0
            gz = (des.V.T @ gw) / np.sqrt(des.g + alpha)
            if math.sqrt(float(gz @ gz) + gb * gb) <= 1e-12:
                W[:, j] = w
                B[j] = b - float(des.xbar @ w) if des.fit_intercept else 0.0
                curves.append([])
                lrs0 = [] if j == 0 else lrs0
                continue
        w, b, curve, lrs, cert, _ = _solve_logcosh_column(des, y, alpha, w, b, max_iter, verbose)
        W[:, j] = w
        B[j] = b - float(des.xbar @ w) if des.fit_intercept else 0.0
        curves.append(curve)
        if j == 0:
            lrs0 = lrs
        cert_all &= cert
    return W, B, max(len(c) for c in curves), _sum_curves(curves), lrs0, cert_all


def _logcosh_constant(r, sn):
    """Best constant for log-cosh of the residuals ``r`` (Newton from the median)."""
    c = float(np.median(r))
    for _ in range(100):
        t = np.tanh(r - c)
        g = float(sn @ t)
        h = float(sn @ (1.0 - t * t))
        step = g / max(h, 1e-12)
        step = max(min(step, 1.0), -1.0)
        c += step
        if abs(step) <= 1e-15 * (1.0 + abs(c)):
            break
    return c


# ----------------------------------------------------------------------------
# Entry point
# ----------------------------------------------------------------------------


def _blas_limit(d):
    """One BLAS thread for the many small passes (matrix-vector products with
    a narrow X are memory bound; threads only add synchronisation, and under
    load oversubscription makes them many times slower).  Wide designs keep
    the default."""
    if d >= 128:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _loss_kind(loss):
    name = getattr(loss, "name", None)
    if name == "squared_error":
        return "squared", None, 1.0
    if name == "absolute_error":
        return "pinball", 0.5, 2.0
    if name == "quantile":
        return "pinball", float(loss.quantile), 1.0
    if name == "log_cosh":
        return "log_cosh", None, 1.0
    raise ValueError(f"solve_linear does not support the loss {loss!r}")


def solve_linear(X, Y, loss, sample_weight, *, alpha=0.0, fit_intercept=True,
                 coef_init=None, intercept_init=None, max_iter=1000, tol=1e-10, verbose=0):
    """Exact full-batch solver for linear models with a regression loss.

    Minimises ``sum_i s_i sum_k loss(y_ik, x_i W_k + b_k) / sum_i s_i
    + alpha/2 ||W||_F^2`` (intercept not penalised); see the module
    docstring for the method.

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (n_samples, n_features)
        float32 or float64 (other dtypes are converted to float64).
    Y : ndarray of shape (n_samples, n_outputs) or (n_samples,)
    loss : HalfSquaredError, AbsoluteError, PinballLoss or LogCosh
        From :mod:`sklipschitz._engine.losses` (dispatch on ``loss.name``).
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative; rows of weight 0 are ignored.
    alpha : float >= 0
    fit_intercept : bool
    coef_init, intercept_init : ndarray, optional
        Starting point (warm start).
    max_iter : int
        Maximum number of gradient and Newton iterations per output.  The
        exact finish of the pinball and absolute losses always runs.
    tol : float
        Relative objective gap of the squared loss accepted as converged.
    verbose : int

    Returns
    -------
    LinearSolution
    """
    kind, tau, scale = _loss_kind(loss)
    alpha = float(alpha)
    if not (alpha >= 0 and math.isfinite(alpha)):
        raise ValueError(f"alpha must be a finite number >= 0, got {alpha!r}")
    if sp.issparse(X):
        if X.format not in ("csr", "csc"):
            X = X.tocsr()
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        if not np.all(np.isfinite(X.data)):
            raise ValueError("X contains NaN or infinity")
    else:
        X = np.asarray(X)
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        if X.ndim != 2:
            raise ValueError("X must be 2-dimensional")
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or infinity")
    dtype = X.dtype
    n, d = X.shape
    Y = np.asarray(Y)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.shape[0] != n:
        raise ValueError(f"X has {n} rows but Y has {Y.shape[0]}")
    Y = Y.astype(dtype, copy=False)
    if not np.all(np.isfinite(Y)):
        raise ValueError("Y contains NaN or infinity")
    k = Y.shape[1]
    if sample_weight is None:
        s = np.ones(n)
    else:
        s = np.asarray(sample_weight, dtype=np.float64).ravel()
        if s.shape[0] != n:
            raise ValueError("sample_weight has the wrong length")
        if not np.all(np.isfinite(s)) or np.any(s < 0):
            raise ValueError("sample_weight must be finite and non-negative")
    if n == 0 or not s.sum() > 0:
        raise ValueError("at least one sample with a positive weight is needed")
    # rows of weight zero are absent
    if np.any(s == 0):
        keep = s > 0
        X = X[keep] if not sp.issparse(X) else X[np.flatnonzero(keep)]
        Y = Y[keep]
        s = s[keep]
    sn = s / s.sum()
    uniform = bool(np.all(s == s[0]))
    if uniform:
        sn = np.full(s.size, 1.0 / s.size)
    des = _Design(X, sn, bool(fit_intercept), uniform)

    warm = coef_init is not None
    W = np.zeros((d, k))
    if warm:
        W[...] = np.asarray(coef_init, dtype=np.float64).reshape(d, k)
    B = None
    if intercept_init is not None and fit_intercept:
        B = np.asarray(intercept_init, dtype=np.float64).reshape(-1)
        B = np.broadcast_to(B, (k,)).copy()
    max_iter = int(max_iter)

    with np.errstate(over="ignore", under="ignore"), _blas_limit(d):
        if kind == "squared":
            W = des.V @ (des.V.T @ W)
            if B is None:
                B0 = (Y.T @ sn).astype(np.float64) - des.xbar @ W if fit_intercept else np.zeros(k)
            else:
                B0 = B
            Bc = B0 + des.xbar @ W if fit_intercept else np.zeros(k)
            W, Bc, n_iter, curve, lrs, cert = _solve_squared(
                des, Y.astype(np.float64), alpha, W, Bc, max_iter, tol, verbose)
            B = Bc - des.xbar @ W if fit_intercept else np.zeros(k)
            converged = cert
        elif kind == "pinball":
            W, B, n_iter, curve, lrs, cert, converged = _solve_pinball(
                des, Y, tau, scale, alpha, W, B, warm or B is not None, max_iter, tol, verbose)
        else:
            W, B, n_iter, curve, lrs, cert = _solve_logcosh(
                des, Y, alpha, W, B, warm or B is not None, max_iter, verbose)
            converged = cert
    if not fit_intercept:
        B = np.zeros(k)
    if not (np.all(np.isfinite(W)) and np.all(np.isfinite(B))):  # pragma: no cover
        warnings.warn("solve_linear produced non-finite values; returning zeros",
                      RuntimeWarning)
        W = np.zeros((d, k))
        B = np.zeros(k)
        converged = cert = False
    return LinearSolution(
        coef=W.astype(dtype), intercept=np.asarray(B, dtype=np.float64).astype(dtype),
        n_iter=int(n_iter), loss_curve=[float(v) for v in curve],
        learning_rate_history=[float(v) for v in (lrs or [])],
        converged=bool(converged), certified=bool(cert),
    )
