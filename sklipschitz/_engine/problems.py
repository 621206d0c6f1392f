"""What the loop minimises: an objective and its gradient on rows of the data.

A problem answers ``evaluate(coefs, intercepts, rows)`` with the objective on
the rows (``None``: all of them), the gradients of every parameter (in the
order ``coefs + intercepts``) and the rows' weight sum.

* :class:`NetworkProblem` -- any :class:`~sklipschitz._engine.network.DenseNetwork`
  under any loss, on full batches or mini-batches; the value is a float.
* :class:`ColumnProblem` -- a linear model whose output columns are
  independent problems (a grid of quantile levels, one-vs-rest classes),
  full batch; the value is one float per column, and ``restrict(keep)``
  drops columns (the loop's active-column mask).
* :class:`CentredProblem` -- a one-layer problem in coordinates centred at
  an offset of the features (mini-batch and streaming fits of linear models).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class NetworkProblem:
    """The weighted-mean loss of a network plus ``alpha/2 sum ||W||^2``
    (plus the value of an optional :class:`~.penalties.L1` penalty ``l1``,
    whose proximal map the update applies; its gradient is not included)."""

    def __init__(self, network, loss, X, Y, sample_weight, *, alpha=0.0, fit_intercept=True,
                 l1=None):
        self.network, self.loss, self.l1 = network, loss, l1
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self.alpha, self.fit_intercept = alpha, fit_intercept
        self.n_samples = X.shape[0]
        # equal weights (the default): no per-sample scaling in any batch
        self.uniform = self.n_samples > 0 and bool(sample_weight.min() == sample_weight.max())
        self._full = None  # (weight sum, normalised weights) of the whole data

    def _normalized(self, sw):
        wsum = float(sw.sum())
        if wsum <= 0:
            return wsum, None
        if self.uniform:
            return wsum, 1.0 / sw.shape[0]
        return wsum, (sw / wsum).astype(self.X.dtype, copy=False)

    def evaluate(self, coefs, intercepts, rows=None):
        if rows is None:
            # no indexing: X[:] would copy a sparse X every epoch
            X, Y = self.X, self.Y
            if self._full is None:
                self._full = self._normalized(self.sample_weight)
            wsum, wnorm = self._full
        else:
            X, Y = self.X[rows], self.Y[rows]
            wsum, wnorm = self._normalized(self.sample_weight[rows])
        if wsum <= 0:
            return 0.0, None, 0.0
        value, cg, ig, _ = self.network.objective_and_gradient(
            X, Y, None, self.loss, self.alpha, coefs, intercepts, normalized_weight=wnorm
        )
        if not self.fit_intercept:
            for g in ig:
                g[...] = 0.0
        if self.l1 is not None:
            value = value + self.l1.value(coefs)
        return value, cg + ig, wsum

    def objective(self, coefs, intercepts):
        value = self.network.objective(
            self.X, self.Y, self.sample_weight, self.loss, self.alpha, coefs, intercepts
        )
        return value if self.l1 is None else value + self.l1.value(coefs)


class CentredProblem:
    """A linear problem (one coefficient matrix) in the variables ``V = W``,
    ``c = b + offset W``: the same model as ``(X - offset) V + c``.

    Wraps a problem of one linear layer (a :class:`NetworkProblem` of a
    one-layer network) for the loop, on full batches or mini-batches: the
    gradient of ``V`` is ``g_W - offset' g_b``, that of ``c`` is ``g_b``, and
    the value (penalties included: they act on ``W = V``) is unchanged.  Any
    update (Nesterov's momentum included) then steps in coordinates whose
    design ``X - offset`` has no direction of size ``|offset|`` next to the
    intercept's column.  :meth:`variables` and :meth:`original` convert
    ``(W, b)`` and ``(V, c)``; the offset must stay fixed while the loop's
    state (e.g. momentum) lives in these variables.
    """

    def __init__(self, problem, offset):
        self.problem, self.offset = problem, np.asarray(offset, dtype=np.float64)
        self.n_samples = problem.n_samples

    def original(self, V, c):
        """The coefficients and intercepts on ``X`` of the variables ``V, c``."""
        return V, c - (self.offset @ V).astype(c.dtype)

    def variables(self, W, b):
        """The inverse of :meth:`original`."""
        return W, b + (self.offset @ W).astype(b.dtype)

    def evaluate(self, coefs, intercepts, rows=None):
        (V,), (c,) = coefs, intercepts
        W, b = self.original(V, c)
        value, grads, wsum = self.problem.evaluate([W], [b], rows)
        if grads is not None:
            gW, gb = grads
            grads = [gW - np.outer(self.offset, gb).astype(gW.dtype), gb]
        return value, grads, wsum

    def objective(self, coefs, intercepts):
        (V,), (c,) = coefs, intercepts
        W, b = self.original(V, c)
        return self.problem.objective([W], [b])


class ColumnProblem:
    """A linear model ``X W + b`` under a loss separable over output columns.

    The value of :meth:`evaluate` is the objective of every column
    (weighted-mean loss plus ``1/2 sum_f alpha_f W_fj^2``; ``alpha`` is a
    float or one weight per feature).  The loss is bound to the targets and
    weights once (:meth:`Loss.bind`), and the scores live in a buffer reused
    across evaluations.

    With ``offset`` and ``scale`` (one value per feature) the variables are
    those of the centred and scaled design ``(X - offset) / scale``, applied
    implicitly: ``X`` is never copied (it may be sparse), the scores are
    ``X (W / scale) + b - offset (W / scale)`` and the gradient is mapped
    back the same way.  Such a preconditioning changes the path of gradient
    descent, not the problem: :meth:`original` gives the coefficients of
    ``X`` itself.
    """

    def __init__(self, loss, X, Y, sample_weight, *, alpha=0.0, fit_intercept=True, bound=None,
                 offset=None, scale=None):
        self.X, self.alpha, self.fit_intercept = X, alpha, fit_intercept
        self.offset, self.scale = offset, scale
        self.bound = loss.bind(Y, sample_weight) if bound is None else bound
        self.n_samples = X.shape[0]
        self.wsum = float(np.sum(sample_weight))
        self._Z = np.empty((X.shape[0], Y.shape[1]), dtype=X.dtype)
        self._sparse = sp.issparse(X)

    def _scale_column(self, dtype):
        """``scale[:, None]`` in ``dtype`` (kept: the loop asks every epoch)."""
        column = self.__dict__.get("_scale_cast")
        if column is None or column.dtype != dtype:
            column = self._scale_cast = self.scale[:, None].astype(dtype, copy=False)
        return column

    def original(self, W, b):
        """The coefficients and intercepts on ``X`` of the variables ``W, b``."""
        if self.scale is not None:
            W = W / self._scale_column(W.dtype)
        if self.offset is not None:
            b = b - (self.offset @ W).astype(b.dtype, copy=False)
        return W, b

    def variables(self, W, b):
        """The inverse of :meth:`original`."""
        if self.offset is not None:
            b = b + (self.offset @ W).astype(b.dtype)
        if self.scale is not None:
            W = W * self.scale[:, None].astype(W.dtype)
        return W, b

    def evaluate(self, coefs, intercepts, rows=None):
        if rows is not None:
            raise ValueError("a ColumnProblem is evaluated on the full batch only")
        (V,), (c,) = coefs, intercepts
        W, b = self.original(V, c)
        Z = self._Z
        if self._sparse:
            Z[...] = self.X @ W
        else:
            np.matmul(self.X, W, out=Z)
        np.add(Z, b, out=Z)
        values, delta = self.bound.columns(Z)
        self.scores = Z  # the scores of this evaluation (until the next one)
        gW = np.asarray(self.X.T @ delta)
        if self.fit_intercept:  # column sums as a product: faster than sum(axis=0)
            gb = self._ones(delta.dtype) @ delta
        else:
            gb = np.zeros(V.shape[1], dtype=V.dtype)
        if self.offset is not None:
            gW -= np.multiply.outer(self.offset, gb).astype(gW.dtype, copy=False)
        if self.scale is not None:
            gW /= self._scale_column(gW.dtype)
        if np.ndim(self.alpha):
            aV = self._alpha_column(V.dtype) * V
            values = values + 0.5 * np.einsum("ij,ij->j", V, aV, dtype=np.float64)
            gW += aV
        elif self.alpha:
            values = values + 0.5 * self.alpha * np.einsum("ij,ij->j", V, V, dtype=np.float64)
            gW += self.alpha * V
        return values, [gW, gb], self.wsum

    def _alpha_column(self, dtype):
        """``alpha[:, None]`` in ``dtype`` (kept: the loop asks every epoch)."""
        column = self.__dict__.get("_alpha_cast")
        if column is None or column.dtype != dtype:
            column = self._alpha_cast = self.alpha[:, None].astype(dtype, copy=False)
        return column

    def _ones(self, dtype):
        """A vector of ones, one per row (kept: the loop asks every epoch)."""
        ones = self.__dict__.get("_ones_vector")
        if ones is None or ones.dtype != dtype:
            ones = self._ones_vector = np.ones(self.n_samples, dtype=dtype)
        return ones

    def restrict(self, keep):
        part = type(self).__new__(type(self))
        part.__dict__.update(self.__dict__)
        part.bound = self.bound.take(keep)
        part._Z = np.empty((self.X.shape[0], int(np.count_nonzero(keep))), dtype=self.X.dtype)
        part.__dict__.pop("scores", None)
        return part
