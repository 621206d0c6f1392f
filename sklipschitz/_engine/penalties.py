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
