"""The levels' freezing rule: the last active levels tolerate a few hovering rows."""

import numpy as np
import pytest

from sklipschitz._engine.monitors import ColumnFreezing
from sklipschitz.linear_model._quantile_levels import LevelFreezing


def _run(freezing, n_columns, flips, n_rows=200, epochs=12):
    """Feed ``freezing`` constant values and scores in which ``flips[j]`` rows
    of column ``j`` change sign every epoch; return the epoch at which every
    column was frozen (None: some never was)."""
    freezing.start(n_columns)
    rng = np.random.default_rng(0)
    base = rng.uniform(1.0, 2.0, size=(n_rows, n_columns))
    for epoch in range(1, epochs + 1):
        active = freezing.active
        scores = base[:, active].copy()
        for k, j in enumerate(active):
            scores[: flips[j], k] *= (-1) ** epoch
        values = np.full(len(active), 1.0 / epoch)  # always improving: only the signs stop
        params = [np.zeros((2, len(active)))]
        keep = freezing.record(values, params, [np.zeros((2, n_columns))], scores)
        if not keep.any():
            return epoch
    return None


@pytest.mark.parametrize("flips, last, expected", [
    # 2 of 200 rows (1%) flip: tolerated once at most `last` columns are active
    ((2, 2), 2, 1 + 3), ((2, 2), 1, None),
    # 3 rows (1.5%) are more than the last levels' share: never settled
    ((3, 3), 2, None),
    # no flips: settled after the patience alone, whatever `last`
    ((0, 0), 0, 1 + 3),
])
def test_last_levels_tolerate_hovering_rows(flips, last, expected):
    w = np.ones(200)
    freezing = LevelFreezing(1e-4, 100, weights=w, sign_share=0.002, sign_patience=3,
                             last=last, last_share=0.01)
    assert _run(freezing, 2, flips) == expected


def test_more_active_levels_than_last_as_column_freezing():
    """Above ``last`` active columns the rule is ColumnFreezing's: the same
    epochs, on the same sequence, for every column."""
    flips = (0, 1, 2, 0, 5)
    w = np.arange(1.0, 201.0)
    got = LevelFreezing(1e-4, 100, weights=w, sign_share=0.002, sign_patience=3, last=0)
    ref = ColumnFreezing(1e-4, 100, stable_signs=True, weights=w, sign_share=0.002,
                         sign_patience=3)
    assert _run(got, 5, flips, epochs=20) == _run(ref, 5, flips, epochs=20)
    np.testing.assert_array_equal(got.unchanged, ref.unchanged)


def test_weights_as_repeated_rows():
    """The share of a weight-2 row equals that of the row given twice."""
    rng = np.random.default_rng(1)
    n = 150
    scores = rng.standard_normal((n, 2))
    w = np.ones(n)
    w[0] = 2.0
    rep = np.vstack([scores, scores[:1]])
    a = LevelFreezing(1e-4, 100, weights=w, sign_share=0.002, sign_patience=2,
                      last=2, last_share=0.015)
    b = LevelFreezing(1e-4, 100, weights=np.ones(n + 1), sign_share=0.002, sign_patience=2,
                      last=2, last_share=0.015)
    for f in (a, b):
        f.start(2)
    for epoch in range(4):
        flip = np.where(np.arange(n) < 1, (-1.0) ** epoch, 1.0)[:, None]  # row 0 hovers
        ka = a.record(np.ones(2) / (epoch + 1), [np.zeros((1, 2))], [np.zeros((1, 2))],
                      scores * flip)
        kb = b.record(np.ones(2) / (epoch + 1), [np.zeros((1, 2))], [np.zeros((1, 2))],
                      np.vstack([scores * flip, (scores * flip)[:1]]))
        np.testing.assert_array_equal(ka, kb)
        if not ka.all():
            break
    np.testing.assert_array_equal(a.unchanged, b.unchanged)

