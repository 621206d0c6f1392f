"""Constants in centred coordinates: cases built for the mutants that
survived the run on the functions changed since the whole-core run
(docs/testing.md, "Mutation testing"): row norms of long designs, the
centred Gram matrix with an intercept, huge entries and the Lanczos branch,
the fallbacks of ``distance_scale`` and ``steps.scale`` of per-column factors.
References are explicit NumPy centring, ``eigvalsh``/SVD and hand values."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklipschitz._engine import lipschitz as lip
from sklipschitz._engine.steps import scale


def centred_top(X, sw, offset, fit_intercept):
    Z = np.asarray(X, dtype=np.float64) - offset
    if fit_intercept:
        Z = np.hstack([Z, np.ones((Z.shape[0], 1))])
    Zw = Z * np.sqrt(sw)[:, None]
    return np.linalg.svd(Zw, compute_uv=False)[0] ** 2 / sw.sum()


def test_row_sq_norms_of_more_rows_than_one_block():
    # 9000 rows: more than two blocks of 4096, every row written
    rng = np.random.default_rng(0)
    X = rng.normal(size=(9000, 2)) + 3.0
    o = np.array([1.0, -2.0])
    np.testing.assert_allclose(lip._row_sq_norms(X, o), ((X - o) ** 2).sum(axis=1), rtol=1e-12)


def test_centred_gram_with_an_intercept_and_any_offset():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 3)) * [1.0, 3.0, 0.5] + [2.0, -1.0, 4.0]
    sw = rng.uniform(0.5, 2.0, size=30)
    o = np.array([0.5, 1.0, -2.0])  # not the column means
    for fi in (True, False):
        got = lip.gram_top_eigenvalue(X, sw, fi, offset=o)
        assert got == pytest.approx(centred_top(X, sw, o, fi), rel=1e-10)


def test_centred_gram_of_huge_entries():
    # entries near 1e120: the Gram matrix of X / c with the offset / c, times c^2
    rng = np.random.default_rng(2)
    X = rng.normal(size=(12, 2)) * 1e120 + 3e120
    sw = np.ones(12)
    o = np.array([1e120, -2e120])
    for fi in (True, False):
        got = lip.gram_top_eigenvalue(X, sw, fi, offset=o)
        assert got == pytest.approx(centred_top(X, sw, o, fi), rel=1e-10)


def test_lanczos_branch_with_an_offset():
    # 2001 features: the implicit operator of [X - o, 1]
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 2001)) + 1.0
    sw = rng.uniform(0.5, 2.0, size=40)
    o = rng.normal(size=2001) * 0.5
    for fi in (True, False):
        ref = centred_top(X, sw, o, fi)
        got = lip.gram_top_eigenvalue(X, sw, fi, offset=o)
        assert ref <= got <= ref * 1.0011


def test_lanczos_branch_converges_on_a_clustered_spectrum():
    # diagonal design: eigenvalues d_j^2 / n spread evenly over [1, 2] / n,
    # the top one found to the tolerance, then the 0.1% margin
    n = 2001
    d2 = np.linspace(1.0, 2.0, n)
    X = sp.diags(np.sqrt(d2)).tocsr()
    got = lip.gram_top_eigenvalue(X, np.ones(n), False)
    assert 2.0 / n <= got <= 2.0 / n * 1.0011


def test_distance_scale_fallbacks_of_a_constant_target():
    X = np.array([[1.0], [3.0]])  # mean square of [x, 1]: (5 + 1) / 2 = 3
    s = np.sqrt(3.0)
    # y = 0.25 everywhere, started at 0.25: d is the mean |y|, 0.25
    y = np.full((2, 1), 0.25)
    assert lip.distance_scale(X, y, np.ones(2), 0.25, True) == pytest.approx(0.25 / s)
    # y = 0 everywhere: d is 1
    y0 = np.zeros((2, 1))
    assert lip.distance_scale(X, y0, np.ones(2), 0.0, True) == pytest.approx(1.0 / s)


def test_distance_scale_of_one_column_and_of_a_zero_design():
    y = np.array([[1.0], [-1.0]])  # mean |y - 0| = 1
    # one column without intercept: s = rms of x = sqrt((1 + 9) / 2)
    got = lip.distance_scale(np.array([[1.0], [3.0]]), y, np.ones(2), 0.0, False)
    assert isinstance(got, float)
    assert got == pytest.approx(1.0 / np.sqrt(5.0))
    # zero design without intercept: s falls back to 1
    assert lip.distance_scale(np.zeros((2, 2)), y, np.ones(2), 0.0, False) == 1.0


def test_distance_scale_one_value_per_column():
    X = np.array([[1.0], [3.0]])
    Y = np.array([[1.0, 2.0], [-1.0, 6.0]])  # deviations from [0, 4]: 1 and 2
    got = lip.distance_scale(X, Y, np.ones(2), np.array([0.0, 4.0]), False)
    np.testing.assert_allclose(got, np.array([1.0, 2.0]) / np.sqrt(5.0))


def test_scale_by_per_column_factors():
    np.testing.assert_array_equal(scale(0.5, np.array([1.0, 2.0])), [0.5, 1.0])
    np.testing.assert_array_equal(scale(0.5, np.array([1.0, 1.0])), [0.5, 0.5])
    np.testing.assert_array_equal(scale(np.array([0.5, 2.0]), np.array([1.0, 1.0])), [0.5, 2.0])
