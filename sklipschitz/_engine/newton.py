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
import scipy.sparse as sp
from scipy.linalg.lapack import dposv as _posv

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
        weighted second derivatives, shape of ``raw``) and ``take(keep)``
        (the bound loss of some columns); its penalty is ``alpha`` (a float
        or one value per feature), no L1 part.
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

    Notes
    -----
    The columns share the products with the design (one for every column's
    scores and one for every gradient); each column's Hessian is the
    symmetric product ``E' E`` of ``E = sqrt(h_j) D`` when ``h_j >= 0``
    (half the work of ``D' diag(h_j) D``), factored and solved by one LAPACK
    call (``posv``: Cholesky, then the two triangular solves).  The line
    search tries every column's full step at once and halves only the
    columns that fail.  A column that has stopped leaves the products (the
    bound loss is restricted to the columns still moving).
    """
    bound = problem.bound
    if not hasattr(bound, "curvatures"):
        raise NotImplementedError(
            f"{type(bound).__name__} does not state its second derivative (curvatures)")
    D = _design(problem)
    d, k = coefs.shape
    p = D.shape[1]
    alpha = np.zeros((p, 1))
    alpha[:d, 0] = problem.alpha
    diagonal = np.arange(p)
    theta_all = np.empty((p, k))
    theta_all[:d] = coefs
    if problem.fit_intercept:
        theta_all[d] = intercepts

    def evaluate(theta):
        # float64 whatever the data's dtype: the steps need the precision
        raw = D @ theta
        values, delta = bound.columns(raw)
        weighted = alpha * theta
        values = np.asarray(values, dtype=np.float64) + 0.5 * (weighted * theta).sum(axis=0)
        grad = D.T @ np.asarray(delta, dtype=np.float64)
        grad += weighted
        return values, grad, raw

    # ``active`` indexes the columns still moving; ``theta`` and the values,
    # gradients and scores hold those columns only (``bound`` is restricted
    # to them), ``theta_all`` every column
    active = np.arange(k)
    theta = theta_all
    with np.errstate(all="ignore"):
        values, grad, raw = evaluate(theta)
        for n_iter in range(max_iter + 1):
            if not (np.isfinite(values).all() and np.isfinite(grad).all()):
                return None
            h = np.asarray(bound.curvatures(raw), dtype=np.float64)
            # H_j = D' diag(h_j) D + diag(alpha): with h_j >= 0 (a convex loss) the
            # symmetric product E' E of E = sqrt(h_j) D (half the work)
            root = np.sqrt(h) if h.min() >= 0 else None
            step = np.empty_like(grad)
            for i in range(active.size):
                if root is not None:
                    E = D * root[:, i:i + 1]
                    H = E.T @ E
                else:
                    H = (D * h[:, i:i + 1]).T @ D
                H[diagonal, diagonal] += alpha[:, 0]
                # the Cholesky factor and the solve (LAPACK posv); info > 0: not
                # positive definite
                _, x, info = _posv(H, grad[:, i], overwrite_a=True)
                if info != 0:
                    return None
                step[:, i] = x
            np.negative(step, out=step)
            if not np.isfinite(step).all():
                return None
            decrement = -np.einsum("ij,ij->j", grad, step)
            # H is positive definite (its Cholesky factor exists): a negative
            # decrement is the rounding of a zero one
            np.maximum(decrement, 0.0, out=decrement)
            going = 0.5 * decrement > tol
            if not going.all():
                # the stopped columns keep their values and leave the products
                theta_all[:, active] = theta
                active = active[going]
                if active.size == 0:
                    break
                theta, step, decrement = theta[:, going], step[:, going], decrement[going]
                values, grad, raw = values[going], grad[:, going], raw[:, going]
                bound = bound.take(going)
            if n_iter == max_iter:
                return None
            # backtracking on every moving column's own objective (with a
            # rounding allowance: near the minimiser the decrease a full step
            # predicts is below the rounding of the values); the full step first
            threshold = values + ROUNDING * np.abs(values)
            trial = theta + step
            new_values, new_grad, new_raw = evaluate(trial)
            ok = new_values <= threshold - ARMIJO * decrement
            if not ok.all():
                t = np.ones(active.size)
                pending = ~ok
                for _ in range(MAX_HALVINGS):
                    t[pending] *= 0.5
                    trial[:, pending] = theta[:, pending] + t[pending] * step[:, pending]
                    new_values, new_grad, new_raw = evaluate(trial)
                    ok = new_values <= threshold - ARMIJO * t * decrement
                    pending &= ~ok
                    if not pending.any():
                        break
                else:
                    return None
            theta, values, grad, raw = trial, new_values, new_grad, new_raw
        else:  # pragma: no cover - the loop returns or breaks
            return None
    W = theta_all[:d].astype(coefs.dtype)
    b = theta_all[d].astype(intercepts.dtype) if problem.fit_intercept else np.zeros(
        k, dtype=intercepts.dtype)
    return W, b, n_iter
