"""Lipschitz constants of the training objective.

Two families live here:

* **valid bounds** (``learning_rate='lipschitz'``), which make ``1/L`` a step
  with a guarantee:

  - smooth loss (curvature ``c = sup loss''``): the gradient of
    ``F(w) = sum_i s_i loss(y_i, x~_i w) / sum s`` is Lipschitz with constant
    ``c * lambda_max(X~' S X~) / sum(s)`` (``X~`` is ``X`` with a column of
    ones when an intercept is fitted).  A step ``1/L`` decreases ``F``
    (descent lemma).  For a mini-batch the same holds with the batch's own
    matrix, and ``lambda_max`` of any weighted average of ``x~_i x~_i'`` is at
    most ``max_i ||x~_i||^2``: that per-sample bound is valid for every batch.
  - non-smooth loss (Lipschitz constant ``G = sup |loss'|``): ``F`` itself is
    Lipschitz with constant ``G * sum_i s_i ||x~_i|| / sum(s)``; a step ``1/L``
    moves the weights by at most 1.

* **published formulas** (``learning_rate='paper'``), reproduced exactly
  (LipschitzLR, Yedida, Saha & Prashanth 2021, sections 4-6; LALR, Saha et al.
  2020): a column of ones prepended, the Frobenius norm, division by the
  batch size ``m``, the maximum over batches.  They bound ``||grad F||`` in
  the published derivation but are not valid step sizes in general: the
  descent lemma needs the gradient's Lipschitz constant, not the function's,
  and for per-sample-bounded losses ``||X||_F / m`` can be ``sqrt(m)`` times
  smaller than ``sup ||grad F||`` (see the package documentation).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, eigsh

# Above this many columns the top eigenvalue comes from Lanczos iterations
# instead of the dense Gram matrix.
DENSE_GRAM_MAX_FEATURES = 2000
# Lanczos returns a Ritz value from below; this relative margin (far above
# the solver tolerance used) keeps the bound on the safe side.
_LANCZOS_SAFETY = 1.0 + 1e-3


# Rows per block when the centred rows of a dense X are formed block by block.
_CENTRE_BLOCK = 4096


def _row_sq_norms(X, offset=None):
    """``||x_i - offset||^2`` of every row (``offset`` None: 0), in float64."""
    if sp.issparse(X):
        sq = np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
        if offset is None:
            return sq
        o = np.asarray(offset, dtype=np.float64)
        # ||x||^2 - 2 x.o + ||o||^2: a sparse X is never centred explicitly
        sq += float(o @ o) - 2.0 * np.asarray(X @ o, dtype=np.float64).ravel()
        return np.maximum(sq, 0.0)
    X = np.asarray(X)
    if offset is None:
        return np.einsum("ij,ij->i", X, X, dtype=np.float64)
    o = np.asarray(offset, dtype=np.float64)
    out = np.empty(X.shape[0])
    for i in range(0, X.shape[0], _CENTRE_BLOCK):  # exact, in bounded memory
        D = X[i:i + _CENTRE_BLOCK] - o
        out[i:i + _CENTRE_BLOCK] = np.einsum("ij,ij->i", D, D)
    return out


def _weighted_gram(X, sample_weight, fit_intercept):
    """``X~' S X~ / sum(s)`` as a dense (d [+1]) square matrix in float64."""
    sw = np.asarray(sample_weight, dtype=np.float64)
    total = sw.sum()
    if sp.issparse(X):
        Xs = sp.csr_matrix(X, dtype=np.float64)
        G = (Xs.T @ Xs.multiply(sw[:, None]).tocsr()).toarray()
        col = np.asarray(Xs.T @ sw).ravel()
    else:
        Xd = np.asarray(X, dtype=np.float64)
        if np.all(sw == sw[0]):  # equal weights: no weighted copy of X
            G = (Xd.T @ Xd) * sw[0]
        else:
            G = Xd.T @ (Xd * sw[:, None])
        col = Xd.T @ sw
    if fit_intercept:
        d = G.shape[0]
        full = np.empty((d + 1, d + 1))
        full[:d, :d] = G
        full[:d, d] = col
        full[d, :d] = col
        full[d, d] = total
        G = full
    return G / total


def _centred_gram(G, offset, fit_intercept):
    """From the weighted Gram matrix of ``[X, 1]`` (:func:`_weighted_gram`
    with an intercept), that of ``[X - offset, 1]`` (of ``X - offset`` alone
    without ``fit_intercept``)."""
    d = G.shape[0] - 1
    mean = G[:d, d]
    C = G[:d, :d] - np.outer(mean, offset) - np.outer(offset, mean) + np.outer(offset, offset)
    if not fit_intercept:
        return C
    out = G.copy()
    out[:d, :d] = C
    out[:d, d] = out[d, :d] = mean - offset
    return out


def _power_of_two_scale(X):
    """1, or a power of two near ``max |X|`` when that is above 1e100 (tiny
    entries need nothing: their squares underflow to 0 harmlessly)."""
    data = X.data if sp.issparse(X) else X
    amax = float(np.max(np.abs(data))) if data.size else 0.0
    if amax <= 1e100 or not np.isfinite(amax):
        return 1.0
    return float(2.0 ** np.round(np.log2(amax)))


def gram_top_eigenvalue(X, sample_weight, fit_intercept, offset=None):
    """``lambda_max(X~' S X~) / sum(s)``: exact for moderate widths.

    Computed from the dense Gram matrix (one pass over ``X``) when the number
    of columns is at most 2000, otherwise by Lanczos iterations on the
    implicit operator with a 0.1% safety margin.  With ``offset`` (one value
    per feature), that of the design ``X - offset`` (never formed).
    """
    n_features = X.shape[1] + int(fit_intercept)
    if n_features <= DENSE_GRAM_MAX_FEATURES:
        # entries of huge magnitude: the Gram matrix of X / c (c a power
        # of two) with the ones column scaled to 1 / c, times c^2 (the result
        # may overflow to inf, the Gram matrix itself does not)
        c = _power_of_two_scale(X)
        G = _weighted_gram(X if c == 1.0 else X / c, sample_weight,
                           fit_intercept or offset is not None)
        if offset is not None:
            G = _centred_gram(G, np.asarray(offset, dtype=np.float64) / c, fit_intercept)
        if c != 1.0 and fit_intercept:
            G[:-1, -1] /= c
            G[-1, :-1] /= c
            G[-1, -1] /= c * c
        with np.errstate(over="ignore"):
            return float(max(np.linalg.eigvalsh(G)[-1], 0.0)) * c * c
    sw = np.asarray(sample_weight, dtype=np.float64)
    total = sw.sum()

    o = None if offset is None else np.asarray(offset, dtype=np.float64)

    def matvec(v):
        v = np.asarray(v, dtype=np.float64).ravel()
        w, b = (v[:-1], v[-1]) if fit_intercept else (v, 0.0)
        if o is not None:
            b = b - float(o @ w)
        r = sw * (X @ w + b)
        out = np.asarray(X.T @ r, dtype=np.float64).ravel()
        if o is not None:
            out -= o * r.sum()
        if fit_intercept:
            out = np.append(out, r.sum())
        return out / total

    op = LinearOperator((n_features, n_features), matvec=matvec, dtype=np.float64)
    top = eigsh(op, k=1, which="LA", tol=1e-6, return_eigenvectors=False)[0]
    return float(max(top, 0.0)) * _LANCZOS_SAFETY


def column_moments(X, sample_weight):
    """Weighted column means and standard deviations (float64)."""
    sw = np.asarray(sample_weight, dtype=np.float64)
    total = sw.sum()
    if sp.issparse(X):
        Xs = sp.csr_matrix(X, dtype=np.float64)
        mean = np.asarray(Xs.T @ sw).ravel() / total
        second = np.asarray(Xs.multiply(Xs).T @ sw).ravel() / total
    else:
        Xd = np.asarray(X, dtype=np.float64)
        mean = Xd.T @ sw / total
        second = (Xd * Xd).T @ sw / total
    return mean, np.sqrt(np.maximum(second - mean * mean, 0.0))


def preconditioned_gram_top_eigenvalue(X, sample_weight, offset, scale, fit_intercept):
    """``lambda_max(Z~' S Z~) / sum(s)`` of the design ``Z = (X - offset) / scale``
    (``Z~`` with a column of ones when fitting an intercept), without forming ``Z``.

    With ``offset`` the weighted column means, the centred columns are
    orthogonal to the intercept's column, whose eigenvalue is 1.
    """
    G = _weighted_gram(X, sample_weight, True)
    d = G.shape[0] - 1
    o = np.zeros(d) if offset is None else np.asarray(offset, dtype=np.float64)
    # (X - o)' S (X - o) / sum(s), and (X - o)' s / sum(s)
    C = _centred_gram(G, o, True)
    inv = np.append(1.0 / np.asarray(scale, dtype=np.float64), 1.0)
    C = C * inv[:, None] * inv[None, :]
    if not fit_intercept:
        C = C[:d, :d]
    return float(max(np.linalg.eigvalsh(C)[-1], 0.0))


def mean_row_norm(X, sample_weight, fit_intercept, offset=None):
    """``sum_i s_i ||x~_i|| / sum(s)`` (of the rows ``x_i - offset`` with an ``offset``)."""
    sq = _row_sq_norms(X, offset) + float(fit_intercept)
    sw = np.asarray(sample_weight, dtype=np.float64)
    return float(sw @ np.sqrt(sq) / sw.sum())


def max_row_sq_norm(X, fit_intercept, offset=None):
    """``max_i ||x~_i||^2``, a curvature bound valid for any mini-batch (of
    the rows ``x_i - offset`` with an ``offset``)."""
    if X.shape[0] == 0:
        return 0.0
    return float(_row_sq_norms(X, offset).max() + float(fit_intercept))


def linear_lipschitz(loss, X, sample_weight, *, fit_intercept, alpha=0.0, minibatch=False,
                     offset=None):
    """Valid constant ``L`` for a linear model under ``loss``.

    Smooth loss: the smoothness constant of the objective (full batch) or of
    any mini-batch objective.  Non-smooth loss: the Lipschitz constant of the
    data term.  ``alpha`` (the L2 term's curvature) is added in both cases.
    With ``offset``, the constant in the centred coordinates ``(W, b + offset W)``
    of the same model (the design ``X - offset``), where the training loop
    steps when it centres its updates.
    """
    if loss.smooth:
        if minibatch:
            data = max_row_sq_norm(X, fit_intercept, offset)
        else:
            data = gram_top_eigenvalue(X, sample_weight, fit_intercept, offset)
        L = loss.curvature * data
    else:
        if minibatch:
            data = np.sqrt(max_row_sq_norm(X, fit_intercept, offset))
        else:
            data = mean_row_norm(X, sample_weight, fit_intercept, offset)
        L = loss.lipschitz * data
    return float(L + alpha)


def mean_absolute_deviation(Y, sample_weight, centre):
    """Per column of ``Y``: the weighted mean of ``|y - centre|`` (float64)."""
    Y = np.asarray(Y, dtype=np.float64)
    w = np.asarray(sample_weight, dtype=np.float64)
    return w @ np.abs(Y - np.asarray(centre, dtype=np.float64)) / w.sum()


def distance_scale(X, Y, sample_weight, intercept, fit_intercept, offset=None):
    """``R`` of the subgradient schedule ``R / (L sqrt(t))``, one per column of ``Y``.

    A step ``1/L`` of a non-smooth loss moves the weights by at most one
    unit, whatever the units of ``X`` and ``y``; the classical schedule
    ``R / (G sqrt(t))`` (``G`` the Lipschitz constant, ``R`` the distance
    from the start to the optimum; e.g. Nesterov, *Introductory Lectures on
    Convex Optimization*, 2004, sec. 3.2.3) scales the steps with the
    solution instead.  ``R`` is estimated as ``d / s``: ``d`` is the weighted
    mean absolute deviation of the targets from the starting constant
    ``intercept`` (the loss's optimal constant), the size of what the
    features have to explain, and ``s`` the root mean square entry of the
    design (the column of ones included when ``fit_intercept``), so that
    ``d / s`` is the size of coefficients that explain ``d`` with features
    of size ``s``.  Multiplying ``y`` by ``c`` multiplies every iterate by
    ``c``; multiplying ``X`` by ``c`` divides them by ``c``.  When ``d`` is 0
    (one row, a constant target) the mean ``|y|`` is used, and 1.0 when that
    is 0 too.  With ``offset``, the design is ``X - offset`` (the centred
    coordinates of :func:`linear_lipschitz`).
    """
    w = np.asarray(sample_weight, dtype=np.float64)
    total = w.sum()
    dev = mean_absolute_deviation(Y, w, intercept)
    size = mean_absolute_deviation(Y, w, 0.0)
    d = np.where(dev > 0, dev, np.where(size > 0, size, 1.0))
    n_cols = X.shape[1] + int(fit_intercept)
    mean_sq = (float(w @ _row_sq_norms(X, offset)) / total + float(fit_intercept)) / max(n_cols, 1)
    s = np.sqrt(mean_sq) if mean_sq > 0 and np.isfinite(mean_sq) else 1.0
    out = d / s
    return float(out[0]) if out.size == 1 else out


# ----------------------------------------------------------------------------
# Published formulas ('paper' mode)
# ----------------------------------------------------------------------------


def _with_bias_column(X, fit_intercept):
    if not fit_intercept:
        return X
    ones = np.ones((X.shape[0], 1), dtype=X.dtype)
    if sp.issparse(X):
        return sp.hstack([ones, X], format="csr")
    return np.hstack([ones, X])


def _frobenius(A):
    if sp.issparse(A):
        return float(np.sqrt(A.multiply(A).sum()))
    return float(np.linalg.norm(A))


def _batches(n, batch_size):
    if batch_size is None or batch_size >= n:
        return [slice(0, n)]
    return [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]


def paper_frobenius_factor(X, *, fit_intercept, batch_size=None):
    """``K_z / m``: max over batches of ``||[1, X_b]||_F / m``, m the batch size.

    This is the data factor of the published rules (LipschitzLR eq. 16-29,
    LALR): a bias column of ones prepended, the Frobenius norm, division by
    the nominal batch size (also for a smaller last batch, as the published
    code does).
    """
    Xt = _with_bias_column(X, fit_intercept)
    n = Xt.shape[0]
    m = n if batch_size is None else min(batch_size, n)
    return max(_frobenius(Xt[b]) for b in _batches(n, batch_size)) / m


def paper_weight_bound(X, fit_intercept):
    """``K = (a + b) / 2``, the published estimate of ``||w||`` (LipschitzLR 8.1).

    ``a`` is the sum of the column means and ``b`` the mean of the column
    maxima of the design (bias column included when an intercept is fitted).
    """
    Xt = _with_bias_column(X, fit_intercept)
    if sp.issparse(Xt):
        means = np.asarray(Xt.mean(axis=0, dtype=np.float64)).ravel()
        maxima = Xt.max(axis=0).toarray().ravel()
    else:
        # (float64 accumulation: a float32 sum over many rows loses the mean)
        means = Xt.mean(axis=0, dtype=np.float64)
        maxima = Xt.max(axis=0)
    return float((means.sum() + maxima.mean()) / 2.0)


def paper_squared_lipschitz(X, y, *, fit_intercept, batch_size=None, alpha=0.0):
    """Published least-squares constant (LipschitzLR 5.1, 6.3).

    ``L = (K/m) ||X~' X~|| + (1/m) ||y' X~|| + alpha * K`` with Frobenius
    norms, ``K`` from :func:`paper_weight_bound`, maximised over batches.
    """
    Xt = _with_bias_column(X, fit_intercept)
    K = paper_weight_bound(X, fit_intercept)
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    n = Xt.shape[0]
    m = n if batch_size is None else min(batch_size, n)
    best = 0.0
    for b in _batches(n, batch_size):
        Xb = Xt[b]
        G = Xb.T @ Xb
        G = G.toarray() if sp.issparse(G) else G
        yX = np.asarray(Xb.T @ y[b])
        best = max(best, K * np.linalg.norm(G) / m + np.linalg.norm(yX) / m)
    return float(best + alpha * K)


def paper_linear_lipschitz(loss, X, y, *, fit_intercept, alpha=0.0, batch_size=None):
    """The published constant for a linear model under ``loss``.

    squared error: :func:`paper_squared_lipschitz`; absolute error and
    log-cosh: ``K_z / m``; quantile: ``max(tau, 1 - tau) K_z / m``
    (LALR); an L2 term adds ``alpha * K`` (LipschitzLR 6.3).  Losses
    without a published rule (Huber) get the LALR form with their own
    Lipschitz constant (``epsilon K_z / m`` for Huber).
    """
    if loss.name == "squared_error":
        return paper_squared_lipschitz(
            X, y, fit_intercept=fit_intercept, batch_size=batch_size, alpha=alpha
        )
    factor = paper_frobenius_factor(X, fit_intercept=fit_intercept, batch_size=batch_size)
    G = loss.lipschitz if loss.lipschitz is not None else 1.0
    L = G * factor
    if alpha:
        L += alpha * paper_weight_bound(X, fit_intercept)
    return float(L)


def paper_log_cosh_lipschitz(
    X, y, *, fit_intercept, batch_size=None, alpha=0.0, output_at_zero=0.0, scale=1.0
):
    """The published "tighter" log-cosh constant (LipGene / the LALR talk).

    ``L = (1/m) |tanh(g(0) - ||y||)| K_z``, maximised over batches, plus
    ``alpha * K`` for an L2 term as in :func:`paper_linear_lipschitz`.
    How each symbol is read:

    * ``m``: the batch size (the number of samples for full batch), as in
      every published rule (LipschitzLR 4.3, 8.3).
    * ``g(0)``: the output activation at zero pre-activation, i.e. the
      prediction of the model at zero weights (``output_at_zero``; 0 for a
      linear model, whose output activation is the identity).  The
      derivative of ``log cosh(a - y)`` is ``tanh(a - y)``, so the argument
      of ``tanh`` is a residual "prediction minus target" evaluated at the
      start of training, in the same way as the least-squares rule's
      ``K_a + ||y||`` bounds ``|a - y|``; reading ``g(0)`` as the loss value
      at ``w = 0`` would subtract a norm of targets from a loss value, which
      has no units in common with a residual.
    * ``||y||``: the 2-norm of the batch's target vector (of each target
      column for multi-output ``y``; the largest factor is used).
    * ``max_j a_j``: ``K_z`` read as the Frobenius norm of the design of the
      batch with a column of ones prepended, as the group's code computes it
      and as the published constants reproduced here require (breast cancer
      1/L = 4280.2277).  The literal "largest entry" of one row gives a
      constant up to ``sqrt(m (d + 1))`` times smaller (about ``sqrt(m)``
      with the bias column of ones): on diabetes a step of 442 where
      gradient descent on log-cosh is stable only below 2.

    ``g(0) - ||y||`` is negative whenever ``||y|| > g(0)`` -- always for a
    linear model and non-zero targets -- and then so is the ``tanh``.  A
    Lipschitz constant bounds a magnitude (``|tanh(r)|`` bounds the
    derivative of the loss), so the absolute value is used.  Since
    ``|tanh| < 1`` the result is at most :func:`paper_frobenius_factor`, the
    published constant of absolute error and log-cosh, and equal to it up to
    ``1 - tanh(||y||) ~ 2 exp(-2 ||y||)``: e.g. 4.5e-5 smaller for ``||y|| = 5``.
    So it is "tighter" only for batches whose targets are nearly zero.

    With a ``scale`` ``s`` (the loss ``s^2 log cosh(r / s)``, whose
    derivative is ``s tanh(r / s)``) the factor becomes
    ``s |tanh((g(0) - ||y||) / s)|``, the same reading of the rule; ``s = 1``
    is the published constant.  ``scale`` may hold one value per output.

    Raises
    ------
    ValueError
        If every batch gives a zero constant (all targets equal to
        ``g(0)``): ``tanh(0) = 0`` and the rate ``1/L`` would be infinite.
    """
    Xt = _with_bias_column(X, fit_intercept)
    Y = np.asarray(y, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.shape[0] != Xt.shape[0]:
        raise ValueError(f"X has {Xt.shape[0]} rows but y has {Y.shape[0]}.")
    n = Xt.shape[0]
    m = n if batch_size is None else min(batch_size, n)
    best = 0.0
    for b in _batches(n, batch_size):
        y_norm = np.linalg.norm(Y[b], axis=0)
        s = np.asarray(scale, dtype=np.float64)
        factor = float(np.max(s * np.abs(np.tanh((output_at_zero - y_norm) / s))))
        best = max(best, factor * _frobenius(Xt[b]) / m)
    if best == 0.0:
        raise ValueError(
            "The published log-cosh constant is zero: every batch's target norm equals "
            "g(0), so tanh(g(0) - ||y||) = 0. Use learning_rate='lipschitz'."
        )
    L = best
    if alpha:
        L += alpha * paper_weight_bound(X, fit_intercept)
    return float(L)


# ----------------------------------------------------------------------------
# The constant of a linear model for a learning-rate mode
# ----------------------------------------------------------------------------


def linear_constant(loss, X, Y, sample_weight, *, mode, fit_intercept, alpha=0.0,
                    batch_size=None, penalty=None, offset=None):
    """``L`` of a linear model: the published formula for ``mode='paper'``,
    else the valid bound (:func:`linear_lipschitz` in the coordinates centred
    at ``offset``, plus the penalty's curvature).  ``penalty`` is a
    :class:`~sklipschitz._engine.penalties.Tikhonov` or None."""
    if mode == "paper":
        if loss.name == "log_cosh":  # the published "tighter" log-cosh rule
            L = paper_log_cosh_lipschitz(
                X, Y, fit_intercept=fit_intercept, alpha=alpha, batch_size=batch_size,
                scale=getattr(loss, "scale", 1.0),
            )
        else:
            L = paper_linear_lipschitz(
                loss, X, Y, fit_intercept=fit_intercept, alpha=alpha, batch_size=batch_size
            )
        if penalty is not None:
            L += penalty.paper_term(paper_weight_bound(X, fit_intercept))
        return L
    minibatch = batch_size is not None and batch_size < X.shape[0]
    L = linear_lipschitz(
        loss, X, sample_weight, fit_intercept=fit_intercept, alpha=alpha, minibatch=minibatch,
        offset=offset,
    )
    if penalty is not None:
        L += penalty.curvature
    return L
