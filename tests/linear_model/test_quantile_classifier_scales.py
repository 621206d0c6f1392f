"""LipschitzQuantileClassifier on features of extreme or unequal scales.

Every fit either matches LogisticRegression on the same (or the standardized)
data, or says why it cannot: a warning or a ValueError naming the problem."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from sklipschitz import LipschitzQuantileClassifier


def _classification(n=300, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((d, 2)) * 2
    y = np.argmax(X @ W + 0.3 * rng.standard_normal((n, 2)), axis=1)
    return X, y


def _fit_recording(fit):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = fit()
    return est, [w for w in caught if issubclass(w.category, UserWarning)]


def _reference(X, y):
    # LogisticRegression is scale-equivariant in exact arithmetic; lbfgs is not
    # at 1e50, so the reference is fitted on the standardized features
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    return LogisticRegression(max_iter=5000).fit(Xs, y).score(Xs, y)


def test_huge_features_keep_their_coefficients():
    # weights of order 1e-50 are below float32's range: fit keeps them in float64
    X, y = _classification()
    ref = _reference(X, y)  # 0.963
    Xs = X * 1e50
    est, warned = _fit_recording(lambda: LipschitzQuantileClassifier().fit(Xs, y))
    assert not warned
    assert est.score(Xs, y) >= ref - 0.02
    assert np.all(est.coef_ != 0)
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict_proba(Xs), est.predict_proba(Xs))


def test_quantile_classifier_huge_features():
    # the robustness sweep's check (benchmarks/bench_robustness.py)
    X, y = _classification()
    Xs = X * 1e50
    est, warned = _fit_recording(lambda: LipschitzQuantileClassifier().fit(Xs, y))
    assert warned or est.score(Xs, y) > 0.9


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_overflowing_squares_raise(method):
    X, y = _classification()
    est = LipschitzQuantileClassifier()
    kw = {"classes": [0, 1]} if method == "partial_fit" else {}
    with pytest.raises(ValueError, match=r"X contains values of magnitude .* overflow float64"):
        getattr(est, method)(X * 1e160, y, **kw)
    # float32 data overflow far sooner
    with pytest.raises(ValueError, match="overflow float32"):
        getattr(est, method)((X * 1e19).astype(np.float32), y, **kw)


@pytest.mark.parametrize("batch_size", [None, 32])
def test_tiny_features_constant_predictor_warns(batch_size):
    # features of scale 1e-10 against alpha=1e-4: the penalty holds the weights
    # at zero; LogisticRegression(C=1), the same penalty, is constant too
    X, y = _classification()
    Xs = X * 1e-10
    majority = max(np.mean(y == c) for c in (0, 1))
    assert LogisticRegression().fit(Xs, y).score(Xs, y) == pytest.approx(majority)
    est = LipschitzQuantileClassifier(batch_size=batch_size, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"predicts class 1 for every training sample"
                      r".*L2 penalty \(alpha=0.0001\) outweighs the features"):
        est.fit(Xs, y)
    assert est.score(Xs, y) == pytest.approx(majority)
    # with the penalty scaled to the features (alpha / 1e-20) it fits as on X
    est = LipschitzQuantileClassifier(alpha=1e-24)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(Xs, y)
    assert est.score(Xs, y) >= _reference(X, y) - 0.02


def test_quantile_classifier_tiny_features_constant_predictor():
    # the robustness sweep's check (benchmarks/bench_robustness.py)
    X, y = _classification()
    Xs = X * 1e-10
    est, warned = _fit_recording(lambda: LipschitzQuantileClassifier().fit(Xs, y))
    majority = max(np.mean(y == c) for c in (0, 1))
    assert warned or est.score(Xs, y) > majority + 0.2


def test_single_class_warning_multiclass_and_not_on_fitted_data():
    X, y = _classification()
    y3 = np.where(X[:, 1] > 1.2, 2, y)
    with pytest.warns(ConvergenceWarning, match="for every training sample, though they "
                                                "belong to 3 classes"):
        LipschitzQuantileClassifier().fit(X * 1e-10, y3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = LipschitzQuantileClassifier().fit(X, y3)
    ref = LogisticRegression(max_iter=5000).fit(X, y3).score(X, y3)
    assert est.score(X, y3) >= ref - 0.03


def _stream(est, X, y, passes=5, chunk=20):
    for _ in range(passes):
        for s in range(0, len(y), chunk):
            est.partial_fit(X[s:s + chunk], y[s:s + chunk], classes=[0, 1])
    return est


@pytest.mark.parametrize("mode", ["batch_size", "partial_fit"])
def test_quantile_classifier_minibatch_on_unscaled_features(mode):
    # one feature 1e3 times the others: mini-batch and streaming fits scale the
    # design as the full-batch fit does (before: accuracy 0.757, no warning)
    X, y = _classification()
    Xs = X * [1e3, 1, 1, 1, 1]
    ref = LogisticRegression(max_iter=5000).fit(Xs, y).score(Xs, y)  # 0.963
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # mini-batch: max_iter
        if mode == "batch_size":
            est = LipschitzQuantileClassifier(batch_size=32, random_state=0).fit(Xs, y)
        else:
            est = _stream(LipschitzQuantileClassifier(), Xs, y)
    assert est.score(Xs, y) >= ref - 0.02
    # the coefficients are those of X itself (the curves: the levels' scores, sorted)
    raw = Xs @ est.quantile_coef_[0].T + est.quantile_intercept_[0]
    np.testing.assert_allclose(est.decision_curves(Xs), np.sort(raw, axis=1), rtol=1e-6,
                               atol=1e-9)


def test_streaming_scale_is_the_first_call_and_round_trips():
    X, y = _classification()
    Xs = X * [1e3, 1, 1, 1, 1]
    est = LipschitzQuantileClassifier().partial_fit(Xs[:50], y[:50], classes=[0, 1])
    kappa = 0.4134966715663151  # (2/pi)(3 sqrt(3)/8)
    np.testing.assert_allclose(est._x_scale,
                               np.maximum(np.sqrt(Xs[:50].var(axis=0) + 1e-4 / kappa), 1.0))
    assert est._x_scale[0] > 500 and np.any(est._x_scale[1:] == 1.0)
    twin = pickle.loads(pickle.dumps(est))
    for s in range(50, 300, 50):
        est.partial_fit(Xs[s:s + 50], y[s:s + 50])
        twin.partial_fit(Xs[s:s + 50], y[s:s + 50])
    np.testing.assert_array_equal(twin.quantile_coef_, est.quantile_coef_)
    np.testing.assert_array_equal(twin._x_scale, est._x_scale)


def test_streaming_equals_explicit_scaling():
    # one step of partial_fit on X (centred and scaled inside) and on the
    # standardized X (on which it neither centres nor scales): the same model
    X, y = _classification()
    Xs = X * [1e3, 30, 2, 5, 3] + [5e3, -3, 20, 0, 7]
    a = LipschitzQuantileClassifier(alpha=0.0, optimizer="sgd").partial_fit(Xs, y, classes=[0, 1])
    Z = (Xs - Xs.mean(axis=0)) / Xs.std(axis=0)
    b = LipschitzQuantileClassifier(alpha=0.0, optimizer="sgd").partial_fit(Z, y, classes=[0, 1])
    # (the raw scores f_tau: decision_function divides them by ||w_tau||, which
    # depends on the units of the features)
    np.testing.assert_allclose(a.decision_curves(Xs), b.decision_curves(Z), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("batch_size", [None, 32])
def test_sparse_and_float32_streams_match_dense(batch_size):
    # the scaled design is formed the same way from a CSR matrix
    from scipy import sparse

    X, y = _classification()
    Xs = X * [1e3, 1, 1, 1, 1]
    fits = []
    for data in (Xs, sparse.csr_matrix(Xs)):
        est = LipschitzQuantileClassifier(batch_size=batch_size, random_state=0, shuffle=False)
        fits.append(_stream(est, data, y, passes=2, chunk=100))
    np.testing.assert_allclose(fits[1].quantile_coef_, fits[0].quantile_coef_, rtol=1e-8,
                               atol=1e-12)
    est = _stream(LipschitzQuantileClassifier(batch_size=batch_size, random_state=0,
                                              shuffle=False), Xs.astype(np.float32), y,
                  passes=2, chunk=100)
    np.testing.assert_allclose(est.quantile_coef_, fits[0].quantile_coef_, rtol=2e-3, atol=1e-6)


def test_early_stopping_scores_the_model_of_x_on_unscaled_uncentred_features():
    # early stopping trains in the centred, scaled variables; the validation
    # score is that of the model on X (before, the intercept of the centred
    # variables was scored as the intercept of X)
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state

    from sklipschitz._engine.losses import SmoothBinaryQuantileLoss

    X, y = _classification()
    Xs = X * [1e3, 1, 1, 1, 1] + 30.0
    clf = LipschitzQuantileClassifier(early_stopping=True, validation_fraction=0.3,
                                      random_state=4, quantile_grid=[0.25, 0.75])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(Xs, y)
    _, X_val, _, y_val = train_test_split(Xs, y, test_size=0.3, stratify=y,
                                          random_state=check_random_state(4))
    T = np.repeat(np.where(y_val == 1, 1.0, -1.0)[:, None], 3, axis=1)
    raw = X_val @ clf.quantile_coef_[0].T + clf.quantile_intercept_[0]
    want = -SmoothBinaryQuantileLoss(clf.quantiles_).objective(T, raw, np.ones(len(y_val)))
    assert clf.best_validation_score_ == pytest.approx(want, rel=1e-6)
    assert clf.score(Xs, y) >= LogisticRegression(max_iter=5000).fit(Xs, y).score(Xs, y) - 0.05
