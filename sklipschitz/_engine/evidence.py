"""The evidence-based stopping criterion (EB) of a network's training.

Mahsereci, Balles, Lassner & Hennig, "Early Stopping without a Validation
Set" (arXiv 1703.09580, 2017): a mini-batch ``S`` of rows gives the gradient
``g`` of the data term and, from the rows' own gradients, an estimate of
its variance per weight; training has nothing left to descend but the
sample's noise when the gradient is no larger than that of a zero-mean
gradient of that variance,

    EB = 1 - (1 / D) sum_k g_k^2 / V_k > 0,

with ``V_k`` the variance of the mini-batch gradient's entry ``k`` (the
paper's ``S_k / |S|``) and ``D`` the number of entries.  Entries with
``V_k = 0`` (dead ReLU units, weights no row's gradient reaches) are left
out of both the sum and ``D``.

Rows carry normalized weights ``w_i`` (``sum_i w_i = 1``) and the gradient
is the weighted mean ``g = sum_i w_i G_i`` of the rows' gradients ``G_i``.
The variance of that weighted mean, with the rows' scatter around ``g``
bias-corrected as for equal weights (Kish's effective sample size),

    V = sum_i w_i^2 (G_i - g)^2 / (1 - s)
      = (sum_i w_i^2 G_i^2 - 2 g sum_i w_i^2 G_i + s g^2) / (1 - s),   s = sum_i w_i^2,

is ``S / |S|`` of the paper for equal weights (``s = 1 / |S|``, where
``sum_i w_i^2 G_i = s g``; unequal weights need the middle sum, one more
product per layer).  For a
dense layer the rows' gradients are ``a_i (x) delta_i``, so
``sum_i w_i^2 G_i^2 = (A^2)' (Delta^2)`` with ``Delta`` the back-propagated
weighted gradients: one product of the squared matrices per layer and batch
(and ``sum_i Delta_i^2`` for the intercepts).  The L2 term's gradient is
not noise and not part of ``g`` (the paper leaves regularisers out the same
way): the network reports its layers' data gradients before adding it.

Three variants (``mode``):

* ``'rows'`` -- every layer, the rows' variance (the paper's criterion);
* ``'output'`` -- the last layer only (its rows' gradients are the loss's
  gradients times the last hidden layer's activations; measured on the same
  backward pass here);
* ``'batches'`` -- the variance *across* the epoch's mini-batch gradients
  (``B`` batches: mean ``m`` and unbiased variance ``v`` of the ``B``
  gradients, ``O(weights)`` per batch and no extra product): the epoch mean
  of the per-batch criterion with ``V = v`` is ``1/B - (1/D) sum_k m_k^2 /
  v_k``.  Needs a few batches per epoch (``min_batches``); with fewer it
  gives no value.

The per-batch criterion is noisy; it is smoothed by its mean over the
epoch's batches (``'rows'``, ``'output'``), or with ``window`` over the last
``window`` batches of the accepted epochs (no value until there are that
many): small data sets have few batches per epoch.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

MODES = ("rows", "output", "batches")


def _square(a):
    if sp.issparse(a):
        return a.multiply(a)
    return np.square(a, dtype=np.float64)


class GradientEvidence:
    """Accumulates the EB criterion over the batches of one epoch.

    The network calls :meth:`begin` once per gradient evaluation (with the
    rows' normalized weights) and :meth:`layer` for every layer of the
    backward pass, with that layer's input activations ``A``, its
    back-propagated gradient ``delta`` (``factor * delta`` are the weighted
    rows' gradients with respect to the layer's outputs) and its data
    gradients (before any penalty; ``factor`` times them are the weighted
    mean's).  :meth:`new_epoch` forgets the batches seen;
    :meth:`epoch_value` is the epoch's criterion (NaN when there is none).
    """

    def __init__(self, mode="rows", *, min_batches=4, window=None):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.mode = mode
        self.min_batches = min_batches
        self.window = window
        self._recent = []  # the batch values of the accepted epochs (window)
        self.n_layers = None
        self.curve = []  # the criterion of every accepted epoch (epoch_value)
        self.new_epoch()

    def new_epoch(self):
        self._batch_values = []
        self._sums = None  # 'batches': per parameter, sum and sum of squares of g
        self._n_batches = 0
        self._ratio = 0.0
        self._count = 0

    def begin(self, normalized_weight, rows, n_layers):
        """A new gradient evaluation on ``rows`` rows (weights: an array or ``1 / rows``)."""
        self._finish_batch()
        self.n_layers = n_layers
        if isinstance(normalized_weight, float):
            self._s = rows * normalized_weight ** 2
            self._w = None
        else:
            w = np.asarray(normalized_weight, dtype=np.float64)
            self._s = float(w @ w)
            self._w = w
        self._open = True
        self._ratio, self._count = 0.0, 0
        self._grads = []
        self._n_batches += 1

    def wants_rows(self, i):
        """Whether layer ``i`` needs the rows' squared gradients."""
        return self.mode == "rows" or (self.mode == "output" and i == self.n_layers - 1)

    def layer(self, i, A, delta, gW, gb, factor=1.0):
        if self.mode == "batches":
            self._grads.append((i, factor * np.asarray(gW, dtype=np.float64),
                                factor * np.asarray(gb, dtype=np.float64)))
            return
        if not self.wants_rows(i):
            return
        s = self._s
        if not s < 1.0:
            return  # a single row: no variance estimate
        D2 = _square(delta)
        f2 = factor * factor
        QW = np.asarray(_square(A).T @ D2)
        Qb = D2.sum(axis=0)
        if self._w is not None:
            # sum_i w_i^2 G_i (delta_i already carries one w_i)
            wD = np.asarray(delta, dtype=np.float64) * (factor * self._w)[:, None]
            cross = (np.asarray(A.T @ wD), wD.sum(axis=0))
        else:
            cross = (None, None)
        for g, V, C in ((gW, QW, cross[0]), (gb, Qb, cross[1])):
            # V <- (1 - s) times the variance, in place; g2 <- g^2 / V where V > 0
            g = np.multiply(g, factor, dtype=np.float64)
            g2 = g * g
            V *= f2
            V -= s * g2
            if C is not None:
                V -= 2.0 * (g * C - s * g2)
            keep = V > 0
            np.divide(g2, V, out=g2, where=keep)
            self._count += int(np.count_nonzero(keep))
            self._ratio += float(np.sum(g2, where=keep)) * (1.0 - s)

    def _finish_batch(self):
        if not getattr(self, "_open", False):
            return
        self._open = False
        if self.mode == "batches":
            grads = [a for _, gW, gb in sorted(self._grads, key=lambda t: t[0])
                     for a in (gW, gb)]
            if self._sums is None:
                self._sums = ([g.copy() for g in grads], [g * g for g in grads])
            else:
                for s1, s2, g in zip(*self._sums, grads):
                    s1 += g
                    s2 += g * g
            self._grads = []
        elif self._count:
            self._batch_values.append(1.0 - self._ratio / self._count)

    def epoch_value(self):
        """The epoch's criterion: positive means stop."""
        self._finish_batch()
        if self.mode != "batches":
            if self.window:
                recent = (self._recent + self._batch_values)[-self.window:]
                return float(np.mean(recent)) if len(recent) == self.window else math.nan
            return float(np.mean(self._batch_values)) if self._batch_values else math.nan
        B = self._n_batches
        if self._sums is None or B < max(self.min_batches, 2):
            return math.nan
        ratio, count = 0.0, 0
        for s1, s2 in zip(*self._sums):
            mean = s1 / B
            var = (s2 - B * mean * mean) / (B - 1)
            keep = var > 1e-12 * (s2 / B)  # (cancellation: var of equal gradients)
            count += int(np.count_nonzero(keep))
            ratio += float(np.sum(mean[keep] ** 2 / var[keep]))
        return 1.0 / B - ratio / count if count else math.nan

    def record(self):
        """Append the epoch's criterion to :attr:`curve` and start a new epoch."""
        value = self.epoch_value()
        self.curve.append(value)
        if self.window:
            self._recent = (self._recent + self._batch_values)[-self.window:]
        self.new_epoch()
        return value
