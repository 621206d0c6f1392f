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


@pytest.mark.parametrize("fit_intercept, alpha, batch_size, s", [
    (True, 0.1, 16, 2.0), (False, 0.0, None, 0.5)])
def test_paper_mode_routes_log_cosh_to_its_published_rule(fit_intercept, alpha, batch_size, s):
    # mode='paper' with the log-cosh loss is the published "tighter" rule
    # with every argument passed on (the rule itself is checked against
    # hand values in test_lipschitz_exact.py)
    from sklipschitz._engine.losses import LogCosh

    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 3)) * [1.0, 3.0, 0.2]
    Y = X @ np.array([[1.0], [-0.5], [2.0]]) + 1.0
    got = lip.linear_constant(LogCosh(scale=s), X, Y, np.ones(40), mode="paper",
                              fit_intercept=fit_intercept, alpha=alpha, batch_size=batch_size)
    ref = lip.paper_log_cosh_lipschitz(X, Y, fit_intercept=fit_intercept, alpha=alpha,
                                       batch_size=batch_size, scale=s)
    assert got == pytest.approx(ref, rel=1e-15)
    other = lip.paper_log_cosh_lipschitz(X, Y, fit_intercept=not fit_intercept, alpha=0.3,
                                         batch_size=8, scale=1.0)
    assert got != pytest.approx(other, rel=1e-6)
