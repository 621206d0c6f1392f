"""Edge cases of the block sources: bad shapes, unknown dask chunks, empty
data, and entries of extreme magnitude (the Gram matrix is then formed from
``X / c``), each against the in-memory behaviour."""

import numpy as np
import pytest

from sklipschitz import LipschitzRegressor
from sklipschitz._engine.lipschitz import gram_top_eigenvalue
from sklipschitz._exact.blocked import as_source, check_blocks, gram_top


def test_empty_blocked_inputs_raise():
    for shape, what in (((0, 3), "0 sample"), ((5, 0), "0 feature")):
        src = as_source(np.zeros(shape), block_rows=2)
        with pytest.raises(ValueError, match=what):
            check_blocks(src, np.ones(shape[0]), True)


def test_blocked_input_must_be_two_dimensional():
    with pytest.raises(ValueError, match="2D array"):
        as_source(np.zeros(6), block_rows=2)


@pytest.mark.parametrize("scale", [1e150, 1e-150])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gram_top_of_extreme_entries_matches_in_memory(scale, fit_intercept):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3)) * scale
    s = rng.uniform(0.5, 2.0, 50)
    c = float(2.0 ** np.round(np.log2(scale)))
    top = gram_top(as_source(X, block_rows=7), s, fit_intercept, c=c)
    # reference: the same eigenvalue from X / c, in memory, times c^2
    Xt = X / c
    if fit_intercept:
        Xt = np.hstack([Xt, np.full((50, 1), 1.0 / c)])
    G = Xt.T @ (Xt * (s / s.sum())[:, None])
    ref = np.linalg.eigvalsh(G)[-1] * c * c
    assert top == pytest.approx(ref, rel=1e-10)
    if scale < 1:  # representable: also the engine's in-memory constant
        assert top == pytest.approx(gram_top_eigenvalue(X, s, fit_intercept), rel=1e-10)


def test_blocked_fit_of_huge_entries_equals_in_memory_fit():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(200)
    ref = LipschitzRegressor().fit(X * 1e150, y)
    blocked = LipschitzRegressor(block_rows=37).fit(X * 1e150, y)
    np.testing.assert_allclose(blocked.coef_, ref.coef_, rtol=1e-9)
    assert blocked.certified_ and ref.certified_


def test_dask_inputs_of_wrong_shape_or_unknown_chunks_raise():
    da = pytest.importorskip("dask.array")
    with pytest.raises(ValueError, match="2D dask array"):
        as_source(da.zeros(10, chunks=5))
    X = da.from_array(np.arange(20.0).reshape(10, 2), chunks=(5, 2))
    X = X[X[:, 0] > 3]          # a boolean selection: row counts unknown
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        as_source(X)
