"""LipschitzQuantileClassifier: the extrapolation of the crossing level beyond
the grid (least-squares slope of the end levels) and its effect on ranking."""

import numpy as np
import pytest
from scipy.special import logit
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from sklipschitz import LipschitzQuantileClassifier
from sklipschitz.linear_model._quantile_levels import (
    TAIL_WIDTH,
    crossing_logit,
    rearrange,
)


def _end_slope_closed_form(z, f):
    """Slope of the least-squares line through the points (z_j, f_j)."""
    zc = z - z.mean()
    return np.sum(zc * (f - f.mean())) / np.sum(zc * zc)


def test_extrapolation_uses_the_least_squares_slope_of_the_end_levels():
    levels = np.array([0.05, 0.1, 0.2, 0.5, 0.8, 0.9, 0.95])
    z = logit(levels)
    # every level claims the row (f >= 0): below the grid
    f = np.array([0.3, 0.5, 1.1, 2.0, 2.2, 2.3, 2.9])
    s = _end_slope_closed_form(z[:3], f[:3])
    e = f[0] / s
    expected = z[0] - TAIL_WIDTH * e / (TAIL_WIDTH + e)
    assert crossing_logit(f, levels) == pytest.approx(expected, rel=1e-13)
    # no level claims the row: above the grid, the three upper levels
    g = np.array([-3.0, -2.9, -2.0, -1.5, -1.0, -0.9, -0.2])
    s = _end_slope_closed_form(z[-3:], g[-3:])
    e = 0.2 / s
    expected = z[-1] + TAIL_WIDTH * e / (TAIL_WIDTH + e)
    assert crossing_logit(g, levels) == pytest.approx(expected, rel=1e-13)
    # a flat end (slope 0) stops at the bound itself
    flat = np.array([1.0, 1.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    assert crossing_logit(flat, levels) == pytest.approx(z[0] - TAIL_WIDTH)
    # end_levels=2 is the end segment (the former rule); two levels always are
    e2 = (z[1] - z[0]) * f[0] / (f[1] - f[0])
    expected = z[0] - TAIL_WIDTH * e2 / (TAIL_WIDTH + e2)
    assert crossing_logit(f, levels, end_levels=2) == pytest.approx(expected, rel=1e-13)
    assert crossing_logit(f[:2], levels[:2]) == pytest.approx(expected, rel=1e-13)


def test_crossing_is_continuous_where_the_end_level_changes_sign():
    rng = np.random.default_rng(3)
    levels = np.linspace(0.05, 0.95, 19)
    base = rearrange(rng.normal(size=(200, 19)))
    for eps in (1e-6, 1e-9):
        # the lowest level exactly at zero, just above (extrapolated) and
        # just below (interpolated inside the grid): the same tau*
        at = base - base[:, :1]
        z0 = crossing_logit(at, levels)
        np.testing.assert_allclose(z0, logit(0.05), atol=1e-12)
        np.testing.assert_allclose(crossing_logit(at + eps, levels), z0, atol=1e3 * eps)
        np.testing.assert_allclose(crossing_logit(at - eps, levels), z0, atol=1e3 * eps)
        top = base - base[:, -1:]
        below_top = crossing_logit(top - eps, levels)
        np.testing.assert_array_less(logit(0.95), below_top)
        np.testing.assert_allclose(below_top, logit(0.95), atol=1e3 * eps)


def test_breast_cancer_ranking_close_to_logistic_regression():
    # the end segment alone (the former slope) ranked the confident rows
    # by two levels' distances: out-of-fold AUC 0.9926 against 0.9955;
    # the three end levels give 0.9942
    X, y = load_breast_cancer(return_X_y=True)
    auc = {"lr": [], "ours": []}
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
        scaler = StandardScaler().fit(X[train])
        Xtr, Xte = scaler.transform(X[train]), scaler.transform(X[test])
        for key, est in (("lr", LogisticRegression()), ("ours", LipschitzQuantileClassifier())):
            p = est.fit(Xtr, y[train]).predict_proba(Xte)[:, 1]
            auc[key].append(roc_auc_score(y[test], p))
    assert np.mean(auc["ours"]) >= np.mean(auc["lr"]) - 0.0015
