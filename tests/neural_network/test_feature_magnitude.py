"""Features so large that a network's constants overflow raise a ValueError
naming the scale of X (they ended in a KeyError deep in the power
iterations); features below the limit still fit, with the warnings of an
unscaled fit."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklipschitz import SymNetClassifier, SymNetRegressor


def _data(n=300, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.argmax(X @ rng.standard_normal((d, 2)) * 2, axis=1)
    return X, y


@pytest.mark.parametrize("Est", [SymNetClassifier, SymNetRegressor])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_fourth_powers_that_overflow_raise(Est, method):
    X, y = _data()
    # (largest float64 / 300 rows) ** (1/4) = 1.56e76
    limit = (np.finfo(np.float64).max / 300) ** 0.25
    est = Est(hidden_layer_sizes=(8,), random_state=0)
    kwargs = {"classes": [0, 1]} if method == "partial_fit" and Est is SymNetClassifier else {}
    Xh = X / np.max(np.abs(X)) * 1e100
    with pytest.raises(ValueError, match=r"magnitude 1e\+100: .*4th powers over 300 samples "
                                         r"overflow float64 \(largest magnitude that fits: "
                                         + f"{limit:.3g}".replace("+", r"\+")):
        getattr(est, method)(Xh, y.astype(float), **kwargs)


def test_below_the_limit_fits_and_warns():
    X, y = _data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = SymNetClassifier(hidden_layer_sizes=(8,), random_state=0).fit(X * 1e70, y)
    assert np.all(np.isfinite(est.predict_proba(X * 1e70)))
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught)
