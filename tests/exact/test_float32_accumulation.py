"""Reductions over many float32 rows accumulate in float64.

The data: a float32 column of mean 1e3 and standard deviation 1 over 2^20
rows (values 999, 1001 alternating, exactly representable), whose weighted
means and centred sums are known in closed form.  A float32 running sum
over the rows reaches 1e9, where the float32 spacing is 64: it loses about
a unit of the mean.
"""

import tracemalloc

import numpy as np
import pytest

from sklipschitz._engine import network_lipschitz as nl
from sklipschitz._exact.design import Design

N = 1 << 20


@pytest.fixture(scope="module")
def X32():
    X = np.empty((N, 2), dtype=np.float32)
    X[:, 0] = np.where(np.arange(N) % 2 == 0, 999.0, 1001.0)
    X[:, 1] = 0.25
    return X


def test_column_means_of_float32_rows_are_float64_accurate(X32):
    expected = np.array([1000.0, 0.25])
    np.testing.assert_allclose(nl.column_means(X32, 1.0 / N), expected, rtol=1e-12)
    # weights 1 on the even rows and 3 on the odd ones: mean (999 + 3 1001) / 4
    w = np.where(np.arange(N) % 2 == 0, 1.0, 3.0)
    w /= w.sum()
    np.testing.assert_allclose(nl.column_means(X32, w), [1000.5, 0.25], rtol=1e-12)


def test_column_means_keep_no_float64_copy_of_the_rows(X32):
    w = np.full(N, 1.0 / N)
    tracemalloc.start()
    try:
        nl.column_means(X32, w)
        nl.column_means(X32, 1.0 / N)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < X32.nbytes // 4


def test_design_of_float32_rows_centres_and_sums_in_float64(X32):
    sn = np.full(N, 1.0 / N)
    des = Design(X32, sn, fit_intercept=True, uniform=True)
    np.testing.assert_allclose(des.xbar, [1000.0, 0.25], rtol=1e-12)
    # the centred column is +-1: variance 1; the constant column has no direction
    assert des.rank == 1
    np.testing.assert_allclose(des.g, [1.0], rtol=1e-9)
    # [X_c, 1]' diag(v) [X_c, 1] with v = sn * (1 on the odd rows, 3 on the even)
    v = sn * np.where(np.arange(N) % 2 == 0, 3.0, 1.0)
    tracemalloc.start()
    try:
        H = des.aug_gram(v)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # in whitened coordinates the centred column is z = -+1 (sign of V)
    s = float(np.sign(des.V[0, 0]))
    np.testing.assert_allclose(H, [[2.0, s * -1.0], [s * -1.0, 2.0]], rtol=1e-9)
    # (the weights' square roots are one float64 n-vector, X32.nbytes here;
    # a float64 copy of X would be twice X32.nbytes)
    assert peak < 1.5 * X32.nbytes


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_paper_weight_bound_of_float32_rows(X32, fit_intercept):
    # K = (sum of the column means + mean of the column maxima) / 2 (LipschitzLR 8.1),
    # the bias column of ones included with an intercept
    from sklipschitz._engine.lipschitz import paper_weight_bound

    if fit_intercept:
        expected = ((1.0 + 1000.0 + 0.25) + (1.0 + 1001.0 + 0.25) / 3) / 2
    else:
        expected = ((1000.0 + 0.25) + (1001.0 + 0.25) / 2) / 2
    # (the maxima are float32 values, their mean of 2 or 3 is float32: 1e-7)
    assert paper_weight_bound(X32, fit_intercept) == pytest.approx(expected, rel=1e-6)
