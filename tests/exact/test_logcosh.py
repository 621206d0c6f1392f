"""Log-cosh against L-BFGS-B."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklipschitz._engine.losses import LogCosh

from exact_refs import DATASETS, data, diabetes, fit, lbfgs_logcosh, logcosh


@pytest.mark.parametrize("alpha", [0.0, 0.05])
@pytest.mark.parametrize("name", ["diabetes", "stackloss", "synthetic"])
def test_logcosh_matches_lbfgs(alpha, name):
    if name == "synthetic":
        X, y = data(n=2000, d=8, seed=10)
    else:
        X, y = DATASETS[name]()
        X = (X - X.mean(0)) / X.std(0)
        y = (y - y.mean()) / y.std()
    sw = np.random.default_rng(2).uniform(0.5, 2, len(y))
    sol = fit(X, y, LogCosh(), sw, alpha=alpha)
    assert sol.certified
    s = sw / sw.sum()
    r = X @ sol.coef[:, 0] + sol.intercept[0] - y
    ours = s @ logcosh(r) + 0.5 * alpha * sol.coef[:, 0] @ sol.coef[:, 0]
    ref = lbfgs_logcosh(X, y, sw, alpha)
    assert ours <= ref + 1e-12 * abs(ref)
    assert ours == pytest.approx(ref, rel=1e-6)
    assert sol.loss_curve[-1] == pytest.approx(ours, rel=1e-12)
    # sparse and repeated rows
    sp_sol = fit(sp.csr_matrix(X), y, LogCosh(), sw, alpha=alpha)
    np.testing.assert_allclose(sp_sol.coef, sol.coef, rtol=1e-6, atol=1e-9)


def test_logcosh_weights_equal_repeated_rows():
    X, y = data(n=300, d=4, seed=11)
    sw = np.random.default_rng(3).integers(0, 4, 300).astype(float)
    rep = np.repeat(np.arange(300), sw.astype(int))
    a = fit(X, y, LogCosh(), sw)
    b = fit(X[rep], y[rep], LogCosh())
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(a.intercept, b.intercept, rtol=1e-8, atol=1e-10)


def test_logcosh_multi_output_intercepts():
    X, y = data(n=400, d=3, seed=15)
    Y = np.column_stack([y, 5 - y, 0.1 * y + 20])
    sol = fit(X, Y, LogCosh())
    for k in range(3):
        one = fit(X, Y[:, k], LogCosh())
        np.testing.assert_allclose(sol.coef[:, k], one.coef[:, 0], rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(sol.intercept[k], one.intercept[0], rtol=1e-8)
