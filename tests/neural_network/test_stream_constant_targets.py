"""SymNetRegressor.partial_fit on targets that have been one value so far.

Reference: sklearn's DummyRegressor (the constant); a stream whose targets
start to vary trains as one that never saw the constant chunks.
"""
import pickle
import warnings

import numpy as np
import pytest
from sklearn.dummy import DummyRegressor

from sklipschitz.neural_network import SymNetRegressor

RNG = np.random.default_rng(0)
X = RNG.normal(size=(400, 4))


@pytest.mark.parametrize("normalize_y", [True, False])
@pytest.mark.parametrize("level", [0.0, 3.0, 1e6, -2.5e-7])
def test_constant_stream_predicts_the_constant_after_every_call(level, normalize_y):
    """The steps from the random start left level 0 and 3 off by 0.013 after
    three 50-row chunks and 0.006 after eight, in the units of y at any level."""
    est = SymNetRegressor(hidden_layer_sizes=(8,), normalize_y=normalize_y, random_state=0)
    y = np.full(X.shape[0], level)
    for i in range(0, 200, 50):
        est.partial_fit(X[i:i + 50], y[i:i + 50])
        ref = DummyRegressor().fit(X[:i + 50], y[:i + 50]).predict(X)
        np.testing.assert_allclose(est.predict(X), ref, rtol=1e-12, atol=1e-12 * abs(level))
    est = pickle.loads(pickle.dumps(est))
    est.partial_fit(X[200:250], y[200:250])
    np.testing.assert_allclose(est.predict(X), level, rtol=1e-12, atol=1e-12 * abs(level))


def test_only_the_constant_output_is_settled():
    Y = np.column_stack([np.full(X.shape[0], 3.0), X[:, 0] - 2 * X[:, 1]])
    est = SymNetRegressor(hidden_layer_sizes=(8,), random_state=0)
    for i in range(0, 400, 50):
        est.partial_fit(X[i:i + 50], Y[i:i + 50])
    pred = est.predict(X)
    np.testing.assert_allclose(pred[:, 0], 3.0, rtol=1e-12)
    assert np.corrcoef(pred[:, 1], Y[:, 1])[0, 1] > 0.9


def test_a_target_that_starts_to_vary_trains_as_without_the_constant_chunks():
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] + 3.0

    def stream(prefix):
        est = SymNetRegressor(hidden_layer_sizes=(16,), random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no stream warning either
            for i in range(prefix):
                est.partial_fit(X[i * 50:(i + 1) * 50], np.full(50, 3.0))
            for _ in range(4):
                for i in range(0, 400, 50):
                    est.partial_fit(X[i:i + 50], y[i:i + 50])
        return est.score(X, y)

    # the training state was never settled: the stream learns as one that saw
    # no constant chunks, about (the first 50 rows fixed normalize_y's scale at 1)
    assert stream(3) >= stream(0) - 0.02
    assert stream(3) > 0.9


def test_a_stream_after_fit_does_not_settle_its_outputs():
    """fit learned a varying target; a later chunk of one value is one chunk,
    not the target."""
    y = X[:, 0] + 3.0
    est = SymNetRegressor(hidden_layer_sizes=(8,), random_state=0, max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    est.partial_fit(X[:50], np.full(50, 3.0))
    assert np.std(est.predict(X)) > 0.5
