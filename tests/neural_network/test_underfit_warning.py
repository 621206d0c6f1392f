"""A network that fits its training data much worse than a plain linear model
has stalled; that must not be silent (deep A-ReLU stacks on breast cancer
stall near the majority class)."""

import warnings

import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sklipschitz import SymNetClassifier


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
