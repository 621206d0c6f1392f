"""Tests of LipschitzQuantileClassifier (smooth binary quantile classifier)."""

import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, logit
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine, make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklipschitz._engine.losses import SmoothBinaryQuantileLoss
from sklipschitz import LipschitzQuantileClassifier
from sklipschitz.linear_model._quantile_levels import (
    TAIL_WIDTH,
    crossing_logit,
    level_factor,
    paper_level_factor,
    rearrange,
    sbqc_curvature,
    sbqc_lipschitz,
)


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def cancer_fit(cancer):
    X, y = cancer
    return LipschitzQuantileClassifier().fit(X, y)


def _tau_star_reference(est, X):
    """``tau*(x)`` computed independently of the estimator's code paths.

    The scores come from ``quantile_coef_`` / ``quantile_intercept_``,
    divided by ``||w_tau||`` (distances to the levels' hyperplanes); each
    curve ``logit(tau) -> sorted distance`` is interpolated linearly and its
    sign change found by bisection (60 halvings).  A curve without a sign
    change on the grid takes the documented end rule: the zero of the line
    through the end level with the least-squares slope (``np.polyfit``) of the
    three end levels, at a distance ``e`` past the end level, shrunk to
    ``w e/(w+e)`` with ``w = 3`` logit units.  Returns shape (n_samples, n_models).
    """
    z = logit(est.quantiles_)
    w = 3.0
    out = np.empty((X.shape[0], est.quantile_coef_.shape[0]))
    for k in range(out.shape[1]):
        W = est.quantile_coef_[k]
        F = np.sort((X @ W.T + est.quantile_intercept_[k]) / np.linalg.norm(W, axis=1), axis=1)
        for i, f in enumerate(F):
            if f[0] >= 0 or f[-1] < 0:
                end = slice(0, 3) if f[0] >= 0 else slice(-3, None)
                slope = np.polyfit(z[end], f[end], 1)[0]
                e = f[0] / slope if f[0] >= 0 else -f[-1] / slope
                if slope <= 0:
                    e = np.inf
                shrunk = w if np.isinf(e) else w * e / (w + e)
                out[i, k] = z[0] - shrunk if f[0] >= 0 else z[-1] + shrunk
                continue
            lo, hi = z[0], z[-1]          # f(lo) < 0 <= f(hi)
            if np.interp(lo, z, f) >= 0:
                out[i, k] = lo
                continue
            for _ in range(60):
                mid = 0.5 * (lo + hi)
                if np.interp(mid, z, f) < 0:
                    lo = mid
                else:
                    hi = mid
            out[i, k] = 0.5 * (lo + hi)
    return expit(out)


# ----------------------------------------------------------------------------
# Constants
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("tau", [0.05, 0.2, 0.5, 0.7, 0.95])
def test_lipschitz_and_curvature_constants_sampled(tau):
    """Sampled |dl/df| and |d2l/df2| (finite differences) never exceed the
    constants and come within 1% of them."""
    loss = SmoothBinaryQuantileLoss(quantile=tau)
    f = np.linspace(-20, 20, 400001)
    h = 1e-4
    top1 = top2 = 0.0
    for label in (-1.0, 1.0):
        y = np.full((f.size, 1), label)

        def value(r):
            return loss.pointwise(y, r[:, None])[:, 0]

        d1 = (value(f + h) - value(f - h)) / (2 * h)
        d2 = (value(f + h) - 2 * value(f) + value(f - h)) / h**2
        top1 = max(top1, np.abs(d1).max())
        top2 = max(top2, np.abs(d2).max())
    L = float(sbqc_lipschitz(tau))
    C = float(sbqc_curvature(tau))
    assert L == pytest.approx((2 / math.pi) * max(1.0, (1 - tau) / tau), rel=1e-15)
    assert top1 <= L * (1 + 1e-6)
    assert top1 >= 0.99 * L
    assert top2 <= C * (1 + 1e-5)
    assert top2 >= 0.99 * C
    # the engine's loss object states the same constants
    assert loss.lipschitz == pytest.approx(L)
    assert loss.curvature == pytest.approx(C)


def test_paper_factor_is_the_literal_formula():
    taus = np.linspace(0.01, 0.99, 99)
    literal = [max(1.0, (1 - t) / t, t / (t - 1)) for t in taus]
    np.testing.assert_array_equal(paper_level_factor(taus), literal)
    # t / (t - 1) < 0 on (0, 1): the literal formula equals the valid factor
    np.testing.assert_array_equal(paper_level_factor(taus), level_factor(taus))


def test_lipschitz_constant_is_the_smoothness_bound(cancer):
    X, y = cancer
    n = X.shape[0]
    est = LipschitzQuantileClassifier(
        quantile=0.3, learning_rate="lipschitz", alpha=0.01, max_iter=5
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    # the variables are those of Z = (X - mean) / scale, scale = sqrt(std^2 +
    # alpha / kappa), where the penalty alpha/2 ||w||^2 has the weights
    # alpha / scale^2: L = kappa * level * lambda_max(Z~'Z~/n) + max(alpha / scale^2)
    kappa = (2 / math.pi) * 3 * math.sqrt(3) / 8
    scale = np.sqrt(X.var(axis=0) + 0.01 / kappa)
    Z = np.hstack([(X - X.mean(axis=0)) / scale, np.ones((n, 1))])
    lam = np.linalg.eigvalsh(Z.T @ Z / n)[-1]
    expected = kappa * (0.7 / 0.3) * lam + np.max(0.01 / scale**2)
    assert est.lipschitz_constant_ == pytest.approx(expected, rel=1e-10)
    assert est.learning_rate_history_[0] == pytest.approx(1 / expected, rel=1e-10)


def test_paper_constant_reproduces_the_published_formula(cancer):
    X, y = cancer
    n = X.shape[0]
    est = LipschitzQuantileClassifier(quantile=0.2, learning_rate="paper", alpha=0.0,
                                      max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    fro = np.linalg.norm(np.hstack([np.ones((n, 1)), X]))
    expected = (2 / math.pi) * max(1, 0.8 / 0.2, 0.2 / (0.2 - 1)) * fro / n
    assert est.lipschitz_constant_ == pytest.approx(expected, rel=1e-12)


def test_gradient_steps_at_one_over_L_never_increase_the_objective(cancer):
    X, y = cancer
    est = LipschitzQuantileClassifier(learning_rate="lipschitz", optimizer="sgd",
                                      max_iter=150, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    curve = np.array(est.loss_curve_)
    assert len(curve) == 150
    assert np.all(np.diff(curve) <= 1e-12 * curve[:-1])


# ----------------------------------------------------------------------------
# Accuracy against LogisticRegression
# ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "loader, margin", [(load_breast_cancer, 0.01), (load_iris, 0.02), (load_wine, 0.02)]
)
def test_accuracy_close_to_logistic_regression(loader, margin):
    X, y = loader(return_X_y=True)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    ref = cross_val_score(make_pipeline(StandardScaler(), LogisticRegression()), X, y, cv=cv)
    ours = cross_val_score(
        make_pipeline(StandardScaler(), LipschitzQuantileClassifier()), X, y, cv=cv
    )
    assert ours.mean() >= ref.mean() - margin


# ----------------------------------------------------------------------------
# Probabilities
# ----------------------------------------------------------------------------


def test_crossing_matches_a_dense_evaluation_of_the_interpolant():
    rng = np.random.default_rng(0)
    levels = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
    curves = rearrange(rng.normal(size=(300, 5)) * 3 + rng.normal(size=(300, 1)))
    z = crossing_logit(curves, levels)
    grid_z = np.linspace(logit(0.1), logit(0.9), 200001)
    for F, zc in zip(curves, z):
        if F[0] >= 0 or F[-1] < 0:
            continue  # beyond the grid: extrapolated, checked below
        values = np.interp(grid_z, logit(levels), F)
        first = grid_z[np.argmax(values >= 0)]
        assert zc == pytest.approx(first, abs=5e-5)
    # beyond the grid: the zero of the line through the end level with the
    # least-squares slope of the three end levels, e logit units past the end
    # level, shrunk to tail * e / (tail + e) < tail
    zl = logit(levels)
    below, above = curves[:, 0] >= 0, curves[:, -1] < 0
    assert below.any() and above.any()
    F = curves[below]
    slope = np.polyfit(zl[:3], F[:, :3].T, 1)[0]
    e = F[:, 0] / slope
    np.testing.assert_allclose(z[below], zl[0] - TAIL_WIDTH * e / (TAIL_WIDTH + e), rtol=1e-12)
    F = curves[above]
    slope = np.polyfit(zl[-3:], F[:, -3:].T, 1)[0]
    e = -F[:, -1] / slope
    np.testing.assert_allclose(z[above], zl[-1] + TAIL_WIDTH * e / (TAIL_WIDTH + e), rtol=1e-12)
    assert np.all((z[below] <= zl[0]) & (z[below] > zl[0] - TAIL_WIDTH))
    assert np.all((z[above] > zl[-1]) & (z[above] < zl[-1] + TAIL_WIDTH))
    # and moves monotonically with f there: raising the curve lowers tau*
    np.testing.assert_array_less(crossing_logit(curves[below] + 1.0, levels), z[below])
    np.testing.assert_array_less(z[above], crossing_logit(curves[above] - 1.0, levels))


def test_rearrangement_keeps_the_count_of_nonnegative_levels():
    rng = np.random.default_rng(1)
    raw = rng.normal(size=(500, 7))
    curves = rearrange(raw)
    assert np.all(np.diff(curves, axis=1) >= 0)
    np.testing.assert_array_equal((curves >= 0).sum(1), (raw >= 0).sum(1))


def test_probabilities_are_valid_and_consistent(cancer, cancer_fit):
    X, y = cancer
    est = cancer_fit
    P = est.predict_proba(X)
    assert np.all((P >= 0) & (P <= 1))
    np.testing.assert_allclose(P.sum(1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(est.predict_log_proba(X), np.log(P), atol=1e-12)
    # p = 1 - tau*, tau* by bisection on the distances built from the coefficients
    curves = est.decision_curves(X)
    assert curves.shape == (X.shape[0], est.quantiles_.size)
    tau_star = _tau_star_reference(est, X)[:, 0]
    inside = (tau_star > 0.05) & (tau_star < 0.95)
    assert inside.sum() >= 20 and (~inside).sum() >= 20    # both rules are used
    np.testing.assert_allclose(P[:, 1], 1 - tau_star, atol=1e-12)
    # confident rows reach beyond the grid's own range [0.05, 0.95]
    assert P[:, 1].min() < 0.01 and P[:, 1].max() > 0.99
    # predict at tau = 0.5 agrees with the sign of f at 0.5 and with argmax p
    j = int(np.flatnonzero(est.quantiles_ == 0.5)[0])
    np.testing.assert_array_equal(est.predict(X), est.classes_[(curves[:, j] > 0).astype(int)])
    np.testing.assert_array_equal(est.predict(X), est.classes_[P.argmax(1)])
    # decision_function = logit(p) at tau = 0.5
    np.testing.assert_allclose(est.decision_function(X), logit(P[:, 1]), atol=1e-8)


def test_probabilities_are_monotone_in_f(cancer, cancer_fit):
    """Moving every level's hyperplane by the same distance towards the
    negative side (raising every f_tau(x) / ||w_tau||) never lowers p."""
    X, _ = cancer
    est = cancer_fit
    p0 = est.predict_proba(X)[:, 1]
    shifted = LipschitzQuantileClassifier()
    shifted.__dict__.update(est.__dict__)
    norms = np.linalg.norm(est.quantile_coef_, axis=2)
    for delta in (0.1, 1.0, 5.0):
        shifted.quantile_intercept_ = est.quantile_intercept_ + delta * norms
        shifted._intercept_vector = shifted.quantile_intercept_.ravel()
        p1 = shifted.predict_proba(X)[:, 1]
        assert np.all(p1 >= p0 - 1e-12)
        assert np.mean(p1 > p0) > 0.5
    # and p ranks like the decision function
    d = est.decision_function(X)
    order = np.argsort(d, kind="stable")
    assert np.all(np.diff(p0[order]) >= -1e-12)


def test_brier_score_and_log_loss_close_to_logistic_regression(cancer):
    X, y = cancer
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    brier, nll = {"lr": [], "ours": []}, {"lr": [], "ours": []}
    for train, test in cv.split(X, y):
        for key, est in (("lr", LogisticRegression()), ("ours", LipschitzQuantileClassifier())):
            p = est.fit(X[train], y[train]).predict_proba(X[test])[:, 1]
            brier[key].append(np.mean((p - y[test]) ** 2))
            nll[key].append(log_loss(y[test], p))
    # measured: Brier 0.0357 against 0.0390, log-loss 0.0752 against 0.0738
    assert np.mean(brier["ours"]) <= np.mean(brier["lr"]) + 0.002
    assert np.mean(nll["ours"]) <= np.mean(nll["lr"]) + 0.005


def test_multiclass_log_loss_close_to_logistic_regression():
    X, y = load_wine(return_X_y=True)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    nll = {"lr": [], "ours": []}
    for train, test in cv.split(X, y):
        scaler = StandardScaler().fit(X[train])
        Xtr, Xte = scaler.transform(X[train]), scaler.transform(X[test])
        for key, est in (("lr", LogisticRegression()), ("ours", LipschitzQuantileClassifier())):
            P = est.fit(Xtr, y[train]).predict_proba(Xte)
            nll[key].append(log_loss(y[test], P, labels=est.classes_))
    # measured: 0.050 against 0.066 (softmax of the one-vs-rest logits; the
    # former normalised one-vs-rest probabilities inside [0.024, 0.976] gave more)
    assert np.mean(nll["ours"]) <= np.mean(nll["lr"])


def test_multiclass_one_vs_rest_with_string_labels():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    est = LipschitzQuantileClassifier(quantile_grid=9).fit(X, names)
    np.testing.assert_array_equal(est.classes_, names[[0, 50, 100]])
    assert est.coef_.shape == (3, 4)
    assert est.quantile_coef_.shape == (3, est.quantiles_.size, 4)
    P = est.predict_proba(X)
    np.testing.assert_allclose(P.sum(1), 1.0, atol=1e-12)
    pred = est.predict(X)
    np.testing.assert_array_equal(pred, est.classes_[P.argmax(1)])
    np.testing.assert_array_equal(pred, est.classes_[est.decision_function(X).argmax(1)])
    assert np.mean(pred == names) > 0.95
    # each column of decision_function is the one-vs-rest margin of its class
    curves = est.decision_curves(X)
    assert curves.shape == (150, 3, est.quantiles_.size)
    j = int(np.flatnonzero(est.quantiles_ == 0.5)[0])
    np.testing.assert_array_equal(est.decision_function(X) > 0, curves[:, :, j] > 0)


# ----------------------------------------------------------------------------
# The level tau
# ----------------------------------------------------------------------------


def test_raising_tau_raises_recall_of_the_positive_class():
    X, y = make_classification(
        1500, 10, n_informative=4, weights=[0.85], flip_y=0.05, random_state=3
    )
    X = StandardScaler().fit_transform(X)
    Xtr, Xte, ytr, yte = X[:1000], X[1000:], y[:1000], y[1000:]
    recall, n_positive = [], []
    for tau in (0.2, 0.5, 0.8):
        est = LipschitzQuantileClassifier(quantile=tau, quantile_grid=[0.2, 0.5, 0.8])
        pred = est.fit(Xtr, ytr).predict(Xte)
        recall.append(np.mean(pred[yte == 1] == 1))
        n_positive.append(np.sum(pred == 1))
    assert recall[0] < recall[1] < recall[2]
    assert n_positive[0] < n_positive[1] < n_positive[2]


def test_label_at_level_tau_is_p_above_one_minus_tau(cancer):
    X, y = cancer
    est = LipschitzQuantileClassifier(quantile=0.3, quantile_grid=9).fit(X, y)
    p = est.predict_proba(X)[:, 1]
    pred = est.predict(X)
    np.testing.assert_array_equal(pred == 1, p > 0.7)
    np.testing.assert_allclose(est.decision_function(X), logit(p) - logit(0.7), atol=1e-8)


# ----------------------------------------------------------------------------
# Confidence
# ----------------------------------------------------------------------------


def test_confidence_definitions(cancer, cancer_fit):
    X, y = cancer
    est = cancer_fit
    p = est.predict_proba(X)[:, 1]
    c = est.confidence_score(X)
    np.testing.assert_allclose(c, np.abs(p - 0.5), atol=1e-12)
    band = 0.25
    reliable = est.predict_reliable(X, band=band)
    np.testing.assert_array_equal(reliable, c >= band)
    pred = est.predict(X)
    assert est.model_confidence(X) == pytest.approx(reliable.mean())
    assert est.retention_rate(X, y) == pytest.approx(reliable[pred == y].mean())
    assert est.retained_accuracy(X, y) == pytest.approx(np.mean(pred[reliable] == y[reliable]))
    # a reliable prediction is the same at every fitted level inside the band
    curves = est.decision_curves(X)
    inside = np.abs(est.quantiles_ - 0.5) <= band
    same = np.all((curves[:, inside] > 0) == (pred == 1)[:, None], axis=1)
    assert np.all(same[reliable])
    # unreliable predictions are the harder ones
    assert est.retained_accuracy(X, y) >= np.mean(pred == y)
    assert est.model_confidence(X, band=0.0) == 1.0
    with pytest.raises(ValueError, match="band"):
        est.model_confidence(X, band=1.5)


def test_multiclass_confidence():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    est = LipschitzQuantileClassifier(quantile_grid=9).fit(X, y)
    c = est.confidence_score(X)
    tau_star = _tau_star_reference(est, X)      # one-vs-rest, by bisection
    # the probabilities are the softmax of the one-vs-rest logits -logit(tau*)
    p = 1 - tau_star
    odds = p / tau_star
    np.testing.assert_allclose(est.predict_proba(X), odds / odds.sum(1, keepdims=True),
                               rtol=1e-9, atol=1e-12)
    pred = np.searchsorted(est.classes_, est.predict(X))
    np.testing.assert_array_equal(pred, np.argmax(p, axis=1))
    # the definition of c(x): at every level within c of 0.5 the predicted
    # class, and only it, claims x (class k claims x at tau >= tau*_k);
    # just outside the band on one side that fails
    assert np.all((c >= 0) & (c < 0.5 + 1e-12)) and np.mean(c > 0) > 0.5

    def claims_only_pred(tau):
        claimed = tau[:, None] >= tau_star
        own = claimed[np.arange(len(y)), pred]
        return own & (claimed.sum(1) == 1)

    inside = c > 1e-9
    for f in np.linspace(-0.999, 0.999, 21):
        assert np.all(claims_only_pred(0.5 + f * c)[inside])
    outside = claims_only_pred(0.5 - c - 1e-7) & claims_only_pred(0.5 + c + 1e-7)
    assert not np.any(outside)


# ----------------------------------------------------------------------------
# Weights, sparse input, partial_fit, warm start
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("learning_rate", ["lipschitz", "local"])
def test_sample_weight_equals_repetition(cancer, learning_rate):
    X, y = cancer
    X, y = X[:200], y[:200]
    sw = np.random.default_rng(0).integers(0, 3, size=200)
    assert np.any(sw == 0)  # a weight of zero is the same as removing the row
    kw = dict(learning_rate=learning_rate, max_iter=100, quantile_grid=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = LipschitzQuantileClassifier(**kw).fit(X, y, sample_weight=sw)
        b = LipschitzQuantileClassifier(**kw).fit(np.repeat(X, sw, 0), np.repeat(y, sw))
    assert a.n_iter_ == b.n_iter_
    np.testing.assert_allclose(a.quantile_coef_, b.quantile_coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-7)


def test_local_rates_lie_on_the_octave_grid_below_adgd():
    """The default rule's rates are AdGD's rates rounded down to 2**(k/8)."""
    from sklipschitz._engine.steps import LocalStep

    rng = np.random.default_rng(0)
    A = rng.normal(size=(30, 4))
    H = A.T @ A / 30
    L = np.full(3, np.linalg.eigvalsh(H).max())
    rule = LocalStep(per_column=True, octave_steps=8)
    state = rule.init(L)
    W, b = rng.normal(size=(4, 3)), np.zeros(3)
    prev = None
    for _ in range(20):
        g = H @ W
        lr = rule.rate(state, [W, b], [g, b])
        k = np.log2(lr) * 8
        np.testing.assert_allclose(k, np.round(k), atol=1e-9)
        if prev is None:
            assert np.all(lr <= 1 / L) and np.all(lr > 2 ** (-1 / 8) / L)
        else:  # AdGD's two bounds (Malitsky & Mishchenko 2020)
            dx = np.linalg.norm(W - prev[0], axis=0)
            dg = np.linalg.norm(g - prev[1], axis=0)
            assert np.all(lr <= dx / (2 * dg) * (1 + 1e-12))
            assert np.all(lr <= np.sqrt(1 + prev[3]) * prev[2] * (1 + 1e-12))
            theta = lr / prev[2]
        prev = (W.copy(), g.copy(), lr.copy(), np.inf if prev is None else theta)
        W = W - lr * g
    assert np.all(lr > 1 / L)  # the rule still grows past 1/L


def test_class_weight_moves_predictions(cancer):
    X, y = cancer
    base = LipschitzQuantileClassifier(quantile_grid=5).fit(X, y)
    heavy = LipschitzQuantileClassifier(quantile_grid=5, class_weight={0: 10.0, 1: 1.0})
    heavy.fit(X, y)
    assert np.mean(heavy.predict(X) == 0) > np.mean(base.predict(X) == 0)
    bal = LipschitzQuantileClassifier(quantile_grid=5, class_weight="balanced").fit(X, y)
    n0, n1 = np.bincount(y)
    manual = LipschitzQuantileClassifier(quantile_grid=5).fit(
        X, y, sample_weight=np.where(y == 0, len(y) / (2 * n0), len(y) / (2 * n1))
    )
    np.testing.assert_allclose(bal.coef_, manual.coef_, rtol=1e-10)


def test_sparse_input_matches_dense(cancer):
    X, y = cancer
    Xs = sp.csr_matrix(np.where(np.abs(X) < 0.5, 0.0, X))
    a = LipschitzQuantileClassifier(quantile_grid=5).fit(Xs, y)
    b = LipschitzQuantileClassifier(quantile_grid=5).fit(Xs.toarray(), y)
    # equal up to rounding differences of the sparse and dense products
    np.testing.assert_allclose(a.predict_proba(Xs), b.predict_proba(Xs.toarray()), atol=1e-5)


@pytest.mark.parametrize("loader", [load_breast_cancer, load_iris])
def test_column_problem_matches_the_network_problem(loader):
    # the default full-batch fit evaluates the loss column-wise through its
    # bound form; before any column is frozen it is the iteration of the
    # same loop on the plain network objective
    from sklipschitz._engine.loop import TrainState, train
    from sklipschitz._engine.monitors import DivergenceStop, Stopping
    from sklipschitz._engine.network import DenseNetwork
    from sklipschitz._engine.problems import ColumnProblem, NetworkProblem
    from sklipschitz._engine.steps import LocalStep
    from sklipschitz._engine.updates import SGD

    X, y = loader(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    est = LipschitzQuantileClassifier(quantile_grid=5, max_iter=1).fit(X, y)
    n_cols = est._coef_matrix.shape[1]
    levels = np.tile(est.quantiles_, n_cols // len(est.quantiles_))
    G = len(est.quantiles_)
    Y = est._targets(np.searchsorted(est.classes_, y), G)
    loss = SmoothBinaryQuantileLoss(levels)
    sw = np.ones(len(y))
    L = sbqc_curvature(levels) * 10.0
    runs = []
    for problem in (
        ColumnProblem(loss, X, Y, sw, alpha=1e-4),
        NetworkProblem(DenseNetwork((X.shape[1], n_cols)), loss, X, Y, sw, alpha=1e-4),
    ):
        rule = LocalStep(per_column=True)
        state = TrainState(coefs=[np.zeros((X.shape[1], n_cols))], intercepts=[np.zeros(n_cols)])
        state.step_state = rule.init(L)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runs.append(train(problem, state, rule=rule, update=SGD(), max_iter=40,
                              stopping=Stopping(0.0, 40), guard=DivergenceStop()))
    a, b = runs
    assert a.n_iter == b.n_iter == 40
    np.testing.assert_allclose(a.loss_curve, b.loss_curve, rtol=1e-10)
    np.testing.assert_allclose(a.learning_rate_history, b.learning_rate_history, rtol=1e-8)
    np.testing.assert_allclose(a.coefs[0], b.coefs[0], atol=1e-8)


def test_frozen_columns_keep_their_best_iterate(cancer):
    # every column ends at its own best iterate, so the final objective is at
    # most the lowest objective recorded at any epoch, up to the rounding of
    # the weights to float32 at the end of fit (relative change about 1e-9
    # here) and to the float32 arctan of the recorded values (about 1e-7)
    X, y = cancer
    est = LipschitzQuantileClassifier().fit(X, y)
    assert est.loss_ <= min(est.loss_curve_) * (1 + 1e-6)


def test_float32_input_is_fitted_in_float32(cancer):
    X, y = cancer
    a = LipschitzQuantileClassifier(quantile_grid=5).fit(X.astype(np.float32), y)
    b = LipschitzQuantileClassifier(quantile_grid=5).fit(X, y)
    assert a._coef_matrix.dtype == np.float32
    assert np.mean(a.predict(X) == b.predict(X)) > 0.99


def test_partial_fit(cancer):
    X, y = cancer
    est = LipschitzQuantileClassifier(quantile_grid=5, batch_size=64, random_state=0)
    with pytest.raises(ValueError, match="classes"):
        est.partial_fit(X[:50], y[:50])
    scores = []
    for epoch in range(30):
        for chunk in np.array_split(np.arange(len(y)), 4):
            est.partial_fit(X[chunk], y[chunk], classes=np.array([0, 1]))
        scores.append(est.score(X, y))
    assert est.n_iter_ == 120
    assert scores[-1] > 0.95
    assert scores[-1] > scores[0]
    # the valid step for any mini-batch: 1/(curvature * max_i ||x~_i||^2), x~ the
    # rows of the design scaled by the first call's scales (and a one)
    kappa = (2 / math.pi) * 3 * math.sqrt(3) / 8
    assert est._x_offset is None  # standardized: not centred
    Z = X / est._x_scale
    L = kappa * ((Z**2).sum(1).max() + 1) + est.alpha * np.max(est._x_scale ** -2.0)
    assert est.learning_rate_history_[-1] == pytest.approx(1 / L, rel=1e-10)
    with pytest.raises(ValueError, match="not in classes"):
        est.partial_fit(X[:5], np.array([0, 1, 2, 0, 1]))
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(X[:5, :3], y[:5])


def test_partial_fit_passes_of_chunks_approach_fit(cancer):
    X, y = cancer
    target = LipschitzQuantileClassifier().fit(X, y).score(X, y)
    chunks = np.array_split(np.random.default_rng(0).permutation(len(y)), 6)
    acc = {}
    for optimizer in ("nesterov", "sgd"):
        est = LipschitzQuantileClassifier(optimizer=optimizer)
        for _ in range(10):
            for chunk in chunks:
                est.partial_fit(X[chunk], y[chunk], classes=np.array([0, 1]))
        acc[optimizer] = est.score(X, y)
    # measured: 0.984 (momentum), 0.972 (plain steps), 0.990 (fit)
    assert acc["nesterov"] >= target - 0.01
    assert acc["nesterov"] > acc["sgd"]


@pytest.mark.parametrize("how", ["partial_fit", "minibatch"])
def test_streaming_fits_of_uncentred_features(cancer, how):
    # features 30 standard deviations off zero made the steps' bound ~900
    # times larger, and partial_fit / mini-batch fits stayed at the majority
    # class (0.627) without a warning; they centre at the first data's means
    # now, so the iterates on X + 30 and X + 3 are the same (up to the
    # intercepts), within 0.05 of LogisticRegression's fit after 5 passes or
    # 20 epochs (measured 0.946 and 0.963, LogisticRegression 0.988)
    X, y = cancer
    ref = LogisticRegression().fit(X, y).score(X, y)
    models = []
    for shift in (3.0, 30.0):
        Xs = X + shift
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if how == "partial_fit":
                est = LipschitzQuantileClassifier()
                for _ in range(5):
                    for chunk in np.array_split(np.arange(len(y)), 6):
                        est.partial_fit(Xs[chunk], y[chunk], classes=np.array([0, 1]))
            else:
                est = LipschitzQuantileClassifier(batch_size=32, random_state=0,
                                                  max_iter=20).fit(Xs, y)
        assert est.score(Xs, y) >= ref - 0.05
        models.append(est)
    a, b = models
    np.testing.assert_allclose(b._coef_matrix, a._coef_matrix, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(b._intercept_vector,
                               a._intercept_vector - 27.0 * a._coef_matrix.sum(axis=0),
                               rtol=1e-6, atol=1e-6)


def test_warm_start_continues_from_the_previous_solution(cancer):
    X, y = cancer
    est = LipschitzQuantileClassifier(quantile_grid=5, warm_start=True, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
        first = est.loss_
        est.fit(X, y)
    # the curve is recorded with a float32 arctan (relative error about 1e-7)
    assert est.loss_curve_[0] == pytest.approx(first, rel=1e-6)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fit_rounds_the_level_weights_to_float32_and_pickles_them_so():
    import pickle

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    est = LipschitzQuantileClassifier(max_iter=30).fit(X, y)
    W = est.quantile_coef_
    assert W.dtype == np.float64
    np.testing.assert_array_equal(W.astype(np.float32).astype(np.float64), W)
    blob = pickle.dumps(est)
    # float32 weights (4 bytes each), byte-shuffled and compressed, plus small
    # arrays: 113 kB before, then 56 kB uncompressed (48.6 kB of float32 weights)
    assert len(blob) < 50_000 < W.nbytes // 2 + 1_500
    loaded = pickle.loads(blob)
    assert loaded.quantile_coef_.dtype == np.float64
    np.testing.assert_array_equal(loaded.quantile_coef_, W)
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    np.testing.assert_array_equal(loaded._level_norms, est._level_norms)
    # the generator nothing drew from is not stored: random_state gives it again
    assert loaded._rng is np.random.mtrand._rand
    seeded = LipschitzQuantileClassifier(max_iter=5, random_state=3).fit(X[:200], y[:200])
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(seeded))._rng.randint(1000, size=5),
                                  np.random.RandomState(3).randint(1000, size=5))
    # partial_fit does not round: its weights keep float64 in the pickle
    part = LipschitzQuantileClassifier().partial_fit(X[:300], y[:300], classes=np.arange(10))
    again = pickle.loads(pickle.dumps(part))
    np.testing.assert_array_equal(again.quantile_coef_, part.quantile_coef_)
    # a mini-batch fit drew from its generator: the pickle keeps it as it is
    mb = LipschitzQuantileClassifier(batch_size=50, max_iter=2, random_state=3).fit(X[:200], y[:200])
    state = mb._rng.get_state()[1]
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(mb))._rng.get_state()[1], state)


def test_pickle_keeps_the_weights_once():
    import pickle

    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    est = LipschitzQuantileClassifier().fit(X, y)
    blob = pickle.dumps(est)
    # one float64 copy of the level weights, plus small arrays
    assert len(blob) < est.quantile_coef_.nbytes + 12_000
    loaded = pickle.loads(blob)
    for method in ("predict_proba", "decision_function", "decision_curves", "confidence_score"):
        np.testing.assert_allclose(getattr(loaded, method)(X), getattr(est, method)(X),
                                   rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(loaded.coef_, est.coef_)
    np.testing.assert_array_equal(loaded.intercept_, est.intercept_)
    assert est._coef_matrix.shape == loaded._coef_matrix.shape  # pickling left est whole
    # warm_start and partial_fit continue from a loaded model as from the original
    for model in (est, loaded):
        model.set_params(warm_start=True, max_iter=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y)
    np.testing.assert_allclose(loaded.quantile_coef_, est.quantile_coef_, rtol=1e-9, atol=1e-12)
    est2 = pickle.loads(pickle.dumps(est))
    est.partial_fit(X[:50], y[:50])
    est2.partial_fit(X[:50], y[:50])
    np.testing.assert_allclose(est2.quantile_coef_, est.quantile_coef_, rtol=1e-9, atol=1e-12)
    assert est2.loss_curve_ == pytest.approx(est.loss_curve_)


def test_packed_float32_weights_round_trip_exactly():
    from sklipschitz.linear_model._quantile_classifier import _pack_float32, _unpack_float32

    rng = np.random.default_rng(0)
    W = rng.standard_normal((3, 7, 5)).astype(np.float32)
    W[0, 0, :2] = [0.0, -0.0]
    W[1, 2, 3] = np.float32(1e-40)  # subnormal
    back = _unpack_float32(_pack_float32(W))
    assert back.dtype == np.float32 and back.shape == W.shape
    np.testing.assert_array_equal(back.view(np.uint32), W.view(np.uint32))  # bit for bit


def test_huge_constant_rate_stays_finite(cancer):
    X, y = cancer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = LipschitzQuantileClassifier(learning_rate=1e8, optimizer="sgd", max_iter=30,
                                          quantile_grid=5).fit(X, y)
    assert np.all(np.isfinite(est.coef_))
    assert np.all(np.isfinite(est.predict_proba(X)))


# ----------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------


def test_bad_input(cancer):
    X, y = cancer
    X, y = X[:60], y[:60]
    with pytest.raises(ValueError, match="1 class"):
        LipschitzQuantileClassifier().fit(X, np.zeros(60))
    with pytest.raises(ValueError, match="NaN"):
        LipschitzQuantileClassifier().fit(X, np.where(np.arange(60) == 3, np.nan, y))
    for q in (0.0, 1.0, -0.2, 1.5):
        with pytest.raises(ValueError, match="quantile"):
            LipschitzQuantileClassifier(quantile=q).fit(X, y)
    with pytest.raises(ValueError, match="strictly increasing"):
        LipschitzQuantileClassifier(quantile_grid=[0.2, 0.6, 0.4]).fit(X, y)
    with pytest.raises(ValueError, match=r"inside \(0, 1\)"):
        LipschitzQuantileClassifier(quantile_grid=[0.0, 0.5, 0.9]).fit(X, y)
    with pytest.raises(ValueError, match=r"inside \(0, 1\)"):
        LipschitzQuantileClassifier(quantile_grid=[0.5, 1.2]).fit(X, y)
    with pytest.raises(ValueError, match="quantile_grid"):
        LipschitzQuantileClassifier(quantile_grid=1).fit(X, y)
    with pytest.raises(NotFittedError):
        LipschitzQuantileClassifier().predict(X)
    est = LipschitzQuantileClassifier(quantile_grid=3).fit(X, y)
    for method in ("predict", "predict_proba", "decision_function", "confidence_score"):
        with pytest.raises(ValueError, match="features"):
            getattr(est, method)(X[:, :5])
    with pytest.raises(ValueError, match="1 class"):
        LipschitzQuantileClassifier().fit(X, y, sample_weight=(y == 1).astype(float))


@pytest.mark.parametrize("scale", [1e-3, 1.0, 30.0, 1e5])
def test_bound_level_loss_matches_the_engine_loss(scale):
    from sklipschitz.linear_model._quantile_levels import BoundLevelLoss

    rng = np.random.default_rng(0)
    levels = np.tile(np.arange(1, 6) / 6, 3)
    Y = np.where(rng.random((300, 15)) < 0.3, 1.0, -1.0)
    sw = rng.random(300)
    loss = SmoothBinaryQuantileLoss(levels)
    raw = rng.standard_normal((300, 15)) * scale
    raw[:3, :3] = [[np.inf, -np.inf, 0.0], [-0.0, 1e300, -1e300], [1e-300, 3e38, -3e38]]
    # reference: the loss of every sample, in float64 with np.arctan
    fast = BoundLevelLoss(loss, Y, sw)
    assert not fast.fast  # 300 x 15 scores: numpy's arctan by default
    fast.fast = True
    with np.errstate(over="ignore"):  # raw**2 of 1e300 in the gradient: delta = 0
        ref = sw @ loss.pointwise(Y, raw) / sw.sum()
        _, ref_delta = loss.bind(Y, sw).columns(raw)
        values, delta = fast.columns(raw)
    np.testing.assert_allclose(values, ref, rtol=3e-7)
    np.testing.assert_array_equal(delta, ref_delta)
    # fitted rows (tiny loss): still relative accuracy, no cancellation
    fitted = Y * (30 + rng.random((300, 15)))
    np.testing.assert_allclose(fast.columns(fitted)[0], sw @ loss.pointwise(Y, fitted) / sw.sum(),
                               rtol=3e-7)
    keep = np.arange(15) % 2 == 0
    part = fast.take(keep)
    assert part.fast
    with np.errstate(over="ignore"):
        part_values = part.columns(raw[:, keep])[0]
    np.testing.assert_allclose(part_values, ref[keep], rtol=3e-7)


def test_settled_levels_allow_a_small_weighted_share_of_sign_changes():
    from sklipschitz._engine.monitors import ColumnFreezing

    # 1000 rows, 3 columns; between two epochs 1 row flips in column 0,
    # 3 rows in column 1, none in column 2
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((1000, 3)) + 0.1
    scores[np.abs(scores) < 1e-3] = 1.0
    after = scores.copy()
    after[0, 0] *= -1
    after[:3, 1] *= -1
    values = np.ones(3)

    def streaks(weights, rows_scores):
        freezing = ColumnFreezing(0.0, 10, stable_signs=True, sign_share=0.002, weights=weights)
        freezing.start(3)
        best = [np.zeros((1, 3))]
        for s in rows_scores:
            freezing.record(values, best, best, s)
        return freezing.unchanged.copy()

    # equal weights: 1 row is 0.1% (settled), 3 rows are 0.3% (not settled)
    np.testing.assert_array_equal(streaks(np.ones(1000), [scores, after]), [1, 0, 1])
    # the share is by weight: a row of weight 3 weighs as much as three rows
    w = np.ones(1000)
    w[0] = 3.0
    np.testing.assert_array_equal(streaks(w, [scores, after]), [0, 0, 1])
    # integer weights equal repeated rows
    rep = np.repeat(np.arange(1000), w.astype(int))
    np.testing.assert_array_equal(streaks(np.ones(rep.size), [scores[rep], after[rep]]),
                                  streaks(w, [scores, after]))
    # a row of weight zero weighs nothing
    w[:3] = 0.0
    np.testing.assert_array_equal(streaks(w, [scores, after]), [1, 1, 1])


# ----------------------------------------------------------------------------
# The logistic pilot, rare and separable classes
# ----------------------------------------------------------------------------


def test_bound_logistic_loss_matches_the_closed_form():
    from scipy.special import log_expit

    from sklipschitz.linear_model._quantile_levels import BoundLogisticLoss

    rng = np.random.default_rng(0)
    T = (rng.random((300, 4)) > 0.7).astype(float)
    sw = rng.random(300)
    raw = rng.standard_normal((300, 4)) * 30  # margins far beyond exp's range in float32
    s = 2 * T - 1
    bound = BoundLogisticLoss(T, sw)
    values, delta = bound.columns(raw)
    np.testing.assert_allclose(values, -(sw / sw.sum()) @ log_expit(s * raw), rtol=1e-6)
    # expit(raw) - T without cancellation
    reference = np.where(T > 0, -expit(-raw), expit(raw))
    expected = (sw / sw.sum())[:, None] * reference
    # float32 exp(-|m|): the rounding of |m| costs a relative error ~6e-8 |m|
    np.testing.assert_allclose(delta, expected, rtol=1e-6 * (1 + np.abs(raw)).max(),
                               atol=1e-300)
    part_values, part_delta = bound.take(np.array([True, False, True, False])).columns(raw[:, [0, 2]])
    np.testing.assert_allclose(part_values, values[[0, 2]], rtol=1e-12)
    np.testing.assert_allclose(part_delta, delta[:, [0, 2]], rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("exact", [False, True], ids=["adgd", "newton"])
@pytest.mark.parametrize("loader", [load_breast_cancer, load_iris])
def test_logistic_pilot_nearly_minimises_the_penalised_logistic_loss(loader, exact, monkeypatch):
    from scipy.optimize import minimize
    from scipy.special import log_expit

    from sklipschitz.linear_model import _quantile_classifier as qc

    X, y = loader(return_X_y=True)  # raw units: the pilot runs in the scaled variables
    alpha, n = 1e-4, len(y)
    if not exact:  # the first-order pilot of designs too wide for Newton steps
        monkeypatch.setattr(qc, "NEWTON_PILOT_MAX_FLOPS", 0.0)
    est = LipschitzQuantileClassifier(alpha=alpha)
    est.classes_, est.quantiles_ = np.unique(y), np.array([0.25, 0.5, 0.75])
    n_models = 1 if len(est.classes_) == 2 else len(est.classes_)
    levels = np.tile(est.quantiles_, n_models)
    Y = est._targets(y, 3)
    sw = np.ones(n)
    problem, _, _ = qc._full_batch_problem(est, SmoothBinaryQuantileLoss(levels), X, Y, sw,
                                           levels, alpha, 0.0)
    V, c, _ = qc._logistic_pilot(problem, Y, sw, n_models, 3, X.dtype)
    if exact:  # the exact pilot (narrow designs) minimises the loss with a stronger penalty
        assert n_models * n * (X.shape[1] + 1) ** 2 <= qc.NEWTON_PILOT_MAX_FLOPS
        alpha = alpha * qc.NEWTON_PILOT_PENALTY
    W, b = problem.original(V, c)
    for k in range(n_models):
        t = (y == est.classes_[k + 1 if n_models == 1 else k]).astype(float)

        def objective(w, b0):
            return -np.mean(log_expit((2 * t - 1) * (X @ w + b0))) + alpha / 2 * w @ w

        p = t.mean()
        prior = -(p * np.log(p) + (1 - p) * np.log(1 - p))
        # the reference optimum by L-BFGS in standardized variables v = scale * w
        # (the same objective: alpha/2 ||w||^2 = alpha/2 sum (v / scale)^2)
        sc = StandardScaler().fit(X)
        Z = sc.transform(X)

        def f_and_grad(theta):
            v, b0 = theta[:-1], theta[-1]
            m = (2 * t - 1) * (Z @ v + b0)
            r = -(2 * t - 1) * expit(-m) / n
            pen = alpha / sc.scale_**2
            return (-np.mean(log_expit(m)) + 0.5 * np.sum(pen * v * v),
                    np.append(Z.T @ r + pen * v, r.sum()))

        res = minimize(f_and_grad, np.zeros(X.shape[1] + 1), jac=True, method="L-BFGS-B",
                       options=dict(maxiter=10000, gtol=1e-12, ftol=1e-15))
        w_ref = res.x[:-1] / sc.scale_
        optimum = objective(w_ref, res.x[-1] - sc.mean_ @ w_ref)
        if exact:
            # the minimiser, to rounding: scikit-learn's Newton solver on the same
            # objective (C n times it), more precise than L-BFGS here
            lr = LogisticRegression(C=1 / (alpha * n), solver="newton-cholesky", tol=1e-13,
                                    max_iter=1000).fit(X, t)
            np.testing.assert_allclose(W[:, k] * sc.scale_, lr.coef_[0] * sc.scale_, atol=1e-6,
                                       rtol=0)
            np.testing.assert_allclose(b[k], lr.intercept_[0], atol=1e-6)
            assert abs(objective(W[:, k], b[k]) - objective(lr.coef_[0], lr.intercept_[0])) < 1e-12
            assert objective(W[:, k], b[k]) <= optimum + 1e-12
        else:
            assert optimum <= objective(W[:, k], b[k]) + 1e-12
            # the pilot closes at least 90% of the gap between the prior and the optimum
            assert objective(W[:, k], b[k]) - optimum <= 0.1 * (prior - optimum)


def test_newton_pilot_only_on_narrow_designs_with_an_l2_penalty(monkeypatch):
    from sklipschitz.linear_model import _quantile_classifier as qc

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    calls = []
    original = qc.newton_columns

    def spy(*args, **kw):
        out = original(*args, **kw)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(qc, "newton_columns", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        exact = LipschitzQuantileClassifier().fit(X, y)
        assert calls == [True]
        # without an L2 part (no minimiser on separable classes) and on a wide design:
        # the first-order pilot
        LipschitzQuantileClassifier(penalty="l1").fit(X, y)
        monkeypatch.setattr(qc, "NEWTON_PILOT_MAX_FLOPS", 455 * 31**2 - 1)
        first_order = LipschitzQuantileClassifier().fit(X, y)
    assert calls == [True]
    # both pilots start levels that separate the classes
    assert exact.score(X, y) > 0.98 and first_order.score(X, y) > 0.98


def test_newton_pilot_falls_back_to_the_first_order_pilot(monkeypatch):
    from sklipschitz.linear_model import _quantile_classifier as qc

    X, y = load_iris(return_X_y=True)
    monkeypatch.setattr(qc, "NEWTON_PILOT_MAX_FLOPS", 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = LipschitzQuantileClassifier().fit(X, y)
        monkeypatch.setattr(qc, "NEWTON_PILOT_MAX_FLOPS", 1e6)
        monkeypatch.setattr(qc, "newton_columns", lambda *a, **k: None)  # not converged
        fallback = LipschitzQuantileClassifier().fit(X, y)
    np.testing.assert_array_equal(fallback.quantile_coef_, reference.quantile_coef_)


def test_pilot_start_puts_the_levels_logit_tau_apart():
    from sklipschitz.linear_model._quantile_classifier import _pilot_start

    V = np.array([[1.0, -2.0], [0.5, 3.0]])
    c = np.array([0.25, -1.0])
    levels = np.array([0.1, 0.5, 0.8])
    W, b = _pilot_start(V, c, levels, 2)
    np.testing.assert_array_equal(W, np.repeat(V, 3, axis=1))
    np.testing.assert_allclose(b, np.concatenate([0.25 + logit(levels), -1.0 + logit(levels)]))
    # without an intercept every level starts at the pilot's scores
    W, b = _pilot_start(V, np.zeros(2), levels, 2, fit_intercept=False)
    np.testing.assert_array_equal(b, np.zeros(6))


def test_without_intercept_the_levels_keep_zero_intercepts(cancer):
    X, y = cancer
    est = LipschitzQuantileClassifier(fit_intercept=False).fit(X, y)
    np.testing.assert_array_equal(est.quantile_intercept_, 0.0)
    ref = LogisticRegression(fit_intercept=False).fit(X, y)
    assert est.score(X, y) >= ref.score(X, y) - 0.01


def test_a_rare_positive_is_ranked_first(rare_positive):
    # 1 positive in 5,000 rows, shifted by 3 in every feature: the levels
    # used to settle on "all negative" and give every row p ~ 0.03
    from sklearn.metrics import roc_auc_score

    X, y = rare_positive
    p = LipschitzQuantileClassifier().fit(X, y).predict_proba(X)[:, 1]
    ref = LogisticRegression().fit(X, y).predict_proba(X)[:, 1]
    assert roc_auc_score(y, ref) == 1.0
    assert roc_auc_score(y, p) >= 0.95
    assert np.argmax(p) == 0
    assert p[0] > 10 * np.median(p[1:])
    # the tails bound p below by expit(-logit(0.95) - 3) ~ 0.0026 (the log-loss floor)
    assert log_loss(y, p) < 0.01


def test_wide_sparse_separable_probabilities_reach_the_tails():
    # 500 x 3000 sparse, separable: the levels used to freeze with far-apart
    # intercepts and small slopes, every p in [0.39, 0.61]
    rng = np.random.RandomState(0)
    X = sp.random(500, 3000, density=0.01, random_state=rng, format="csr")
    y = (X @ rng.standard_normal(3000) > 0).astype(int)
    est = LipschitzQuantileClassifier().fit(X, y)
    p = est.predict_proba(X)[:, 1]
    ref = LogisticRegression().fit(X, y).predict_proba(X)[:, 1]
    assert est.score(X, y) == 1.0
    assert log_loss(y, p) <= log_loss(y, ref)
    assert p.min() < 0.05 and p.max() > 0.95
