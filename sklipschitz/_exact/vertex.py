"""The exact finish of the pinball problem: reduced problems and the LP vertex.

* :func:`reduced_problem`: keep a set ``K`` of points and merge the others
  into two pseudo-rows by residual sign ("globbing", Portnoy & Koenker
  1997); exact for the whole problem while every merged point keeps its
  sign.
* :func:`solve_reduced`: Newton continuation in ``mu`` on the reduced
  problem, then, for ``alpha = 0``, the exact piecewise-linear path of the
  smoothed solution down to ``mu = 0`` (:func:`path_to_vertex`, each event a
  point entering or leaving the zone), ending at the LP vertex; for
  ``alpha > 0`` (a QP) the exact solution of the KKT system of the partition
  found (:func:`partition_solve`), corrected by an active-set loop for ties
  (:func:`active_set`).  HiGHS (:func:`lp_reduced`) is only a fallback of
  the LP case.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .certificate import BOX_TOL, check_reduced
from .design import psd_solve
from .newton import newton

__all__ = ["reduced_problem", "solve_reduced", "partition_solve", "active_set",
           "path_to_vertex", "lp_reduced", "lp_vertex"]

# continuation factor of the exact finish and its number of levels
_FINISH_MU_FACTOR = 0.1
_FINISH_MAX_LEVELS = 40


def reduced_problem(pb, r, K):
    """Kept rows ``K`` plus the two glob pseudo-rows (whitened, float64).

    The points outside ``K`` are merged by the sign of ``r`` into their
    weighted mean row and mean target with their total weight; while
    every merged point keeps its sign, a pseudo-row contributes exactly
    what its points do (one pass over the data for both).
    """
    des = pb.des
    n = des.n
    if K.size == n:
        return des.rows(K), np.asarray(pb.y64[K], dtype=np.float64), des.sn[K], 0
    # the glob sums first (one pass, no (n, 2) weight matrix), then the
    # band with room for the pseudo-rows (no copy of it)
    code = np.full(n, 2, dtype=np.int8)
    code[r > 0] = 1
    code[K] = 0
    G, sv, sy = des.glob_sums(pb.y64, code)
    del code
    globs = [j for j in range(2) if sv[j] > 0]
    m = K.size
    A = des.rows(K, extra=len(globs))
    yK = np.empty(m + len(globs))
    snK = np.empty(m + len(globs))
    yK[:m] = pb.y64[K]
    np.take(des.sn, K, out=snK[:m])
    for i, j in enumerate(globs):
        A[m + i, :des.rank] = G[:, j] / sv[j]
        if des.fit_intercept:
            A[m + i, -1] = 1.0
        yK[m + i] = sy[j] / sv[j]
        snK[m + i] = sv[j]
    return A, yK, snK, len(globs)


def solve_reduced(pb, A, y, sn, beta, mu):
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
    pen = pb.penalty_vector()
    p = A.shape[1]
    nz_prev = -1
    mu_done = mu
    for level in range(_FINISH_MAX_LEVELS):
        beta, zone, r, nsteps = newton(pb, A, y, sn, pen, beta, mu)
        mu_done = mu
        nz = int(zone.sum())
        cands = []
        if pb.alpha == 0:
            # small zone, or a zone that no longer shrinks (ties: more
            # than p points interpolated)
            if nz <= 3 * p or nz == nz_prev or level == _FINISH_MAX_LEVELS - 1:
                cand = path_to_vertex(pb, A, y, sn, beta, mu)
                if cand is not None:
                    cands.append(("path", cand))
                cands.append(("lp", None))
        else:
            cands.append(("kkt", active_set(pb, A, y, sn, pen, zone, r, beta)))
        viol, how = np.inf, ""
        for how, cand in cands:
            if cand is None:
                cand = lp_reduced(pb, A, y, sn)
                if cand is None:
                    continue
            viol = check_reduced(pb, A, y, sn, cand, pen)
            if viol <= BOX_TOL:
                break
        if pb.verbose > 1:
            print(f"[solve_linear]   level {level}: mu={mu:.3e} |zone|={nz} "
                  f"newton steps {nsteps} {how} KKT violation {viol:.2e}")
        if viol <= BOX_TOL:
            return cand, True, 0.0
        if pb.alpha == 0 and cands:
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


def partition_solve(pb, A, y, sn, pen, Z, pos, beta):
    """Exact solution of the KKT system of the partition (sign(r), Z).

    ``A_Z beta = y_Z`` (zero residuals on Z) and ``pen * beta - A_Z' c =
    g`` (stationarity, ``g`` the contribution of the points off Z).  With
    ``A_Z = U S V'`` (rank k): ``beta = V_k S^-1 U_k' y_Z + V_perp theta``
    and ``theta`` solves the stationarity projected on ``V_perp``
    (where ``A_Z' c`` has no component).  Components the system leaves
    free keep their current value ``beta``.
    """
    tau = pb.tau
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
        theta = theta0 + psd_solve(Hp, rhs) if np.any(pen) else theta0
        beta_new = beta_new + Vp @ theta
    return beta_new


def active_set(pb, A, y, sn, pen, zone, r, beta, max_iter=20):
    """Exact solution from the partition of a smoothed solution (alpha > 0).

    Solves the KKT system of the partition, then moves points whose
    multiplier left the box ``[tau - 1, tau]`` off ``Z`` and points whose
    residual changed sign onto ``Z``, until the partition is consistent.
    """
    tau = pb.tau
    Z = zone.copy()
    pos = r > 0
    tried = set()
    for _ in range(max_iter):
        key = np.flatnonzero(Z).tobytes() + np.flatnonzero(pos & ~Z).tobytes()
        if key in tried:
            break
        tried.add(key)
        cand = partition_solve(pb, A, y, sn, pen, Z, pos, beta)
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
        up = az > tau + BOX_TOL
        lo = az < tau - 1.0 - BOX_TOL
        flip = (~Z) & (np.abs(rc) > tol_r) & ((rc > 0) != pos)
        if not (up.any() or lo.any() or flip.any()):
            return cand
        # multipliers out of the box leave Z on the side they point to
        Z[idx[up | lo]] = False
        pos[idx[up]] = True
        pos[idx[lo]] = False
        Z[flip] = True
    return cand


def path_to_vertex(pb, A, y, sn, beta, mu, max_events=None):
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
    tau = pb.tau
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


def lp_reduced(pb, A, y, sn):
    """The reduced LP (alpha = 0) by HiGHS, as a fallback; vertex polished."""
    return lp_vertex(A, y, sn, pb.tau, method="highs-ds", options={"presolve": False})


def lp_vertex(A, y, sn, tau, method="highs", options=None):
    """``argmin_beta sum sn rho_tau(y - A beta)`` by HiGHS (dense or sparse ``A``).

    Solves the dual ``max y'a`` s.t. ``A'a = 0``, ``sn (tau - 1) <= a <= sn
    tau`` (scaled to O(1) bounds and targets); ``beta`` is the multiplier of
    the equality constraints.  When exactly ``p`` duals are strictly inside
    their box, the vertex they define (``A_I beta = y_I``) is solved exactly.
    Returns None when HiGHS fails.
    """
    from scipy.optimize import linprog

    m, p = A.shape
    f = m / sn.sum()
    ys = np.abs(y).max(initial=0.0) + 1e-300
    AT = A.T.tocsr() if sp.issparse(A) else A.T
    res = linprog(-y / ys, A_eq=AT, b_eq=np.zeros(p),
                  bounds=np.column_stack([f * sn * (tau - 1.0), f * sn * tau]),
                  method=method, options=options)
    if res.status != 0:
        return None
    beta = -np.asarray(res.eqlin.marginals) * ys
    d = res.x / (f * sn)
    inner = np.flatnonzero((d > tau - 1.0 + 1e-9) & (d < tau - 1e-9))
    if inner.size == p:
        with np.errstate(all="ignore"):
            try:
                exact = (np.atleast_1d(spla.spsolve(A[inner].tocsc(), y[inner]))
                         if sp.issparse(A) else np.linalg.solve(A[inner], y[inner]))
            except np.linalg.LinAlgError:
                exact = beta
        if np.all(np.isfinite(exact)):
            return exact
    return beta
