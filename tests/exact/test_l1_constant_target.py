"""A constant target under an L1 / elastic-net penalty: the exact solver
returns ``w = 0``, ``b = y`` (every residual and gradient zero), certified and
without a warning, as ``ElasticNet`` does."""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import ElasticNet

from sklipschitz import LipschitzRegressor


@pytest.mark.parametrize("loss, penalty", [
    ("squared_error", "l1"), ("squared_error", "elasticnet"), ("log_cosh", "elasticnet"),
    ("quantile", "l1"), ("absolute_error", "l1"),
])
@pytest.mark.parametrize("level", [3.0, 1e6])
def test_constant_target_is_certified_at_once(loss, penalty, level):
    X = np.random.default_rng(0).normal(size=(100, 5))
    y = np.full(100, level)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = LipschitzRegressor(loss=loss, penalty=penalty, alpha=1e-6).fit(X, y)
    ref = ElasticNet(alpha=1e-6, l1_ratio=0.15).fit(X, y)
    assert est.certified_ and est.n_iter_ == 1
    np.testing.assert_array_equal(est.coef_, ref.coef_)
    assert est.intercept_ == ref.intercept_ == level


def test_constant_column_of_a_multi_output_target():
    X = np.random.default_rng(1).normal(size=(80, 4))
    Y = np.column_stack([np.full(80, -2.5), X[:, 0] + 0.1 * X[:, 1]])
    est = LipschitzRegressor(penalty="l1", alpha=1e-3).fit(X, Y)
    ref = [ElasticNet(alpha=1e-3, l1_ratio=1.0, tol=1e-12).fit(X, Y[:, j]) for j in range(2)]
    np.testing.assert_array_equal(est.coef_[0], 0.0)
    assert est.intercept_[0] == -2.5
    np.testing.assert_allclose(est.coef_[1], ref[1].coef_, atol=1e-8)
    assert est.certified_
