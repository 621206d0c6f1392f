"""Silent failures found by benchmarks/bench_robustness.py in code other
helpers own: strict xfails, each with its cause, until the owner fixes it.

Each test states the outcome that is acceptable: a warning (or a ValueError
naming the problem), or a score near an sklearn reference."""

import warnings

import numpy as np
import pytest

from sklipschitz import SymNetClassifier


def _classification(n=300, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((d, 2)) * 2
    y = np.argmax(X @ W + 0.3 * rng.standard_normal((n, 2)), axis=1)
    return X, y


# LipschitzQuantileClassifier's cases live on in
# tests/linear_model/test_quantile_classifier_scales.py (fixed).


@pytest.mark.xfail(strict=True, reason=(
    "SymNetClassifier on features of scale 1e100: the guard's first statistics pass "
    "overflows (RuntimeWarning in the power iteration) and "
    "_engine/network_lipschitz.py:398 `self.power.vector(('A', k))` raises "
    "KeyError(('A', 0)) instead of a ValueError naming the scale of X"))
def test_symnet_classifier_huge_features_raises_clearly():
    X, y = _classification()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="X"):
            SymNetClassifier(hidden_layer_sizes=(8,), random_state=0).fit(X * 1e100, y)

