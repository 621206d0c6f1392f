"""A dense feed-forward network in NumPy; the linear model is the case with no hidden layer.

Parameters are two lists, ``coefs`` (``(n_in, n_out)`` matrices) and
``intercepts`` (``(n_out,)`` vectors), as in scikit-learn's MLP.  The last
layer has no activation: it produces the raw predictions a loss from
:mod:`sklipschitz._engine.losses` consumes.  The first layer accepts a scipy sparse
``X`` (``X @ W`` and ``X.T @ delta`` never densify it).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg import blas as _blas


def _axpy(a, x, y):
    """``y += a * x`` in place without a temporary (BLAS axpy on contiguous arrays)."""
    if x.dtype == y.dtype and x.flags.c_contiguous and y.flags.c_contiguous and (
        y.dtype in (np.float32, np.float64)
    ):
        fn = _blas.daxpy if y.dtype == np.float64 else _blas.saxpy
        fn(x.ravel(), y.ravel(), a=a)
    else:
        y += a * x


class DenseNetwork:
    """Layer sizes, a hidden activation, and forward/backward passes.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``(n_features, *hidden, n_outputs)``; two entries make a linear model.
    activation : Activation or None
        Hidden-layer activation (ignored without hidden layers).
    penalty_matrix : ndarray of shape (n_features, n_features) or None
        Linear models only: an extra quadratic penalty ``1/2 W' P W`` per
        output (``P = 2 G'G`` is Tikhonov's ``||G w||^2``).
    """

    def __init__(self, layer_sizes, activation=None, penalty_matrix=None, *, buffers=False):
        self.layer_sizes = tuple(int(s) for s in layer_sizes)
        self.activation = activation
        if penalty_matrix is not None and len(self.layer_sizes) != 2:
            raise ValueError("penalty_matrix applies to linear models only")
        self.penalty_matrix = penalty_matrix
        # with ``buffers`` the training passes (objective_and_gradient) write
        # into arrays kept across calls: the gradients returned are only
        # valid until the next call
        self.buffers = buffers
        self._work = None
        # an optional observer of the training passes' per-layer gradients
        # (evidence.GradientEvidence): None changes nothing
        self.evidence = None

    def _extra_penalty(self, coefs):
        """Value and gradient of ``1/2 W' P W`` (0, None without P)."""
        if self.penalty_matrix is None:
            return 0.0, None
        W = coefs[0]
        PW = (self.penalty_matrix @ W).astype(W.dtype, copy=False)
        return 0.5 * float(np.vdot(W, PW)), PW

    @property
    def n_layers(self):
        return len(self.layer_sizes) - 1

    def init_params(self, rng, dtype=np.float64):
        """Glorot-uniform hidden layers; a linear model starts at zero."""
        coefs, intercepts = [], []
        for i, (fan_in, fan_out) in enumerate(zip(self.layer_sizes[:-1], self.layer_sizes[1:])):
            if self.n_layers == 1:
                W = np.zeros((fan_in, fan_out), dtype=dtype)
            else:
                bound = np.sqrt(6.0 / (fan_in + fan_out))
                W = rng.uniform(-bound, bound, (fan_in, fan_out)).astype(dtype)
            coefs.append(W)
            intercepts.append(np.zeros(fan_out, dtype=dtype))
        return coefs, intercepts

    def forward(self, X, coefs, intercepts):
        """Return ``(raw, pre_activations, activations)``.

        ``activations[0]`` is ``X``; ``activations[l]`` is the output of
        hidden layer ``l``; ``pre_activations[l-1]`` its input.
        """
        acts = [X]
        pre = []
        a = X
        for i, (W, b) in enumerate(zip(coefs, intercepts)):
            z = a @ W
            z += b
            if i < self.n_layers - 1:
                pre.append(z)
                a = self.activation.value(z)
                acts.append(a)
            else:
                return z, pre, acts
        raise ValueError("network has no layer")

    def release(self):
        """Drop the training buffers (they are reallocated when needed)."""
        self._work = None

    def _workspace(self, rows, dtype):
        """Buffers of ``rows`` rows (views of the largest seen) for one pass."""
        work = self._work
        if work is None or work["rows"] < rows or work["dtype"] != dtype:
            hidden = self.layer_sizes[1:-1]
            work = self._work = {
                "rows": rows,
                "dtype": dtype,
                # per hidden layer: pre-activations, activations, derivative, scratch
                "layers": [[np.empty((rows, h), dtype=dtype) for _ in range(4)] for h in hidden],
                # back-propagated gradient of each hidden layer
                "deltas": [np.empty((rows, h), dtype=dtype) for h in hidden],
                "raw": np.empty((rows, self.layer_sizes[-1]), dtype=dtype),
                "grads": [
                    np.empty((a, b), dtype=dtype)
                    for a, b in zip(self.layer_sizes[:-1], self.layer_sizes[1:])
                ],
            }
        return work

    def forward_buffered(self, X, coefs, intercepts, *, derivatives=True):
        """:meth:`forward` into the workspace: ``(raw, derivatives, activations)``.

        The activations and derivatives (None for slope 1) of every hidden
        layer are computed in one fused, in-place evaluation of the unit
        (:meth:`Activation.forward_train`); without ``derivatives`` only the
        values.  Every array returned is a buffer overwritten by the next
        call.
        """
        rows = X.shape[0]
        work = self._workspace(rows, coefs[0].dtype)
        acts, ders = [X], []
        a = X
        n_hidden = self.n_layers - 1
        for i in range(n_hidden):
            Z, A, D, T = (buf[:rows] for buf in work["layers"][i])
            if sp.issparse(a):
                Z[...] = a @ coefs[i]
            else:
                np.matmul(a, coefs[i], out=Z)
            Z += intercepts[i]
            if derivatives:
                a, d = self.activation.forward_train(Z, A, D, T)
                ders.append(d)
            else:
                a = self.activation.value_into(Z, T)
            acts.append(a)
        raw = work["raw"][:rows]
        if sp.issparse(a):
            raw[...] = a @ coefs[-1]
        else:
            np.matmul(a, coefs[-1], out=raw)
        raw += intercepts[-1]
        return raw, ders, acts

    def _objective_and_gradient_buffered(self, X, Y, loss, alpha, coefs, intercepts, weight):
        """:meth:`objective_and_gradient` with the workspace (dense hidden layers)."""
        raw, ders, acts = self.forward_buffered(X, coefs, intercepts)
        work = self._work
        rows = X.shape[0]
        scale = None
        if isinstance(weight, float):
            scale, weight = weight, 1.0
        fused = getattr(loss, "value_and_weighted_gradient", None)
        if fused is not None:
            value, delta = fused(Y, raw, weight)
        elif scale is not None:
            value = float(loss.loss(Y, raw).sum())
            delta = loss.gradient(Y, raw)
        else:
            value = float(weight @ loss.loss(Y, raw))
            delta = loss.gradient(Y, raw)
            delta *= weight.astype(delta.dtype, copy=False)[:, None]
        if scale is not None:
            # the gradients are linear in delta: scale it once (n x outputs)
            value *= scale
            delta *= delta.dtype.type(scale)  # the loss's own array (raw's buffer)
        n_layers = self.n_layers
        coef_grads = [None] * n_layers
        intercept_grads = [None] * n_layers
        evidence = self.evidence
        if evidence is not None:
            evidence.begin(weight if scale is None else scale, rows, n_layers)
        for i in range(n_layers - 1, -1, -1):
            a = acts[i]
            if sp.issparse(a):
                coef_grads[i] = np.asarray(a.T @ delta)
            else:
                coef_grads[i] = np.matmul(a.T, delta, out=work["grads"][i])
            intercept_grads[i] = delta.sum(axis=0)
            if evidence is not None:
                evidence.layer(i, a, delta, coef_grads[i], intercept_grads[i])
            if i > 0:
                prev = work["deltas"][i - 1][:rows]
                np.matmul(delta, coefs[i].T, out=prev)
                if ders[i - 1] is not None:
                    prev *= ders[i - 1]
                delta = prev
        if alpha:
            for W, gW in zip(coefs, coef_grads):
                _axpy(alpha, W, gW)
                value += 0.5 * alpha * float(np.vdot(W, W))
        return value, coef_grads, intercept_grads, acts

    def predict_raw(self, X, coefs, intercepts):
        return self.forward(X, coefs, intercepts)[0]

    def backward(self, delta, pre, acts, coefs, *, evidence=None, factor=1.0):
        """Gradients of ``sum_i delta_i . raw_i`` with respect to all parameters.

        ``delta`` is ``s_i * dloss/draw_i / sum(s)``, so the results are the
        gradients of the weighted-mean objective (without penalty).
        ``evidence`` (a GradientEvidence) sees every layer's activations,
        back-propagated gradient and gradients, ``factor`` times which are
        the weighted ones.
        """
        n_layers = self.n_layers
        coef_grads = [None] * n_layers
        intercept_grads = [None] * n_layers
        for i in range(n_layers - 1, -1, -1):
            a = acts[i]
            g = a.T @ delta
            coef_grads[i] = np.asarray(g) if sp.issparse(a) else g
            intercept_grads[i] = delta.sum(axis=0)
            if evidence is not None:
                evidence.layer(i, a, delta, coef_grads[i], intercept_grads[i], factor)
            if i > 0:
                d = self.activation.derivative(pre[i - 1], acts[i])
                delta = delta @ coefs[i].T
                delta *= d
        return coef_grads, intercept_grads

    def objective_and_gradient(
        self, X, Y, sample_weight, loss, alpha, coefs, intercepts, *, normalized_weight=None
    ):
        """Weighted-mean loss plus ``alpha/2 * sum ||W||^2``, and its gradient.

        ``normalized_weight``, if given, is ``sample_weight / sample_weight.sum()``
        in the dtype of ``X``, or a Python float when all samples have the
        same weight (``1 / n_samples``); a caller that evaluates the same
        samples many times (full-batch epochs) computes it once.  With equal
        weights the per-sample scaling is skipped: the gradients, linear in
        the back-propagated ``delta``, are scaled once at the end.
        """
        if normalized_weight is None:
            normalized_weight = (sample_weight / sample_weight.sum()).astype(
                coefs[0].dtype, copy=False
            )
        if self.buffers and self.n_layers > 1 and self.penalty_matrix is None:
            return self._objective_and_gradient_buffered(
                X, Y, loss, alpha, coefs, intercepts, normalized_weight
            )
        raw, pre, acts = self.forward(X, coefs, intercepts)
        scale = None
        if isinstance(normalized_weight, float):
            scale, normalized_weight = normalized_weight, 1.0
        fused = getattr(loss, "value_and_weighted_gradient", None)
        if fused is not None:
            # raw is this call's own temporary: the loss may overwrite it
            value, delta = fused(Y, raw, normalized_weight)
        elif scale is not None:
            value = float(loss.loss(Y, raw).sum())
            delta = loss.gradient(Y, raw)
        else:
            value = float(normalized_weight @ loss.loss(Y, raw))
            delta = loss.gradient(Y, raw)
            delta *= normalized_weight.astype(delta.dtype, copy=False)[:, None]
        evidence = self.evidence
        if evidence is not None:
            evidence.begin(
                normalized_weight if scale is None else scale, X.shape[0], self.n_layers
            )
        coef_grads, intercept_grads = self.backward(
            delta, pre, acts, coefs, evidence=evidence, factor=1.0 if scale is None else scale
        )
        if scale is not None:
            value *= scale
            for g in coef_grads + intercept_grads:
                g *= scale
        if alpha:
            for W, gW in zip(coefs, coef_grads):
                gW += alpha * W
                value += 0.5 * alpha * float(np.vdot(W, W))
        extra, PW = self._extra_penalty(coefs)
        if PW is not None:
            coef_grads[0] += PW
            value += extra
        return value, coef_grads, intercept_grads, acts

    def objective(self, X, Y, sample_weight, loss, alpha, coefs, intercepts):
        work = self._work
        if self.buffers and work is not None and X.shape[0] > work["rows"]:
            # in chunks of the workspace's rows: no temporary of the data's size
            rows = work["rows"]
            total = 0.0
            for start in range(0, X.shape[0], rows):
                sl = slice(start, start + rows)
                raw = self.forward_buffered(X[sl], coefs, intercepts, derivatives=False)[0]
                total += float(sample_weight[sl] @ loss.loss(Y[sl], raw))
            value = total / float(sample_weight.sum())
        else:
            raw = self.predict_raw(X, coefs, intercepts)
            value = loss.objective(Y, raw, sample_weight)
        if alpha:
            value += 0.5 * alpha * sum(float(np.vdot(W, W)) for W in coefs)
        return value + self._extra_penalty(coefs)[0]
