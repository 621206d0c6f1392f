"""Small pinball problems and the smoothed objective, for the phase tests."""

import numpy as np
from scipy.optimize import linprog

from sklipschitz._exact.design import Design
from sklipschitz._exact.problem import PinballProblem


def problem(n=60, d=3, tau=0.3, alpha=0.0, seed=0, fit_intercept=True):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 2, d) + rng.uniform(-1, 1, d)
    y = X @ rng.standard_normal(d) + 1 + rng.standard_t(3, n)
    des = Design(X, np.full(n, 1.0 / n), fit_intercept, True)
    return X, y, PinballProblem(des, y, tau, alpha, 1.0, 0)


def smoothed(A, y, sn, pen, beta, mu, tau):
    """``sum sn h(y - A beta) + pen/2 beta^2`` with ``h' = clip(r/mu + tau - 1/2,
    tau - 1, tau)`` (the antiderivative written out piece by piece)."""
    r = y - A @ beta
    c = tau - 0.5
    h = np.where(r >= mu / 2, tau * r - mu / 8,
                 np.where(r <= -mu / 2, (tau - 1) * r - mu / 8, r * r / (2 * mu) + c * r))
    return float(sn @ h) + 0.5 * float(pen @ (beta * beta))


def smoothed_grad(A, y, sn, pen, beta, mu, tau):
    r = y - A @ beta
    psi = np.clip(r / mu + tau - 0.5, tau - 1, tau)
    return -A.T @ (sn * psi) + pen * beta


def pinball_value(A, y, sn, beta, tau, pen=None):
    r = y - A @ beta
    v = float(sn @ np.maximum(tau * r, (tau - 1) * r))
    return v if pen is None else v + 0.5 * float(pen @ (beta * beta))


def highs_vertex(X, y, tau):
    """The LP optimum by HiGHS, polished to its exact vertex (the ``p``
    points it interpolates solved exactly)."""
    n, d = X.shape
    A = np.column_stack([X, np.ones(n)])
    c = np.concatenate([np.zeros(d + 1), np.full(n, tau), np.full(n, 1 - tau)])
    res = linprog(c, A_eq=np.hstack([A, np.eye(n), -np.eye(n)]), b_eq=y,
                  bounds=[(None, None)] * (d + 1) + [(0, None)] * (2 * n), method="highs")
    assert res.status == 0
    beta = res.x[:d + 1]
    Z = np.argsort(np.abs(y - A @ beta))[:d + 1]
    return np.linalg.solve(A[Z], y[Z]), res.fun / n
