"""A positive semi-definite kernel derived from SBAF, for kernel machines.

Construction
------------
The SBAF kernel is the kernel of an infinitely wide one-hidden-layer network
of SBAF units (the "dual activation" or neural-network Gaussian-process
kernel).  With the unit used on real pre-activations,
``sigma(t) = sbaf_unit(t + shift) = sbaf(logistic(t + shift), k, alpha)``,
and the bias-augmented input ``x~ = (x, 1)``::

    K_raw(x, z) = E_w[ sigma(w . x~) sigma(w . z~) ],     w ~ N(0, s^2 I).

For fixed ``x, z`` the pair ``(w . x~, w . z~)`` is jointly Gaussian with
standard deviations ``r_x = s ||x~||``, ``r_z = s ||z~||`` and correlation
``rho = cos(x~, z~)``.  Mehler's formula (the Hermite expansion of a
bivariate normal density) gives::

    K_raw(x, z) = sum_{j >= 0} a_j(r_x) a_j(r_z) rho^j,
    a_j(r) = E_{g ~ N(0, 1)}[ sigma(r g) He_j(g) ] / sqrt(j!),

with ``He_j`` the probabilists' Hermite polynomials.  The coefficients are
computed by one-dimensional Gauss-Hermite quadrature with the normalised
three-term recurrence ``psi_{j+1} = (g psi_j - sqrt(j) psi_{j-1}) / sqrt(j+1)``
multiplied into the square roots of the weights (no factorials, no overflow).

Why it is positive semi-definite
--------------------------------
For points ``x_1..x_n`` write ``R = [rho(x_i, x_l)]`` (the Gram matrix of the
unit vectors ``x~_i / ||x~_i||``, hence PSD) and ``b_j = (a_j(r_{x_i}))_i``.
The Gram matrix of the series is ``sum_j (b_j b_j^T) o R^{o j}``: ``R^{o j}``
(Hadamard power) is PSD by the Schur product theorem, ``b_j b_j^T`` is a rank-
one PSD matrix, their Hadamard product is PSD (Schur again), and a sum of PSD
matrices is PSD.  This holds term by term, so *every* truncation - including
one that keeps a different number of terms for each point (``b_j`` set to 0
beyond a point's own degree) - is exactly PSD, and so is any error in the
quadrature values ``a_j`` (they are just other numbers in ``b_j``).  Evaluating
the bivariate expectation by two-dimensional quadrature for each pair has no
such guarantee, which is why it is not used.

Normalisation (the default, ``normalize=True``)
-----------------------------------------------
``sigma`` stays in ``(1/(1+k), 1]``, so ``K_raw`` is nearly constant (its
varying part is ~1e-3 of its value) and an SVM on it behaves as if ``C`` were
~1000 times smaller.  The constant part is the ``j = 0`` term
``a_0(r_x) a_0(r_z)`` (the product of the mean activations); it is dropped and
the rest is divided by a constant that depends only on hyper-parameters::

    K(x, z) = sum_{j >= 1} a_j(r_x) a_j(r_z) rho^j / c0
            = Cov_w[ sigma(w . x~), sigma(w . z~) ] / c0,
    c0 = Var_g[ sigma(r0 g) ],   r0 = s sqrt(d + 1),

where ``d`` is the number of features; ``r0`` is ``r_x`` for a point with
``||x||^2 = d`` (a typical standardised sample), so ``K(x, x) ~ 1`` there.  The
same constant is used for training and test Gram matrices and dividing by a
positive constant keeps PSD.  The default width is ``s = 1/sqrt(d)``.

Symmetries
----------
``sbaf(logistic(t))`` with ``alpha`` equals ``sbaf(logistic(-t))`` with
``1 - alpha`` and ``w`` is symmetric, so ``alpha`` and ``1 - alpha`` give the
same kernel when ``shift = 0``; at ``alpha = 0.5`` the unit is even and all odd
coefficients vanish (the series is in ``rho^2``).  A non-zero ``shift`` (a
fixed offset of every pre-activation) breaks both: ``(alpha, shift)`` and
``(1 - alpha, -shift)`` give the same kernel, nothing else coincides.  The
default is ``shift = 1``: the even kernel of ``shift = 0, alpha = 0.5`` has
no term linear in ``rho`` and was 0.01-0.03 below a tuned RBF kernel on
nearly linear problems (breast cancer), where ``shift = 1`` matches it.

Truncation
----------
Coefficient decay slows as ``r`` grows (the degree needed grows like
``r^2``).  With ``degree="auto"`` each point keeps the smallest degree
``J_x`` with ``tail_x(J_x) <= tol^2 c0``, where ``tail_x(J) = sum_{j > J}
a_j(r_x)^2`` (a reverse cumulative sum, so no cancellation; exact for the
discrete quadrature by Parseval).  ``J_x`` depends on the point alone, so a
point gets the same series in every call (training and test Gram matrices).
The pair ``(x, z)`` uses ``min(J_x, J_z)`` terms and, by Cauchy-Schwarz and
``|rho| <= 1``, each entry of the normalised kernel is within
``tol * sqrt(K(z, z))`` of the infinite series, ``z`` being the point with the
larger degree (``K(z, z)`` is about 1 for standardized data).  Quadrature
orders grow with ``r^2`` (per group of points) up to a cap.  For ``r >> 1``
the unit only sees its saturated ends (the kernel of such points tends to a
constant for ``0 < alpha < 1``, to a step-function kernel for ``alpha`` in
``{0, 1}``) and the series converges slowly; when the quadrature cap or
``max_degree`` is reached a warning says that the inputs look unscaled (or,
when every ``r`` is at most 3, that ``max_degree`` is too small).
The random features warn the same way for such points (their features are
then nearly constant).

Evaluation and the range of ``k`` and ``shift``
-----------------------------------------------
With ``x = logistic(z)`` and ``e = exp(-|z|)`` the product in SBAF is
``p(z) = x^alpha (1 - x)^(1 - alpha) = exp(-beta |z|) / (1 + e)``, ``beta = 1 -
alpha`` for ``z >= 0`` and ``alpha`` for ``z < 0``, evaluated to full relative
precision (forming ``1 - logistic(z)`` by a subtraction would lose it all for
``z > 37``).  The normalised kernel, its truncation rule and the random
features are unchanged when ``sigma`` is replaced by ``a + b sigma`` with
``b > 0`` (the mean is removed and the variance divided out), so they are
computed with ``(sigma - 1) / k = -p / (1 + k p)`` for ``k <= 1`` and ``k sigma
= 1 / (1/k + p)`` for ``k > 1``: neither cancels nor under/overflows, so every
``k > 0`` works, including the limits ``k -> 0`` (the kernel of ``p``) and
``k -> inf`` (of ``1/p``).  Limits that remain:

* ``normalize=False`` returns ``E[sigma sigma']`` itself, of order
  ``(1 + k m)^-2`` with ``m = alpha^alpha (1 - alpha)^(1 - alpha)``;
  ``k <= 1e150`` keeps it a normal double.
* ``|shift| <= 600`` keeps ``p`` above the smallest normal double at every
  quadrature node of a standardized point (``exp(-600 - 20) > 1e-270``).
* The unit must not be constant to double precision at the reference width
  ``r0``: the relative variance ``c0 / E[sigma^2]`` (in the scale above) must be
  at least ``1e-20`` (rounding then moves an entry by about ``1e-6`` at
  most).  Only ``alpha`` in ``{0, 1}`` (or near) with a large ``|shift|`` on the
  flat side of the unit fails this; the error names the largest ``|shift|``
  that passes for the given ``k`` and ``alpha``.
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import scipy.sparse as sp
from scipy.special import roots_hermitenorm
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.extmath import row_norms, safe_sparse_dot
from sklearn.utils.validation import check_is_fitted, validate_data

from ._threads import single_blas_thread

if TYPE_CHECKING:
    from numpy.random import RandomState
    from numpy.typing import ArrayLike

__all__ = ["sbaf_kernel", "SBAFKernel", "SBAFRandomFeatures"]

# Quadrature orders are powers of two between these bounds; the order for a
# point with width r is the next power of two >= 16 r^2 + 48 (measured: this
# resolves every coefficient to ~1e-12 for r <= 16).
_MIN_QUADRATURE = 64
_MAX_QUADRATURE = 4096
# Widths r = s ||x~|| above this are not resolved by _MAX_QUADRATURE nodes.
_R_RESOLVED = math.sqrt((_MAX_QUADRATURE - 48) / 16.0)
# Widths up to this are those of standardized inputs (r = s ||(x, 1)|| is about 1
# at the default scale s = 1/sqrt(d), and below 3 for all but extreme rows): a
# series truncated there is cut by max_degree, not by unscaled inputs.
_R_TYPICAL = 3.0
# Widths are clipped here before forming r * g (no overflow); beyond it the
# unit is saturated at every quadrature node anyway.
_R_CLIP = 1e100
# Target size (bytes) of one row block of the Gram matrix.
_BLOCK_BYTES = 1 << 21
# Range of the hyper-parameters (module docstring, "Evaluation and the range
# of k and shift").
_K_MAX_RAW = 1e150
_SHIFT_MAX = 600.0
_MIN_RELATIVE_VARIANCE = 1e-20
# A Gram matrix K(X, X) whose normalised off-diagonal entries average above
# this is nearly constant (standardized breast cancer, digits, iris, wine:
# 0.04-0.30; the same times 0.1: 0.68-0.96, where SVC falls to 0.40-0.88
# accuracy from 0.95-0.98).
_FLAT_GRAM_CORRELATION = 0.6

_KERNEL_CONSTRAINTS = {
    "k": [Interval(Real, 0, None, closed="neither")],
    "alpha": [Interval(Real, 0, 1, closed="both")],
    "scale": [Interval(Real, 0, None, closed="neither"), None],
    "shift": [Interval(Real, None, None, closed="neither")],
    "normalize": ["boolean"],
    "degree": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    "max_degree": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, 1, closed="neither")],
    "n_quadrature": [Interval(Integral, 2, None, closed="left"), None],
}


# --------------------------------------------------------------------------
# Hermite coefficients
# --------------------------------------------------------------------------
@lru_cache(maxsize=32)
def _hermite_basis(n_quadrature, n_terms):
    """Gauss-Hermite nodes, root weights and normalised Hermite functions.

    Returns ``g`` (Q,), ``sw`` (Q,) with ``sum(sw**2) = 1`` (weights of the
    standard normal), and ``psi`` (Q, L), ``L = min(Q, n_terms)``, with
    ``psi[i, j] = sw[i] He_j(g[i]) / sqrt(j!)`` computed by the normalised
    recurrence started from ``sw`` (no factorials, no overflow).  The
    columns are orthonormal; for ``L = Q`` ``psi`` is an orthogonal matrix
    (discrete orthonormality of Hermite polynomials of degree < Q).
    """
    L = min(n_quadrature, n_terms)
    g, w = roots_hermitenorm(n_quadrature)
    w = w / w.sum()
    sw = np.sqrt(w)
    psi = np.empty((n_quadrature, L))
    psi[:, 0] = sw
    if L > 1:
        psi[:, 1] = g * sw
    for j in range(1, L - 1):
        psi[:, j + 1] = (g * psi[:, j] - math.sqrt(j) * psi[:, j - 1]) / math.sqrt(j + 1)
    for a in (g, sw, psi):
        a.setflags(write=False)
    return g, sw, psi


def _auto_quadrature(r):
    """Quadrature order per width: next power of two >= 16 r^2 + 48, capped."""
    need = 16.0 * np.minimum(r, _R_RESOLVED + 1.0) ** 2 + 48.0
    q = 2.0 ** np.ceil(np.log2(need))
    return np.clip(q, _MIN_QUADRATURE, _MAX_QUADRATURE).astype(int)


def _logistic_product(z, alpha):
    """``p = x^alpha (1 - x)^(1 - alpha)`` for ``x = logistic(z)``, full relative precision."""
    a = np.minimum(np.abs(z), 1e300)  # z = +-inf: the limit, no inf * 0
    beta = np.where(z >= 0, 1.0 - alpha, alpha)
    p = np.exp(-a * beta)
    np.exp(-a, out=a)
    a += 1.0
    p /= a
    return p


def _unit(z, k, alpha, scaled):
    """The SBAF unit ``sigma(z) = 1 / (1 + k p(z))``, or a positive affine map of it.

    ``scaled=True`` returns ``(sigma - 1) / k`` for ``k <= 1`` and ``k sigma``
    for ``k > 1`` (module docstring): what the normalised kernel and the
    random features use, free of cancellation and underflow for every ``k``.
    """
    p = _logistic_product(z, alpha)
    if not scaled:
        return 1.0 / (1.0 + k * p)
    if k <= 1.0:
        return -p / (1.0 + k * p)
    return 1.0 / (1.0 / k + p)


def _coefficients(r, k, alpha, shift, *, n_terms, n_quadrature=None, min_quadrature=0,
                  scaled=True):
    """Hermite coefficients of ``t -> unit(shift + r t)`` for each ``r``.

    The unit is :func:`_unit` (``scaled`` as there).
    Returns ``A`` of shape ``(len(r), L)``, ``A[i, j] = a_j(r_i)`` for
    ``j < min(Q_i, n_terms)`` (zero beyond), ``resid[i] = E[sigma^2] -
    sum_j A[i, j]^2`` (the energy of the degrees not returned; exactly 0 when
    all ``Q_i`` degrees are returned, by discrete Parseval) and ``q``, the
    quadrature order used per point.  Points are grouped by order.
    """
    r = np.minimum(np.asarray(r, dtype=float), _R_CLIP)
    if n_quadrature is None:
        q = _auto_quadrature(r)
        if min_quadrature > 0:
            q = np.maximum(q, 1 << int(math.ceil(math.log2(min_quadrature))))
    else:
        q = np.full(r.shape, int(n_quadrature))
    L = int(min(q.max(), n_terms)) if r.size else 1
    A = np.zeros((r.shape[0], L))
    resid = np.zeros(r.shape[0])
    for order in np.unique(q):
        idx = np.flatnonzero(q == order)
        g, sw, psi = _hermite_basis(int(order), n_terms)
        F = _unit(shift + r[idx, None] * g[None, :], k, alpha, scaled)
        F *= sw
        Ai = F @ psi
        A[idx, : Ai.shape[1]] = Ai
        if Ai.shape[1] < order:
            # energy of the degrees not returned, as the squared norm of the
            # projection residual (no cancellation, unlike |F|^2 - |Ai|^2)
            R = F - Ai @ psi.T
            resid[idx] = np.einsum("ij,ij->i", R, R)
    return A, resid, q


def _unit_moments(r0, k, alpha, shift, scaled):
    """``Var_g[unit(shift + r0 g)]`` and ``E_g[unit^2]`` (quadrature)."""
    A, resid, _ = _coefficients(np.array([r0]), k, alpha, shift, n_terms=1, scaled=scaled)
    return float(resid[0]), float(resid[0] + A[0, 0] ** 2)


def _reference_variance(d, s, k, alpha, shift, scaled=True):
    """``c0 = Var_g[unit(r0 g)]`` with ``r0 = s sqrt(d + 1)`` (quadrature).

    With ``scaled=True`` (the normalised kernel) a unit that is constant to
    double precision at ``r0`` raises ``ValueError`` naming the largest
    ``|shift|`` that works (module docstring).
    """
    r0 = s * math.sqrt(d + 1.0)
    var, second = _unit_moments(r0, k, alpha, shift, scaled)
    if scaled and not var >= _MIN_RELATIVE_VARIANCE * second:
        raise ValueError(_flat_unit_message(r0, k, alpha, shift, var / second))
    return max(var, np.finfo(float).tiny)


def _flat_unit_message(r0, k, alpha, shift, rel):
    def resolved(sh):
        var, second = _unit_moments(r0, k, alpha, sh, True)
        return var >= _MIN_RELATIVE_VARIANCE * second

    lo, hi = 0.0, abs(shift)  # resolved(0) holds for every k and alpha
    sign = 1.0 if shift >= 0 else -1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if resolved(sign * mid) else (lo, mid)
    return (
        f"shift={shift!r} with alpha={alpha!r} and k={k!r}: the SBAF unit is constant to "
        f"double precision over the inputs' range (relative variance {rel:.2g} < "
        f"{_MIN_RELATIVE_VARIANCE:g} at r0 = scale * sqrt(n_features + 1) = {r0:.3g}), so "
        "the normalised kernel is not determined. For these alpha and k, a shift of this "
        f"sign must satisfy |shift| <= {lo:.4g}; or use an alpha further from 0 and 1."
    )


def _default_scale(n_features):
    return 1.0 / math.sqrt(n_features)


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------
def _augmented_unit_rows(X):
    """Unit vectors ``x~ / ||x~||`` (n, d+1) and norms ``||x~||``, overflow-safe."""
    n, d = X.shape
    Xt = np.empty((n, d + 1))
    Xt[:, :d] = X
    Xt[:, d] = 1.0
    m = np.max(np.abs(Xt), axis=1)  # >= 1 because of the bias column
    Xt /= m[:, None]
    nrm = np.sqrt(np.einsum("ij,ij->i", Xt, Xt))
    Xt /= nrm[:, None]
    return Xt, m * nrm


def _check_pair(X, Y):
    X = check_array(X, dtype=np.float64, input_name="X")
    if Y is None:
        return X, None
    Y = check_array(Y, dtype=np.float64, input_name="Y")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"X has {X.shape[1]} features but Y has {Y.shape[1]} features; "
            "the SBAF kernel needs the same number of features in both."
        )
    return X, Y


def _check_finite_params(k, shift, normalize=True):
    """Ranges of ``k`` and ``shift`` (module docstring, "Evaluation and the range ...")."""
    if not math.isfinite(k):
        raise ValueError(f"k must be a finite positive number, got {k!r}.")
    if not normalize and k > _K_MAX_RAW:
        raise ValueError(
            f"k must be in (0, {_K_MAX_RAW:g}] when normalize=False, got {k!r}: the "
            "unnormalised kernel is of order 1/k^2 and would underflow to 0 (with "
            "normalize=True every finite k > 0 is valid)."
        )
    if not (math.isfinite(shift) and abs(shift) <= _SHIFT_MAX):
        raise ValueError(
            f"shift must be a number in [-{_SHIFT_MAX:g}, {_SHIFT_MAX:g}], got {shift!r}: "
            "beyond it the SBAF unit underflows at every input (it is constant in "
            "double precision)."
        )


# --------------------------------------------------------------------------
# Degrees
# --------------------------------------------------------------------------
def _select_degrees(A, resid, q, *, degree, max_degree, tol, c0, first, step):
    """Per-point truncation degree ``J_x`` (see module docstring).

    ``J_x`` is the smallest degree with ``tail_x(J_x) <= tol^2 c0``; it
    depends on the point alone (not on the rest of the batch).  Returns the
    degrees and ``eps = max_x sqrt(tail_x(J_x) / c0)`` (``<= tol`` unless a
    cap was reached).
    """
    n = A.shape[0]
    if degree != "auto":
        return np.minimum(int(degree), q - 1), 0.0
    J = np.empty(n, dtype=int)
    eps2 = 0.0
    for order in np.unique(q):  # points of one group have Q_i columns at most
        idx = np.flatnonzero(q == order)
        L = int(min(order, A.shape[1]))
        sq = A[idx, :L] ** 2
        # tails[i, J] = sum_{j > J} a_j^2 (reverse cumulative sum: no
        # cancellation) plus the energy of the degrees not computed.
        tails = np.empty_like(sq)
        tails[:, ::-1] = np.cumsum(sq[:, ::-1], axis=1)
        tails[:, :-1] = tails[:, 1:]
        tails[:, -1] = 0.0
        tails += resid[idx, None]
        cap = min(max_degree, L - 1)
        if step == 2 and (cap - first) % 2:
            cap -= 1
        ok = tails[:, : cap + 1] <= tol * tol * c0
        ok[:, :first] = False
        if step == 2:
            ok[:, (first + 1) % 2 :: 2] = False  # even-only series: even degrees
        Jg = np.where(ok.any(axis=1), np.argmax(ok, axis=1), cap)
        Jg = np.maximum(Jg, first)
        J[idx] = Jg
        eps2 = max(eps2, float(tails[np.arange(idx.size), np.minimum(Jg, L - 1)].max()))
    return J, math.sqrt(eps2 / c0)


# --------------------------------------------------------------------------
# Gram matrix
# --------------------------------------------------------------------------
def _gram(Ux, Ax, Jx, Uy, Ay, Jy, *, first, step):
    """``sum_j Ax[:, j] Ay[:, j]^T o rho^j`` over ``j = first, first+step, ...``.

    ``Ax``/``Ay`` must be zero beyond each point's degree ``Jx``/``Jy``, so
    the pair ``(x, z)`` gets ``min(Jx, Jy)`` terms.  Rows are processed in
    blocks sorted by decreasing degree; a block runs Horner's scheme from
    ``min(max Jx in block, max Jy)`` down, and rows whose first term has not
    been reached yet are still exactly zero and are skipped.  Memory: a few
    ``block x n_Y`` arrays besides the output.
    """
    n, m = Ux.shape[0], Uy.shape[0]
    out = np.empty((n, m))
    if n == 0 or m == 0:
        return out
    UyT = np.ascontiguousarray(Uy.T)
    AyT = np.ascontiguousarray(Ay.T)
    jy_max = int(Jy.max())
    ox = np.argsort(-Jx, kind="stable")
    rows_per_block = max(1, min(n, _BLOCK_BYTES // (8 * m)))
    for start in range(0, n, rows_per_block):
        rows = ox[start : start + rows_per_block]
        Jr = Jx[rows]
        rho = Ux[rows] @ UyT
        np.clip(rho, -1.0, 1.0, out=rho)
        rho_step = rho * rho if step == 2 else rho
        jtop = min(int(Jr[0]), jy_max)
        jtop -= (jtop - first) % step
        Ar = Ax[rows]
        K = np.zeros((rows.shape[0], m))
        started = False
        for j in range(jtop, first - 1, -step):
            a = int(np.count_nonzero(Jr >= j))
            blk = K[:a]
            if started:
                blk *= rho_step[:a]
            blk += Ar[:a, j, None] * AyT[j]
            started = True
        if first == 1:
            K *= rho
        elif first == 2:
            K *= rho_step
        out[rows] = K
    return out


def _warn_unscaled(who, r_max, detail, stacklevel):
    """The warning for points whose width ``r`` saturates the unit (kernel and features)."""
    warnings.warn(
        f"{who}: r = scale * ||(x, 1)|| reaches {r_max:.3g} (about 1 for "
        "standardized inputs): the inputs look unscaled, or `scale` is too "
        f"large. The unit is saturated for such points and {detail}. "
        "Standardize the features (e.g. with StandardScaler).",
        UserWarning,
        stacklevel=stacklevel + 1,
    )


def _warn_flat_gram(K, stacklevel):
    """Warn when ``K(X, X)`` is nearly constant: the inputs are tiny next to
    the 1 appended to every point, so all the directions of ``(x, 1)`` are
    nearly the same and a kernel machine sees nearly identical points."""
    n = K.shape[0]
    if n < 3:
        return
    d = np.sqrt(np.maximum(np.diag(K), np.finfo(float).tiny))
    mean = (float(np.sum(K / d[:, None] / d[None, :])) - n) / (n * (n - 1))
    if mean > _FLAT_GRAM_CORRELATION:
        warnings.warn(
            f"SBAF kernel: the kernel is nearly constant on these inputs (the normalised "
            f"entries between distinct points average {mean:.3g}; about 0.04-0.3 for "
            "standardized data): the points (x, 1) nearly share one direction, because "
            "||x|| is small next to the 1 the kernel appends to every point or because the "
            "features share a large offset (a constant column, columns far from zero), so "
            "the inputs look unscaled. Standardize the features (e.g. with StandardScaler).",
            UserWarning,
            stacklevel=stacklevel + 1,
        )


def _sbaf_kernel(X, Y, **kwargs):
    # one BLAS thread: the Gram matrix is built from many small products
    with single_blas_thread():
        return _sbaf_kernel_impl(X, Y, **kwargs)


def _sbaf_kernel_impl(X, Y, *, k, alpha, scale, shift, normalize, degree, max_degree, tol,
                      n_quadrature, diag_only=False, stacklevel=3):
    _check_finite_params(k, shift, normalize)
    if Y is X:  # K(X, X), as SVC computes it in fit
        Y = None
    X, Y = _check_pair(X, Y)
    d = X.shape[1]
    s = _default_scale(d) if scale is None else float(scale)
    even = alpha == 0.5 and shift == 0.0
    step = 2 if even else 1
    first = (2 if even else 1) if normalize else 0

    Ux, nx = _augmented_unit_rows(X)
    if Y is None or diag_only:
        Uy, pts = Ux, nx
    else:
        Uy, ny = _augmented_unit_rows(Y)
        pts = np.concatenate([nx, ny])
    r = s * np.minimum(pts, _R_CLIP)
    n_terms = (max_degree if degree == "auto" else int(degree)) + 1
    A, resid, q = _coefficients(
        r, k, alpha, shift, n_terms=n_terms, n_quadrature=n_quadrature,
        min_quadrature=0 if degree == "auto" else n_terms, scaled=normalize,
    )
    if even:
        A[:, 1::2] = 0.0
    c0 = _reference_variance(d, s, k, alpha, shift, scaled=normalize)
    J, eps = _select_degrees(A, resid, q, degree=degree, max_degree=max_degree, tol=tol,
                             c0=c0, first=first, step=step)
    r_max = float(r.max()) if r.size else 0.0
    unresolved = n_quadrature is None and r_max > _R_RESOLVED
    if degree == "auto" and (eps > tol or unresolved):
        if unresolved:
            detail = (
                f"the quadrature (order <= {_MAX_QUADRATURE}) resolves the unit only "
                f"for r <= {_R_RESOLVED:.3g}, so the series of such points is inaccurate"
            )
        else:
            detail = (
                f"their series reaches max_degree={max_degree} and is accurate only "
                f"to about {eps:.2g} (tol={tol:g})"
            )
        if not unresolved and r_max <= _R_TYPICAL:
            # the inputs are in range: the cap is what is too small
            warnings.warn(
                f"SBAF kernel: max_degree={max_degree} truncates the series at inputs of "
                f"ordinary size (r = scale * ||(x, 1)|| up to {r_max:.3g}): it is accurate "
                f"only to about {eps:.2g} (tol={tol:g}). Raise max_degree (default 400) "
                "or tol.",
                UserWarning,
                stacklevel=stacklevel + 1,
            )
        else:
            _warn_unscaled("SBAF kernel", r_max, detail, stacklevel)
    # zero every coefficient beyond the point's own degree (keeps PSD, see
    # module docstring) and below the first kept degree
    A = A[:, : int(J.max()) + 1] if J.size else A[:, :1]
    cols = np.arange(A.shape[1])
    A = np.where((cols[None, :] <= J[:, None]) & (cols[None, :] >= first), A, 0.0)
    if normalize:
        A /= math.sqrt(c0)
    if diag_only:
        return np.einsum("ij,ij->i", A, A)
    nX = X.shape[0]
    if Y is None:
        K = _gram(Ux, A, J, Ux, A, J, first=first, step=step)
        _warn_flat_gram(K, stacklevel)
        return K
    return _gram(Ux, A[:nX], J[:nX], Uy, A[nX:], J[nX:], first=first, step=step)


@validate_params(
    {"X": ["array-like"], "Y": ["array-like", None], **_KERNEL_CONSTRAINTS},
    prefer_skip_nested_validation=True,
)
def sbaf_kernel(
    X: ArrayLike,
    Y: ArrayLike | None = None,
    *,
    k: float = 0.91,
    alpha: float = 0.5,
    scale: float | None = None,
    shift: float = 1.0,
    normalize: bool = True,
    degree: int | Literal["auto"] = "auto",
    max_degree: int = 400,
    tol: float = 1e-4,
    n_quadrature: int | None = None,
) -> np.ndarray:
    """Gram matrix of the SBAF kernel (infinitely wide SBAF network).

    ``K(x, z) = Cov_w[sigma(w.x~), sigma(w.z~)] / c0`` (``normalize=True``)
    or ``E_w[sigma(w.x~) sigma(w.z~)]`` (``normalize=False``), with
    ``sigma(t) = sbaf_unit(t + shift, k, alpha)``, ``x~ = (x, 1)``,
    ``w ~ N(0, scale^2 I)``; see the module docstring for the series used and
    why every Gram matrix it returns is positive semi-definite.

    Parameters
    ----------
    X : array-like of shape (n_samples_X, n_features)
        First set of samples (rows); dense or sparse.
    Y : array-like of shape (n_samples_Y, n_features), default=None
        Second set of samples; ``None`` means ``Y = X`` (the symmetric Gram
        matrix).
    k : float > 0, default=0.91
        SBAF ``k``; any finite value with ``normalize=True``, at most 1e150
        with ``normalize=False`` (module docstring).
    alpha : float in [0, 1], default=0.5
        SBAF ``alpha``; with ``shift=0`` ``alpha`` and ``1 - alpha`` give the
        same kernel.
    scale : float > 0, default=None
        Standard deviation ``s`` of the hidden weights; ``None`` means
        ``1 / sqrt(n_features)`` (suited to standardized features).
    shift : float, default=1.0
        Offset added to every pre-activation (a prior mean of the bias
        weight).  Non-zero breaks the ``alpha <-> 1 - alpha`` symmetry and,
        at ``alpha = 0.5``, the evenness of the unit, whose kernel then gains
        the term linear in ``rho``; ``shift=0`` is the plain SBAF unit.
        Valid in ``[-600, 600]``, less for ``alpha`` near 0 or 1 on the flat
        side of the unit (the error states the bound).
    normalize : bool, default=True
        Drop the constant ``j = 0`` term (mean activations) and divide by
        ``c0 = Var[sigma(r0 g)]``, ``r0 = scale * sqrt(n_features + 1)``.
    degree : int >= 1 or "auto", default="auto"
        Truncation degree of the series in ``rho``; "auto" picks, per point,
        the smallest degree meeting ``tol``.
    max_degree : int, default=400
        Upper limit of the automatic degree.
    tol : float in (0, 1), default=1e-4
        Truncation tolerance: each point keeps the smallest degree whose
        neglected coefficient energy is ``<= tol^2 c0``; an entry of the
        normalised kernel is then within ``tol * sqrt(max(K(x, x), K(z, z)))``
        of the infinite series (``tol * c0 * ...`` for ``normalize=False``).
    n_quadrature : int, default=None
        Gauss-Hermite order for the coefficients; ``None`` chooses it per
        point from ``r = scale * ||(x, 1)||`` (64 nodes for ``r <= 1.6``).

    Returns
    -------
    K : ndarray of shape (n_samples_X, n_samples_Y)
        ``K[i, j] = K(X[i], Y[j])``; positive semi-definite when ``Y`` is
        ``None``.

    See Also
    --------
    SBAFKernel : The same kernel as a callable object for ``SVC(kernel=...)``.
    SBAFRandomFeatures : Random features whose inner products approximate it.
    sklearn.metrics.pairwise.rbf_kernel : The Gaussian kernel, for comparison.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipschitz.kernels import sbaf_kernel
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> K = sbaf_kernel(X)
    >>> K.shape
    (3, 3)
    >>> bool(np.allclose(K, K.T)) and bool(np.linalg.eigvalsh(K).min() > -1e-12)
    True
    """
    return _sbaf_kernel(
        X, Y, k=k, alpha=alpha, scale=scale, shift=shift, normalize=normalize,
        degree=degree, max_degree=max_degree, tol=tol, n_quadrature=n_quadrature,
        stacklevel=5,
    )


class SBAFKernel(BaseEstimator):
    """SBAF kernel as a callable for kernel machines, e.g. ``SVC(kernel=SBAFKernel())``.

    Calling ``K(X, Y)`` returns :func:`sbaf_kernel` with this object's
    parameters.  It is a scikit-learn estimator only for its parameters
    (``get_params``/``set_params``/``clone``), so nested parameters such as
    ``svc__kernel__k`` can be tuned by ``GridSearchCV``; it has no ``fit``.
    Parameters are never modified.

    Parameters
    ----------
    k : float > 0, default=0.91
        SBAF ``k``, as in :func:`sbaf_kernel`.
    alpha : float in [0, 1], default=0.5
        SBAF ``alpha``, as in :func:`sbaf_kernel`.
    scale : float > 0, default=None
        Standard deviation of the hidden weights; ``None`` means
        ``1 / sqrt(n_features)``.
    shift : float, default=1.0
        Offset added to every pre-activation, as in :func:`sbaf_kernel`.
    normalize : bool, default=True
        Drop the mean activations and divide by their variance ``c0``, as in
        :func:`sbaf_kernel`.
    degree : int >= 1 or "auto", default="auto"
        Truncation degree of the series; "auto" picks it per point from
        ``tol``.
    max_degree : int, default=400
        Upper limit of the automatic degree.
    tol : float in (0, 1), default=1e-4
        Truncation tolerance, as in :func:`sbaf_kernel`.
    n_quadrature : int, default=None
        Gauss-Hermite order for the coefficients; ``None`` chooses it per
        point.

    See Also
    --------
    sbaf_kernel : The Gram matrix as a function.
    SBAFRandomFeatures : An explicit finite feature map approximating it.
    sklearn.svm.SVC : The kernel machine this callable is meant for.

    Examples
    --------
    >>> from sklearn.svm import SVC
    >>> from sklipschitz.kernels import SBAFKernel
    >>> clf = SVC(kernel=SBAFKernel(k=0.91, alpha=0.5))
    """

    _parameter_constraints = dict(_KERNEL_CONSTRAINTS)

    def __init__(
        self,
        k: float = 0.91,
        alpha: float = 0.5,
        *,
        scale: float | None = None,
        shift: float = 1.0,
        normalize: bool = True,
        degree: int | Literal["auto"] = "auto",
        max_degree: int = 400,
        tol: float = 1e-4,
        n_quadrature: int | None = None,
    ) -> None:
        self.k = k
        self.alpha = alpha
        self.scale = scale
        self.shift = shift
        self.normalize = normalize
        self.degree = degree
        self.max_degree = max_degree
        self.tol = tol
        self.n_quadrature = n_quadrature

    def __call__(self, X: ArrayLike, Y: ArrayLike | None = None) -> np.ndarray:
        """Gram matrix ``K(X, Y)`` of shape (n_samples_X, n_samples_Y)."""
        self._validate_params()
        return _sbaf_kernel(X, Y, stacklevel=4, **self.get_params(deep=False))

    def diag(self, X: ArrayLike) -> np.ndarray:
        """``K(x, x)`` for each row of ``X`` (without the full Gram matrix).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples (rows); dense or sparse.

        Returns
        -------
        K_diag : ndarray of shape (n_samples,)
            The diagonal of ``K(X, X)``.
        """
        self._validate_params()
        return _sbaf_kernel(X, None, diag_only=True, stacklevel=4, **self.get_params(deep=False))


def _mean_activation(norms, s, k, alpha, shift):
    """``a_0(r) = E_g[unit(r g)]`` for ``r = s * norms`` (same quadrature, scaled unit)."""
    r = s * np.minimum(norms, _R_CLIP)
    A, _, _ = _coefficients(r, k, alpha, shift, n_terms=1)
    return A[:, 0]


class SBAFRandomFeatures(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Random features of a finite SBAF layer approximating the SBAF kernel.

    ``fit`` draws ``W ~ N(0, scale^2)`` of shape ``(n_features + 1,
    n_components)`` (the last row multiplies the bias input 1); ``transform``
    returns::

        phi(x) = (sigma(W^T x~) - a_0(r_x)) / sqrt(n_components * c0)   # normalize=True
        phi(x) = sigma(W^T x~) / sqrt(n_components)                      # normalize=False

    with ``sigma(t) = sbaf_unit(t + shift, k, alpha)``, ``a_0(r_x) =
    E_w[sigma(w.x~)]`` (the exact mean activation, by the same quadrature as
    the kernel) and ``c0`` the kernel's normalising variance.  With
    ``normalize=True`` ``sigma`` is evaluated in the kernel's scale
    (``(sigma - 1) / k`` for ``k <= 1``, ``k sigma`` for ``k > 1``; see the
    module docstring), which leaves ``phi`` unchanged and keeps it exact for
    extreme ``k``.  Inputs whose width ``r = scale * ||(x, 1)||`` saturates the
    unit get the kernel's warning (their features are nearly constant).  Then
    ``E_W[phi(x) . phi(z)]`` equals the infinite SBAF kernel exactly (with the
    mean subtracted, the ``j = 0`` term removed by the kernel is removed here
    too), so ``phi(x) . phi(z)`` converges to :func:`sbaf_kernel` at the Monte
    Carlo rate ``1/sqrt(n_components)`` (plus the kernel's truncation error,
    at most ``tol``).

    Parameters
    ----------
    n_components : int, default=100
        Number of random features ``D``.
    k : float > 0, default=0.91
        SBAF ``k``, as in :func:`sbaf_kernel`.
    alpha : float in [0, 1], default=0.5
        SBAF ``alpha``, as in :func:`sbaf_kernel`.
    scale : float > 0, default=None
        Standard deviation of the weights; ``None`` means
        ``1 / sqrt(n_features)``.
    shift : float, default=1.0
        Offset added to every pre-activation, as in :func:`sbaf_kernel`.
    normalize : bool, default=True
        Subtract the exact mean activation and divide by ``sqrt(c0)``, so that
        inner products approximate the normalised kernel.
    random_state : int, RandomState instance or None, default=None
        Seed of the weight draw.

    Attributes
    ----------
    weights_ : ndarray of shape (`n_features_in_` + 1, n_components)
        The drawn weights; the last row multiplies the bias input 1.
    scale_ : float
        The weight standard deviation used.
    c0_ : float
        Normalising variance of the kernel, of the unit in the scale above
        (1.0 when ``normalize=False``).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Only when ``X`` has string feature names.

    See Also
    --------
    sbaf_kernel : The exact kernel these features approximate.
    sklearn.kernel_approximation.RBFSampler : Random Fourier features of the RBF kernel.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipschitz.kernels import SBAFRandomFeatures, sbaf_kernel
    >>> X = np.random.default_rng(0).standard_normal((5, 3))
    >>> phi = SBAFRandomFeatures(n_components=20000, random_state=0).fit_transform(X)
    >>> phi.shape
    (5, 20000)
    >>> bool(np.abs(phi @ phi.T - sbaf_kernel(X)).max() < 0.05)
    True
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "k": _KERNEL_CONSTRAINTS["k"],
        "alpha": _KERNEL_CONSTRAINTS["alpha"],
        "scale": _KERNEL_CONSTRAINTS["scale"],
        "shift": _KERNEL_CONSTRAINTS["shift"],
        "normalize": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_components: int = 100,
        *,
        k: float = 0.91,
        alpha: float = 0.5,
        scale: float | None = None,
        shift: float = 1.0,
        normalize: bool = True,
        random_state: int | RandomState | None = None,
    ) -> None:
        self.n_components = n_components
        self.k = k
        self.alpha = alpha
        self.scale = scale
        self.shift = shift
        self.normalize = normalize
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: None = None) -> SBAFRandomFeatures:
        """Draw the hidden weights; only the number of features of ``X`` is used.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples; dense or sparse.  Only their number of features
            (and feature names) is used.
        y : None
            Ignored; present for the scikit-learn API.

        Returns
        -------
        self : SBAFRandomFeatures
            The fitted transformer.
        """
        _check_finite_params(self.k, self.shift, self.normalize)
        d = validate_data(self, X, accept_sparse=["csr", "csc"], dtype=np.float64).shape[1]
        s = _default_scale(d) if self.scale is None else float(self.scale)
        rng = check_random_state(self.random_state)
        self.weights_ = s * rng.standard_normal((d + 1, self.n_components))
        self.scale_ = s
        self.c0_ = (
            _reference_variance(d, s, self.k, self.alpha, self.shift)
            if self.normalize
            else 1.0
        )
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Random features of shape (n_samples, n_components).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples to map; dense or sparse.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            The features ``phi(x)`` of the class description, one row per
            sample.
        """
        check_is_fitted(self)
        A: Any = validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=np.float64, reset=False
        )
        W = self.weights_
        # rows divided by m = max(1, max |x_j|) first: no overflow for huge inputs
        m = np.ones(A.shape[0])
        if A.shape[0] and A.shape[1]:
            m = np.maximum(m, np.asarray(abs(A).max(axis=1).todense()).ravel()
                           if sp.issparse(A) else np.abs(A).max(axis=1))
        Xs = sp.diags(1.0 / m) @ A if sp.issparse(A) else A / m[:, None]
        Z = safe_sparse_dot(Xs, W[:-1], dense_output=True)
        Z += W[-1] / m[:, None]
        norms = m * np.sqrt(row_norms(Xs, squared=True) + (1.0 / m) ** 2)
        r_max = float(self.scale_ * norms.max()) if norms.size else 0.0
        if r_max > _R_RESOLVED:
            _warn_unscaled("SBAFRandomFeatures", r_max,
                           "its random features are nearly constant", 2)
        with np.errstate(over="ignore"):
            Z *= m[:, None]  # may reach +-inf: the unit's limit there is exact
        if self.shift:
            Z += self.shift
        F = _unit(Z, self.k, self.alpha, scaled=self.normalize)
        if self.normalize:
            F -= _mean_activation(norms, self.scale_, self.k, self.alpha, self.shift)[:, None]
        F /= math.sqrt(self.n_components * self.c0_)
        return F

    @property
    def _n_features_out(self):
        return self.weights_.shape[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
