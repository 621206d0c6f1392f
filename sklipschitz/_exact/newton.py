"""Semismooth Newton on the smoothed pinball loss, with an exact line search.

The smoothed problem (width ``mu``, see :mod:`.smoothing`) is piecewise
quadratic; its generalised Hessian is the Gram matrix of the points in the
zone ``|r - c mu| < mu/2``, divided by ``mu``.  Each Newton step is a gradient
step in coordinates whitened by that Hessian (``L = 1``), and the step
length along the direction is found exactly (:func:`line_search`), so the
iteration ends at the exact smoothed minimiser when a full step keeps the
zone.  It runs on a dense matrix of whitened rows (:class:`DenseOp`, the
reduced problems of :mod:`.vertex`) or on the whole data set
(:class:`DesignOp`, never densified).
"""

from __future__ import annotations

import math

import numpy as np

from .design import psd_solve

__all__ = ["DenseOp", "DesignOp", "newton", "line_search"]

NEWTON_MAX_STEPS = 50
# rows of the zone per product when its Gram matrix is accumulated
_ZONE_BLOCK = 4096


class DenseOp:
    """Dense whitened rows ``A`` (the reduced problem)."""

    def __init__(self, A):
        self.A = A
        self.p = A.shape[1]

    def mv(self, beta):
        return self.A @ beta

    def rmv(self, v):
        return self.A.T @ v

    def zone_gram(self, mask, s, mu):
        """``A_Z' diag(s_Z / mu) A_Z`` of the rows in ``mask``, accumulated
        over blocks of rows (no copy of the zone's rows)."""
        idx = np.flatnonzero(mask)
        H = np.zeros((self.p, self.p))
        for i in range(0, idx.size, _ZONE_BLOCK):
            k = idx[i:i + _ZONE_BLOCK]
            Ab = self.A[k]
            H += (Ab * (s[k] / mu)[:, None]).T @ Ab
        return H

    def trace(self, sn):
        return float(np.einsum("ij,ij,i->", self.A, self.A, sn))


class DesignOp:
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

    def zone_gram(self, mask, s, mu):
        """``A_Z' diag(s_Z / mu) A_Z`` of the points in ``mask`` (one gather)."""
        Az = self.des.rows(np.flatnonzero(mask))
        return (Az * (s[mask] / mu)[:, None]).T @ Az

    def trace(self, sn):
        return float(np.sum(self.des.g / self.des.g)) + float(self.des.fit_intercept)


def newton(pb, A, y, sn, pen, beta, mu, max_steps=NEWTON_MAX_STEPS, record=False):
    """Minimise the problem smoothed at width ``mu`` by semismooth Newton.

    ``A`` is a dense matrix of whitened rows (the reduced problem) or an
    :class:`DesignOp` (the whole data set).  The generalised Hessian is
    the Gram matrix of the points in the zone, ``/ mu``; the line search
    is exact (the objective is piecewise quadratic), so the iteration
    ends, at the exact smoothed minimiser, when a full step keeps the
    zone.
    """
    tau = pb.tau
    c = tau - 0.5
    op = A if isinstance(A, DesignOp) else DenseOp(A)
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
        del psi
        gnorm = float(np.abs(grad).max(initial=0.0))
        if gscale is None:
            # the gradient of the loss part is at most max(tau, 1 - tau)
            # times the rms row norm: round-off level well below that
            gscale = max(tau, 1.0 - tau) * math.sqrt(op.trace(sn) / op.p) + gnorm + 1e-300
        if gnorm <= gtol * gscale:
            break
        H = op.zone_gram(zone, sn, mu)
        # directions no zone point constrains are piecewise linear: a
        # tiny ridge turns them into steepest descent (the exact line
        # search picks the step)
        H[np.diag_indices_from(H)] += pen + ridge
        delta = -psd_solve(H, grad)
        if not np.all(np.isfinite(delta)) or not np.any(delta):
            break
        q = op.mv(delta)
        t = line_search(pb, u, q, sn, pen, beta, delta, mu, float(grad @ delta),
                              rtol=1e-6 if single else 1e-12)
        beta = beta + t * delta
        r = r - t * q
        if record:
            w = op.des.T @ beta[:op.des.rank]
            pb.record(pb.value(r, w, op.des.uniform), t)
        # a (numerically) full step that keeps the zone ends at the
        # exact minimiser of the smoothed problem
        full_prev, zone_prev = abs(t - 1.0) <= ttol, zone
    u = r / mu + c
    zone = (u > tau - 1.0) & (u < tau)
    return beta, zone, r, it + 1


def _region(u, lo, hi):
    """``np.digitize(u, [lo, hi], right=True)`` as int8 (0 at or below
    ``lo``, 1 in ``(lo, hi]``, 2 above ``hi``), without int64 temporaries."""
    return np.add(u > lo, u > hi, dtype=np.int8)


def line_search(pb, u0, q, sn, pen, beta, delta, mu, d0, t_hi=2.0, rtol=1e-12):
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
    tau = pb.tau
    lo_b, hi_b = tau - 1.0, tau
    pen_b, pen_d = float(pen @ (beta * delta)), float(pen @ (delta * delta))
    uniform = sn.size > 1 and sn[0] == sn[-1] and pb.des.uniform and \
        sn.size == pb.des.n
    s0 = float(sn[0]) if uniform else None
    v = q * (1.0 / mu)
    u1 = u0 - v
    psi1 = np.clip(u1, lo_b, hi_b)
    d1 = (-(s0 * float(q @ psi1)) if uniform else -float((sn * q) @ psi1)) + pen_b + pen_d
    scale = abs(d0) + 1e-300
    if 0.1 * d0 <= d1 <= rtol * scale:
        return 1.0
    reg0 = _region(u0, lo_b, hi_b)
    # u at t_hi (the shift in psi1's buffer)
    np.multiply(v, t_hi - 1.0, out=psi1)
    u1 -= psi1
    del psi1
    C = _region(u1, lo_b, hi_b) != reg0
    del u1
    zone0 = reg0 == 1
    del reg0
    sq = q * s0 if uniform else sn * q
    clip0 = np.clip(u0, lo_b, hi_b)
    # sums over all points, then the changing points removed
    a0 = float(sq @ clip0) - float(sq[C] @ clip0[C])
    del clip0
    a1 = float(sq[zone0] @ v[zone0])
    zC = zone0[C]
    del zone0
    sqC, u0C, vC = sq[C], u0[C], v[C]
    a1 -= float(sqC[zC] @ vC[zC])
    del C, zC

    def dphi(t):
        if t > t_hi:  # outside the precomputed range: all points
            u = u0 - t * v
            z = (u > lo_b) & (u < hi_b)
            return (-float(sq @ np.clip(u, lo_b, hi_b)) + pen_b + t * pen_d,
                    float(sq[z] @ v[z]) + pen_d)
        u = u0C - t * vC
        z = (u > lo_b) & (u < hi_b)
        return (-a0 + t * a1 - float(sqC @ np.clip(u, lo_b, hi_b)) + pen_b + t * pen_d,
                a1 + float(sqC[z] @ vC[z]) + pen_d)

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
