"""partial_fit streams of the SymNet estimators: no silent constant predictor.

A stream has no final training set to compare with the constant predictor,
so each call's rows are scored before the update on them (prequential) and a
stream no better than the constant predictor of the rows seen before warns
(``_symnet_base._StreamCheck``).  The fixes of the one-row stream that used
to end at the majority class without a warning are tested here too, and the
guard's threshold that drops to the constant predictor's loss.
"""

import warnings

import numpy as np
import pytest
from scipy.special import logit
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sklipschitz import SymNetClassifier, SymNetRegressor
from sklipschitz._engine.losses import (
    AbsoluteError,
    BinomialLoss,
    HalfSquaredError,
)
from sklipschitz._symnet_base import _STREAM_CALLS, _STREAM_ROWS, _StreamCheck

_NOTHING = "no better than that of the constant predictor"


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _stream(est, X, y, chunk, **kw):
    for s in range(0, X.shape[0], chunk):
        est.partial_fit(X[s:s + chunk], y[s:s + chunk], **kw)
    return est


def test_one_row_stream_of_three_sbaf_layers_learns(cancer):
    """Three SBAF layers of 32, rows 0-149 one at a time, seed 1: the
    majority class (accuracy 0.627) without a warning before.  Rows 0-18 are
    all of class 0: the output started at logit(1e-12) = -27.6, and row 19
    came with a residual of 1 at rates computed for the flat point there (the
    local curvature p (1 - p) raised to a tenth of its supremum): the step
    saturated the hidden units.  Now 0.946, within 0.03 of a logistic
    regression fitted on the same rows, scored on all rows."""
    X, y = cancer
    reference = LogisticRegression().fit(X[:150], y[:150]).score(X, y)
    clf = SymNetClassifier(hidden_layer_sizes=(32, 32, 32), random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        _stream(clf, X[:150], y[:150], 1, classes=[0, 1])
    assert clf.score(X, y) >= reference - 0.03


def test_stream_starts_at_laplace_smoothed_class_frequencies(cancer):
    """The first call's frequencies with one pseudo-row per class (the exact
    frequencies of one row are 0 and 1: an output at -27.6)."""
    X, y = cancer
    clf = SymNetClassifier(hidden_layer_sizes=(4,), max_iter=1, learning_rate=1e-12,
                           random_state=0)
    clf.partial_fit(X[:1], [0], classes=[0, 1])
    np.testing.assert_allclose(clf.intercepts_[-1], [logit(1 / 3)], rtol=1e-9)
    # three classes, two rows of class 2 and one of class 0
    clf = SymNetClassifier(hidden_layer_sizes=(4,), max_iter=1, learning_rate=1e-12,
                           random_state=0)
    clf.partial_fit(X[:3], [2, 0, 2], classes=[0, 1, 2])
    log_p = np.log(np.array([2, 1, 3]) / 6)  # the softmax's centred log-odds
    np.testing.assert_allclose(clf.intercepts_[-1], log_p - log_p.mean(), rtol=1e-9)


@pytest.mark.parametrize("chunk, n", [(1, _STREAM_ROWS + 10), (10, 400)])
def test_stream_learning_nothing_warns_once(chunk, n):
    """Labels independent of X: the network cannot beat the class
    frequencies of the earlier rows; one warning per stream."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 5))
    y = rng.integers(0, 2, X.shape[0])
    clf = SymNetClassifier(hidden_layer_sizes=(16,), random_state=0)
    with pytest.warns(ConvergenceWarning, match=_NOTHING) as record:
        _stream(clf, X, y, chunk, classes=[0, 1])
    assert sum(_NOTHING in str(w.message) for w in record) == 1


@pytest.mark.parametrize("loss", ["squared_error", "absolute_error"])
def test_regression_stream_learning_nothing_warns(loss):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 5))
    y = 50.0 * rng.standard_normal(300) + 10.0
    reg = SymNetRegressor(hidden_layer_sizes=(16,), loss=loss, random_state=0)
    with pytest.warns(ConvergenceWarning, match=_NOTHING):
        _stream(reg, X, y, 5)


def test_learning_streams_do_not_warn(cancer):
    # one pass of 30 calls of 10 rows; the scores on all rows, mean over seeds
    # 0-2 (the regressor's single seeds range over 0.89-0.93)
    X, y = cancer
    target = X[:, 0] - X[:, 1]
    clf_scores, reg_scores = [], []
    for seed in range(3):
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            clf = _stream(SymNetClassifier(random_state=seed), X[:300], y[:300], 10,
                          classes=[0, 1])
            reg = _stream(SymNetRegressor(random_state=seed), X[:300], target[:300], 10)
        clf_scores.append(clf.score(X, y))
        reg_scores.append(reg.score(X, target))
    assert np.mean(clf_scores) > 0.9
    assert np.mean(reg_scores) > 0.9


def test_fit_ends_the_stream_check(cancer):
    """A fit between streams starts a new check (the warning comes once per stream)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5))
    y = rng.integers(0, 2, 300)
    clf = SymNetClassifier(random_state=0)
    with pytest.warns(ConvergenceWarning, match=_NOTHING):
        _stream(clf, X, y, 10, classes=[0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf._stream is None
    # a new stream of fresh noise (the fitted network has learned the noise
    # of X, y: on those rows it beats the constant predictor)
    X2 = rng.standard_normal((300, 5))
    y2 = rng.integers(0, 2, 300)
    with pytest.warns(ConvergenceWarning, match=_NOTHING):
        _stream(clf, X2, y2, 10)


def _manual_prequential(loss, chunks, raws, constant_of):
    """The prequential means (row t weighted by t^3), computed row by row."""
    seen, model, const, weight, t = [], 0.0, 0.0, 0.0, 0
    for (Y, w), raw in zip(chunks, raws):
        if seen:
            c = constant_of(np.vstack([s[0] for s in seen]), np.concatenate([s[1] for s in seen]))
            for i in range(Y.shape[0]):
                v = w[i] * (t + 1 + i) ** 3
                model += v * float(loss.loss(Y[i:i + 1], raw[i:i + 1])[0])
                const += v * float(loss.loss(Y[i:i + 1], np.atleast_2d(c))[0])
                weight += v
        seen.append((Y, w))
        t += Y.shape[0]
    return model / weight, const / weight


@pytest.mark.parametrize("kind", ["binary", "squared_error", "absolute_error"])
def test_stream_check_sums_against_a_row_by_row_computation(kind):
    rng = np.random.default_rng(3)
    sizes = [1, 3, 1, 7, 2, 5]
    if kind == "binary":
        loss = BinomialLoss()

        def constant_of(Y, w):  # one pseudo-row per class, of the mean weight
            return logit((w @ Y + w.mean()) / (w.sum() + 2.0 * w.mean()))
        make = lambda n: (rng.integers(0, 2, (n, 1)).astype(float))  # noqa: E731
        check = _StreamCheck(n_classes=2)
    else:
        loss = HalfSquaredError() if kind == "squared_error" else AbsoluteError()

        def constant_of(Y, w):
            if kind == "squared_error":
                return (w @ Y) / w.sum()
            return loss.constant_raw(Y, w)
        make = lambda n: rng.standard_normal((n, 1)) * 3.0  # noqa: E731
        check = _StreamCheck()
    chunks = [(make(n), rng.uniform(0.5, 2.0, n)) for n in sizes]
    raws = [rng.standard_normal((Y.shape[0], 1)) for Y, _ in chunks]
    for (Y, w), raw in zip(chunks, raws):
        check.judge(loss, Y, w, raw)
    s = check.s
    model, const = _manual_prequential(loss, chunks, raws, constant_of)
    np.testing.assert_allclose(s["sums"][0] / s["sums"][2], model, rtol=1e-12)
    np.testing.assert_allclose(s["sums"][1] / s["sums"][2], const, rtol=1e-12)
    assert s["rows"] == sum(sizes) and s["calls"] == len(sizes) - 1


def test_stream_check_waits_for_rows_and_calls():
    """No verdict before _STREAM_ROWS rows in _STREAM_CALLS scored calls,
    even for a network far worse than the constant."""
    loss = HalfSquaredError()
    check = _StreamCheck()
    Y = np.ones((_STREAM_ROWS // 2, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for _ in range(4):  # 400 rows, 3 scored calls
            check.judge(loss, Y, np.ones(Y.shape[0]), Y + 5.0)
        for _ in range(_STREAM_CALLS - 4):
            check.judge(loss, Y[:1], np.ones(1), Y[:1] + 5.0)
    with pytest.warns(ConvergenceWarning, match=_NOTHING):
        check.judge(loss, Y[:1], np.ones(1), Y[:1] + 5.0)


def test_reservoir_keeps_a_uniform_sample():
    """Beyond _RESERVOIR_ROWS rows the median-type constant comes from a
    uniform sample: the fraction of the stream's second half in it is
    about one half."""
    from sklipschitz._symnet_base import _RESERVOIR_ROWS

    loss = AbsoluteError()
    check = _StreamCheck()
    n = 20 * _RESERVOIR_ROWS
    Y = np.arange(n, dtype=float)[:, None]
    for s in range(0, n, 37):
        check.judge(loss, Y[s:s + 37], np.ones(Y[s:s + 37].shape[0]), Y[s:s + 37])
    sample = check.s["sample"][:, 0]
    assert sample.shape == (_RESERVOIR_ROWS,) and len(np.unique(sample)) == _RESERVOIR_ROWS
    assert abs(np.mean(sample >= n / 2) - 0.5) < 0.07


def test_guard_threshold_drops_to_the_constant_once_below_it():
    """The guard's threshold is the larger of the initial and the constant
    predictor's loss; once an epoch has ended below the constant's, an epoch
    that ends above it is undone."""
    from types import SimpleNamespace

    from sklipschitz._symnet_base import _EndLossGuard

    ends = iter([0.55, 0.3, 0.45, 0.52])
    guard = _EndLossGuard(0.6, lambda c, i: next(ends), start=0.6, constant=0.5)
    state = SimpleNamespace(coefs=None, intercepts=None)
    assert not guard.is_bad(0.58, state)   # 0.55: above the constant, below 0.6
    assert guard.threshold == 0.6
    assert not guard.is_bad(0.4, state)    # 0.3: below the constant
    assert guard.threshold == 0.5
    assert not guard.is_bad(0.35, state)   # 0.45
    assert guard.is_bad(0.4, state)        # 0.52 > 0.5: undone


def test_wide_relu_layer_does_not_end_on_an_epoch_worse_than_the_constant():
    """One layer of 512 ReLU units on diabetes (seed 0) ended its last epoch
    at a loss above the constant predictor's (under the initial loss, the
    old threshold): R^2 -0.143 with a warning.  Now within 0.05 of linear
    regression's training R^2."""
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LinearRegression

    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    reference = LinearRegression().fit(X, y).score(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = SymNetRegressor(hidden_layer_sizes=(512,), activation="relu",
                              random_state=0).fit(X, y)
    assert reg.score(X, y) >= reference - 0.05


def test_stream_check_survives_saving(tmp_path):
    """The check's state is plain values: a model saved mid-stream (pickle or
    model file) continues the same check."""
    import pickle

    from sklipschitz.cli import modelfile

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = X[:, 0] + 0.1 * rng.standard_normal(40)
    reg = SymNetRegressor(hidden_layer_sizes=(4,), loss="absolute_error", random_state=0)
    for s in range(0, 30, 5):
        reg.partial_fit(X[s:s + 5], y[s:s + 5])
    modelfile.dump(reg, tmp_path / "m.skl")
    copies = [pickle.loads(pickle.dumps(reg)), modelfile.load(tmp_path / "m.skl")]
    for est in [reg, *copies]:
        est.partial_fit(X[30:], y[30:])
    for est in copies:
        assert est._stream["rows"] == reg._stream["rows"] == 40
        np.testing.assert_allclose(est._stream["sums"], reg._stream["sums"], rtol=1e-12)
        np.testing.assert_array_equal(est._stream["sample"], reg._stream["sample"])


@pytest.mark.parametrize("Est", [SymNetRegressor, SymNetClassifier])
def test_partial_fit_with_other_layers_mid_stream_raises_clearly(Est):
    """hidden_layer_sizes changed between partial_fit calls: a ValueError that
    names both networks (it was a matmul shape error), and the stream goes on
    once the sizes are set back."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 5))
    y = (X[:, 0] > 0).astype(int)
    kw = {"classes": [0, 1]} if Est is SymNetClassifier else {}
    est = Est(hidden_layer_sizes=(8, 8), random_state=0).partial_fit(X[:200], y[:200], **kw)
    before = [W.copy() for W in est.coefs_]
    est.set_params(hidden_layer_sizes=(4, 4))
    with pytest.raises(ValueError, match=r"now \(5, 4, 4, .*were \(5, 8, 8, "):
        est.partial_fit(X[200:], y[200:])
    for W, W0 in zip(est.coefs_, before):
        np.testing.assert_array_equal(W, W0)
    est.set_params(hidden_layer_sizes=(8, 8)).partial_fit(X[200:], y[200:])
    assert est.n_iter_ >= 2
