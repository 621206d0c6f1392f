"""FISTA on the smoothed pinball loss, in whitened coordinates.

FISTA (Beck & Teboulle 2009) with gradient-test restarts (O'Donoghue &
Candes 2015) on the Moreau envelope of the pinball loss, shifted so that its
quadratic zone is ``|r| < mu/2``: the derivative of the smoothed loss in the
residual is ``psi = clip(r/mu + tau - 1/2, tau - 1, tau)``.  In whitened
coordinates (``z = diag(g + alpha mu)^(1/2) V' w``) the smoothness constant
of the smoothed problem is exactly ``L = 1/mu``, and every step is at
``1/L = mu``.  The condition number of the smoothed problem is about one over
the fraction of points in the zone: FISTA is efficient while the zone is
wide and slow once it is narrow (the Newton phase takes over,
:mod:`sklipschitz._exact.newton`).

Each iteration is one fused pass over ``X`` (``X w`` and ``X' psi`` on the
same row block while it is in cache).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["fista"]

# X larger than this (bytes) is read in row blocks, each block used for both
# products of an iteration while it is in cache
_FUSE_BYTES = 16 << 20


def fused_blocks(pb):
    """Row blocks of the fused passes: one block when X fits in cache,
    else about 4 MB each (X is then read from memory once per iteration,
    not twice: the block is still in the last-level cache)."""
    des = pb.des
    X = des.X
    if des.sparse or X.nbytes <= _FUSE_BYTES:
        return [(0, des.n)]
    B = max(1024, (1 << 22) // max(des.d * X.itemsize, 1))
    return [(i, min(i + B, des.n)) for i in range(0, des.n, B)]


def fused_pass(pb, w, off, mu, blocks, rbuf, pbuf, sn_dt):
    """One fused pass at the residual ``r = y - X w - off``.

    Returns ``(sum sn r, sum sn min(r, 0), sum sn psi, X' (sn psi))`` with
    ``psi = clip(r/mu + tau - 1/2, tau - 1, tau)``.
    """
    des, y, tau = pb.des, pb.y, pb.tau
    X, uniform = des.X, des.uniform
    dt = des.dtype
    wd = w.astype(dt)
    a, cc = 1.0 / mu, (tau - 0.5) - off / mu
    tot = neg = gs = 0.0
    g = np.zeros(des.d)
    for i, j in blocks:
        Xb = X[i:j]
        rb, ps = rbuf[:j - i], pbuf[:j - i]
        if des.sparse:
            rb[:] = Xb @ wd
        else:
            np.matmul(Xb, wd, out=rb)
        np.subtract(y[i:j], rb, out=rb)
        np.minimum(rb, off, out=ps)
        if uniform:
            tot += float(rb.sum())
            neg += float(ps.sum())
        else:
            sb = des.sn[i:j]
            tot += float(sb @ rb)
            neg += float(sb @ ps)
        np.multiply(rb, a, out=ps)
        ps += cc
        np.clip(ps, tau - 1.0, tau, out=ps)
        if not uniform:
            ps *= sn_dt[i:j]
        gs += float(ps.sum(dtype=np.float64))
        g += np.asarray(Xb.T @ ps, dtype=np.float64)
    if uniform:
        s = float(des.sn[0]) if des.n else 0.0
        tot, neg, gs, g = tot * s, neg * s, gs * s, g * s
    # true residual r - off: sums of sn (r - off), sn min(r - off, 0)
    return tot - off, neg - off, gs, g


def fista(pb, w, b, mus, steps, budget):
    """FISTA at step ``mu`` (= 1/L in whitened coordinates) on the pinball
    loss smoothed at the widths ``mus``, gradient restarts, a momentum
    restart per width."""
    des, tau = pb.des, pb.tau
    dt = des.dtype
    sn_dt = None if des.uniform else des.sn.astype(dt)
    blocks = fused_blocks(pb)
    m = max(j - i for i, j in blocks) if blocks else 0
    rbuf = np.empty(m, dtype=dt)
    pbuf = np.empty(m, dtype=dt)
    xbar = des.xbar
    for mu in mus:
        if budget <= 0:
            break
        inv = 1.0 / (des.g + pb.alpha * mu)
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
            tot, neg, gsum, gx = fused_pass(pb, wy, off, mu, blocks, rbuf, pbuf, sn_dt)
            pb.curve.append(pb.objective(tau * tot - neg, wy))
            pb.lrs.append(mu)
            # gradient of the smoothed objective in (w, b')
            gw = -(gx - xbar * gsum)
            gw += pb.alpha * wy
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
        if pb.verbose > 1:
            print(f"[solve_linear] mu={mu:.3e} objective {pb.curve[-1]:.10g}")
    return w, b
