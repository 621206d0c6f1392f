"""``lipschitz_constant_`` of the linear regressor in every mode, exactly,
against a direct NumPy computation of the documented formula: full batch and
mini-batch, smooth and non-smooth losses, ``alpha > 0``, Tikhonov, sample
weights, sparse input, and the dense-Gram and Lanczos eigenvalue paths."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from sklipschitz import LipschitzRegressor
from sklipschitz._engine import lipschitz as lip
from sklipschitz._engine.losses import AbsoluteError, HalfSquaredError, LogCosh, PinballLoss

# sup loss'' (smooth losses) and sup |loss'| (non-smooth ones)
CURVATURE = {"squared_error": 1.0, "log_cosh": 1.0}
GRADIENT_BOUND = {"absolute_error": 1.0, "quantile": max(0.3, 0.7)}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    n, d = 40, 3
    X = rng.normal(size=(n, d)) * [1.0, 3.0, 0.2] + [0.5, -1.0, 2.0]
    y = X @ [1.0, -0.5, 2.0] + rng.normal(size=n)
    sw = rng.uniform(0.2, 3.0, n)
    return X, y, sw


def _design(X, fit_intercept):
    return np.hstack([X, np.ones((X.shape[0], 1))]) if fit_intercept else X


def _centred(X, sw, fit_intercept):
    """The design of the general loop's steps: X minus its weighted column
    means when an intercept absorbs them (the coordinates (W, b + mean W))."""
    return X - sw @ X / sw.sum() if fit_intercept else X


def _expected(loss, X, sw, fit_intercept, alpha, minibatch, G=None, centre=True):
    Xt = _design(_centred(X, sw, fit_intercept) if centre else X, fit_intercept)
    if loss in CURVATURE:
        if minibatch:
            data = np.max(np.sum(Xt**2, axis=1))
        else:
            data = np.linalg.eigvalsh(Xt.T @ np.diag(sw) @ Xt / sw.sum())[-1]
        L = CURVATURE[loss] * data
    else:
        if minibatch:
            data = np.sqrt(np.max(np.sum(Xt**2, axis=1)))
        else:
            data = sw @ np.linalg.norm(Xt, axis=1) / sw.sum()
        L = GRADIENT_BOUND[loss] * data
    L += alpha
    if G is not None:
        L += 2 * np.linalg.eigvalsh(G.T @ G)[-1]
    return L


def _fit(X, y, sw, **params):
    reg = LipschitzRegressor(max_iter=2, solver="gd", **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return reg.fit(X, y, sample_weight=sw)


@pytest.mark.parametrize("loss", ["squared_error", "log_cosh", "absolute_error", "quantile"])
@pytest.mark.parametrize("batch_size", [None, 8])
@pytest.mark.parametrize("alpha", [0.0, 0.7])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_valid_constant_every_mode(data, loss, batch_size, alpha, fit_intercept):
    X, y, sw = data
    reg = _fit(X, y, sw, loss=loss, quantile=0.3, alpha=alpha, batch_size=batch_size,
               fit_intercept=fit_intercept, random_state=0)
    expected = _expected(loss, X, sw, fit_intercept, alpha, minibatch=batch_size is not None)
    assert reg.lipschitz_constant_ == pytest.approx(expected, rel=1e-12)
    # the first epoch's rate is 1/L for a smooth loss, R/L for a non-smooth one
    # (whose schedule divides by sqrt(t) later)
    R = 1.0 if loss in CURVATURE else _distance(X, y, sw, 0.5 if loss == "absolute_error" else 0.3,
                                                fit_intercept)
    assert reg.learning_rate_history_[0] == pytest.approx(R / expected, rel=1e-12)


def _distance(X, y, sw, tau, fit_intercept):
    """The documented R of the subgradient schedule: the weighted mean
    |y - c| about the starting constant c (the minimiser of the weighted
    pinball loss over the data points; 0 without an intercept) over the root
    mean square entry of [X, 1]."""
    def pinball(c):
        u = y - c
        return sw @ np.maximum(tau * u, (tau - 1) * u)

    c = min(y, key=pinball) if fit_intercept else 0.0
    d = sw @ np.abs(y - c) / sw.sum()
    Xt = _design(_centred(X, sw, fit_intercept), fit_intercept)
    return d / np.sqrt(sw @ np.sum(Xt**2, axis=1) / sw.sum() / Xt.shape[1])


@pytest.mark.parametrize("loss", ["absolute_error", "quantile"])
def test_nonsmooth_steps_follow_the_units_of_X_and_y(data, loss):
    # y -> c y multiplies every iterate by c, X -> X / c too: the subgradient
    # steps R/(L sqrt(t)) are in the units of the solution
    # (X -> X / c exactly so without an intercept, whose column of ones does
    # not scale)
    X, y, sw = data
    for fit_intercept, cases in [(True, [(1.0, 1e4), (1.0, 1e-4)]),
                                 (False, [(1e-3, 1.0), (50.0, 1e3)])]:
        base = _fit(X, y, sw, loss=loss, quantile=0.3, fit_intercept=fit_intercept)
        assert base.n_iter_ == 2
        for cx, cy in cases:
            other = _fit(X * cx, y * cy, sw, loss=loss, quantile=0.3,
                         fit_intercept=fit_intercept)
            np.testing.assert_allclose(other.coef_, base.coef_ * cy / cx, rtol=1e-9)
            np.testing.assert_allclose(other.intercept_, base.intercept_ * cy, rtol=1e-9,
                                       atol=1e-300)


@pytest.mark.parametrize("batch_size", [None, 8])
def test_valid_constant_with_tikhonov(data, batch_size):
    X, y, sw = data
    G = np.array([[1.0, -1.0, 0.0], [0.0, 2.0, 0.5]])
    for loss in ["squared_error", "absolute_error"]:
        reg = _fit(X, y, sw, loss=loss, alpha=0.2, tikhonov=G, batch_size=batch_size)
        expected = _expected(loss, X, sw, True, 0.2, batch_size is not None, G=G)
        assert reg.lipschitz_constant_ == pytest.approx(expected, rel=1e-12)


def test_exact_solver_reports_the_same_constant(data):
    X, y, sw = data
    for loss in ["squared_error", "quantile"]:
        reg = LipschitzRegressor(loss=loss, quantile=0.3, alpha=0.7).fit(X, y, sample_weight=sw)
        assert reg.solver_ == "exact"
        # the exact solver works in whitened coordinates: the constant it
        # reports is that of the uncentred [X, 1]
        expected = _expected(loss, X, sw, True, 0.7, minibatch=False, centre=False)
        assert reg.lipschitz_constant_ == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("case", ["l1", "elasticnet", "log_cosh", "huber", "no_intercept",
                                  "zero_weights", "sparse", "float32", "huge", "tiny",
                                  "rank_deficient"])
def test_exact_solver_constant_from_its_gram_matrix(data, case):
    # the smooth losses take the constant from the solver's own Gram matrix
    # (sklipschitz._exact LinearSolution.gram_top): the documented value,
    # lambda_max of the uncentred weighted [X, 1]
    X, y, sw = data
    X, sw = X.copy(), sw.copy()
    params = dict(alpha=0.05, penalty="l2")
    if case in ("l1", "elasticnet"):
        params.update(penalty=case, l1_ratio=0.5)
    elif case in ("log_cosh", "huber"):
        params.update(loss=case)
    elif case == "no_intercept":
        params.update(fit_intercept=False)
    elif case == "zero_weights":
        sw[::3] = 0.0
    elif case in ("huge", "tiny"):
        X *= 1e150 if case == "huge" else 1e-200
        params.update(alpha=0.0)
    elif case == "rank_deficient":
        X[:, 2] = 7.0          # a constant column: no centred direction
    Xfit = sp.csr_matrix(X) if case == "sparse" else X.astype(np.float32) \
        if case == "float32" else X
    Xref = X.astype(np.float32).astype(np.float64) if case == "float32" else X
    # (weights are checked in the dtype of X)
    swref = sw.astype(np.float32).astype(np.float64) if case == "float32" else sw
    reg = LipschitzRegressor(**params).fit(Xfit, y, sample_weight=sw)
    assert reg.solver_ == "exact"
    fit_intercept = params.get("fit_intercept", True)
    Xt = _design(Xref, fit_intercept)
    alpha = params["alpha"] * (0.5 if case == "elasticnet" else 1.0) \
        if params["penalty"] != "l1" else 0.0
    curvature = {"huber": 1.0, "log_cosh": 1.0}.get(params.get("loss"), 1.0)
    expected = curvature * np.linalg.eigvalsh(Xt.T @ np.diag(swref) @ Xt / swref.sum())[-1] + alpha
    assert reg.lipschitz_constant_ == pytest.approx(expected, rel=1e-12)


def test_sparse_input_gives_the_dense_constant(data):
    X, y, sw = data
    for loss, batch in [("squared_error", None), ("absolute_error", None), ("log_cosh", 8)]:
        dense = _fit(X, y, sw, loss=loss, batch_size=batch, random_state=0)
        sparse = _fit(sp.csr_matrix(X), y, sw, loss=loss, batch_size=batch, random_state=0)
        expected = _expected(loss, X, sw, True, 0.0, minibatch=batch is not None)
        assert dense.lipschitz_constant_ == pytest.approx(expected, rel=1e-12)
        assert sparse.lipschitz_constant_ == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
def test_lanczos_path_matches_the_dense_eigenvalue(monkeypatch, fit_intercept, sparse):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(60, 25)) + 0.3
    sw = rng.uniform(0.5, 2.0, 60)
    Xt = _design(X, fit_intercept)
    exact = np.linalg.eigvalsh(Xt.T @ (Xt * sw[:, None]) / sw.sum())[-1]
    Xin = sp.csr_matrix(X) if sparse else X
    dense = lip.gram_top_eigenvalue(Xin, sw, fit_intercept)
    assert dense == pytest.approx(exact, rel=1e-12)
    monkeypatch.setattr(lip, "DENSE_GRAM_MAX_FEATURES", 10)   # force the Lanczos path
    lanczos = lip.gram_top_eigenvalue(Xin, sw, fit_intercept)
    # a Ritz value to tol 1e-6, then the 0.1% safety margin: on the safe side
    assert exact <= lanczos <= exact * (1 + 1e-3) * (1 + 1e-5)
    assert lanczos == pytest.approx(exact * lip._LANCZOS_SAFETY, rel=1e-5)


def test_huge_entries_keep_the_eigenvalue_exact():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(30, 3))
    sw = np.ones(30)
    Xt = _design(X, True)
    base = np.linalg.eigvalsh(Xt.T @ Xt / 30)[-1]
    scaled = lip.gram_top_eigenvalue(X * 1e120, sw, fit_intercept=False)
    assert scaled == pytest.approx(np.linalg.eigvalsh(X.T @ X / 30)[-1] * 1e240, rel=1e-12)
    # with the intercept column the ones column is not scaled
    G = lip.gram_top_eigenvalue(X, sw, fit_intercept=True)
    assert G == pytest.approx(base, rel=1e-12)


def test_linear_lipschitz_direct(data):
    X, _, sw = data
    Xt = _design(X, True)
    rows = np.sum(Xt**2, axis=1)
    cases = [
        (HalfSquaredError(), False, np.linalg.eigvalsh(Xt.T @ (Xt * sw[:, None]) / sw.sum())[-1]),
        (LogCosh(), True, rows.max()),
        (AbsoluteError(), False, sw @ np.sqrt(rows) / sw.sum()),
        (PinballLoss(0.1), True, 0.9 * np.sqrt(rows.max())),
    ]
    for loss, mini, expected in cases:
        got = lip.linear_lipschitz(loss, X, sw, fit_intercept=True, alpha=0.25, minibatch=mini)
        assert got == pytest.approx(expected + 0.25, rel=1e-12)


@pytest.mark.parametrize("batch_size", [None, 16])
def test_paper_constants_with_alpha(data, batch_size):
    X, y, sw = data
    n = X.shape[0]
    Xt = np.hstack([np.ones((n, 1)), X])          # the published bias column comes first
    K = (Xt.mean(axis=0).sum() + Xt.max(axis=0).mean()) / 2
    m = n if batch_size is None else batch_size
    batches = [slice(i, min(i + m, n)) for i in range(0, n, m)]
    # LALR: max(tau, 1 - tau) ||[1, X_b]||_F / m, plus alpha K (LipschitzLR 6.3)
    reg = _fit(X, y, sw, loss="quantile", quantile=0.3, alpha=0.5, learning_rate="paper",
               batch_size=batch_size, random_state=0)
    Kz = max(np.linalg.norm(Xt[b]) for b in batches) / m
    assert reg.lipschitz_constant_ == pytest.approx(0.7 * Kz + 0.5 * K, rel=1e-12)
    # LipschitzLR 5.1: (K/m)||X~'X~||_F + (1/m)||y'X~||, max over batches, + alpha K
    reg = _fit(X, y, sw, loss="squared_error", alpha=0.5, learning_rate="paper",
               batch_size=batch_size, random_state=0)
    sq = max(K * np.linalg.norm(Xt[b].T @ Xt[b]) / m + np.linalg.norm(y[b] @ Xt[b]) / m
             for b in batches)
    assert reg.lipschitz_constant_ == pytest.approx(sq + 0.5 * K, rel=1e-12)
    # Tikhonov in paper mode adds 2 K ||G'G||_F
    G = np.array([[1.0, 0.0, -1.0]])
    reg = _fit(X, y, sw, loss="absolute_error", learning_rate="paper", tikhonov=G,
               batch_size=batch_size, random_state=0)
    assert reg.lipschitz_constant_ == pytest.approx(Kz + 2 * K * np.linalg.norm(G.T @ G),
                                                    rel=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
def test_column_moments(data, sparse):
    X, _, sw = data
    mean = sw @ X / sw.sum()
    std = np.sqrt(sw @ (X - mean) ** 2 / sw.sum())
    m, s = lip.column_moments(sp.csr_matrix(X) if sparse else X, sw)
    np.testing.assert_allclose(m, mean, rtol=1e-12)
    np.testing.assert_allclose(s, std, rtol=1e-10)
    # float32 input far from the origin: the moments are accumulated in
    # float64 (in float32, E[x^2] - E[x]^2 would lose the variance)
    X32 = (X + 1000.0).astype(np.float32)
    ref = X32.astype(np.float64)
    mean = sw @ ref / sw.sum()
    std = np.sqrt(sw @ (ref - mean) ** 2 / sw.sum())
    m, s = lip.column_moments(sp.csr_matrix(X32) if sparse else X32, sw)
    np.testing.assert_allclose(m, mean, rtol=1e-12)
    np.testing.assert_allclose(s, std, rtol=1e-6)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("centre", [True, False])
def test_preconditioned_gram_top_eigenvalue(data, fit_intercept, centre):
    X, _, sw = data
    offset = sw @ X / sw.sum() if centre else None
    scale = np.array([0.5, 3.0, 0.25])
    Z = (X - (0.0 if offset is None else offset)) / scale
    Zt = _design(Z, fit_intercept)
    expected = np.linalg.eigvalsh(Zt.T @ (Zt * sw[:, None]) / sw.sum())[-1]
    got = lip.preconditioned_gram_top_eigenvalue(X, sw, offset, scale, fit_intercept)
    assert got == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("batch_size", [None, 16])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_paper_log_cosh_constant(data, batch_size, fit_intercept):
    X, y, _ = data
    n = X.shape[0]
    Xt = np.hstack([np.ones((n, 1)), X]) if fit_intercept else X
    K = (Xt.mean(axis=0).sum() + Xt.max(axis=0).mean()) / 2
    m = n if batch_size is None else batch_size
    y = y / 20                                      # |tanh| visibly below 1
    Y = np.column_stack([y, -2 * y])
    best = max(np.max(np.abs(np.tanh(0.3 - np.linalg.norm(Y[b], axis=0))))
               * np.linalg.norm(Xt[b]) / m for b in _batches(n, m))
    got = lip.paper_log_cosh_lipschitz(X, Y, fit_intercept=fit_intercept, batch_size=batch_size,
                                       alpha=0.4, output_at_zero=0.3)
    assert got == pytest.approx(best + 0.4 * K, rel=1e-12)
    assert best < np.max([np.linalg.norm(Xt[b]) / m for b in _batches(n, m)]) * 0.999
    with pytest.raises(ValueError, match="X has 40 rows but y has 39"):
        lip.paper_log_cosh_lipschitz(X, Y[:-1], fit_intercept=fit_intercept)
    # every target norm equal to g(0): tanh(0) = 0, an infinite rate
    with pytest.raises(ValueError, match=r"^The published log-cosh constant is zero: every "
                       r"batch's target norm equals g\(0\), so tanh\(g\(0\) - \|\|y\|\|\) = 0\. "
                       r"Use learning_rate='lipschitz'\.$"):
        lip.paper_log_cosh_lipschitz(X, np.zeros(n), fit_intercept=fit_intercept)


def _batches(n, m):
    return [slice(i, min(i + m, n)) for i in range(0, n, m)]
