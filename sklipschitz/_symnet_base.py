"""The machinery the SymNet estimators share: the engine call, the per-layer rates, the guard.

Kept apart from :mod:`sklipschitz.neural_network` (the public estimators) so
each module stays small.  Every epoch the network's constants are computed
from the training data and the current network
(:mod:`sklipschitz._engine.network_lipschitz` says which factors are valid
bounds and which are estimates), the loop of :mod:`sklipschitz._engine.loop`
runs the epoch, and the guard undoes an epoch that ends above the starting
loss; a fit the guard could not save raises a ``ConvergenceWarning``.
"""

from __future__ import annotations

import functools
import math
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, softmax
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._engine import lipschitz as _lipschitz
from ._engine import network_lipschitz as _nl
from ._engine import penalties as _penalties
from ._base import (
    LipschitzEstimator,
    check_feature_magnitude,
    divergence_hint,
    warn_class_ordered_stream,
)
from ._engine.activations import make_activation
from ._engine.evidence import GradientEvidence as _GradientEvidence
from ._engine.loop import TrainState, train
from ._engine.network import DenseNetwork, _axpy
from ._engine.steps import ConstantStep, LipschitzStep
from ._engine.monitors import DivergenceStop, HalvingGuard, Stopping, Validation
from ._engine.problems import NetworkProblem
from ._engine.updates import UPDATES, IterateAverage

_AUTO_BATCH = 200
#: a fit whose rate the guard had to halve this many times (a factor of
#: about 1000) warns that it may have stalled
_WARN_HALVINGS = 10
#: the local curvature of a cross-entropy output never counts for less than
#: this fraction of its supremum (network_lipschitz.local_curvature)
_CURV_FLOOR = 0.1
#: rows whose stored activations start the power iterations of a
#: mini-batch fit (evenly spaced over the training data)
_WARM_ROWS = 1024
#: rows (evenly spaced) on which the hidden layers' curvature along the
#: actual network is estimated (network_lipschitz.JacobianCurvature)
_JACOBIAN_ROWS = 512
#: the local curvature floor of that estimate for ReLU, identity and A-ReLU
#: units (a fraction of the loss's supremum, as _CURV_FLOOR): lower than the
#: bound's, see docs/symnet.md "Curvature along the network"
_JACOBIAN_FLOOR = 0.02
#: the units whose hidden layers take that estimate (see _run)
_JACOBIAN_UNITS = frozenset({"relu", "identity", "arelu", "sbaf", "tanh", "logistic"})
#: curved units with a bounded second derivative: their estimate also
#: covers the residual x g'' term of the block Hessian, with its
#: own curvature floor (higher than the bound's: see docs/symnet.md) and more
#: power iterations per epoch (the block Hessian is indefinite: its top
#: |eigenvalue| estimate from two warm iterations jumped between epochs)
_RESIDUAL_UNITS = frozenset({"sbaf", "tanh", "logistic"})
#: the units whose estimates a stream of partial_fit calls spaces out (see
#: _run): not A-ReLU, which has no slope bound, so that its estimate / bound
#: ratio drifts as the weights grow (sixfold in 50 calls of 200 rows at
#: (32, 32, 32, 32)) and a kept ratio gave too large steps
_SPACED_UNITS = frozenset({"relu", "identity", "sbaf", "tanh", "logistic"})
#: a fit spaces the estimates of curved units (_RESIDUAL_UNITS) up to this
#: many hidden layers (see _run)
_SPACED_FIT_DEPTH = 3
_RESIDUAL_ITERATIONS = 5
_RESIDUAL_FLOOR = 0.3
#: decay per accepted epoch of the weight average (the bias-corrected
#: exponential IterateAverage): a window of about 20 epochs.  Mini-batch
#: steps at a computed rate leave the weights moving around the fit from
#: epoch to epoch; the average removes most of that noise and, on small data
#: sets, lags behind the late epochs that only fit the training rows
_AVERAGE_DECAY = 0.95
# the evidence-based stopping rule (evidence.GradientEvidence; its threshold
# is ``evidence_tol``): the variant ('rows', 'output' or 'batches'), the
# criterion smoothed over the last _EVIDENCE_WINDOW batches (None: the
# epoch's batches), and above the threshold for _EVIDENCE_PATIENCE
# consecutive epochs (the variants of benchmarks/bench_symnet_gradstop.py)
_EVIDENCE = "rows"
_EVIDENCE_WINDOW = 30
_EVIDENCE_PATIENCE = 3


class _ForwardMemoNetwork(DenseNetwork):
    """A :class:`DenseNetwork` that can hand one stored forward pass over once.

    Full-batch training evaluates the network on the whole training set
    twice at the same weights: at the end of an epoch (the guard's loss and
    the next ``K_z``) and at the start of the next one (its gradient).  The
    first pass is stored with a copy of the weights; the next forward call
    on the same ``X`` at equal weights returns it (once: the loss may then
    overwrite ``raw``) instead of recomputing it.
    """

    _memo = None

    def __init__(self, layer_sizes, activation=None, *, buffers=False):
        super().__init__(layer_sizes, activation, buffers=buffers)

    def remember(self, X, coefs, intercepts, result):
        self._memo = (X, [p.copy() for p in (*coefs, *intercepts)], result)

    def forget(self):
        self._memo = None

    def forward(self, X, coefs, intercepts):
        memo = self._memo
        if memo is not None and memo[0] is X and all(
            np.array_equal(p, q) for p, q in zip(memo[1], (*coefs, *intercepts))
        ):
            self._memo = None
            return memo[2]
        return super().forward(X, coefs, intercepts)


class _LayerL2Problem(NetworkProblem):
    """:class:`NetworkProblem` whose gradient takes the L2 term of layer ``k``
    at ``layer_alpha[k]`` (set with the constants: ``penalties.layer_l2``).

    The value is the objective's, at ``alpha``: ``layer_alpha[k] < alpha``
    only while the data's curvature of layer ``k`` is below ``10 alpha``.
    """

    layer_alpha = None

    def evaluate(self, coefs, intercepts, rows=None):
        alpha, self.alpha = self.alpha, 0.0
        try:
            value, grads, wsum = super().evaluate(coefs, intercepts, rows)
        finally:
            self.alpha = alpha
        if grads is not None:
            strengths = self.layer_alpha or [alpha] * len(coefs)
            for W, g, a in zip(coefs, grads, strengths):
                if a:
                    _axpy(a, W, g)
                value += 0.5 * alpha * float(np.vdot(W, W))
        return value, grads, wsum


def _constant_loss(loss, Y, sw):
    """The training loss of the best constant prediction (no penalty)."""
    return float(loss.constant_objective(Y, loss.constant_raw(Y, sw), sw))


#: the linear reference of :func:`_linear_fit` is fitted on at most this many
#: rows, and only where they number at least _LINEAR_ROWS_PER_WEIGHT per
#: weight of the linear model (fewer rows: a linear model nearly interpolates
#: them, and a network need not fit as well)
_LINEAR_ROWS = 2000
_LINEAR_ROWS_PER_WEIGHT = 5
#: a regressor that removes less than this share of the linear reference's
#: improvement over the constant predictor is warned about; a classifier whose
#: (weighted) training accuracy is more than _LINEAR_ACCURACY below the linear
#: reference's (the log-loss is no guide there: with one positive in 5,000
#: rows a network that ranks it first barely moves the loss)
_LINEAR_SHARE = 0.5
_LINEAR_ACCURACY = 0.1
#: a fit that a stopping rule ended is warned about when a
#: _NEIGHBOURS-nearest-neighbour fit of its training residuals (3-fold, on at
#: most _RESIDUAL_ROWS rows) explains more than _RESIDUAL_SHARE of the
#: targets' (or encoded classes') variance out of fold: the network stopped
#: while a function of X could still add that much (see _residual_structure)
_RESIDUAL_ROWS = 1000
_NEIGHBOURS = 10
_RESIDUAL_SHARE = 0.1


def _spread_rows(n, k):
    """At most ``k`` evenly spaced row indices of ``n`` rows (all of them
    when ``n <= k``), in order: the row samples of the checks and estimates."""
    return np.unique(np.linspace(0, n - 1, min(n, k)).astype(np.intp))


def _linear_fit(X, Y, sw, classifier):
    """The raw scores of a plain linear model on a row sample of ``X``:
    ``(rows, raw)``, or None where it is not a fair reference (fewer than
    :data:`_LINEAR_ROWS_PER_WEIGHT` rows per weight, non-finite data, one
    class).

    Least squares with an intercept for regression (a linear predictor, not
    the minimiser of every loss: its loss bounds the best linear model's
    from above), ``LogisticRegression`` (L2, ``C=1``) for classification.
    """
    n, d = X.shape
    rows = _spread_rows(n, _LINEAR_ROWS)
    if rows.size < _LINEAR_ROWS_PER_WEIGHT * (d + 1) * (Y.shape[1] if classifier else 1):
        return None
    Xr = X[rows]
    Xr = np.asarray(Xr.toarray() if sp.issparse(Xr) else Xr, dtype=np.float64)
    Yr = np.asarray(Y[rows], dtype=np.float64)
    w = np.ones(rows.size) if sw is None else np.asarray(sw[rows], dtype=np.float64)
    if not np.all(np.isfinite(Xr)) or np.sum(w) <= 0:
        return None
    if classifier:
        from sklearn.linear_model import LogisticRegression

        labels = Yr[:, 0] if Yr.shape[1] == 1 else np.argmax(Yr, axis=1)
        if np.unique(labels).size < 2:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = LogisticRegression(max_iter=200).fit(Xr, labels, sample_weight=w)
        return rows, ref.decision_function(Xr).reshape(rows.size, -1)
    A = np.column_stack([Xr, np.ones(rows.size)])
    root = np.sqrt(w)[:, None]
    coef = np.linalg.lstsq(A * root, Yr * root, rcond=None)[0]
    return rows, A @ coef


def _residual_structure(X, Y, predict, sw):
    """The share of the targets' variance that the residuals ``Y - predict(X)``
    still owe to ``X``: a ``_NEIGHBOURS``-nearest-neighbour regression of the
    residuals, predicted out of fold (3-fold) on at most ``_RESIDUAL_ROWS``
    evenly spaced rows, removes ``SS(R) - SS(R - R_hat)`` of them, divided by
    ``SS(Y - mean)`` (sums weighted by ``sw``; averaged over the outputs that
    vary).  About 0 or below where the residuals are noise; None where it
    cannot be judged (too few rows, non-finite values, constant targets).

    Nearest neighbours assume nothing about the function the network should
    have found; in many dimensions they find little, so the check stays
    quiet there rather than guess.
    """
    from sklearn.model_selection import KFold, cross_val_predict
    from sklearn.neighbors import KNeighborsRegressor

    n = X.shape[0]
    rows = _spread_rows(n, _RESIDUAL_ROWS)
    w = np.ones(rows.size) if sw is None else np.asarray(sw[rows], dtype=np.float64)
    rows, w = rows[w > 0], w[w > 0]
    if rows.size < 6 * _NEIGHBOURS:
        return None
    Xs = X[rows]
    Xr = Xs.tocsr() if sp.issparse(Xs) else np.asarray(Xs, dtype=np.float64)
    Yr = np.asarray(Y[rows], dtype=np.float64)
    R = Yr - np.asarray(predict(Xs), dtype=np.float64).reshape(Yr.shape)
    if not (np.all(np.isfinite(Xr.data if sp.issparse(Xr) else Xr)) and np.all(np.isfinite(R))):
        return None
    pred = cross_val_predict(KNeighborsRegressor(_NEIGHBOURS), Xr, R,
                             cv=KFold(3, shuffle=True, random_state=0))
    pred = pred.reshape(R.shape)
    w = w[:, None]
    total = np.sum(w * (Yr - np.average(Yr, axis=0, weights=w[:, 0])) ** 2, axis=0)
    gain = np.sum(w * R ** 2, axis=0) - np.sum(w * (R - pred) ** 2, axis=0)
    varies = total > 1e-12 * np.maximum(np.sum(w * Yr ** 2, axis=0), 1e-300)
    if not np.any(varies):
        return None
    return float(np.mean(gain[varies] / total[varies]))


def _accuracy(Y, raw, sw):
    """Weighted training accuracy of raw scores against one-hot (or 0/1) Y."""
    if Y.shape[1] == 1:
        right = (raw[:, 0] > 0) == (Y[:, 0] > 0.5)
    else:
        right = np.argmax(raw, axis=1) == np.argmax(Y, axis=1)
    return float(np.average(right, weights=sw))


#: a stream is judged (prequentially, :class:`_StreamCheck`) once it has
#: seen this many rows in at least _STREAM_CALLS scored calls (each call is
#: scored with the network of before it: a stream of few large calls lags)
_STREAM_ROWS = 200
_STREAM_CALLS = 10
#: targets kept (a uniform sample of the stream) for the constant predictor
#: of losses whose best constant is not the mean (median, quantile, log-cosh)
_RESERVOIR_ROWS = 512
#: a classifier's stream ordered by class: a chunk (of at least
#: _ORDER_MIN_ROWS rows, after at least as many) whose class shares are more
#: than _ORDER_UNLIKE (total variation) from those of the rows seen before it
#: is unlike them; once _ORDER_CALLS chunks have been judged, a share
#: _ORDER_SHARE of them, and at least two, warns (with 10 calls, a stream of
#: breast cancer sorted by class in 3 chunks a pass ended at the majority
#: class after two passes without a word)
_ORDER_MIN_ROWS, _ORDER_UNLIKE, _ORDER_CALLS, _ORDER_SHARE = 20, 0.5, 4, 0.1


class _StreamCheck:
    """The prequential test of a ``partial_fit`` stream against the constant predictor.

    ``fit`` compares its final training loss with that of the best
    constant; a stream has no final training set.  Each call's rows are
    therefore scored *before* the network is updated on them (prequential
    evaluation, Dawid 1984), and so is the constant predictor of the rows
    seen before the call: their weighted mean target (the class frequencies
    with one pseudo-row per class, so an unseen class costs a finite loss),
    or for the median-type losses the best constant of a uniform sample of
    ``_RESERVOIR_ROWS`` earlier targets.  The first call has no earlier
    rows and is not scored.  Row ``t`` of the stream counts with weight
    ``t^3`` times its sample weight: the later rows, which show what the
    network has learned, count most (the last half of the rows seen carries
    15/16 of the weight); with weight ``t`` the early rows of a stream that
    overshot at first and then learned (A-ReLU, three layers of 32, one-row
    calls on diabetes) still outweighed the later ones 100 rows on.
    Once ``_STREAM_ROWS`` rows have been seen and ``_STREAM_CALLS`` calls
    scored, a stream whose weighted
    prequential loss is no better than the constant predictor's raises one
    ``ConvergenceWarning`` (it warns once per stream).
    """

    def __init__(self, state=None, n_classes=None):
        # plain values only (numbers, arrays, lists): the estimator keeps
        # them as they are, and so does a saved model
        self.s = state if state is not None else {
            "n_classes": n_classes, "rows": 0, "calls": 0, "warned": False,
            "sums": [0.0, 0.0, 0.0],  # index-weighted: network, constant, weight
            "weight": 0.0, "target_sum": None, "sample": None, "sample_w": None,
        }

    def _constant(self, loss):
        s = self.s
        if s["target_sum"] is None:
            return None
        if s["n_classes"] is not None:
            # one pseudo-row per class, of the mean weight of the rows seen
            unit = s["weight"] / s["rows"]
            prior = (s["target_sum"] + unit) / (s["weight"] + s["n_classes"] * unit)
            return loss.constant_raw(prior[None, :], np.ones(1))
        if loss.name == "squared_error":
            return s["target_sum"] / s["weight"]
        return loss.constant_raw(s["sample"], s["sample_w"])

    def _remember(self, loss, Y, w):
        s = self.s
        Y = Y.astype(np.float64)
        if s["target_sum"] is None:
            s["target_sum"], s["weight"] = w @ Y, float(w.sum())
        else:
            s["target_sum"], s["weight"] = s["target_sum"] + w @ Y, s["weight"] + float(w.sum())
        if s["n_classes"] is None and loss.name != "squared_error":
            # a uniform sample of the targets (Vitter's algorithm R)
            if s["sample"] is None:
                s["sample"], s["sample_w"] = Y[:0].copy(), w[:0].copy()
            free = max(0, min(_RESERVOIR_ROWS - s["sample"].shape[0], Y.shape[0]))
            s["sample"] = np.vstack([s["sample"], Y[:free]])
            s["sample_w"] = np.concatenate([s["sample_w"], w[:free]])
            if free < Y.shape[0]:
                rows = np.arange(free, Y.shape[0])
                seen = s["rows"] + rows + 1
                draw = np.random.default_rng(s["rows"]).random(rows.size)
                slot = (draw * seen).astype(np.int64)
                keep = slot < _RESERVOIR_ROWS
                rows, slot = rows[keep], slot[keep]
                # in stream order: a later row replaces an earlier one in its slot
                slots, first = np.unique(slot[::-1], return_index=True)
                last = rows[::-1][first]
                s["sample"][slots], s["sample_w"][slots] = Y[last], w[last]
        s["rows"] += Y.shape[0]

    def _judge_order(self, Y, w):
        """A classifier's stream: count the chunks whose weighted class shares
        are far from those of the rows seen before them, and warn once when
        they are many (a class arriving late in every pass, chunks sorted
        by class: the network follows the latest chunks)."""
        s = self.s
        if (s["target_sum"] is None or s["rows"] < _ORDER_MIN_ROWS
                or Y.shape[0] < _ORDER_MIN_ROWS or not w.sum() > 0):
            return
        past = s["target_sum"] / s["weight"]
        now = (w @ Y.astype(np.float64)) / w.sum()
        if Y.shape[1] == 1:  # two classes: the share of the second
            past, now = np.append(1.0 - past, past), np.append(1.0 - now, now)
        tally = s.get("order", [0, 0])
        tally = [tally[0] + int(0.5 * np.abs(now - past).sum() > _ORDER_UNLIKE), tally[1] + 1]
        s["order"] = tally
        if (not s.get("order_warned", False) and tally[1] >= _ORDER_CALLS
                and tally[0] >= max(2, _ORDER_SHARE * tally[1])):
            s["order_warned"] = True
            warn_class_ordered_stream(tally[0], tally[1], "network")

    def judge(self, loss, Y, sw, raw):
        """Score this call's rows (``raw``: the network's outputs before the
        update) and the earlier rows' constant; warn when the stream has
        seen enough rows and the network is no better."""
        s = self.s
        w = np.asarray(sw, dtype=np.float64)
        constant = self._constant(loss)
        if constant is not None:
            v = w * (s["rows"] + 1.0 + np.arange(Y.shape[0])) ** 3
            Y64 = Y.astype(np.float64)
            const_raw = np.broadcast_to(np.asarray(constant, dtype=np.float64), Y.shape).copy()
            s["sums"][0] += float(v @ loss.loss(Y64, np.asarray(raw, dtype=np.float64)))
            s["sums"][1] += float(v @ loss.loss(Y64, const_raw))
            s["sums"][2] += float(v.sum())
            s["calls"] += 1
        if s["n_classes"] is not None:
            self._judge_order(Y, w)
        self._remember(loss, Y, w)
        if (s["warned"] or s["rows"] < _STREAM_ROWS or s["calls"] < _STREAM_CALLS
                or not s["sums"][2] > 0):
            return
        model, const = s["sums"][0] / s["sums"][2], s["sums"][1] / s["sums"][2]
        if not (model < const - 1e-3 * abs(const)):
            s["warned"] = True
            warnings.warn(
                f"After {s['rows']} rows the stream's prequential loss ({model:.6g}: each "
                "call's rows predicted before the update on them, recent rows weighted "
                f"most) is no better than that of the constant predictor ({const:.6g}, "
                "the best constant of the earlier rows' targets): so far the network has "
                "learned nothing from X, or its steps overshoot. Standardize X (and y), "
                "pass larger chunks, or change the layers or the activation.",
                ConvergenceWarning,
            )


class _PlateauStopping(Stopping):
    """scikit-learn's MLP rule (``tol`` absolute, ``n_iter_no_change``), and a plateau rule.

    The training loss of a network at a computed rate keeps falling by about
    ``tol`` per epoch long after the predictions have settled, so the
    absolute rule alone rarely fires.  The plateau rule stops the fit when
    the last ``n_iter_no_change`` epochs lowered the training loss by less
    than ``progress_tol`` times its total decrease since the first epoch:
    ``L[t - n] - L[t] < progress_tol * (L[0] - L[t])`` (unit-free; 0 turns
    it off).  An epoch whose loss rose by more than that required progress
    is a jump, not a plateau: a fit without a weight average (which would
    absorb it) does not stop on it.  It judges the training loss only: with
    early stopping the validation score decides, by the absolute rule.
    """

    def __init__(self, tol, n_iter_no_change, progress_tol, average=None, evidence=None,
                 evidence_tol=None):
        super().__init__(tol, n_iter_no_change, absolute=True)
        self.progress_tol = progress_tol
        self.on_loss = False
        # the gradient evidence of the epoch's batches (GradientEvidence), if
        # any, and the threshold of its criterion
        self.evidence = evidence
        self.evidence_tol = evidence_tol
        self._positive = 0
        # the weight average (an IterateAverage) of the accepted epochs, if any
        self.average = average
        self.fired = False

    def improved(self, value, best):
        # called by the loop for the training-loss rule only
        self.on_loss = True
        return super().improved(value, best)

    def update(self, state, improved):
        stop = super().update(state, improved)
        curve, n = state.loss_curve, self.n_iter_no_change
        if self.on_loss and self.progress_tol > 0 and len(curve) > n:
            required = self.progress_tol * (curve[0] - curve[-1])
            plateau = curve[-1 - n] - curve[-1] < required
            if plateau and self.average is None and curve[-1] - curve[-2] > required:
                # the last epoch undid more than the window had to gain: a
                # jump, not a plateau.  A fit that ends on its last weights
                # (no average to absorb it) goes on; stopping there ended
                # five SBAF layers of 32 on breast cancer at training
                # accuracy 0.868 on the jump's weights (0.97-0.99 without)
                plateau = False
            stop = stop or plateau
        if self.on_loss and self.evidence is not None:
            value = self.evidence.record()
            self._positive = self._positive + 1 if value > self.evidence_tol else 0
            stop = stop or self._positive >= _EVIDENCE_PATIENCE
        if self.average is not None:
            self.average.accumulate(state, [*state.coefs, *state.intercepts])
        self.fired = bool(stop)
        return stop


#: a first epoch whose objective ends above this multiple of the guard's
#: threshold blew up (_EndLossGuard.blew_up): an order of magnitude
_BLOWUP = 10.0


class _EndLossGuard(HalvingGuard):
    """The halving guard, with the epoch's mean batch loss judged against its start.

    An epoch is undone when the objective at its end is not finite or above
    the threshold, or when the mean of its mini-batch losses (each taken
    before its step) is above the threshold *and* the epoch did not lower
    the objective.  The mean alone used to decide: a network that starts at
    the constant predictor's loss (one positive in 5,000 rows) had every
    epoch rejected although each ended below the threshold (a few batch
    losses early in the epoch were above it): 25 halvings and a stalled fit.

    The halvings of the first epoch whose loss blew up (:meth:`blew_up`) are
    released once an epoch is accepted (``release_first``): the constants of
    the first epoch are measured at the initial weights, those of the next
    at weights training reached (A-ReLU's curvature at Glorot's weights is
    ~50x below its value after one epoch: three blow-ups, then 195 epochs at
    1/8 of the computed rates).  A milder rise keeps its halving for the fit.
    """

    release_first = True

    def __init__(self, threshold, end_loss_fn, start, constant=None):
        super().__init__(threshold, end_loss_fn)
        self.start = start
        self.end = None  # the objective at the end of the epoch last judged
        # the constant predictor's loss: once an epoch has ended below it,
        # the threshold drops to it (see is_bad)
        self.constant = constant

    def is_bad(self, epoch_loss, state):
        self.end = None
        if not math.isfinite(epoch_loss):
            return True
        end = self.end = self.end_loss_fn(state.coefs, state.intercepts)
        if not math.isfinite(end) or end > self.threshold:
            return True
        if epoch_loss > self.threshold and not end < self.start:
            return True
        self.start = end
        if self.constant is not None and end < self.constant:
            # a fit that has been better than the constant predictor may
            # not end an epoch worse than it: the threshold was the initial
            # loss (random output weights: above the constant's), and one
            # layer of 512 ReLU units on diabetes (seed 0) ended its last
            # epoch at 0.573 (best 0.224, constant 0.5, threshold 0.617),
            # R^2 -0.14
            self.threshold = min(self.threshold, self.constant)
        return False

    def blew_up(self):
        """Whether the epoch just rejected ended with its objective not finite
        or more than ``_BLOWUP`` times the threshold.

        Measured on the first epochs the guard undid (3-fold fits of the
        depth table, docs/symnet.md): the rises of the mild failures end at
        1.0-7x the threshold (SBAF on digits, the synthetic problem and
        diabetes, relu on breast cancer, A-ReLU (64, 64) on diabetes), the
        blow-ups of A-ReLU at 24x to 1e226x or overflow.
        """
        end = self.end
        return end is None or not math.isfinite(end) or end > _BLOWUP * self.threshold


class _FullPass:
    """The network on the whole training set, every layer's activations kept.

    In chunks of the batch size into buffers kept across epochs (one per
    hidden layer and one for the outputs), so no temporary of the pass is
    larger than a batch.  With a single batch the pass is remembered for the
    next epoch's gradient (same weights: bit-identical results).
    Returns ``(raw, acts)`` with ``acts[0] = X``.
    """

    def __init__(self, network, X, m, hidden, n_outputs, dtype):
        self.network, self.X, self.m = network, X, m
        self.shapes = (hidden, n_outputs, dtype)
        self.buffers = None

    def __call__(self, coefs, intercepts):
        network, X, m = self.network, self.X, self.m
        n = X.shape[0]
        if n <= m:
            result = network.forward(X, coefs, intercepts)
            network.remember(X, coefs, intercepts, result)
            return result[0], result[2]
        hidden, n_outputs, dtype = self.shapes
        if self.buffers is None:
            self.buffers = [np.empty((n, h), dtype=dtype) for h in hidden]
            self.raw = np.empty((n, n_outputs), dtype=dtype)
        for start in range(0, n, m):
            sl = slice(start, min(start + m, n))
            raw, _, acts = network.forward(X[sl], coefs, intercepts)
            self.raw[sl] = raw
            for buf, a in zip(self.buffers, acts[1:]):
                buf[sl] = a
        return self.raw, [X, *self.buffers]


#: the rows (evenly spaced, at most) on which a deep network's initial
#: layers are rescaled to the variance of the first (_keep_variance); with
#: fewer than _INIT_MIN_ROWS rows (a small first partial_fit call) the
#: Gaussian moments of the unit alone set the scale
_INIT_ROWS = 1024
_INIT_MIN_ROWS = 50
#: networks of at least this many hidden layers of a unit whose slope is
#: bounded below 1 (sbaf: 0.2155, logistic: 0.25) take that start: Glorot's
#: variance assumes slope 1 at the start (relu, tanh, identity), and such a
#: unit loses at least the factor slope^2 of the signal per layer even where
#: it is most linear.  The others keep Glorot's weights, as networks of one
#: to three hidden layers do.  Measured (docs/symnet.md "Deep networks"): at
#: depth 2-3 the rescaled start trained relu and A-ReLU on diabetes into
#: overfitting sooner (four cells of the depth table more than 0.02 below
#: the tuned MLP, within 0.02 everywhere from Glorot's start); at depth 4-6
#: it cost relu and A-ReLU 0.1-0.45 and tanh up to 0.13 of test R^2 on
#: diabetes, while SBAF gained
_DEEP_INIT_LAYERS = 4


def _keep_variance(network, coefs, intercepts, dtype, X=None):
    """Scale and centre the hidden-to-hidden layers so that every hidden
    unit's pre-activations start with the variance of the first layer's,
    around its own intercept (the forward signal neither vanishes nor grows
    with depth).

    Derived: a unit ``g`` fed ``z ~ N(c, s^2)`` (``c`` its intercept) has the
    mean ``mu(c)`` and variance ``v(c)`` of :meth:`Activation.gaussian_moments`.
    Unit ``j`` of the next layer then has pre-activations of variance
    ``sum_i W_ij^2 v_i`` (inputs uncorrelated) and mean ``b_j + sum_i W_ij
    mu_i``: each column of Glorot's weights is rescaled to ``sum_i W_ij^2 v_i
    = s^2`` and the intercepts shifted by ``-W' mu``, layer after layer;
    ``s^2`` is the first layer's (the mean squared column norm of its weights,
    for inputs of unit variance).  Glorot's variance ``2 / (n_in + n_out)``
    multiplied the variance by about ``v / s^2`` per layer instead: 0.14 for
    A-ReLU, 0.034 for SBAF (at its steepest input), 0.34 for relu at ``s = 1``.

    Measured: with ``X`` (at least ``_INIT_MIN_ROWS`` rows) the same two
    conditions are then met exactly on a sample of its rows, layer by layer
    (a layer's pre-activations are linear in its weights given its inputs:
    one pass, as LSUV, Mishkin & Matas 2016): correlated or heavy-tailed
    features break the Gaussian assumption, and A-ReLU's power compounds the
    error (six layers on breast cancer: a sixth-layer variance of 8e3 from the
    moments alone).  The first and the output layer keep Glorot's weights.
    """
    act = network.activation
    s2 = float(np.mean(np.sum(np.square(coefs[0], dtype=np.float64), axis=0)))
    # the intended mean of each layer's pre-activations: its intercepts
    # before the shift by -W' mu
    centres = [np.asarray(b, dtype=np.float64).copy() for b in intercepts]
    for k in range(1, len(coefs) - 1):
        values, where = np.unique(centres[k - 1], return_inverse=True)
        mu, v = act.gaussian_moments(values, math.sqrt(s2))
        mu, v = mu[where.ravel()], v[where.ravel()]
        W = coefs[k].astype(np.float64)
        spread = v @ np.square(W)
        if not np.all(spread > 0.0):
            return  # a unit without spread (a constant): Glorot's start
        W *= np.sqrt(s2 / spread)
        coefs[k][...] = W.astype(dtype)
        intercepts[k][...] = (centres[k] - mu @ W).astype(dtype)
    if X is None or X.shape[0] < _INIT_MIN_ROWS:
        return
    n = X.shape[0]
    rows = _spread_rows(n, _INIT_ROWS)
    z = np.asarray(X[rows] @ coefs[0], dtype=np.float64) + centres[0]
    target = float(np.mean(np.var(z, axis=0)))
    if not (math.isfinite(target) and target > 0.0):
        return
    for k in range(1, len(coefs) - 1):
        a = np.asarray(act.value(z), dtype=np.float64)
        W = coefs[k].astype(np.float64)
        z = a @ W
        sd = np.std(z, axis=0)
        scale = np.where(sd > 0.0, np.sqrt(target) / np.where(sd > 0.0, sd, 1.0), 1.0)
        if not np.all(np.isfinite(scale)):
            return
        W *= scale
        z *= scale
        b = centres[k] - z.mean(axis=0)
        z += b
        coefs[k][...] = W.astype(dtype)
        intercepts[k][...] = b.astype(dtype)


@functools.lru_cache(maxsize=16)
def _shared_activation(name, sbaf_k, sbaf_alpha, arelu_k, arelu_n):
    """The activation object of these parameters, built once: the SBAF unit
    finds its slope bound on a grid of 160001 points (about 20 ms, most of a
    one-row ``partial_fit`` call when built on every call).  The objects are
    not changed after they are built, so estimators share them."""
    return make_activation(name, sbaf_k=sbaf_k, sbaf_alpha=sbaf_alpha,
                           arelu_k=arelu_k, arelu_n=arelu_n)


class _BaseSymNet(LipschitzEstimator):
    """Everything the classifier and the regressor share (input and weight
    checks, the first-call rule of ``partial_fit`` and the sparse tag come
    from :class:`~sklipschitz._base.LipschitzEstimator`)."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"sbaf", "arelu", "relu", "tanh", "logistic", "identity"})],
        "sbaf_k": [Interval(Real, 0, None, closed="neither")],
        "sbaf_alpha": [Interval(Real, 0, 1, closed="both")],
        "arelu_k": [Interval(Real, 0, None, closed="neither")],
        "arelu_n": [Interval(Real, 1, None, closed="left")],
        "optimizer": [StrOptions({"sgd", "momentum", "adam"})],
        "learning_rate": [
            StrOptions({"lipschitz", "paper"}),
            Interval(Real, 0, None, closed="neither"),
        ],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "progress_tol": [Interval(Real, 0, 1, closed="left")],
        "evidence_tol": [Interval(Real, None, 1, closed="neither"), None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    # -- configuration ---------------------------------------------------------

    def _validate_X_y(self, X, y, **kwargs):
        X, y = super()._validate_X_y(X, y, **kwargs)
        check_feature_magnitude(X, power=4)
        return X, y

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, (Integral, np.integer)):
            sizes = [sizes]
        sizes = list(sizes)
        for s in sizes:
            if isinstance(s, (bool, np.bool_)) or not isinstance(s, (Integral, np.integer)):
                raise TypeError(
                    f"hidden_layer_sizes must contain integers, got {s!r} in "
                    f"{self.hidden_layer_sizes!r}."
                )
            if s < 1:
                raise ValueError(
                    f"hidden_layer_sizes must contain positive integers, got {s} in "
                    f"{self.hidden_layer_sizes!r}."
                )
        return [int(s) for s in sizes]

    def _activation_object(self):
        params = (self.activation, self.sbaf_k, self.sbaf_alpha, self.arelu_k, self.arelu_n)
        try:
            return _shared_activation(*params)
        except TypeError:  # a parameter that cannot be a key (the checks reject it later)
            return _shared_activation.__wrapped__(*params)

    def _rebuild_network(self, layer_sizes, activation):
        """The network of a loaded estimator (``__setstate__``), from its layer sizes
        and its activation (None: built again from the parameters)."""
        shapes = [tuple(W.shape) for W in getattr(self, "coefs_", [])]
        if not isinstance(layer_sizes, list) or shapes != list(zip(layer_sizes, layer_sizes[1:])):
            raise ValueError("the network's layer sizes do not match its weights")
        if activation is None:
            activation = self._activation_object()
        elif getattr(activation, "name", None) != self.activation:
            raise ValueError(f"the network's activation is not activation={self.activation!r}")
        return _ForwardMemoNetwork(tuple(layer_sizes), activation)

    def _nominal_batch(self):
        return _AUTO_BATCH if self.batch_size == "auto" else int(self.batch_size)

    def _batch(self, n):
        if self.batch_size == "auto":
            return min(_AUTO_BATCH, n)
        return min(int(self.batch_size), n)

    # -- the engine call ----------------------------------------------------------

    def _paper_constant(self, A, raw, Y, batch_size, last_coef):
        raise NotImplementedError

    def _penalty_scale(self, loss, Y, sw):
        """The factor of ``alpha`` in a ``fit`` of the default rule (1: as given)."""
        return 1.0

    def _validation_score(self, Y_true, raw):
        raise NotImplementedError

    def _stream_prior(self, Y, sw):
        """The targets whose best constant starts the output of a ``partial_fit``
        (the first call's, as given: overridden by the classifier)."""
        return Y

    def _init_params(self, network, loss, Y, sw, dtype, rng, X=None):
        coefs, intercepts = network.init_params(rng, dtype=dtype)
        z0 = network.activation.steepest_input if network.activation is not None else None
        act = network.activation
        deep = act is not None and len(coefs) > _DEEP_INIT_LAYERS and (
            act.slope_bound is not None and act.slope_bound < 1.0
        )
        if z0 is not None:
            # a unit flat at 0 (the even SBAF unit) starts at its steepest
            # input, with a random sign per unit: Glorot weights give small
            # pre-activations, where a flat unit passes almost no gradient
            for b in intercepts[:-1]:
                b[...] = z0 * rng.choice([-1.0, 1.0], size=b.shape)
        if z0 is not None and not deep:
            # ... and it bends on the scale of |z0| (2.19 for the default
            # SBAF): up to three hidden layers take LeCun's variance 1/fan_in
            # (pre-activations of unit variance on standardized inputs).
            # Glorot's 2/(fan_in + fan_out) gave one input feature and 100
            # units a standard deviation of 0.14, and two of 0.2: every unit
            # on its linear stretch, and the network stayed near the linear
            # fit on low-dimensional problems (two circles: accuracy 0.49 to
            # 0.99 with this start).  Deeper networks keep Glorot's weights,
            # with which _keep_variance was measured -- docs/symnet.md
            # "Initialisation of SBAF layers"
            for W in coefs[:-1]:
                lim = math.sqrt(3.0 / W.shape[0])
                W[...] = rng.uniform(-lim, lim, W.shape).astype(dtype)
        if deep:
            _keep_variance(network, coefs, intercepts, dtype, X)
        # the output starts at the loss's best constant (class priors, mean,
        # median, quantile): the guard judges epochs against that predictor
        intercepts[-1][...] = np.asarray(loss.constant_raw(Y, sw), dtype=dtype)
        return coefs, intercepts

    def _run(self, X, Y, sw, loss, *, incremental, X_val=None, Y_val=None):
        hidden = self._hidden_sizes()
        n, n_features = X.shape
        n_outputs = Y.shape[1]
        dtype = X.dtype
        m = self._batch(n)
        network = _ForwardMemoNetwork(
            (n_features, *hidden, n_outputs), self._activation_object(),
            # mini-batches: training passes write into buffers kept across
            # batches (full batch: the stored pass is reused instead)
            buffers=m < n,
        )
        lr = self.learning_rate
        mode = lr if isinstance(lr, str) else "constant"
        # the L2 term in the units of the problem's loss (fit of the default
        # rule; see _penalty_scale)
        alpha = self.alpha
        if incremental and getattr(self, "_train_state", None) is not None:
            alpha = getattr(self, "_alpha", alpha)  # the first call's (or fit's)
        elif mode == "lipschitz" and hidden and not incremental and alpha:
            alpha = alpha * self._penalty_scale(loss, Y, sw)
        self._alpha = alpha
        # one rate per layer: the default rule on a network
        per_layer = mode == "lipschitz" and bool(hidden)
        layer_l2 = per_layer and bool(alpha) and not incremental

        state, rule, update, power = self._start(
            network, loss, Y, sw, dtype, incremental=incremental, per_layer=per_layer, X=X
        )
        uniform = bool(sw.min() == sw.max())
        weights = 1.0 / n if uniform else sw.astype(np.float64) / float(sw.sum())
        linear_valid = not hidden and mode == "lipschitz"
        if linear_valid:
            # a linear model has a global constant: the valid bound of
            # LipschitzRegressor (smoothness for smooth losses, per-sample
            # bound for mini-batches, Lipschitz constant for non-smooth ones)
            L_linear = _lipschitz.linear_lipschitz(
                loss, X, sw, fit_intercept=True, alpha=alpha, minibatch=m < n
            )

        forward_full = _FullPass(network, X, m, hidden, n_outputs, dtype)
        # mini-batch epochs of the per-layer rule: the guard's pass gathers
        # the next constants on the fly (PassStatistics) once the power
        # iterations have their start vectors; the first constants of a fit
        # iterate on stored activations
        fused = per_layer and m < n
        small_calls = getattr(self, "_small_calls", 0) if (
            incremental and getattr(self, "_train_state", None) is not None
        ) else 0
        small_call = incremental and per_layer and n < self._nominal_batch()
        small_calls += small_call
        # the local curvature of a cross-entropy output is that at the start
        # of the epoch, raised to a tenth of its supremum: the outputs move
        # during an epoch.  A call smaller than a batch moves its rows'
        # outputs the whole way in one step, and a row the network gets
        # confidently wrong has almost no curvature where it starts
        # (p (1 - p) near 0): its step was ten times the one the supremum
        # allows, and saturated the hidden units.  Such calls use the supremum
        curv_floor = 1.0 if small_call else _CURV_FLOOR
        # (kept between calls as plain values: (weight, means))
        kept = getattr(self, "_act_means", None) if (
            incremental and getattr(self, "_train_state", None) is not None
        ) else None
        running = _nl.RunningMeans(*(kept or (0.0, None)))
        keys = [(("A", k), size + 1) for k, size in enumerate(network.layer_sizes[:-1])]
        cache = {}
        # the hidden layers' curvature along the actual network (an estimate
        # on a row sample, min with the bound): the Gauss-Newton block for
        # units whose block Hessian it is (ReLU, identity) or that have no
        # slope bound (A-ReLU); for the curved bounded units (SBAF, tanh,
        # logistic) the larger of it and the whole block Hessian's estimate
        # (the residual x g'' term included)
        # (curved units from two hidden layers on, and not for partial_fit
        # calls smaller than a batch: with one layer, the bound has a single
        # slope-times-norm factor, and the estimate's passes cost more than
        # its faster rates save; on one-row calls the estimate of one row's
        # block Hessian let a depth-3 regressor learn nothing -- see
        # docs/symnet.md)
        residual = network.activation.name in _RESIDUAL_UNITS
        jacobian = _nl.JacobianCurvature(
            power, _spread_rows(n, _JACOBIAN_ROWS),
            iterations=_RESIDUAL_ITERATIONS if residual else 2, residual=residual,
        ) if (
            per_layer and loss.smooth and network.activation.name in _JACOBIAN_UNITS
            and (not residual or (len(hidden) >= 2 and not small_call))
        ) else None
        # a stream keeps its schedule between calls and spaces each layer's
        # estimates so that they cost at most half what the calls' epochs do
        # (EstimateSchedule; a fit, and the first call, start afresh).  Not
        # calls smaller than a batch: their products are few, and a ratio
        # kept from one row is that row's (a single-row stream of a depth-3
        # A-ReLU regressor reached R² -1e3 with it, the trigger on falls of
        # the bound only; with the schedule alone kept, 0.12 against
        # 0.3-0.5).  Nor A-ReLU units (_SPACED_UNITS)
        stream = incremental and not small_call and network.activation.name in _SPACED_UNITS
        schedule = getattr(self, "_schedule", None) if (
            stream and getattr(self, "_train_state", None) is not None
        ) else None
        if schedule is None or len(schedule.next) != len(hidden):
            schedule = _nl.EstimateSchedule(len(hidden))
        # the curved units' estimate (two blocks of five iterations per
        # layer) is spaced in a fit too, each epoch a call: on small data
        # sets it ran several epochs' worth of products at every epoch.  Up
        # to _SPACED_FIT_DEPTH hidden layers: deeper fits took a worse worst
        # seed with it (docs/symnet.md, "When the estimate is re-computed")
        spaced_fit = residual and not incremental and len(hidden) <= _SPACED_FIT_DEPTH
        spacing = jacobian.spacing(network.layer_sizes, n) if (
            jacobian is not None and (stream or spaced_fit)
        ) else None
        jacobian_floor = curv_floor if small_call else (
            _RESIDUAL_FLOOR if residual else _JACOBIAN_FLOOR)

        def stats_pass(c, i):
            return _nl.pass_statistics(
                network, X, Y, sw, c, i, batch_size=m, weights=weights, power=power,
                loss=loss, curvature_floor=_CURV_FLOOR,
            )

        def warm_vectors(c, i):
            """Start vectors of the power iterations, from evenly spaced rows.

            ``FIRST_ITERATIONS`` on the activations of at most
            ``_WARM_ROWS`` rows (stored); the full data's matrices then get
            one iteration per pass from there (PassStatistics).
            """
            if all(power.has(key, size) for key, size in keys):
                return
            idx = _spread_rows(n, _WARM_ROWS)
            raw, _, acts = network.forward(X[idx], c, i)
            w = sw[idx].astype(np.float64)
            w = w / w.sum()
            _nl.layer_constants(
                acts, c, network.activation, loss, w, alpha=alpha, batch_size=m,
                power=power, means=[_nl.column_means(A, w) for A in acts],
                curvature=_nl.local_curvature(loss, raw, _CURV_FLOOR),
            )

        # the gradient-evidence rule (fit on the training loss only: not with
        # early stopping, not partial_fit)
        evidence = _GradientEvidence(_EVIDENCE, window=_EVIDENCE_WINDOW) if (
            self.evidence_tol is not None and hidden and not incremental and X_val is None
        ) else None

        def lipschitz_fn(c, i):
            if evidence is not None:
                evidence.new_epoch()  # (an epoch starts, or the guard retries one)
            if linear_valid:
                return L_linear
            hit = cache.pop("end", None)
            if hit is not None and not all(
                np.array_equal(p, q) for p, q in zip(hit[0], (*c, *i))
            ):
                hit = None
            if fused:
                warm_vectors(c, i)
                stats = hit[1] if hit is not None and hit[1] is not None else stats_pass(c, i)
                means = stats.means()
                consts = stats.constants(
                    c, network.activation, alpha=alpha, batch_size=m
                )
            else:
                if hit is not None and hit[2] is not None:
                    raw, acts = hit[2]
                else:
                    raw, acts = forward_full(c, i)
                if mode != "lipschitz":
                    return self._paper_constant(acts[-1], raw, Y, m, c[-1])
                means = [_nl.column_means(A, weights) for A in acts]
                if incremental:
                    # partial_fit: centred at the running means of the rows
                    # seen so far (this call's included).  A call's own
                    # means would centre a single row to zero (no weight
                    # direction left: a sequence of one-row calls moved
                    # the intercepts only); the first call of one row
                    # steps in the plain coordinates
                    means = running.combine(means, float(sw.sum()), n)
                consts = _nl.layer_constants(
                    acts, c, network.activation, loss, weights, alpha=alpha,
                    batch_size=m, power=power, means=means,
                    curvature=_nl.local_curvature(loss, raw, curv_floor),
                )
            if jacobian is not None:
                # the hidden layers: the curvature along the actual network
                # (an estimate on a row sample) where it is below the bound,
                # re-estimated at every epoch only where it binds
                est = jacobian.constants(
                    network, X, sw, c, i, loss, means,
                    jacobian_floor, Y=Y, layers=schedule.due(consts[:-1]),
                )
                consts[:-1] = schedule.combine(consts[:-1], est, alpha, spacing)
            if layer_l2:
                # fit: the L2 term of a layer never outweighs a tenth of the
                # data's curvature there (penalties.layer_l2): deep networks
                # whose lowest layers' data curvature had vanished stepped to
                # the penalty's minimum, zero weights (a constant network).
                # Not partial_fit: a call of a few rows measures a layer's
                # curvature on those rows, and alpha is what keeps its rate
                # finite there
                problem.layer_alpha, consts = _penalties.layer_l2(consts, alpha)
            # one constant per parameter, coefs then intercepts (a layer's
            # weights and intercept share it); a zero or non-finite one
            # stops its layer (rate 0) instead of dividing by zero
            consts = [L if (math.isfinite(L) and L > 0) else math.inf for L in consts]
            update.means = means
            if small_call:
                # partial_fit on fewer rows than a batch: the call's own
                # constants give steps that fit its rows (one row: a
                # Kaczmarz projection, in every layer at once), so the
                # steps are noise around the fit; the k-th such call takes
                # 1 / sqrt(k) of the rate (Robbins-Monro)
                consts = [L * math.sqrt(small_calls) for L in consts]
            return consts + consts

        def guard_loss_fn(c, i):
            if fused:
                warm_vectors(c, i)
                stats = stats_pass(c, i)
                value, entry = stats.value, (stats, None)
            else:
                raw, acts = forward_full(c, i)
                value, entry = loss.objective(Y, raw, sw), (None, (raw, acts))
            if alpha:
                value += 0.5 * alpha * sum(float(np.vdot(W, W)) for W in c)
            cache["end"] = ([p.copy() for p in (*c, *i)], *entry)
            return value

        score_fn = None
        if X_val is not None:
            def score_fn(c, i):  # noqa: E306
                return self._validation_score(Y_val, network.predict_raw(X_val, c, i))

        const_loss = _constant_loss(loss, Y, sw)
        if mode == "lipschitz":
            # (this pass is also the one the first constant needs: cached)
            initial = guard_loss_fn(state.coefs, state.intercepts)
            guard = _EndLossGuard(max(initial, const_loss) * (1.0 + 1e-9), guard_loss_fn,
                                  initial, const_loss * (1.0 + 1e-9))
        else:
            guard = DivergenceStop(hint=divergence_hint(lr))
        if incremental:
            self._judge_stream(network, loss, X, Y, sw, state, cache)
        else:
            self._stream = None  # a fit ends the stream before it
        problem = (_LayerL2Problem if layer_l2 else NetworkProblem)(
            network, loss, X, Y, sw, alpha=alpha
        )
        if evidence is not None:
            inner = problem.evaluate

            def evaluate(c, i, rows=None):  # the training batches only
                network.evidence = evidence
                try:
                    return inner(c, i, rows)
                finally:
                    network.evidence = None

            problem.evaluate = evaluate
        # the weight average of a mini-batch fit (see _averaging)
        averaging = None if (incremental or X_val is not None or m >= n) else (
            self._averaging(n, n_outputs, network)
        )
        stopping = _PlateauStopping(
            self.tol, self.n_iter_no_change, self.progress_tol,
            average=IterateAverage("exponential", decay=_AVERAGE_DECAY) if averaging else None,
            evidence=evidence, evidence_tol=self.evidence_tol,
        )
        # an epoch that overflows is the guard's to judge (a non-finite loss
        # is undone, or stops the fit with a warning): no RuntimeWarning
        with np.errstate(over="ignore", invalid="ignore"):
            state = self._train(problem, state, rule, update, lipschitz_fn, guard, m,
                                score_fn, incremental, stopping)
        self._evidence_curve = None if evidence is None else list(evidence.curve)
        self.weights_averaged_ = False
        if averaging and state.n_averaged and (averaging is True or stopping.fired):
            self._take_average(network, state, stopping.average, X, Y, sw, loss, const_loss)
        if averaging:
            IterateAverage.restore(state, None)  # the fitted state keeps no average
        self._train_state = state
        self._step_rule, self._update, self._power = rule, update, power
        self._act_means = running.committed() if incremental else None
        if not incremental:
            self._schedule = None
        elif stream:
            self._schedule = schedule
        self._small_calls = small_calls
        if not incremental:
            self._settle_constant_targets(state, Y, sw)
        self._store_results(network, state, X, Y, sw, loss, n_outputs, X_val is not None)
        if not incremental:
            constant = self._warn_on_failure(state, const_loss)
            # (the residual check speaks of fits that learned something)
            self._warn_on_underfit(network, X, Y, sw, loss, stopped=state.n_iter < self.max_iter
                                   and X_val is None and not constant)
        return self

    def _settle_constant_targets(self, state, Y, sw):
        """After a ``fit``: nothing (a regressor sets the outputs of constant
        targets to them exactly)."""

    def _averaging(self, n, n_outputs, network):
        """Whether a mini-batch ``fit`` ends on the weight average: False, True
        (always) or ``'auto'`` (when the stopping rule ended the fit)."""
        return False

    def _take_average(self, network, state, average, X, Y, sw, loss, const_loss):
        """End on the averaged weights unless they fit worse than the constant predictor."""
        params = average.value(state)
        k = len(state.coefs)
        coefs, intercepts = params[:k], params[k:]
        value = float(network.objective(X, Y, sw, loss, 0.0, coefs, intercepts))
        if math.isfinite(value) and value < const_loss:
            for p, q in zip((*state.coefs, *state.intercepts), params):
                p[...] = q
            self.weights_averaged_ = True

    def _judge_stream(self, network, loss, X, Y, sw, state, cache):
        """``partial_fit``: score the call's rows before the update (_StreamCheck)."""
        kept = getattr(self, "_stream", None) if getattr(
            self, "_train_state", None
        ) is not None else None
        check = _StreamCheck(kept, len(self.classes_) if is_classifier(self) else None)
        self._stream = check.s
        hit = cache.get("end")
        if hit is not None and hit[2] is not None:
            raw = hit[2][0]  # the guard's first pass, at the same weights
        else:
            raw = network.predict_raw(X, state.coefs, state.intercepts)
        with np.errstate(over="ignore", invalid="ignore"):
            check.judge(loss, Y, sw, raw)

    def _train(self, problem, state, rule, update, lipschitz_fn, guard, m, score_fn,
               incremental, stopping):
        return train(
            problem, state, rule=rule, update=update, lipschitz_fn=lipschitz_fn,
            max_iter=self.max_iter, batch_size=m,
            stopping=stopping,
            guard=guard,
            validation=None if score_fn is None else Validation(score_fn),
            shuffle=self.shuffle, rng=self._rng, verbose=self.verbose, incremental=incremental,
        )

    def _start(self, network, loss, Y, sw, dtype, *, incremental, per_layer, X=None):
        """The training state, step rule, update and power iterations of this call.

        ``partial_fit`` after the first call continues the stored ones; a new
        fit starts from fresh weights (or the previous ones with
        ``warm_start`` when the shapes agree).
        """
        lr = self.learning_rate
        shapes = [(a, b) for a, b in zip(network.layer_sizes[:-1], network.layer_sizes[1:])]
        state = getattr(self, "_train_state", None) if incremental else None
        if state is not None and [W.shape for W in state.coefs] != shapes:
            raise ValueError(
                "partial_fit cannot continue: the network's layers are now "
                f"{tuple(network.layer_sizes)} (inputs, hidden_layer_sizes, outputs) but were "
                f"{(state.coefs[0].shape[0], *(W.shape[1] for W in state.coefs))} "
                "on the earlier calls. Call fit, or a new estimator's partial_fit."
            )
        if state is None:
            reuse = (
                self.warm_start or incremental
            ) and getattr(self, "coefs_", None) is not None and [
                W.shape for W in self.coefs_
            ] == shapes
            if reuse:
                coefs = [W.astype(dtype, copy=True) for W in self.coefs_]
                intercepts = [b.astype(dtype, copy=True) for b in self.intercepts_]
            else:
                # the first partial_fit call's rows may be a few of one class:
                # the output starts at a smoothed constant (_stream_prior)
                Y0 = self._stream_prior(Y, sw) if incremental else Y
                coefs, intercepts = self._init_params(network, loss, Y0, sw, dtype, self._rng, X)
            state = TrainState(coefs=coefs, intercepts=intercepts)
            if isinstance(lr, str):
                # a non-smooth loss (absolute error, pinball) has no smoothness
                # constant: the subgradient schedule 1 / (L sqrt(epoch)) on a
                # network (the published constant rate in 'paper' mode)
                rule = LipschitzStep(decay=per_layer and not loss.smooth)
            else:
                rule = ConstantStep(lr)
            update = UPDATES[self.optimizer]()
            if per_layer:
                update = _nl.CentredUpdate(update)
            power = _nl.PowerIteration(seed=0)
        else:
            rule, update, power = self._step_rule, self._update, self._power
        return state, rule, update, power

    def _store_results(self, network, state, X, Y, sw, loss, n_outputs, validation):
        self.coefs_ = list(state.coefs)
        self.intercepts_ = list(state.intercepts)
        self.n_iter_ = state.n_iter
        self.t_ = state.t
        self.n_layers_ = network.n_layers + 1
        self.n_outputs_ = n_outputs
        self.loss_curve_ = list(state.loss_curve)
        self.learning_rate_history_ = list(state.learning_rate_history)
        self.lipschitz_constant_ = float(state.lipschitz)
        self.loss_ = float(
            network.objective(X, Y, sw, loss, self._alpha, state.coefs, state.intercepts)
        )
        self.best_loss_ = float(min(self.loss_curve_)) if self.loss_curve_ else self.loss_
        if validation:
            self.validation_scores_ = list(state.validation_scores)
            self.best_validation_score_ = float(state.best_score)
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
        network.forget()
        network.release()  # the training buffers are not part of the fitted model
        self._network = network

    def _warn_on_failure(self, state, const_loss):
        """A fit the guard saved from diverging must not look like a success.
        Returns whether the fit ended no better than the constant predictor
        (warned)."""
        # the halvings still in effect: those of a first epoch that blew up
        # were released once the constants were re-measured (_EndLossGuard)
        halvings = state.halvings - state.released_halvings
        if halvings >= _WARN_HALVINGS:
            warnings.warn(
                f"The learning rate had to be halved {halvings} times (divided by "
                f"{2.0 ** halvings:.3g}) to keep the training loss from rising: "
                "the computed rate does not fit this network and data, and the fit "
                "may have stalled. Standardize X (and y), or use fewer or narrower "
                "layers or another activation.",
                ConvergenceWarning,
            )
        # the data term of the objective (loss_ includes the L2 penalty, which
        # the constant predictor does not pay: with small targets in their
        # units the penalty alone can exceed the constant's loss)
        data_loss = self.loss_ - 0.5 * self._alpha * sum(
            float(np.vdot(W, W)) for W in self.coefs_
        )
        # (a zero constant loss: every target is constant, nothing to learn)
        if const_loss > 0 and not (data_loss < const_loss - 1e-3 * abs(const_loss)):
            warnings.warn(
                f"Training ended with a loss ({data_loss:.6g}) no better than that of the "
                f"constant predictor ({const_loss:.6g}): the network learned nothing from "
                "X. Standardize X (and y), or change the layers or the activation.",
                ConvergenceWarning,
            )
            return True
        return False

    def _warn_on_underfit(self, network, X, Y, sw, loss, stopped=False):
        """A network that fits its training data much worse than a plain
        linear model has stalled (vanishing or dead units, rates too small
        for its depth): warn, as for the constant predictor.  A network
        that a stopping rule on the training loss ended (``stopped``) while
        its residuals still depend on X (:func:`_residual_structure`) learns
        too slowly for that rule, or has stalled: warn too (regressors and
        classifiers)."""
        if not self._hidden_sizes():
            return
        ref = _linear_fit(X, Y, sw, is_classifier(self))
        if ref is None:
            self._warn_on_residuals(network, X, Y, sw, stopped)
            return
        rows, lin_raw = ref
        Yr = np.asarray(Y[rows], dtype=np.float64)
        swr = None if sw is None else np.asarray(sw[rows], dtype=np.float64)
        raw = np.asarray(network.predict_raw(X[rows], self.coefs_, self.intercepts_),
                         dtype=np.float64)
        if is_classifier(self):
            ours, lin = _accuracy(Yr, raw, swr), _accuracy(Yr, lin_raw, swr)
            stalled = ours < lin - _LINEAR_ACCURACY
            what = f"training accuracy {ours:.3f} against {lin:.3f} for a linear fit"
        else:
            const = _constant_loss(loss, Yr, swr)
            ours, lin = (float(loss.objective(Yr, r, swr)) for r in (raw, lin_raw))
            gain = const - lin
            stalled = gain > 1e-3 * abs(const) and ours > const - _LINEAR_SHARE * gain
            what = (f"loss {ours:.4g} against {lin:.4g} for a linear fit and {const:.4g} "
                    "for the constant predictor")
        if stalled:
            warnings.warn(
                f"The network fits the training data worse than a linear model: {what}. "
                "It may have stalled (too deep for its activation, or "
                "alpha too large). Try fewer layers, another activation, a smaller alpha or "
                "standardized X.",
                ConvergenceWarning,
            )
        else:
            self._warn_on_residuals(network, X, Y, sw, stopped)

    def _warn_on_residuals(self, network, X, Y, sw, stopped):
        """The check of :func:`_residual_structure` on fits that a stopping
        rule on the training loss ended: a regressor's residuals ``y - f(X)``,
        a classifier's ``Y - P(X)`` (the encoded classes minus the predicted
        probabilities, the residuals of the Brier score)."""
        if not stopped:
            return
        if is_classifier(self):
            def predict(Xr):
                raw = np.asarray(network.predict_raw(Xr, self.coefs_, self.intercepts_),
                                 dtype=np.float64)
                return expit(raw) if raw.shape[1] == 1 else softmax(raw, axis=1)
            what = "the encoded classes' variance (the residuals of the predicted probabilities)"
        else:
            def predict(Xr):
                return network.predict_raw(Xr, self.coefs_, self.intercepts_)
            what = "the targets' variance"
        share = _residual_structure(X, Y, predict, sw)
        if share is not None and share > _RESIDUAL_SHARE:
            warnings.warn(
                f"The fit stopped after {self.n_iter_} epochs while its residuals still "
                f"depend on X: a {_NEIGHBOURS}-nearest-neighbour fit of the training "
                f"residuals explains {share:.0%} of {what} out of fold. The training loss "
                "moved too little for the stopping rule, but the network has not fitted "
                "what X shows: it learns slowly or has stalled. Try progress_tol=0 with a "
                "larger max_iter, optimizer='adam', or fewer layers or another activation.",
                ConvergenceWarning,
            )

    def _raw(self, X):
        check_is_fitted(self, "coefs_")
        X = self._validate_X(X, reset=False)
        return np.asarray(self._network.predict_raw(X, self.coefs_, self.intercepts_))


_LAYERS_DOC = """
    hidden_layer_sizes : tuple of int, default=(100,)
        Sizes of the hidden layers; ``()`` is the linear model.
    activation : {'sbaf', 'arelu', 'relu', 'tanh', 'logistic', 'identity'}, default='sbaf'
        Hidden-layer activation.

        - 'sbaf': the soft-bounded activation
          ``y = 1 / (1 + k x^alpha (1 - x)^(1 - alpha))`` applied to
          ``x = logistic(z)`` (which keeps every value and gradient finite)
          and rescaled to ``u = (y - y_min) / (1 - y_min)`` in ``[0, 1]``,
          ``y_min = sbaf(alpha)`` its minimum.  Derivative
          ``y (1 - y) (x - alpha) / (1 - y_min)``.
        - 'arelu': ``arelu_k * z^arelu_n`` for ``z > 0``, else 0.
"""

_COMMON_PARAMS_DOC = """
    sbaf_k : float > 0, default=0.91
        The SBAF's ``k`` (the depth of its dip; the published value).
    sbaf_alpha : float in [0, 1], default=0.5
        The SBAF's ``alpha`` (the position of its minimum in ``x``).
    arelu_k : float > 0, default=0.54
        The A-ReLU's scale ``k`` (the published value).
    arelu_n : float >= 1, default=1.30
        The A-ReLU's power ``n`` (the published value).
    optimizer : {'sgd', 'momentum', 'adam'}, default='sgd'
        Update using the computed rate: plain gradient steps, momentum
        (AdaMo: moving average of gradients, bias-corrected) or Adam with
        bias correction (Auto-Adam: the computed rate is Adam's global step).
    learning_rate : {'lipschitz', 'paper'} or float > 0, default='lipschitz'
        - 'lipschitz': one rate ``1/L_k`` per layer, recomputed every epoch
          from the training data and the current network: ``L_k`` is the
          Gauss-Newton bound of layer ``k``'s block of the Hessian,
          ``c * P_k^2 * lambda_max(A~_k' S A~_k) + alpha``, with ``A~_k`` the
          layer's centred input activations and a column of ones, ``S`` the
          normalized sample weights, ``c`` the loss's curvature (for
          cross-entropy its value at the current outputs, at least a tenth of
          its supremum), and ``P_k`` the product over the layers above of
          their spectral norms times the activation's slope bound (power
          iterations, warm-started across epochs).  Steps are taken in
          centred coordinates (the intercept absorbs the mean of the
          activations).  Non-smooth losses use the published output-layer
          constant for every layer with the subgradient schedule
          ``1 / (L sqrt(epoch))``.  A linear model
          (``hidden_layer_sizes=()``) uses its exact global constant.  The
          constants bound each layer's own curvature, not the coupling of
          layers moving together, so the rate is guarded: an epoch after
          which the full training loss is not finite or exceeds the
          threshold (the larger of the initial loss and the constant
          predictor's) is undone and the rate halved; a fit that needed 10
          halvings or more, or ends no better than the constant predictor,
          raises a ``ConvergenceWarning``.
        - 'paper': the published rule, exactly (LipschitzLR eq. 19-29,
          LALR): ``K_z`` = maximum over batches of the Frobenius norm of the
          last hidden layer's activations (``X`` itself for the linear
          model; no bias column is added -- pass it in ``X`` to reproduce a
          constant computed with one), ``m`` the batch size,
          ``L = (c-1) K_z / (c m)`` for softmax, ``K_z / (2m)`` for binary,
          ``K_z / m`` (times ``max(tau, 1-tau)`` for quantile) for the
          Lipschitz regression losses, ``(||raw|| + ||y||) K_z / m`` for
          squared error, plus ``alpha * ||W_last||_F``.  No guard: a
          diverging fit stops with a ``ConvergenceWarning``.
        - float: a constant rate.
    batch_size : int or 'auto', default='auto'
        Mini-batch size; 'auto' is ``min(200, n_samples)``.
    alpha : float >= 0, default=1e-4
        L2 penalty ``alpha/2 * sum ||W||^2`` on the weights (not the
        intercepts); added to ``L``.  A classifier network fitted with
        ``learning_rate='lipschitz'`` uses ``alpha * H / log 2``, ``H``
        the entropy of the weighted class frequencies (the loss of the
        constant predictor): the term weighs the same against the loss at
        any class balance (a rare class is not regularised away) and any
        number of classes (five balanced classes: 2.32 ``alpha``).  In a
        ``fit`` with ``learning_rate='lipschitz'`` the term of layer
        ``k`` steps at ``alpha_k = min(alpha, 0.1 * d_k)``, ``d_k`` the data's
        curvature in that layer's constant (which becomes
        ``max(d_k + alpha_k, alpha)``): nothing changes where
        ``d_k >= 10 alpha``; where the gradients
        vanish (deep SBAF networks) the penalty no longer moves a layer to
        zero weights in a few steps.  ``partial_fit`` keeps ``alpha`` in
        every layer.
    max_iter : int >= 1, default=200
        Maximum number of epochs.
    tol : float >= 0, default=1e-4
        Training stops when the training loss (or the validation score with
        early stopping) has not improved by at least ``tol`` for
        ``n_iter_no_change`` epochs.
    n_iter_no_change : int >= 1, default=10
        Epochs without an improvement of at least ``tol`` before training
        stops; also the window of ``progress_tol``.
    progress_tol : float in [0, 1), default=0.01
        Training also stops when the last ``n_iter_no_change`` epochs lowered
        the training loss by less than ``progress_tol`` times its total
        decrease since the first epoch (a plateau relative to what the fit
        has achieved, free of the loss's units; the loss of a network at a
        computed rate keeps falling by about ``tol`` per epoch long after
        the predictions have settled).  An epoch whose loss rose by more
        than that required progress does not end a fit that keeps its last
        weights (no weight average): a jump is not a plateau.  Not used
        with ``early_stopping``; 0 turns it off (the rule of scikit-learn's
        MLP alone).  A ``fit``
        that a stopping rule ended while a 10-nearest-neighbour fit of its
        training residuals (the targets, or the encoded classes, minus the
        predictions or predicted probabilities; 3-fold, out of fold, on up to
        1,000 rows) still explains more than a tenth of their variance raises
        a ``ConvergenceWarning``: the network learns slowly or has stalled
        there (on ``sin(3x)`` of one feature the plateau ends the default
        regressor at R² 0.15; six A-ReLU layers on digits stop at chance),
        and ``progress_tol=0`` with a larger ``max_iter``,
        ``optimizer='adam'`` or fewer layers go on.
    evidence_tol : float < 1 or None, default=None
        With a number (0 is the paper's rule), training also stops when the
        gradient is no larger than its own
        sampling noise, without a validation set: the evidence-based
        criterion of Mahsereci, Balles, Lassner and Hennig (2017),
        ``EB = 1 - (1/D) sum_k g_k^2 / V_k`` over the ``D`` weights and
        intercepts, with ``g`` a mini-batch's gradient of the loss (the L2
        term left out) and ``V`` the variance of that gradient estimated
        from the rows' own gradients (entries of zero variance, such as
        those of dead units, left out), averaged over the last 30
        mini-batches, exceeds ``evidence_tol`` at the end of 3 consecutive
        epochs (0: the paper's rule).  On problems where the
        network starts to overfit while the training loss still falls, it
        ends the fit nearer its best test score.  Costs one more product of
        the squared activations and back-propagated gradients per layer and
        mini-batch: 5-24% more CPU time per epoch, measured on networks of
        one to three hidden layers (docs/symnet.md, "Stopping on gradient
        evidence").  Networks with hidden layers; not used with
        ``early_stopping`` or by ``partial_fit``.  None (the default) turns
        it off: on the depth benchmark it shortened some fits that overfit
        but none below the tuned MLP's epochs, and it moved scores both
        ways, so it is not worth its cost by default.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data and stop (and
        keep the weights) on its score.
    validation_fraction : float in (0, 1), default=0.1
        Fraction of the training data held out with ``early_stopping``
        (stratified by class for the classifier).
    shuffle : bool, default=True
        Shuffle the samples every epoch.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial weights, the shuffling and the validation split.
    warm_start : bool, default=False
        Start from the previous weights when the shapes agree.
    verbose : int, default=0
        Print one line per epoch (loss and learning rate) when positive.
"""

_COMMON_ATTRS_DOC = """
    coefs_ : list of ndarray
        Weight matrices, ``coefs_[i]`` of shape ``(n_in, n_out)`` of layer ``i``.
    intercepts_ : list of ndarray
    n_iter_ : int
        Epochs run (a rejected, undone epoch counts).
    t_ : int
        Optimisation steps taken.
    loss_ : float
        Training objective (mean loss plus L2 term) at the final weights.
    best_loss_ : float or None
        Smallest epoch loss (None with early stopping).
    loss_curve_ : list of float
        Epoch loss (mean of the mini-batch objectives) per accepted epoch.
    learning_rate_history_ : list of float
        Learning rate used per accepted epoch (the output layer's).
    lipschitz_constant_ : float
        The constant ``L`` of the last epoch (of the output layer with
        'lipschitz'; ``1 / lipschitz_constant_`` is its rate before any
        halving).
    validation_scores_, best_validation_score_ : list, float or None
        With early stopping.
    weights_averaged_ : bool
        Whether the fitted weights are the average of the epochs' weights
        (``average_weights`` of :class:`SymNetRegressor`; False otherwise).
    n_outputs_ : int
    n_layers_ : int
    out_activation_ : str
    n_features_in_ : int
    feature_names_in_ : ndarray of str
"""
