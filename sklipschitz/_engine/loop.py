"""The training loop shared by every estimator (linear models and networks).

One loop serves full-batch and mini-batch gradient descent, ``partial_fit``
(one epoch per call, state carried over), the published ('paper'), local
and constant learning rates, and the SGD / momentum / Adam updates.  Each
epoch it asks the estimator for the current Lipschitz constant, asks the step
rule for a rate, records the history, keeps the best iterate, stops on
``tol`` / ``n_iter_no_change``, and guards against divergence: a non-finite
or exploding loss restores the best weights and stops with a
``ConvergenceWarning`` (``guard='stop'``), or rolls back and halves the rate
(``guard='halve'``, for networks whose constant is a heuristic).

The full-batch linear case with the default rate has a faster exact solver
(:mod:`sklipschitz._linear_solver`); both report the same history attributes.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .updates import OPTIMIZERS

# the loss may grow by at most this factor over the best loss before a fit
# counts as diverging (guard='stop')
_DIVERGENCE_FACTOR = 1e6
_MAX_HALVINGS = 30


# ----------------------------------------------------------------------------
# The loop
# ----------------------------------------------------------------------------


@dataclass
class TrainState:
    """Everything a fit carries between epochs and between partial_fit calls."""

    coefs: list
    intercepts: list
    step_state: object = None
    opt_state: object = None
    n_iter: int = 0
    t: int = 0
    loss_curve: list = field(default_factory=list)
    learning_rate_history: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_loss: float = math.inf
    best_score: float = -math.inf
    no_improvement: int = 0
    rate_scale: float = 1.0
    halvings: int = 0
    lipschitz: float = float("nan")
    average_params: list = None
    n_averaged: int = 0


def _accumulate_average(state, params):
    """Fold the current weights into the running mean ``state.average_params``."""
    if state.average_params is None:
        state.average_params = [np.zeros_like(p) for p in params]
        state.n_averaged = 0
    state.n_averaged += 1
    step = 1.0 / state.n_averaged
    for a, p in zip(state.average_params, params):
        a += step * (p - a)


def _copy(arrays):
    return [a.copy() for a in arrays]


def _normalized(sample_weight, wsum, dtype, uniform=False):
    """``sample_weight / wsum`` in ``dtype`` (None when ``wsum <= 0``).

    With ``uniform`` (all weights equal) the Python float ``1 / n``: the
    network then skips the per-sample scaling.
    """
    if wsum <= 0:
        return None
    if uniform:
        return 1.0 / sample_weight.shape[0]
    return (sample_weight / wsum).astype(dtype, copy=False)


def _batch_slices(n, batch_size):
    if batch_size is None or batch_size >= n:
        return [slice(None)]
    return [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]


def train(
    network,
    loss,
    X,
    Y,
    sample_weight,
    *,
    rule,
    lipschitz_fn,
    state,
    alpha=0.0,
    fit_intercept=True,
    optimizer="sgd",
    batch_size=None,
    max_iter=200,
    tol=1e-6,
    n_iter_no_change=10,
    shuffle=True,
    rng=None,
    verbose=0,
    incremental=False,
    guard="stop",
    guard_threshold=None,
    score_fn=None,
    average=0,
    absolute_tol=False,
    guard_loss_fn=None,
):
    """Run epochs of gradient descent on ``network`` until a stopping rule fires.

    Parameters
    ----------
    rule : StepRule
    lipschitz_fn : callable(coefs, intercepts) -> float or None
        The Lipschitz constant for the coming epoch (None: unchanged).  Called
        once at the start and then before every later epoch.
    state : TrainState
        Modified in place and returned; pass the previous one to continue.
    incremental : bool
        Run exactly one epoch (``partial_fit``); no convergence warning.
    guard : {'stop', 'halve'}
        What a diverging epoch does (see module docstring).
    guard_threshold : float or None
        Loss above which an epoch counts as diverging with ``guard='halve'``.
    score_fn : callable(coefs, intercepts) -> float or None
        Validation score (higher is better); when given, stopping and the
        kept weights follow it (early stopping).
    absolute_tol : bool
        Count an epoch as improving when the training loss drops by more
        than ``tol`` (as scikit-learn's MLP does) instead of by more than
        ``tol`` times the best loss so far.
    average : int, default=0
        When positive, keep the running mean of the weights over every step
        from step number ``average`` on (Polyak-Ruppert averaging) in
        ``state.average_params``.  With a constant step over a fixed cycle of
        mini-batches or chunks the weights settle into a cycle around the
        optimum; their mean over the steps converges to it.
    guard_loss_fn : callable(coefs, intercepts) -> float or None
        With ``guard='halve'``: the full training objective at the weights
        reached at the end of an epoch.  When given, the guard judges this
        value (instead of the mean of the mini-batch losses, which can hide
        a last step that blew the weights up) and a rejected epoch is undone
        back to the weights at its start.

    Returns
    -------
    state : TrainState
    """
    n = X.shape[0]
    params_ref = state.coefs + state.intercepts
    n_coefs = len(state.coefs)
    if state.step_state is None:
        L0 = lipschitz_fn(state.coefs, state.intercepts)
        state.step_state = rule.init(L0 if L0 is not None else float("nan"))
        state.lipschitz = state.step_state.lipschitz
    opt = OPTIMIZERS[optimizer]() if isinstance(optimizer, str) else optimizer
    if state.opt_state is None:
        state.opt_state = opt.init(params_ref)

    slices = _batch_slices(n, batch_size)
    full_batch = len(slices) == 1
    full_weights = None  # sample_weight / sum, computed once for a full batch
    # equal weights (the default): no per-sample scaling in any batch
    uniform = n > 0 and bool(sample_weight.min() == sample_weight.max())
    best_params = _copy(params_ref)
    accepted_params = _copy(params_ref)
    epochs = 1 if incremental else max_iter - state.n_iter
    stopped = incremental
    diverged = False

    for _ in range(max(epochs, 0)):
        # the constant of the first epoch was computed by rule.init
        L = None if state.n_iter == 0 else lipschitz_fn(state.coefs, state.intercepts)
        rule.new_epoch(state.step_state, L)
        state.lipschitz = state.step_state.lipschitz

        order = rng.permutation(n) if (shuffle and not full_batch) else None
        epoch_loss = 0.0
        epoch_weight = 0.0
        judge_end = guard == "halve" and guard_loss_fn is not None
        start_params = _copy(params_ref) if (full_batch or judge_end) else None
        rates = []
        for sl in slices:
            if full_batch:
                # no indexing: X[:] would copy a sparse X every epoch
                Xb, Yb, sb = X, Y, sample_weight
                if full_weights is None:
                    full_wsum = float(sample_weight.sum())
                    full_weights = _normalized(sample_weight, full_wsum, X.dtype, uniform)
                wsum, wnorm = full_wsum, full_weights
            else:
                if order is not None:
                    idx = order[sl]
                    Xb, Yb, sb = X[idx], Y[idx], sample_weight[idx]
                else:
                    Xb, Yb, sb = X[sl], Y[sl], sample_weight[sl]
                wsum = float(sb.sum())
                wnorm = _normalized(sb, wsum, X.dtype, uniform)
            if wsum <= 0:
                continue
            value, cg, ig, _ = network.objective_and_gradient(
                Xb, Yb, sb, loss, alpha, state.coefs, state.intercepts, normalized_weight=wnorm
            )
            if not fit_intercept:
                for g in ig:
                    g[...] = 0.0
            grads = cg + ig
            lr = rule.rate(state.step_state, params_ref, grads) * state.rate_scale
            rates.append(lr)
            epoch_loss += value * wsum
            epoch_weight += wsum
            if not math.isfinite(value):
                break
            state.opt_state = opt.update(params_ref, grads, lr, state.opt_state)
            state.t += 1
            if average and state.t >= average:
                _accumulate_average(state, params_ref)
        epoch_loss = epoch_loss / epoch_weight if epoch_weight > 0 else math.inf
        state.n_iter += 1

        # -- divergence guard -------------------------------------------------
        bad = not math.isfinite(epoch_loss) or any(
            not np.isfinite(p).all() for p in params_ref
        )
        if guard == "halve":
            limit = guard_threshold if guard_threshold is not None else math.inf
            bad = bad or epoch_loss > limit
            if judge_end and not bad:
                end_loss = guard_loss_fn(state.coefs, state.intercepts)
                bad = not math.isfinite(end_loss) or end_loss > limit
        elif math.isfinite(state.best_loss):
            bad = bad or epoch_loss > _DIVERGENCE_FACTOR * max(state.best_loss, 1e-12)
        if bad:
            if judge_end:
                restore = start_params
            else:
                restore = accepted_params if guard == "halve" else best_params
            for p, q in zip(params_ref, restore):
                p[...] = q
            state.opt_state = opt.init(params_ref)
            if guard == "halve" and state.halvings < _MAX_HALVINGS:
                state.rate_scale *= 0.5
                state.halvings += 1
                if verbose:
                    print(f"Epoch {state.n_iter}: loss diverged, rate halved")
                continue
            diverged = True
            state.n_iter -= 1
            warnings.warn(
                f"Training diverged at epoch {state.n_iter + 1} (loss "
                f"{epoch_loss:.4g}); the best weights found were kept. The "
                "learning rate is too large for this data: use the default "
                "learning_rate='lipschitz' or a smaller value.",
                ConvergenceWarning,
            )
            break

        state.loss_curve.append(epoch_loss)
        # (one rate per full-batch epoch: no numpy call for the mean)
        mean_rate = (rates[0] if len(rates) == 1 else float(np.mean(rates))) if rates else math.nan
        state.learning_rate_history.append(float(mean_rate))
        if verbose:
            print(
                f"Epoch {state.n_iter}, loss = {epoch_loss:.8g}, "
                f"learning rate = {state.learning_rate_history[-1]:.6g}"
            )
        # full batch: this epoch's loss was measured at the weights before its
        # step, so those are the weights known to be acceptable (the step just
        # taken is judged by the next epoch and undone if it diverged)
        accepted_params = start_params if full_batch else _copy(params_ref)

        # -- best iterate and stopping -----------------------------------------
        if score_fn is not None:
            score = score_fn(state.coefs, state.intercepts)
            state.validation_scores.append(score)
            improved = score > state.best_score + tol
            if score > state.best_score:
                state.best_score = score
                best_params = _copy(params_ref)
        else:
            scale = 1.0 if absolute_tol else max(abs(state.best_loss), 1e-12)
            improved = epoch_loss < state.best_loss - tol * scale
        if epoch_loss < state.best_loss:
            state.best_loss = epoch_loss
            if score_fn is None:
                # full batch: the loss was measured before this epoch's step
                best_params = start_params if full_batch else _copy(params_ref)
        state.no_improvement = 0 if improved else state.no_improvement + 1
        if not incremental and state.no_improvement >= n_iter_no_change:
            stopped = True
            break

    if not incremental:
        keep_best = (full_batch or score_fn is not None) and not diverged
        if keep_best:
            for p, q in zip(params_ref, best_params):
                p[...] = q
        if not stopped and not diverged and state.n_iter >= max_iter:
            warnings.warn(
                f"Maximum number of iterations ({max_iter}) reached before the "
                "training loss stopped improving (tol="
                f"{tol}); increase max_iter or tol.",
                ConvergenceWarning,
            )
    state.coefs = params_ref[:n_coefs]
    state.intercepts = params_ref[n_coefs:]
    return state
