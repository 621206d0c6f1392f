"""Constant targets: a fitted SymNetRegressor predicts them exactly (as
DummyRegressor does), without a warning; an output whose target is constant
gets zero weights and the value as its intercept."""

import warnings

import numpy as np
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score

from sklipschitz import SymNetRegressor


@pytest.mark.parametrize("level", [0.0, 1e-6, 3.0, 1e6])
@pytest.mark.parametrize("params", [{}, {"normalize_y": False}, {"loss": "absolute_error"},
                                    {"batch_size": 32}])
def test_constant_target_is_predicted_exactly(level, params):
    X = np.random.default_rng(0).normal(size=(120, 4))
    y = np.full(120, level)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SymNetRegressor(hidden_layer_sizes=(16,), random_state=0, **params).fit(X, y)
    ref = DummyRegressor().fit(X, y)
    np.testing.assert_array_equal(model.predict(X), y)
    np.testing.assert_allclose(model.predict(X), ref.predict(X), rtol=1e-15)
    np.testing.assert_array_equal(model.coefs_[-1], 0.0)


def test_constant_column_of_several_targets():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 4))
    Y = np.column_stack([np.full(300, -2.5), np.sin(X[:, 0]) + X[:, 1] ** 2])
    model = SymNetRegressor(hidden_layer_sizes=(32,), random_state=0).fit(X, Y)
    pred = model.predict(X)
    np.testing.assert_array_equal(pred[:, 0], -2.5)
    np.testing.assert_array_equal(model.coefs_[-1][:, 0], 0.0)
    linear = LinearRegression().fit(X, Y[:, 1]).predict(X)
    # the other output is still learned (better than a linear model)
    assert r2_score(Y[:, 1], pred[:, 1]) > r2_score(Y[:, 1], linear) + 0.2
