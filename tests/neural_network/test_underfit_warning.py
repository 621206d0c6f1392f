"""A network that fits its training data much worse than a plain linear model
has stalled; that must not be silent (deep A-ReLU stacks on breast cancer
stall near the majority class)."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sklipschitz import SymNetClassifier, SymNetRegressor


@pytest.fixture(scope="module")
def breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_stalled_deep_network_warns(breast_cancer):
    X, y = breast_cancer
    linear = LogisticRegression().fit(X, y).score(X, y)
    with pytest.warns(ConvergenceWarning, match="worse than a linear model"):
        clf = SymNetClassifier(hidden_layer_sizes=(32,) * 6, activation="arelu",
                               random_state=0).fit(X, y)
    # the warning is true: the network is far below the linear model
    assert clf.score(X, y) < linear - 0.1


def test_network_that_learns_is_quiet(breast_cancer):
    X, y = breast_cancer
    linear = LogisticRegression().fit(X, y).score(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = SymNetClassifier(hidden_layer_sizes=(32, 32, 32), activation="relu",
                               random_state=0).fit(X, y)
    assert clf.score(X, y) >= linear - 0.01


# -- a regressor stopped while its residuals still depend on X ----------------------


def _sine(n=600):
    x = np.random.default_rng(1).uniform(-3, 3, n)
    y = np.sin(3 * x) + 0.1 * np.random.default_rng(0).standard_normal(n)
    return StandardScaler().fit_transform(x[:, None]), y


def test_residual_structure_measures_what_x_still_explains():
    """Residuals that are a smooth function of X plus noise: the share is
    that function's part of the targets' variance (sin on [-3, 3] has
    variance about 1/2, the noise 0.01: 0.98); residuals that are noise:
    about 0.  The nearest neighbours' out-of-fold fit is close to these
    closed forms on 1,000 rows of one feature."""
    from sklipschitz._symnet_base import _residual_structure

    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, (1000, 1))
    f = np.sin(X[:, 0])
    Y = (f + 0.1 * rng.standard_normal(1000))[:, None]
    expected = np.var(f) / np.var(Y)
    share = _residual_structure(X, Y, lambda Xr: np.zeros((Xr.shape[0], 1)), None)
    assert share == pytest.approx(expected, abs=0.02)
    noise = _residual_structure(X, Y, lambda Xr: np.sin(Xr), None)
    assert -0.02 < noise < 0.005
    # weights: rows of weight 0 are left out, too few rows cannot be judged
    sw = np.zeros(1000)
    sw[:50] = 1.0
    assert _residual_structure(X, Y, lambda Xr: np.zeros((Xr.shape[0], 1)), sw) is None


def test_regressor_stopped_early_on_a_slow_problem_warns():
    """The default SymNetRegressor on sin(3x) of one feature: the plateau rule
    ends the fit at training R^2 about 0.15, where a nearest-neighbour fit of
    the residuals still explains most of them.  That must not be silent; the
    advice of the message (optimizer='adam') fits it."""
    X, y = _sine()
    with pytest.warns(ConvergenceWarning, match="residuals still depend on X"):
        reg = SymNetRegressor(random_state=0).fit(X, y)
    assert reg.n_iter_ < reg.max_iter and reg.score(X, y) < 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        adam = SymNetRegressor(optimizer="adam", random_state=0).fit(X, y)
    assert adam.score(X, y) > 0.9


def test_regressor_that_fits_is_quiet_about_residuals():
    """Friedman #1 (noise 1): the fitted network's residuals are noise to the
    neighbours; no warning.  Nor with early stopping, whose validation score
    decides when to stop."""
    X, y = make_friedman1(1000, noise=1.0, random_state=0)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = SymNetRegressor(random_state=0).fit(X, y)
        SymNetRegressor(early_stopping=True, random_state=0).fit(*_sine())
    assert reg.score(X, y) > 0.85


def test_classifier_at_chance_on_digits_warns():
    """Six A-ReLU layers of 32 on digits (a fold of the deep benchmark):
    training accuracy 0.10, chance, and a loss just below the constant
    predictor's, so neither the constant check nor the linear one (too few
    rows per weight of a 10-class linear model on 64 features) spoke.  The
    residuals of the predicted probabilities are what a nearest-neighbour
    fit of X still explains: warned; six relu layers, which fit, are quiet."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import StratifiedKFold

    X, y = load_digits(return_X_y=True)
    tr = next(iter(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y)))[0]
    X, y = StandardScaler().fit_transform(X[tr]), y[tr]
    with pytest.warns(ConvergenceWarning, match="residuals still depend on X"):
        clf = SymNetClassifier(hidden_layer_sizes=(32,) * 6, activation="arelu",
                               random_state=0).fit(X, y)
    assert clf.n_iter_ < clf.max_iter and clf.score(X, y) < 0.2
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        relu = SymNetClassifier(hidden_layer_sizes=(32,) * 6, activation="relu",
                                random_state=0).fit(X, y)
    assert relu.score(X, y) > 0.95


def test_a_fit_at_the_constant_predictor_warns_once():
    """Six A-ReLU layers on the third digits fold end no better than the
    constant predictor: that warning, and not the residual one as well."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import StratifiedKFold

    X, y = load_digits(return_X_y=True)
    tr = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))[2][0]
    X, y = StandardScaler().fit_transform(X[tr]), y[tr]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SymNetClassifier(hidden_layer_sizes=(32,) * 6, activation="arelu",
                         random_state=0).fit(X, y)
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(messages) == 1 and "no better than that of the" in messages[0]
