"""Regression tests of silent failures of the linear models (streams, guards, choices)."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from sklearn.preprocessing import StandardScaler

from sklipschitz import LipschitzQuantileClassifier, LipschitzRegressor

W_TRUE = np.array([1.0, -2.0, 0.5, 0.0])


@pytest.fixture
def stream():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 4))
    return X, X @ W_TRUE


@pytest.mark.parametrize("params", [
    {}, {"loss": "quantile", "quantile": 0.5}, {"batch_size": 32, "random_state": 0},
])
def test_partial_fit_keeps_learning_after_a_chunk_it_fits_perfectly(stream, params):
    # the first chunk has y = 0, fitted exactly by the starting model; the
    # later chunks must still be learned, without a divergence warning
    X, y = stream
    model = LipschitzRegressor(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.partial_fit(X[:100], np.zeros(100))
        for _ in range(3):
            for k in range(1, 20):
                rows = slice(100 * k, 100 * (k + 1))
                model.partial_fit(X[rows], y[rows])
    assert model.score(X[100:], y[100:]) > 0.99
    np.testing.assert_allclose(model.coef_, W_TRUE, atol=0.1)


def test_partial_fit_on_single_rows_and_chunks_of_different_scales(stream):
    X, y = stream
    model = LipschitzRegressor()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for i in range(400):  # one row at a time
            model.partial_fit(X[i:i + 1], y[i:i + 1])
        for scale in (1e-3, 1e3, 1.0):  # chunks in very different units
            model.partial_fit(X[400:600] * scale, y[400:600] * scale)
    assert np.all(np.isfinite(model.coef_))
    assert model.score(X, y) > 0.9


def test_diverging_mini_batch_fit_keeps_the_starting_weights(stream):
    # with a huge constant rate the first epoch blows up: the weights kept
    # are the starting ones (zero coefficients, the mean as intercept), not
    # those of the diverged epoch
    X, y = stream
    with pytest.warns(ConvergenceWarning, match="diverged.*too large for this data"):
        model = LipschitzRegressor(batch_size=16, learning_rate=1e6, random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.coef_, 0.0)
    assert model.intercept_ == pytest.approx(y.mean())
    assert model.loss_ == pytest.approx(0.5 * np.var(y), rel=1e-9)


def test_divergence_hint_does_not_blame_the_default_rate():
    from sklipschitz._base import divergence_hint

    assert "use the default learning_rate='lipschitz'" in divergence_hint(0.5)
    assert "published constant" in divergence_hint("paper")
    assert divergence_hint("lipschitz") == ""


def test_solver_parameter(stream):
    X, y = stream
    exact = LipschitzRegressor().fit(X, y)
    assert exact.solver_ == "exact"
    gd = LipschitzRegressor(solver="gd", tol=1e-12, max_iter=5000).fit(X, y)
    assert gd.solver_ == "gd"
    ref = LinearRegression().fit(X, y)
    np.testing.assert_allclose(exact.coef_, ref.coef_, atol=1e-8)
    np.testing.assert_allclose(gd.coef_, ref.coef_, atol=1e-5)
    assert LipschitzRegressor(batch_size=32).fit(X, y).solver_ == "gd"
    with pytest.raises(ValueError, match="solver='exact'.*batch_size=None"):
        LipschitzRegressor(solver="exact", batch_size=32).fit(X, y)
    with pytest.raises(ValueError, match="solver='exact'.*learning_rate='lipschitz'"):
        LipschitzRegressor(solver="exact", learning_rate="local").fit(X, y)
    with pytest.raises(ValueError, match="positive definite"):
        LipschitzRegressor(solver="exact", tikhonov=np.eye(4)[:1]).fit(X, y)
    model = LipschitzRegressor().fit(X, y)
    model.partial_fit(X[:10], y[:10])
    assert model.solver_ == "gd"


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_classifier_solver_is_renamed_optimizer(cancer):
    X, y = cancer
    params = dict(learning_rate="lipschitz", max_iter=30, quantile_grid=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        new = LipschitzQuantileClassifier(optimizer="sgd", **params).fit(X, y)
        with pytest.warns(FutureWarning, match="write optimizer='sgd' instead"):
            old = LipschitzQuantileClassifier(solver="gd", **params).fit(X, y)
    np.testing.assert_array_equal(new.coef_, old.coef_)


def test_retained_accuracy_checks_its_labels(cancer):
    X, y = cancer
    clf = LipschitzQuantileClassifier(quantile_grid=5).fit(X, y)
    with pytest.raises(ValueError, match="y has 10 labels but X has 569 rows"):
        clf.retained_accuracy(X, y[:10])
    with pytest.raises(ValueError, match="y has 10 labels"):
        clf.retention_rate(X, y[:10])
    with pytest.raises(TypeError, match="labels of type"):
        clf.retained_accuracy(X, np.where(y == 1, "yes", "no"))
    with pytest.raises(ValueError, match="not in classes_"):
        clf.retained_accuracy(X, y + 5)
    # the accuracy on the kept samples, computed directly
    keep = clf.predict_reliable(X)
    assert clf.retained_accuracy(X, y) == pytest.approx(np.mean(clf.predict(X)[keep] == y[keep]))


@pytest.mark.parametrize("scale", [1e300, 1e-300])
def test_extreme_feature_magnitudes(scale):
    # LinearRegression copes with X * 1e300; so must the default fit (it raised
    # LinAlgError from the eigenvalues of an overflowing Gram matrix)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    y = X @ np.array([1.0, 2.0, 3.0]) + 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LipschitzRegressor().fit(X * scale, y)
    np.testing.assert_allclose(model.coef_ * scale, [1.0, 2.0, 3.0], rtol=1e-9)
    assert model.intercept_ == pytest.approx(1.0)
    if scale > 1:
        with pytest.raises(ValueError, match="overflows.*StandardScaler"):
            LipschitzRegressor(solver="gd").fit(X * scale, y)


# -- targets in any units, interpolating data --------------------------------


@pytest.mark.parametrize("loss", ["absolute_error", "quantile"])
def test_nonsmooth_partial_fit_on_targets_in_large_and_tiny_units(loss):
    # the subgradient steps scale with y: a stream of single rows learns the
    # same model whatever the units (it stalled near the constant predictor,
    # R^2 ~ 0, without a warning, for y in the hundreds)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 5))
    y = X @ [3.0, -1.0, 2.0, 0.5, 0.0] + rng.laplace(size=300)
    ref = LinearRegression().fit(X, y).score(X, y)
    coefs = []
    for c in (1e-4, 1.0, 1e5):
        est = LipschitzRegressor(loss=loss)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for _ in range(3):
                for i in range(len(y)):
                    est.partial_fit(X[i:i + 1], c * y[i:i + 1])
        assert est.score(X, c * y) > ref - 0.02
        coefs.append(est.coef_ / c)
    np.testing.assert_allclose(coefs[0], coefs[1], rtol=1e-6)
    np.testing.assert_allclose(coefs[2], coefs[1], rtol=1e-6)


@pytest.mark.parametrize("loss", ["huber", "log_cosh"])
@pytest.mark.parametrize("shape", ["noiseless", "wide"])
def test_auto_robust_parameter_on_data_fitted_exactly(loss, shape):
    # an absolute-error pilot fit that interpolates has rounding-level
    # residuals; a threshold made of them gave a constant model, "certified"
    rng = np.random.default_rng(4)
    n, d = (200, 6) if shape == "noiseless" else (40, 120)
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + 3.0
    est = LipschitzRegressor(loss=loss).set_params(
        **({"epsilon": "auto"} if loss == "huber" else {"scale": "auto"})).fit(X, y)
    assert est.certified_
    np.testing.assert_allclose(est.predict(X), y, rtol=0, atol=1e-8 * np.abs(y).max())
    if shape == "noiseless":
        ref = np.linalg.lstsq(np.hstack([X, np.ones((n, 1))]), y, rcond=None)[0]
        np.testing.assert_allclose(est.coef_, ref[:-1], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("loss", ["huber", "log_cosh"])
def test_small_robust_parameter_starts_from_the_median_fit(loss):
    # a threshold 1e-4 of the targets' spread: the exact solver did not
    # converge in 1000 iterations from zero; from the absolute-error fit it
    # certifies in a few Newton steps, on the least-squares line here
    rng = np.random.default_rng(5)
    X = rng.normal(size=(500, 10))
    y = X @ rng.normal(size=10) + 1e-4 * rng.normal(size=500)
    param = {"epsilon": 1.35e-4} if loss == "huber" else {"scale": 5e-5}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = LipschitzRegressor(loss=loss, **param).fit(X, y)
    assert est.certified_ and est.n_iter_ < 50
    assert est.score(X, y) == pytest.approx(LinearRegression().fit(X, y).score(X, y), abs=1e-8)


def test_flat_robust_loss_in_the_general_loop_warns():
    # log-cosh at scale 1 on targets in the hundreds is nearly the absolute
    # error: gradient steps at 1/L crawl, and the fit says so
    rng = np.random.default_rng(6)
    X = rng.normal(size=(200, 3))
    y = 300.0 * (X @ [1.0, -1.0, 0.5]) + 1000.0
    with pytest.warns(ConvergenceWarning, match="nearly the absolute error"):
        LipschitzRegressor(loss="log_cosh").partial_fit(X, y)


def test_general_loop_that_learns_nothing_warns():
    # features far from centred (x + 30): the subgradient steps zigzag along
    # the intercept, and the loop stops on its tolerance at the constant
    # predictor; it must say that it learned nothing
    rng = np.random.default_rng(7)
    X = rng.normal(size=(4000, 2)) + 30.0
    y = 100.0 * rng.laplace(size=4000)
    with pytest.warns(ConvergenceWarning, match="no better than the constant predictor"):
        gd = LipschitzRegressor(loss="absolute_error", solver="gd", max_iter=5000).fit(X, y)
    assert gd.n_iter_ < 5000
