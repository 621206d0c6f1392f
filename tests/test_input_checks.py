"""The input checks of the estimators (sklipschitz._base): plain inputs skip
scikit-learn's validate_data, which would hand them back unchanged; every
other input still goes through it (its conversions, errors and warnings)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from sklipschitz import LipschitzQuantileClassifier, LipschitzRegressor
from sklipschitz._base import LipschitzEstimator

DTYPES = [np.float64, np.float32]


def _reference(est, X, y=None, reset=True):
    """What validate_data returns for the estimator's settings (a fresh clone
    with the same fitted width for ``reset=False``)."""
    ref = clone(est)
    if not reset:
        ref.n_features_in_ = est.n_features_in_
    args = (X,) if y is None else (X, y)
    return validate_data(ref, *args, reset=reset, accept_sparse=["csr", "csc"], dtype=DTYPES)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
def test_plain_inputs_come_back_unchanged_as_from_validate_data(dtype, order):
    rng = np.random.default_rng(0)
    X = np.asarray(rng.standard_normal((30, 4)), dtype=dtype, order=order)
    y = rng.integers(0, 3, 30)
    est = LipschitzQuantileClassifier()
    Xv, yv = est._validate_X_y(X, y, reset=True)
    Xr, yr = _reference(est, X, y)
    assert Xv is X and yv is y
    np.testing.assert_array_equal(Xv, Xr)
    np.testing.assert_array_equal(yv, yr)
    assert Xv.dtype == Xr.dtype and yv.dtype == yr.dtype
    assert est.n_features_in_ == 4
    assert est._validate_X(X, reset=False) is X


def test_inputs_that_validate_data_converts_are_converted():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((20, 3))
    est = LipschitzQuantileClassifier()
    est.n_features_in_ = 3
    for other in (X.astype(">f8"), X.astype(np.int64), X.tolist(), X.astype(np.float16)):
        out = est._validate_X(other, reset=False)
        ref = _reference(est, other, reset=False)
        assert out.dtype == ref.dtype and out.dtype.isnative
        np.testing.assert_array_equal(out, ref)
    # float targets: values kept
    y = np.arange(20.0) % 2
    Xv, yv = est._validate_X_y(X, y, reset=True)
    np.testing.assert_array_equal(yv, _reference(est, X, y)[1])


@pytest.mark.parametrize("bad, match", [(np.nan, "Input X contains NaN"),
                                        (np.inf, "Input X contains infinity")])
def test_non_finite_inputs_raise_validate_datas_errors(bad, match):
    X, y = load_iris(return_X_y=True)
    est = LipschitzQuantileClassifier(max_iter=5).fit(X, y)
    Xb = X.copy()
    Xb[3, 1] = bad
    with pytest.raises(ValueError, match=match):
        LipschitzQuantileClassifier().fit(Xb, y)
    with pytest.raises(ValueError, match=match):
        est.predict(Xb)
    # finite values whose sum overflows are finite: accepted
    Xo = np.full((4, 4), 1e308)
    assert est._validate_X(Xo, reset=False) is Xo
    yb = y.astype(float)
    yb[0] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        LipschitzQuantileClassifier().fit(X, yb)


def test_width_and_feature_names_are_still_checked():
    X, y = load_iris(return_X_y=True)
    est = LipschitzQuantileClassifier(max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but LipschitzQuantileClassifier "
                                         "is expecting 4 features as input"):
        est.predict(X[:, :3])
    with pytest.raises(ValueError, match="Found input variables with inconsistent numbers"):
        LipschitzQuantileClassifier().fit(X, y[:-1])
    frame = pd.DataFrame(X, columns=list("abcd"))
    named = LipschitzQuantileClassifier(max_iter=5).fit(frame, y)
    assert list(named.feature_names_in_) == list("abcd")
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        named.predict(X)
    # refitted on an array, the names of the previous fit are dropped
    named.fit(X, y)
    assert not hasattr(named, "feature_names_in_")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        named.predict(X)
    # regressors validate their multi-output targets as before
    reg = LipschitzRegressor(max_iter=5).fit(X, X[:, 0])
    assert reg.n_features_in_ == 4


def test_label_checks_of_the_quantile_classifier():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((40, 3))
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        LipschitzQuantileClassifier().fit(X, rng.standard_normal(40))
    # integer labels, more than half of them distinct: scikit-learn's own
    # check warns (from version 1.7 on; 1.6 is silent), and so does the fit
    y = np.arange(40) % 25
    with warnings.catch_warnings(record=True) as expected:
        warnings.simplefilter("always")
        check_classification_targets(y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LipschitzQuantileClassifier(max_iter=2).fit(X, y)
    messages = [str(w.message) for w in caught]
    assert all(str(w.message) in messages for w in expected)
    # integer labels of two classes: no warning, the classes found
    y2 = (X[:, 0] > 0).astype(np.int32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = LipschitzQuantileClassifier().fit(X, y2)
    assert not [w for w in caught if "unique classes" in str(w.message)]
    np.testing.assert_array_equal(est.classes_, [0, 1])


def test_parameter_names_are_read_once_per_class():
    names = LipschitzQuantileClassifier._get_param_names()
    assert names == sorted(LipschitzQuantileClassifier().get_params(deep=False))
    assert "quantile_grid" in names and "average" not in names
    assert "average" in LipschitzRegressor._get_param_names()

    class Narrow(LipschitzEstimator):
        def __init__(self, a=1, b=2):
            self.a, self.b = a, b

    assert Narrow._get_param_names() == ["a", "b"]
    assert Narrow().get_params() == {"a": 1, "b": 2}
    assert clone(Narrow(a=5)).a == 5
    Narrow._get_param_names().append("c")  # a copy: the names stay
    assert Narrow._get_param_names() == ["a", "b"]
