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

def fused_pass(pb, w, off, mu, sn_dt):
    """One fused pass at the residual ``r = y - X w - off``.

    Returns ``(sum sn r, sum sn min(r, 0), sum sn psi, X' (sn psi))`` with
    ``psi = clip(r/mu + tau - 1/2, tau - 1, tau)``; each row block is used
    for both products while it is in cache
    (:meth:`~sklipschitz._exact.design.Design.reduce_rows`).
    """
    des, tau = pb.des, pb.tau
    # (the block function is shipped to dask workers: it captures no Design)
    uniform, sparse = des.uniform, des.sparse
    wd = w.astype(des.dtype)
    a, cc = 1.0 / mu, (tau - 0.5) - off / mu

    def block(Xb, yb, *sb):
        rb = Xb @ wd
        if sparse:
            rb = np.asarray(rb).ravel()
        np.subtract(yb, rb, out=rb)
        ps = np.minimum(rb, off)
        if uniform:
            tot, neg = float(rb.sum()), float(ps.sum())
        else:
            tot, neg = float(sb[0] @ rb), float(sb[0] @ ps)
        np.multiply(rb, a, out=ps)
        ps += cc
        np.clip(ps, tau - 1.0, tau, out=ps)
        if not uniform:
            ps *= sb[1]
        return tot, neg, float(ps.sum(dtype=np.float64)), np.asarray(Xb.T @ ps, dtype=np.float64)

    vecs = (pb.y,) if uniform else (pb.y, des.sn, sn_dt)
    tot, neg, gs, g = des.reduce_rows(block, *vecs)
    tot, neg, gs = float(tot), float(neg), float(gs)
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
            tot, neg, gsum, gx = fused_pass(pb, wy, off, mu, sn_dt)
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
