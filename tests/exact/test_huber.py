"""Huber (and log-cosh with a scale) against L-BFGS-B."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize

from sklipschitz._engine.losses import Huber, LogCosh

from exact_refs import DATASETS, data, fit


def huber_rho(r, eps):
    a = np.abs(r)
    return np.where(a <= eps, 0.5 * a * a, eps * a - 0.5 * eps * eps)


def lbfgs_huber(X, y, sw, alpha, eps, fit_intercept=True):
    """The weighted mean Huber loss + alpha/2 |w|^2, minimised by L-BFGS-B."""
    n, d = X.shape
    s = sw / sw.sum()

    def f(theta):
        w, b = theta[:d], (theta[d] if fit_intercept else 0.0)
        r = y - X @ w - b
        psi = np.clip(r, -eps, eps)
        g = np.concatenate([-X.T @ (s * psi) + alpha * w, [-(s @ psi)] if fit_intercept else []])
        return s @ huber_rho(r, eps) + 0.5 * alpha * w @ w, g

    x0 = np.zeros(d + int(fit_intercept))
    res = minimize(f, x0, jac=True, method="L-BFGS-B",
                   options={"maxiter": 50000, "maxfun": 100000, "ftol": 1e-15, "gtol": 1e-12})
    return res.fun


def objective(X, y, sw, sol, rho, alpha):
    s = sw / sw.sum()
    w = sol.coef[:, 0]
    return s @ rho(y - X @ w - sol.intercept[0]) + 0.5 * alpha * w @ w


@pytest.mark.parametrize("alpha", [0.0, 0.05])
@pytest.mark.parametrize("name,eps", [("diabetes", 40.0), ("stackloss", 2.0),
                                      ("synthetic", 1.35), ("synthetic", 0.05)])
def test_huber_matches_lbfgs(alpha, name, eps):
    if name == "synthetic":
        X, y = data(n=2000, d=8, seed=10)
    else:
        X, y = DATASETS[name]()
        X = (X - X.mean(0)) / X.std(0)
    sw = np.random.default_rng(2).uniform(0.5, 2, len(y))
    sol = fit(X, y, Huber(eps), sw, alpha=alpha)
    assert sol.certified
    ours = objective(X, y, sw, sol, lambda r: huber_rho(r, eps), alpha)
    ref = lbfgs_huber(X, y, sw, alpha, eps)
    # never above the independent solve by more than 1e-9 relative
    assert ours <= ref + 1e-9 * abs(ref)
    assert ours == pytest.approx(ref, rel=1e-6)
    assert sol.loss_curve[-1] == pytest.approx(ours, rel=1e-12)
    assert sol.learning_rate_history[0] == 1.0          # FISTA at exactly 1/L
    sp_sol = fit(sp.csr_matrix(X), y, Huber(eps), sw, alpha=alpha)
    np.testing.assert_allclose(sp_sol.coef, sol.coef, rtol=1e-6, atol=1e-8)


def test_huber_large_epsilon_is_least_squares_small_is_median():
    X, y = data(n=500, d=4, seed=3)
    sol = fit(X, y, Huber(1e6))
    A = np.column_stack([X, np.ones(len(y))])
    ls = np.linalg.lstsq(A, y, rcond=None)[0]
    np.testing.assert_allclose(sol.coef[:, 0], ls[:-1], rtol=1e-9, atol=1e-9)
    # intercept-only: the Huber location of y (root of sum clip(y - c))
    c = Huber(0.3).constant_raw(y[:, None], np.ones(len(y)))[0]
    assert abs(np.clip(y - c, -0.3, 0.3).sum()) < 1e-9


def test_huber_multi_output_epsilon_per_column():
    X, y = data(n=400, d=3, seed=15)
    Y = np.column_stack([y, 10 * y + 3])
    sol = fit(X, Y, Huber(np.array([1.0, 10.0])))
    one = fit(X, y, Huber(1.0))
    # Huber is equivariant: 10 y with 10 eps gives 10 times the coefficients
    np.testing.assert_allclose(sol.coef[:, 0], one.coef[:, 0], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(sol.coef[:, 1], 10 * one.coef[:, 0], rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(sol.intercept[1], 10 * one.intercept[0] + 3, rtol=1e-8)


@pytest.mark.parametrize("scale", [0.2, 7.0])
def test_scaled_logcosh_is_equivariant_and_matches_lbfgs(scale):
    X, y = data(n=600, d=5, seed=4)
    sol = fit(X, y, LogCosh(scale))
    assert sol.certified
    # s^2 logcosh(r / s) on y is s^2 times logcosh on y / s
    unit = fit(X, y / scale, LogCosh())
    np.testing.assert_allclose(sol.coef[:, 0], scale * unit.coef[:, 0], rtol=1e-7, atol=1e-9)
    s = np.ones(len(y)) / len(y)

    def f(theta):
        r = (y - X @ theta[:-1] - theta[-1]) / scale
        t = np.tanh(r)
        a = np.abs(r)
        v = scale**2 * (s @ (a + np.log1p(np.exp(-2 * a)) - np.log(2)))
        g = -scale * np.append(X.T @ (s * t), s @ t)
        return v, g

    ref = minimize(f, np.zeros(6), jac=True, method="L-BFGS-B",
                   options={"maxiter": 20000, "ftol": 1e-15, "gtol": 1e-12}).fun
    assert f(np.append(sol.coef[:, 0], sol.intercept[0]))[0] <= ref + 1e-9 * abs(ref)


def test_wide_sparse_route_uses_the_loss_parameters():
    rng = np.random.default_rng(0)
    X = sp.random(300, 3200, density=0.002, random_state=1, format="csr")
    y = rng.standard_normal(300) * 5
    sol = fit(X, y, Huber(0.5), alpha=0.1)
    assert sol.method == "wide"
    w = sol.coef[:, 0]
    r = y - X @ w - sol.intercept[0]
    g = -X.T @ np.clip(r, -0.5, 0.5) / 300 + 0.1 * w
    assert np.abs(g).max() < 1e-7
    assert abs(np.clip(r, -0.5, 0.5).mean()) < 1e-7


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_newton_system_from_the_gram_minus_the_outside_rows(fit_intercept):
    from sklipschitz._exact import huber, logcosh
    from sklipschitz._exact.design import Design

    X, y = data(n=400, d=5, seed=7)
    sw = np.random.default_rng(1).uniform(0.5, 2, 400)
    des = Design(X, sw / sw.sum(), fit_intercept, False)
    w = np.linalg.lstsq(X, y, rcond=None)[0] * 0.9
    b = 0.3 if fit_intercept else 0.0
    r = des.residual(y, w, b)
    loss = Huber(float(np.quantile(np.abs(r), 0.7)))   # 30% of the rows outside Q
    fast = huber._Column(des, y, loss, 0.1, 0)
    full = logcosh._Column(des, y, loss, 0.1, 0)
    r, F, gw, gb, gnorm = fast.state(w, b, exact=True)
    assert 0.2 < np.mean(np.abs(r) > loss.epsilon) < 0.5        # the shortcut applies
    for a, b in zip(fast.direction(r, gw, gb), full.direction(r, gw, gb)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
