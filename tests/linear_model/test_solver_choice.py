"""The solver rule (``choose_solver``): what ``fit`` runs and what the
regularisation path asks, from one function.

The expected choices are the documented rule written out case by case
(the ``solver`` parameter of ``LipschitzRegressor``)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from sklipschitz import LipschitzRegressor
from sklipschitz._engine.penalties import penalty_strengths
from sklipschitz.linear_model import _cv
from sklipschitz.linear_model._regressor import choose_solver, solver_settings

_T = 0.1 * np.eye(4)

# (parameters, what solver='auto' runs, what solver='exact' says: None (runs)
# or the start of the reason in its ValueError)
CASES = [
    (dict(), "exact", None),
    (dict(penalty="l1", alpha=0.01), "exact", None),
    (dict(loss="quantile", penalty="l1", alpha=0.01), "exact", None),
    (dict(loss="log_cosh", penalty="l1", alpha=0.01), "exact", None),
    (dict(tikhonov=_T), "exact", None),
    (dict(batch_size=16), "gd", r"batch_size=None \(got 16\)"),
    (dict(learning_rate="local"), "gd", r"learning_rate='lipschitz' \(got 'local'\)"),
    (dict(learning_rate=0.01), "gd", r"learning_rate='lipschitz' \(got 0.01\)"),
    (dict(early_stopping=True), "gd", r"early_stopping=False"),
    (dict(loss="huber", penalty="l1", alpha=0.01), "gd", r"penalty='l2' or None with loss='huber'"),
    (dict(loss="log_cosh", scale=2.0, penalty="l1", alpha=0.01), "gd",
     r"penalty='l2' or None with loss='log_cosh' at a scale other than 1"),
    (dict(loss="quantile", penalty="elasticnet", alpha=0.01), "gd",
     r"penalty='l1' with loss='quantile' \(elastic net is not exact there\)"),
    (dict(loss="absolute_error", penalty="elasticnet", alpha=0.01), "gd",
     r"penalty='l1' with loss='absolute_error'"),
    (dict(tikhonov=_T, penalty="l1", alpha=0.01), "gd", r"no tikhonov matrix with an L1 penalty"),
]


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    return X, X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.3 * rng.standard_normal(60)


def _fit(**params):
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LipschitzRegressor(max_iter=5, random_state=0, **params).fit(X, y)


@pytest.mark.parametrize("params, auto, exact_reason", CASES)
def test_fit_runs_the_solver_of_the_rule(params, auto, exact_reason):
    assert _fit(**params).solver_ == auto
    assert _fit(solver="gd", **params).solver_ == "gd"
    if exact_reason is None:
        assert _fit(solver="exact", **params).solver_ == "exact"
    else:
        with pytest.raises(ValueError, match="solver='exact' .* needs " + exact_reason):
            _fit(solver="exact", **params)


@pytest.mark.parametrize("params, auto, exact_reason",
                         [c for c in CASES if "tikhonov" not in c[0]])
def test_the_path_asks_the_same_rule(params, auto, exact_reason):
    # the path's estimator (no Tikhonov matrix) at its penalty strengths: the
    # choice of a fit at that alpha, and no private attribute written
    X, _ = _data()
    reg = LipschitzRegressor(**params)
    strengths = [penalty_strengths(reg.penalty, reg.alpha, reg.l1_ratio)]
    assert _cv._exact_path(reg, X, strengths) == (auto == "exact")
    assert not any(hasattr(reg, a) for a in ("_l2", "_l1", "_penalty"))
    # one alpha the exact solver does not take keeps the whole path off it
    if auto == "exact" and reg.penalty == "l1":
        assert not _cv._exact_path(LipschitzRegressor(**params, batch_size=8), X, strengths)


def test_a_wide_sparse_l1_problem_is_not_exact():
    X = sp.csr_matrix((5, 3000))
    reg = LipschitzRegressor(penalty="l1", alpha=0.1)
    assert choose_solver(**solver_settings(reg), l2=0.0, l1=0.1, X=X) == "gd"
    assert choose_solver(**solver_settings(reg), l2=0.0, l1=0.1, X=X[:, :2999]) == "exact"
    assert choose_solver(**solver_settings(reg), l2=0.0, l1=0.1, X=X.toarray()) == "exact"
    with pytest.raises(ValueError, match="a sparse X with fewer than 3000 columns"):
        choose_solver(**dict(solver_settings(reg), solver="exact"), l2=0.0, l1=0.1, X=X)


def test_a_tikhonov_matrix_without_a_whitening_root_is_not_exact():
    reg = LipschitzRegressor(tikhonov=_T)
    settings = solver_settings(reg)
    assert choose_solver(**settings, l2=0.0, l1=0.0, tikhonov=True, whitened=True) == "exact"
    assert choose_solver(**settings, l2=0.0, l1=0.0, tikhonov=True, whitened=False) == "gd"
    with pytest.raises(ValueError, match=r"a positive definite alpha\*I"):
        choose_solver(**dict(settings, solver="exact"), l2=0.0, l1=0.0, tikhonov=True)


@pytest.mark.parametrize("params, auto, exact_reason",
                         [c for c in CASES if c[1] == "gd" and "tikhonov" not in c[0]])
def test_row_blocks_name_the_reason_of_the_rule(tmp_path, params, auto, exact_reason):
    # X read in row blocks has only the exact solver: the refusal names what
    # solver='exact' would need
    X, y = _data()
    np.save(tmp_path / "X.npy", X)
    Xm = np.load(tmp_path / "X.npy", mmap_mode="r")
    with pytest.raises(ValueError, match="read in row blocks, which only the exact solver does; "
                                         "it needs " + exact_reason):
        LipschitzRegressor(block_rows=20, **params).fit(Xm, y)
