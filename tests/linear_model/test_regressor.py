"""LipschitzRegressor against independent references."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.datasets import load_diabetes, load_linnerud
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.preprocessing import StandardScaler

from sklipschitz import LipschitzRegressor
from sklipschitz._engine.lipschitz import (
    gram_top_eigenvalue,
    mean_row_norm,
    paper_frobenius_factor,
    paper_squared_lipschitz,
)


def pinball(y, pred, tau):
    u = y - pred
    return float(np.mean(np.maximum(tau * u, (tau - 1) * u)))


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


@pytest.fixture(scope="module")
def diabetes_std(diabetes):
    X, y = diabetes
    return StandardScaler().fit_transform(X), y


# ---------------------------------------------------------------------------
# Squared error: LinearRegression / Ridge
# ---------------------------------------------------------------------------


def test_squared_error_equals_linear_regression(diabetes):
    X, y = diabetes
    ours = LipschitzRegressor().fit(X, y)
    ref = LinearRegression().fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6)


@pytest.mark.parametrize("alpha", [0.01, 1.0])
def test_squared_error_alpha_equals_ridge(diabetes, alpha):
    X, y = diabetes
    ours = LipschitzRegressor(alpha=alpha).fit(X, y)
    ref = Ridge(alpha=alpha * X.shape[0]).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6)


def test_multi_output_linnerud():
    X, Y = load_linnerud(return_X_y=True)
    ours = LipschitzRegressor().fit(X, Y)
    ref = LinearRegression().fit(X, Y)
    assert ours.coef_.shape == ref.coef_.shape == (3, 3)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6)
    assert ours.predict(X).shape == (20, 3)


# ---------------------------------------------------------------------------
# Quantile and absolute error: statsmodels QuantReg
# ---------------------------------------------------------------------------


def _quantreg_objective(X, y, tau):
    sm = pytest.importorskip("statsmodels.api")
    res = sm.QuantReg(y, sm.add_constant(X, has_constant="add")).fit(
        q=tau, max_iter=10000, p_tol=1e-10
    )
    return pinball(y, res.fittedvalues, tau)


def _datasets():
    sm = pytest.importorskip("statsmodels.api")
    engel = sm.datasets.engel.load_pandas().data
    stack = sm.datasets.stackloss.load_pandas().data
    X_d, y_d = load_diabetes(return_X_y=True)
    return {
        "engel": (engel[["income"]].to_numpy(), engel["foodexp"].to_numpy()),
        "stackloss": (
            stack[["AIRFLOW", "WATERTEMP", "ACIDCONC"]].to_numpy(),
            stack["STACKLOSS"].to_numpy(),
        ),
        "diabetes": (X_d, y_d),
    }


@pytest.mark.parametrize("name", ["engel", "stackloss", "diabetes"])
@pytest.mark.parametrize("tau", [0.1, 0.5, 0.9])
def test_quantile_matches_statsmodels(name, tau):
    X, y = _datasets()[name]
    ours = LipschitzRegressor(loss="quantile", quantile=tau).fit(X, y)
    ref = _quantreg_objective(X, y, tau)
    obj = pinball(y, ours.predict(X), tau)
    assert obj <= ref * (1 + 1e-6)
    assert abs(obj - ref) <= 1e-6 * ref


@pytest.mark.parametrize("name", ["engel", "stackloss", "diabetes"])
def test_absolute_error_matches_statsmodels_median(name):
    X, y = _datasets()[name]
    ours = LipschitzRegressor(loss="absolute_error").fit(X, y)
    ref = 2 * _quantreg_objective(X, y, 0.5)  # |u| = 2 rho_0.5(u)
    obj = float(np.mean(np.abs(y - ours.predict(X))))
    assert abs(obj - ref) <= 1e-6 * ref


# ---------------------------------------------------------------------------
# log-cosh: scipy L-BFGS-B on the same objective
# ---------------------------------------------------------------------------


def _logcosh_objective(params, X, y, alpha):
    w, b = params[:-1], params[-1]
    r = X @ w + b - y
    a = np.abs(r)
    val = np.mean(a + np.log1p(np.exp(-2 * a)) - np.log(2)) + 0.5 * alpha * w @ w
    g = np.tanh(r) / len(y)
    return val, np.append(X.T @ g + alpha * w, g.sum())


@pytest.mark.parametrize("alpha", [0.0, 0.1])
def test_log_cosh_matches_lbfgs(diabetes, alpha):
    X, y = diabetes
    y = y / 50.0  # residuals of a few units: both regimes of log-cosh matter
    ours = LipschitzRegressor(loss="log_cosh", alpha=alpha).fit(X, y)
    x0 = np.zeros(X.shape[1] + 1)
    ref = minimize(
        _logcosh_objective, x0, args=(X, y, alpha), jac=True, method="L-BFGS-B",
        options={"maxiter": 100000, "ftol": 1e-15, "gtol": 1e-12},
    )
    ours_obj = _logcosh_objective(np.append(ours.coef_, ours.intercept_), X, y, alpha)[0]
    assert ours_obj <= ref.fun * (1 + 1e-6)
    assert abs(ours.loss_ - ours_obj) <= 1e-9 * ours_obj


# ---------------------------------------------------------------------------
# sample weights, sparse input, dtypes, partial_fit
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["squared_error", "quantile", "log_cosh", "absolute_error"])
def test_integer_sample_weight_equals_repetition(diabetes_std, loss):
    X, y = diabetes_std
    rng = np.random.default_rng(0)
    sw = rng.integers(0, 4, size=len(y))
    weighted = LipschitzRegressor(loss=loss, quantile=0.7).fit(X, y, sample_weight=sw)
    Xr, yr = np.repeat(X, sw, axis=0), np.repeat(y, sw)
    repeated = LipschitzRegressor(loss=loss, quantile=0.7).fit(Xr, yr)
    np.testing.assert_allclose(weighted.loss_, repeated.loss_, rtol=1e-8)
    if loss in ("squared_error", "log_cosh"):  # unique optimum
        np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("loss", ["squared_error", "quantile", "log_cosh"])
def test_sparse_equals_dense(diabetes_std, loss):
    X, y = diabetes_std
    X = X.copy()
    X[np.abs(X) < 0.5] = 0.0
    dense = LipschitzRegressor(loss=loss).fit(X, y)
    sparse = LipschitzRegressor(loss=loss).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.loss_, dense.loss_, rtol=1e-8)
    np.testing.assert_allclose(sparse.predict(sp.csr_matrix(X)), dense.predict(X), rtol=1e-5,
                               atol=1e-6)


def test_float32_kept(diabetes_std):
    X, y = diabetes_std
    reg = LipschitzRegressor().fit(X.astype(np.float32), y.astype(np.float32))
    assert reg.coef_.dtype == np.float32
    assert reg.predict(X.astype(np.float32)).dtype == np.float32
    ref = LinearRegression().fit(X, y)
    np.testing.assert_allclose(reg.coef_, ref.coef_, rtol=1e-3, atol=1e-2)


@pytest.mark.parametrize("loss", ["squared_error", "log_cosh"])
def test_partial_fit_reaches_fit_objective(diabetes_std, loss):
    X, y = diabetes_std
    y = y / y.std()  # residuals of order one: both regimes of log-cosh matter
    full = LipschitzRegressor(loss=loss).fit(X, y)
    # chunks of a quarter of the data, many passes: each step is a gradient
    # step at 1/L on one chunk, L the running maximum over chunks
    inc = LipschitzRegressor(loss=loss)
    chunks = np.array_split(np.arange(len(y)), 4)
    for _ in range(400):
        for c in chunks:
            inc.partial_fit(X[c], y[c])
    val = _objective(inc, X, y, loss)
    ref = _objective(full, X, y, loss)
    assert val <= ref * (1 + 2e-3)
    assert inc.lipschitz_constant_ >= max(
        gram_top_eigenvalue(X[c], np.ones(len(c)), True) for c in chunks
    ) * (1 - 1e-12)


def _objective(est, X, y, loss):
    r = est.predict(X) - y
    if loss == "squared_error":
        return 0.5 * np.mean(r**2)
    a = np.abs(r)
    return np.mean(a + np.log1p(np.exp(-2 * a)) - np.log(2))


def test_warm_start_continues(diabetes_std):
    X, y = diabetes_std
    reg = LipschitzRegressor(learning_rate="local", max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
        first = reg.loss_
        reg.set_params(warm_start=True)
        reg.fit(X, y)
    assert reg.loss_ < first


# ---------------------------------------------------------------------------
# Learning-rate rules
# ---------------------------------------------------------------------------


def test_valid_constants(diabetes):
    X, y = diabetes
    n = len(y)
    Xt = np.hstack([X, np.ones((n, 1))])
    lam = np.linalg.eigvalsh(Xt.T @ Xt / n)[-1]
    reg = LipschitzRegressor(learning_rate="local", max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    np.testing.assert_allclose(reg.lipschitz_constant_, lam, rtol=1e-10)
    np.testing.assert_allclose(gram_top_eigenvalue(X, np.ones(n), True), lam, rtol=1e-10)
    np.testing.assert_allclose(
        mean_row_norm(X, np.ones(n), True), np.linalg.norm(Xt, axis=1).mean(), rtol=1e-12
    )
    reg = LipschitzRegressor(loss="quantile", quantile=0.8, learning_rate="local", max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    np.testing.assert_allclose(
        reg.lipschitz_constant_, 0.8 * np.linalg.norm(Xt, axis=1).mean(), rtol=1e-12
    )


def test_nonsmooth_bound_dominates_gradient_norm():
    # brute force over all sign patterns (papers.md 2.4): the valid bound
    # (1/m) sum ||x_i|| is >= the exact sup of ||grad||, the paper's
    # ||X||_F / m is not
    rng = np.random.default_rng(3)
    X = rng.standard_normal((10, 3)) + 2.0
    Xt = np.hstack([np.ones((10, 1)), X])
    best = 0.0
    for k in range(2**10):
        s = np.array([1.0 if (k >> i) & 1 else -1.0 for i in range(10)])
        best = max(best, np.linalg.norm(Xt.T @ s) / 10)
    valid = mean_row_norm(X, np.ones(10), True)
    paper = paper_frobenius_factor(X, fit_intercept=True)
    assert valid >= best - 1e-12
    assert paper < best


def test_paper_constants_reproduced(diabetes):
    X, y = diabetes
    n = len(y)
    Xt = np.hstack([np.ones((n, 1)), X])
    K = (Xt.mean(axis=0).sum() + Xt.max(axis=0).mean()) / 2
    expected = K / n * np.linalg.norm(Xt.T @ Xt) + np.linalg.norm(y @ Xt) / n
    np.testing.assert_allclose(
        paper_squared_lipschitz(X, y, fit_intercept=True), expected, rtol=1e-12
    )
    reg = LipschitzRegressor(loss="quantile", quantile=0.9, learning_rate="paper", max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    np.testing.assert_allclose(reg.lipschitz_constant_, 0.9 * np.linalg.norm(Xt) / n, rtol=1e-12)
    np.testing.assert_allclose(reg.learning_rate_history_[0], 1 / reg.lipschitz_constant_)


@pytest.mark.parametrize("learning_rate", ["local", "lipschitz", 0.2])
def test_general_loop_converges(diabetes_std, learning_rate):
    X, y = diabetes_std
    ref = LinearRegression().fit(X, y)
    opt = 0.5 * np.mean((ref.predict(X) - y) ** 2)
    kw = {"batch_size": len(y)} if learning_rate == "lipschitz" else {}
    reg = LipschitzRegressor(learning_rate=learning_rate, max_iter=5000, tol=1e-10, **kw)
    reg.fit(X, y)
    assert reg.loss_ <= opt * (1 + 1e-4)
    assert all(np.diff(reg.loss_curve_[:50]) <= 1e-9) or learning_rate != "lipschitz"


def test_minibatch_valid_rate_descends(diabetes_std):
    X, y = diabetes_std
    reg = LipschitzRegressor(batch_size=32, random_state=0, max_iter=50).fit(X, y)
    ref = LinearRegression().fit(X, y)
    opt = 0.5 * np.mean((ref.predict(X) - y) ** 2)
    assert reg.loss_ <= opt * 1.02
    np.testing.assert_allclose(
        reg.lipschitz_constant_, (np.sum(X**2, axis=1) + 1).max(), rtol=1e-12
    )


def test_divergence_stops_with_warning(diabetes_std):
    X, y = diabetes_std
    reg = LipschitzRegressor(learning_rate=10.0, max_iter=500)
    with pytest.warns(ConvergenceWarning, match="diverged"):
        reg.fit(X, y)
    assert np.all(np.isfinite(reg.coef_))
    # the kept weights are the best ones seen: their objective, computed
    # here, is the lowest of the curve and below the starting point's
    kept = 0.5 * np.mean((y - X @ reg.coef_ - reg.intercept_) ** 2)
    assert reg.loss_ == pytest.approx(kept, rel=1e-10)
    assert kept == pytest.approx(min(reg.loss_curve_), rel=1e-10)
    assert kept <= 0.5 * np.var(y) and kept < max(reg.loss_curve_) / 10


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, match",
    [
        ({"quantile": 0.0}, "quantile"),
        ({"quantile": 1.5}, "quantile"),
        ({"alpha": -1.0}, "alpha"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"learning_rate": "fast"}, "learning_rate"),
        ({"max_iter": 0}, "max_iter"),
        ({"loss": "hinge"}, "loss"),
    ],
)
def test_bad_parameters(diabetes, params, match):
    X, y = diabetes
    with pytest.raises(ValueError, match=match):
        LipschitzRegressor(**params).fit(X, y)


def test_bad_data(diabetes):
    X, y = diabetes
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LipschitzRegressor().fit(Xn, y)
    Xi = X.copy()
    Xi[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        LipschitzRegressor().fit(Xi, y)
    yn = y.copy()
    yn[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LipschitzRegressor().fit(X, yn)
    with pytest.raises(ValueError, match="0 sample"):
        LipschitzRegressor().fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LipschitzRegressor().fit(X, y[:-1])
    with pytest.raises(ValueError, match="could not convert string to float"):
        LipschitzRegressor().fit(X, np.array(["a"] * len(y)))
    sw = np.ones(len(y))
    sw[0] = -1
    with pytest.raises(ValueError, match="[Nn]egative"):
        LipschitzRegressor().fit(X, y, sample_weight=sw)
    sw[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LipschitzRegressor().fit(X, y, sample_weight=sw)
    with pytest.raises(NotFittedError):
        LipschitzRegressor().predict(X)
    reg = LipschitzRegressor().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        reg.predict(X[:, :3])


# ---------------------------------------------------------------------------
# Tikhonov penalty ||G w||^2
# ---------------------------------------------------------------------------


def _generalised_ridge(X, y, M):
    n = len(y)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    w = np.linalg.solve(Xc.T @ Xc / n + M, Xc.T @ yc / n)
    return w, y.mean() - X.mean(axis=0) @ w


@pytest.mark.parametrize(
    "kind, alpha, kw",
    [
        ("random", 0.0, {}),  # G of full column rank: the exact solver
        ("difference", 0.05, {}),  # singular G'G, made definite by alpha
        ("difference", 0.0, {"learning_rate": "local", "max_iter": 20000, "tol": 1e-14}),
    ],
)
def test_tikhonov_matches_generalised_ridge(diabetes_std, kind, alpha, kw):
    X, y = diabetes_std
    d = X.shape[1]
    rng = np.random.default_rng(0)
    G = rng.standard_normal((d + 2, d)) * 0.3 if kind == "random" else np.diff(np.eye(d), axis=0)
    reg = LipschitzRegressor(tikhonov=G, alpha=alpha, **kw).fit(X, y)
    w, b = _generalised_ridge(X, y, alpha * np.eye(d) + 2 * G.T @ G)
    np.testing.assert_allclose(reg.coef_, w, rtol=1e-6, atol=1e-6 * np.abs(w).max())
    np.testing.assert_allclose(reg.intercept_, b, rtol=1e-6)
    # the valid constant adds 2 lambda_max(G'G) to the data term
    n = len(y)
    Xt = np.hstack([X, np.ones((n, 1))])
    expected_L = np.linalg.eigvalsh(Xt.T @ Xt / n)[-1] + alpha + 2 * np.linalg.eigvalsh(G.T @ G)[-1]
    if kw.get("learning_rate") == "local":
        np.testing.assert_allclose(reg.lipschitz_constant_, expected_L, rtol=1e-10)


def test_tikhonov_paper_constant(diabetes):
    X, y = diabetes
    G = np.diff(np.eye(X.shape[1]), axis=0)
    reg = LipschitzRegressor(tikhonov=G, learning_rate="paper", max_iter=2)
    plain = LipschitzRegressor(learning_rate="paper", max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
        plain.fit(X, y)
    n = len(y)
    Xt = np.hstack([np.ones((n, 1)), X])
    K = (Xt.mean(axis=0).sum() + Xt.max(axis=0).mean()) / 2
    np.testing.assert_allclose(
        reg.lipschitz_constant_ - plain.lipschitz_constant_,
        2 * K * np.linalg.norm(G.T @ G), rtol=1e-10,
    )


@pytest.mark.parametrize(
    "G, match",
    [
        (np.ones((3, 4)), "columns"),
        (np.ones(10), "columns"),
        (np.full((2, 10), np.nan), "NaN"),
        (np.array([["a"] * 10]), "numeric"),
    ],
)
def test_tikhonov_bad_matrix(diabetes, G, match):
    X, y = diabetes
    with pytest.raises((ValueError, TypeError), match=match):
        LipschitzRegressor(tikhonov=G).fit(X, y)


@pytest.mark.parametrize("start", [True, 5])
def test_average_is_the_mean_of_the_iterates(diabetes_std, start):
    X, y = diabetes_std
    chunks = np.array_split(np.arange(len(y)), 4)
    plain = LipschitzRegressor()
    averaged = LipschitzRegressor(average=start)
    iterates = []
    for _ in range(5):
        for c in chunks:  # one chunk = one full-batch step of partial_fit
            plain.partial_fit(X[c], y[c])
            averaged.partial_fit(X[c], y[c])
            iterates.append(np.append(plain.coef_, plain.intercept_))
    first = 0 if start is True else start - 1
    expected = np.mean(iterates[first:], axis=0)
    np.testing.assert_allclose(np.append(averaged.coef_, averaged.intercept_), expected,
                               rtol=1e-10)
    # the iterate itself is not the average
    assert np.abs(np.append(plain.coef_, plain.intercept_) - expected).max() > 1e-3
