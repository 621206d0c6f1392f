"""Fast, exact full-batch solver for linear models.

Minimises, separately for every output column ``k``,

``F(W, b) = sum_i s_i loss(y_ik, x_i W_k + b_k) / sum_i s_i + alpha/2 ||W||_F^2``

(the intercept is not penalised) for the squared, absolute, pinball
(quantile), log-cosh and Huber losses, and certifies the optimum.  One module per
phase:

* :mod:`.design` -- one pass over the data gives the weighted Gram matrix of
  the (centred) design and its eigendecomposition; gradient steps are taken
  in coordinates where the design is white, where the smoothness constant
  is known exactly and every gradient step is at exactly ``1/L``.
* :mod:`.squared` -- squared error: one whitened step is the exact solution.
* :mod:`.pinball` -- pinball / absolute error: :mod:`.smoothing` (FISTA on
  the smoothed loss), :mod:`.newton` (semismooth Newton), :mod:`.vertex`
  (reduced problems, the path to the LP vertex, the active set) and
  :mod:`.certificate` (KKT check of the full problem).
* :mod:`.logcosh` -- log-cosh: whitened FISTA, then Newton.
* :mod:`.huber` -- Huber: whitened FISTA, then Newton on the quadratic set
  (the column solver of :mod:`.logcosh`).
* :mod:`.wide` -- sparse designs with many columns, where a dense ``d x d``
  Gram matrix is out of the question: an iterative least-squares solve, or
  smoothed FISTA and an exact LP finish.
* :mod:`.result` -- the :class:`LinearSolution` returned.
* :mod:`.path` -- :func:`solve_path`: a sequence of penalties (a
  regularisation path) on one design, each solve warm-started at the
  previous solution.
* :mod:`.blocked` -- ``X`` out of core (a memory map, a dask array): the
  passes of :class:`~.design.Design` run block by block, the same solver.

Which solver runs is decided by the loss object (``_SOLVERS``); each solver
module lists the attributes of the loss it uses (``REQUIRED_ATTRS``), which
:func:`solve_linear` checks.

Sparse ``X`` (CSR/CSC) is never densified; only ``d x d`` matrices and the
rows of the kept set are dense.  ``float32`` data stay ``float32`` in the
passes over the data; the exact finish and the certificate use ``float64``.
The passes run with one BLAS thread for narrow designs (``d < 128``).
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

from .._engine.losses import AbsoluteError, HalfSquaredError, Huber, LogCosh, PinballLoss
from .._threads import single_blas_thread
from . import huber, logcosh, pinball, squared, wide
from . import l1 as l1_module
from .blocked import BlockSource, is_constant_vector
from .design import Design
from .path import PathSolution, solve_path
from .result import LinearSolution, sum_curves

__all__ = ["LinearSolution", "PathSolution", "solve_linear", "solve_path",
           "WIDE_SPARSE_MIN_FEATURES"]

#: loss type -> solver module (``solve`` and ``REQUIRED_ATTRS``)
_SOLVERS = (
    (HalfSquaredError, squared),
    (AbsoluteError, pinball),
    (PinballLoss, pinball),
    (LogCosh, logcosh),
    (Huber, huber),
)

#: sparse designs with at least this many columns take the route of
#: :mod:`.wide`.  Below it the whitened route forms the dense Gram matrix
#: (``8 d^2`` bytes: 72 MB at d = 3,000) and its eigendecomposition
#: (``O(d^3)``: seconds at d = 1,000-3,000) but solves every loss and
#: penalty exactly; above it memory and time must follow the non-zeros.
#: The wide route is certified for squared error and, with ``alpha = 0``,
#: for the pinball loss, but only approximate for the penalised pinball
#: loss, hence the fairly high threshold.
WIDE_SPARSE_MIN_FEATURES = 3000

# narrow designs (fewer columns) run with one BLAS thread: their products
# are memory bound and threads only add synchronisation
_BLAS_SINGLE_BELOW = 128
# |X| entries above this (or non-zero entries all below its inverse) are
# rescaled by a power of two before the Gram matrix is formed, whose
# entries would overflow (or underflow)
_SAFE_MAGNITUDE = 1e100


def solver_for(loss):
    """The solver module for ``loss``, after checking the attributes it needs."""
    for cls, module in _SOLVERS:
        if isinstance(loss, cls):
            missing = [a for a in module.REQUIRED_ATTRS if not hasattr(loss, a)]
            if missing:
                raise TypeError(f"the {module.__name__.rsplit('.', 1)[-1]} solver needs the "
                                f"loss attributes {missing}; {loss!r} lacks them")
            return module
    supported = ", ".join(cls.__name__ for cls, _ in _SOLVERS)
    raise TypeError(f"solve_linear supports the losses {supported}; got {loss!r}")


def solve_linear(X, Y, loss, sample_weight, *, alpha=0.0, l1=0.0, fit_intercept=True,
                 coef_init=None, intercept_init=None, max_iter=1000, tol=1e-10, verbose=0,
                 x_range=None):
    """Exact full-batch solver for linear models with a regression loss.

    Minimises ``sum_i s_i sum_k loss(y_ik, x_i W_k + b_k) / sum_i s_i
    + alpha/2 ||W||_F^2`` (intercept not penalised); see the package
    docstring for the method.  The inputs are not validated again: the
    estimator has checked them (finite, matching lengths, ``alpha >= 0``,
    non-negative weights with a positive sum).

    Parameters
    ----------
    X : ndarray, scipy.sparse matrix or BlockSource of shape (n_samples, n_features)
        float32 or float64 (other dtypes are converted to float64).  A
        :class:`~sklipschitz._exact.blocked.BlockSource` (a memory map or a
        dask array) is read block by block, never copied whole.
    Y : ndarray of shape (n_samples, n_outputs) or (n_samples,)
    loss : HalfSquaredError, AbsoluteError, PinballLoss, LogCosh or Huber
        From :mod:`sklipschitz._engine.losses`.
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative; rows of weight 0 are ignored.
    alpha : float >= 0
    l1 : float >= 0
        Strength of an L1 penalty ``l1 ||W||_1`` added to the objective
        (:mod:`.l1`: the squared error and log-cosh with any ``alpha``, the
        pinball and absolute losses with ``alpha = 0``; dense Gram route
        only).
    fit_intercept : bool
    coef_init, intercept_init : ndarray, optional
        Starting point (warm start).
    max_iter : int
        Maximum number of gradient and Newton iterations per output.  The
        exact finish of the pinball and absolute losses always runs.
    tol : float
        Relative objective gap of the squared loss accepted as converged.
    verbose : int
    x_range : (float, float), optional
        The smallest and largest entries of ``X`` when the caller knows
        them (saves the pass that finds them).

    Returns
    -------
    LinearSolution
    """
    module = solver_for(loss)
    if l1 > 0 and not l1_module.supported(loss, alpha):
        raise ValueError(f"the exact solver has no L1 penalty for {loss!r} with alpha={alpha}")
    X, Y, s = _arrays(X, Y, sample_weight)
    blocked = isinstance(X, BlockSource)
    n, d = X.shape
    k = Y.shape[1]
    dtype = X.dtype
    assert Y.shape[0] == n and s.shape == (n,) and alpha >= 0
    # rows of weight zero are absent
    if np.any(s == 0):
        keep = np.flatnonzero(s > 0)
        X = X.select(keep) if blocked else X[keep]
        Y, s = Y[keep], s[keep]
    uniform = bool(np.all(s == s[0]))
    if uniform and blocked:
        # a fit out of core holds as few n-vectors as it can: equal
        # weights are one number seen as a vector (zero stride)
        sn = np.broadcast_to(np.float64(1.0 / s.size), (s.size,))
    else:
        sn = np.full(s.size, 1.0 / s.size) if uniform else s / s.sum()
    del s
    if blocked:
        # read-only views: a block source may cache what does not change (a
        # distributed cluster keeps the pieces of y and the weights)
        Y = Y.view()
        Y.flags.writeable = False
        if sn.flags.writeable:
            sn.flags.writeable = False
    W, B = _start(coef_init, intercept_init, d, k, fit_intercept)
    warm = coef_init is not None
    # an X of extreme magnitude is solved as X / c (c a power of two, exact)
    # with alpha / c^2 for the coefficients c w, then scaled back
    passes = 0
    if x_range is None:
        passes += 1
        c = _magnitude(X)
    else:
        c = _scale_of(*x_range)
    if c != 1.0:
        if blocked:
            X.rescale(1.0 / c)
        else:
            X = X * (1.0 / c) if not sp.issparse(X) else X.multiply(1.0 / c).tocsr()
            X = X.astype(dtype, copy=False)
        # (capped: a penalty that large gives zero coefficients either way)
        if alpha > 0:
            with np.errstate(over="ignore"):
                alpha = min(float(np.float64(alpha) / c / c), 1e300)
        if l1 > 0:
            with np.errstate(over="ignore"):
                l1 = min(float(np.float64(l1) / c), 1e300)
        W *= c
    wide_route = sp.issparse(X) and d >= WIDE_SPARSE_MIN_FEATURES and not l1 > 0
    column_losses = _column_losses(loss, k)
    des = None
    with np.errstate(over="ignore", under="ignore"):
        if wide_route:
            def run(Yc, lc, Wc, Bc):
                return wide.solve(X, Yc, lc, module, sn, float(alpha), bool(fit_intercept), Wc,
                                  Bc, int(max_iter), verbose)
        else:
            des = None

            def run(Yc, lc, Wc, Bc):
                nonlocal des
                if des is None:
                    des = Design(X, sn, bool(fit_intercept), uniform)
                if l1 > 0:
                    return l1_module.solve(des, Yc, lc, float(alpha), float(l1), Wc, Bc,
                                           warm or B is not None, int(max_iter), tol, verbose)
                return module.solve(des, Yc, lc, float(alpha), Wc, Bc, warm or B is not None,
                                    int(max_iter), tol, verbose)
        with single_blas_thread(not wide_route and d < _BLAS_SINGLE_BELOW):
            if column_losses is None:
                result = run(Y, loss, W, B)
            else:  # one solve per output on the same design (its Gram matrix and whitening)
                result = _join_columns([
                    run(Y[:, [j]], lc, W[:, [j]], None if B is None else B[[j]])
                    for j, lc in enumerate(column_losses)])
    passes = None if wide_route else passes + (des.passes if des is not None else 0)
    if blocked:
        X.rescale(1.0)
    W, B, n_iter, curve, lrs, cert, converged = result
    W = W / c if c != 1.0 else W
    sol = _solution(W, B, n_iter, curve, lrs, cert, converged, fit_intercept, dtype,
                    method="wide" if wide_route else "whitened")
    sol.n_passes = passes
    if des is not None:
        sol.gram_top = _gram_top(des, c)
    return sol


def _gram_top(des, c=1.0):
    """``lambda_max(X~' S X~)`` (``sn`` sums to 1, ``X~ = [X, 1]``) of the
    data of a :class:`Design` of ``X / c`` (``c`` a power of two), from its
    eigendecomposition: the centred ``G = V diag(g) V'`` (round-off
    directions dropped) and the weighted means ``xbar`` give ``A = [[G +
    xbar xbar', xbar / c], [xbar' / c, 1 / c^2]]`` (``G`` alone without an
    intercept) and the value ``c^2 lambda_max(A)``: it may overflow to inf
    for ``c > 1``; for ``c < 1``, ``c^2 A`` is formed instead (its tiny
    entries may underflow to zero, as the squares of the entries of ``X``
    do)."""
    G = (des.V * des.g) @ des.V.T
    with np.errstate(over="ignore", under="ignore"):
        if des.fit_intercept:
            d, xbar = des.d, des.xbar
            small = c < 1.0
            M = np.empty((d + 1, d + 1))
            M[:d, :d] = G + np.outer(xbar, xbar)
            if small:
                M[:d, :d] *= c * c
            M[:d, d] = M[d, :d] = xbar * c if small else xbar / c
            M[d, d] = 1.0 if small else 1.0 / (c * c)
            G, scale = M, 1.0 if small else c * c
        else:
            scale = c * c
        if G.size == 0:
            return 0.0
        return float(max(np.linalg.eigvalsh(0.5 * (G + G.T))[-1], 0.0)) * scale


def _column_losses(loss, k):
    """One loss per output when the loss's parameter differs between outputs
    and its solver takes one parameter for all of them (a pinball loss with
    one level per output); else None."""
    if isinstance(loss, PinballLoss) and not isinstance(loss.quantile, float):
        assert loss.quantile.shape == (k,)
        return [loss.column(j) for j in range(k)]
    return None


def _join_columns(results):
    """The results of single-output solves as the result of one solve."""
    W = np.hstack([r[0] for r in results])
    B = np.concatenate([np.asarray(r[1], dtype=np.float64).reshape(-1) for r in results])
    curves = [list(r[3]) for r in results]
    return (W, B, max(int(r[2]) for r in results), sum_curves(curves), results[0][4],
            all(r[5] for r in results), all(r[6] for r in results))


def _start(coef_init, intercept_init, d, k, fit_intercept):
    """The start ``(W, B)``: ``W`` (d, k) float64, zeros without ``coef_init``;
    ``B`` (k,) or None (no start given, or no intercept)."""
    W = np.zeros((d, k))
    if coef_init is not None:
        W[...] = np.asarray(coef_init, dtype=np.float64).reshape(d, k)
    B = None
    if intercept_init is not None and fit_intercept:
        B = np.broadcast_to(np.asarray(intercept_init, dtype=np.float64).reshape(-1), (k,)).copy()
    return W, B


def _arrays(X, Y, sample_weight):
    """The working forms of the (validated) inputs."""
    if isinstance(X, BlockSource):
        pass
    elif sp.issparse(X):
        if X.format not in ("csr", "csc"):
            X = X.tocsr()
    else:
        X = np.asarray(X)
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    Y = np.asarray(Y)
    if Y.ndim == 1:
        Y = Y[:, None]
    Y = Y.astype(X.dtype, copy=False)
    if sample_weight is None:
        s = np.broadcast_to(np.float64(1.0), (X.shape[0],))
    elif is_constant_vector(sample_weight):
        # equal weights given as a zero-stride view: not materialised
        s = np.broadcast_to(np.float64(sample_weight[0]), (X.shape[0],))
    else:
        s = np.asarray(sample_weight, dtype=np.float64).ravel()
    return X, Y, s


def _magnitude(X):
    """A power of two ``c`` such that ``X / c`` has entries of moderate size."""
    if isinstance(X, BlockSource):
        parts = X.map(lambda xb: (float(xb.min(initial=np.inf)), float(xb.max(initial=-np.inf))))
        return _scale_of(min(p[0] for p in parts), max(p[1] for p in parts))
    data = X.data if sp.issparse(X) else X
    if data.size == 0:
        return 1.0
    return _scale_of(float(data.min()), float(data.max()))


def _scale_of(lo, hi):
    """The power of two of :func:`_magnitude` from the extreme entries."""
    if lo == np.inf and hi == -np.inf:  # no entries
        return 1.0
    top = max(hi, -lo)
    if top == 0.0 or (1.0 / _SAFE_MAGNITUDE <= top <= _SAFE_MAGNITUDE):
        return 1.0
    if not np.isfinite(top):
        raise ValueError("X contains NaN or infinity.")
    return float(2.0 ** np.round(np.log2(top)))


def _solution(W, B, n_iter, curve, lrs, cert, converged, fit_intercept, dtype, method):
    k = W.shape[1]
    if not fit_intercept:
        B = np.zeros(k)
    if not (np.all(np.isfinite(W)) and np.all(np.isfinite(B))):
        # never a silent wrong answer: the caller sees converged=False
        warnings.warn("solve_linear produced non-finite values; returning zeros",
                      RuntimeWarning)
        W = np.zeros_like(W)
        B = np.zeros(k)
        converged = cert = False
    return LinearSolution(
        coef=W.astype(dtype), intercept=np.asarray(B, dtype=np.float64).astype(dtype),
        n_iter=int(n_iter), loss_curve=[float(v) for v in curve],
        learning_rate_history=[float(v) for v in (lrs or [])],
        converged=bool(converged), certified=bool(cert), method=method,
    )


def penalty_alpha_max(X, y, loss, sample_weight=None, *, l1_ratio=1.0, fit_intercept=True):
    """The smallest ``alpha`` of ``alpha * (l1_ratio ||w||_1 + ...)`` whose
    fit has every coefficient zero (single output; see
    :func:`sklipschitz._exact.l1.alpha_max`)."""
    X, Y, s = _arrays(X, y, sample_weight)
    if np.any(s == 0):
        keep = np.flatnonzero(s > 0)
        X, Y, s = X[keep], Y[keep], s[keep]
    uniform = bool(np.all(s == s[0]))
    sn = np.full(s.size, 1.0 / s.size) if uniform else s / s.sum()
    c = _magnitude(X)
    if c != 1.0:
        X = X * (1.0 / c) if not sp.issparse(X) else X.multiply(1.0 / c).tocsr()
    des = Design(X, sn, bool(fit_intercept), uniform)
    return l1_module.alpha_max(des, np.asarray(Y[:, 0], dtype=np.float64), loss,
                               l1_ratio) / c
