"""Silent failures (and false alarms) found by the second robustness sweep
(benchmarks/bench_robustness.py): constant targets, targets in large units
under an L2 penalty, early stopping on a handful of rows."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, QuantileRegressor
from sklearn.metrics import mean_pinball_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklipschitz import (
    LipschitzRegressor,
    SBAFKernel,
    SymNetClassifier,
    SymNetRegressor,
)
from sklipschitz.linear_model import lipschitz_path
from sklipschitz.linear_model._regressor import CAPPED_L2_MESSAGE


def _data(seed=0, n=120, d=5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, X @ rng.standard_normal(d) + 0.3 * rng.standard_normal(n)


# -- constant targets: a perfect fit is not a stall --------------------------------

@pytest.mark.parametrize("value", [3.0, 0.1, -2e5])
@pytest.mark.parametrize("loss", ["squared_error", "absolute_error", "quantile", "huber",
                                  "log_cosh"])
@pytest.mark.parametrize("kw", [{"solver": "gd"}, {"solver": "gd", "alpha": 1e-3},
                                {"penalty": "l1", "alpha": 1e-4}])
def test_constant_targets_fit_without_a_stall_warning(value, loss, kw):
    # the general loop warned "no better than the constant predictor" on
    # constant targets, which it fits exactly (objective 0, as the constant)
    X, _ = _data(n=50, d=3)
    y = np.full(50, value)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = LipschitzRegressor(loss=loss, **kw).fit(X, y)
    ref = LinearRegression().fit(X, y).predict(X)
    np.testing.assert_allclose(est.predict(X), ref, rtol=1e-9, atol=0)


def test_constant_targets_fitted_badly_still_warn():
    # the exception is for an exact fit only: a fit stopped by its tolerance
    # away from constant targets (warm-started at the coefficients of
    # varying ones) is still reported
    X, y = _data(n=50, d=3)
    est = LipschitzRegressor(solver="gd", warm_start=True).fit(X, 10 * y)
    est.set_params(tol=10.0, n_iter_no_change=1)
    with pytest.warns(ConvergenceWarning, match="no better than the constant predictor"):
        est.fit(X, np.full(50, 3.0))
    assert np.max(np.abs(est.predict(X) - 3.0)) > 1e-3


# -- an L2 penalty on a loss of bounded derivative, targets in large units ----------

def _pinball_score(y, p, q):
    base = mean_pinball_loss(y, np.full_like(y, np.quantile(y, q)), alpha=q)
    return 1.0 - mean_pinball_loss(y, p, alpha=q) / base


@pytest.mark.parametrize("loss", ["absolute_error", "quantile", "log_cosh"])
@pytest.mark.parametrize("scale, alpha", [(1e12, 1e-4), (1e4, 1e-2)])
def test_l2_penalty_that_caps_a_bounded_loss_warns(loss, scale, alpha):
    # |l'| <= 1 bounds ||w|| by (1/alpha) mean ||x - mean||: with targets in
    # large units the fit was nearly constant (pinball score ~0 against
    # QuantileRegressor's 0.9), silently; squared error scales with y
    X, y = _data()
    q = 0.8 if loss == "quantile" else 0.5
    ys = scale * y
    est = LipschitzRegressor(loss=loss, quantile=q, alpha=alpha)
    with pytest.warns(UserWarning, match=CAPPED_L2_MESSAGE):
        est.fit(X, ys)
    ref = QuantileRegressor(quantile=q, alpha=0.0, solver="highs").fit(X, ys).predict(X)
    assert _pinball_score(ys, ref, q) > 0.85
    assert _pinball_score(ys, est.predict(X), q) < 0.1  # the warning is about a real failure
    # the same alpha on targets in units near 1 leaves the fit near the reference, quietly
    ref1 = QuantileRegressor(quantile=q, alpha=0.0, solver="highs").fit(X, y).predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        est1 = LipschitzRegressor(loss=loss, quantile=q, alpha=alpha * 1e-4).fit(X, y)
    assert _pinball_score(y, est1.predict(X), q) == pytest.approx(
        _pinball_score(y, ref1, q), abs=0.01)


@pytest.mark.parametrize("kw", [{"loss": "squared_error", "alpha": 10.0},
                                {"loss": "huber", "alpha": 1e-3},
                                {"loss": "absolute_error", "alpha": 1e-3},
                                {"loss": "absolute_error", "alpha": 1e-3, "penalty": "l1"}])
def test_l2_cap_warning_stays_quiet_where_it_does_not_apply(kw):
    # squared error (unbounded derivative), Huber with epsilon='auto' (its
    # bound scales with y), a small alpha, and the L1 penalty
    X, y = _data()
    ys = 1e6 * y if kw["loss"] in ("squared_error", "huber") else y
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        LipschitzRegressor(**kw).fit(X, ys)


def test_l2_cap_warning_on_sparse_and_without_intercept():
    # the bound uses the rows' distances to their weighted mean (0 without an
    # intercept), computed without densifying a sparse X
    X, y = _data()
    for est_X in (X, sp.csr_matrix(X)):
        for fit_intercept in (True, False):
            est = LipschitzRegressor(loss="absolute_error", alpha=1e-2,
                                     fit_intercept=fit_intercept)
            with pytest.warns(UserWarning, match=CAPPED_L2_MESSAGE):
                est.fit(est_X, 1e6 * y)


def test_l2_cap_warning_silenced_on_the_path():
    # a path with l1_ratio=0 (a pure L2 penalty) runs over large alphas on purpose
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        coefs = lipschitz_path(X, 1e4 * y, loss="absolute_error", penalty="elasticnet",
                               l1_ratio=0.0, alphas=[1e2, 1e-6])[1]
    # the same first alpha alone warns
    with pytest.warns(UserWarning, match=CAPPED_L2_MESSAGE):
        LipschitzRegressor(loss="absolute_error", penalty="elasticnet", l1_ratio=0.0,
                           alpha=1e2).fit(X, 1e4 * y)
    assert np.ptp(X @ coefs[:, 0]) < 1e-2 * np.ptp(X @ coefs[:, -1])


# -- SymNet early stopping on a handful of rows -------------------------------------

def test_symnet_classifier_early_stopping_on_too_few_rows_names_the_problem():
    X, y = _data(n=10)
    y = (y > np.median(y)).astype(int)
    with pytest.raises(ValueError, match="early_stopping cannot hold out validation_fraction"):
        SymNetClassifier(hidden_layer_sizes=(4,), early_stopping=True).fit(X, y)
    # a larger fraction holds out one row of each class
    est = SymNetClassifier(hidden_layer_sizes=(4,), early_stopping=True,
                           validation_fraction=0.2, random_state=0).fit(X, y)
    assert est.validation_scores_ is not None


def test_symnet_regressor_early_stopping_needs_two_validation_rows():
    # one held-out row: R^2 is undefined and the fit stopped after 10 epochs
    # at R^2 -0.49 on its training data, with only sklearn's metric warning
    X, y = _data(n=10)
    with pytest.raises(ValueError, match="needs at least 2 samples"):
        SymNetRegressor(hidden_layer_sizes=(4,), early_stopping=True).fit(X, y)
    X, y = _data(n=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no UndefinedMetricWarning: two rows held out
        SymNetRegressor(hidden_layer_sizes=(4,), early_stopping=True, random_state=0,
                        max_iter=50).fit(X, y)


# -- SBAFKernel: which warning names the cause -------------------------------------

def test_kernel_small_max_degree_warns_about_max_degree_not_the_inputs():
    # standardized inputs with max_degree=1 warned that "the inputs look unscaled"
    X = np.random.default_rng(0).standard_normal((40, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        K = SBAFKernel()(X)
    with pytest.warns(UserWarning, match="max_degree=1 truncates the series") as rec:
        K1 = SBAFKernel(max_degree=1)(X)
    assert not any("unscaled" in str(w.message) for w in rec)
    assert np.abs(K1 - K).max() > 1e-2  # the truncation is real
    # unscaled inputs are still blamed on the inputs
    with pytest.warns(UserWarning, match="inputs look unscaled"):
        SBAFKernel(max_degree=5)(X * 10)


def test_kernel_on_a_large_constant_column_names_the_offset():
    # a constant column 2024 (a year): every point has nearly one direction, and
    # SVC predicts one class (as does the RBF kernel); standardized, it fits
    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    Xc = np.c_[X, np.full(150, 2024.0)]
    with pytest.warns(UserWarning, match="share a large offset"):
        svc = SVC(kernel=SBAFKernel()).fit(Xc, y)
    assert len(np.unique(svc.predict(Xc))) == 1
    pipe = make_pipeline(StandardScaler(), SVC(kernel=SBAFKernel())).fit(Xc, y)
    ref = make_pipeline(StandardScaler(), SVC()).fit(Xc, y).score(Xc, y)
    assert pipe.score(Xc, y) > 0.9 and ref > 0.9
