"""LipschitzRegressor's robust losses (Huber, scaled log-cosh) and early stopping,
against independent references."""

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.stats import norm
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import QuantileRegressor
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils.estimator_checks import check_estimator

from sklipschitz import LipschitzRegressor
from sklipschitz._engine.lipschitz import paper_frobenius_factor, paper_log_cosh_lipschitz


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def huber_rho(r, eps):
    a = np.abs(r)
    return np.where(a <= eps, 0.5 * a * a, eps * a - 0.5 * eps * eps)


def huber_objective(theta, X, y, eps, alpha):
    w, b = theta[:-1], theta[-1]
    r = y - X @ w - b
    psi = np.clip(r, -eps, eps)
    n = len(y)
    value = huber_rho(r, eps).mean() + 0.5 * alpha * w @ w
    return value, np.append(-X.T @ psi / n + alpha * w, -psi.mean())


def lower_median(v):
    return np.sort(v)[(len(v) - 1) // 2]


def lad_mad(X, y):
    """The reweighted normalised MAD (lower medians) of the residuals of the
    median regression by HiGHS: 3 steps keeping the residuals within 2.5
    scales, MAD / median(|Z| : |Z| <= 2.5)."""
    r = y - QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(X, y).predict(X)
    c = lower_median(r)
    sigma = 1.4826 * lower_median(np.abs(r - c))
    q = norm.ppf(0.5 + (norm.cdf(2.5) - 0.5) / 2)
    for _ in range(3):
        kept = r[np.abs(r - c) <= 2.5 * sigma]
        c = lower_median(kept)
        sigma = lower_median(np.abs(kept - c)) / q
    return sigma


# ---------------------------------------------------------------------------
# Huber


@pytest.mark.parametrize("alpha", [0.0, 0.1])
def test_huber_objective_matches_lbfgs(diabetes, alpha):
    X, y = diabetes
    reg = LipschitzRegressor(loss="huber", epsilon=30.0, alpha=alpha).fit(X, y)
    assert reg.solver_ == "exact" and reg.epsilon_ == 30.0
    ref = minimize(huber_objective, np.zeros(X.shape[1] + 1), args=(X, y, 30.0, alpha),
                   jac=True, method="L-BFGS-B",
                   options={"maxiter": 50000, "ftol": 1e-15, "gtol": 1e-12}).fun
    ours = huber_objective(np.append(reg.coef_, reg.intercept_), X, y, 30.0, alpha)[0]
    assert ours <= ref + 1e-9 * ref
    assert reg.loss_ == pytest.approx(ours, rel=1e-12)
    assert reg.lipschitz_constant_ > 0


def test_huber_auto_epsilon_is_135_robust_residual_scale(diabetes):
    X, y = diabetes
    reg = LipschitzRegressor(loss="huber").fit(X, y)
    assert reg.epsilon_ == pytest.approx(1.35 * lad_mad(X, y), rel=1e-5)


def test_huber_and_logcosh_auto_are_equivariant_in_the_units_of_y(diabetes):
    X, y = diabetes
    for kw in ({"loss": "huber"}, {"loss": "log_cosh", "scale": "auto"}):
        a = LipschitzRegressor(**kw).fit(X, y)
        b = LipschitzRegressor(**kw).fit(X, 1000.0 * y + 7.0)
        np.testing.assert_allclose(b.coef_, 1000.0 * a.coef_, rtol=1e-7)
        assert b.intercept_ == pytest.approx(1000.0 * a.intercept_ + 7.0, rel=1e-7)


def test_huber_gradient_loop_reaches_the_exact_optimum(diabetes):
    X, y = diabetes
    exact = LipschitzRegressor(loss="huber", epsilon=40.0).fit(X, y)
    gd = LipschitzRegressor(loss="huber", epsilon=40.0, solver="gd", tol=1e-12,
                            max_iter=20000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gd.fit(X, y)
    assert gd.solver_ == "gd"
    assert exact.loss_ <= gd.loss_ <= exact.loss_ * (1 + 1e-6)
    # the valid constant: curvature 1 times the top eigenvalue of [X, 1]'[X, 1] / n
    A = np.column_stack([X, np.ones(len(y))])
    assert gd.lipschitz_constant_ == pytest.approx(np.linalg.eigvalsh(A.T @ A / len(y))[-1])


def test_huber_paper_constant_is_epsilon_times_frobenius_factor(diabetes):
    X, y = diabetes
    reg = LipschitzRegressor(loss="huber", epsilon=2.0, learning_rate="paper", max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    assert reg.lipschitz_constant_ == pytest.approx(
        2.0 * paper_frobenius_factor(X, fit_intercept=True))


def test_huber_multi_output_one_epsilon_per_output(diabetes):
    X, y = diabetes
    Y = np.column_stack([y, y / 100.0])
    reg = LipschitzRegressor(loss="huber").fit(X, Y)
    assert reg.epsilon_.shape == (2,)
    assert reg.epsilon_[1] == pytest.approx(reg.epsilon_[0] / 100.0, rel=1e-6)
    np.testing.assert_allclose(reg.coef_[1], reg.coef_[0] / 100.0, rtol=1e-6)


def test_auto_scale_ignores_gross_outliers():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((3000, 3))
    y = X @ [1.0, -2.0, 0.5] + 2.0 * rng.standard_normal(3000)
    y[:900] += rng.uniform(100, 300, 900)           # 30% one-sided gross outliers
    reg = LipschitzRegressor(loss="huber").fit(X, y)
    # the noise sd is 2: the plain MAD would be 1.6 times larger
    assert reg.epsilon_ / 1.35 == pytest.approx(2.0, rel=0.1)


def test_huber_partial_fit_keeps_the_first_chunk_epsilon(diabetes):
    X, y = diabetes
    reg = LipschitzRegressor(loss="huber", batch_size=50, random_state=0)
    reg.partial_fit(X[:200], y[:200])
    eps = reg.epsilon_
    assert eps == pytest.approx(1.35 * lad_mad(X[:200], y[:200]), rel=1e-5)
    reg.partial_fit(X[200:], 10 * y[200:])
    assert reg.epsilon_ == eps


# ---------------------------------------------------------------------------
# log-cosh scale


def test_logcosh_default_scale_is_the_plain_loss(diabetes):
    X, y = diabetes
    a = LipschitzRegressor(loss="log_cosh").fit(X, y)
    b = LipschitzRegressor(loss="log_cosh", scale=1.0).fit(X, y)
    assert a.scale_ == 1.0
    np.testing.assert_array_equal(a.coef_, b.coef_)
    r = y - a.predict(X)
    want = np.mean(np.abs(r) + np.log1p(np.exp(-2 * np.abs(r))) - np.log(2))
    assert a.loss_ == pytest.approx(want, rel=1e-12)


def test_logcosh_fixed_scale_objective(diabetes):
    X, y = diabetes
    s = 25.0
    reg = LipschitzRegressor(loss="log_cosh", scale=s).fit(X, y)

    def f(theta):
        r = (y - X @ theta[:-1] - theta[-1]) / s
        a = np.abs(r)
        t = np.tanh(r)
        return (s * s * np.mean(a + np.log1p(np.exp(-2 * a)) - np.log(2)),
                -s * np.append(X.T @ t / len(y), t.mean()))

    ref = minimize(f, np.zeros(11), jac=True, method="L-BFGS-B",
                   options={"maxiter": 50000, "ftol": 1e-15, "gtol": 1e-12}).fun
    assert reg.loss_ <= ref + 1e-9 * ref
    assert reg.loss_ == pytest.approx(f(np.append(reg.coef_, reg.intercept_))[0], rel=1e-12)


def test_logcosh_auto_scale_is_the_robust_residual_scale(diabetes):
    X, y = diabetes
    reg = LipschitzRegressor(loss="log_cosh", scale="auto").fit(X, y)
    assert reg.scale_ == pytest.approx(0.5 * lad_mad(X, y), rel=1e-5)


def test_paper_log_cosh_constant_with_a_scale():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((50, 3)), 0.01 * rng.standard_normal(50)
    A = np.column_stack([np.ones(50), X])
    for s in (1.0, 0.003, 5.0):
        want = s * abs(np.tanh(-np.linalg.norm(y) / s)) * np.linalg.norm(A) / 50
        got = paper_log_cosh_lipschitz(X, y, fit_intercept=True, scale=s)
        assert got == pytest.approx(want, rel=1e-12)
    reg = LipschitzRegressor(loss="log_cosh", scale=5.0, learning_rate="paper", max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    assert reg.lipschitz_constant_ == pytest.approx(
        paper_log_cosh_lipschitz(X, y, fit_intercept=True, scale=5.0))


# ---------------------------------------------------------------------------
# early stopping


def noisy_problem(n=400, d=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X[:, 0] + 3.0 * rng.standard_normal(n)
    return X, y


def test_early_stopping_restores_the_best_validation_weights():
    X, y = noisy_problem()
    reg = LipschitzRegressor(early_stopping=True, validation_fraction=0.25, random_state=3,
                             n_iter_no_change=5, tol=1e-4, max_iter=2000).fit(X, y)
    assert reg.solver_ == "gd"
    # the same split, reproduced from the seed
    X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=0.25,
                                                random_state=check_random_state(3))
    score = -0.5 * np.mean((y_val - reg.predict(X_val)) ** 2)
    assert reg.best_validation_score_ == pytest.approx(score, rel=1e-10)
    assert reg.best_validation_score_ == max(reg.validation_scores_)
    assert len(reg.validation_scores_) == reg.n_iter_
    # stopped n_iter_no_change epochs after the best one, long before max_iter
    best = int(np.argmax(reg.validation_scores_))
    assert reg.n_iter_ == best + 1 + 5 < 2000
    # the loop trained on the training part only: the exact fit there is better on it
    full = LipschitzRegressor().fit(X_tr, y_tr)
    assert np.mean((y_tr - full.predict(X_tr)) ** 2) < np.mean((y_tr - reg.predict(X_tr)) ** 2)


def test_early_stopping_off_sets_the_attributes_to_none(diabetes):
    X, y = diabetes
    reg = LipschitzRegressor().fit(X, y)
    assert reg.validation_scores_ is None and reg.best_validation_score_ is None


def test_early_stopping_with_the_exact_solver_is_an_error(diabetes):
    X, y = diabetes
    with pytest.raises(ValueError, match="early_stopping=False .*no epochs to stop early"):
        LipschitzRegressor(early_stopping=True, solver="exact").fit(X, y)


def test_early_stopping_on_too_few_samples_is_an_error():
    with pytest.raises(ValueError, match="early_stopping needs at least 2 training samples"):
        LipschitzRegressor(early_stopping=True).fit(np.ones((2, 1)), [1.0, 2.0])


# ---------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize("params,match", [
    ({"loss": "huber", "epsilon": -1.0}, "'epsilon' parameter .* range \\(0.0, inf\\)"),
    ({"loss": "huber", "epsilon": 0.0}, "'epsilon' parameter .* range \\(0.0, inf\\)"),
    ({"loss": "log_cosh", "scale": 0.0}, "'scale' parameter .* range \\(0.0, inf\\)"),
    ({"loss": "log_cosh", "scale": -2.0}, "'scale' parameter .* range \\(0.0, inf\\)"),
    ({"validation_fraction": 0.0}, "'validation_fraction' parameter .* range \\(0.0, 1.0\\)"),
    ({"validation_fraction": 1.0}, "'validation_fraction' parameter .* range \\(0.0, 1.0\\)"),
    ({"early_stopping": "yes"}, "'early_stopping' parameter"),
])
def test_bad_parameters(diabetes, params, match):
    X, y = diabetes
    with pytest.raises(ValueError, match=match):
        LipschitzRegressor(**params).fit(X, y)


SPLIT_REASON = (
    "early stopping holds out a random fraction of the rows: repeating a sample is not "
    "the same split as weighting it (as for MLPRegressor)"
)


@pytest.mark.parametrize("est,failures", [
    (LipschitzRegressor(loss="huber"), {}),
    (LipschitzRegressor(loss="log_cosh", scale="auto"), {}),
    (LipschitzRegressor(early_stopping=True, random_state=0), {
        "check_sample_weight_equivalence_on_dense_data": SPLIT_REASON,
        "check_sample_weight_equivalence_on_sparse_data": SPLIT_REASON,
    }),
], ids=["huber", "logcosh-auto", "early-stopping"])
def test_estimator_checks(est, failures):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check_estimator(est, expected_failed_checks=failures)


# ---------------------------------------------------------------------------
# several quantile levels


def test_several_levels_match_quantile_regressor_per_level(diabetes):
    X, y = diabetes
    levels = [0.9, 0.1, 0.5]
    reg = LipschitzRegressor(loss="quantile", quantile=levels).fit(X, y)
    assert reg.solver_ == "exact"
    assert reg.coef_.shape == (3, X.shape[1]) and reg.intercept_.shape == (3,)
    for j, q in enumerate(levels):
        ref = QuantileRegressor(quantile=q, alpha=0.0, solver="highs").fit(X, y)
        np.testing.assert_allclose(reg.coef_[j], ref.coef_, rtol=1e-7, atol=1e-6)
        assert reg.intercept_[j] == pytest.approx(ref.intercept_, rel=1e-9)
    pred = reg.predict(X)
    assert pred.shape == (len(y), 3)
    # the coverage of each column brackets its level (the optimality condition
    # of the pinball loss in the intercept: the share of rows below the fit is
    # at most q, with the rows the fit interpolates at least q).  Those rows'
    # residuals are zero up to rounding, so counting them by `y <= pred` alone
    # depends on the last bit of the solve
    r = y[:, None] - pred
    eps = 1e-8 * y.std()
    assert np.all((r < -eps).mean(axis=0) <= np.array(levels))
    assert np.all((r <= eps).mean(axis=0) >= np.array(levels))
    assert np.all((np.abs(r) <= eps).sum(axis=0) <= X.shape[1] + 1)


def test_several_levels_match_statsmodels_quantreg():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(5)
    X = rng.standard_normal((300, 3))
    y = X @ [1.0, 0.0, -1.0] + (1 + np.abs(X[:, 0])) * rng.standard_normal(300)
    reg = LipschitzRegressor(loss="quantile", quantile=[0.25, 0.75]).fit(X, y)
    A = sm.add_constant(X)
    for j, q in enumerate([0.25, 0.75]):
        res = sm.QuantReg(y, A).fit(q=q, max_iter=5000, p_tol=1e-10)
        ours = np.mean(np.maximum(q * (y - A @ np.append(reg.intercept_[j], reg.coef_[j])),
                                  (q - 1) * (y - A @ np.append(reg.intercept_[j], reg.coef_[j]))))
        theirs = np.mean(np.maximum(q * (y - A @ res.params), (q - 1) * (y - A @ res.params)))
        assert ours <= theirs * (1 + 1e-9)


def test_several_levels_score_is_the_mean_d2_pinball_score():
    # R^2 of a (n, 3) prediction against a 1-d y has no meaning (and raised):
    # each level is scored by the pinball loss it minimises, against the best
    # constant, i.e. 1 - sum pinball(y, pred) / sum pinball(y, q_tau(y))
    rng = np.random.default_rng(2)
    X = rng.standard_normal((300, 3))
    y = X @ [1.0, 0.0, -1.0] + (1 + np.abs(X[:, 0])) * rng.standard_normal(300)
    sw = rng.uniform(0.5, 2.0, 300)
    levels = [0.2, 0.5, 0.9]
    reg = LipschitzRegressor(loss="quantile", quantile=levels).fit(X[:200], y[:200])
    pred = reg.predict(X[200:])

    def pinball(u, tau, w):
        return w @ np.maximum(tau * u, (tau - 1) * u)

    yt, wt = y[200:], sw[200:]
    expected = []
    for k, tau in enumerate(levels):
        best_constant = min(pinball(yt - c, tau, wt) for c in yt)  # a data point is optimal
        expected.append(1 - pinball(yt - pred[:, k], tau, wt) / best_constant)
    assert reg.score(X[200:], yt, sample_weight=wt) == pytest.approx(np.mean(expected), rel=1e-9)
    # one level keeps the R^2 of every scikit-learn regressor
    one = LipschitzRegressor(loss="quantile", quantile=0.5).fit(X[:200], y[:200])
    r = yt - one.predict(X[200:])
    assert one.score(X[200:], yt) == pytest.approx(1 - r @ r / np.sum((yt - yt.mean()) ** 2))


def test_several_levels_are_rearranged_and_never_cross():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 4))
    y = rng.standard_normal(40)
    levels = [0.55, 0.45, 0.5]
    reg = LipschitzRegressor(loss="quantile", quantile=levels).fit(X, y)
    X_new = 3.0 * rng.standard_normal((500, 4))
    raw = X_new @ reg.coef_.T + reg.intercept_
    order = np.argsort(levels)
    assert np.any(np.diff(raw[:, order], axis=1) < 0)     # the fitted lines cross here
    pred = reg.predict(X_new)
    assert np.all(np.diff(pred[:, order], axis=1) >= 0)   # the predictions do not
    np.testing.assert_array_equal(np.sort(pred, axis=1), np.sort(raw, axis=1))


def test_several_levels_gradient_loop_and_partial_fit(diabetes):
    X, y = diabetes
    reg = LipschitzRegressor(loss="quantile", quantile=[0.2, 0.8], batch_size=64,
                             random_state=0, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    assert reg.solver_ == "gd" and reg.predict(X).shape == (len(y), 2)
    reg.partial_fit(X, y)
    assert reg.coef_.shape == (2, X.shape[1])


@pytest.mark.parametrize("params,y2d,match", [
    ({"loss": "quantile", "quantile": [0.2, 0.8]}, True, "several levels .* single-output y"),
    ({"loss": "quantile", "quantile": [0.2, 0.2]}, False, "levels must be distinct"),
    ({"loss": "quantile", "quantile": [0.2, 1.0]}, False, "levels must lie in \\(0, 1\\)"),
    ({"loss": "quantile", "quantile": []}, False, "1-d list of levels"),
    ({"loss": "squared_error", "quantile": [0.2, 0.8]}, False, "only loss='quantile' uses"),
])
def test_several_levels_bad_input(diabetes, params, y2d, match):
    X, y = diabetes
    with pytest.raises(ValueError, match=match):
        LipschitzRegressor(**params).fit(X, np.column_stack([y, y]) if y2d else y)


# ---------------------------------------------------------------------------
# safe model files


@pytest.mark.parametrize("params", [
    {"loss": "huber"},
    {"loss": "log_cosh", "scale": "auto"},
    {"early_stopping": True, "random_state": 0},
    {"loss": "quantile", "quantile": [0.8, 0.2]},
], ids=["huber", "logcosh-auto", "early-stopping", "levels"])
def test_model_file_round_trip(diabetes, params):
    import io

    from sklipschitz.cli import modelfile

    X, y = diabetes
    reg = LipschitzRegressor(**params).fit(X, y)
    buf = io.BytesIO()
    modelfile.dump(reg, buf)
    buf.seek(0)
    back = modelfile.load(buf)
    np.testing.assert_array_equal(back.predict(X), reg.predict(X))
    assert back.get_params() == reg.get_params()


# ---------------------------------------------------------------------------
# with the L1 / elastic-net penalties


def test_l1_with_huber_or_scaled_logcosh_runs_the_general_loop(diabetes):
    X, y = diabetes
    for params in ({"loss": "huber", "epsilon": 30.0},
                   {"loss": "log_cosh", "scale": 30.0}):
        with pytest.raises(ValueError, match="exact L1 solver does not take it"):
            LipschitzRegressor(penalty="l1", alpha=0.5, solver="exact", **params).fit(X, y)
        reg = LipschitzRegressor(penalty="l1", alpha=0.5, tol=1e-10, max_iter=5000, **params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            reg.fit(X, y)
        assert reg.solver_ == "gd"
        # the proximal loop's optimum against a direct check of the KKT conditions
        w, b = reg.coef_, reg.intercept_
        r = y - X @ w - b
        psi = (np.clip(r, -30.0, 30.0) if params["loss"] == "huber"
               else 30.0 * np.tanh(r / 30.0))
        g = -X.T @ psi / len(y)
        assert abs(psi.mean()) < 1e-3
        on = w != 0
        assert np.all(np.abs(g[~on]) <= 0.5 + 1e-3)
        np.testing.assert_allclose(g[on], -0.5 * np.sign(w[on]), atol=1e-3)


def test_cv_and_path_refuse_huber(diabetes):
    from sklipschitz.linear_model import LipschitzRegressorCV, lipschitz_path

    X, y = diabetes
    with pytest.raises(ValueError, match="'loss' parameter of LipschitzRegressorCV"):
        LipschitzRegressorCV(loss="huber").fit(X, y)
    with pytest.raises(ValueError, match="lipschitz_path supports the losses"):
        lipschitz_path(X, y, loss="huber")


def test_several_levels_with_l1_match_quantile_regressor(diabetes):
    X, y = diabetes
    reg = LipschitzRegressor(loss="quantile", quantile=[0.25, 0.75], penalty="l1",
                             alpha=0.5).fit(X, y)
    assert reg.solver_ == "exact"
    for j, q in enumerate([0.25, 0.75]):
        ref = QuantileRegressor(quantile=q, alpha=0.5, solver="highs").fit(X, y)
        np.testing.assert_allclose(reg.coef_[j], ref.coef_, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------
# early stopping of the quantile classifier


def test_quantile_classifier_early_stopping_on_a_stratified_split():
    from sklipschitz import LipschitzQuantileClassifier
    from sklipschitz._engine.losses import SmoothBinaryQuantileLoss

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 60))
    y = np.where(X[:, 0] + rng.standard_normal(200) > 0, "yes", "no")
    clf = LipschitzQuantileClassifier(early_stopping=True, validation_fraction=0.3,
                                      n_iter_no_change=5, random_state=4, alpha=0.0,
                                      quantile_grid=[0.25, 0.75]).fit(X, y)
    assert clf.n_iter_ == len(clf.validation_scores_) < clf.max_iter
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    # the same stratified split, reproduced from the seed, scores the kept weights
    y_index = (y == "yes").astype(int)
    _, X_val, _, y_val = train_test_split(X, y_index, test_size=0.3, stratify=y_index,
                                          random_state=check_random_state(4))
    assert list(clf.quantiles_) == [0.25, 0.5, 0.75]     # the grid and quantile
    T = np.repeat(np.where(y_val == 1, 1.0, -1.0)[:, None], 3, axis=1)
    raw = X_val @ clf.quantile_coef_[0].T + clf.quantile_intercept_[0]
    loss = SmoothBinaryQuantileLoss(clf.quantiles_)
    want = -loss.objective(T, raw, np.ones(len(y_val)))
    assert clf.best_validation_score_ == pytest.approx(want, rel=1e-6)
    assert LipschitzQuantileClassifier().fit(X, y).validation_scores_ is None


def test_quantile_classifier_early_stopping_bad_input():
    from sklipschitz import LipschitzQuantileClassifier

    X, y = np.random.default_rng(1).standard_normal((20, 2)), np.array([0, 1] * 10)
    with pytest.raises(ValueError, match="'validation_fraction' parameter"):
        LipschitzQuantileClassifier(early_stopping=True, validation_fraction=1.5).fit(X, y)
    with pytest.raises(ValueError, match="early_stopping cannot hold out"):
        LipschitzQuantileClassifier(early_stopping=True, validation_fraction=0.01).fit(
            X[:4], y[:4])
