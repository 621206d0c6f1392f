"""Learning-rate constants of a network: the published rule and one constant per layer.

A network's training objective has no global Lipschitz constant for its
gradient (the gradient grows without bound with the weights), so every
network constant here is a *per-epoch* quantity computed from the data and
the current network.  Notation: a network of ``l`` layers computes
``z_k = A_k W_k + b_k`` with ``A_0 = X``, ``A_{k+1} = g(z_k)`` for the hidden
layers and ``raw = z_{l-1}``; ``A~_k = [A_k, 1]``; ``S`` the sample weights
normalized to sum 1; ``m`` the batch size.

``learning_rate='paper'`` -- the published formulas (LipschitzLR, Yedida,
Saha & Prashanth 2021, section 4; LALR), computed on the activations the
*last* layer multiplies, ``K_z = max over batches b of ||A_b||_F`` (batches in
stored order, each divided by the nominal ``m`` as the published code does),
one rate for every layer as published:

* softmax cross-entropy, ``c`` classes: ``L = (c - 1) K_z / (c m)`` (eq. 25-29);
* binary cross-entropy with a sigmoid output: ``L = K_z / (2 m)`` (eq. 19-24);
* absolute error and log-cosh: ``L = K_z / m``; pinball loss:
  ``max(tau, 1 - tau) K_z / m`` (LALR);
* squared error: ``L = (K_a + ||y_b||) K_z / m`` (eq. 14-15) with
  ``K_a = ||raw_b||_F``, the maximum over batches;
* an L2 term ``(alpha/2)||W||^2`` adds ``alpha K`` (section 6.3) with ``K``
  the norm of the current last-layer weights.

``A`` carries no bias column: the intercept is a separate parameter.  To
reproduce a constant the paper computed on a design with a bias column
(breast cancer, 4280.2277), pass that design as ``X``.

``learning_rate='lipschitz'`` -- :func:`layer_constants`: one constant per
layer, the Gauss-Newton bound of the layer's own block of the Hessian::

    L_k = c_loss * P_k^2 * lambda_max(A~_k' S A~_k) + alpha,
    P_k = prod_{j > k} s_j ||W_j||_2

(``P_{l-1} = 1`` for the output layer), with ``c_loss`` the supremum of the
loss's second derivative in ``raw`` (1/4 sigmoid cross-entropy, 1/2 softmax
cross-entropy, 1 squared error and log-cosh) and ``s_j`` the activation's
slope bound (``sup |g'|``; A-ReLU has none: its largest slope on the current
activations).  Derivation: moving ``W_k`` by ``D`` moves sample ``i``'s output
by ``M_i D' a~_i`` with ``M_i = W_{l-1}' G_{l-1,i} ... W_{k+1}' G_{k+1,i}``
(``G`` the diagonal slope matrices), ``||M_i|| <= P_k``; the Gauss-Newton
part of the block Hessian is ``sum_i S_i J_i' H_i J_i`` with
``||H_i|| <= c_loss``, so it is at most
``c_loss P_k^2 sum_i S_i ||D' a~_i||^2 <= c_loss P_k^2 lambda_max(A~_k' S A~_k) ||D||^2``.
The layer's weights and its intercept share the constant (the column of
ones in ``A~_k``).  For the output layer this is the exact smoothness
constant of the linear model on ``A_{l-1}``; for ReLU and identity hidden
units (``g'' = 0`` off the kinks) the block Hessian *is* its Gauss-Newton
part, so ``L_k`` is a valid block-smoothness bound at the current weights.
What it does not cover (see docs/symnet.md, and why the estimators keep a
guard): the residual-times-``g''`` term of curved units (SBAF, tanh,
logistic, A-ReLU), the coupling between layers that move in the same step,
and the change of ``P_k`` and ``A_k`` within an epoch.  The spectral norms
and ``lambda_max`` come from warm-started power iterations
(:class:`PowerIteration`), which approach the largest eigenvalue from below.

Non-smooth losses (absolute error, pinball) have no second derivative; their
constant is the published structure per layer,
``L_k = g P_k K_{z,k} / m + alpha`` with ``g = sup |loss'|`` and ``K_{z,k}`` the
published batch norm of ``A_k`` (a gradient bound, not a smoothness bound,
and ``K_z / m`` under-estimates the gradient's supremum by up to ``sqrt(m)``:
papers.md 1.7 items 1 and 3).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from scipy.linalg import blas as _blas
from scipy.special import expit

from .lipschitz import paper_frobenius_factor
from .updates import SGD

#: power iterations the first time a matrix is seen, and per later epoch
#: (started from the previous epoch's vector, which changes little)
FIRST_ITERATIONS = 10
WARM_ITERATIONS = 3
#: values per hidden layer in one chunk of the guard's pass (PassStatistics)
PASS_CHUNK = 1 << 18


def _batches(n, m):
    return [slice(i, min(i + m, n)) for i in range(0, n, m)]


def _frobenius_rows(A, sl):
    Ab = A[sl]
    if sp.issparse(Ab):
        return float(np.sqrt(Ab.multiply(Ab).sum()))
    return float(np.linalg.norm(Ab))


def frobenius_factor(A, batch_size):
    """``K_z / m = max_b ||A_b||_F / m`` (``m`` the nominal batch size)."""
    n = A.shape[0]
    m = n if batch_size is None else min(batch_size, n)
    return paper_frobenius_factor(A, fit_intercept=False, batch_size=m)


def classifier_lipschitz(A, n_classes, batch_size, *, alpha=0.0, last_coef=None):
    """The published constant of a softmax / sigmoid output layer (eq. 19-29).

    Parameters
    ----------
    A : array of shape (n_samples, n_last)
        Activations the output layer multiplies.
    n_classes : int >= 2
        Two classes: one sigmoid output; more: softmax.
    batch_size : int or None
    alpha : float
    last_coef : array or None
        Current output-layer weights (for the published L2 term).
    """
    g = 0.5 if n_classes == 2 else (n_classes - 1) / n_classes
    L = g * frobenius_factor(A, batch_size)
    if alpha and last_coef is not None:
        L += alpha * float(np.linalg.norm(last_coef))
    return float(L)


def regressor_lipschitz(A, raw, Y, loss, batch_size, *, alpha=0.0, last_coef=None):
    """The published constant of an identity output layer (eq. 14-15, LALR)."""
    if loss.name == "squared_error":
        n = A.shape[0]
        m = n if batch_size is None else min(batch_size, n)
        L = max(
            (float(np.linalg.norm(raw[b])) + float(np.linalg.norm(Y[b])))
            * _frobenius_rows(A, b)
            for b in _batches(n, m)
        ) / m
    else:
        L = loss.lipschitz * frobenius_factor(A, batch_size)
    if alpha and last_coef is not None:
        L += alpha * float(np.linalg.norm(last_coef))
    return float(L)


class PowerIteration:
    """Largest eigenvalues of ``A~' S A~`` and ``W' W`` by warm-started power iterations.

    One start vector is kept per key (a layer), so after the first call each
    estimate costs ``WARM_ITERATIONS`` products with the matrix (two
    matrix-vector products with ``A``, ``O(n d)``; never an ``h x h`` Gram
    matrix or a dense eigendecomposition).  The estimate is ``||M v||`` for a
    unit ``v``: a lower bound of ``lambda_max`` that converges to it.
    """

    def __init__(self, seed=0):
        self._vectors = {}
        self._rng = np.random.RandomState(seed)

    def _start(self, key, size):
        v = self._vectors.get(key)
        if v is None or v.shape[0] != size:
            v = self._rng.standard_normal(size)
            return v / np.linalg.norm(v), FIRST_ITERATIONS
        return v, WARM_ITERATIONS

    def _iterate(self, key, size, apply):
        v, iters = self._start(key, size)
        lam = 0.0
        for _ in range(iters):
            w = apply(v)
            lam = float(np.linalg.norm(w))
            if not math.isfinite(lam):
                return math.inf
            if lam == 0.0:
                break
            v = w / lam
        self._vectors[key] = v
        return lam

    def gram(self, key, A, weights, mean=None):
        """``lambda_max([A - mean, 1]' diag(weights) [A - mean, 1])``.

        ``weights`` an array or a float; ``mean`` a row vector subtracted
        from every row of ``A`` (never formed: ``(A - mean) v = A v - mean . v``).
        """
        d = A.shape[1]
        dtype = A.dtype if A.dtype in (np.float32, np.float64) else np.float64

        def apply(v):
            u = A @ v[:d].astype(dtype, copy=False)
            shift = v[d] - (float(mean @ v[:d]) if mean is not None else 0.0)
            u = np.asarray(u, dtype=np.float64).ravel() + shift
            u *= weights
            out = np.empty(d + 1)
            out[:d] = np.asarray(A.T @ u.astype(dtype, copy=False)).ravel()
            out[d] = u.sum()
            if mean is not None:
                out[:d] -= out[d] * mean
            return out

        return self._iterate(key, d + 1, apply)

    def has(self, key, size):
        """Whether a start vector of ``size`` is kept for ``key``."""
        v = self._vectors.get(key)
        return v is not None and v.shape[0] == size

    def vector(self, key):
        return self._vectors[key]

    def set_vector(self, key, v):
        self._vectors[key] = v

    def spectral_norm(self, key, W):
        """``||W||_2`` (largest singular value)."""

        def apply(v):
            return np.asarray(W.T @ (W @ v.astype(W.dtype, copy=False)), dtype=np.float64)

        return math.sqrt(self._iterate(key, W.shape[1], apply))


def local_curvature(loss, raw, floor):
    """Per-sample bound of the loss's Hessian in ``raw`` at the current outputs.

    Sigmoid cross-entropy ``p (1 - p)``; softmax ``min(1/2, 1 - sum p^2)``
    (the trace of ``diag(p) - p p'``); log-cosh ``1 - tanh^2``; otherwise the
    supremum.  Each is raised to at least ``floor`` times the supremum: the
    outputs move during an epoch, and a sample the network gets confidently
    wrong has a small curvature now and a large one half-way.
    """
    sup = loss.curvature
    if loss.name == "log_loss":
        p = expit(raw[:, 0].astype(np.float64))
        c = p * (1.0 - p)
    elif loss.name == "multinomial":
        e = raw.astype(np.float64)  # a copy, overwritten with exp(raw - max)
        _, s = loss.shifted_value(None, e)
        c = _softmax_curvature(e, s[:, 0])
    else:
        return None
    return np.maximum(c, floor * sup, out=c)


def _softmax_curvature(e, s):
    """``min(1/2, 1 - sum p^2)`` per row, ``p = e / s`` (``e`` the exponentials
    of the max-shifted outputs, ``s`` their row sums)."""
    c = np.einsum("ij,ij->i", e, e)
    c /= s * s
    np.subtract(1.0, c, out=c)
    return np.minimum(c, 0.5, out=c)


def loss_and_local_curvature(loss, Y, raw, floor):
    """The per-sample losses and :func:`local_curvature` (None: the supremum).

    For the softmax cross-entropy both come from one pass of exponentials
    (``1 - sum p^2 = 1 - sum e^2 / s^2`` with ``e = exp(raw - max)`` and ``s``
    its row sums): with 1000 classes the exponentials of the ``(n, k)``
    outputs are most of the guard's pass.
    """
    if loss.name != "multinomial":
        return loss.loss(Y, raw), local_curvature(loss, raw, floor)
    e = raw.astype(np.float64)  # a copy: overwritten with exp(raw - max)
    value, s = loss.shifted_value(Y, e)
    c = _softmax_curvature(e, s[:, 0])
    return value, np.maximum(c, floor * loss.curvature, out=c)


def column_means(A, weights):
    """Weighted column means of ``A`` (``weights`` sum to 1, or a float ``1/n``),
    accumulated in float64 (a float32 sum over many rows loses the digits of
    the mean) without a float64 copy of a dense ``A``: blocks of rows."""
    if isinstance(weights, float):
        return np.asarray(A.sum(axis=0, dtype=np.float64)).ravel() * weights
    w = np.asarray(weights, dtype=np.float64)
    if sp.issparse(A) or A.dtype == np.float64:
        return np.asarray(A.T @ w, dtype=np.float64).ravel()
    mean = np.zeros(A.shape[1])
    for i in range(0, A.shape[0], 8192):
        mean += A[i:i + 8192].T.astype(np.float64) @ w[i:i + 8192]
    return mean


class RunningMeans:
    """Weighted running column means of every layer's input over ``partial_fit`` calls.

    ``combine(chunk_means, weight)`` returns the means of the rows seen before
    this call and of this call's rows together (the chunk's weighted by the
    sum of its sample weights; the earlier rows' activations are those of the
    network when they were seen), or None on the first call of a single row
    (its own means would centre it to zero).  Any means give an exact
    reparametrisation of the network (:class:`CentredUpdate`), so stale
    ones cost only speed.  ``committed()`` returns the last combination,
    which the next call starts from.
    """

    def __init__(self, weight=0.0, means=None):
        self.weight, self.means = weight, means
        self._pending = None

    def combine(self, chunk_means, weight, n_rows=None):
        if self.means is None or len(self.means) != len(chunk_means) or self.weight <= 0:
            total, out = weight, [np.asarray(m, dtype=np.float64) for m in chunk_means]
            first_row = n_rows == 1
        else:
            total = self.weight + weight
            a, b = self.weight / total, weight / total
            out = [a * m0 + b * m1 for m0, m1 in zip(self.means, chunk_means)]
            first_row = False
        self._pending = (total, out)
        return None if first_row else out

    def committed(self):
        """``(weight, means)`` after this call (plain values, saved with the model)."""
        if self._pending is not None:
            self.weight, self.means = self._pending
            self._pending = None
        return (self.weight, self.means)


def layer_constants(
    acts, coefs, activation, loss, weights, *, alpha, batch_size, power, means=None,
    curvature=None,
):
    """One constant per layer (see the module docstring), output layer last.

    Parameters
    ----------
    acts : list of arrays
        ``acts[k]`` the input of layer ``k`` on the training data (``acts[0]``
        is ``X``) at the current weights.
    coefs : list of arrays
        Current weights.
    activation : Activation
        Hidden-layer activation (its ``slope_bound`` / ``max_slope``).
    loss : Loss
        Its ``curvature`` (None: non-smooth, see module docstring) and
        ``lipschitz``.
    weights : float or array
        Normalized sample weights (``1 / n`` when equal).
    alpha : float
    batch_size : int
    power : PowerIteration
    means : list of arrays or None
        Column means of each ``acts[k]``: the constants of the centred
        coordinates (:class:`CentredUpdate`).
    """
    n_layers = len(coefs)
    consts = [0.0] * n_layers
    P = 1.0
    curv = loss.curvature
    if curvature is not None:
        weights = weights * curvature
        curv = 1.0
    for k in range(n_layers - 1, -1, -1):
        if loss.curvature is not None:
            lam = power.gram(("A", k), acts[k], weights, means[k] if means else None)
            consts[k] = curv * P * P * lam + alpha
        else:
            # no curvature: the published gradient-norm rule of the output
            # layer, shared by every layer (as published)
            consts[k] = consts[-1] if k < n_layers - 1 else (
                loss.lipschitz * frobenius_factor(acts[k], batch_size) + alpha
            )
        if k > 0:
            s = activation.slope_bound
            if s is None:
                s = activation.max_slope(acts[k])
            P *= s * power.spectral_norm(("W", k), coefs[k])
    return [float(c) for c in consts]


class PassStatistics:
    """What :func:`layer_constants` needs, accumulated over the chunks of one forward pass.

    The guard evaluates the training loss at the end of every epoch by a
    forward pass over the training data in chunks of whole batches; the
    constants of the next epoch need that pass's activations.  Instead of
    keeping them (``n x h`` per layer) and iterating over them, each chunk
    adds its share, while it is in cache, to: the weighted column means
    ``mu_k``, and the products of *one* power iteration of the centred Gram
    matrix ``G_k = [A_k - mu_k, 1]' Q [A_k - mu_k, 1]`` (``Q`` the sample
    weights times the local curvature) with the layer's start vector
    ``[v; t]`` kept by :class:`PowerIteration` from the previous epoch::

        G [v; t] = [U - mu R + (t - mu.v)(M - mu Q),  R + (t - mu.v) Q],
        U = A' Q A v,  R = 1' Q A v,  M = A' Q 1,  Q = 1' Q 1,

    all sums over rows (``mu`` is only known at the end of the pass: the
    centring is applied then, exactly).  One warm-started iteration per
    epoch replaces the ``WARM_ITERATIONS`` iterations over stored
    activations; like them, ``||G [v; t]||`` is a lower bound of
    ``lambda_max(G)`` that converges to it while the matrix changes slowly
    (the first constants of a fit come from :func:`layer_constants` with
    ``FIRST_ITERATIONS`` on stored activations).  Also kept: the largest
    activation of every hidden layer (A-ReLU's slope) and the largest
    Frobenius norm of a batch of each layer (the non-smooth losses' rule).
    """

    def __init__(self, n_layers, power, loss, curvature_floor, batch_size):
        self.n_layers = n_layers
        self.batch_size = batch_size
        self.power = power
        self.loss = loss
        self.floor = curvature_floor
        self.smooth = loss.curvature is not None
        self.local = False  # the curvature is per sample (folded into the weights)
        self.value = 0.0
        self.sums = [None] * n_layers  # per layer: [U, M, mu] (d x 3) and [R, Q]
        self.scalars = [np.zeros(2) for _ in range(n_layers)]
        self.a_max = [-math.inf] * n_layers
        self.frobenius = [0.0] * n_layers

    def add(self, acts, raw, Y, sw, weights):
        """Add one chunk: its activations (``acts[0]`` its rows of ``X``), outputs,
        targets, raw sample weights and normalized weights (array or float)."""
        loss = self.loss
        q = weights
        if self.smooth:
            values, c = loss_and_local_curvature(loss, Y, raw, self.floor)
            if c is not None:
                q = np.asarray(weights, dtype=np.float64) * c
                self.local = True
        else:
            values = loss.loss(Y, raw)
        self.value += float(sw @ values)
        n_c = raw.shape[0]
        for k, A in enumerate(acts):
            dtype = A.dtype if A.dtype in (np.float32, np.float64) else np.float64
            cols = np.empty((n_c, 3 if self.smooth else 1), dtype=dtype)
            cols[:, -1] = weights
            if self.smooth:
                d = A.shape[1]
                v = self.power.vector(("A", k))
                r = np.asarray(A @ v[:d].astype(dtype, copy=False), dtype=np.float64).ravel()
                qr = r * q
                cols[:, 0] = qr
                cols[:, 1] = q
                self.scalars[k] += (float(qr.sum()), float(np.sum(q)) if np.ndim(q) else q * n_c)
            else:
                # the Frobenius norm of every nominal batch of this chunk (the
                # chunk starts at a multiple of the batch size)
                if sp.issparse(A):
                    rowsq = np.asarray(A.multiply(A).sum(axis=1), dtype=np.float64).ravel()
                else:
                    rowsq = np.einsum("ij,ij->i", A, A, dtype=np.float64)
                norms = np.sqrt(np.add.reduceat(rowsq, np.arange(0, n_c, self.batch_size)))
                self.frobenius[k] = max(self.frobenius[k], float(norms.max()))
            prod = np.asarray(A.T @ cols, dtype=np.float64)
            self.sums[k] = prod if self.sums[k] is None else self.sums[k] + prod
            if k > 0:
                self.a_max[k] = max(self.a_max[k], float(A.max()) if A.size else 0.0)

    def means(self):
        return [np.ascontiguousarray(S[:, -1]) for S in self.sums]

    def gram_step(self, k):
        """One power iteration of ``G_k`` from the kept vector; returns ``||G v||``."""
        U, M, mu = self.sums[k][:, 0], self.sums[k][:, 1], self.sums[k][:, 2]
        R, Q = self.scalars[k]
        key = ("A", k)
        vt = self.power.vector(key)
        v, t = vt[:-1], vt[-1]
        shift = t - float(mu @ v)
        out = np.empty_like(vt)
        out[:-1] = U - mu * R + shift * (M - mu * Q)
        out[-1] = R + shift * Q
        lam = float(np.linalg.norm(out))
        if not math.isfinite(lam):
            return math.inf
        if lam > 0:
            self.power.set_vector(key, out / lam)
        return lam

    def constants(self, coefs, activation, *, alpha, batch_size):
        """One constant per layer, as :func:`layer_constants` (output layer last)."""
        loss, power = self.loss, self.power
        n_layers = self.n_layers
        consts = [0.0] * n_layers
        P = 1.0
        for k in range(n_layers - 1, -1, -1):
            if self.smooth:
                # the curvature is folded into the weights when it is local
                curv = 1.0 if self.local else loss.curvature
                consts[k] = curv * P * P * self.gram_step(k) + alpha
            else:
                consts[k] = consts[-1] if k < n_layers - 1 else (
                    loss.lipschitz * self.frobenius[k] / batch_size + alpha
                )
            if k > 0:
                s = activation.slope_bound
                if s is None:
                    s = activation.max_slope(np.array([self.a_max[k]]))
                P *= s * power.spectral_norm(("W", k), coefs[k])
        return [float(c) for c in consts]


def pass_statistics(network, X, Y, sw, coefs, intercepts, *, batch_size, weights, power,
                    loss, curvature_floor):
    """The guard's forward pass in chunks of ``batch_size`` rows, with its :class:`PassStatistics`.

    ``weights``: the normalized sample weights (a float ``1/n`` when equal).
    Returns the statistics; ``.value`` is the weighted mean loss (no penalty).
    """
    n = X.shape[0]
    stats = PassStatistics(network.n_layers, power, loss, curvature_floor, batch_size)
    # chunks of whole batches, of about PASS_CHUNK values per hidden layer
    # (few Python steps for narrow layers, buffers of bounded size for wide ones)
    widest = max(network.layer_sizes[1:-1], default=1)
    chunk = batch_size * max(1, PASS_CHUNK // (widest * batch_size))
    for sl in _batches(n, chunk):
        raw, _, acts = network.forward_buffered(X[sl], coefs, intercepts, derivatives=False)
        w = weights if isinstance(weights, float) else weights[sl]
        stats.add(acts, raw, Y[sl], sw[sl], w)
    stats.value /= float(sw.sum())
    return stats


class CentredUpdate:
    """A parameter update taken in the centred coordinates of every layer.

    Wraps an update of :mod:`sklipschitz._engine.updates` (each parameter
    keeps its own state of it) and takes the per-parameter rates the loop
    passes (one per parameter, coefs then intercepts, or one float).  With
    ``means`` (the column means ``mu_k`` of each layer's input on the
    training data) the step is the wrapped update in the coordinates
    ``z = (A - mu) W + c`` of the same network (``c = b + mu W``): the
    weights' gradient becomes ``(A - mu)' delta = g_W - mu' g_b``, and the
    intercept moves by its own step minus ``mu . dW`` (so ``c`` moves by the
    step).  The function the network computes is unchanged; only the
    coordinates of the descent differ, and their curvature has no
    ``||mu||^2`` direction (non-negative activations make it the largest
    eigenvalue of ``A~' S A~`` by far).  Centring gradient factors:
    Schraudolph 1998; LeCun et al. 1998, "Efficient BackProp".

    ``penalty`` (an :class:`~sklipschitz._engine.penalties.L1`, or None): its
    proximal map is applied to the weights after their step and before the
    intercept's correction, a proximal gradient step in the centred
    coordinates (the penalty does not involve the intercept, so it is the
    same function of ``W`` in both).
    """

    def __init__(self, base, penalty=None):
        self.base = base
        self.means = None
        self.penalty = penalty

    def init(self, params):
        return [self.base.init([p]) for p in params]

    def update(self, params, grads, lr, state):
        n = len(params) // 2
        rates = lr if isinstance(lr, list) else [lr] * len(params)
        means = self.means
        penalty = getattr(self, "penalty", None)  # absent from older saved states
        sgd = type(self.base) is SGD and penalty is None
        for k in range(n):
            W, b, gW, gb = params[k], params[n + k], grads[k], grads[n + k]
            mu = None if means is None else means[k]
            if mu is None or not np.any(mu):
                self.base.update([W], [gW], rates[k], state[k])
                if penalty is not None:
                    penalty.prox([W], rates[k])
                self.base.update([b], [gb], rates[n + k], state[n + k])
                continue
            mu = mu.astype(W.dtype, copy=False)
            if sgd and _centre_in_place(gW, mu, gb):
                # plain steps without temporaries of the weights' size: the
                # gradient array (the caller's, consumed) becomes the step
                gW *= W.dtype.type(rates[k])
                W -= gW
                b -= W.dtype.type(rates[n + k]) * gb
                b += mu @ gW
                continue
            gW = gW - np.outer(mu, gb)
            W_old = W.copy()
            self.base.update([W], [gW], rates[k], state[k])
            if penalty is not None:
                penalty.prox([W], rates[k])
            self.base.update([b], [gb], rates[n + k], state[n + k])
            W_old -= W  # = -dW
            b += mu @ W_old
        return state


def _centre_in_place(gW, mu, gb):
    """``gW -= outer(mu, gb)`` in place (BLAS ger); False when it cannot be done so."""
    ger = {np.dtype(np.float64): _blas.dger, np.dtype(np.float32): _blas.sger}.get(gW.dtype)
    if ger is None or not gW.flags.c_contiguous or gW.ndim != 2:
        return False
    out = ger(-1.0, gb.astype(gW.dtype, copy=False), mu, a=gW.T, overwrite_a=True)
    if not np.shares_memory(out, gW):
        gW[...] = out.T
    return True


class JacobianCurvature:
    """Each hidden layer's Gauss-Newton curvature along the actual network, on a row sample.

    :func:`layer_constants` bounds the output Jacobian of layer ``k``'s
    weights by ``P_k = prod_{j > k} s ||W_j||_2``: the worst case of every
    slope and every layer above, which the product of the actual Jacobians
    rarely reaches (at depth 2-3 the lower layers' rates come out orders of
    magnitude too small).  This estimates instead the largest eigenvalue of
    the layer's centred Gauss-Newton block itself,

        G_k = sum_i q_i J_{k,i}' J_{k,i},   J_{k,i} D = M_i D' (a_i - mu_k) + M_i d,

    (``M_i`` the product of the actual slope matrices and weights above the
    layer at sample ``i``, ``q_i`` the sample weight times the local loss
    curvature of :func:`local_curvature`), by power iterations on the rows
    ``rows`` of the training data: one product ``G_k V`` is a linearized
    forward pass from layer ``k`` to the outputs and a backward pass down to
    it, ``O(rows x weights above k)``.  The start vector of every layer is
    kept between epochs (``FIRST_ITERATIONS`` the first time,
    ``iterations`` later).  It is an estimate, not a bound: the rows are a
    sample, the iteration approaches ``lambda_max`` from below, and the
    network moves during the epoch; for ReLU and identity units ``G_k`` is
    the layer's exact block Hessian on the sample (``g'' = 0``).  For curved
    units, ``residual=True`` adds the residual x ``g''`` term (see
    :meth:`constants`).
    """

    def __init__(self, power, rows, iterations=2, residual=False):
        self.power = power
        self.rows = rows
        self.iterations = iterations
        #: also estimate the layer's whole block Hessian on the sample (the
        #: Gauss-Newton part plus the residual x ``g''`` term of curved units)
        #: and take the larger of the two eigenvalue estimates
        self.residual = residual

    def spacing(self, layer_sizes, n_rows, budget=0.5):
        """Per hidden layer, the fewest calls between two of its estimates
        so that the estimates cost at most ``budget`` times the products of
        the calls (a stream's ``partial_fit`` calls, or a fit's epochs, of
        ``n_rows`` rows each).

        Counted in multiply-adds per row: a call's epoch is about four
        products through every layer (the batches' forward and backward
        passes and the guard's forward pass), one power iteration on layer
        ``k`` is a linearized pass from ``k`` to the outputs and back (two
        products through every layer from ``k`` up), twice for the curved
        units' second block.  The budget is shared among the hidden layers.
        """
        sizes = list(layer_sizes)
        weights = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
        n_hidden = len(weights) - 1
        call = 4.0 * max(int(n_rows), 1) * sum(weights)
        per_iteration = 2.0 * len(self.rows) * (2 if self.residual else 1)
        return [
            max(1, math.ceil(n_hidden * self.iterations * per_iteration * sum(weights[k:])
                             / (budget * call)))
            for k in range(n_hidden)
        ]

    def _start(self, key, shape, dtype):
        """The layer's kept vector ``(V, c)`` (in the :class:`PowerIteration`
        ``power``, under ``key``, flattened) and the iterations to run."""
        size = shape[0] * shape[1] + shape[1]
        power = self.power
        if power.has(key, size):
            v, iters = power.vector(key), self.iterations
        else:
            v, iters = power._start(key, size)
        v = v.astype(dtype)
        return v[:-shape[1]].reshape(shape), v[-shape[1]:], iters

    def constants(self, network, X, sw, coefs, intercepts, loss, means, floor, Y=None,
                  layers=None):
        """``lambda_max(G_k)`` estimates for the hidden layers ``k`` (a list,
        lowest layer first, ``n_layers - 1`` entries; ``nan`` for the layers
        that ``layers``, a list of booleans, leaves out; None: every layer);
        ``means`` the column means of every layer's input on the whole
        training data (the centred coordinates of the update; None: plain
        coordinates).  With
        ``residual`` (``Y`` the targets, needed then), each entry is the larger
        of that and ``|lambda|_max(H_k)``, ``H_k = G_k + R_k`` the layer's
        block Hessian on the sample with the residual term

            R_k = sum_{j >= k} J_{k->j}' diag(beta_j g''(z_j)) J_{k->j},

        ``J_{k->j}`` the linearized map from layer ``k``'s parameters to the
        pre-activations ``z_j`` of hidden layer ``j`` and ``beta_j`` the
        weighted loss gradient back-propagated to that layer's outputs
        ``g(z_j)`` (second-order chain rule): one product ``H_k V`` costs what
        ``G_k V`` does.  ``g''`` is the unit's ``second_derivative`` (closed
        forms for SBAF, tanh and the logistic)."""
        n_layers = len(coefs)
        if layers is None:
            layers = [True] * (n_layers - 1)
        if not any(layers):
            return [math.nan] * (n_layers - 1)
        rows = self.rows
        Xs = X[rows]
        w = sw[rows].astype(np.float64)
        w = w / w.sum()
        raw, pre, acts = network.forward(Xs, coefs, intercepts)
        act = network.activation
        ders = [act.derivative(z, a) for z, a in zip(pre, acts[1:])]
        curv = local_curvature(loss, raw, floor)
        q = w * (loss.curvature if curv is None else curv)
        dtype = coefs[0].dtype
        q = q.astype(dtype)[:, None]
        second = None
        if self.residual and Y is not None and n_layers > 1:
            second = _residual_weights(act, pre, acts, ders, coefs, loss, Y[rows], raw, w, dtype)
        out = []
        for k in range(n_layers - 1):
            if not layers[k]:
                out.append(math.nan)
                continue
            lam = self._iterate(("J", k), k, acts[k], coefs, ders, q, means, dtype, None)
            if second is not None:
                lam_h = self._iterate(("H", k), k, acts[k], coefs, ders, q, means, dtype,
                                      second)
                lam = max(lam, lam_h) if math.isfinite(lam_h) else lam_h
            out.append(lam)
        return out

    def _iterate(self, key, k, A, coefs, ders, q, means, dtype, second):
        """Power iterations of ``G_k`` (``second`` None) or ``H_k`` from the kept vector."""
        n_layers = len(coefs)
        mu = (np.zeros(A.shape[1]) if means is None else means[k]).astype(dtype, copy=False)
        V, c, iters = self._start(key, coefs[k].shape, dtype)
        lam = 0.0
        for _ in range(iters):
            dz = np.asarray(A @ V)
            dz += c - mu @ V
            kept = []
            for j in range(k + 1, n_layers):
                if second is not None:
                    kept.append(dz)  # the perturbation of z_{j-1}
                dz = dz * ders[j - 1]
                dz = dz @ coefs[j]
            u = dz * q
            for j in range(n_layers - 1, k, -1):
                u = u @ coefs[j].T
                u *= ders[j - 1]
                if second is not None:
                    u += second[j - 1] * kept[j - 1 - k]
            gc = u.sum(axis=0)
            gV = np.asarray(A.T @ u)
            gV -= np.outer(mu, gc)
            lam = math.sqrt(float(np.vdot(gV, gV)) + float(gc @ gc))
            if not math.isfinite(lam) or lam == 0.0:
                break
            V, c = gV / dtype.type(lam), gc / dtype.type(lam)
        if math.isfinite(lam) and lam > 0.0:
            self.power.set_vector(key, np.concatenate([V.ravel(), c]))
        return lam


class EstimateSchedule:
    """When each hidden layer's :class:`JacobianCurvature` estimate is re-computed.

    A layer's constant is ``min(bound, estimate)``: the estimate only pays
    for its power iterations where it is well below the bound.  A layer
    whose last estimate came out at ``keep_ratio`` of its bound or more
    (it raised the layer's rate by at most ``1 / keep_ratio``) is left out
    of the next ``gap - 1`` calls, the gap doubling up to ``max_gap`` while
    that lasts, and takes its bound there: never a larger step than without
    the estimate.  A layer whose estimate binds is estimated at every call,
    and so is one whose bound moved by more than a factor ``bound_change``
    since its last estimate (the network has changed: at the first epochs a
    layer's bound can grow thirty-fold in one epoch, and its estimate with
    it, but less).

    A stream of ``partial_fit`` calls, and a fit of curved units (an epoch
    for a call), pass ``spacing`` to :meth:`combine`
    (:meth:`JacobianCurvature.spacing`): the fewest calls between two
    estimates of a layer that keep the estimates' products within a budget
    of the calls' own (a call is one epoch over a chunk or the data set,
    while an estimate runs its power iterations on up to 512 of its rows).
    Between those calls a binding layer keeps the ratio ``(estimate +
    alpha) / bound`` of its last estimate and takes that fraction of its
    current bound: the bound carries the changes of the layer's activations
    (in a stream of 200-row chunks the estimates moved up to fourfold
    between calls while their ratio to the bound stayed within 0.5-0.6).
    The bound trigger applies there too: as a network leaves its start, the
    estimate can grow much faster than the bound (an A-ReLU layer's ratio
    rose fortyfold in six calls), and a kept ratio would then step too far.
    State: the call counter and, per layer, the next call due, the current
    gap, the bound at the last estimate and the ratio kept (``inf``: the
    layer takes its bound).
    """

    def __init__(self, n_hidden, keep_ratio=0.8, max_gap=4, bound_change=1.25):
        self.keep_ratio = keep_ratio
        self.max_gap = max_gap
        self.bound_change = bound_change
        self.calls = 0
        self.next = [0] * n_hidden
        self.gap = [1] * n_hidden
        self.bound = [math.nan] * n_hidden
        self.kept = [math.inf] * n_hidden

    def due(self, bounds):
        """The layers to estimate at this call (a list of booleans), given
        their bounds at this call."""
        c = self.bound_change
        return [
            self.calls >= nxt or not (b0 / c <= L <= b0 * c)  # (False for nan)
            for nxt, b0, L in zip(self.next, self.bound, bounds)
        ]

    def combine(self, bounds, estimates, alpha=0.0, spacing=None):
        """The layers' constants ``min(bound, estimate + alpha)`` (the bound
        where the estimate is not a positive number; where a layer was not
        estimated, ``nan``, its bound times the ratio kept, see above), and
        the schedule's next step.  ``spacing``: per layer, the fewest calls
        until its next estimate (None: 1)."""
        out = []
        for k, (L, e) in enumerate(zip(bounds, estimates)):
            if math.isnan(e):  # not due at this call
                out.append(L * min(1.0, self.kept[k]))
                continue
            useful = math.isfinite(e) and e > 0
            ratio = (e + alpha) / L if useful and L > 0 else math.inf
            binds = ratio < self.keep_ratio
            self.gap[k] = 1 if binds else min(2 * self.gap[k], self.max_gap)
            self.kept[k] = ratio if binds else math.inf
            self.next[k] = self.calls + max(self.gap[k], 1 if spacing is None else spacing[k])
            self.bound[k] = L
            out.append(min(L, e + alpha) if useful else L)
        self.calls += 1
        return out


def _residual_weights(act, pre, acts, ders, coefs, loss, Y, raw, w, dtype):
    """``beta_j * g''(z_j)`` for every hidden layer ``j`` on the sample rows
    (``beta_j`` the gradient of the weighted loss with respect to ``g(z_j)``;
    ``acts[j + 1] = g(z_j)``)."""
    delta = loss.gradient(Y, raw).astype(np.float64) * w[:, None]
    out = [None] * len(pre)
    u = delta
    for j in range(len(pre) - 1, -1, -1):
        u = u @ coefs[j + 1].T  # d loss / d g(z_j)
        g2 = act.second_derivative(pre[j].astype(np.float64), acts[j + 1].astype(np.float64))
        out[j] = (u * g2).astype(dtype)
        u = u * ders[j]
    return out
