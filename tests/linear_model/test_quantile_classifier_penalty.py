"""The L1 / elastic-net penalty of LipschitzQuantileClassifier."""

import math
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sklipschitz import LipschitzQuantileClassifier


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _smooth_gradient(X, y01, W, b, levels, l2):
    """Closed-form gradient of the mean sBQC loss + l2/2 ||w||^2, one row per level.

    loss = 1 - g for y = +1 and (1 - tau)/tau (1 + g) for y = -1, g = (2/pi) arctan(f).
    """
    grads = []
    for k, tau in enumerate(levels):
        f = X @ W[k] + b[k]
        dg = (2.0 / math.pi) / (1.0 + f * f)
        dl = np.where(y01 == 1, -dg, (1.0 - tau) / tau * dg)
        grads.append(X.T @ dl / X.shape[0] + l2 * W[k])
    return np.array(grads)


def _check_kkt(grad, W, l1, atol):
    """|grad_j| <= l1 where w_j = 0, grad_j = -l1 sign(w_j) elsewhere."""
    zero = W == 0
    assert np.all(np.abs(grad[zero]) <= l1 + atol)
    np.testing.assert_allclose(grad[~zero], -l1 * np.sign(W[~zero]), rtol=0, atol=atol)


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_large_alpha_zeroes_every_coefficient(cancer, penalty):
    X, y = cancer
    with pytest.warns(ConvergenceWarning, match=r"class \[1\].*constant predictor"):
        clf = LipschitzQuantileClassifier(penalty=penalty, l1_ratio=0.9, alpha=10.0,
                                          quantile_grid=5).fit(X, y)
    assert np.all(clf.quantile_coef_ == 0)
    # the intercepts are free: for a constant score the loss decreases
    # towards f = +inf or -inf, by the sign of the weighted class balance
    p1 = np.mean(y == 1)
    levels = clf.quantiles_
    expected = np.sign(p1 - (1 - levels) / levels * (1 - p1))
    np.testing.assert_array_equal(np.sign(clf.quantile_intercept_[0]), expected)


@pytest.mark.parametrize("penalty, l1_ratio", [("l1", 0.15), ("elasticnet", 0.5)])
def test_kkt_conditions_per_level(cancer, penalty, l1_ratio):
    X, y = cancer
    alpha = 0.02
    clf = LipschitzQuantileClassifier(penalty=penalty, l1_ratio=l1_ratio, alpha=alpha,
                                      quantile_grid=3, tol=1e-8, max_iter=5000).fit(X, y)
    l2, l1 = (0.0, alpha) if penalty == "l1" else (alpha * (1 - l1_ratio), alpha * l1_ratio)
    W, b = clf.quantile_coef_[0], clf.quantile_intercept_[0]
    assert np.count_nonzero(W == 0) >= W.size // 4  # sparse
    for k in range(len(clf.quantiles_)):
        assert np.count_nonzero(W[k]) > 0  # not empty
    grad = _smooth_gradient(X, y, W, b, clf.quantiles_, l2)
    _check_kkt(grad, W, l1, atol=1e-3 * l1)


def test_unscaled_features_penalise_the_original_coefficients(cancer):
    # the default full-batch path trains in the variables of a scaled design;
    # the L1 penalty (and so the KKT conditions) is on the coefficients of X
    # as given, whatever the scale of each feature
    X, y = cancer
    Xs = X * np.logspace(-1, 2, X.shape[1])
    alpha = 0.02
    clf = LipschitzQuantileClassifier(penalty="l1", alpha=alpha, quantile_grid=3, tol=1e-8,
                                      max_iter=5000).fit(Xs, y)
    W = clf.quantile_coef_[0]
    assert 0 < np.count_nonzero(W) < W.size
    grad = _smooth_gradient(Xs, y, W, clf.quantile_intercept_[0], clf.quantiles_, 0.0)
    _check_kkt(grad, W, alpha, atol=0.01 * alpha)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kw", [
    dict(learning_rate="lipschitz"),
    dict(batch_size=64, random_state=0),
    dict(early_stopping=True, random_state=0, validation_fraction=0.2),
])
def test_other_training_paths_are_sparse(cancer, kw):
    X, y = cancer
    alpha = 0.02
    common = dict(alpha=alpha, quantile_grid=3, max_iter=300, tol=1e-6, **kw)
    clf = LipschitzQuantileClassifier(penalty="l1", **common).fit(X, y)
    dense = LipschitzQuantileClassifier(penalty="l2", **common).fit(X, y)
    W = clf.quantile_coef_[0]
    assert np.all(dense.quantile_coef_ != 0)
    assert 0 < np.count_nonzero(W) < 0.9 * W.size
    if kw.get("learning_rate") == "lipschitz":  # full batch (ISTA at 1/L): zeros are stationary
        grad = _smooth_gradient(X, y, W, clf.quantile_intercept_[0], clf.quantiles_, 0.0)
        assert np.all(np.abs(grad[W == 0]) <= 1.05 * alpha)


def test_partial_fit_applies_the_l1_penalty(cancer):
    X, y = cancer

    def chunks(est):
        for i in range(5):
            est.partial_fit(X[i * 100:(i + 1) * 100], y[i * 100:(i + 1) * 100], classes=[0, 1])
        return est

    clf = chunks(LipschitzQuantileClassifier(penalty="l1", alpha=10.0, random_state=0))
    assert np.all(clf.quantile_coef_ == 0)
    dense = chunks(LipschitzQuantileClassifier(penalty="l2", alpha=10.0, random_state=0))
    assert np.all(dense.quantile_coef_ != 0)


def test_multiclass_every_level_of_every_class_is_penalised():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with pytest.warns(ConvergenceWarning, match=r"classes \[0, 1, 2\].*constant predictor"):
        clf = LipschitzQuantileClassifier(penalty="l1", alpha=100.0, quantile_grid=3).fit(X, y)
    assert clf.quantile_coef_.shape == (3, 3, 4)
    assert np.all(clf.quantile_coef_ == 0)
    small = LipschitzQuantileClassifier(penalty="l1", alpha=1e-3, quantile_grid=3).fit(X, y)
    assert np.count_nonzero(small.quantile_coef_) > 0


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kw", [dict(), dict(learning_rate="lipschitz", max_iter=50)])
def test_penalty_none_equals_alpha_zero(cancer, kw):
    X, y = cancer
    a = LipschitzQuantileClassifier(penalty=None, alpha=0.5, **kw).fit(X, y)
    b = LipschitzQuantileClassifier(penalty="l2", alpha=0.0, **kw).fit(X, y)
    np.testing.assert_array_equal(a.quantile_coef_, b.quantile_coef_)
    np.testing.assert_array_equal(a.quantile_intercept_, b.quantile_intercept_)


def test_elasticnet_ratio_zero_is_the_l2_penalty(cancer):
    X, y = cancer
    a = LipschitzQuantileClassifier(penalty="elasticnet", l1_ratio=0.0, alpha=0.01).fit(X, y)
    b = LipschitzQuantileClassifier(penalty="l2", alpha=0.01).fit(X, y)
    np.testing.assert_array_equal(a.quantile_coef_, b.quantile_coef_)


def test_loss_includes_the_l1_term(cancer):
    X, y = cancer
    clf = LipschitzQuantileClassifier(penalty="l1", alpha=0.02, quantile_grid=3).fit(X, y)
    W, b = clf.quantile_coef_[0], clf.quantile_intercept_[0]
    expected = 0.0
    for k, tau in enumerate(clf.quantiles_):  # the value is the sum over the levels
        g = (2 / math.pi) * np.arctan(X @ W[k] + b[k])
        expected += np.mean(np.where(y == 1, 1 - g, (1 - tau) / tau * (1 + g)))
    expected += 0.02 * np.abs(W).sum()
    assert clf.loss_ == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("l1_ratio", [-0.1, 1.5, "half"])
def test_bad_l1_ratio_raises(cancer, l1_ratio):
    X, y = cancer
    with pytest.raises(ValueError, match="l1_ratio"):
        LipschitzQuantileClassifier(penalty="elasticnet", l1_ratio=l1_ratio).fit(X, y)


def test_bad_penalty_raises(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="penalty"):
        LipschitzQuantileClassifier(penalty="l3").fit(X, y)


def test_l1_fits_start_from_the_pilot_and_warn_when_constant(rare_positive):
    # one positive in 5,000 rows: from zero weights every coefficient was
    # soft-thresholded to zero (AUC 0.5, the same p for every row, no warning)
    from sklearn.metrics import roc_auc_score

    X, y = rare_positive
    for penalty in ("l1", "elasticnet"):
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            est = LipschitzQuantileClassifier(penalty=penalty).fit(X, y)
        p = est.predict_proba(X)[:, 1]
        assert roc_auc_score(y, p) >= 0.95 and np.argmax(p) == 0
    # a penalty strong enough to zero every coefficient: a constant predictor, with a warning
    X, y = load_iris(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match=r"class(es)? \[1\].*constant predictor"):
        est = LipschitzQuantileClassifier(penalty="l1", alpha=0.3).fit(X, y)
    assert not np.any(est.quantile_coef_[1])
    assert np.ptp(est.decision_function(X)[:, 1]) == 0.0
