"""partial_fit of LipschitzQuantileClassifier: the streaming logistic pilot and
the constants of the rows seen so far, against closed forms."""

import numpy as np
import pytest
from scipy.special import expit, logit

from sklipschitz._engine.losses import SmoothBinaryQuantileLoss
from sklipschitz.linear_model import LipschitzQuantileClassifier


def _centred_data(n=120, d=4, seed=0):
    # centred columns of standard deviation 0.5: partial_fit neither centres
    # nor rescales them (scale max(1, ...) = 1), so its variables are (W, b)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    X -= X.mean(axis=0)
    X *= 0.5 / X.std(axis=0)
    y = (X @ np.array([1.0, -2.0, 0.5, 0.0][:d]) + 0.3 * rng.standard_normal(n) > 0).astype(int)
    return X, y


def _top_eigenvalue(X):
    Z = np.column_stack([X, np.ones(len(X))])
    return np.linalg.eigvalsh(Z.T @ Z / len(X))[-1]


def test_first_call_pilot_is_one_logistic_gradient_step():
    X, y = _centred_data()
    alpha = 1e-3
    est = LipschitzQuantileClassifier(alpha=alpha).partial_fit(X, y, classes=[0, 1])
    assert est._x_offset is None and np.all(est._x_scale == 1.0)
    n = len(y)
    c0 = logit((y.sum() + 1.0) / (n + 2.0))  # the smoothed prior log-odds
    residual = expit(c0) - y
    Lp = _top_eigenvalue(X) / 4 + alpha
    pilot = est._stream_pilot_state
    np.testing.assert_allclose(pilot.coefs[0][:, 0], -(X.T @ residual / n) / Lp, rtol=1e-10)
    np.testing.assert_allclose(pilot.intercepts[0][0], c0 - residual.mean() / Lp, rtol=1e-10)


def test_constants_are_those_of_every_row_seen():
    X, y = _centred_data(n=300)
    est = LipschitzQuantileClassifier()
    chunks = np.array_split(np.arange(300), 3)
    for k, c in enumerate(chunks):
        est.partial_fit(X[c], y[c], classes=[0, 1])
        seen = np.concatenate(chunks[: k + 1])
        kappa = SmoothBinaryQuantileLoss(0.5).curvature
        expected = max(kappa * _top_eigenvalue(X[seen]) + 1e-4,
                       0.5 * (kappa * _top_eigenvalue(X[c]) + 1e-4))
        level = est._level_index
        np.testing.assert_allclose(est._train_state.step_state.lipschitz[level], expected,
                                   rtol=1e-10)


@pytest.mark.parametrize("rows", [1, 3])
def test_small_chunks_keep_the_running_maximum(rows):
    # chunks of no more rows than features: the chunks' own bounds, running maximum
    X, y = _centred_data(n=30)
    est = LipschitzQuantileClassifier()
    kappa = SmoothBinaryQuantileLoss(0.5).curvature
    bounds = []
    for start in range(0, 30, rows):
        c = slice(start, start + rows)
        est.partial_fit(X[c], y[c], classes=[0, 1])
        bounds.append(kappa * _top_eigenvalue(X[c]) + 1e-4)
    assert np.all(np.isfinite(est.quantile_coef_))
    np.testing.assert_allclose(est._train_state.step_state.lipschitz[est._level_index],
                               max(bounds), rtol=1e-10)


def test_fit_ends_the_streaming_pilot():
    X, y = _centred_data()
    est = LipschitzQuantileClassifier()
    est.partial_fit(X, y, classes=[0, 1])
    assert est._stream_pilot_state is not None
    est.fit(X, y)
    assert getattr(est, "_stream_pilot_state", None) is None
    est.partial_fit(X, y)
    # partial_fit after fit continues fit's levels, without a pilot
    assert getattr(est, "_stream_pilot_state", None) is None
