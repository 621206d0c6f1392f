"""The data-dependent parameters of the robust losses of
:class:`~sklipschitz.linear_model.LipschitzRegressor`, and its held-out split.

``epsilon='auto'`` (Huber) and ``scale='auto'`` (log-cosh) come from a robust
estimate of the scale of the residuals, :func:`residual_scale`.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .._engine.lipschitz import mean_absolute_deviation
from .._engine.losses import AbsoluteError, get_regression_loss, weighted_quantile

#: normalised MAD: 1.4826 * MAD estimates the standard deviation of Gaussian
#: noise (1 / Phi^-1(3/4))
MAD_TO_SD = 1.482602218505602
#: HuberRegressor's default threshold, in units of the residual scale (95%
#: efficiency at the Gaussian)
HUBER_AUTO_FACTOR = 1.35
#: the log-cosh scale of ``scale='auto'``, in units of the residual scale.
#: At Gaussian noise log-cosh at scale ``c sigma`` has the efficiency
#: ``E[sech^2(Z/c)]^2 / (c^2 E[tanh^2(Z/c)])``: 0.84 at ``c = 1/2`` (0.93 at
#: ``c = 1``, 0.64 for the absolute error); under a fraction 0.3 of gross
#: one-sided outliers its asymptotic bias gives a test MAE 2.6% above the
#: median's (9.6% at ``c = 1``)
LOGCOSH_AUTO_FACTOR = 0.5


#: the reweighting step of :func:`residual_scale` keeps the residuals within
#: this many scales of their centre
TRIM = 2.5
# the median of |Z| for a standard normal Z conditioned on |Z| <= TRIM: a
# consistent scale of the kept residuals is their median deviation over it
_TRIM_MEDIAN = float(stats.norm.ppf(0.5 + (2.0 * stats.norm.cdf(TRIM) - 1.0) / 4.0))


def _mad(R, sw):
    """Per column: the weighted median ``m`` and the normalised MAD."""
    centre = weighted_quantile(R, sw, 0.5)
    return centre, MAD_TO_SD * weighted_quantile(np.abs(R - centre), sw, 0.5)


def pilot_fit(X, Y, sample_weight, *, fit_intercept, alpha):
    """The absolute-error fit (exact) that robust parameters and starts come from."""
    from .._exact import solve_linear

    return solve_linear(X, Y, AbsoluteError(), sample_weight, alpha=alpha,
                        fit_intercept=fit_intercept, max_iter=1000)


def residual_scale(X, Y, sample_weight, *, fit_intercept, alpha, pilot=None):
    """Robust scale of the residuals, one value per column of ``Y``.

    The residuals ``r`` are those of the absolute-error fit (the median
    regression, solved exactly by :func:`sklipschitz._exact.solve_linear`
    with the same L2 penalty ``alpha`` and intercept), whose coefficients outliers in
    ``y`` barely move.  Their normalised weighted MAD,
    ``sigma_0 = 1.4826 * median_i |r_i - median(r)|`` (weighted medians, the
    lower one of the two middle values for an even count), is then
    reweighted, as in the reweighting step of LTS / MCD (Rousseeuw & Leroy
    1987): the residuals within ``2.5 sigma`` of their median are kept, and
    ``sigma`` becomes their MAD divided by the median of ``|Z|`` given
    ``|Z| <= 2.5`` (``Z`` standard normal), which keeps it consistent at
    Gaussian noise; three such steps.  A fraction ``f`` of gross outliers
    inflates ``sigma_0`` (it is the ``0.5 / (1 - f)`` quantile of the inliers'
    deviations: 1.6 times the noise at ``f = 0.3``); the reweighting removes
    them.  When more than half of the residuals are equal (a MAD of 0), the
    weighted root mean square of ``r - median(r)`` is used instead.

    A scale below ``1e-10`` times the targets' own spread (their normalised
    MAD about the median, else their root mean square deviation, else the
    mean ``|y|``, else 1.0) is replaced by that spread: the pilot fit then
    interpolates the data (more columns than rows, one row, noiseless
    targets), its residuals are rounding errors, and a threshold made of
    them would turn the loss into a multiple of the absolute error at
    rounding level.  With no penalty an interpolating fit is optimal for
    every threshold, so nothing is lost.  ``pilot`` is the solution of
    :func:`pilot_fit` when already computed.
    """
    sol = pilot if pilot is not None else pilot_fit(
        X, Y, sample_weight, fit_intercept=fit_intercept, alpha=alpha)
    R = np.asarray(Y, dtype=np.float64) - np.asarray(X @ sol.coef, dtype=np.float64)
    R = R - np.asarray(sol.intercept, dtype=np.float64)
    sw = np.asarray(sample_weight, dtype=np.float64)
    out = np.empty(R.shape[1])
    for j in range(R.shape[1]):
        r = R[:, [j]]
        centre, sigma = _mad(r, sw)
        if sigma[0] > 0:
            for _ in range(3):
                keep = (np.abs(r[:, 0] - centre[0]) <= TRIM * sigma[0]) & (sw > 0)
                c, m = _mad(r[keep], sw[keep])
                new = m[0] / MAD_TO_SD / _TRIM_MEDIAN
                if not new > 0:
                    break
                centre, sigma = c, np.array([new])
            out[j] = sigma[0]
        else:
            dev = r[:, 0] - centre[0]
            out[j] = float(np.sqrt(sw @ (dev * dev) / sw.sum()))
        spread = _spread(np.asarray(Y, dtype=np.float64)[:, [j]], sw)
        if not out[j] > INTERPOLATION_FLOOR * spread:
            out[j] = spread
    return out


#: a residual scale below this fraction of the targets' spread is rounding
#: noise of an interpolating pilot fit
INTERPOLATION_FLOOR = 1e-10


def _spread(y, sw):
    """The targets' spread: normalised MAD, RMS deviation, mean |y|, or 1.0."""
    centre, mad = _mad(y, sw)
    dev = y[:, 0] - centre[0]
    for value in (mad[0], np.sqrt(sw @ (dev * dev) / sw.sum()), sw @ np.abs(y[:, 0]) / sw.sum()):
        if value > 0 and np.isfinite(value):
            return float(value)
    return 1.0


def build_loss(est, X, Y, sw, *, start=False):
    """The loss object of ``est`` on this data and its fitted parameter.

    Returns ``(loss, value, pilot)``: ``value`` is the Huber threshold or the
    log-cosh scale actually used (a float, or an array with one value per
    output column), None for the other losses.  ``pilot`` is the
    absolute-error fit (a solution of :func:`pilot_fit`) when one was made:
    always for an 'auto' parameter, and, when ``start``, also for a given
    parameter that is small against the targets' deviation (more than
    ``FLAT_RATIO`` times smaller).  It is a good start for the Huber and
    log-cosh fits: as the parameter goes to 0 their solutions go to it, and
    from it the exact solver needs a few Newton steps where a start from
    zero needs hundreds of smoothed gradient steps.
    """
    name = est.loss
    value = pilot = None
    if name in ("huber", "log_cosh"):
        given = est.epsilon if name == "huber" else est.scale
        # the L2 part of the penalty (an L1 part is left out of the pilot fit)
        kw = {"fit_intercept": est.fit_intercept, "alpha": getattr(est, "_l2", est.alpha)}
        if isinstance(given, str):  # 'auto'
            pilot = pilot_fit(X, Y, sw, **kw)
            s = residual_scale(X, Y, sw, pilot=pilot, **kw)
            s = s * (HUBER_AUTO_FACTOR if name == "huber" else LOGCOSH_AUTO_FACTOR)
            value = float(s[0]) if s.size == 1 else s
        else:
            value = float(given)
            if start and flat_ratio(Y, sw, value) > FLAT_RATIO:
                pilot = pilot_fit(X, Y, sw, **kw)
    kw = {"epsilon": value} if name == "huber" else ({"scale": value} if name == "log_cosh" else {})
    return get_regression_loss(name, est.quantile, **kw), value, pilot


#: a Huber threshold or log-cosh scale this many times smaller than the
#: targets' mean absolute deviation makes the loss nearly the absolute error
#: over most of the data
FLAT_RATIO = 10.0


def flat_ratio(Y, sw, value):
    """The largest ratio, over the columns of ``Y``, of the targets' mean
    absolute deviation from their weighted median to the Huber threshold /
    log-cosh scale ``value``."""
    Y = np.asarray(Y, dtype=np.float64)
    dev = mean_absolute_deviation(Y, sw, weighted_quantile(Y, sw, 0.5))
    return float(np.max(dev / np.asarray(value, dtype=np.float64)))
