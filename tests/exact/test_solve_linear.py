"""The entry point: edge cases, warm starts, weights, dispatch and the history contract."""

import numpy as np
import pytest

from sklipschitz._engine.losses import AbsoluteError, HalfSquaredError, LogCosh, PinballLoss

from exact_refs import (data, fit, lbfgs_logcosh, logcosh, lp_quantile_objective,
                        pinball_objective, qp_reference)


ALL_LOSSES = [HalfSquaredError(), AbsoluteError(), PinballLoss(0.8), LogCosh()]


def _objective(loss, X, y, coef, intercept, alpha):
    """The solver's objective, written out: mean loss + alpha/2 ||w||^2."""
    w = np.asarray(coef, dtype=np.float64).ravel()
    r = y - X @ w - float(np.asarray(intercept).ravel()[0])
    values = {"squared_error": 0.5 * r * r, "absolute_error": np.abs(r), "log_cosh": logcosh(r),
              "quantile": np.maximum(0.8 * r, -0.2 * r)}[loss.name]
    return float(values.mean()) + 0.5 * alpha * float(w @ w)


def _reference_objective(loss, X, y, alpha, fit_intercept):
    """The optimum from an independent method: lstsq / the normal equations,
    L-BFGS-B, HiGHS or SLSQP."""
    n, d = X.shape
    if loss.name == "squared_error":
        Xc, yc = (X - X.mean(0), y - y.mean()) if fit_intercept else (X, y)
        if alpha == 0:
            w = np.linalg.lstsq(Xc, yc, rcond=None)[0]
        else:
            w = np.linalg.solve(Xc.T @ Xc / n + alpha * np.eye(d), Xc.T @ yc / n)
        return 0.5 * np.mean((yc - Xc @ w) ** 2) + 0.5 * alpha * w @ w
    if loss.name == "log_cosh":
        return lbfgs_logcosh(X, y, np.ones(n), alpha, fit_intercept=fit_intercept)
    tau, factor = (0.8, 1.0) if loss.name == "quantile" else (0.5, 2.0)
    if alpha == 0:
        return factor * lp_quantile_objective(X, y, tau, fit_intercept=fit_intercept)
    return factor * qp_reference(X, y, tau, alpha / factor, fit_intercept=fit_intercept)


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=lambda l: l.name)
@pytest.mark.parametrize("alpha", [0.0, 0.1])
def test_edge_cases_reach_the_reference_optimum(loss, alpha):
    rng = np.random.default_rng(0)
    cases = {
        "n=1": (rng.standard_normal((1, 3)), rng.standard_normal(1)),
        "d=1": (rng.standard_normal((50, 1)), rng.standard_normal(50)),
        "n<d": (rng.standard_normal((4, 10)), rng.standard_normal(4)),
        "constant y": (rng.standard_normal((30, 3)), np.full(30, 2.5)),
        "constant column": (np.column_stack([rng.standard_normal((40, 2)), np.ones(40)]),
                            rng.standard_normal(40)),
        "duplicated column": (np.repeat(rng.standard_normal((40, 2)), 2, axis=1),
                              rng.standard_normal(40)),
        "duplicated rows": (np.repeat(rng.integers(0, 3, (15, 2)).astype(float), 3, axis=0),
                            np.repeat(rng.integers(0, 5, 15).astype(float), 3)),
        "zero X": (np.zeros((20, 3)), rng.standard_normal(20)),
    }
    for name, (X, y) in cases.items():
        for fit_intercept in (True, False):
            sol = fit(X, y, loss, alpha=alpha, fit_intercept=fit_intercept)
            assert np.all(np.isfinite(sol.coef)), name
            assert np.all(np.isfinite(sol.intercept)), name
            assert np.all(np.isfinite(sol.loss_curve)), name
            assert sol.coef.shape == (X.shape[1], 1)
            ours = _objective(loss, X, y, sol.coef, sol.intercept, alpha)
            ref = _reference_objective(loss, X, y, alpha, fit_intercept)
            assert ours == pytest.approx(ref, rel=1e-7, abs=1e-10), (name, fit_intercept)
            if loss.name in ("quantile", "absolute_error") and alpha == 0:
                tau = getattr(loss, "quantile", 0.5)
                ours = pinball_objective(X, y, sol.coef, sol.intercept, tau)
                ref = lp_quantile_objective(X, y, tau, fit_intercept=fit_intercept)
                assert ours <= ref + 1e-9 * ref + 1e-12 * (1 + np.abs(y).mean()), name
                assert sol.certified, name
    # all-equal y with an intercept is fitted exactly
    X, y = cases["constant y"]
    sol = fit(X, y, loss, alpha=alpha)
    np.testing.assert_allclose(sol.intercept, 2.5, rtol=1e-10)
    np.testing.assert_allclose(sol.coef, 0, atol=1e-10)


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=lambda l: l.name)
def test_warm_start_from_optimum_returns_immediately(loss):
    X, y = data(n=5000, d=5, seed=12)
    first = fit(X, y, loss)
    again = fit(X, y, loss, coef_init=first.coef, intercept_init=first.intercept)
    assert again.n_iter <= 1
    assert again.certified
    np.testing.assert_allclose(again.coef, first.coef, rtol=1e-9, atol=1e-12)


def test_warm_start_from_elsewhere_still_exact():
    X, y = data(n=5000, d=5, seed=13)
    sol = fit(X, y, PinballLoss(0.6), coef_init=np.ones((5, 1)), intercept_init=np.array([-3.0]))
    assert sol.certified
    ours = pinball_objective(X, y, sol.coef, sol.intercept, 0.6)
    assert abs(ours - lp_quantile_objective(X, y, 0.6)) <= 1e-9 * ours


def test_zero_weights_are_absent_rows():
    X, y = data(n=300, d=3, seed=14)
    sw = np.ones(300)
    sw[::3] = 0
    for loss in ALL_LOSSES:
        a = fit(X, y, loss, sw)
        b = fit(X[sw > 0], y[sw > 0], loss)
        np.testing.assert_allclose(a.coef, b.coef, rtol=1e-8, atol=1e-10)


def test_unsupported_loss_is_a_clear_type_error():
    # the solver does not re-validate X, y and the weights (the estimator
    # does); it checks that it has a solver for the loss and what that
    # solver needs of it
    from sklipschitz._engine.losses import BinomialLoss

    X, y = data(n=20, d=2)
    with pytest.raises(TypeError, match="supports the losses .*BinomialLoss"):
        fit(X, y, BinomialLoss())

    class NoConstant(LogCosh):
        constant_raw = property(lambda self: (_ for _ in ()).throw(AttributeError()))

    with pytest.raises(TypeError, match=r"logcosh solver needs the loss attributes \['constant_raw'\]"):
        fit(X, y, NoConstant())


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=lambda l: l.name)
def test_history_contract(loss):
    X, y = data(n=6000, d=4, seed=16)
    sol = fit(X, y, loss, alpha=0.01)
    assert sol.n_iter == len(sol.loss_curve) == len(sol.learning_rate_history) > 0
    assert all(np.isfinite(sol.loss_curve)) and all(v > 0 for v in sol.learning_rate_history)
    # the last entry is the objective of the returned coefficients
    r = X @ sol.coef[:, 0] + sol.intercept[0] - y
    tau = getattr(loss, "quantile", 0.5)
    pen = 0.005 * sol.coef[:, 0] @ sol.coef[:, 0]
    value = {"squared_error": np.mean(0.5 * r**2), "log_cosh": np.mean(logcosh(r)),
             "absolute_error": np.mean(np.abs(r)),
             "quantile": np.mean(np.maximum(-tau * r, (1 - tau) * r))}[loss.name] + pen
    assert sol.loss_curve[-1] == pytest.approx(value, rel=1e-10)
    if loss.name == "quantile":
        # FISTA steps are at mu = 1/L of the smoothed problem: s0, 0.3 s0
        mus = sorted(set(sol.learning_rate_history[:20]), reverse=True)
        assert mus[0] == pytest.approx(mus[1] / 0.3, rel=1e-12)


def test_verbose_smoke(capsys):
    X, y = data(n=3000, d=3, seed=18)
    for loss in ALL_LOSSES:
        fit(X, y, loss, verbose=2)
    assert "solve_linear" in capsys.readouterr().out
