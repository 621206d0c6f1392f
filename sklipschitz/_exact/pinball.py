"""Pinball (quantile) and absolute error: the driver of the exact solver.

For each output (absolute error = 2 x pinball(0.5)):

a. FISTA on the smoothed loss at ``mu = s0 (1, 0.3)`` (``s0`` the mean
   absolute residual of the best constant), 10 steps each
   (:mod:`.smoothing`).
b. Semismooth Newton (:mod:`.newton`) with ``mu`` shrunk until about
   ``M/2`` points are in the zone (:func:`newton_continuation`), on the whole
   data set, or, when that is large, on the 20% of points of smallest
   ``|r|`` with the others globbed.
c. Exact finish (:func:`finish`): keep the ``M = max(20 p, n/50)`` points of
   smallest ``|r|``, glob the others, solve that reduced problem exactly
   (:mod:`.vertex`).
d. Certificate (:mod:`.certificate`): all residuals are recomputed and the
   KKT conditions of the *full* problem checked in float64.  If a point
   outside the kept set changed sign, the kept set grows around the new
   point and the finish is repeated.
"""

from __future__ import annotations

import numpy as np

from .._engine.losses import weighted_quantile
from .certificate import certify
from .newton import DesignOp, newton
from .problem import PinballProblem
from .result import sum_curves
from .smoothing import fista
from .vertex import reduced_problem, solve_reduced

__all__ = ["REQUIRED_ATTRS", "pinball_form", "solve"]

#: what this solver uses of the loss: ``lipschitz`` (``scale * max(tau,
#: 1 - tau)``, which gives the factor ``scale``) and, for the pinball loss,
#: ``quantile`` (the absolute error is the level 1/2)
REQUIRED_ATTRS = ("lipschitz",)

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
# rounds of the kept-set enlargement before the whole data set is kept
_MAX_ROUNDS = 4


def pinball_form(loss):
    """``(tau, scale)`` with ``loss(y, raw) = scale * rho_tau(y - raw)``."""
    tau = float(getattr(loss, "quantile", 0.5))
    return tau, float(loss.lipschitz) / max(tau, 1.0 - tau)


def best_constant(v, sn, tau):
    """The weighted ``tau``-quantile of ``v``: the best constant model."""
    return float(weighted_quantile(v, sn, tau)[0])


def solve(des, Y, loss, alpha, W, B_init, warm, max_iter, tol, verbose):
    """All outputs; returns ``(W, B, n_iter, curve, lrs, certified, converged)``.

    The objective is ``scale * pinball + alpha/2 |w|^2``, so each output
    solves the pinball problem with the penalty ``alpha / scale``.
    """
    tau, scale = pinball_form(loss)
    k = Y.shape[1]
    B = np.zeros(k)
    curves, lrs0, iters = [], None, []
    cert_all = conv_all = True
    for j in range(k):
        pb = PinballProblem(des, Y[:, j], tau, alpha / scale, scale, verbose)
        w = des.project(W[:, j])
        b = des.centred_intercept(w, B_init[j]) if B_init is not None else 0.0
        w, b, certified, converged = _solve_column(pb, w, b, B_init is None, warm, max_iter)
        W[:, j] = w
        B[j] = des.raw_intercept(w, b)
        curves.append(pb.curve)
        if j == 0:
            lrs0 = pb.lrs
        iters.append(len(pb.curve))
        cert_all &= certified
        conv_all &= converged
    return W, B, max(iters), sum_curves(curves), lrs0, cert_all, conv_all


def _solve_column(pb, w, b, fit_constant, warm, max_iter):
    """One output from ``(w, b')``; returns ``(w, b', certified, converged)``."""
    des, tau = pb.des, pb.tau
    r = des.residual(pb.y64, w, b, exact=True)
    if des.fit_intercept and fit_constant:
        q = best_constant(r, des.sn, tau)
        b += q
        r -= q
    if des.rank == 0 or (not np.any(r) and (pb.alpha == 0 or not np.any(w))):
        if des.rank == 0:
            # no usable direction: the intercept-only model, exact
            w = np.zeros(des.d)
            b = best_constant(pb.y64, des.sn, tau) if des.fit_intercept else 0.0
            r = des.residual(pb.y64, w, b)
        # else zero loss (and no penalty): optimal
        if not warm:
            pb.record(pb.value(r, w))
        return w, b, True, True
    if warm:
        if certify(pb, w, b)[0]:
            return w, b, True, True
        # try the exact finish straight from the warm start
        nk = min(max(20 * des.p, des.n // 50), des.n - 1)
        mu = 2.0 * float(np.partition(np.abs(r), nk // 8)[nk // 8]) + 1e-300
        w2, b2, cert, _ = finish(pb, w, b, r, mu, max_rounds=1, final_all=False)
        if cert:
            return w2, b2, True, True
    s0 = float(des.sn @ np.abs(r))
    n, p = des.n, des.p
    M = max(20 * p, n // 50)
    mus = [s0 * f for f in _MU_SCHEDULE]
    if M < 0.5 * n:
        # r is recomputed after the Newton phase: not kept alive through it
        del r
        des.prefer_columns()
        w, b = fista(pb, w, b, mus, _STEPS_PER_MU, max(max_iter - 1, 0))
        w, b, mu, wide = newton_continuation(pb, w, b, M, mus[-1])
        r = des.residual(pb.y64, w, b, exact=True)
        if wide:
            # the Newton phase on the band counts as one step
            pb.record(pb.value(r, w))
    else:
        mu = mus[0]
    return finish(pb, w, b, r, mu)


def newton_continuation(pb, w, b, M, mu_last):
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
    des = pb.des
    n = des.n
    if not _FULL_NEWTON_LEVELS:
        return w, b, mu_last, False
    pen = pb.penalty_vector()
    beta = des.join(w, b)
    full = DesignOp(des)
    r = pb.y - full.mv(beta)
    j0 = min(n - 1, max(M, int(_FULL_NEWTON_START * n)))
    mu = 2.0 * float(np.partition(np.abs(r), j0)[j0])
    if not mu > 0:
        return w, b, mu_last, False
    jw = int(_WIDE_BAND * n)
    wide = jw >= 4 * j0 and jw < n
    if wide:
        Kw = np.argpartition(np.abs(r), jw)[:jw].copy()
        A, yv, snv, _ = reduced_problem(pb, r, Kw)
        op = A
        del Kw
    else:
        op, yv, snv = full, pb.y, des.sn
    # newton recomputes the residuals of the points it is given
    del r
    nz_prev = -1
    for level in range(_FULL_NEWTON_LEVELS):
        beta, zone, r, ns = newton(pb, op, yv, snv, pen, beta, mu,
                                        max_steps=_FULL_NEWTON_STEPS, record=not wide)
        nz = int(np.count_nonzero(zone))
        if pb.verbose > 1:
            print(f"[solve_linear] {'band' if wide else 'full-data'} Newton at mu={mu:.3e}: "
                  f"{ns} steps, |zone|={nz}")
        if nz <= 0.6 * M or nz == nz_prev:
            # small enough, or ties: a zone that no longer shrinks
            break
        nz_prev = nz
        mu *= min(max(0.5 * M / max(nz, 1), 0.1), 0.5)
    w, b = des.split(beta)
    return w, b, mu, wide


def finish(pb, w, b, r, mu, max_rounds=_MAX_ROUNDS, final_all=True):
    """Globbing + exact reduced solve + certificate, growing the kept set.

    ``max_rounds`` rounds on kept sets, then (``final_all``) one on the
    whole data set.  Returns ``(w, b', certified, converged)``.  Without a
    certificate
    (which needs the exact KKT conditions of the full problem) the point
    still counts as converged when it minimises the whole problem
    smoothed at a width ``mu`` with ``mu/8 <= 1e-8`` times the objective
    (the smoothed objective exceeds the exact one by at most ``mu/8``).
    """
    des = pb.des
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
            K = np.argpartition(np.abs(r), M)[:M].copy()
            if extra.size:
                K = np.union1d(K, extra)
        A, yK, snK, n_pseudo = reduced_problem(pb, r, K)
        # start where about an eighth of the kept points is in the zone
        j = max(min(K.size // 8, K.size - 1), min(2 * p, K.size - 1))
        mu_r = 2.0 * float(np.partition(np.abs(r[K]), j)[j])
        mu_r = min(mu, mu_r) if mu_r > 0 else mu
        beta_new, ok, mu_end = solve_reduced(pb, A, yK, snK, beta, mu_r)
        w_new, b_new = des.split(beta_new)
        cert, r_new, viol = certify(pb, w_new, b_new)
        F = pb.value(r_new, w_new)
        pb.record(F)
        if pb.verbose:
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
            converged = pb.scale * mu_end / 8 <= 1e-8 * max(F, 1e-300)
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
        if pb.curve[-1] != F:
            pb.record(F)
    return w, b, certified, converged
