"""The exact solver on X read by row blocks: the same fits as in memory.

``ArrayBlocks`` (a memory map, or any array) and ``DaskBlocks`` (a dask
array) run the same passes of ``Design`` block by block; the result must be
the in-memory solution (to round-off), with the same certificate, for every
loss, with weights (zeros included: a blocked fit keeps those rows at weight
0, the in-memory one drops them), an uneven last block and a block of one
row.  The pass counter is checked against an array that counts its reads.
"""

import numpy as np
import pytest

import tracemalloc

from sklipschitz._engine.losses import AbsoluteError, HalfSquaredError, Huber, LogCosh, PinballLoss
from sklipschitz._exact import solve_linear
from sklipschitz._exact.blocked import ArrayBlocks, as_source, check_blocks
from sklipschitz._engine.lipschitz import gram_top_eigenvalue, mean_row_norm

from exact_refs import lp_quantile_objective, pinball_objective

LOSSES = [HalfSquaredError(), AbsoluteError(), PinballLoss(0.8), LogCosh(), Huber(1.5)]
N, D = 401, 4       # blocks of 100 rows: the last one holds one row


def _data(seed=0, n=N, d=D):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 3, d) + rng.uniform(-1, 1, d)
    y = X @ rng.standard_normal(d) + 1 + rng.standard_t(3, n)
    sw = rng.uniform(0, 2, n)
    sw[::17] = 0.0
    return X, y, sw


def _same(sol, ref, rtol=1e-9):
    assert sol.certified == ref.certified
    assert sol.converged == ref.converged
    F, F_ref = sol.loss_curve[-1], ref.loss_curve[-1]
    assert F == pytest.approx(F_ref, rel=rtol)
    np.testing.assert_allclose(sol.coef, ref.coef, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(sol.intercept, ref.intercept, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda l: l.name)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("alpha", [0.0, 0.05])
def test_blocks_give_the_in_memory_fit(loss, weighted, alpha):
    X, y, sw = _data()
    s = sw if weighted else None
    ref = solve_linear(X, y, loss, s, alpha=alpha)
    assert ref.certified
    sol = solve_linear(ArrayBlocks(X, 100), y, loss, s, alpha=alpha)
    _same(sol, ref)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda l: l.name)
def test_float32_blocks_no_intercept_two_outputs(loss):
    X, y, sw = _data(1)
    X = X.astype(np.float32)
    Y = np.column_stack([y, -0.5 * y + X[:, 0]]).astype(np.float32)
    ref = solve_linear(X, Y, loss, sw, fit_intercept=False)
    sol = solve_linear(ArrayBlocks(X, 64), Y, loss, sw, fit_intercept=False)
    assert sol.coef.dtype == np.float32
    _same(sol, ref, rtol=1e-7)


def test_blocked_quantile_fit_is_the_lp_optimum():
    X, y, sw = _data(2)
    sol = solve_linear(ArrayBlocks(X, 1), y, PinballLoss(0.3), sw)
    assert sol.certified
    ours = pinball_objective(X, y, sol.coef, sol.intercept, 0.3, sw)
    assert ours == pytest.approx(lp_quantile_objective(X, y, 0.3, sw), rel=1e-10)


def test_extreme_magnitude_blocks_are_rescaled():
    X, y, _ = _data(3)
    ref = solve_linear(X * 2.0 ** 400, y, PinballLoss(0.6), None)
    src = ArrayBlocks(X * 2.0 ** 400, 50)
    sol = solve_linear(src, y, PinballLoss(0.6), None)
    assert sol.certified and src.scale == 1.0   # the rescaling is undone
    np.testing.assert_allclose(sol.coef, ref.coef, rtol=1e-9)


class CountingRows:
    """An array that counts its reads: slices from row 0 (one per pass) and
    fancy-index gathers."""

    def __init__(self, X):
        self.X, self.shape, self.dtype = X, X.shape, X.dtype
        self.first_block_reads = self.gathers = 0

    def __getitem__(self, key):
        if isinstance(key, slice):
            self.first_block_reads += key.start in (0, None)
        else:
            self.gathers += 1
        return self.X[key]


@pytest.mark.parametrize("loss", LOSSES, ids=lambda l: l.name)
def test_n_passes_counts_the_reads(loss):
    X, y, _ = _data(4)
    arr = CountingRows(X)
    src = as_source(arr, block_rows=150)
    sol = solve_linear(src, y, loss, None)
    assert sol.n_passes == arr.first_block_reads + arr.gathers
    # in memory: the same solver passes plus the magnitude check
    ref = solve_linear(X, y, loss, None)
    assert ref.n_passes >= 3


def test_check_blocks_matches_the_in_memory_constants():
    X, y, sw = _data(5)
    for fi in (True, False):
        lo, hi, norm, top = check_blocks(ArrayBlocks(X, 7), sw, fi, gram=True)
        assert (lo, hi) == (X.min(), X.max())
        assert norm == pytest.approx(mean_row_norm(X, sw, fi), rel=1e-12)
        assert top == pytest.approx(gram_top_eigenvalue(X, sw, fi), rel=1e-12)


def test_check_blocks_names_the_block_with_nan():
    X, y, sw = _data(6)
    X[250, 2] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinity \(1 entries; the first in the "
                                         r"row block 200:300\)"):
        check_blocks(ArrayBlocks(X, 100), sw, True)
    X[250, 2] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        check_blocks(ArrayBlocks(X, 100), sw, True)


def test_take_returns_rows_in_the_order_asked():
    X = np.arange(60.0).reshape(20, 3)
    src = ArrayBlocks(X, 6)
    idx = np.array([19, 0, 7, 7, 13])
    np.testing.assert_array_equal(src.take(idx), X[idx])
    assert src.take(np.array([], dtype=int)).shape == (0, 3)


def test_as_source_routes():
    X = np.zeros((5, 2))
    assert as_source(X) is None                        # in memory
    assert isinstance(as_source(X, block_rows=2), ArrayBlocks)
    with pytest.raises(ValueError, match="Expected a 2D array X"):
        as_source(np.zeros(5), block_rows=2)


def test_huber_newton_system_without_the_outside_rows_out_of_core(monkeypatch):
    """Out of core, the rows outside the quadratic set are gathered only while
    their copy is small next to X; otherwise the Newton system is the Gram
    matrix of one pass: the same fit either way."""
    from sklipschitz._exact import huber

    X, y, sw = _data(4)
    ref = solve_linear(X, y, Huber(1.0), sw, alpha=0.01)
    monkeypatch.setattr(huber, "_ROWS_SHARE", 0.0)
    sol = solve_linear(ArrayBlocks(X, 64), y, Huber(1.0), sw, alpha=0.01)
    assert ref.certified
    _same(sol, ref)


@pytest.mark.parametrize("loss", [PinballLoss(0.3), LogCosh()], ids=lambda l: l.name)
def test_equal_weights_as_a_zero_stride_vector(loss):
    """Equal weights given as one number seen as a vector (np.broadcast_to)
    are the unweighted fit, in memory and by blocks."""
    X, y, _ = _data(5)
    ref = solve_linear(X, y, loss, None)
    w = np.broadcast_to(2.5, (X.shape[0],))
    _same(solve_linear(X, y, loss, w), ref)
    _same(solve_linear(ArrayBlocks(X, 50), y, loss, w), ref)


@pytest.mark.parametrize("loss", [PinballLoss(0.9), LogCosh(), Huber(1.5)], ids=lambda l: l.name)
def test_blocked_fit_allocates_less_than_x(loss):
    """The traced peak of a fit by row blocks (float32 X, with weights) stays
    below the size of X: no copy of X in any dtype, a handful of n-vectors
    (the memory-map target of issue 17; about 0.8 X for the quantile loss
    at this size, less at larger ones)."""
    rng = np.random.default_rng(0)
    n, d = 200_000, 20
    X = (rng.standard_normal((n, d)) * rng.uniform(0.5, 3, d)).astype(np.float32)
    y = (X @ rng.standard_normal(d) + 1 + rng.standard_t(2, n)).astype(np.float32)
    sw = rng.uniform(0.5, 2, n)
    tracemalloc.start()
    try:
        sol = solve_linear(ArrayBlocks(X, 20_000), y, loss, sw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sol.certified
    assert peak < X.nbytes
