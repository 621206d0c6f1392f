"""Penalties beyond the plain L2 term: Tikhonov's ``||G w||^2``.

The plain ``alpha/2 ||w||^2`` is built into the network's objective (its
curvature ``alpha`` is added to every constant).  A Tikhonov matrix ``G``
adds ``1/2 w' P w`` with ``P = 2 G'G`` per output; it states its own
constants, like the losses do.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class Tikhonov:
    """The penalty ``||G w||^2 = 1/2 w' P w``, ``P = 2 G'G``.

    Parameters
    ----------
    G : array-like or sparse matrix of shape (n_rows, n_features)
    n_features : int
    """

    def __init__(self, G, n_features):
        if sp.issparse(G):
            G = G.toarray()
        try:
            G = np.asarray(G, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"tikhonov must be a numeric matrix: {exc}") from None
        if G.ndim != 2 or G.shape[1] != n_features:
            raise ValueError(
                f"tikhonov must be a matrix with n_features={n_features} columns, "
                f"got shape {G.shape}."
            )
        if not np.all(np.isfinite(G)):
            raise ValueError("tikhonov contains NaN or infinity.")
        self.matrix = 2.0 * (G.T @ G)

    @property
    def curvature(self):
        """``lambda_max(P) = 2 lambda_max(G'G)``: the penalty's smoothness constant."""
        return float(np.linalg.eigvalsh(self.matrix)[-1])

    def paper_term(self, weight_bound):
        """The published addition ``2 K ||G'G||_F`` (LipschitzLR 6.3)."""
        return weight_bound * float(np.linalg.norm(self.matrix))

    def whitening_root(self, alpha):
        """``R^-1`` with ``R'R = alpha I + P`` (None when that is singular).

        With ``v = R w`` the penalty ``1/2 w'(alpha I + P)w`` becomes the
        plain ``1/2 ||v||^2`` on the design ``X R^-1``, which the exact
        full-batch solver handles.
        """
        M = alpha * np.eye(self.matrix.shape[0]) + self.matrix
        lam, Q = np.linalg.eigh(M)
        if lam[0] <= 1e-12 * max(lam[-1], 1e-300):
            return None
        return Q / np.sqrt(lam)


def penalty_strengths(penalty, alpha, l1_ratio):
    """``(l2, l1)``: the strengths of ``l2/2 ||w||^2 + l1 ||w||_1``.

    SGDRegressor's convention: ``alpha * (l1_ratio ||w||_1 + (1 - l1_ratio)/2
    ||w||^2)`` for 'elasticnet', ``alpha ||w||_1`` for 'l1', ``alpha/2
    ||w||^2`` for 'l2' and nothing for None.
    """
    alpha = float(alpha)
    if penalty is None:
        return 0.0, 0.0
    if penalty == "l2":
        return alpha, 0.0
    if penalty == "l1":
        return 0.0, alpha
    if penalty == "elasticnet":
        r = float(l1_ratio)
        return alpha * (1.0 - r), alpha * r
    raise ValueError(f"penalty must be 'l2', 'l1', 'elasticnet' or None, got {penalty!r}")


def soft_threshold(w, t):
    """The proximal map of ``t ||w||_1``: ``sign(w) max(|w| - t, 0)``
    (``t`` a float or an array broadcasting against ``w``)."""
    return np.sign(w) * np.maximum(np.abs(w) - t, 0.0)


class L1:
    """The penalty ``l1 ||W||_1`` on the coefficient matrices (not the
    intercepts).

    It is not differentiable, so it adds nothing to the constant ``L``: the
    loop steps on the smooth part at its own valid ``1/L`` and then applies
    the proximal map (:meth:`prox`, the soft-threshold at ``rate * l1``).
    For a smooth part with an ``L``-Lipschitz gradient this is the proximal
    gradient method (ISTA, Beck & Teboulle 2009), which decreases the
    objective at every full-batch step of ``1/L``.
    """

    def __init__(self, l1):
        self.l1 = float(l1)

    def value(self, coefs):
        """``l1 * sum_layers ||W||_1`` (per output column when the value is)."""
        return self.l1 * float(sum(np.abs(W).sum() for W in coefs))

    def prox(self, coefs, rate):
        """Soft-threshold every coefficient matrix in place at ``rate * l1``.

        ``rate`` is the step just taken: a float, one per output column, or
        one per parameter (a list, coefficient matrices first).
        """
        for i, W in enumerate(coefs):
            r = rate[i] if isinstance(rate, list) else rate
            t = np.asarray(r, dtype=np.float64) * self.l1
            W[...] = soft_threshold(W, t.astype(W.dtype) if t.ndim else W.dtype.type(t))


class ProximalUpdate:
    """An update (:mod:`.updates`) followed by the proximal map of an
    :class:`L1` penalty on the coefficient matrices.

    ``n_coefs`` is the number of coefficient matrices at the head of the
    parameter list (the intercepts follow and are not penalised).
    """

    def __init__(self, update, penalty, n_coefs=1):
        self.inner, self.penalty, self.n_coefs = update, penalty, n_coefs

    def init(self, params):
        return self.inner.init(params)

    def update(self, params, grads, lr, state):
        state = self.inner.update(params, grads, lr, state)
        self.penalty.prox(params[:self.n_coefs], lr)
        return state

    def restrict(self, state, keep):
        return self.inner.restrict(state, keep)


class WeightedL1(L1):
    """The penalty ``l1 sum_j d_j ||W_j||_1`` with one weight ``d_j > 0`` per
    feature (row ``j`` of the coefficient matrix).

    It is the plain :class:`L1` penalty of the coefficients ``W = V / s`` of
    a model trained in the scaled variables ``V_j = s_j W_j`` (``d_j =
    1 / s_j``): the proximal map of ``t d_j |v|`` is the soft-threshold at
    ``t d_j``, coordinate by coordinate.
    """

    def __init__(self, l1, weights):
        super().__init__(l1)
        self.weights = np.asarray(weights, dtype=np.float64)

    def column_values(self, W):
        """The penalty of every output column of ``W`` (an array)."""
        return self.l1 * (self.weights @ np.abs(np.asarray(W, dtype=np.float64)))

    def value(self, coefs):
        return float(sum(self.column_values(W).sum() for W in coefs))

    def prox(self, coefs, rate):
        for i, W in enumerate(coefs):
            r = rate[i] if isinstance(rate, list) else rate
            t = np.multiply.outer(self.weights, np.asarray(r, dtype=np.float64) * self.l1)
            if t.ndim == 1:
                t = t[:, None]
            W[...] = soft_threshold(W, t.astype(W.dtype))


#: The largest share of a layer's constant the plain L2 term may take, as a
#: fraction of the data's curvature there (:func:`layer_l2`).
L2_SHARE = 0.1


def layer_l2(constants, alpha, share=L2_SHARE):
    """Per-layer L2 strengths that never outweigh a share of the data's curvature.

    A network's per-layer constant is ``L_k = d_k + alpha``: the data's
    curvature ``d_k`` of layer ``k`` plus the L2 term's.  In a deep network
    the data's curvature of the lowest layers can vanish (their gradients
    pass through many small slopes); then ``L_k -> alpha``, the rate
    ``1/L_k -> 1/alpha``, and one step lands on the penalty's minimum: the
    layer's weights go to zero, a constant network.  Here the L2 term of
    layer ``k`` is ``alpha_k = min(alpha, share * d_k)``, and its constant
    ``max(d_k + alpha_k, alpha)``: where ``d_k >= alpha / share`` (a layer
    the data reaches) nothing changes; below, the penalty shrinks with the
    data's curvature, so a step removes at most ``share / (1 + share)`` of
    the weights.  The constant stays at least ``alpha``: the rate is never
    larger than without the rule (``1/alpha`` bounded the steps of a layer
    whose curvature estimate is small; without that floor, six A-ReLU layers
    of 32 on diabetes overshot and the guard halved the rate 15-18 times).

    Parameters
    ----------
    constants : list of float
        ``L_k = d_k + alpha`` per layer (``inf``: a layer without a finite
        constant, kept as it is).
    alpha : float
        The L2 strength of the objective.
    share : float, default=0.1
        The largest ratio ``alpha_k / d_k``.

    Returns
    -------
    strengths : list of float
        ``alpha_k`` per layer.
    constants : list of float
        ``max(d_k + alpha_k, alpha)`` per layer.
    """
    strengths, out = [], []
    for L in constants:
        d = max(L - alpha, 0.0)
        a = min(alpha, share * d)
        strengths.append(a)
        out.append(max(d + a, alpha))
    return strengths, out
