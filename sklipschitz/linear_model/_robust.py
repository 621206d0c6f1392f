"""The data-dependent parameters of the robust losses of
:class:`~sklipschitz.linear_model.LipschitzRegressor`, and its held-out split.

``epsilon='auto'`` (Huber) and ``scale='auto'`` (log-cosh) come from a robust
estimate of the scale of the residuals, :func:`residual_scale`.
"""

from __future__ import annotations

import numpy as np

from .._engine.losses import AbsoluteError, get_regression_loss, weighted_quantile

#: normalised MAD: 1.4826 * MAD estimates the standard deviation of Gaussian
#: noise (1 / Phi^-1(3/4))
MAD_TO_SD = 1.482602218505602
#: HuberRegressor's default threshold, in units of the residual scale (95%
#: efficiency at the Gaussian)
HUBER_AUTO_FACTOR = 1.35


def residual_scale(X, Y, sample_weight, *, fit_intercept, alpha):
    """Robust scale of the residuals, one value per column of ``Y``.

    The residuals ``r`` are those of the absolute-error fit (the median
    regression, solved exactly by :func:`sklipschitz._exact.solve_linear`
    with the same ``alpha`` and intercept), whose coefficients outliers in
    ``y`` barely move; the scale is their normalised weighted MAD,
    ``1.4826 * median_i |r_i - median(r)|`` (weighted medians, the lower
    one of the two middle values for an even count).  When more
    than half of the residuals are equal (the MAD is 0), the weighted root
    mean square of ``r - median(r)`` is used instead, and 1.0 when that is 0
    too (the fit is exact, and every scale gives the same model).
    """
    from .._exact import solve_linear

    sol = solve_linear(X, Y, AbsoluteError(), sample_weight, alpha=alpha,
                       fit_intercept=fit_intercept, max_iter=1000)
    R = np.asarray(Y, dtype=np.float64) - np.asarray(X @ sol.coef, dtype=np.float64)
    R = R - np.asarray(sol.intercept, dtype=np.float64)
    sw = np.asarray(sample_weight, dtype=np.float64)
    centre = weighted_quantile(R, sw, 0.5)
    dev = np.abs(R - centre)
    scale = MAD_TO_SD * weighted_quantile(dev, sw, 0.5)
    rms = np.sqrt(sw @ (dev * dev) / sw.sum())
    scale = np.where(scale > 0, scale, np.where(rms > 0, rms, 1.0))
    return scale


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
            s = residual_scale(X, Y, sw, fit_intercept=est.fit_intercept, alpha=est.alpha)
            s = s * (HUBER_AUTO_FACTOR if name == "huber" else 1.0)
            value = float(s[0]) if s.size == 1 else s
        else:
            value = float(given)
    kw = {"epsilon": value} if name == "huber" else ({"scale": value} if name == "log_cosh" else {})
    return get_regression_loss(name, est.quantile, **kw), value
