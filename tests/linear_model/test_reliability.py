"""Regression tests of silent failures of the linear models (streams, guards, choices)."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, QuantileRegressor
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


def test_flat_robust_loss_warns_after_a_first_chunk_of_one_row():
    # one row has no spread to compare the scale with: the check waits for
    # the first chunk that has one, and warns once
    rng = np.random.default_rng(6)
    X = rng.normal(size=(200, 3))
    y = 300.0 * (X @ [1.0, -1.0, 0.5]) + 1000.0
    model = LipschitzRegressor(loss="log_cosh")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.partial_fit(X[:1], y[:1])
    with pytest.warns(ConvergenceWarning, match="nearly the absolute error") as record:
        model.partial_fit(X[1:50], y[1:50])
        model.partial_fit(X[50:], y[50:])
    assert sum("nearly the absolute error" in str(w.message) for w in record) == 1


def test_general_loop_that_learns_nothing_warns():
    # features far from centred (x + 30) under 'local', which steps in the
    # model's own coordinates: the subgradient steps zigzag along the
    # intercept, and the loop stops on its tolerance at the constant
    # predictor; it must say that it learned nothing
    rng = np.random.default_rng(7)
    X = rng.normal(size=(4000, 2)) + 30.0
    y = 100.0 * rng.laplace(size=4000)
    with pytest.warns(ConvergenceWarning, match="no better than the constant predictor"):
        gd = LipschitzRegressor(loss="absolute_error", solver="gd", max_iter=5000,
                                learning_rate="local").fit(X, y)
    assert gd.n_iter_ < 5000


def test_general_loop_fits_uncentred_features():
    # the same features x + 30 with a signal: the default rate steps in the
    # centred coordinates (W, b + mean W), and reaches the LP optimum that
    # scikit-learn's QuantileRegressor (HiGHS) computes
    rng = np.random.default_rng(7)
    X = rng.normal(size=(4000, 2)) + 30.0
    y = 100.0 * (X @ [1.0, -2.0]) + 100.0 * rng.laplace(size=4000)
    ref = QuantileRegressor(alpha=0.0, quantile=0.5, solver="highs").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        gd = LipschitzRegressor(loss="absolute_error", solver="gd", max_iter=5000).fit(X, y)
    np.testing.assert_allclose(gd.coef_, ref.coef_, rtol=2e-3)


@pytest.mark.parametrize("params", [
    {"solver": "gd", "max_iter": 30},
    {"batch_size": 16, "max_iter": 3, "random_state": 0},
    {"penalty": "l1", "alpha": 0.05, "solver": "gd", "max_iter": 30},
    {"loss": "quantile", "quantile": 0.8, "solver": "gd", "max_iter": 30},
])
def test_general_loop_is_invariant_to_feature_offsets(params):
    # the steps and the constant depend on X only through X - mean(X): the
    # iterates on X + c are those on X with the intercept moved by -c.W, for
    # fit and for partial_fit over chunks (running means)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 3)) * [1.0, 2.0, 0.5]
    y = X @ [1.5, -1.0, 2.0] + rng.normal(size=200)
    c = np.array([30.0, -500.0, 7.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        base = LipschitzRegressor(**params).fit(X, y)
        moved = LipschitzRegressor(**params).fit(X + c, y)
        streams = []
        for Z in (X, X + c):
            inc = LipschitzRegressor(**{k: v for k, v in params.items()
                                        if k not in ("solver", "max_iter")})
            for _ in range(3):
                for rows in np.array_split(np.arange(200), 5):
                    inc.partial_fit(Z[rows], y[rows])
            streams.append(inc)
    for a, b in [(base, moved), tuple(streams)]:
        assert a.lipschitz_constant_ == pytest.approx(b.lipschitz_constant_, rel=1e-9)
        np.testing.assert_allclose(b.coef_, a.coef_, rtol=1e-7, atol=1e-9)
        assert b.intercept_ == pytest.approx(a.intercept_ - c @ a.coef_, rel=1e-7)
