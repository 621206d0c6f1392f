"""LipschitzRegressorCV on features of scales far apart: the L1 penalty is not
scale invariant, the grid is set by the widest feature, and cross-validation
picks a model without the narrow ones; that must not be silent."""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklipschitz import LipschitzRegressorCV


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    y = X @ rng.standard_normal(5) + 0.3 * rng.standard_normal(200)
    return X, y


def test_scales_far_apart_warn_and_the_fit_is_poor():
    X, y = _data()
    Xs = X * [1e4, 1, 1, 1, 1]
    ref = LinearRegression().fit(Xs, y).score(Xs, y)
    match = "range from 0.941 to 8.99e\\+03: the L1 penalty is not scale invariant"
    with pytest.warns(UserWarning, match=match):
        est = LipschitzRegressorCV(cv=3).fit(Xs, y)
    # what the warning is about: on the default grid (alpha_max set by the
    # wide feature, eps=1e-3) the narrow features never enter
    assert est.score(Xs, y) < ref - 0.3
    assert np.all(est.coef_[1:] == 0)


def test_standardized_pipeline_is_quiet_and_matches_least_squares():
    X, y = _data()
    Xs = X * [1e4, 1, 1, 1, 1]
    ref = LinearRegression().fit(Xs, y).score(Xs, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        pipe = make_pipeline(StandardScaler(), LipschitzRegressorCV(cv=3)).fit(Xs, y)
    assert pipe.score(Xs, y) == pytest.approx(ref, abs=0.01)


def test_constant_and_sparse_columns_do_not_warn():
    import scipy.sparse as sp

    X, y = _data()
    Xc = np.column_stack([X, np.full(len(y), 5.0)])      # a constant column has no spread
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        LipschitzRegressorCV(alphas=[0.1, 0.01], cv=3).fit(Xc, y)
        LipschitzRegressorCV(alphas=[0.1, 0.01], cv=3).fit(sp.csr_matrix(X * [1e4, 1, 1, 1, 1]), y)
