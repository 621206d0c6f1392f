"""Independent references shared by the tests of the exact solver."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog, minimize

from sklipschitz._exact import solve_linear


def pinball_objective(X, y, coef, intercept, tau, sw=None, alpha=0.0):
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    coef = np.asarray(coef, dtype=np.float64).reshape(X.shape[1], -1)
    sw = np.ones(X.shape[0]) if sw is None else np.asarray(sw, dtype=np.float64)
    r = y - X @ coef - np.asarray(intercept, dtype=np.float64)
    rho = np.maximum(tau * r, (tau - 1) * r).sum(axis=1)
    return float(sw @ rho) / sw.sum() + 0.5 * alpha * float(np.sum(coef**2))


def lp_quantile_objective(X, y, tau, sw=None, fit_intercept=True):
    """Optimal weighted mean pinball loss by HiGHS (dual LP)."""
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    sw = np.ones(n) if sw is None else np.asarray(sw, dtype=np.float64)
    A = np.column_stack([X, np.ones(n)]) if fit_intercept else X
    res = linprog(-np.asarray(y, dtype=np.float64), A_eq=A.T, b_eq=np.zeros(A.shape[1]),
                  bounds=np.column_stack([sw * (tau - 1), sw * tau]), method="highs")
    assert res.status == 0
    return -res.fun / sw.sum()


def logcosh(r):
    a = np.abs(r)
    return a + np.log1p(np.exp(-2 * a)) - np.log(2)


def lbfgs_logcosh(X, y, sw, alpha, fit_intercept=True):
    n, d = X.shape
    s = sw / sw.sum()

    def f(theta):
        w, b = theta[:d], (theta[d] if fit_intercept else 0.0)
        r = X @ w + b - y
        t = np.tanh(r)
        g = np.concatenate([X.T @ (s * t) + alpha * w, [s @ t] if fit_intercept else []])
        return s @ logcosh(r) + 0.5 * alpha * w @ w, g

    res = minimize(f, np.zeros(d + int(fit_intercept)), jac=True, method="L-BFGS-B",
                   options={"maxiter": 20000, "ftol": 1e-15, "gtol": 1e-12})
    return res.fun


def data(n=300, d=5, seed=0, heavy=True):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 3, d) + rng.uniform(-1, 1, d)
    noise = rng.standard_t(2, n) if heavy else rng.standard_normal(n)
    y = X @ rng.standard_normal(d) + 2 + noise * (1 + 0.5 * np.abs(X[:, 0]))
    return X, y


def engel():
    sm = pytest.importorskip("statsmodels.datasets.engel")
    df = sm.load_pandas().data
    return df[["income"]].to_numpy(dtype=float), df["foodexp"].to_numpy(dtype=float)


def stackloss():
    sm = pytest.importorskip("statsmodels.datasets.stackloss")
    df = sm.load_pandas().data
    return (df[["AIRFLOW", "WATERTEMP", "ACIDCONC"]].to_numpy(dtype=float),
            df["STACKLOSS"].to_numpy(dtype=float))


def diabetes():
    from sklearn.datasets import load_diabetes

    return load_diabetes(return_X_y=True)


DATASETS = {"engel": engel, "stackloss": stackloss, "diabetes": diabetes}


def fit(X, y, loss, sw=None, **kw):
    y = np.asarray(y)
    Y = y[:, None] if y.ndim == 1 else y
    return solve_linear(X, Y.astype(X.dtype), loss, sw, **kw)


def qp_reference(X, y, tau, alpha, sw=None, fit_intercept=True):
    """Epigraph QP of the penalised pinball problem solved by SLSQP."""
    n, d = X.shape
    sw = np.ones(n) if sw is None else sw
    s = sw / sw.sum()

    def obj(v):
        w, u, t = v[:d], v[d + 1:d + 1 + n], v[d + 1 + n:]
        return s @ (tau * u + (1 - tau) * t) + 0.5 * alpha * w @ w

    def grad(v):
        g = np.zeros_like(v)
        g[:d] = alpha * v[:d]
        g[d + 1:d + 1 + n] = tau * s
        g[d + 1 + n:] = (1 - tau) * s
        return g

    A = np.hstack([X, np.ones((n, 1)), np.eye(n), -np.eye(n)])
    cons = {"type": "eq", "fun": lambda v: A @ v - y, "jac": lambda v: A}
    intercept = (None, None) if fit_intercept else (0, 0)
    bounds = [(None, None)] * d + [intercept] + [(0, None)] * (2 * n)
    b0 = np.median(y) if fit_intercept else 0.0
    r0 = y - b0
    v0 = np.concatenate([np.zeros(d), [b0], np.maximum(r0, 0), np.maximum(-r0, 0)])
    res = minimize(obj, v0, jac=grad, constraints=[cons], bounds=bounds, method="SLSQP",
                   options={"maxiter": 2000, "ftol": 1e-14})
    return res.fun
