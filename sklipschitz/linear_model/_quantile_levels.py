"""The levels of the quantile classifier: their constants, the grid, and
from tau-curves to class probabilities."""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np
from scipy.special import logit

from .._engine import lipschitz as _lipschitz
from .._engine.losses import SmoothBinaryQuantileLoss, _BoundSmoothBinaryQuantile
from .._engine.monitors import ColumnFreezing

# ----------------------------------------------------------------------------
# Constants
# ----------------------------------------------------------------------------


def level_factor(quantile):
    """``max(1, (1 - tau)/tau)``: the largest class weight of the loss at ``tau``.

    For ``y = +1`` the loss is ``1 - g`` and for ``y = -1`` it is
    ``(1 - tau)/tau * (1 + g)`` with ``g = (2/pi) arctan(f)``, so
    ``|d loss / d f| <= (2/pi) * level_factor(tau)``.
    """
    tau = np.asarray(quantile, dtype=np.float64)
    return np.maximum(1.0, (1.0 - tau) / tau)


def paper_level_factor(quantile):
    """The published factor ``max(1, (1 - tau)/tau, tau/(tau - 1))``, literally.

    For ``tau`` in (0, 1) the last term is negative, so the value always
    equals :func:`level_factor`; it is kept as written for the 'paper' mode.
    """
    tau = np.asarray(quantile, dtype=np.float64)
    return np.maximum(np.maximum(1.0, (1.0 - tau) / tau), tau / (tau - 1.0))


def sbqc_lipschitz(quantile):
    """``sup_f |d loss / d f| = (2/pi) * max(1, (1 - tau)/tau)`` per level
    (the constant stated by :class:`SmoothBinaryQuantileLoss`)."""
    c = SmoothBinaryQuantileLoss(quantile).lipschitz_per_output
    return c.reshape(np.shape(quantile))


def sbqc_curvature(quantile):
    """``sup_f |d^2 loss / d f^2| = (2/pi)(3 sqrt(3)/8) * max(1, (1 - tau)/tau)``
    per level (the constant stated by :class:`SmoothBinaryQuantileLoss`)."""
    c = SmoothBinaryQuantileLoss(quantile).curvature_per_output
    return c.reshape(np.shape(quantile))


def column_constants(X, sw, column_levels, *, mode, fit_intercept, alpha, batch_size,
                     offset=None):
    """Per-column constants ``L_j`` of the sBQC objective for a learning-rate mode
    (the valid ones of the design ``X - offset`` with an ``offset``)."""
    minibatch = batch_size is not None and batch_size < X.shape[0]
    if mode == "paper":
        factor = _lipschitz.paper_frobenius_factor(
            X, fit_intercept=fit_intercept, batch_size=batch_size
        )
        L = (2.0 / math.pi) * paper_level_factor(column_levels) * factor
        if alpha:
            L = L + alpha * _lipschitz.paper_weight_bound(X, fit_intercept)
        return L
    if minibatch:
        data = _lipschitz.max_row_sq_norm(X, fit_intercept, offset)
    else:
        data = _lipschitz.gram_top_eigenvalue(X, sw, fit_intercept, offset)
    return sbqc_curvature(column_levels) * data + alpha


# ----------------------------------------------------------------------------
# The loss of a full-batch fit, bound to its targets
# ----------------------------------------------------------------------------

#: ``arctan(t) ~ t P(t^2)`` on [0, 1], ``P`` of degree 8 (coefficients in
#: increasing order): a near-minimax fit (Lawson's iteration on Chebyshev
#: nodes), absolute error 5.8e-9, about one float32 ulp once evaluated in float32
ARCTAN_COEFS = (
    0.999999886382412, -0.3333259702551609, 0.1998590673090759, -0.14161228974301465,
    0.10498945346093501, -0.07234855978683752, 0.03978120848936022, -0.014401349223306492,
    0.0024567225201752863,
)


#: the smallest (rows x levels) problem whose level values use the float32 arctan
#: (breast cancer, 455 x 19: 10% slower fits with it; digits, 1437 x 190: 6% faster)
FAST_ARCTAN_MIN_SIZE = 32768


class BoundLevelLoss(_BoundSmoothBinaryQuantile):
    """:class:`SmoothBinaryQuantileLoss` on fixed targets and weights, with the
    column values from a float32 arctan.

    The gradient ``delta = A / (1 + raw^2)`` is computed in the precision of
    ``raw`` as by the engine's bound loss.  The values, which only rank a
    column's iterates and decide when it stops improving, are written with
    the margin ``m = y raw`` as ``sum_i |A_ij| h(m_ij)``, ``h(m) = pi/2 -
    arctan(m) = 2 arctan(q)``, ``q = sqrt(1 + m^2) - m``: with ``v = sqrt(1 +
    m^2) + |m| >= 1`` and ``p = arctan(1/v)``, ``h = 2 p`` for ``m >= 0`` and
    ``pi - 2 p`` for ``m < 0``.  Every term is positive and computed without
    cancellation, so a value has a relative error of about 1e-7 even when
    the loss is nearly zero.  ``p = t P(t^2)``, ``t = 1/v`` in (0, 1], is
    evaluated with float32 arithmetic (:data:`ARCTAN_COEFS`) and the terms
    are summed in float64: several times cheaper than ``np.arctan``, which
    is the bulk of an epoch otherwise.  Every step is elementwise, so a row
    repeated and a row of weight 2 give the same terms.  Problems of fewer
    than :data:`FAST_ARCTAN_MIN_SIZE` scores use numpy's ``arctan`` as the
    engine does (there the per-call overhead of the many small operations
    costs more than it saves).
    """

    def __init__(self, loss, y, sample_weight):
        super().__init__(loss, y, sample_weight)
        # on small problems the thirty-odd array operations cost more than one
        # np.arctan (their per-call overhead): numpy's arctan there
        self.fast = self.A.size >= FAST_ARCTAN_MIN_SIZE
        self.C32 = np.abs(self.A).astype(np.float32)
        self.Y32 = np.where(self.A < 0, np.float32(1.0), np.float32(-1.0))  # the targets
        self._scratch = np.empty(4 * self.A.size, dtype=np.float32)
        self._views()

    def _views(self):
        """Four float32 work arrays of the shape of ``A`` at the front of the
        scratch buffer (shared with the restrictions :meth:`take` makes)."""
        n, k = self.A.shape
        self._f32 = [self._scratch[i * n * k:(i + 1) * n * k].reshape(n, k) for i in range(4)]
        if getattr(self, "_ones", None) is None:
            self._ones = np.ones(n)

    def columns(self, raw):
        if not self.fast:
            return super().columns(raw)
        m, a, t, p = self._f32
        f32 = np.float32
        with np.errstate(over="ignore"):  # beyond float32, v = inf and h = 0 or pi
            np.copyto(m, raw, casting="same_kind")
            np.multiply(m, m, out=t)
        m *= self.Y32  # the margin
        np.abs(m, out=a)
        t += f32(1.0)
        np.sqrt(t, out=t)
        t += a  # v >= 1 (inf beyond float32)
        np.divide(f32(1.0), t, out=t)  # 1/v in [0, 1]
        np.multiply(t, t, out=a)  # z
        c = ARCTAN_COEFS
        np.multiply(a, f32(c[-1]), out=p)
        for ci in c[-2:0:-1]:
            p += f32(ci)
            p *= a
        p += f32(c[0])
        p *= t  # p = arctan(1/v)
        np.less(m, f32(0.0), out=a, casting="unsafe")  # 1 where m < 0
        np.multiply(p, f32(-4.0), out=t)
        t += f32(math.pi)
        t *= a
        p *= f32(2.0)
        p += t  # h(m)
        p *= self.C32
        values = self._ones @ p  # float64 sums (a matrix product: faster than sum(axis=0))
        T = self._buf
        np.multiply(raw, raw, out=T)
        np.add(T, 1.0, out=T)
        np.divide(self.A, T, out=T)
        return values, T

    def take(self, keep):
        part = super().take(keep)
        part.__class__ = type(self)
        part.fast = self.fast
        part.C32, part.Y32 = self.C32[:, keep], self.Y32[:, keep]
        part._scratch, part._ones = self._scratch, self._ones
        part._views()
        return part


class BoundLogisticLoss:
    """The logistic loss ``log(1 + exp(-m))`` of the margins ``m = s raw``
    (``s = +1`` on a positive, ``-1`` on a negative target) on fixed targets
    and weights, per column (the bound loss of the levels' logistic pilot).

    With ``e = exp(-|m|)`` in (0, 1] the loss is ``log(1 + e) + max(-m, 0)``
    and its derivative in ``m`` is ``-expit(-m)``, ``expit(-m) = e / (1 + e)``
    for ``m >= 0`` and ``1 / (1 + e)`` otherwise.  ``e`` and ``log(1 + e)``
    are computed in float32 (numpy's float32 ``exp`` and ``log`` are several
    times faster than the float64 ones; ``log1p`` is not), the rest in the
    precision of ``raw``: the values and the gradient have a relative error
    of about ``1e-7 (1 + |m|)`` (a term ``log(1 + e)`` below 6e-8 counts as
    zero), enough for the pilot, which only starts the levels.  Every step is elementwise,
    so a row repeated and a row of weight 2 give the same terms.
    """

    def __init__(self, targets, sample_weight):
        s = np.asarray(sample_weight, dtype=np.float64) / float(np.sum(sample_weight))
        self.S = np.where(np.asarray(targets) > 0, 1.0, -1.0).astype(targets.dtype)
        self.weight = s
        self.A = (-self.S * s[:, None]).astype(targets.dtype)  # d loss/d raw = A expit(-m)
        self._buffers()

    def _buffers(self):
        self._m = np.empty(self.S.shape, dtype=self.S.dtype)
        self._d = np.empty(self.S.shape, dtype=self.S.dtype)
        self._e = np.empty(self.S.shape, dtype=np.float32)
        self._l = np.empty(self.S.shape, dtype=np.float32)

    def columns(self, raw):
        m, d, e, lg = self._m, self._d, self._e, self._l
        np.multiply(raw, self.S, out=m)
        np.abs(m, out=d)
        with np.errstate(over="ignore"):
            np.copyto(e, d, casting="same_kind")
        np.negative(e, out=e)
        np.exp(e, out=e)  # exp(-|m|) in [0, 1]
        np.add(e, np.float32(1.0), out=lg)
        np.log(lg, out=lg)
        values = self.weight @ lg
        # e where m >= 0, else 1, without a branch per element (e <= 1):
        # max(e, 0) and max(e, 1)
        np.less(m, 0.0, out=lg, casting="unsafe")
        np.maximum(e, lg, out=lg)
        np.negative(m, out=m)
        np.maximum(m, 0.0, out=m)  # max(-m, 0)
        values = values + self.weight @ m
        np.add(e, 1.0, out=d)
        np.divide(lg, d, out=d)  # expit(-m)
        d *= self.A
        return np.asarray(values, dtype=np.float64), d

    def take(self, keep):
        part = type(self).__new__(type(self))
        part.weight = self.weight
        part.S, part.A = self.S[:, keep], self.A[:, keep]
        part._buffers()
        return part


# ----------------------------------------------------------------------------
# When a level is done
# ----------------------------------------------------------------------------

#: the last levels still training: at most this many active columns ...
LAST_LEVELS = 10
#: ... count an epoch as unchanged when the rows that changed the sign of their
#: score weigh at most this share of the total (1%: one row of 120, four of 455)
LAST_LEVELS_SHARE = 0.01


class LevelFreezing(ColumnFreezing):
    """:class:`~sklipschitz._engine.monitors.ColumnFreezing` (with ``weights``
    and ``sign_share``) whose last active levels tolerate a few hovering rows.

    Once at most ``last`` columns are active, an epoch counts as unchanged
    for a column when the rows that changed the sign of its score weigh at
    most ``last_share`` of the total weight (instead of ``sign_share``).  A
    level whose hyperplane passes next to a row or two keeps flipping them
    from epoch to epoch long after its other decisions are settled; when it
    is one of the last, each of those epochs costs a whole epoch's fixed
    overhead for one column (breast cancer: a fold ran 27 epochs on one
    level).  The test is a share of the weight, so integer weights and
    repeated rows still give the same shares.
    """

    def __init__(self, tol, n_iter_no_change, *, weights, sign_share, last=LAST_LEVELS,
                 last_share=LAST_LEVELS_SHARE, **kw):
        super().__init__(tol, n_iter_no_change, stable_signs=True, sign_share=sign_share,
                         weights=weights, **kw)
        self.last, self.last_share = last, last_share

    def _sign_streak(self, scores, active):
        if self.weights is None or self.signs is None or len(active) > self.last:
            return super()._sign_streak(scores, active)
        signs = scores > 0
        flipped = np.not_equal(signs, self.signs).astype(np.float64)
        changed = self.weights @ flipped > self.last_share
        self.unchanged[active] = np.where(changed, 0, self.unchanged[active] + 1)
        self.signs = signs
        return self.unchanged[active]


# ----------------------------------------------------------------------------
# The grid of levels
# ----------------------------------------------------------------------------


def default_grid(n_levels):
    """The levels ``1/(m+1), ..., m/(m+1)``."""
    return np.arange(1, n_levels + 1, dtype=np.float64) / (n_levels + 1)


def fitted_levels(grid, quantile):
    """The fitted levels (``grid`` plus ``quantile``) and the index of ``quantile``."""
    if isinstance(grid, Integral) and not isinstance(grid, bool):
        levels = default_grid(int(grid))
    else:
        try:
            levels = np.asarray(grid, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                "quantile_grid must be an integer >= 2 or an array of levels in (0, 1)."
            ) from exc
        if levels.ndim != 1 or levels.size < 2:
            raise ValueError(
                "quantile_grid must be an integer >= 2 or a 1-D array of at least "
                f"2 levels; got shape {levels.shape}."
            )
        if not np.all(np.isfinite(levels)) or np.any(levels <= 0) or np.any(levels >= 1):
            raise ValueError(
                f"quantile_grid levels must lie strictly inside (0, 1); got {levels}."
            )
        if np.any(np.diff(levels) <= 0):
            raise ValueError(f"quantile_grid must be strictly increasing; got {levels}.")
    tau = float(quantile)
    match = np.isclose(levels, tau, rtol=0.0, atol=1e-12)
    if not match.any():
        levels = np.sort(np.append(levels, tau))
        match = np.isclose(levels, tau, rtol=0.0, atol=1e-12)
    levels = np.where(match, tau, levels)
    return levels, int(np.flatnonzero(match)[0])


# ----------------------------------------------------------------------------
# From tau-curves to probabilities
# ----------------------------------------------------------------------------


def rearrange(curves):
    """Monotone rearrangement of ``tau -> f_tau(x)`` along the last axis.

    Sorting the values of each curve (Chernozhukov, Fernandez-Val & Galichon,
    2010) gives a non-crossing family with the same values; in particular the
    number of levels at which ``f >= 0`` is unchanged.
    """
    return np.sort(curves, axis=-1)


#: how far beyond the outermost level, in logit units, tau* may be
#: extrapolated (with the default grid: p in (0.0028, 0.9972))
TAIL_WIDTH = 3.0


def level_norms(coef):
    """``||w_tau||`` per model and level (``coef`` of shape (n_models, n_levels,
    n_features)); 1 for a level without a slope."""
    coef = np.ascontiguousarray(coef, dtype=np.float64)
    norms = np.sqrt(np.sum(coef * coef, axis=-1))
    return np.where(norms > 0, norms, 1.0)


def level_distances(raw, norms):
    """Signed distances of the rows to every level's decision hyperplane.

    ``raw`` holds the scores ``f_tau(x) = x w_tau + b_tau`` (shape
    ``(n_samples, n_models, n_levels)``), ``norms`` the norms ``||w_tau||``
    (shape ``(n_models, n_levels)``, :func:`level_norms`): the result is
    ``f_tau(x) / ||w_tau||``.  The scale of ``f_tau`` is arbitrary (it is set
    by the penalty and by how far the fit went) and differs from level to
    level; the distance is what the levels share: for a logistic model the
    level-``tau`` hyperplanes are parallel, ``logit(tau)`` apart in
    ``beta``-units, so the distance is affine in ``logit(tau)``.  A positive
    scale per level leaves every sign, and so every prediction, unchanged.
    """
    return raw / norms[None, :, :]


#: how many levels at each end of the grid set the slope of the extrapolation
END_LEVELS = 3


def _end_slope(F, z):
    """Least-squares slope of the points ``(z_j, F[..., j])`` (last axis)."""
    zc = z - z.mean()
    return (F - F.mean(axis=-1, keepdims=True)) @ zc / (zc @ zc)


def crossing_logit(curves, quantiles, tail=TAIL_WIDTH, end_levels=END_LEVELS):
    """``logit(tau*)``: where the rearranged curves change sign.

    Between levels, ``tau*`` is the zero of the piecewise-linear interpolant
    of the points ``(logit(tau_j), f_j)``.  When the curve does not change
    sign on the grid (``f >= 0`` at every level, or ``f < 0`` at every
    level), it is extended linearly past the end level with the
    least-squares slope ``s`` of the ``end_levels`` levels at that end (the
    end level and its neighbours, in ``logit`` units); its zero lies
    ``e = |f_end| / s`` logit units beyond the end level, and that distance is
    shrunk to ``tail e / (tail + e)``: ``tau*`` moves continuously with the
    scores (``e = 0`` where ``f_end = 0``, the interpolant's own zero) and
    monotonically when every level's distance moves by the same amount, and
    approaches, without reaching, ``tail`` logit units beyond the end level
    (with the default grid 0.05, ..., 0.95 and ``tail = 3`` every ``p`` lies
    in (0.0028, 0.9972)).  Where the extrapolation is short the shrink hardly
    matters (``e = 1`` becomes 0.75); it bounds the few rows whose end of the
    curve is nearly flat (``s <= 0``: the bound itself).  With two levels the
    slope is that of the end segment.

    Parameters
    ----------
    curves : ndarray of shape (..., n_levels)
        Rearranged (non-decreasing) curves.
    quantiles : ndarray of shape (n_levels,)
        Increasing levels, at least two.
    tail : float > 0, default=TAIL_WIDTH
        The bound, in logit units, on the extrapolation beyond the end levels.
    end_levels : int >= 2, default=END_LEVELS
        How many levels at each end set the slope of the extrapolation
        (at most ``n_levels``).

    Returns
    -------
    ndarray of shape curves.shape[:-1]
    """
    F = np.asarray(curves, dtype=np.float64)
    z = logit(np.asarray(quantiles, dtype=np.float64))
    G = z.shape[0]
    k = max(2, min(int(end_levels), G))
    shape = F.shape[:-1]
    F = F.reshape(-1, G)  # one curve per row
    n_neg = np.count_nonzero(F < 0, axis=-1)
    seg = np.clip(n_neg - 1, 0, G - 2)
    rows = np.arange(F.shape[0])
    f_lo, f_hi = F[rows, seg], F[rows, seg + 1]
    z_lo = z[seg]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        zero = z_lo + (z[seg + 1] - z_lo) * (-f_lo) / (f_hi - f_lo)
        # beyond the grid (only the rows whose curve keeps its sign): distance
        # past the end level, shrunk below ``tail``
        below = np.flatnonzero(n_neg == 0)
        if below.size:
            end = F[below, :k]
            s = _end_slope(end, z[:k])
            e = np.where(s > 0, end[:, 0] / s, np.inf)
            zero[below] = z[0] - np.where(np.isinf(e), tail, tail * e / (tail + e))
        above = np.flatnonzero(n_neg == G)
        if above.size:
            end = F[above, G - k:]
            s = _end_slope(end, z[G - k:])
            e = np.where(s > 0, -end[:, -1] / s, np.inf)
            zero[above] = z[-1] + np.where(np.isinf(e), tail, tail * e / (tail + e))
    return zero.reshape(shape)
