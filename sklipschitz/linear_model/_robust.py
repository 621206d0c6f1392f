"""The data-dependent parameters of the robust losses of
:class:`~sklipschitz.linear_model.LipschitzRegressor`, and its held-out split.

``epsilon='auto'`` (Huber) and ``scale='auto'`` (log-cosh) come from a robust
estimate of the scale of the residuals, :func:`residual_scale`.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

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


def residual_scale(X, Y, sample_weight, *, fit_intercept, alpha):
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
    weighted root mean square of ``r - median(r)`` is used instead, and 1.0
    when that is 0 too (the fit is exact, and every scale gives the same
    model).
    """
    from .._exact import solve_linear

    sol = solve_linear(X, Y, AbsoluteError(), sample_weight, alpha=alpha,
                       fit_intercept=fit_intercept, max_iter=1000)
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
            rms = float(np.sqrt(sw @ (dev * dev) / sw.sum()))
            out[j] = rms if rms > 0 else 1.0
    return out


def build_loss(est, X, Y, sw):
    """The loss object of ``est`` on this data and its fitted parameter.

    Returns ``(loss, value)``: ``value`` is the Huber threshold or the
    log-cosh scale actually used (a float, or an array with one value per
    output column), None for the other losses.
    """
    name = est.loss
    value = None
    if name in ("huber", "log_cosh"):
        given = est.epsilon if name == "huber" else est.scale
        if isinstance(given, str):  # 'auto'
            # the L2 part of the penalty (an L1 part is left out of the pilot fit)
            s = residual_scale(X, Y, sw, fit_intercept=est.fit_intercept,
                               alpha=getattr(est, "_l2", est.alpha))
            s = s * (HUBER_AUTO_FACTOR if name == "huber" else LOGCOSH_AUTO_FACTOR)
            value = float(s[0]) if s.size == 1 else s
        else:
            value = float(given)
    kw = {"epsilon": value} if name == "huber" else ({"scale": value} if name == "log_cosh" else {})
    return get_regression_loss(name, est.quantile, **kw), value
