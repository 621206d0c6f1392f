"""Data shared by the linear models' tests."""

import numpy as np
import pytest


@pytest.fixture(scope="session")
def rare_positive():
    """1 positive in 5,000 standard-normal rows of 5 features, shifted by 3 in
    every feature: a classifier that settles on "all negative" ranks it
    anywhere."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5000, 5))
    X[0] += 3.0
    y = np.zeros(5000, dtype=int)
    y[0] = 1
    return X, y
