"""Damped Newton steps for a :class:`~.problems.ColumnProblem` of a few features.

Every output column of a column problem is an independent, smooth problem in
``d + 1`` variables (the coefficients and the intercept).  When the loss
states its second derivative (the bound loss's ``curvatures(raw)``: the
weighted ``s_i / sum(s) loss''(raw_ij)``), the Hessian of column ``j`` in the
problem's variables is

    H_j = D' diag(h_j) D + diag(alpha, 0),

``D = [(X - offset) / scale, 1]`` the design of those variables (the column
of ones only with an intercept) and ``h_j`` the weighted second derivatives
at the column's scores.  On a narrow design (``(d + 1)^2 n`` per column is a
few first-order epochs' work) a handful of Newton steps reach the minimiser
to rounding where first-order steps need tens of epochs of fixed overhead.

:func:`newton_columns` takes the damped Newton step (Boyd & Vandenberghe,
*Convex Optimization*, 2004, §9.5: the direction ``-H_j^{-1} g_j`` from a
Cholesky factor, a backtracking line search on the column's own objective)
column by column, and stops a column when half its squared Newton decrement
``g_j' H_j^{-1} g_j / 2`` -- the predicted decrease of the objective, an
upper bound on the gap for a self-concordant objective close to the optimum
-- is at most ``tol``.  It does not fall back: when a Hessian is not
positive definite, a value or a step is not finite, a line search fails or
``max_iter`` steps do not converge, it returns None and the caller runs
its first-order rule instead.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp

#: a line search halves the step at most this many times
MAX_HALVINGS = 30
#: the Armijo constant of the line search
ARMIJO = 0.25
#: a step may raise a value by this much relative (the rounding of a sum of
#: n terms): close to the minimiser the decrease is below it
ROUNDING = 1e-14


def newton_cost(problem, n_columns):
    """Floating-point operations of one Newton step on ``problem``:
    ``n_columns`` Hessians of ``(d + 1)^2 n`` each (the products with the
    design and the Cholesky factors are of lower order on a narrow design)."""
    n, d = problem.X.shape
    return float(n_columns) * n * (d + 1) ** 2


def _design(problem):
    """The dense design ``D`` of the problem's variables (float64)."""
    X = problem.X.toarray() if sp.issparse(problem.X) else np.asarray(problem.X)
    D = np.empty((X.shape[0], X.shape[1] + int(bool(problem.fit_intercept))))
    Z = D[:, : X.shape[1]]
    Z[...] = X
    if problem.offset is not None:
        Z -= problem.offset
    if problem.scale is not None:
        Z /= problem.scale
    if problem.fit_intercept:
        D[:, -1] = 1.0
    return D


def newton_columns(problem, coefs, intercepts, *, tol=1e-20, max_iter=50):
    """Minimise every column of ``problem`` by damped Newton steps.

    Parameters
    ----------
    problem : ColumnProblem
        A column problem whose bound loss has ``curvatures(raw)`` (the
        weighted second derivatives, shape of ``raw``); its penalty is
        ``alpha`` (a float or one value per feature), no L1 part.
    coefs, intercepts : ndarray
        The start, in the problem's variables: shapes ``(d, k)`` and ``(k,)``.
    tol : float
        A column stops when half its squared Newton decrement is at most
        ``tol``.  The default asks for the minimiser to rounding: the error
        of the variables is about ``sqrt(2 tol / mu)``, ``mu`` the smallest
        eigenvalue of the Hessian (at least the penalty), and Newton's
        quadratic convergence makes the last steps cheap.
    max_iter : int
        At most this many Newton steps.

    Returns
    -------
    (coefs, intercepts, n_iter) or None
        The minimiser of every column (in the dtype of ``coefs``) and the
        number of Newton steps taken, or None when a Hessian is not positive
        definite, a value is not finite, a line search fails or the columns
        have not converged after ``max_iter`` steps.
    """
    bound = problem.bound
    if not hasattr(bound, "curvatures"):
        raise NotImplementedError(
            f"{type(bound).__name__} does not state its second derivative (curvatures)")
    D = _design(problem)
    d, k = coefs.shape
    p = D.shape[1]
    alpha = np.zeros(p)
    alpha[:d] = problem.alpha
    theta = np.empty((p, k))
    theta[:d] = coefs
    if problem.fit_intercept:
        theta[d] = intercepts

    def evaluate(theta):
        raw = D @ theta  # float64 whatever the data's dtype: the steps need the precision
        values, delta = bound.columns(raw)
        values = values + 0.5 * np.einsum("ij,ij->j", theta * alpha[:, None], theta)
        grad = D.T @ np.asarray(delta, dtype=np.float64) + alpha[:, None] * theta
        return np.asarray(values, dtype=np.float64), grad, raw

    with np.errstate(all="ignore"):
        values, grad, raw = evaluate(theta)
        active = np.arange(k)
        for n_iter in range(max_iter + 1):
            if not (np.all(np.isfinite(values)) and np.all(np.isfinite(grad))):
                return None
            h = np.asarray(bound.curvatures(raw), dtype=np.float64)[:, active]
            step = np.empty((p, active.size))
            decrement = np.empty(active.size)
            for i, j in enumerate(active):
                H = D.T @ (D * h[:, i:i + 1])
                H[np.diag_indices(p)] += alpha
                try:
                    factor = scipy.linalg.cho_factor(H, check_finite=False)
                except np.linalg.LinAlgError:
                    return None
                step[:, i] = -scipy.linalg.cho_solve(factor, grad[:, j], check_finite=False)
                decrement[i] = -grad[:, j] @ step[:, i]
            if not np.all(np.isfinite(step)):
                return None
            # H is positive definite (its Cholesky factor exists): a negative
            # decrement is the rounding of a zero one
            np.maximum(decrement, 0.0, out=decrement)
            going = 0.5 * decrement > tol
            active, step, decrement = active[going], step[:, going], decrement[going]
            if active.size == 0:
                break
            if n_iter == max_iter:
                return None
            # backtracking on every moving column's own objective
            t = np.ones(active.size)
            pending = np.ones(active.size, dtype=bool)
            trial = theta.copy()
            for _ in range(MAX_HALVINGS + 1):
                cols = active[pending]
                trial[:, cols] = theta[:, cols] + t[pending] * step[:, pending]
                new_values, new_grad, new_raw = evaluate(trial)
                # (with a rounding allowance: near the minimiser the decrease
                # a full step predicts is below the rounding of the values)
                ok = new_values[active] <= (values[active] - ARMIJO * t * decrement
                                            + ROUNDING * np.abs(values[active]))
                pending &= ~ok
                if not pending.any():
                    break
                t[pending] *= 0.5
            else:
                return None
            theta, values, grad, raw = trial, new_values, new_grad, new_raw
    W = theta[:d].astype(coefs.dtype)
    b = theta[d].astype(intercepts.dtype) if problem.fit_intercept else np.zeros(
        k, dtype=intercepts.dtype)
    return W, b, n_iter
