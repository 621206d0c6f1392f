"""SymNet's per-layer constants, the guard's warnings, weights and target scaling.

Each failure the per-layer rule fixes has a regression test here (small data,
few epochs); the constants are checked against dense eigenvalues and a
finite-difference Hessian.
"""

import contextlib
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklipschitz._engine import network_lipschitz as nl
from sklipschitz._engine.activations import ACTIVATIONS, AReLU, SBAF, make_activation
from sklipschitz._engine.losses import BinomialLoss, HalfSquaredError
from sklipschitz._engine.network import DenseNetwork
from sklipschitz.neural_network import SymNetClassifier, SymNetRegressor


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


# -- the registry and the slope bounds ---------------------------------------------


def test_make_activation_uses_the_one_registry():
    from sklipschitz import neural_network

    assert neural_network.make_activation is make_activation
    assert set(ACTIVATIONS) == {"identity", "relu", "tanh", "logistic", "sbaf", "arelu"}
    unit = make_activation("sbaf", sbaf_k=0.5, sbaf_alpha=0.3)
    assert (unit.k, unit.alpha, unit.output) == (0.5, 0.3, "rescaled")
    assert make_activation("arelu", arelu_n=2.0).n == 2.0
    with pytest.raises(ValueError, match="Unknown activation 'swish'"):
        make_activation("swish")


@pytest.mark.parametrize("name", ["identity", "relu", "tanh", "logistic", "sbaf"])
def test_slope_bound_is_the_supremum(name):
    """The stated bound is at least every slope and at most 0.2% above the largest."""
    act = make_activation(name)
    z = np.linspace(-30, 30, 600001)
    slopes = np.abs(act.derivative(z, act.value(z)))
    assert slopes.max() <= act.slope_bound
    assert act.slope_bound <= slopes.max() * 1.002


def test_sbaf_slope_bound_tighter_than_the_crude_bound_and_steepest_input():
    act = make_activation("sbaf")
    crude = 0.25 * 0.5 / (1 - act.y_min)
    assert act.slope_bound < 0.6 * crude
    d = act.derivative(np.array([act.steepest_input]), act.value(np.array([act.steepest_input])))
    assert abs(d[0]) == pytest.approx(act.slope_bound / 1.001, rel=1e-6)


def test_arelu_max_slope_on_values():
    act = AReLU(0.54, 1.3)
    z = np.array([0.0, 0.5, 2.0, 3.7])
    a = act.value(z)
    assert act.max_slope(a) == pytest.approx(act.derivative(z, a).max(), rel=1e-12)


# -- the constants ---------------------------------------------------------------


def test_power_iteration_matches_dense_eigenvalues():
    rng = np.random.default_rng(0)
    A = rng.uniform(0, 1, (300, 12))
    w = rng.uniform(0.5, 2.0, 300)
    w /= w.sum()
    mu = w @ A
    Ac = np.hstack([A - mu, np.ones((300, 1))])
    ref = np.linalg.eigvalsh(Ac.T @ (w[:, None] * Ac))[-1]
    W = rng.standard_normal((12, 7))
    power = nl.PowerIteration()
    for _ in range(60):  # warm-started calls converge to the top eigenvalue
        lam = power.gram("A", A, w, mu)
        norm = power.spectral_norm("W", W)
    assert lam == pytest.approx(ref, rel=1e-9)
    assert norm == pytest.approx(np.linalg.norm(W, 2), rel=1e-9)
    assert nl.column_means(A, w) == pytest.approx(mu, rel=1e-12)


def test_layer_constants_match_the_formula(monkeypatch):
    """L_k = c P_k^2 lambda_max(A~_k' S A~_k) + alpha, P_k = prod_{j>k} s ||W_j||_2."""
    monkeypatch.setattr(nl, "FIRST_ITERATIONS", 2000)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((80, 5))
    net = DenseNetwork((5, 6, 4, 1), make_activation("tanh"))
    W, b = net.init_params(np.random.RandomState(0))
    _, _, acts = net.forward(X, W, b)
    consts = nl.layer_constants(
        acts, W, net.activation, HalfSquaredError(), 1.0 / 80, alpha=1e-3, batch_size=80,
        power=nl.PowerIteration(),
    )

    def lam(A):
        At = np.hstack([A, np.ones((80, 1))])
        return np.linalg.eigvalsh(At.T @ At / 80)[-1]

    n2, n1 = np.linalg.norm(W[2], 2), np.linalg.norm(W[1], 2)
    expected = [(n2 * n1) ** 2 * lam(acts[0]), n2**2 * lam(acts[1]), lam(acts[2])]
    np.testing.assert_allclose(consts, np.array(expected) + 1e-3, rtol=1e-8)


def test_layer_constant_bounds_the_block_hessian_of_a_relu_network():
    """For ReLU units the Gauss-Newton bound holds for the exact block Hessian
    (finite differences of the gradient), each layer's weights and intercept."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((60, 3))
    y = rng.integers(0, 2, 60)[:, None].astype(float)
    net = DenseNetwork((3, 5, 4, 1), make_activation("relu"))
    W, b = net.init_params(np.random.RandomState(3))
    loss = BinomialLoss()
    _, _, acts = net.forward(X, W, b)
    consts = nl.layer_constants(
        acts, W, net.activation, loss, 1.0 / 60, alpha=0.0, batch_size=60,
        power=nl.PowerIteration(),
    )
    sw = np.ones(60)
    for k in range(3):
        def grad(theta):  # noqa: E306
            Wk = theta[:-W[k].shape[1]].reshape(W[k].shape)
            bk = theta[-W[k].shape[1]:]
            Ws, bs = list(W), list(b)
            Ws[k], bs[k] = Wk, bk
            _, gW, gb, _ = net.objective_and_gradient(X, y, sw, loss, 0.0, Ws, bs)
            return np.concatenate([gW[k].ravel(), gb[k]])

        theta = np.concatenate([W[k].ravel(), b[k]])
        h = 1e-6
        H = np.array([(grad(theta + h * e) - grad(theta - h * e)) / (2 * h)
                      for e in np.eye(theta.size)])
        top = np.linalg.eigvalsh(0.5 * (H + H.T))[-1]
        assert 0 < top <= consts[k] * (1 + 1e-5), (k, top, consts[k])


# -- depth: the failures of the last-layer rule ------------------------------------


def test_two_hidden_layers_regressor_learns(diabetes):
    """Old rule: training R^2 0.000 after 33 epochs (rate halved to 2e-7)."""
    X, y = diabetes
    with _quiet():
        reg = SymNetRegressor(hidden_layer_sizes=(100, 100), random_state=0, max_iter=15).fit(
            X, y
        )
    assert reg.score(X, y) > 0.4
    assert reg._train_state.halvings <= 2


def test_three_hidden_layers_classifier_learns(cancer):
    """Old rule: accuracy 0.627 (the majority class) with no warning."""
    X, y = cancer
    with _quiet():
        clf = SymNetClassifier(hidden_layer_sizes=(50, 50, 50), random_state=0,
                               max_iter=40).fit(X, y)
    assert clf.score(X, y) > 0.97


def test_layers_get_their_own_rates(cancer):
    X, y = cancer
    with _quiet():
        clf = SymNetClassifier(hidden_layer_sizes=(20, 10), activation="relu", random_state=0,
                               max_iter=3).fit(X, y)
    L = clf._train_state.step_state.lipschitz  # one per parameter: coefs, then intercepts
    assert len(L) == 6 and L[:3] == L[3:] and len(set(L[:3])) == 3
    assert clf.lipschitz_constant_ == L[2]
    assert clf.learning_rate_history_[-1] == pytest.approx(
        clf._train_state.rate_scale / L[2], rel=1e-12
    )


# -- the guard never hides a failure -----------------------------------------------


def test_paper_rule_that_learns_nothing_warns(cancer):
    """Old: accuracy 0.63 with 8 hidden units and no warning."""
    X, y = cancer
    clf = SymNetClassifier(hidden_layer_sizes=(8,), learning_rate="paper", random_state=0,
                           max_iter=30)
    with pytest.warns(ConvergenceWarning, match="no better than that of the constant predictor"):
        clf.fit(X, y)


def test_absurd_activation_warns(diabetes):
    """Old: arelu_n=50 gave R^2 -1.7e11 silently."""
    X, y = diabetes
    reg = SymNetRegressor(activation="arelu", arelu_n=50, random_state=0, max_iter=15)
    with pytest.warns(ConvergenceWarning, match="no better than that of the constant predictor"):
        reg.fit(X, y)


def test_many_halvings_warn(cancer):
    """A fit whose rate the guard divided by 2^10 or more says so."""
    X, y = cancer
    with _quiet():
        clf = SymNetClassifier(hidden_layer_sizes=(3,), random_state=0, max_iter=2).fit(X, y)
    state = clf._train_state
    state.halvings = 12
    with pytest.warns(ConvergenceWarning, match=r"halved 12 times \(divided by 4.1e\+03\)"):
        clf._warn_on_failure(state, const_loss=10.0)
    state.halvings = 9
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf._warn_on_failure(state, const_loss=10.0)


def test_predict_log_proba_is_finite_in_log_space(cancer):
    X, y = cancer
    with _quiet():
        clf = SymNetClassifier(hidden_layer_sizes=(5,), random_state=0, max_iter=5).fit(X, y)
        multi = SymNetClassifier(hidden_layer_sizes=(5,), random_state=0, max_iter=5).fit(
            X, y + (X[:, 0] > 1)
        )
    for model in (clf, multi):
        model.coefs_[-1] *= 1e4  # scores of order 1e4: probabilities round to 0
        logp = model.predict_log_proba(X)
        assert np.all(np.isfinite(logp))
        raw = model._raw(X)
        if raw.shape[1] == 1:
            raw = np.column_stack([np.zeros(len(X)), raw[:, 0]])
        ref = raw - np.max(raw, axis=1, keepdims=True)
        ref = ref - np.log(np.exp(ref).sum(axis=1, keepdims=True))
        np.testing.assert_allclose(logp, ref, rtol=1e-10, atol=1e-12)


# -- imbalance and weights -------------------------------------------------------------


def test_one_positive_in_five_thousand_is_found(one_in_five_thousand):
    """Old: every probability 0, log-probability -inf, AUC 0.5."""
    X, y = one_in_five_thousand
    with _quiet():
        clf = SymNetClassifier(random_state=0, max_iter=3).fit(X, y)
    p = clf.predict_proba(X)[:, 1]
    assert roc_auc_score(y, p) >= 0.95
    assert np.all(np.isfinite(clf.predict_log_proba(X)))
    assert max(clf.loss_curve_) <= clf.loss_curve_[0] * (1 + 1e-9)


def test_integer_sample_weight_equals_repeated_rows(cancer):
    X, y = cancer
    X, y = X[:120], y[:120]
    w = np.random.default_rng(0).integers(0, 4, 120)
    kw = dict(hidden_layer_sizes=(7,), random_state=0, max_iter=8, batch_size=10_000,
              shuffle=False)
    with _quiet():
        a = SymNetClassifier(**kw).fit(X, y, sample_weight=w)
        b = SymNetClassifier(**kw).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-7)


def test_class_weight_balanced_equals_its_sample_weights(cancer):
    X, y = cancer
    kw = dict(hidden_layer_sizes=(7,), random_state=0, max_iter=5)
    counts = np.bincount(y)
    sw = (len(y) / (2 * counts))[y]
    with _quiet():
        a = SymNetClassifier(class_weight="balanced", **kw).fit(X, y)
        b = SymNetClassifier(**kw).fit(X, y, sample_weight=sw)
        c = SymNetClassifier(class_weight={0: 2.0}, **kw).fit(X, y)
        d = SymNetClassifier(**kw).fit(X, y, sample_weight=np.where(y == 0, 2.0, 1.0))
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-7)
    np.testing.assert_allclose(c.predict_proba(X), d.predict_proba(X), rtol=1e-7)
    with pytest.raises(ValueError, match="class_weight has keys"):
        SymNetClassifier(class_weight={5: 1.0}).fit(X, y)


def test_sample_weight_routes_through_cross_validate(diabetes):
    X, y = diabetes
    w = np.where(np.arange(len(y)) % 3 == 0, 3.0, 1.0)
    kw = dict(hidden_layer_sizes=(5,), random_state=0, max_iter=3)
    with sklearn.config_context(enable_metadata_routing=True), _quiet():
        reg = SymNetRegressor(**kw).set_fit_request(sample_weight=True)
        reg.set_score_request(sample_weight=False)
        res = cross_validate(reg, X, y, cv=2, params={"sample_weight": w}, return_estimator=True)
        half = len(y) - len(y) // 2  # KFold: the first fold tests on the first half
        direct = SymNetRegressor(**kw).fit(X[half:], y[half:], sample_weight=w[half:])
        unweighted = SymNetRegressor(**kw).fit(X[half:], y[half:])
    np.testing.assert_allclose(res["estimator"][0].predict(X), direct.predict(X), rtol=1e-10)
    assert not np.allclose(direct.predict(X), unweighted.predict(X), rtol=1e-3)


def test_partial_fit_takes_weights_and_first_call_statistics(diabetes):
    X, y = diabetes
    reg = SymNetRegressor(hidden_layer_sizes=(5,), random_state=0)
    reg.partial_fit(X[:200], y[:200], sample_weight=np.ones(200))
    mean, scale = reg._y_mean.copy(), reg._y_scale.copy()
    reg.partial_fit(X[200:], y[200:] + 1000.0)
    np.testing.assert_array_equal(reg._y_mean, mean)
    np.testing.assert_array_equal(reg._y_scale, scale)
    assert mean[0] == pytest.approx(y[:200].mean()) and scale[0] == pytest.approx(y[:200].std())


# -- scale-free regression -------------------------------------------------------------


@pytest.mark.parametrize("scale", [1e-4, 1e-2, 1e3])
def test_regressor_is_scale_free(diabetes, scale):
    """Old: targets scaled by 1e-2 or less stopped after ~11 epochs, R^2 < 0."""
    X, y = diabetes
    with _quiet():
        ref = SymNetRegressor(hidden_layer_sizes=(20,), random_state=0, max_iter=30).fit(X, y)
        reg = SymNetRegressor(hidden_layer_sizes=(20,), random_state=0, max_iter=30).fit(
            X, y * scale
        )
    assert ref.score(X, y) > 0.4
    np.testing.assert_allclose(reg.predict(X), ref.predict(X) * scale, rtol=1e-6)


def test_normalize_y_off_trains_on_the_targets_given(diabetes):
    X, y = diabetes
    with _quiet():
        reg = SymNetRegressor(hidden_layer_sizes=(), normalize_y=False, max_iter=3).fit(X, y)
    assert reg._y_scale[0] == 1.0 and reg._y_mean[0] == 0.0
    assert reg.loss_ > 100  # in squared data units


def test_tiny_sbaf_k_is_a_value_error_naming_it(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="sbaf_k=1e-300 is too small"):
        SymNetClassifier(sbaf_k=1e-300, max_iter=2).fit(X, y)


def test_a_very_wide_layer_needs_no_dense_gram_matrix():
    """Old: an exact eigendecomposition of an (h+1) x (h+1) matrix every epoch
    (h = 20,000: a 3.2 GB matrix); the power iterations only touch A and W."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    y = X[:, 0] + 0.1 * rng.standard_normal(30)
    with _quiet():
        reg = SymNetRegressor(hidden_layer_sizes=(20_000,), activation="relu", max_iter=2,
                              random_state=0).fit(X, y)
    assert np.isfinite(reg.lipschitz_constant_) and reg.lipschitz_constant_ > 0
    assert np.all(np.isfinite(reg.predict(X)))


@pytest.mark.parametrize("bad, match", [(-1.0, "Negative values"), (np.nan, "NaN"),
                                        (0.0, "zero")])
def test_symnet_rejects_bad_sample_weights(bad, match):
    # the estimators share one weight check (sklipschitz._base)
    from sklipschitz import SymNetClassifier, SymNetRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    sw = np.full(20, bad)
    with pytest.raises(ValueError, match=match):
        SymNetRegressor(max_iter=2).fit(X, X.sum(axis=1), sample_weight=sw)
    with pytest.raises(ValueError, match=match):
        SymNetClassifier(max_iter=2).fit(X, X[:, 0] > 0, sample_weight=sw)
