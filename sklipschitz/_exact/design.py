"""The design: passes over ``X``, its weighted Gram matrix and the whitening.

``X_c = X - 1 xbar'`` (``xbar = 0`` without intercept) is never formed.
``G = X_c' diag(sn) X_c`` with ``sn = s / sum(s)``; ``G = V diag(g) V'``
restricted to the eigenvalues that are not round-off (see
:meth:`Design._rank_threshold`).  Dropping the other directions gives the
minimum-norm solution, as ``LinearRegression`` / ``lstsq`` do.

Every read of ``X`` goes through the methods of :class:`Design` (the Gram
matrix, ``X w``, ``X_c' v``, the rows of a kept set, and
:meth:`Design.reduce_rows` for fused passes); ``passes`` counts them.  ``X``
is an in-memory array (dense or sparse) or a
:class:`~sklipschitz._exact.blocked.BlockSource` (a memory map or a dask
array read by row blocks): the same passes, block by block, so the solver
modules are the same for both.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from .blocked import BlockSource, gram_part, is_constant_vector, matvec_part, rmatvec_part

__all__ = ["Design", "psd_solve"]

# largest X (in elements) copied to column-major order for the passes
_MAX_COPY = 100_000_000
# rows per block when a dense pass is done in float64 blocks
_BLOCK = 8192
# X larger than this (bytes) is read in row blocks by the fused passes
# (:meth:`Design.reduce_rows`), each block used for both products of an
# iteration while it is in cache
_FUSE_BYTES = 16 << 20
_EPS = np.finfo(np.float64).eps


class Design:
    """``X`` with weights, its centring and the eigendecomposition of its Gram."""

    def __init__(self, X, sn, fit_intercept, uniform):
        self.X = X
        self.blocked = isinstance(X, BlockSource)
        self.sparse = sp.issparse(X)
        self.dtype = X.dtype
        #: passes over X made so far (each method reading X counts one)
        self.passes = 0
        self.n, self.d = X.shape
        self.sn = sn
        self.uniform = uniform
        self.fit_intercept = fit_intercept
        self.xbar = np.zeros(self.d)
        if fit_intercept:
            # float64 accumulation, without a float64 copy of a float32 X
            if self.dtype != np.float64 or self.blocked:
                self.xbar = self.rmatvec(sn, exact=True)
            else:
                self.passes += 1
                self.xbar = np.asarray(X.T @ sn, dtype=np.float64).ravel()
        G = self._gram(sn)
        #: ``X_c' diag(sn) X_c`` itself (float64, before the truncation to
        #: span(V)): the exact quadratic form of the squared error
        self.gram = G
        self.g_max = float(np.max(np.diag(G))) if self.d else 0.0
        if self.d and self.g_max > 0:
            g, V = sla.eigh(G, check_finite=False)
            keep = g > self._rank_threshold(G, g[-1])
            self.g = g[keep].copy()
            self.V = np.ascontiguousarray(V[:, keep])
        else:
            self.g = np.zeros(0)
            self.V = np.zeros((self.d, 0))
        self.rank = self.g.size
        # whitened coordinates of the exact finish: w = T z, T = V g^(-1/2)
        self.T = self.V / np.sqrt(self.g) if self.rank else self.V
        self.p = self.rank + int(fit_intercept)

    def _rank_threshold(self, G, g_top):
        """Eigenvalues of ``G`` at or below this are round-off.

        Relative to the top eigenvalue (the error of forming and
        decomposing ``G``), and absolute, relative to the *uncentred* second
        moments ``s2 = max_j sum_i sn_i x_ij^2``: centring a column of
        values ``c`` leaves errors of up to about ``n eps |c|`` (the error of
        its computed mean), so a constant column does not centre to exactly
        zero; its tiny variance must not be taken for a direction (whitening
        would divide by it and return coefficients of 1e13).  With sparse
        ``X`` the centred Gram is formed as ``X'SX - xbar xbar'``, whose
        cancellation error is ``eps s2`` itself.
        """
        rel = g_top * max(self.d, 8) * 64 * _EPS
        if not self.fit_intercept:
            return max(rel, 0.0)
        s2 = float(np.max(np.diag(G) + self.xbar ** 2))
        if self.sparse:
            absolute = 64 * max(self.d, 8) * _EPS * s2
        else:
            absolute = 64 * (max(self.n, self.d) * _EPS) ** 2 * s2
        return max(rel, absolute, 0.0)

    def prefer_columns(self):
        """Use a column-major copy of a dense row-major X for the passes.

        ``X @ w`` with a narrow row-major float32 X runs as short dot products
        per row, about three times slower than streaming the columns (float64
        gains ~10% only, not worth the copy).  Worth one copy when many
        passes follow.
        """
        X = self.X
        if (not self.sparse and not self.blocked and self.d > 1 and X.dtype == np.float32 and X.flags.c_contiguous
                and not X.flags.f_contiguous and X.size <= _MAX_COPY):
            self.X = np.asfortranarray(X)

    # -- passes over the data -------------------------------------------------
    def reduce_rows(self, fn, *vecs):
        """One fused pass: the sum over row blocks of ``fn(X[i:j], v1[i:j], ...)``.

        ``fn`` returns an array, a float or a tuple of them (partial sums of
        the block).  In memory, one block when ``X`` fits in cache, else
        blocks of about 4 MB (``X`` is then read from memory once per pass,
        not once per product); a block source uses its own blocks.
        """
        self.passes += 1
        if self.blocked:
            return self.X.map_sum(fn, *vecs)
        X = self.X
        if self.sparse or X.nbytes <= _FUSE_BYTES:
            bounds = [(0, self.n)]
        else:
            B = max(1024, (1 << 22) // max(self.d * X.itemsize, 1))
            bounds = [(i, min(i + B, self.n)) for i in range(0, self.n, B)]
        total = None
        for i, j in bounds:
            part = fn(X[i:j], *(v[i:j] for v in vecs))
            if total is None:
                total = tuple(np.array(t, dtype=np.float64, copy=True) for t in part) \
                    if isinstance(part, tuple) else np.array(part, dtype=np.float64, copy=True)
            elif isinstance(part, tuple):
                for t, q in zip(total, part):
                    t += q
            else:
                total += part
        return total

    def _gram_parts(self, v, with_sum=False):
        """Blocked ``(X_c' diag(v) X_c, X' v)`` in float64, one pass."""
        xbar, center = self.xbar, self.fit_intercept
        const = is_constant_vector(v) or (v.size > 0 and bool(np.all(v == v[0])))
        self.passes += 1
        # the square roots block by block (no second n-vector)
        G, m = self.X.map_sum(
            lambda xb, sb: gram_part(xb, sb, sb if const else np.sqrt(sb), xbar, center, const,
                                     with_sum), v)
        if const:
            G *= float(v[0])
        return 0.5 * (G + G.T), m

    def _gram(self, v):
        """``X_c' diag(v) X_c`` in float64 (``v >= 0``)."""
        X, d = self.X, self.d
        if self.blocked:
            return self._gram_parts(v)[0]
        self.passes += 1
        if self.sparse:
            X64 = X.astype(np.float64)
            G = np.asarray((X64.T @ X64.multiply(v[:, None]).tocsc()).toarray())
            if self.fit_intercept:
                m = np.asarray(X64.T @ v).ravel()
                sv = v.sum()
                G -= np.outer(m, self.xbar) + np.outer(self.xbar, m)
                G += sv * np.outer(self.xbar, self.xbar)
            return 0.5 * (G + G.T)
        G = np.zeros((d, d))
        # equal weights (the common case): one temporary per block, scaled
        # at the end
        const = v.size > 0 and bool(np.all(v == v[0]))
        sq = None if const else np.sqrt(v)
        for i in range(0, self.n, _BLOCK):
            xb = X[i:i + _BLOCK]
            if self.fit_intercept:
                xb = xb - self.xbar           # float64 result
            elif xb.dtype != np.float64:
                xb = xb.astype(np.float64)
            if not const:
                xb = xb * sq[i:i + _BLOCK, None]
            G += xb.T @ xb
        if const:
            G *= float(v[0])
        return 0.5 * (G + G.T)

    def aug_gram(self, v):
        """``[X_c, 1]' diag(v) [X_c, 1]`` restricted to span(V) (float64)."""
        if self.blocked:
            G, Xv = self._gram_parts(v, with_sum=self.fit_intercept)
            if self.fit_intercept:
                Xv = Xv - self.xbar * v.sum()
        else:
            G = self._gram(v)
            if self.fit_intercept:
                # X_c' v in float64 (a float32 X by blocks: no float64 copy)
                Xv = self.rmatvec(v, exact=True)
        G = self.V.T @ G @ self.V
        if not self.fit_intercept:
            return G
        m = self.V.T @ Xv
        p = self.rank + 1
        H = np.empty((p, p))
        H[:-1, :-1] = G
        H[:-1, -1] = m
        H[-1, :-1] = m
        H[-1, -1] = v.sum()
        return H

    def matvec(self, w, exact=False):
        """``X w`` (without the centring) in the working dtype, or float64."""
        X = self.X
        self.passes += 1
        if self.blocked:
            dt = np.float64 if exact else self.dtype
            wd = np.asarray(w, dtype=dt)
            return X.map_cat(lambda xb: matvec_part(xb, wd, dt))
        if exact and self.dtype != np.float64:
            if self.sparse:
                return np.asarray(X.astype(np.float64) @ w)
            out = np.empty((self.n,) + np.shape(w)[1:])
            for i in range(0, self.n, _BLOCK):
                out[i:i + _BLOCK] = np.asarray(X[i:i + _BLOCK], dtype=np.float64) @ w
            return out
        dt = np.float64 if exact else self.dtype
        return np.asarray(X @ w.astype(dt, copy=False))

    def rmatvec(self, v, exact=False):
        """``X_c' v`` in float64 (``v`` of shape (n,) or (n, k))."""
        X = self.X
        self.passes += 1
        if self.blocked:
            v = np.asarray(v, dtype=np.float64 if exact else self.dtype)
            out = X.map_sum(lambda xb, vb: rmatvec_part(xb, vb, exact), v)
        elif exact and self.dtype != np.float64:
            v = np.asarray(v, dtype=np.float64)
            if self.sparse:
                out = np.asarray(X.T.astype(np.float64) @ v)
            else:
                out = np.zeros((self.d,) + v.shape[1:])
                for i in range(0, self.n, _BLOCK):
                    out += np.asarray(X[i:i + _BLOCK], dtype=np.float64).T @ v[i:i + _BLOCK]
        else:
            out = np.asarray(X.T @ v.astype(self.dtype, copy=False), dtype=np.float64)
        if self.fit_intercept:
            out = out - np.multiply.outer(self.xbar, v.sum(axis=0))
        return out

    def squared_pass(self, Y, W, off):
        """One pass at the residuals ``R = Y - X W - off`` (float64, ``Y``
        of shape (n, k)): returns ``(sn' (R * R), X_c' (sn R), sn' R)``,
        what a step of the squared error needs, without forming ``R``: on a
        block source each block reduces its own rows, so no n-vector is
        gathered from (or sent to) the blocks."""
        Wd = np.asarray(W, dtype=np.float64)
        off = np.asarray(off, dtype=np.float64)

        # (the block function is shipped to dask workers: it captures no Design)
        def part(xb, yb, snb):
            rb = matvec_part(xb, Wd, np.float64)
            np.subtract(yb, rb, out=rb)
            rb -= off
            srb = rb * snb[:, None]
            return (srb * rb).sum(axis=0), rmatvec_part(xb, srb, True), srb.sum(axis=0)

        sq, xr, sr = self.reduce_rows(part, Y, self.sn)
        if self.fit_intercept:
            xr = xr - np.multiply.outer(self.xbar, sr)
        return sq, xr, sr

    def rows(self, idx, extra=0):
        """Whitened rows ``[(x_i - xbar) T, 1]`` of the points ``idx`` (float64).

        ``extra`` spare rows (uninitialised) follow them in the same array,
        for the caller to fill (the glob pseudo-rows, without a copy of the
        band).
        """
        if self.blocked:
            # a gather from every block: a pass for a source out of core
            self.passes += 1
            return self._blocked_rows(np.asarray(idx, dtype=np.intp), extra)
        xr = self.X[idx]
        xr = xr.toarray() if self.sparse else np.asarray(xr)
        m = xr.shape[0]
        A = np.empty((m + extra, self.p))
        A[:m, :self.rank] = (xr.astype(np.float64) - self.xbar) @ self.T
        if self.fit_intercept:
            A[:m, -1] = 1.0
        return A

    def glob_sums(self, y, code, whiten=True):
        """Sums over the two globs of points, in one pass over ``X``.

        ``code`` (int8) is 1 for the points of the first glob, 2 for the
        second, 0 for the others.  Returns ``(G, sv, sy)``: ``G[:, k] =
        T' X_c' (sn * [code == k+1])`` (``X_c' (...)`` without ``whiten``),
        the total weights ``sv`` and the weighted target sums ``sy``, all
        float64, without forming the ``(n, 2)`` weight matrix (built block
        by block).
        """
        # (the block function is shipped to dask workers: it captures no Design)
        widen = self.blocked or self.dtype != np.float64

        def part(xb, snb, yb, cb):
            vb = np.zeros((snb.shape[0], 2))
            for k in range(2):
                sel = cb == k + 1
                vb[sel, k] = snb[sel]
            xv = rmatvec_part(xb, vb, True) if widen else np.asarray(xb.T @ vb, dtype=np.float64)
            return xv, vb.sum(axis=0), yb @ vb

        if self.sparse:
            V = np.zeros((self.n, 2))
            for k in range(2):
                sel = code == k + 1
                V[sel, k] = self.sn[sel]
            XV = self.rmatvec(V, exact=True)
            return (self.T.T @ XV if whiten else XV), V.sum(axis=0), y @ V
        XV, sv, sy = self.reduce_rows(part, self.sn, y, code)
        if self.fit_intercept:
            XV = XV - np.multiply.outer(self.xbar, sv)
        return (self.T.T @ XV if whiten else XV), sv, sy

    def raw_rows(self, idx):
        """The rows ``x_i`` of the points ``idx``, dense, in the working dtype
        (neither centred nor whitened)."""
        if self.blocked:
            self.passes += 1
            return self.X.take(np.asarray(idx, dtype=np.intp))
        xr = self.X[idx]
        return xr.toarray() if self.sparse else np.asarray(xr)

    def _blocked_rows(self, idx, extra=0):
        """:meth:`rows` from a block source, converted ``_BLOCK`` rows at a
        time into the preallocated result (no float64 copy of the gathered
        rows; a memory map is also gathered piecewise)."""
        src, r = self.X, self.rank
        A = np.empty((idx.size + extra, self.p))
        if self.fit_intercept:
            A[:idx.size, -1] = 1.0
        xr = src.take(idx) if src.gather_all else None
        for i in range(0, idx.size, _BLOCK):
            xb = xr[i:i + _BLOCK] if xr is not None else src.take(idx[i:i + _BLOCK])
            A[i:i + xb.shape[0], :r] = (xb - self.xbar) @ self.T
        return A

    # -- whitened <-> original coordinates -------------------------------------
    def project(self, w):
        """``w`` restricted to the directions the data determine."""
        return self.V @ (self.V.T @ w)

    def split(self, beta):
        """Whitened ``beta = (z, b')`` to ``(w, b')``."""
        z = beta[:self.rank]
        b = beta[self.rank] if self.fit_intercept else 0.0
        return self.T @ z, b

    def join(self, w, b):
        z = np.sqrt(self.g) * (self.V.T @ w)
        return np.append(z, b) if self.fit_intercept else z

    def residual(self, y, w, b, exact=True):
        """``y - X_c w - b'`` (float64 when ``exact``)."""
        off = b - float(self.xbar @ w)
        # in place: one n-vector (the order of the operations is that of
        # ``y - X w - off``)
        r = self.matvec(w, exact=exact)
        np.subtract(y, r, out=r)
        r -= off
        return r

    def centred_intercept(self, w, intercept):
        """``b'`` of the centred model from the intercept of the raw model."""
        return float(intercept) + float(self.xbar @ w) if self.fit_intercept else 0.0

    def raw_intercept(self, w, b):
        """Intercept of the raw model from ``b'`` of the centred one."""
        return b - float(self.xbar @ w) if self.fit_intercept else 0.0


def psd_solve(H, rhs):
    """Solve ``H x = rhs`` for a symmetric PSD ``H``; minimum norm if singular."""
    try:
        c, low = sla.cho_factor(H, check_finite=False)
        x = sla.cho_solve((c, low), rhs, check_finite=False)
        if np.all(np.isfinite(x)):
            # guard against a numerically singular factorisation
            d = np.abs(np.diag(c))
            if d.min() > 1e-7 * d.max():
                return x
    except (np.linalg.LinAlgError, ValueError):
        pass
    e, U = np.linalg.eigh(H)
    keep = e > max(e.max(), 0.0) * H.shape[0] * 1e-13
    if not keep.any():
        return np.zeros_like(rhs)
    return U[:, keep] @ ((U[:, keep].T @ rhs) / e[keep])
