"""``LipschitzRegressorCV`` with a 2-D ``y``: one alpha for all outputs, the
argmin of the held-out loss averaged over the outputs (RidgeCV's
``alpha_per_target=False``), checked against the single-output CV of every
column, against ``LipschitzRegressor`` fitted on the 2-D ``y`` at that alpha,
and (squared error) against scikit-learn's ``LassoCV`` / ``Lasso``."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Lasso, LassoCV
from sklearn.model_selection import KFold
from sklearn.utils.estimator_checks import check_regressor_multioutput

from sklipschitz import LipschitzRegressor, LipschitzRegressorCV

# every loss and penalty the CV takes; the pinball elastic net is the one
# case fitted by gradient descent (the others by the exact path solver)
SETTINGS = {
    "squared_l1": dict(),
    "squared_enet": dict(penalty="elasticnet", l1_ratio=0.5),
    "quantile_l1": dict(loss="quantile", quantile=0.3),
    "absolute_l1": dict(loss="absolute_error"),
    "log_cosh_l1": dict(loss="log_cosh"),
    "log_cosh_enet": dict(loss="log_cosh", penalty="elasticnet", l1_ratio=0.7),
    "quantile_enet_gd": dict(loss="quantile", quantile=0.6, penalty="elasticnet",
                             l1_ratio=0.5, max_iter=300),
}


def make(n=90, d=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 2.0, d) + rng.uniform(-1, 1, d)
    W = rng.standard_normal((d, k)) * np.array([1.0, 0.3, 2.0])[:k]
    W[-1] = 0.0
    # outputs of different scales and noise laws: their alpha_max differ
    noise = np.column_stack([rng.standard_normal(n), rng.standard_t(3, n),
                             rng.laplace(size=n)])[:, :k]
    return X, X @ W + 1.0 + noise


def final_params(cv):
    return dict(loss=cv.loss, quantile=cv.quantile, penalty=cv.penalty, l1_ratio=cv.l1_ratio,
                fit_intercept=cv.fit_intercept, max_iter=cv.max_iter)


@pytest.mark.parametrize("name", list(SETTINGS))
def test_alpha_is_the_argmin_of_the_mean_over_outputs(name):
    kw = SETTINGS[name]
    gd = name.endswith("_gd")
    X, Y = make(n=60 if gd else 90, seed=1)
    sw = np.random.default_rng(2).uniform(0.5, 2.0, len(Y))
    with warnings.catch_warnings():
        # the gradient-descent path stops at max_iter on the smallest alphas
        warnings.simplefilter("ignore" if gd else "error")
        multi = LipschitzRegressorCV(n_alphas=5, cv=3, **kw).fit(X, Y, sample_weight=sw)
        singles = [LipschitzRegressorCV(alphas=multi.alphas_, cv=3, **kw)
                   .fit(X, Y[:, j], sample_weight=sw) for j in range(Y.shape[1])]
    per_output = np.stack([s.loss_path_ for s in singles])      # (k, n_alphas, n_folds)
    assert multi.loss_path_.shape == (5, 3)
    # gradient descent stops on the objective's progress, over all outputs
    # at once: its columns are as close to the single-output fits as that
    # stopping rule makes them (~1e-2), the exact solver's to its certificate
    np.testing.assert_allclose(multi.loss_path_, per_output.mean(axis=0),
                               rtol=3e-2 if gd else 1e-7)
    mean = per_output.mean(axis=(0, 2))
    assert multi.alpha_ == multi.alphas_[np.argmin(mean)]
    # the argmin is not a tie decided by that difference: the runner-up is
    # farther from the best than twice the largest difference of the means
    gap = np.sort(mean)[1] / np.min(mean) - 1
    assert gap > 2 * np.max(np.abs(multi.loss_path_.mean(axis=1) / mean - 1))
    # the grid starts at the largest of the outputs' alpha_max
    starts = [LipschitzRegressorCV(n_alphas=2, cv=3, **kw).fit(X, Y[:, j], sample_weight=sw)
              .alphas_[0] for j in range(Y.shape[1])] if not gd else None
    if starts is not None:
        assert multi.alphas_[0] == pytest.approx(max(starts), rel=1e-12)
    # the final fit is LipschitzRegressor on the 2-D y at alpha_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if gd else "error")
        ref = LipschitzRegressor(alpha=multi.alpha_, **final_params(multi)).fit(
            X, Y, sample_weight=sw)
    assert multi.coef_.shape == (3, 5)
    assert multi.intercept_.shape == (3,)
    np.testing.assert_allclose(multi.coef_, ref.coef_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(multi.intercept_, ref.intercept_, rtol=1e-12, atol=1e-12)
    pred = multi.predict(X[:7])
    assert pred.shape == (7, 3)
    np.testing.assert_allclose(pred, ref.predict(X[:7]), rtol=1e-12, atol=1e-12)


def test_squared_error_equals_lasso_cv_per_output():
    """Independent reference: scikit-learn's LassoCV on every column (same
    grid and folds) and Lasso at the chosen alpha."""
    X, Y = make(n=150, seed=3)
    folds = KFold(4)
    ours = LipschitzRegressorCV(n_alphas=12, cv=folds).fit(X, Y)
    refs = [LassoCV(alphas=ours.alphas_, cv=folds, tol=1e-12, max_iter=100_000).fit(X, y)
            for y in Y.T]
    # LassoCV's mse_path_ is the mean squared error; ours half of it
    mse = np.mean([r.mse_path_ for r in refs], axis=0)
    np.testing.assert_allclose(2 * ours.loss_path_, mse, rtol=1e-7)
    assert ours.alpha_ == ours.alphas_[np.argmin(mse.mean(axis=1))]
    for j, y in enumerate(Y.T):
        lasso = Lasso(alpha=ours.alpha_, tol=1e-12, max_iter=100_000).fit(X, y)
        np.testing.assert_allclose(ours.coef_[j], lasso.coef_, rtol=1e-7,
                                   atol=1e-7 * np.abs(lasso.coef_).max())
        assert ours.intercept_[j] == pytest.approx(lasso.intercept_, rel=1e-7)


def test_one_column_y_equals_1d_y():
    X, Y = make(seed=4)
    y = Y[:, 0]
    one = LipschitzRegressorCV(loss="quantile", n_alphas=6, cv=3).fit(X, y)
    col = LipschitzRegressorCV(loss="quantile", n_alphas=6, cv=3).fit(X, y[:, None])
    np.testing.assert_array_equal(col.alphas_, one.alphas_)
    np.testing.assert_array_equal(col.loss_path_, one.loss_path_)
    assert col.alpha_ == one.alpha_
    assert one.coef_.shape == (5,) and col.coef_.shape == (1, 5)
    np.testing.assert_array_equal(col.coef_[0], one.coef_)
    assert col.predict(X).shape == (len(y), 1) and one.predict(X).shape == (len(y),)


@pytest.mark.parametrize("loss, alphas, mean_path, coef, intercept", [
    ("squared_error",
     [3.9770627933514199e-02, 9.9899300678810213e-03, 2.5093569789239913e-03,
      6.3032197471730436e-04, 1.5832972157747227e-04, 3.9770627933514200e-05],
     [1.077491074895659, 0.6811727324610798, 0.629656990626459,
      0.6351547020060438, 0.6466667261802463, 0.6561248727923891],
     [-0.6058918181628572, -3.6937882925332937, 11.340652386524912], 3.012755719288254),
    ("quantile",
     [8.2199716717819560e-03, 2.0647635309742215e-03, 5.1864514977299563e-04,
      1.3027777144830415e-04, 3.2724296642830160e-05, 8.2199716717819557e-06],
     [0.4530500402188585, 0.38359109335526376, 0.3768936788803861,
      0.37452652504307365, 0.38245345341967285, 0.3819372966640681],
     [0.613164896106745, -5.922426252197557, 10.344701209183004], 2.338806565108115),
])
def test_1d_y_numbers_unchanged(loss, alphas, mean_path, coef, intercept):
    """The single-output numbers of the estimator before it took 2-D y."""
    X, y = load_diabetes(return_X_y=True)
    X, y = X[:200], y[:200] / 50
    sw = np.random.default_rng(0).uniform(0.5, 2, len(y))
    reg = LipschitzRegressorCV(loss=loss, quantile=0.3, n_alphas=6, cv=3).fit(
        X, y, sample_weight=sw)
    np.testing.assert_allclose(reg.alphas_, alphas, rtol=1e-10)
    np.testing.assert_allclose(reg.loss_path_.mean(axis=1), mean_path, rtol=1e-8)
    np.testing.assert_allclose(reg.coef_[:3], coef, rtol=1e-7)
    assert reg.intercept_ == pytest.approx(intercept, rel=1e-8)
    assert isinstance(reg.intercept_, float) and reg.coef_.shape == (10,)


@pytest.mark.parametrize("name", [n for n in SETTINGS if not n.endswith("_gd")])
def test_estimator_check_multioutput(name):
    est = LipschitzRegressorCV(n_alphas=3, cv=2, **SETTINGS[name])
    assert est.__sklearn_tags__().target_tags.multi_output
    check_regressor_multioutput("LipschitzRegressorCV", est)


def test_non_finite_2d_y_is_rejected():
    X, Y = make(seed=5)
    Y[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LipschitzRegressorCV(n_alphas=3, cv=2).fit(X, Y)
