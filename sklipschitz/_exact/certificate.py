"""KKT certificate of the pinball problem (float64).

With the residual signs fixed, ``(w, b')`` is optimal exactly when a dual
vector ``c`` in the box ``sn_i [tau - 1, tau]`` exists for the zero-residual
points ``Z`` with ``A_Z' c = pen * beta - g`` (``g`` the contribution of the
other points, ``A`` the whitened rows): a small least-squares solve, or an
LP when there are more zero residuals than parameters (ties).  The check is
done on all residuals recomputed in float64, so a certified point is the
optimum of the full problem up to the tolerance ``BOX_TOL`` of the box.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BOX_TOL", "box_solve", "check_reduced", "certify"]

#: relative tolerance of the dual box in the certificate
BOX_TOL = 1e-9


def box_solve(B, rhs, lo, hi, gref):
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
    if v <= BOX_TOL or m <= B.shape[0]:
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


def _signs(r, scale, tau):
    """Zero residuals (round-off level relative to ``scale``) and the loss
    derivative ``a`` of the others (``tau`` above, ``tau - 1`` below)."""
    Z = np.abs(r) <= 1e-11 * (scale + 1e-300)
    a = np.where(r > 0, tau, tau - 1.0)
    a[Z] = 0.0
    return Z, a


def _violation(AZ, snZ, g, pen, beta, tau):
    """Box violation of the dual of the zero-residual rows ``AZ``."""
    rhs = pen * beta - g
    # whitened rows: sum sn |A_ij| <= 1, so the loss gradient is O(1)
    gref = max(tau, 1.0 - tau) + np.abs(pen * beta)
    return box_solve(AZ.T, rhs, snZ * (tau - 1.0), snZ * tau, gref)[1]


def check_reduced(pb, A, y, sn, beta, pen):
    """KKT violation of ``beta`` on the reduced problem (0 when optimal)."""
    fit = A @ beta
    r = y - fit
    Z, a = _signs(r, np.abs(y).max(initial=0.0) + np.abs(fit).max(initial=0.0), pb.tau)
    return _violation(A[Z], sn[Z], A.T @ (sn * a), pen, beta, pb.tau)


def certify(pb, w, b):
    """KKT check of ``(w, b')`` on the full problem (float64).

    Returns ``(certified, r, violation)`` with ``r`` the float64 residuals.
    """
    des = pb.des
    r = des.residual(pb.y64, w, b, exact=True)
    raw_scale = float(np.abs(pb.y64).max(initial=0.0)) + float(np.abs(pb.y64 - r).max(initial=0.0))
    Z, a = _signs(r, raw_scale, pb.tau)
    v = des.sn * a
    g = des.T.T @ des.rmatvec(v, exact=True)
    if des.fit_intercept:
        g = np.append(g, v.sum())
    idx = np.flatnonzero(Z)
    viol = _violation(des.rows(idx), des.sn[idx], g, pb.penalty_vector(), des.join(w, b), pb.tau)
    return viol <= BOX_TOL, r, viol
