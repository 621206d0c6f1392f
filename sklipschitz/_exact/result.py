"""The result object of :func:`sklipschitz._exact.solve_linear`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["LinearSolution", "sum_curves"]


@dataclass
class LinearSolution:
    """Result of :func:`~sklipschitz._exact.solve_linear`.

    Attributes
    ----------
    coef : ndarray of shape (n_features, n_outputs)
        Coefficients, in the dtype of ``X``.
    intercept : ndarray of shape (n_outputs,)
    n_iter : int
        Iterations (the maximum over outputs); ``len(loss_curve)``.  0 when a
        warm start is already certified optimal.
    loss_curve : list of float
        One entry per iteration: the objective (original coordinates,
        penalty included, the exact loss, not its smoothing), summed over
        outputs (an output that stopped earlier contributes its final
        value).  For a FISTA step it is the value at the (extrapolated)
        point whose gradient the step uses; for Newton steps, the squared
        loss and the exact finish it is the value reached.  The last entry
        is the objective of the returned coefficients.
    learning_rate_history : list of float
        The step of each iteration of output 0, in the solver's
        coordinates.  For gradient steps it is exactly ``1/L`` of the
        problem stepped on (``1`` for the squared and log-cosh losses,
        ``mu`` for the pinball loss smoothed at width ``mu``).  Newton steps
        are gradient steps in coordinates whitened by the local Hessian,
        where ``L = 1``: their entry is the step length along the Newton
        direction (1.0 for a full step).  A round of the exact finish (the
        jump to the vertex / KKT point of the kept set) counts as a full
        step, 1.0.
    converged : bool
        The solver met its stopping rule (certified, or for the penalised
        pinball problem without a certificate: a smoothed problem solved
        exactly at a width whose objective bias ``mu/8`` is below ``1e-8``
        relative).
    certified : bool
        True when optimality was certified: the KKT conditions of the full
        problem were verified in float64 (exact vertex / active-set check
        for the pinball and absolute losses; whitened gradient at round-off
        level, ``<= 1e-12`` for log-cosh, ``|grad|^2/2 <= tol F`` for the
        squared loss; for the sparse route of wide designs see
        :mod:`sklipschitz._exact.wide`).
    method : str
        Which route solved the problem: ``'whitened'`` (the dense-Gram
        solver) or ``'wide'`` (the sparse route of wide designs).
    n_passes : int or None
        Passes over ``X`` (each product with ``X`` or ``X'``, Gram matrix,
        fused product, or gather of rows from a block source counts one;
        see :class:`~sklipschitz._exact.design.Design`); None for the
        sparse route of wide designs, which does not count them.
    gram_top : float or None
        ``lambda_max(X~' S X~) / sum(s)`` with ``X~ = [X, 1]`` (``X`` without
        an intercept), the uncentred weighted Gram matrix of the data factor
        of the smoothness constant (as
        :func:`~sklipschitz._engine.lipschitz.gram_top_eigenvalue`), from the
        Gram matrix the solver formed (no further pass over ``X``); None for
        the sparse route of wide designs.
    """

    coef: np.ndarray
    intercept: np.ndarray
    n_iter: int
    loss_curve: list = field(default_factory=list)
    learning_rate_history: list = field(default_factory=list)
    converged: bool = False
    certified: bool = False
    method: str = "whitened"
    n_passes: int | None = None
    gram_top: float | None = None


def sum_curves(curves):
    """Sum per-output loss curves; a shorter curve contributes its last value."""
    m = max((len(c) for c in curves), default=0)
    if m == 0:
        return []
    out = np.zeros(m)
    for c in curves:
        if c:
            out[:len(c)] += c
            out[len(c):] += c[-1]
    return [float(v) for v in out]
