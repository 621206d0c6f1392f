"""L1 and elastic-net penalties in the exact solver.

Minimises, per output column, ``f(w, b') + l1 ||w||_1 + l2/2 ||w||^2`` on
the centred design ``X_c`` of a :class:`~sklipschitz._exact.design.Design`
(the intercept ``b'`` is free).  The soft-threshold is separable in the
original coordinates only, not in the whitened ones, so every phase works in
the original coordinates ``(w, b')``:

* proximal gradient steps (FISTA with restarts, Beck & Teboulle 2009) at
  ``1/L`` with the valid constant of the original coordinates, ``L =
  curvature * lambda_max([X_c, 1]' S [X_c, 1]) + l2``.  The centred
  columns are orthogonal to the intercept column under the weights, so the
  augmented Gram matrix is ``diag(G, 1)`` and ``lambda_max = max(g_max,
  1)``, known exactly from the eigendecomposition of the Design;
* squared error: the problem is the quadratic ``1/2 w'(G + l2 I)w - c'w +
  l1 ||w||_1`` on the ``d x d`` Gram matrix (``b' = sum sn y``); after the
  proximal steps, the feature-sign search (Lee, Battle, Raina & Ng 2007,
  an active-set method that terminates) solves it exactly: each step solves
  the linear system of the current signs and line-searches over the sign
  changes;
* log-cosh: proximal Newton (Lee, Sun & Saunders 2014): the quadratic model
  with the exact Hessian ``[X_c, 1]' diag(sn sech^2 r) [X_c, 1] + l2`` is
  minimised exactly with the L1 term by the same feature-sign search, then
  a backtracking line search on the true objective;
* pinball / absolute error with ``l2 = 0`` (an LP): proximal steps on the
  pinball loss smoothed at width ``mu`` (``L = lambda_max / mu``), then the
  exact finish: the points of smallest ``|r|`` are kept and the others
  merged into two pseudo-rows by residual sign (Portnoy & Koenker 1997, as in
  :mod:`.vertex`), and the reduced problem is solved exactly in its dual
  form ``max y'u`` s.t. ``|X_c'u| <= l1`` (componentwise), ``1'u = 0``,
  ``sn (tau - 1) <= u <= sn tau`` (HiGHS, a small LP: the kept rows are its
  variables, ``2d + 1`` constraints).  The vertex is then solved exactly
  from its interpolated points and its nonzero coefficients; the kept set
  grows until the certificate of the full problem holds.

The certificate (:func:`kkt_violation`, :func:`pinball_certificate`)
covers the subgradient of the L1 term: the smooth part's gradient ``g_j``
must satisfy ``g_j + l1 sign(w_j) = 0`` on the nonzero coefficients and
``|g_j| <= l1`` on the zero ones, computed on all the data in float64; for
the pinball loss the multipliers of the zero residuals are the unknowns of a
small feasibility problem (box ``sn [tau - 1, tau]``).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from .._engine.losses import HalfSquaredError, LogCosh, log_cosh, weighted_quantile
from .design import psd_solve
from .result import sum_curves
from .smoothing import fused_pass

__all__ = ["solve", "quad_l1", "alpha_max", "supported", "pinball_certificate",
           "kkt_violation"]

#: relative KKT violation accepted as optimal for the smooth losses
KKT_TOL = 1e-9
# accepted when no step decreases the objective any more (round-off level)
_KKT_FLOOR = 1e-7
#: relative tolerance of the dual box and the L1 bound of the pinball certificate
BOX_TOL = 1e-9
# proximal steps before the exact phases
_FISTA_SQUARED = 200
# the squared error's proximal steps stop when the signs were stable this long
_STABLE_SIGNS = 10
# rounds of proximal steps + feature-sign search of the squared error
_SQUARED_ATTEMPTS = 4
# relative proximal-point term of the feature-sign systems
_PROX_EPS = 1e-10
# relative round-off of a change of the objective in the feature-sign search
_ROUNDOFF = 1e-13
# damping of the proximal Newton model of log-cosh when its step fails
_DAMPING = (0.0, 1e-3, 1e-1, 1.0)
_FISTA_SMOOTH = 30
_PINBALL_MU = (1.0, 0.3, 0.1, 0.03)
_PINBALL_STEPS = 15
_MAX_ROUNDS = 4
# kept points of the exact finish: max(_KEEP_PER_PARAM p, n / _KEEP_DIVISOR)
_KEEP_PER_PARAM = 5
_KEEP_DIVISOR = 50
# HiGHS without presolve: the reduced dual LP is small, dense and always
# feasible and bounded (u = 0); presolve cost up to half its time
_LP_OPTIONS = {"presolve": False}


def supported(loss, l2):
    """True when the exact solver takes ``loss`` with an L1 term (and ``l2``)."""
    if isinstance(loss, (HalfSquaredError, LogCosh)):
        return True
    return hasattr(loss, "lipschitz") and _is_pinball(loss) and l2 == 0


def _is_pinball(loss):
    from .._engine.losses import AbsoluteError, PinballLoss

    return isinstance(loss, (AbsoluteError, PinballLoss))


def solve(des, Y, loss, l2, l1, W, B_init, warm, max_iter, tol, verbose, path=False):
    """All outputs; returns ``(W, B, n_iter, curve, lrs, certified, converged)``.

    ``path``: a point of a regularisation path (:mod:`.path`), warm-started
    at the previous penalty's solution: the squared error's feature-sign
    search and the pinball loss's exact finish start there, without the
    proximal steps first (they run when that alone does not certify).
    """
    k = Y.shape[1]
    B = np.zeros(k)
    curves, lrs0 = [], None
    cert_all = conv_all = True
    Y64 = np.asarray(Y, dtype=np.float64)
    for j in range(k):
        if des.fit_intercept and des.n and np.ptp(Y64[:, j]) == 0:
            # a constant target: w = 0 and b = y zero every residual, and
            # with them every gradient; the optimum of any of these penalties
            # (the iterations would only chase the round-off of the intercept)
            W[:, j] = 0.0
            B[j] = Y64[0, j]
            curves.append([0.0])
            if j == 0:
                lrs0 = [1.0]
            continue
        w0 = np.asarray(W[:, j], dtype=np.float64).copy()
        b0 = des.centred_intercept(w0, B_init[j]) if B_init is not None else None
        if isinstance(loss, HalfSquaredError):
            col = _Squared(des, Y64[:, j], l2, l1, verbose)
            col.signs_known = bool(path and warm)
            # (a sparse Gram is centred as X'SX - xbar xbar': its cancellation
            # error is that of the uncentred moments; the pass then certifies)
            col.gram_certificate = bool(path) and not des.sparse
        elif isinstance(loss, LogCosh):
            col = _LogCosh(des, Y64[:, j], l2, l1, verbose)
            col.newton_first = bool(path and warm)
        else:
            col = _Pinball(des, Y64[:, j], loss, l1, verbose)
            col.residuals_known = bool(path and warm)
        w, b, cert, conv = col.solve(w0, b0, max_iter)
        W[:, j] = w
        B[j] = des.raw_intercept(w, b)
        curves.append(col.curve)
        if j == 0:
            lrs0 = col.lrs
        cert_all &= cert
        conv_all &= conv
    return W, B, max(len(c) for c in curves), sum_curves(curves), lrs0, cert_all, conv_all


# -- quadratic + L1 -------------------------------------------------------------

def quad_l1(H, c, lam, x0, max_outer=None):
    """``argmin 1/2 x'Hx - c'x + sum_j lam_j |x_j|`` for a PSD ``H``.

    The feature-sign search (Lee, Battle, Raina & Ng 2007), from any start
    ``x0``: coordinates with ``lam_j = 0`` are always free.  A step solves
    the linear system of the current signs on the active set and stops at the
    best of the points where a coefficient changes sign on the way; the zero
    coordinate whose gradient exceeds its bound the most joins the active
    set with the sign that decreases the objective.  Once the nonzero
    coefficients are optimal for their signs (their condition (a)), the
    model's gradient is zero on them, so the step of the new coordinate,
    ``-[H_SS^-1]_jj g_j``, has the chosen sign and the objective decreases
    (their Lemma 4).  Before that (a warm start, whose coefficients are off
    their optimum) the new coordinate's step can come out with the opposite
    sign, along which the L1 term grows instead of shrinking, and no
    candidate decreases the objective: the search then drops the new
    coordinate and steps on the nonzero coefficients alone first, in the
    paper's order, instead of stopping short of the optimum.  When round-off
    still gives the step the wrong sign at an optimum of the nonzero
    coefficients, the new coordinate alone takes its exact step ``sign *
    (|g_j| - lam_j) / H_jj`` (a strict decrease).

    The steps are compared by their change of the objective, computed from
    the step itself (:func:`_change`), not as a difference of two objective
    values: the last steps to a KKT point change the objective by less than
    its round-off.  The search returns at a KKT point (to round-off), or when
    no step decreases the objective any more.
    """
    x = np.asarray(x0, dtype=np.float64).copy()
    n = x.size
    if n == 0:
        return x
    free = lam == 0
    if max_outer is None:
        max_outer = 4 * n + 20
    scale = float(np.abs(c).max(initial=0.0)) + float(lam.max(initial=0.0)) + 1e-300
    tol = 1e-13 * scale
    # set when a step on the nonzero coefficients finds no decrease: they are
    # optimal to round-off, whatever the test of their condition says
    settled = False
    for _ in range(max_outer):
        grad = H @ x - c
        active = (x != 0) | free
        theta = np.sign(x)
        excess = np.where(active, -np.inf, np.abs(grad) - lam)
        j = int(np.argmax(excess))
        activated = bool(excess[j] > tol)
        # (evaluated when needed: settled, or the test of condition (a))
        nonzero_ok = True if settled else None
        settled = False
        if activated:
            theta[j] = -np.sign(grad[j])
            active[j] = True
        elif nonzero_ok or _nonzero_ok(grad, x, lam, free, tol):
            return x                         # both optimality conditions hold
        first = True
        for _inner in range(4 * n + 10):
            S = np.flatnonzero(active)
            if S.size == 0:
                break
            if not first:
                grad = H @ x - c
            rhs = c[S] - lam[S] * theta[S]
            xs_old = x[S]
            HS = H[np.ix_(S, S)]
            # a proximal-point term eps |x - x_old|^2 / 2 keeps the system
            # solvable when H_SS is singular (more active coefficients than
            # the data determine): the step then runs along the flat
            # directions to the next sign change; repeated steps converge to
            # the exact solution of a regular block
            eps = _PROX_EPS * max(float(np.max(np.diag(HS), initial=0.0)), 1e-300)
            with np.errstate(over="ignore", invalid="ignore"):
                xs_new = psd_solve(HS + eps * np.eye(S.size), rhs + eps * xs_old)
                dxs = xs_new - xs_old
            if not np.all(np.isfinite(dxs)):
                # H_SS is zero to round-off (a log-cosh Hessian where every
                # residual saturates): no finite step decreases the model
                return x
            best = None
            new_j = activated and first
            if not (new_j and dxs[S == j][0] * theta[j] <= 0):
                best = _sign_change_search(HS, grad, lam, x, S, xs_old, dxs, free)
            if new_j and (best is None or not best[1]):
                if not (nonzero_ok or _nonzero_ok(grad, x, lam, free, tol)):
                    # the other coefficients are off their optimum: the step
                    # of their signs alone first (Lee et al.'s order)
                    active[j], theta[j], activated = False, 0.0, False
                    continue
                # the new coordinate's step has the wrong sign or does not
                # decrease (round-off): its exact coordinate step instead
                v = x.copy()
                if H[j, j] > 0:
                    v[j] = theta[j] * (abs(grad[j]) - lam[j]) / H[j, j]
                best = (1.0, _decreases(H, grad, lam, x, v), v)
            best_t, decrease, best_v = best
            if not decrease:
                if new_j:
                    return x                 # no decrease left (round-off)
                # the nonzero coefficients are optimal to round-off: the
                # outer loop checks the zero ones
                settled = first
                break
            first = False
            x = best_v
            if best_t == 1.0:
                break
            active = (x != 0) | free
            theta = np.sign(x)
    return x


def _change(H, grad, lam, x, v):
    """``(F(v) - F(x), size)`` for the objective ``F`` of :func:`quad_l1`
    (``grad`` its smooth gradient at ``x``), computed from the step ``dx =
    v - x``: ``sum_j (grad_j + lam_j s_j) dx_j + 1/2 dx'H dx + 2 sum lam_j
    |v_j|`` over the coefficients whose sign flips, ``s_j`` the sign of
    ``x_j`` (of ``v_j`` when ``x_j = 0``).  Exact in exact arithmetic, and
    accurate to the size of its terms, however small the step; ``size``
    is that size (the scale of its round-off)."""
    dx = v - x
    k = np.flatnonzero(dx)
    dx, xk, vk = dx[k], x[k], v[k]
    s = np.where(xk != 0, np.sign(xk), np.sign(vk))
    lin = (grad[k] + lam[k] * s) * dx
    flip = 2.0 * lam[k] * np.where(np.sign(vk) == -s, np.abs(vk), 0.0)
    quad = 0.5 * float(dx @ (H[np.ix_(k, k)] @ dx))
    change = float(lin.sum()) + float(flip.sum()) + quad
    size = float(np.abs(lin).sum()) + float(flip.sum()) + abs(quad)
    return change, size


def _decreases(H, grad, lam, x, v):
    change, size = _change(H, grad, lam, x, v)
    return change < -_ROUNDOFF * size


def _sign_change_search(HS, grad, lam, x, S, xs_old, dxs, free):
    """The line search of a feature-sign step on ``x[S] + t dxs``, ``t`` in
    ``(0, 1]``: the best of the full step and of the points where a nonzero
    coefficient reaches zero, by their change of the objective (as
    :func:`_change`, all candidates at once).  Returns ``(t, decreases,
    point)``.

    A tie (to round-off) goes to the sign change: when the optimum of the
    current signs has a coefficient at zero, the full step leaves it at a
    round-off value of either sign, the crossing sets it to exactly zero."""
    with np.errstate(divide="ignore", invalid="ignore"):
        tz = -xs_old / dxs
    cross = (~free[S]) & (xs_old != 0) & (tz > 0) & (tz < 1)
    ts = np.concatenate([np.sort(tz[cross]), [1.0]])
    V = xs_old + ts[:, None] * dxs
    # the coefficients crossing at a candidate are exactly zero there
    V[:-1][np.equal.outer(ts[:-1], tz) & cross] = 0.0
    DX = V - xs_old
    s = np.sign(xs_old)
    s = np.where(s == 0, np.sign(dxs), s)
    lamS = lam[S]
    lin = DX * (grad[S] + lamS * s)
    flip = (2.0 * lamS * np.where(np.sign(V) == -s, np.abs(V), 0.0)).sum(axis=1)
    quad = 0.5 * np.einsum("ij,ij->i", DX @ HS, DX)
    change = lin.sum(axis=1) + flip + quad
    size = np.abs(lin).sum(axis=1) + flip + np.abs(quad)
    best = 0
    for i in range(1, ts.size):
        if change[i] < change[best] - _ROUNDOFF * max(size[i], size[best]):
            best = i
    v = x.copy()
    v[S] = V[best]
    return float(ts[best]), bool(change[best] < -_ROUNDOFF * size[best]), v


def _nonzero_ok(grad, x, lam, free, tol):
    """Optimality of the nonzero (and free) coefficients for their signs."""
    nz = (x != 0) | free
    eq = np.abs(grad[nz] + lam[nz] * np.sign(x[nz]))
    return eq.max(initial=0.0) <= max(tol, 1e-10 * float(np.abs(grad).max(initial=0.0)))


def kkt_violation(gw, gb, w, l1, ref, fit_intercept):
    """Relative KKT violation of ``(w, b')`` from the smooth gradient
    ``(gw, gb)``: ``|gw_j + l1 sign(w_j)|`` on nonzero coefficients,
    ``max(|gw_j| - l1, 0)`` on zero ones, ``|gb|``; divided by ``ref``."""
    nz = w != 0
    v = np.concatenate([np.abs(gw[nz] + l1 * np.sign(w[nz])),
                        np.maximum(np.abs(gw[~nz]) - l1, 0.0)])
    out = float(v.max(initial=0.0))
    if fit_intercept:
        out = max(out, abs(gb))
    return out / ref


class _Column:
    """Shared parts of one output column."""

    def __init__(self, des, y, l2, l1, verbose):
        self.des, self.y, self.l2, self.l1, self.verbose = des, y, l2, l1, verbose
        self.curve, self.lrs = [], []
        self.diag = column_cache(des)["diag"]

    def steps(self, c, shift=0.0):
        """Per-coordinate steps ``c / (diag + shift)`` of the coefficients
        (zero for a direction without data) and the intercept's ``c``."""
        with np.errstate(divide="ignore"):
            sw = np.where(self.diag + shift > 0, c / (self.diag + shift), 0.0)
        return sw, c

    def gram(self):
        """``G = X_c' S X_c`` in the original coordinates (rank-truncated)."""
        return column_cache(self.des)["gram"]

    def penalty(self, w):
        return self.l1 * float(np.abs(w).sum()) + 0.5 * self.l2 * float(w @ w)


def column_cache(des):
    """What every column solve derives from a Design alone (computed once
    per Design, which a path shares between its penalties): the Gram matrix
    in the original coordinates and :func:`diagonal_majorant`."""
    cache = getattr(des, "_l1_cache", None)
    if cache is None:
        cache = {"gram": (des.V * des.g) @ des.V.T, "diag": diagonal_majorant(des)}
        des._l1_cache = cache
    return cache


def _cached_rmatvec(des, y):
    """``X_c' (sn y)`` (float64), kept on the Design for the last ``y`` seen:
    the solves of a path share it."""
    cache = column_cache(des)
    last = cache.get("xty")
    if last is not None and last[0].shape == y.shape and np.array_equal(last[0], y):
        return last[1]
    c = des.rmatvec(des.sn * y, exact=True)
    cache["xty"] = (np.array(y, copy=True), c)
    return c


class _Squared(_Column):
    """Squared error: proximal steps on the Gram matrix, then feature-sign."""

    #: the start's signs are a good guess (a warm start along a path): the
    #: first attempt goes to the feature-sign search directly
    signs_known = False
    #: certify from the Gram matrix (:meth:`_gram_check`) before a pass
    #: over the data (the solves of a path)
    gram_certificate = False

    def solve(self, w, b, max_iter):
        des = self.des
        sn = des.sn
        c = _cached_rmatvec(des, self.y)
        G = self.gram()
        H = G + self.l2 * np.eye(des.d)
        L = (float(des.g[-1]) if des.rank else 0.0) + self.l2
        lam = np.full(des.d, self.l1)
        bc = float(sn @ self.y) if des.fit_intercept else 0.0
        yy = 0.5 * float(sn @ (self.y - bc) ** 2)

        def value(v):
            return yy + 0.5 * float(v @ (G @ v)) - float(c @ v) + self.penalty(v)

        budget = max(max_iter - 1, 0)
        ref = float(np.abs(c).max(initial=0.0)) + self.l1 + 1e-300
        best = None
        # a start with known signs first tries the search alone (attempt -1),
        # then goes on as any other start
        for attempt in range(-int(self.signs_known), _SQUARED_ATTEMPTS):
            # (a singular active block, e.g. more features than samples, can
            # leave the search short of the optimum: more proximal steps from
            # the best point, then the search again)
            steps = min(_FISTA_SQUARED * (4 ** attempt), budget) if attempt >= 0 else 0
            budget -= steps
            w = self._fista(H, c, L, w, steps, value, stop_on_signs=attempt == 0)
            w = quad_l1(H, c, lam, w)
            checked = self._gram_check(w, c, yy, ref) if self.gram_certificate else None
            if checked is not None:
                F, viol = checked
            else:
                sq, Xr, sr = _residual_pass(des, self.y, w, bc)
                F = 0.5 * sq + self.penalty(w)
                gw = -Xr + self.l2 * w
                gb = -sr
                viol = kkt_violation(gw, gb, w, self.l1, ref, des.fit_intercept)
            self.curve.append(F)
            self.lrs.append(1.0)
            if self.verbose:
                print(f"[solve_linear] L1 squared: KKT violation {viol:.2e}")
            if best is None or F < best[0]:
                best = (F, w, viol)
            if viol <= KKT_TOL or budget <= 0:
                break
            w = best[1]
        F, w, viol = best
        ok = viol <= KKT_TOL
        return w, bc, ok, ok

    def _gram_check(self, w, c, yy, ref):
        """``(objective, KKT violation)`` of ``(w, b' = sum sn y)`` from the
        quantities of the whole data set the solve already has, without a
        pass over ``X``: the full float64 Gram matrix ``G = X_c' S X_c``
        (:attr:`Design.gram`, not its truncation to span(V)), ``c = X_c'
        (sn y)`` and ``yy = 1/2 sum sn (y - b')^2``.  The residual
        ``r = y - X_c w - b'`` gives, exactly in exact arithmetic, ``X_c'
        (sn r) = c - G w``, ``sum sn r = 0`` (the columns are centred under
        the weights) and ``sum sn r^2 = 2 yy - 2 c'w + w'G w``.  None (the
        caller makes the pass) when the certificate fails, or when that sum
        cancels to below ``1e-4`` of its terms (its round-off would then
        exceed ``1e-12`` of the objective)."""
        des = self.des
        Gw = des.gram @ w
        cw, wGw = float(c @ w), float(w @ Gw)
        sq = 2.0 * yy - 2.0 * cw + wGw
        if not sq > 1e-4 * (2.0 * yy + 2.0 * abs(cw) + abs(wGw)):
            return None
        gw = Gw - c + self.l2 * w
        viol = kkt_violation(gw, 0.0, w, self.l1, ref, des.fit_intercept)
        if not viol <= KKT_TOL:
            return None
        return 0.5 * sq + self.penalty(w), viol

    def _fista(self, H, c, L, w, steps, value, stop_on_signs=True):
        if L <= 0 or steps <= 0:
            return w
        t, w_prev = 1.0, w.copy()
        step = 1.0 / L
        same = 0
        for _ in range(steps):
            t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            v = w + ((t - 1.0) / t_next) * (w - w_prev)
            g = H @ v - c
            w_new = _soft(v - step * g, step * self.l1)
            if float(g @ (w_new - w)) > 0:   # gradient restart
                t = 1.0
            else:
                t = t_next
            # the steps only guess the signs for the exact feature-sign
            # search: stop once they have not changed for a while
            same = same + 1 if np.array_equal(np.sign(w_new), np.sign(w)) else 0
            w_prev, w = w, w_new
            self.curve.append(value(v))
            self.lrs.append(step)
            if stop_on_signs and same >= _STABLE_SIGNS:
                break
        return w


def _residual_pass(des, y, w, b):
    """One fused pass at ``r = y - X_c w - b'`` in float64: ``(sum sn r^2,
    X_c' (sn r), sum sn r)``, each row block used for both products while it
    is in cache (:meth:`~sklipschitz._exact.design.Design.reduce_rows`)."""
    off = b - float(des.xbar @ w)
    sparse = des.sparse
    w = np.asarray(w, dtype=np.float64)

    # (the block function is shipped to dask workers: it captures no Design)
    def block(Xb, yb, sb):
        if Xb.dtype != np.float64:
            Xb = Xb.astype(np.float64)
        rb = np.asarray(Xb @ w).ravel()
        np.subtract(yb, rb, out=rb)
        rb -= off
        v = sb * rb
        return float(v @ rb), np.asarray(Xb.T @ v, dtype=np.float64).ravel(), float(v.sum())

    sq, Xr, sr = des.reduce_rows(block, y, des.sn)
    sq, sr = float(sq), float(sr)
    if des.fit_intercept:
        Xr = Xr - des.xbar * sr
    return sq, Xr, sr


def diagonal_majorant(des):
    """A diagonal ``D`` with ``diag(D, 1) >= [X_c, 1]' S [X_c, 1] = diag(G, 1)``.

    The centred columns are orthogonal to the intercept column under the
    weights, so the augmented Gram matrix is block diagonal and the
    intercept's constant is 1.  For ``G`` two valid majorants are compared:
    ``lambda_max(G) I`` and the scaled Gershgorin bound ``D_j = sqrt(G_jj)
    sum_k |G_jk| / sqrt(G_kk)`` (``D - G`` is diagonally dominant in the
    scaling ``sqrt(G_jj)``, hence PSD); the one with the smaller geometric
    mean is used (the second adapts to columns of different scales).  Any
    loss of curvature at most ``c`` then has ``c diag(D, 1)`` as a valid
    separable constant, so proximal steps ``1 / (c D_j)`` per coordinate
    decrease the objective (the L1 prox stays separable).
    """
    if des.rank == 0:
        return np.zeros(des.d)
    G = (des.V * des.g) @ des.V.T
    top = float(des.g[-1])
    dg = np.sqrt(np.maximum(np.diag(G), 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(dg > 0, 1.0 / dg, 0.0)
        gers = dg * (np.abs(G) @ inv)
    pos = gers > 0
    if pos.any() and np.sum(np.log(gers[pos])) < pos.sum() * np.log(top):
        return np.where(pos, gers, 0.0)
    return np.where(dg > 0, top, 0.0)


def _soft(v, t):
    return np.sign(v) * np.maximum(np.abs(v) - t, 0.0)


class _LogCosh(_Column):
    """Log-cosh: proximal gradient steps, then proximal Newton."""

    #: the start is the solution at a nearby penalty (a path): proximal
    #: Newton starts there, without the proximal gradient steps
    newton_first = False

    def state(self, w, b):
        des, sn = self.des, self.des.sn
        r = des.residual(self.y, w, b)
        F = float(sn @ log_cosh(r)) + self.penalty(w)
        th = np.tanh(r)
        v = sn * th
        gw = -des.rmatvec(v, exact=True) + self.l2 * w
        gb = -float(v.sum()) if des.fit_intercept else 0.0
        return r, F, th, gw, gb

    def solve(self, w, b, max_iter):
        if self.newton_first:
            out = self._solve(w.copy(), b, max_iter, fista=False)
            if out[2]:
                return out
            # not certified from there: the steps of any other start
        return self._solve(w, b, max_iter, fista=True)

    def _solve(self, w, b, max_iter, fista):
        des = self.des
        if b is None:
            b = 0.0
            if des.fit_intercept:
                r = des.residual(self.y, w, 0.0)
                b = float(np.asarray(LogCosh().constant_raw(r[:, None], des.sn)).ravel()[0])
        # reference scale of the gradient: its size at w = 0
        r0 = des.residual(self.y, np.zeros(des.d), b)
        ref = float(np.abs(des.rmatvec(des.sn * np.tanh(r0), exact=True)).max(initial=0.0))
        ref += self.l1 + 1e-300
        step, step_b = self.steps(1.0, self.l2)
        budget = max(max_iter, 1)
        # proximal gradient (FISTA) at the valid 1/L
        t, w_prev, b_prev = 1.0, w.copy(), b
        for _ in range(min(_FISTA_SMOOTH, budget - 1) if fista else 0):
            t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            m = (t - 1.0) / t_next
            wy, by = w + m * (w - w_prev), b + m * (b - b_prev)
            _, F, _, gw, gb = self.state(wy, by)
            self.curve.append(F)
            self.lrs.append(float(step.min(initial=1.0)))
            w_new = _soft(wy - step * gw, step * self.l1)
            b_new = by - step_b * gb
            if float(gw @ (w_new - w)) + gb * (b_new - b) > 0:
                t = 1.0
            else:
                t = t_next
            w_prev, b_prev, w, b = w, b, w_new, b_new
            budget -= 1
        # proximal Newton
        lam = np.full(des.d, self.l1)
        if des.fit_intercept:
            lam = np.append(lam, 0.0)
        ok = False
        for _ in range(max(budget, 1)):
            r, F, th, gw, gb = self.state(w, b)
            viol = kkt_violation(gw, gb, w, self.l1, ref, des.fit_intercept)
            if viol <= KKT_TOL:
                ok = True
                break
            H0 = _aug_hessian(des, des.sn * (1.0 - th * th), self.l2)
            x0 = np.append(w, b) if des.fit_intercept else w.copy()
            g = np.append(gw, gb) if des.fit_intercept else gw
            # the majorant of the Hessian: with damping 1 the model lies
            # above the objective, so its minimiser decreases it (a
            # proximal gradient step with per-coordinate constants)
            M = np.append(self.diag + self.l2, 1.0) if des.fit_intercept else self.diag + self.l2
            Ft = np.inf
            for gamma in _DAMPING:
                H = H0 + np.diag(gamma * M) if gamma else H0
                x = quad_l1(H, H @ x0 - g, lam, x0)
                d = x - x0
                s = 1.0
                while True:
                    xt = x0 + s * d
                    wt = xt[:des.d]
                    bt = float(xt[-1]) if des.fit_intercept else 0.0
                    rt = des.residual(self.y, wt, bt)
                    Ft = float(des.sn @ log_cosh(rt)) + self.penalty(wt)
                    if Ft < F or s < 1e-3:
                        break
                    s *= 0.5
                if Ft < F:
                    break
            if not Ft < F:
                # no decrease left at round-off level: final check below
                r, F, th, gw, gb = self.state(w, b)
                viol = kkt_violation(gw, gb, w, self.l1, ref, des.fit_intercept)
                ok = viol <= _KKT_FLOOR
                break
            w, b = wt, bt
            self.curve.append(Ft)
            self.lrs.append(s)
        if self.verbose:
            print(f"[solve_linear] L1 log-cosh: KKT violation {viol:.2e}")
        if not self.curve or not ok:
            self.curve.append(self.state(w, b)[1])
            self.lrs.append(1.0)
        return w, b, ok, ok


def _aug_hessian(des, v, l2):
    """``[X_c, 1]' diag(v) [X_c, 1] + diag(l2, ..., l2, 0)`` (original coordinates)."""
    G = des._gram(v) + l2 * np.eye(des.d)
    if not des.fit_intercept:
        return G
    m = des.rmatvec(v, exact=True)
    H = np.empty((des.d + 1, des.d + 1))
    H[:-1, :-1] = G
    H[:-1, -1] = m
    H[-1, :-1] = m
    H[-1, -1] = float(v.sum())
    return H


# -- pinball + L1 -----------------------------------------------------------------

class _Pinball(_Column):
    """Pinball / absolute error with an L1 penalty (an LP)."""

    #: the start is the solution at a nearby penalty (a path): the exact
    #: finish is tried from it before any proximal step
    residuals_known = False

    def __init__(self, des, y, loss, l1, verbose):
        tau = float(getattr(loss, "quantile", 0.5))
        self.tau = tau
        self.scale = float(loss.lipschitz) / max(tau, 1.0 - tau)
        super().__init__(des, y, 0.0, l1 / self.scale, verbose)
        self.y_dt = np.asarray(y, dtype=des.dtype)

    def value(self, r, w):
        sn, tau = self.des.sn, self.tau
        return self.scale * (float(tau * (sn @ r) - sn @ np.minimum(r, 0.0))
                             + self.l1 * float(np.abs(w).sum()))

    def solve(self, w, b, max_iter):
        des = self.des
        warm = b is not None
        if b is None:
            b = 0.0
        r = des.residual(self.y, w, b)
        if des.fit_intercept:
            q = float(weighted_quantile(r, des.sn, self.tau)[0])
            b += q
            r = r - q
        if des.rank == 0:
            self.curve.append(self.value(r, w))
            self.lrs.append(1.0)
            return w, b, True, True
        cert, _, _ = pinball_certificate(des, self.y, w, b, self.tau, self.l1)
        if cert:
            self.curve.append(self.value(r, w))
            self.lrs.append(1.0)
            return w, b, True, True
        if self.residuals_known:
            # the previous point of a path: its residuals may order the
            # points for the kept set as well as the proximal steps would.
            # One reduced LP is tried (never the full one: on a large fold
            # it costs as much as the LP of the whole problem)
            out = self._finish(w, b, rounds=1)
            if out[2]:
                return out
        # (a warm start, e.g. the previous point of a path, starts the
        # proximal steps at the smaller widths)
        s0 = float(des.sn @ np.abs(r)) + 1e-300
        mus = _PINBALL_MU[1:] if warm else _PINBALL_MU
        w, b = self._fista(w, b, [s0 * f for f in mus], max(max_iter - 1, 0))
        return self._finish(w, b)

    def _fista(self, w, b, mus, budget):
        """Proximal FISTA on the smoothed pinball loss at ``1/L = mu / lambda_max``."""
        des, tau = self.des, self.tau
        view = SimpleNamespace(des=des, y=self.y_dt, tau=tau)
        sn_dt = None if des.uniform else des.sn.astype(des.dtype)
        xbar = des.xbar
        for mu in mus:
            step, step_b = self.steps(mu)
            t, w_prev, b_prev = 1.0, w.copy(), b
            for _ in range(_PINBALL_STEPS):
                if budget <= 0:
                    return w, b
                budget -= 1
                t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
                mom = (t - 1.0) / t_next
                wy, by = w + mom * (w - w_prev), b + mom * (b - b_prev)
                off = by - float(xbar @ wy)
                tot, neg, gsum, gx = fused_pass(view, wy, off, mu, sn_dt)
                self.curve.append(self.scale * (tau * tot - neg + self.l1 * float(np.abs(wy).sum())))
                self.lrs.append(float(step.min(initial=mu)))
                gw = -(gx - xbar * gsum)
                gb = -gsum if des.fit_intercept else 0.0
                w_new = _soft(wy - step * gw, step * self.l1)
                b_new = by - step_b * gb
                if float(gw @ (w_new - w)) + gb * (b_new - b) > 0:
                    t = 1.0
                else:
                    t = t_next
                w_prev, b_prev, w, b = w, b, w_new, b_new
        return w, b

    def _finish(self, w, b, rounds=None):
        """Kept set + globbing, the exact reduced LP, the certificate.

        ``rounds``: at most this many reduced LPs and never the full one
        (an attempt: uncertified, it returns ``(w, b, False, False)``)."""
        des = self.des
        n, p = des.n, des.d + int(des.fit_intercept)
        r = des.residual(self.y, w, b)
        M = max(_KEEP_PER_PARAM * p, n // _KEEP_DIVISOR)
        extra = np.zeros(0, dtype=np.intp)
        best = None
        for rnd in range(_MAX_ROUNDS + 1):
            if rounds is not None and (rnd >= rounds or M >= 0.5 * n):
                return w, b, False, False
            if rnd == _MAX_ROUNDS or M >= 0.5 * n:
                K = np.arange(n)
            else:
                K = np.argpartition(np.abs(r), M)[:M]
                if extra.size:
                    K = np.union1d(K, extra)
            A, yK, snK = _reduced(des, self.y, r, K)
            sol = _dual_lp(A, yK, snK, self.tau, self.l1, des.fit_intercept)
            if sol is None:
                break
            w_new = sol[:des.d]
            b_new = float(sol[des.d]) if des.fit_intercept else 0.0
            cert, r_new, viol = pinball_certificate(des, self.y, w_new, b_new, self.tau, self.l1)
            F = self.value(r_new, w_new)
            self.curve.append(F)
            self.lrs.append(1.0)
            if self.verbose:
                print(f"[solve_linear] L1 pinball finish round {rnd}: kept {K.size} of {n}, "
                      f"certified={cert} (violation {viol:.2e})")
            if cert:
                return w_new, b_new, True, True
            if best is None or F <= best[0]:
                best = (F, w_new, b_new, r_new)
            if K.size == n:
                break
            outside = np.ones(n, dtype=bool)
            outside[K] = False
            flipped = np.flatnonzero(outside & (np.sign(r_new) != np.sign(r)) & (r_new != 0))
            extra = flipped if flipped.size <= M else np.zeros(0, dtype=np.intp)
            r = best[3]
            M *= 2
        if best is None:
            return w, b, False, False
        return best[1], best[2], False, False


def _reduced(des, y, r, K):
    """Kept rows ``[X_c, 1]`` of ``K`` plus the two pseudo-rows of the others
    merged by the sign of ``r`` (original coordinates, float64): exact for
    the whole problem while every merged point keeps its sign."""
    n = des.n
    xr = des.raw_rows(K)
    A = xr.astype(np.float64) - des.xbar
    if des.fit_intercept:
        A = np.hstack([A, np.ones((A.shape[0], 1))])
    yK, snK = y[K], des.sn[K]
    if K.size == n:
        return A, yK, snK
    code = np.full(n, 2, dtype=np.int8)     # the glob of each point (0: kept)
    code[r > 0] = 1
    code[K] = 0
    G, sv, sy = des.glob_sums(y, code, whiten=False)   # X_c' (sn * glob)
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
    return A, yK, snK


def _dual_lp(A, y, sn, tau, lam, fit_intercept):
    """``argmin_beta sum sn rho_tau(y - A beta) + lam ||beta_w||_1`` (the
    intercept, last column of ``A`` when fitted, is free) through its dual

    ``max y'u`` s.t. ``|A_w' u| <= lam``, ``1'u = 0``, ``sn (tau-1) <= u <= sn tau``

    solved by HiGHS (scaled to O(1) bounds and targets), then the vertex
    solved exactly: its interpolated points ``I`` (``u`` inside the box)
    and its nonzero coefficients ``S`` (the tight constraints) give the square
    system ``A_{I,S} beta_S = y_I``.  Falls back to the multipliers when the
    vertex is degenerate.  Returns None when HiGHS fails.
    """
    from scipy.optimize import linprog

    m, p = A.shape
    d = p - int(fit_intercept)
    f = m / sn.sum()
    ys = float(np.abs(y).max(initial=0.0)) + 1e-300
    Aw = A[:, :d]
    A_ub = np.vstack([Aw.T, -Aw.T])
    b_ub = np.full(2 * d, f * lam)
    kw = {}
    if fit_intercept:
        kw = dict(A_eq=np.ones((1, m)), b_eq=np.zeros(1))
    res = linprog(-y / ys, A_ub=A_ub if d else None, b_ub=b_ub if d else None,
                  bounds=np.column_stack([f * sn * (tau - 1.0), f * sn * tau]),
                  method="highs", options=_LP_OPTIONS, **kw)
    if res.status != 0:
        return None
    # multipliers: d(objective)/d(b_ub) <= 0; beta_w = (m_minus - m_plus) * ys / f... sign
    # fixed by the Lagrangian of the dual: beta_j = -(mu_plus_j - mu_minus_j)
    mu = np.asarray(res.ineqlin.marginals) if d else np.zeros(0)
    beta = np.zeros(p)
    beta[:d] = -(mu[:d] - mu[d:]) * ys
    if fit_intercept:
        beta[d] = -float(res.eqlin.marginals[0]) * ys
    u = res.x / (f * sn)
    inner = np.flatnonzero((u > tau - 1.0 + 1e-9) & (u < tau - 1e-9))
    tight = (np.flatnonzero(np.abs(np.abs(Aw.T @ res.x) - f * lam) <= 1e-9 * (f * lam + 1e-300))
             if d else np.zeros(0, dtype=np.intp))
    cols = np.concatenate([tight, [d]]) if fit_intercept else tight
    if inner.size == cols.size and inner.size:
        with np.errstate(all="ignore"):
            try:
                exact_c = np.linalg.solve(A[np.ix_(inner, cols)], y[inner])
            except np.linalg.LinAlgError:
                exact_c = None
        if exact_c is not None and np.all(np.isfinite(exact_c)):
            out = np.zeros(p)
            out[cols] = exact_c
            return out
    return beta


def pinball_certificate(des, y, w, b, tau, lam):
    """KKT check of ``(w, b')`` for ``sum sn rho_tau(r) + lam ||w||_1`` on the
    full data (float64).

    With ``a_i = tau`` (``r_i > 0``) or ``tau - 1`` (``r_i < 0``) and the
    zero residuals ``Z`` (round-off level), optimality means: multipliers
    ``u_Z`` in the box ``sn_Z [tau - 1, tau]`` with ``g + X_Z'u = lam
    sign(w_j)`` on nonzero ``w_j``, ``|g + X_Z'u| <= lam`` on zero ones and
    ``sum(sn a) + sum(u) = 0`` (intercept), where ``g = X_c'(sn a)``.
    A least-squares solve of the equations, or a small LP when that fails.
    Returns ``(certified, r, violation)``.
    """
    r = des.residual(y, w, b)
    scale_r = float(np.abs(y).max(initial=0.0)) + float(np.abs(y - r).max(initial=0.0))
    Z = np.abs(r) <= 1e-11 * (scale_r + 1e-300)
    a = np.where(r > 0, tau, tau - 1.0)
    a[Z] = 0.0
    v = des.sn * a
    g = des.rmatvec(v, exact=True)
    idx = np.flatnonzero(Z)
    xr = des.raw_rows(idx)
    XZ = xr.astype(np.float64) - des.xbar            # |Z| x d
    snZ = des.sn[idx]
    lo, hi = snZ * (tau - 1.0), snZ * tau
    nz = w != 0
    S, O = np.flatnonzero(nz), np.flatnonzero(~nz)
    # equations: rows S (and the intercept), unknowns u_Z
    Beq = XZ[:, S].T
    req = lam * np.sign(w[S]) - g[S]
    if des.fit_intercept:
        Beq = np.vstack([Beq, np.ones((1, idx.size))])
        req = np.append(req, -float(v.sum()))
    Bin = XZ[:, O].T
    ref_eq = np.abs(Beq) @ np.maximum(hi - lo, 0) + np.abs(req) + lam + 1e-300
    ref_in = np.abs(Bin) @ np.maximum(hi - lo, 0) + np.abs(g[O]) + lam + 1e-300
    box_scale = np.maximum(hi - lo, 1e-300)

    def violation(c):
        box = max(np.max(np.maximum(lo - c, 0) / box_scale, initial=0.0),
                  np.max(np.maximum(c - hi, 0) / box_scale, initial=0.0))
        eq = np.max(np.abs(Beq @ c - req) / ref_eq, initial=0.0)
        ineq = np.max(np.maximum(np.abs(g[O] + Bin @ c) - lam, 0) / ref_in, initial=0.0)
        return box + eq + ineq

    c = np.linalg.lstsq(Beq, req, rcond=None)[0] if idx.size else np.zeros(0)
    viol = violation(c)
    if viol > BOX_TOL and idx.size > Beq.shape[0]:
        # more multipliers than equations (ties): look for a point of the box
        c2 = _certificate_lp(Beq, req, Bin, g[O], lam, lo, hi, ref_eq, ref_in)
        if c2 is not None:
            viol = min(viol, violation(c2))
    return viol <= BOX_TOL, r, viol


def _certificate_lp(Beq, req, Bin, gO, lam, lo, hi, ref_eq, ref_in):
    """A point of the box minimising the (scaled) l1 violation of the
    equations and the L1 bounds; None when HiGHS fails."""
    from scipy.optimize import linprog

    m = Beq.shape[1]
    q, o = Beq.shape[0], Bin.shape[0]
    # variables: u (m), e+ e- (q), s (o)
    A_eq = np.hstack([Beq / ref_eq[:, None], np.eye(q), -np.eye(q), np.zeros((q, o))])
    b_eq = req / ref_eq
    A_ub = np.vstack([
        np.hstack([Bin / ref_in[:, None], np.zeros((o, 2 * q)), -np.eye(o)]),
        np.hstack([-Bin / ref_in[:, None], np.zeros((o, 2 * q)), -np.eye(o)]),
    ])
    b_ub = np.concatenate([(lam - gO) / ref_in, (lam + gO) / ref_in])
    scale = np.maximum(hi - lo, 1e-300)
    cost = np.concatenate([np.zeros(m), np.ones(2 * q + o)])
    bounds = np.vstack([np.column_stack([lo / scale.max(), hi / scale.max()]),
                        np.column_stack([np.zeros(2 * q + o), np.full(2 * q + o, np.inf)])])
    # u is solved in units of max(scale)
    A_eq[:, :m] *= scale.max()
    A_ub[:, :m] *= scale.max()
    res = linprog(cost, A_ub=A_ub if o else None, b_ub=b_ub if o else None, A_eq=A_eq,
                  b_eq=b_eq, bounds=bounds, method="highs")
    if res.status != 0:
        return None
    return res.x[:m] * scale.max()


def alpha_max(des, y, loss, l1_ratio=1.0):
    """The smallest ``alpha`` whose fit has every coefficient zero.

    From the KKT condition at the intercept-only fit ``w = 0``: the
    smallest ``l1`` with ``|X_c' S loss'(r0)|_inf <= l1``, ``r0`` the
    residuals of the best constant.  For the pinball loss the derivative at
    the zero residuals (ties at the ``tau``-quantile) is any multiplier of
    the box ``sn [tau - 1, tau]`` balancing the intercept equation: the
    smallest bound over them is a small LP (a closed form for one tie).
    Returns ``alpha_max`` in the units of the estimator's ``alpha`` (the
    bound over ``l1_ratio``).
    """
    sn = des.sn
    w0 = np.zeros(des.d)
    if _is_pinball(loss):
        tau = float(getattr(loss, "quantile", 0.5))
        scale = float(loss.lipschitz) / max(tau, 1.0 - tau)
        b = float(weighted_quantile(y, sn, tau)[0]) if des.fit_intercept else 0.0
        r = des.residual(y, w0, b)
        Z = r == 0
        a = np.where(r > 0, tau, tau - 1.0)
        a[Z] = 0.0
        v = sn * a
        g = des.rmatvec(v, exact=True)
        idx = np.flatnonzero(Z)
        if not des.fit_intercept or idx.size == 0:
            if idx.size:
                # without an intercept the multipliers of the ties are free
                # in their box: minimise the bound over them
                bound = _tie_bound(des, idx, g, tau, None)
            else:
                bound = float(np.abs(g).max(initial=0.0))
        elif idx.size == 1:
            # one tie: its multiplier balances the intercept equation
            XZ = _rows(des, idx)
            bound = float(np.abs(g - XZ[0] * float(v.sum())).max(initial=0.0))
        else:
            bound = _tie_bound(des, idx, g, tau, -float(v.sum()))
        lam = scale * bound
    else:
        if isinstance(loss, HalfSquaredError):
            b = float(sn @ y) if des.fit_intercept else 0.0
            r = des.residual(y, w0, b)
            deriv = r
        else:
            b = 0.0
            if des.fit_intercept:
                b = float(np.asarray(loss.constant_raw(y[:, None], sn)).ravel()[0])
                b = _logcosh_intercept(y, sn, b)
            r = des.residual(y, w0, b)
            deriv = np.tanh(r)
        lam = float(np.abs(des.rmatvec(sn * deriv, exact=True)).max(initial=0.0))
    return lam / l1_ratio


def _rows(des, idx):
    xr = des.raw_rows(idx)
    return xr.astype(np.float64) - des.xbar


def _tie_bound(des, idx, g, tau, total):
    """``min_u max_j |g + X_Z'u|_j`` over ``u`` in the box ``sn_Z [tau-1, tau]``
    (with ``sum u = total`` when given): an LP."""
    from scipy.optimize import linprog

    XZ = _rows(des, idx)
    snZ = des.sn[idx]
    m, d = XZ.shape
    sc = float(np.abs(g).max(initial=0.0)) + float(np.abs(XZ).max(initial=0.0) * snZ.sum()) + 1e-300
    # variables u (m), t; minimise t with -t <= (g + XZ'u)/sc <= t
    A_ub = np.vstack([np.hstack([XZ.T / sc, -np.ones((d, 1))]),
                      np.hstack([-XZ.T / sc, -np.ones((d, 1))])])
    b_ub = np.concatenate([-g / sc, g / sc])
    cost = np.append(np.zeros(m), 1.0)
    bounds = np.vstack([np.column_stack([snZ * (tau - 1.0), snZ * tau]), [[0, np.inf]]])
    kw = {}
    if total is not None:
        kw = dict(A_eq=np.append(np.ones(m), 0.0)[None, :], b_eq=[total])
    res = linprog(cost, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs", **kw)
    if res.status != 0:
        raise RuntimeError("the LP of alpha_max failed")
    u = res.x[:m]
    return float(np.abs(g + XZ.T @ u).max(initial=0.0))


def _logcosh_intercept(y, sn, b):
    """The exact best constant of log-cosh: the root of ``sum sn tanh(y - b)``
    (Newton from ``b``; the function is monotone)."""
    for _ in range(100):
        t = np.tanh(y - b)
        f = float(sn @ t)
        fp = float(sn @ (1.0 - t * t))
        if fp <= 0:
            break
        step = f / fp
        b += step
        if abs(step) <= 1e-15 * (1.0 + abs(b)):
            break
    return b
