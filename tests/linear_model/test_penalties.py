"""penalty='l1' / 'elasticnet' of LipschitzRegressor, lipschitz_path and
LipschitzRegressorCV against scikit-learn and scipy references."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from joblib import parallel_config
from scipy.optimize import minimize
from sklearn.linear_model import ElasticNet, Lasso, QuantileRegressor
from sklearn.metrics import make_scorer, mean_pinball_loss
from sklearn.model_selection import GridSearchCV, KFold

from sklipschitz import LipschitzRegressor, LipschitzRegressorCV
from sklipschitz.linear_model import lipschitz_path


def make(n=200, d=8, seed=0, integer=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 3, d) + rng.uniform(-1, 1, d)
    w = np.zeros(d)
    w[:3] = [1.0, -2.0, 0.5]
    y = X @ w + 3 + rng.standard_t(3, n)
    if integer:
        y = np.round(y)
    return X, y


def pinball_objective(X, y, coef, intercept, tau, alpha, sw=None):
    r = y - X @ coef - intercept
    sw = np.ones_like(y) if sw is None else sw
    return float(sw @ np.maximum(tau * r, (tau - 1) * r) / sw.sum() + alpha * np.abs(coef).sum())


@pytest.mark.parametrize("penalty, l1_ratio", [("l1", 0.15), ("elasticnet", 0.3)])
@pytest.mark.parametrize("alpha", [0.01, 0.3])
def test_squared_matches_lasso_and_elastic_net(penalty, l1_ratio, alpha):
    X, y = make()
    ours = LipschitzRegressor(alpha=alpha, penalty=penalty, l1_ratio=l1_ratio).fit(X, y)
    if penalty == "l1":
        ref = Lasso(alpha=alpha, tol=1e-14, max_iter=100000).fit(X, y)
    else:
        ref = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-14, max_iter=100000).fit(X, y)
    assert ours.solver_ == "exact"
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-8)
    assert np.array_equal(ours.coef_ == 0, ref.coef_ == 0)


def test_squared_weights_match_lasso():
    X, y = make(seed=1)
    sw = np.random.default_rng(2).uniform(0.1, 3, y.size)
    ours = LipschitzRegressor(alpha=0.05, penalty="l1").fit(X, y, sample_weight=sw)
    ref = Lasso(alpha=0.05, tol=1e-14, max_iter=100000).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)


@pytest.mark.parametrize("tau", [0.2, 0.5, 0.8])
@pytest.mark.parametrize("sparse", [False, True])
def test_l1_quantile_matches_quantile_regressor(tau, sparse):
    X, y = make(n=300, seed=3)
    alpha = 0.02
    Xf = sp.csr_matrix(X) if sparse else X
    ours = LipschitzRegressor(loss="quantile", quantile=tau, alpha=alpha, penalty="l1").fit(Xf, y)
    ref = QuantileRegressor(quantile=tau, alpha=alpha, solver="highs").fit(X, y)
    f_ours = pinball_objective(X, y, ours.coef_, ours.intercept_, tau, alpha)
    f_ref = pinball_objective(X, y, ref.coef_, ref.intercept_, tau, alpha)
    assert ours.solver_ == "exact"
    assert f_ours <= f_ref * (1 + 1e-9)
    assert ours.loss_ == pytest.approx(f_ours, rel=1e-12)
    assert 0 < np.count_nonzero(ours.coef_) < X.shape[1]


def test_l1_quantile_weights_and_absolute_error():
    X, y = make(n=250, seed=4)
    sw = np.random.default_rng(5).integers(1, 4, y.size).astype(float)
    ours = LipschitzRegressor(loss="quantile", quantile=0.3, alpha=0.05, penalty="l1")
    ours.fit(X, y, sample_weight=sw)
    ref = QuantileRegressor(quantile=0.3, alpha=0.05, solver="highs").fit(X, y, sample_weight=sw)
    f = [pinball_objective(X, y, m.coef_, m.intercept_, 0.3, 0.05, sw) for m in (ours, ref)]
    assert f[0] <= f[1] * (1 + 1e-9)
    # |r| = 2 rho_1/2: absolute error with alpha is the median regression with alpha/2
    absm = LipschitzRegressor(loss="absolute_error", alpha=0.1, penalty="l1").fit(X, y)
    med = QuantileRegressor(quantile=0.5, alpha=0.05, solver="highs").fit(X, y)
    f = [pinball_objective(X, y, m.coef_, m.intercept_, 0.5, 0.05) for m in (absm, med)]
    assert f[0] <= f[1] * (1 + 1e-9)


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_log_cosh_matches_split_lbfgs(penalty):
    """Reference: w = u - v with u, v >= 0 makes the L1 term smooth (L-BFGS-B)."""
    X, y = make(n=200, seed=6)
    alpha, l1_ratio = 0.05, 0.5
    l2, l1 = (0.0, alpha) if penalty == "l1" else (alpha * (1 - l1_ratio), alpha * l1_ratio)
    ours = LipschitzRegressor(loss="log_cosh", alpha=alpha, penalty=penalty,
                              l1_ratio=l1_ratio).fit(X, y)
    d = X.shape[1]

    def f(z):
        u, v, b = z[:d], z[d:2 * d], z[-1]
        w = u - v
        r = X @ w + b - y
        val = np.mean(np.logaddexp(r, -r) - np.log(2)) + l1 * (u + v).sum() + 0.5 * l2 * w @ w
        g = np.tanh(r) / y.size
        gw = X.T @ g + l2 * w
        return val, np.concatenate([gw + l1, -gw + l1, [g.sum()]])

    z0 = np.zeros(2 * d + 1)
    res = minimize(f, z0, jac=True, method="L-BFGS-B",
                   bounds=[(0, None)] * (2 * d) + [(None, None)],
                   options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 20000})
    assert ours.solver_ == "exact"
    assert ours.loss_ <= res.fun + 1e-10
    np.testing.assert_allclose(ours.coef_, res.x[:d] - res.x[d:2 * d], atol=1e-5)


@pytest.mark.parametrize("loss", ["squared_error", "log_cosh"])
def test_proximal_loop_matches_exact(loss):
    X, y = make(n=150, seed=7)
    kw = dict(loss=loss, alpha=0.1, penalty="elasticnet", l1_ratio=0.7)
    exact = LipschitzRegressor(**kw).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gd = LipschitzRegressor(solver="gd", max_iter=20000, tol=1e-13, n_iter_no_change=50,
                                **kw).fit(X, y)
    assert gd.solver_ == "gd" and exact.solver_ == "exact"
    assert gd.loss_ >= exact.loss_ - 1e-12
    assert gd.loss_ == pytest.approx(exact.loss_, rel=1e-6)
    np.testing.assert_allclose(gd.coef_, exact.coef_, atol=2e-3)
    # the soft-threshold gives exact zeros where the exact solution has them
    assert np.all(gd.coef_[exact.coef_ == 0] == 0)


def test_proximal_partial_fit_and_minibatch_are_sparse():
    X, y = make(n=200, seed=8)
    reg = LipschitzRegressor(alpha=0.3, penalty="l1", batch_size=50, random_state=0,
                             max_iter=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg.fit(X, y)
    exact = LipschitzRegressor(alpha=0.3, penalty="l1").fit(X, y)
    assert reg.solver_ == "gd"
    assert np.any(reg.coef_ == 0)
    assert reg.loss_ == pytest.approx(exact.loss_, rel=0.05)
    pf = LipschitzRegressor(alpha=0.3, penalty="l1")
    for _ in range(5):
        pf.partial_fit(X, y)
    assert np.any(pf.coef_ == 0)


@pytest.mark.parametrize("loss, integer", [("squared_error", False), ("log_cosh", False),
                                           ("quantile", False), ("quantile", True),
                                           ("absolute_error", True)])
def test_alpha_max_zeroes_every_coefficient(loss, integer):
    X, y = make(n=120, seed=9, integer=integer)
    alphas, coefs, _ = lipschitz_path(X, y, loss=loss, quantile=0.3, n_alphas=3, eps=0.99)
    amax = alphas[0]
    with pytest.warns(UserWarning, match="Every coefficient is zero.*alpha_max="):
        at = LipschitzRegressor(loss=loss, quantile=0.3, alpha=amax * (1 + 1e-9),
                                penalty="l1").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        below = LipschitzRegressor(loss=loss, quantile=0.3, alpha=amax * (1 - 1e-3),
                                   penalty="l1").fit(X, y)
    assert np.all(coefs[:, 0] == 0) and np.all(at.coef_ == 0)
    assert np.any(below.coef_ != 0)


def test_empty_l1_model_warns_with_lassos_alpha_max():
    """An alpha that empties the model warns (Lasso is silent) and names
    alpha_max, here the closed form ``max |X_c' y| / n`` of the squared loss;
    the elastic net divides it by ``l1_ratio``.  A constant target, the path
    and a cross-validated choice of the empty model do not warn."""
    X, y = make(n=120, seed=21)
    amax = np.abs((X - X.mean(0)).T @ (y - y.mean())).max() / y.size
    for penalty, ratio in (("l1", 1.0), ("elasticnet", 0.5)):
        with pytest.warns(UserWarning, match="Every coefficient is zero") as rec:
            model = LipschitzRegressor(penalty=penalty, l1_ratio=ratio, alpha=10 * amax)
            model.fit(X, y)
        named = float(str(rec[0].message).split("alpha_max=")[1].split(" ")[0])
        np.testing.assert_allclose(named, amax / ratio, rtol=1e-5)
        assert np.all(Lasso(alpha=10 * amax).fit(X, y).coef_ == 0)
    noise = np.random.default_rng(3).normal(size=y.size)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LipschitzRegressor(penalty="l1", alpha=10 * amax).fit(X, np.full(y.size, 2.0))
        lipschitz_path(X, y, n_alphas=3)
        cv = LipschitzRegressorCV(penalty="l1", n_alphas=5, cv=3).fit(X, noise)
    assert np.all(cv.coef_ == 0)


def test_alpha_max_of_ties_is_the_lp_bound():
    """Integer targets: many points tie at the quantile.  The bound is the
    smallest alpha for which QuantileRegressor (HiGHS) zeroes every coefficient."""
    X, y = make(n=80, d=4, seed=10, integer=True)
    alphas, _, _ = lipschitz_path(X, y, loss="quantile", quantile=0.5, n_alphas=1)
    amax = alphas[0]
    zero = QuantileRegressor(quantile=0.5, alpha=amax * (1 + 1e-6), solver="highs").fit(X, y)
    nonzero = QuantileRegressor(quantile=0.5, alpha=amax * (1 - 1e-3), solver="highs").fit(X, y)
    assert np.abs(zero.coef_).max() < 1e-9
    assert np.abs(nonzero.coef_).max() > 1e-6


def test_path_equals_single_fits():
    X, y = make(n=150, seed=11)
    alphas, coefs, intercepts = lipschitz_path(X, y, loss="quantile", quantile=0.7, n_alphas=4)
    assert np.all(np.diff(alphas) < 0)
    for i in (1, 3):
        m = LipschitzRegressor(loss="quantile", quantile=0.7, alpha=alphas[i],
                               penalty="l1").fit(X, y)
        f_path = pinball_objective(X, y, coefs[:, i], intercepts[i], 0.7, alphas[i])
        assert f_path == pytest.approx(m.loss_, rel=1e-10)


def test_sparsify_densify_round_trip():
    X, y = make(seed=12)
    reg = LipschitzRegressor(alpha=0.2, penalty="l1").fit(X, y)
    dense = reg.coef_.copy()
    pred = reg.predict(X)
    reg.sparsify()
    assert sp.issparse(reg.coef_)
    np.testing.assert_array_equal(reg.coef_.toarray().ravel(), dense)
    np.testing.assert_allclose(reg.predict(X), pred)
    reg.densify()
    assert isinstance(reg.coef_, np.ndarray)
    np.testing.assert_array_equal(reg.coef_.ravel(), dense)


def test_penalty_none_and_default():
    X, y = make(seed=13)
    none = LipschitzRegressor(alpha=5.0, penalty=None).fit(X, y)
    zero = LipschitzRegressor(alpha=0.0).fit(X, y)
    np.testing.assert_allclose(none.coef_, zero.coef_, atol=1e-10)
    l2 = LipschitzRegressor(alpha=0.5, penalty="l2").fit(X, y)
    default = LipschitzRegressor(alpha=0.5).fit(X, y)
    np.testing.assert_array_equal(l2.coef_, default.coef_)
    en0 = LipschitzRegressor(alpha=0.5, penalty="elasticnet", l1_ratio=0.0).fit(X, y)
    np.testing.assert_allclose(en0.coef_, l2.coef_, atol=1e-10)


@pytest.mark.parametrize("params, match", [
    (dict(penalty="l1", l1_ratio=1.5), "l1_ratio"),
    (dict(penalty="elasticnet", l1_ratio=-0.1), "l1_ratio"),
    (dict(penalty="l1", alpha=-1.0), "alpha"),
    (dict(penalty="lasso"), "penalty"),
])
def test_bad_parameters(params, match):
    X, y = make(n=30)
    with pytest.raises(ValueError, match=match):
        LipschitzRegressor(**params).fit(X, y)


def test_exact_refuses_what_it_cannot_solve():
    X, y = make(n=60)
    reg = LipschitzRegressor(loss="quantile", alpha=0.1, penalty="elasticnet", solver="exact")
    with pytest.raises(ValueError, match="elastic net is not exact"):
        reg.fit(X, y)
    with pytest.raises(ValueError, match="tikhonov"):
        LipschitzRegressor(alpha=0.1, penalty="l1", tikhonov=np.eye(X.shape[1]),
                           solver="exact").fit(X, y)


def test_cv_chooses_the_alpha_of_grid_search():
    X, y = make(n=200, d=5, seed=14)
    tau = 0.3
    folds = KFold(3)
    cv = LipschitzRegressorCV(loss="quantile", quantile=tau, n_alphas=5, cv=folds).fit(X, y)
    scorer = make_scorer(mean_pinball_loss, alpha=tau, greater_is_better=False)
    gs = GridSearchCV(QuantileRegressor(quantile=tau, solver="highs"),
                      {"alpha": list(cv.alphas_)}, cv=folds, scoring=scorer).fit(X, y)
    assert cv.alpha_ == gs.best_params_["alpha"]
    np.testing.assert_allclose(cv.loss_path_.mean(axis=1)[1:],
                               -gs.cv_results_["mean_test_score"][1:], rtol=1e-7)
    assert cv.loss_path_.shape == (5, 3)
    assert cv.l1_ratio_ == 1.0
    ref = QuantileRegressor(quantile=tau, alpha=cv.alpha_, solver="highs").fit(X, y)
    f = [pinball_objective(X, y, m.coef_, m.intercept_, tau, cv.alpha_) for m in (cv, ref)]
    assert f[0] <= f[1] * (1 + 1e-9)


def test_cv_squared_elastic_net_parallel_folds():
    X, y = make(n=200, d=6, seed=15)
    cv1 = LipschitzRegressorCV(penalty="elasticnet", l1_ratio=0.5, n_alphas=5).fit(X, y)
    with parallel_config(backend="threading"):   # no process start-up in the test
        cv2 = LipschitzRegressorCV(penalty="elasticnet", l1_ratio=0.5, n_alphas=5,
                                   n_jobs=2).fit(X, y)
    np.testing.assert_allclose(cv1.loss_path_, cv2.loss_path_)
    # the ElasticNet alpha_max: max |X'(y - ybar)| / (n l1_ratio)
    Xc = X - X.mean(axis=0)
    amax = np.abs(Xc.T @ (y - y.mean())).max() / (y.size * 0.5)
    assert cv1.alphas_[0] == pytest.approx(amax, rel=1e-12)
    assert cv1.l1_ratio_ == 0.5
    np.testing.assert_allclose(cv1.predict(X), X @ cv1.coef_ + cv1.intercept_)


def test_cv_rejects_l1_ratio_zero():
    X, y = make(n=40)
    with pytest.raises(ValueError, match="l1_ratio"):
        LipschitzRegressorCV(penalty="elasticnet", l1_ratio=0.0).fit(X, y)
