"""A path of penalties on one design: :func:`solve_path`.

A regularisation path (``LipschitzRegressorCV``, ``lipschitz_path``) solves
the same data at a sequence of penalties.  Every one of them is the problem
of :func:`~sklipschitz._exact.solve_linear` at its own ``(alpha, l1)``, but
the work that depends only on the data is done once: the checks and the
weights, the magnitude rescaling, the :class:`~.design.Design` (one pass
for the means, one for the Gram matrix, its eigendecomposition) and the
quantities the L1 solver derives from it (the Gram matrix in the original
coordinates and the diagonal majorant, :func:`.l1.column_cache`).  Each
penalty then runs the same solver module as a single fit, warm-started at
the previous penalty's solution, with the same certificate and stopping
rule (the L1 phases of :mod:`.l1`, or the module of the loss at ``l1 =
0``); only the squared error's warm start skips the proximal steps that
guess the signs (the feature-sign search starts from the previous
solution, whose signs are the better guess; the steps still run when the
search alone does not certify).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["PathSolution", "solve_path"]


@dataclass
class PathSolution:
    """Result of :func:`solve_path` (one entry per penalty, in the given order).

    Attributes
    ----------
    coefs : ndarray of shape (n_penalties, n_features, n_outputs)
        Coefficients, in the dtype of ``X``.
    intercepts : ndarray of shape (n_penalties, n_outputs)
    n_iter : ndarray of int of shape (n_penalties,)
        Iterations of each solve (as :attr:`LinearSolution.n_iter`).
    converged, certified : ndarray of bool of shape (n_penalties,)
        As :class:`~sklipschitz._exact.result.LinearSolution`, per penalty.
    objectives : ndarray of shape (n_penalties,)
        The objective of each solution (the last entry of its loss curve,
        summed over outputs).
    n_passes : int
        Passes over ``X`` for the whole path.
    """

    coefs: np.ndarray
    intercepts: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    certified: np.ndarray
    objectives: np.ndarray
    n_passes: int


def solve_path(X, Y, loss, sample_weight, *, alpha, l1, fit_intercept=True, coef_init=None,
               intercept_init=None, max_iter=1000, tol=1e-10, verbose=0):
    """The solutions of :func:`~sklipschitz._exact.solve_linear` at a
    sequence of penalties, on one design, each warm-started at the previous.

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (n_samples, n_features)
        In memory (a block source is fitted one penalty at a time with
        :func:`solve_linear`); a sparse ``X`` with fewer than
        ``WIDE_SPARSE_MIN_FEATURES`` columns (the dense-Gram route).
    Y : ndarray of shape (n_samples, n_outputs) or (n_samples,)
    loss : loss object
        As for :func:`solve_linear`.
    sample_weight : ndarray of shape (n_samples,) or None
    alpha, l1 : array-like of shape (n_penalties,)
        The L2 and L1 strengths of each solve (``alpha/2 ||W||^2 + l1
        ||W||_1``), solved in the given order: a path is best given from
        the largest penalty down.
    fit_intercept : bool
    coef_init, intercept_init : ndarray, optional
        Start of the first solve (later solves start at the previous solution).
    max_iter, tol, verbose
        Of every solve, as for :func:`solve_linear`.

    Returns
    -------
    PathSolution
    """
    from . import (
        WIDE_SPARSE_MIN_FEATURES, _BLAS_SINGLE_BELOW, _arrays, _column_losses, _join_columns,
        _magnitude, _start, solver_for,
    )
    from . import l1 as l1_module
    from .blocked import BlockSource
    from .design import Design
    from .._threads import single_blas_thread

    module = solver_for(loss)
    alphas = np.asarray(alpha, dtype=np.float64).ravel()
    l1s = np.asarray(l1, dtype=np.float64).ravel()
    if alphas.shape != l1s.shape or alphas.size == 0:
        raise ValueError(f"alpha and l1 must be non-empty and of the same length; got "
                         f"{alphas.size} and {l1s.size} values.")
    if not (np.all(np.isfinite(alphas)) and np.all(np.isfinite(l1s))
            and np.all(alphas >= 0) and np.all(l1s >= 0)):
        raise ValueError("alpha and l1 must be finite and >= 0.")
    for a, lam in zip(alphas, l1s):
        if lam > 0 and not l1_module.supported(loss, a):
            raise ValueError(
                f"the exact solver has no L1 penalty for {loss!r} with alpha={a}")
    if isinstance(X, BlockSource):
        raise TypeError("solve_path takes X in memory; fit a block source one penalty at a "
                        "time with solve_linear")
    X, Y, s = _arrays(X, Y, sample_weight)
    n, d = X.shape
    k = Y.shape[1]
    dtype = X.dtype
    if sp.issparse(X) and d >= WIDE_SPARSE_MIN_FEATURES:
        raise ValueError(f"solve_path takes sparse X with fewer than {WIDE_SPARSE_MIN_FEATURES} "
                         f"columns (the dense-Gram route); got {d}")
    if np.any(s == 0):
        keep = np.flatnonzero(s > 0)
        X, Y, s = X[keep], Y[keep], s[keep]
    uniform = bool(np.all(s == s[0]))
    sn = np.full(s.size, 1.0 / s.size) if uniform else s / s.sum()
    W, B = _start(coef_init, intercept_init, d, k, fit_intercept)
    warm = coef_init is not None
    # X of extreme magnitude: solved as X / c (c a power of two), as solve_linear does
    c = _magnitude(X)
    if c != 1.0:
        X = X * (1.0 / c) if not sp.issparse(X) else X.multiply(1.0 / c).tocsr()
        X = X.astype(dtype, copy=False)
        with np.errstate(over="ignore"):
            alphas = np.minimum(alphas / c / c, 1e300)
            l1s = np.minimum(l1s / c, 1e300)
        W *= c
    column_losses = _column_losses(loss, k)
    m = alphas.size
    coefs = np.zeros((m, d, k), dtype=dtype)
    intercepts = np.zeros((m, k), dtype=dtype)
    n_iter = np.zeros(m, dtype=int)
    converged = np.zeros(m, dtype=bool)
    certified = np.zeros(m, dtype=bool)
    objectives = np.full(m, np.nan)
    with np.errstate(over="ignore", under="ignore"), \
            single_blas_thread(d < _BLAS_SINGLE_BELOW):
        des = Design(X, sn, bool(fit_intercept), uniform)

        def run(Yc, lc, Wc, Bc, a, lam, started):
            if lam > 0:
                return l1_module.solve(des, Yc, lc, float(a), float(lam), Wc, Bc, started,
                                       int(max_iter), tol, verbose, path=True)
            return module.solve(des, Yc, lc, float(a), Wc, Bc, started, int(max_iter), tol,
                                verbose)

        started = warm or B is not None
        # the pinball loss + L1 is an LP whose solution is piecewise linear
        # in l1: its solves start on the line through the two previous
        # solutions (whose residuals choose the kept points of the exact
        # finish, see :mod:`.l1`)
        linear = l1_module._is_pinball(loss)
        prev = None
        for i in range(m):
            a, lam = alphas[i], l1s[i]
            W0, B0 = W, B
            if linear and prev is not None and started and lam > 0 and a == alphas[i - 1]:
                Wp, Bp, lam_p = prev
                step = l1s[i - 1] - lam_p
                if step != 0 and B is not None:
                    t = (lam - l1s[i - 1]) / step
                    W0, B0 = W + t * (W - Wp), B + t * (B - Bp)
            if column_losses is None:
                result = run(Y, loss, W0.copy(), B0, a, lam, started)
            else:  # one solve per output (one level per output of the pinball loss)
                result = _join_columns([
                    run(Y[:, [j]], lc, W0[:, [j]].copy(), None if B0 is None else B0[[j]], a,
                        lam, started)
                    for j, lc in enumerate(column_losses)])
            prev = (W, B, l1s[i - 1]) if (i > 0 and started and B is not None) else None
            Wi, Bi, it, curve, _, cert, conv = result
            Bi = np.asarray(Bi, dtype=np.float64).reshape(-1) if fit_intercept else np.zeros(k)
            if not (np.all(np.isfinite(Wi)) and np.all(np.isfinite(Bi))):
                # never a silent wrong answer: this penalty restarts the next from zero
                warnings.warn(f"solve_path produced non-finite values at penalty {i}; "
                              "returning zeros there", RuntimeWarning)
                Wi, Bi, cert, conv = np.zeros((d, k)), np.zeros(k), False, False
                W, B, started = np.zeros((d, k)), None, False
            else:
                W, B, started = np.array(Wi, dtype=np.float64), Bi.copy(), True
            coefs[i] = Wi / c if c != 1.0 else Wi
            intercepts[i] = Bi
            n_iter[i] = int(it)
            converged[i], certified[i] = bool(conv), bool(cert)
            if len(curve):
                objectives[i] = float(curve[-1])
    return PathSolution(coefs=coefs, intercepts=intercepts, n_iter=n_iter, converged=converged,
                        certified=certified, objectives=objectives, n_passes=int(des.passes) + 1)
