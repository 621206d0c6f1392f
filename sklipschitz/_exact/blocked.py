"""Row-block sources: ``X`` read block by block for the passes of the exact solver.

A :class:`~sklipschitz._exact.design.Design` built on a source never holds
``X``: each pass applies a function to every row block and adds up (or
concatenates) the per-block results; the finish gathers its few kept rows
with :meth:`BlockSource.take`.  Two sources share this interface:

* :class:`ArrayBlocks` -- a ``numpy.memmap`` (or any array sliced by rows,
  e.g. when the user sets ``block_rows``): the blocks are read in turn, so
  only one block is in memory (as float64 at most) at a time.
* :class:`DaskBlocks` -- a ``dask.array``: every pass is one dask
  computation of per-block partials (one task per block, ``dask.compute``
  once per pass) on whatever scheduler is active; the partials (``d x d``
  matrices, ``d``-vectors, or the block's slice of an ``n``-vector) are
  combined locally.  dask is imported lazily, only for dask inputs.

The ``n``-length vectors of the solver (targets, weights, residuals) are
in memory; only ``X`` (``n x d``) stays out of core.

:func:`as_source` decides the route, :func:`check_blocks` is the input check
of a source (one pass: shapes, dtype, NaN/inf, the magnitude of the entries
and the mean row norm of the Lipschitz constant).
"""

from __future__ import annotations

import copy
import functools

import numpy as np

__all__ = ["ArrayBlocks", "BlockSource", "DaskBlocks", "as_source", "check_blocks",
           "constant_if_equal", "gram_top", "is_dask_array", "BLOCK_BYTES"]

#: target size of a block of a memory-mapped X (bytes, in X's dtype)
BLOCK_BYTES = 16 << 20
#: n-vectors of at least this size (bytes) are scattered to a distributed
#: cluster's workers rather than sent inside the task graph
SCATTER_BYTES = 1 << 20
#: rows converted to float64 at a time inside a block, and the rows of the
#: pieces a dask block is reduced in (:class:`_InCache`): the temporaries
#: stay in cache and small, whatever the block size -- below the allocator's
#: mmap threshold (128 kB), which dask workers pin with
#: ``MALLOC_TRIM_THRESHOLD_``: larger ones are mapped and unmapped, page
#: faults and all, at every allocation
SUB_ROWS = 8192


def is_dask_array(X):
    """True for a ``dask.array.Array`` (without importing dask)."""
    return type(X).__module__.startswith("dask.") and hasattr(X, "chunks") \
        and hasattr(X, "to_delayed")


def _working_dtype(dtype):
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def constant_if_equal(v):
    """``v`` as a zero-stride vector when all its entries are equal (the
    default weights): a block task then gets one number, not its slice of
    an n-vector (on a cluster: not shipped to the workers)."""
    if v.ndim == 1 and v.size > 1 and not is_constant_vector(v) and v[0] == v[-1] \
            and bool(np.all(v == v[0])):
        return np.broadcast_to(v[0], v.shape)
    return v


def is_constant_vector(v):
    """Whether ``v`` is a 1-D array of one value repeated by a zero stride
    (``np.broadcast_to``): equal weights held as one number."""
    return isinstance(v, np.ndarray) and v.ndim == 1 and v.size > 1 and v.strides == (0,)


def as_float64(v):
    """``v`` as float64; a zero-stride vector stays one (no n-vector)."""
    if is_constant_vector(v):
        return np.broadcast_to(np.float64(v[0]), v.shape)
    return np.asarray(v, dtype=np.float64)


class _Const:
    """The piece of a zero-stride vector sent to a block task: its value
    and length, expanded on the worker (not ``length`` numbers in the graph)."""

    __slots__ = ("value", "length")

    def __init__(self, value, length):
        self.value, self.length = value, length


def _check_dtype(dtype, name="X"):
    kind = np.dtype(dtype).kind
    if kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {dtype}.")
    if kind not in "biuf":
        raise TypeError(f"{name} must hold numbers; got an array of dtype {dtype}.")


class BlockSource:
    """``X`` of shape ``(n, d)`` in row blocks ``bounds = [(i, j), ...]``.

    ``map(fn, *vecs)`` returns ``[fn(X[i:j], v1[i:j], ...) for (i, j) in
    bounds]`` (each block in the working dtype: float32 or float64), one
    pass over ``X``.
    """

    sparse = False
    #: whether :meth:`take` is best called once for all rows (one
    #: computation) rather than piecewise
    gather_all = False

    def __init__(self, shape, dtype, bounds):
        self.shape = (int(shape[0]), int(shape[1]))
        self.n, self.d = self.shape
        self.source_dtype = np.dtype(dtype)
        self.dtype = _working_dtype(self.source_dtype)
        self.bounds = bounds
        self.scale = 1.0
        # a row subset (select): kept rows of each block, None for all rows
        self.local = None
        self.keep = None

    def rescale(self, factor):
        """Read every block times ``factor`` from now on (a power of two:
        exact), for ``X`` of extreme magnitude; ``rescale(1.0)`` undoes it."""
        self.scale = float(factor)

    def select(self, keep):
        """The source restricted to the rows ``keep`` (sorted): a new source
        whose blocks hold only those rows (rows of weight zero are dropped
        this way, as the in-memory solver drops them)."""
        keep = np.asarray(keep, dtype=np.intp)
        out = copy.copy(self)
        rows = self._rows_of(keep)
        out.keep = rows
        out.local, out.vec_bounds = [], []
        for i, j in self.bounds:
            a, b = np.searchsorted(rows, [i, j])
            out.local.append(rows[a:b] - i)
            out.vec_bounds.append((int(a), int(b)))
        out.n = int(rows.size)
        out.shape = (out.n, self.d)
        return out

    def _vec_bounds(self):
        """Bounds of the blocks in the n-vectors (the kept rows)."""
        return self.vec_bounds if self.local is not None else self.bounds

    def _rows_of(self, idx):
        return idx if self.keep is None else self.keep[idx]

    def map(self, fn, *vecs):  # pragma: no cover - abstract
        raise NotImplementedError

    def __matmul__(self, W):
        """``X @ W`` (one pass), in the dtype numpy gives an in-memory ``X``."""
        W = np.asarray(W)
        return self.map_cat(lambda xb: xb @ W)

    def map_sum(self, fn, *vecs):
        """Sum over blocks of ``fn``'s result (an array, a float or a tuple of them)."""
        return add_parts(self.map(fn, *vecs))

    def map_cat(self, fn, *vecs):
        """``fn``'s per-block results stacked along the rows."""
        return np.concatenate(self.map(fn, *vecs), axis=0)

    def take(self, idx):
        """The rows ``idx`` (in that order) as an in-memory array."""
        idx = np.asarray(idx, dtype=np.intp)
        if idx.size == 0:
            return np.zeros((0, self.d), dtype=self.dtype)
        order = np.argsort(idx, kind="stable")
        srt = idx[order]
        rows = self._take_sorted(srt)
        out = np.empty((idx.size, self.d), dtype=self.dtype)
        out[order] = rows
        return out


class ArrayBlocks(BlockSource):
    """An array sliced by rows (a ``numpy.memmap``): one block in memory at a time."""

    def __init__(self, X, block_rows=None):
        n, d = X.shape
        if block_rows is None:
            block_rows = max(1, BLOCK_BYTES // max(d * X.dtype.itemsize, 1))
        step = max(int(block_rows), 1)
        super().__init__(X.shape, X.dtype, [(i, min(i + step, n)) for i in range(0, n, step)])
        self.X = X

    def _block(self, k, i, j):
        xb = self.X[i:j]
        if self.local is not None:
            xb = np.asarray(xb)[self.local[k]]
        return _as_working(xb, self.dtype, self.scale)

    def map(self, fn, *vecs):
        return [fn(self._block(k, i, j), *(v[a:b] for v in vecs))
                for k, ((i, j), (a, b)) in enumerate(zip(self.bounds, self._vec_bounds()))]

    def map_cat(self, fn, *vecs):
        """``fn``'s per-block results written into one preallocated array
        (block by block: no list of parts next to their concatenation)."""
        out = None
        for k, ((i, j), (a, b)) in enumerate(zip(self.bounds, self._vec_bounds())):
            part = np.asarray(fn(self._block(k, i, j), *(v[a:b] for v in vecs)))
            if out is None:
                out = np.empty((self.n,) + part.shape[1:], dtype=part.dtype)
            out[a:b] = part
            del part
        if out is None:
            return np.concatenate(self.map(fn, *vecs), axis=0)
        return out

    def _take_sorted(self, idx):
        return _as_working(self.X[self._rows_of(idx)], self.dtype, self.scale)


def add_parts(parts):
    """The sum (float64) of partial results: arrays, floats or tuples of them."""
    total = parts[0]
    if isinstance(total, tuple):
        total = tuple(np.array(t, dtype=np.float64, copy=True) for t in total)
        for p in parts[1:]:
            for t, q in zip(total, p):
                t += q
        return total
    total = np.array(total, dtype=np.float64, copy=True)
    for p in parts[1:]:
        total += p
    return total


class _InCache:
    """A block function applied to a large block in pieces of ``rows`` rows,
    its results added up: each piece of ``X`` is read from memory once and
    used by every product of the function while it is in cache, and the
    function's row-length temporaries stay small (as
    :meth:`~sklipschitz._exact.design.Design.reduce_rows` does in memory).
    A dask block of 10^6 rows would otherwise be streamed from memory once
    per product and once per temporary."""

    __slots__ = ("fn", "rows")

    def __init__(self, fn, rows):
        self.fn, self.rows = fn, rows

    def __call__(self, xb, *vb):
        m, rows = xb.shape[0], self.rows
        if m <= rows:
            return self.fn(xb, *vb)
        return add_parts([self.fn(xb[i:i + rows], *(v[i:i + rows] for v in vb))
                          for i in range(0, m, rows)])


def _as_working(xb, dtype, scale=1.0):
    """A block in the working dtype (times ``scale``)."""
    xb = np.asarray(xb)
    if scale != 1.0:
        return np.multiply(xb, dtype.type(scale), dtype=dtype)
    return xb if xb.dtype == dtype else xb.astype(dtype)


def _worker_vector(v):
    """A block's piece of an n-vector as the block function gets it on a
    worker: a constant expanded to a contiguous array (matrix products with
    a zero-stride operand miss BLAS and run ~15 times slower), and a piece
    received unaligned (a slice of a network frame) copied to aligned
    memory, for the same reason."""
    if isinstance(v, _Const):
        return np.full(v.length, v.value)
    if isinstance(v, np.ndarray) and not v.flags.aligned:
        return np.array(v, order="C")
    return v


def _call_block(fn, dtype, scale, loc, xb, *vb):
    xb = np.asarray(xb)
    if loc is not None:
        xb = xb[loc]
    elif not xb.flags.aligned:
        # a block received from another worker: unaligned, every product
        # would copy it (one copy here instead)
        xb = np.array(xb, order="C")
    return fn(_as_working(xb, dtype, scale), *(_worker_vector(v) for v in vb))


def _take_block(xb, loc, dtype, scale):
    return _as_working(np.asarray(xb)[loc], dtype, scale)


class DaskBlocks(BlockSource):
    """A ``dask.array``: one task per row block, one ``dask.compute`` per pass."""

    gather_all = True

    def __init__(self, X):
        if X.ndim != 2:
            raise ValueError(f"Expected a 2D dask array X, got {X.ndim} dimension(s).")
        meta = getattr(X, "_meta", None)
        if meta is not None and not isinstance(meta, np.ndarray):
            raise TypeError(
                f"The exact solver reads dask arrays of numpy blocks; X has blocks of type "
                f"{type(meta).__module__}.{type(meta).__name__} (e.g. sparse). Convert the "
                "blocks (X.map_blocks(lambda b: b.toarray())) or use partial_fit over them.")
        if any(np.isnan(c) for c in X.chunks[0]):
            raise ValueError("X is a dask array of unknown chunk sizes; call "
                             "X.compute_chunk_sizes() first.")
        if len(X.chunks[1]) > 1:
            # whole rows per block (d is small: the solver forms d x d matrices)
            X = X.rechunk({1: -1})
        ends = np.cumsum((0,) + tuple(int(c) for c in X.chunks[0]))
        super().__init__(X.shape, X.dtype, [(int(a), int(b)) for a, b in zip(ends[:-1], ends[1:])])
        self.X = X
        self.parts = list(X.to_delayed().ravel())
        # n-vectors already on the cluster: id -> (vector, bounds, futures)
        self._scattered = {}
        # (client, futures of the blocks or None), see _block_futures
        self._futures = None
        # the worker of each block, see _where
        self._holders = None

    @staticmethod
    def _client():
        """The distributed client that runs the computations, or None."""
        import dask

        if dask.config.get("scheduler", None) not in (None, "dask.distributed", "distributed"):
            return None
        try:
            from distributed import default_client

            return default_client()
        except (ImportError, ValueError):
            return None

    def _pieces(self, client, v, bounds):
        """The blocks' pieces of an n-vector.  On a distributed cluster they
        are scattered to the workers (not sent inside the task graph); a
        read-only vector (the targets, the weights) only once per fit."""
        if is_constant_vector(v):
            return [_Const(v[0], b - a) for a, b in bounds]
        pieces = [v[a:b] for a, b in bounds]
        if client is None or v.nbytes < SCATTER_BYTES:
            return pieces
        frozen = not v.flags.writeable
        if frozen:
            hit = self._scattered.get(id(v))
            if hit is not None and hit[0] is v and hit[1] is bounds:
                return hit[2]
        where = self._where(client)
        if where is None:
            futures = client.scatter(pieces, hash=False)
        else:
            # each piece on the worker that holds its block of X
            futures = [client.scatter(piece, workers=None if w is None else [w], hash=False)
                       for piece, w in zip(pieces, where)]
        if frozen:
            self._scattered[id(v)] = (v, bounds, futures)
        return futures

    def _block_futures(self, client):
        """The futures of ``X``'s blocks when ``X`` is persisted on the
        client's cluster (then a pass is one ``client.map`` of a task per
        block: no task graph to build and optimise), else None."""
        if client is None:
            return None
        if self._futures is not None and self._futures[0] is client:
            return self._futures[1]
        out = None
        try:
            from distributed import futures_of

            held = {f.key: f for f in futures_of(self.X) if f.client is client}
            out = [held.get(k) for row in self.X.__dask_keys__() for k in row]
            if not out or any(f is None for f in out):
                out = None
        except Exception:  # pragma: no cover - any doubt: the graph route
            out = None
        self._futures = (client, out)
        self._holders = None
        return out

    def _where(self, client):
        """The worker holding each persisted block (or None): the tasks of a
        block run there, so that no block of ``X`` moves between workers
        (a moved block is also received unaligned, which makes every matrix
        product copy it)."""
        futures = self._block_futures(client)
        if futures is None:
            return None
        if self._holders is None:
            try:
                held = client.who_has(futures)
                self._holders = [sorted(held[f.key])[0] if held.get(f.key) else None
                                 for f in futures]
            except Exception:  # pragma: no cover - any doubt: the scheduler decides
                self._holders = [None] * len(futures)
        return self._holders

    def map(self, fn, *vecs):
        import dask

        bounds = self._vec_bounds()
        local = self.local if self.local is not None else [None] * len(self.parts)
        client = self._client()
        cols = [self._pieces(client, v, bounds) for v in vecs]
        futures = self._block_futures(client)
        if futures is not None:
            run = functools.partial(_call_block, fn, self.dtype, self.scale)
            where = self._where(client)
            tasks = [client.submit(run, loc, part, *(c[k] for c in cols), pure=False,
                                   workers=None if w is None else [w])
                     for k, (loc, part, w) in enumerate(zip(local, futures, where))]
            return client.gather(tasks)
        call = dask.delayed(_call_block, pure=False)
        tasks = [call(fn, self.dtype, self.scale, loc, part, *(c[k] for c in cols))
                 for k, (part, loc) in enumerate(zip(self.parts, local))]
        return list(dask.compute(*tasks))

    def map_sum(self, fn, *vecs):
        """Sum over blocks of ``fn``'s result, each block reduced in pieces
        of :data:`SUB_ROWS` rows (:class:`_InCache`)."""
        return add_parts(self.map(_InCache(fn, SUB_ROWS), *vecs))

    def _take_sorted(self, idx):
        import dask

        idx = self._rows_of(idx)
        starts = np.array([i for i, _ in self.bounds])
        block = np.searchsorted(starts, idx, side="right") - 1
        blocks = np.unique(block)
        locs = [idx[block == b] - starts[b] for b in blocks]
        client = self._client()
        futures = self._block_futures(client)
        if futures is not None:
            run = functools.partial(_take_block, dtype=self.dtype, scale=self.scale)
            where = self._where(client)
            parts = client.gather([
                client.submit(run, futures[b], loc, pure=False,
                              workers=None if where[b] is None else [where[b]])
                for b, loc in zip(blocks, locs)])
        else:
            call = dask.delayed(_take_block, pure=False)
            parts = dask.compute(*[call(self.parts[b], loc, self.dtype, self.scale)
                                   for b, loc in zip(blocks, locs)])
        return np.concatenate(parts, axis=0)


def _subs(m, rows=SUB_ROWS):
    return [(i, min(i + rows, m)) for i in range(0, m, rows)]


def gram_part(xb, sb, qb, xbar, center, const, with_sum):
    """A block's ``(X_c' diag(q^2) X_c, X' s)`` in float64 (``const``: ``q = 1``)."""
    d = xb.shape[1]
    G, m = np.zeros((d, d)), np.zeros(d)
    # one float64 work array for every piece, of at most 64 kB: it is
    # allocated at every call, and a dask block is reduced in many pieces
    # (larger work arrays are mapped afresh on dask workers, see SUB_ROWS)
    rows = min(SUB_ROWS, max(64, (64 << 10) // (8 * max(d, 1))))
    buf = np.empty((min(rows, xb.shape[0]), d))
    for i, j in _subs(xb.shape[0], rows):
        x = xb[i:j]
        xc = buf[:j - i]
        if center:
            np.subtract(x, xbar, out=xc)
        else:
            xc[...] = x
        if with_sum:
            m += x.T @ sb[i:j]
        if not const:
            xc *= qb[i:j, None]
        G += xc.T @ xc
    return G, m


def matvec_part(xb, w, dt):
    """A block's ``X w`` in the dtype ``dt``."""
    if xb.dtype == dt:
        return xb @ w
    out = np.empty((xb.shape[0],) + w.shape[1:], dtype=dt)
    for i, j in _subs(xb.shape[0]):
        out[i:j] = xb[i:j].astype(dt) @ w
    return out


def rmatvec_part(xb, vb, exact):
    """A block's ``X' v`` in float64 (``exact``: the products too)."""
    if not exact or xb.dtype == np.float64:
        return np.asarray(xb.T @ _blas_operand(vb), dtype=np.float64)
    out = np.zeros((xb.shape[1],) + vb.shape[1:])
    for i, j in _subs(xb.shape[0]):
        out += xb[i:j].astype(np.float64).T @ _blas_operand(vb[i:j])
    return out


def _blas_operand(v):
    """``v`` with a unit stride along the rows: a zero-stride (constant)
    vector is expanded, since ``X' v`` with it misses BLAS (a strided
    loop over ``X``, many times slower)."""
    return np.ascontiguousarray(v) if v.ndim and v.shape[0] > 1 and v.strides[0] == 0 else v


def as_source(X, block_rows=None):
    """The block source of ``X``, or None when ``X`` is fitted in memory.

    A dask array always is blocked (by its own chunks); a ``numpy.memmap``
    is, in blocks of about :data:`BLOCK_BYTES` (or ``block_rows``); any other
    array only when ``block_rows`` is given.
    """
    if is_dask_array(X):
        return DaskBlocks(X)
    if isinstance(X, np.memmap) or block_rows is not None:
        if not (hasattr(X, "shape") and hasattr(X, "dtype") and hasattr(X, "__getitem__")):
            X = np.asarray(X)
        if len(X.shape) != 2:
            raise ValueError(f"Expected a 2D array X, got {len(X.shape)} dimension(s).")
        return ArrayBlocks(X, block_rows)
    return None


def _check_part(xb, sb, fit_intercept, gram):
    """Per block: count of non-finite entries, min, max, sum_i s_i ||x~_i||,
    and (``gram``) ``X~' S X~`` of the block.  One read of the block: every
    quantity is taken on pieces of :data:`SUB_ROWS` rows while they are in
    cache."""
    k = xb.shape[1] + int(fit_intercept)
    G = np.zeros((k, k) if gram else (0, 0))
    if xb.size == 0:
        return 0, np.inf, -np.inf, 0.0, G
    bad, lo, hi, norm = 0, np.inf, -np.inf, 0.0
    with np.errstate(over="ignore"):
        for i, j in _subs(xb.shape[0]):
            xs = xb[i:j]
            # all finite iff the extremes are (min / max propagate NaN)
            lo_s, hi_s = float(xs.min()), float(xs.max())
            nb = 0 if np.isfinite(lo_s) and np.isfinite(hi_s) else \
                xs.size - int(np.count_nonzero(np.isfinite(xs)))
            if nb or bad:
                bad += nb
                continue
            lo, hi = min(lo, lo_s), max(hi, hi_s)
            x64, s = xs if xs.dtype == np.float64 else xs.astype(np.float64), sb[i:j]
            sq = np.einsum("ij,ij->i", x64, x64)
            if fit_intercept:
                sq += 1.0
            norm += float(s @ np.sqrt(sq))
            if gram:
                G[:xb.shape[1], :xb.shape[1]] += x64.T @ (x64 * s[:, None])
                if fit_intercept:
                    col = x64.T @ s
                    G[:-1, -1] += col
                    G[-1, :-1] += col
                    G[-1, -1] += s.sum()
    if bad:
        return bad, 0.0, 0.0, 0.0, G
    return bad, lo, hi, norm, G


def gram_top(src, s, fit_intercept, c=1.0):
    """``lambda_max(X~' S X~) / sum(s)`` of a source (one pass), as
    :func:`~sklipschitz._engine.lipschitz.gram_top_eigenvalue`: for entries
    of extreme magnitude, from the Gram matrix of ``X / c`` (``c`` a power
    of two), times ``c^2`` (which may overflow to inf)."""
    s = constant_if_equal(as_float64(s))
    src.rescale(1.0 / c)
    try:
        G = src.map_sum(lambda xb, sb: _check_part(xb, sb, fit_intercept, True)[4], s)
    finally:
        src.rescale(1.0)
    G /= s.sum()
    if c != 1.0 and fit_intercept:
        G[:-1, -1] /= c
        G[-1, :-1] /= c
        G[-1, -1] /= c * c
    with np.errstate(over="ignore"):
        return float(max(np.linalg.eigvalsh(0.5 * (G + G.T))[-1], 0.0)) * c * c


def check_blocks(src, s, fit_intercept, gram=False):
    """One pass over a source: the input check and the data factors of ``L``.

    Raises ``ValueError`` for NaN or infinity in ``X``.  Returns ``(lo, hi,
    mean_row_norm, top)``: the smallest and largest entries, ``sum_i s_i
    ||x~_i|| / sum(s)`` (``x~_i = [x_i, 1]`` with an intercept), the data
    factor of the Lipschitz constant of the non-smooth losses, and (when
    ``gram``; else None) ``lambda_max(X~' S X~) / sum(s)``, the data factor
    of the smoothness constant of the smooth losses.
    """
    _check_dtype(src.source_dtype)
    if src.n < 1:
        raise ValueError(f"Found array with 0 sample(s) (shape={src.shape}) while a minimum "
                         "of 1 is required.")
    if src.d < 1:
        raise ValueError(f"Found array with 0 feature(s) (shape={src.shape}) while a minimum "
                         "of 1 is required.")
    s = constant_if_equal(as_float64(s))
    parts = src.map(lambda xb, sb: _check_part(xb, sb, fit_intercept, gram), s)
    bad = sum(p[0] for p in parts)
    if bad:
        first = next(k for k, p in enumerate(parts) if p[0])
        i, j = src.bounds[first]
        raise ValueError(f"X contains NaN or infinity ({bad} entries; the first in the row "
                         f"block {i}:{j}).")
    lo = min(p[1] for p in parts)
    hi = max(p[2] for p in parts)
    norm = sum(p[3] for p in parts) / float(s.sum())
    top = None
    if gram:
        G = sum(p[4] for p in parts) / float(s.sum())
        with np.errstate(over="ignore", invalid="ignore"):
            top = float(max(np.linalg.eigvalsh(0.5 * (G + G.T))[-1], 0.0)) \
                if np.all(np.isfinite(G)) else np.inf
    return lo, hi, norm, top
