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

    def __init__(self, layer_sizes, activation=None, penalty_matrix=None):
        self.layer_sizes = tuple(int(s) for s in layer_sizes)
        self.activation = activation
        if penalty_matrix is not None and len(self.layer_sizes) != 2:
            raise ValueError("penalty_matrix applies to linear models only")
        self.penalty_matrix = penalty_matrix

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

    def predict_raw(self, X, coefs, intercepts):
        return self.forward(X, coefs, intercepts)[0]

    def backward(self, delta, pre, acts, coefs):
        """Gradients of ``sum_i delta_i . raw_i`` with respect to all parameters.

        ``delta`` is ``s_i * dloss/draw_i / sum(s)``, so the results are the
        gradients of the weighted-mean objective (without penalty).
        """
        n_layers = self.n_layers
        coef_grads = [None] * n_layers
        intercept_grads = [None] * n_layers
        for i in range(n_layers - 1, -1, -1):
            a = acts[i]
            g = a.T @ delta
            coef_grads[i] = np.asarray(g) if sp.issparse(a) else g
            intercept_grads[i] = delta.sum(axis=0)
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
        raw, pre, acts = self.forward(X, coefs, intercepts)
        if normalized_weight is None:
            normalized_weight = (sample_weight / sample_weight.sum()).astype(raw.dtype, copy=False)
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
        coef_grads, intercept_grads = self.backward(delta, pre, acts, coefs)
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
        raw = self.predict_raw(X, coefs, intercepts)
        value = loss.objective(Y, raw, sample_weight)
        if alpha:
            value += 0.5 * alpha * sum(float(np.vdot(W, W)) for W in coefs)
        return value + self._extra_penalty(coefs)[0]
