"""Learning-rate constants of a network: the published rule and its corrected form.

A network's training objective has no global Lipschitz constant (its
gradient grows without bound with the weights), so every network constant
here is a *per-epoch* quantity computed from the data and the current
network.  Notation (LipschitzLR, Yedida, Saha & Prashanth 2021, section 4):
``A`` is the matrix of activations the last layer multiplies (the last
hidden layer's output, or ``X`` itself for a linear model), ``m`` the batch
size, ``K_z = max over batches b of ||A_b||_F`` (Frobenius norm, batches in
the stored order of the training data, each divided by the nominal ``m``
as the published code does).

``mode='paper'`` -- the published formulas, exactly:

* softmax cross-entropy, ``c`` classes: ``L = (c - 1) K_z / (c m)`` (eq. 25-29);
* binary cross-entropy with a sigmoid output: ``L = K_z / (2 m)`` (eq. 19-24);
* absolute error and log-cosh: ``L = K_z / m``; pinball loss:
  ``max(tau, 1 - tau) K_z / m`` (LALR);
* squared error: ``L = (K_a + ||y_b||) K_z / m`` (eq. 14-15) with
  ``K_a = ||raw_b||_F`` the norm of the current outputs on the batch, the
  maximum over batches;
* an L2 term ``(alpha/2)||W||^2`` adds ``alpha K`` (section 6.3) with ``K``
  the norm of the current last-layer weights.

``A`` carries no bias column: the intercept is a separate parameter.  To
reproduce a constant the paper computed on a design with a bias column
(breast cancer, 4280.2277), pass that design (column of ones included,
preprocessed as the paper did) as ``X``.

``mode='lipschitz'`` -- the same structure with every factor that can be
made correct made correct:

* the loss factor is the true ``sup |d loss / d raw_j|`` per output: 1 for
  binary and softmax cross-entropy (the published 1/2 and ``(c-1)/c`` come
  from setting a second derivative to zero; ``|y - sigmoid(z)|`` tends to 1,
  papers.md 1.7 item 2), 1 for absolute error and log-cosh,
  ``max(tau, 1 - tau)`` for the pinball loss;
* squared error has no bounded derivative; its constant is the last layer's
  exact smoothness ``lambda_max(A~' A~) / n`` (``A~ = [A, 1]``), which is a
  valid descent-lemma constant for the last layer's weights;
* ``alpha``, the exact curvature of the L2 term, is added.

What stays heuristic in 'lipschitz' (and is why the estimators guard the
rate): (1) only the last layer is bounded -- the assumption that its
gradient dominates (LipschitzLR eq. 7) is not a theorem; (2) ``K_z / m`` is
the published per-batch norm, which can under-estimate the gradient norm's
supremum by up to ``sqrt(m)`` (papers.md 1.7 item 3); (3) a bound on the
gradient (the function's Lipschitz constant) is used as if it bounded the
gradient's variation (the descent lemma's constant).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .lipschitz import paper_frobenius_factor


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


def last_layer_smoothness(A):
    """``lambda_max([A, 1]' [A, 1]) / n``, exact (dense eigenvalue)."""
    n = A.shape[0]
    if sp.issparse(A):
        A = A.toarray()
    A = np.asarray(A, dtype=np.float64)
    d = A.shape[1]
    G = np.empty((d + 1, d + 1))
    G[:d, :d] = A.T @ A
    col = A.sum(axis=0)
    G[:d, d] = col
    G[d, :d] = col
    G[d, d] = n
    return float(max(np.linalg.eigvalsh(G / n)[-1], 0.0))


def classifier_lipschitz(A, n_classes, batch_size, *, mode, alpha=0.0, last_coef=None):
    """The constant of a softmax / sigmoid output layer (see module docstring).

    Parameters
    ----------
    A : array of shape (n_samples, n_last)
        Activations the output layer multiplies.
    n_classes : int >= 2
        Two classes: one sigmoid output; more: softmax.
    batch_size : int or None
    mode : {'paper', 'lipschitz'}
    alpha : float
    last_coef : array or None
        Current output-layer weights (for the published L2 term).
    """
    factor = frobenius_factor(A, batch_size)
    if mode == "paper":
        g = 0.5 if n_classes == 2 else (n_classes - 1) / n_classes
        L = g * factor
        if alpha and last_coef is not None:
            L += alpha * float(np.linalg.norm(last_coef))
        return float(L)
    return float(factor + alpha)


def regressor_lipschitz(A, raw, Y, loss, batch_size, *, mode, alpha=0.0, last_coef=None):
    """The constant of an identity output layer under a regression loss."""
    if mode == "paper":
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
    if loss.name == "squared_error":
        return float(loss.curvature * last_layer_smoothness(A) + alpha)
    g = getattr(loss, "quantile", None)
    g = max(g, 1.0 - g) if g is not None else 1.0
    return float(g * frobenius_factor(A, batch_size) + alpha)
