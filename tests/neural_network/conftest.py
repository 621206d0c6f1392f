"""Data shared by the network tests."""

import numpy as np
import pytest


@pytest.fixture(scope="session")
def one_in_five_thousand():
    """1 positive (row 17) in 5,000 standard-normal rows of 5 features,
    shifted by 3 in every feature."""
    rng = np.random.RandomState(0)
    X = rng.standard_normal((5000, 5))
    y = np.zeros(5000, dtype=int)
    y[17] = 1
    X[17] += 3.0
    return X, y
