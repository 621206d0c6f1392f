"""Valid constants: cases built for mutants that survived the mutation run
(docs/testing.md, "Mutation testing"), against NumPy's eigenvalues."""

import numpy as np
import pytest

from sklipschitz._engine import lipschitz as lip


@pytest.mark.parametrize("scale", [1e120, 1e-120])
def test_huge_and_tiny_entries_with_an_intercept(scale):
    # [X s, 1]' [X s, 1] / n: for s = 1e120 the ones column adds a relative
    # 1e-240 (the scaled Gram matrix must shrink it, not blow it up); for
    # s = 1e-120 the ones column dominates: lambda_max = 1 to rounding
    rng = np.random.default_rng(6)
    X = rng.normal(size=(30, 3)) + 0.5
    sw = rng.uniform(0.5, 2.0, 30)
    got = lip.gram_top_eigenvalue(X * scale, sw, fit_intercept=True)
    if scale > 1:
        Xw = X * np.sqrt(sw)[:, None]
        ref = np.linalg.eigvalsh(Xw.T @ Xw / sw.sum())[-1] * scale ** 2
    else:
        ref = 1.0
    assert got == pytest.approx(ref, rel=1e-12)
