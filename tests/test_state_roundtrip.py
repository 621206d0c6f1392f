"""A saved estimator holds only plain values and public classes, and continues
training after loading exactly as the unsaved one does.

The engine's training state (loop state, step rule, update, power iterations,
penalty) is turned into plain values by ``LipschitzEstimator.__getstate__``
(``sklipschitz._engine.state``); pickle, ``copy``, the command line's model
files and skops all go through it.
"""

import inspect

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.datasets import load_diabetes, load_iris
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklipschitz
from sklipschitz._engine import activations, loop, network_lipschitz, penalties, steps, updates
from sklipschitz._engine.state import CLASSES, TAG, from_plain, to_plain

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

_X, _y = load_diabetes(return_X_y=True)
_X = (_X - _X.mean(0)) / _X.std(0)
_y = (_y - _y.mean()) / _y.std()
_Xi, _yi = load_iris(return_X_y=True)
_order = np.random.default_rng(0).permutation(len(_Xi))
_Xi, _yi = _Xi[_order], np.array(["setosa", "versicolor", "virginica"])[_yi[_order]]

PUBLIC_CLASSES = {
    getattr(sklipschitz, name) for name in sklipschitz.__all__
    if inspect.isclass(getattr(sklipschitz, name))
}


def _data(kind):
    return (_Xi, _yi) if kind == "clf" else (_X[:240], _y[:240])


def _chunks(X, y, n=4):
    size = len(X) // n
    return [(X[i * size:(i + 1) * size], y[i * size:(i + 1) * size]) for i in range(n)]


_CLASSES = ["setosa", "versicolor", "virginica"]

# (estimator, data kind, how it starts: 'partial' (partial_fit on the first chunk),
# 'fit' (fit on the first chunk, then partial_fit) or 'warm' (fit, then fit again))
CONTINUE_CASES = [
    (sklipschitz.LipschitzRegressor(solver="gd", batch_size=20, random_state=0), "reg",
     "partial"),
    (sklipschitz.LipschitzRegressor(solver="gd", learning_rate="local", max_iter=4,
                                    random_state=0), "reg", "fit"),
    (sklipschitz.LipschitzRegressor(solver="exact"), "reg", "fit"),
    (sklipschitz.LipschitzRegressor(loss="quantile", tikhonov=0.1 * np.eye(10), average=True,
                                    batch_size=30, random_state=0), "reg", "partial"),
    (sklipschitz.LipschitzRegressor(solver="gd", max_iter=3, warm_start=True, random_state=0),
     "reg", "warm"),
    (sklipschitz.LipschitzQuantileClassifier(batch_size=20, random_state=0), "clf", "partial"),
    (sklipschitz.LipschitzQuantileClassifier(optimizer="nesterov", batch_size=20,
                                             random_state=0), "clf", "partial"),
    (sklipschitz.LipschitzQuantileClassifier(max_iter=20), "clf", "fit"),
    (sklipschitz.SymNetClassifier(hidden_layer_sizes=(5,), random_state=0), "clf", "partial"),
    (sklipschitz.SymNetClassifier(hidden_layer_sizes=(5,), max_iter=3, warm_start=True,
                                  early_stopping=True, random_state=0), "clf", "warm"),
    (sklipschitz.SymNetRegressor(hidden_layer_sizes=(5, 3), optimizer="adam", random_state=0),
     "reg", "partial"),
    (sklipschitz.SymNetRegressor(hidden_layer_sizes=(6,), optimizer="momentum", batch_size=16,
                                 learning_rate=0.01, random_state=0), "reg", "partial"),
]


def _weights(est):
    """Every fitted array and history the estimator exposes."""
    out = {}
    for attr in ("coef_", "intercept_", "quantile_coef_", "quantile_intercept_", "coefs_",
                 "intercepts_", "n_iter_", "loss_curve_", "learning_rate_history_",
                 "lipschitz_constant_"):
        if hasattr(est, attr):
            value = getattr(est, attr)
            out[attr] = [np.asarray(v) for v in value] if isinstance(value, list) else value
    return out


def _assert_same_weights(a, b):
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys() and wa
    for key in wa:
        if isinstance(wa[key], list):
            assert len(wa[key]) == len(wb[key]), key
            for p, q in zip(wa[key], wb[key]):
                np.testing.assert_array_equal(p, q, err_msg=key)
        else:
            np.testing.assert_array_equal(wa[key], wb[key], err_msg=key)


def _case_id(value):
    return type(value).__name__ if isinstance(value, BaseEstimator) else None


def _start(est, kind, how):
    X, y = _data(kind)
    chunks = _chunks(X, y)
    kw = {"classes": _CLASSES} if kind == "clf" and how == "partial" else {}
    if how == "partial":
        est.partial_fit(*chunks[0], **kw)
        est.partial_fit(*chunks[1])
    else:
        est.fit(*chunks[0])
    return chunks


def _go_on(est, chunks, how):
    """Three more calls: partial_fit on the next chunks, or warm-started fits."""
    for X, y in chunks[1:]:
        if how == "warm":
            est.fit(X, y)
        else:
            est.partial_fit(X, y)


@pytest.mark.parametrize("estimator, kind, how", CONTINUE_CASES, ids=_case_id)
def test_training_continues_exactly_after_a_round_trip(estimator, kind, how, round_trip):
    from sklearn.base import clone

    est = clone(estimator)
    chunks = _start(est, kind, how)
    loaded = round_trip(est)
    assert type(loaded) is type(est)
    _assert_same_weights(loaded, est)
    _go_on(est, chunks, how)
    _go_on(loaded, chunks, how)
    _assert_same_weights(loaded, est)
    X = chunks[0][0]
    if hasattr(est, "predict_proba"):
        np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


# -- what a saved estimator holds ---------------------------------------------------


def _fitted_public_estimators():
    X, y = _data("reg")
    Xc, yc = _data("clf")
    fitted = [
        sklipschitz.LipschitzRegressor().fit(X, y),
        sklipschitz.LipschitzRegressor(solver="gd", max_iter=5, random_state=0).fit(X, y),
        sklipschitz.LipschitzRegressor(tikhonov=0.1 * np.eye(10), alpha=0.01,
                                       penalty="l1").fit(X, y),
        sklipschitz.LipschitzRegressor(batch_size=40, random_state=0).partial_fit(X, y),
        sklipschitz.LipschitzRegressorCV(n_alphas=3, cv=3).fit(X, y),
        sklipschitz.LipschitzQuantileClassifier(max_iter=20).fit(Xc, yc),
        sklipschitz.LipschitzQuantileClassifier(batch_size=30, random_state=0).partial_fit(
            Xc, yc, classes=_CLASSES),
        sklipschitz.SymNetClassifier(hidden_layer_sizes=(5,), max_iter=5,
                                     random_state=0).fit(Xc, yc),
        sklipschitz.SymNetRegressor(hidden_layer_sizes=(4, 3), optimizer="adam", max_iter=5,
                                    random_state=0).fit(X, y),
        sklipschitz.SymNetRegressor(hidden_layer_sizes=(4,), optimizer="momentum",
                                    batch_size=32, max_iter=3, random_state=0).fit(X, y),
        sklipschitz.SBAFRandomFeatures(n_components=10, random_state=0).fit(X),
        sklipschitz.SBAFKernel(k=0.5, degree=3),
        make_pipeline(StandardScaler(), sklipschitz.LipschitzRegressor()).fit(X, y),
    ]
    assert {type(e) for e in fitted} | {sklipschitz.SymNetRegressor} >= {
        c for c in PUBLIC_CLASSES if issubclass(c, BaseEstimator)}
    return fitted


def _private_types(value, seen=None):
    """The classes of the package's modules, other than its public ones, in ``value``
    (estimators looked into through ``__getstate__``, as pickle does)."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return set()
    seen.add(id(value))
    found = set()
    cls = type(value)
    if cls.__module__.startswith("sklipschitz") and cls not in PUBLIC_CLASSES:
        found.add(f"{cls.__module__}.{cls.__qualname__}")
    if isinstance(value, BaseEstimator):
        value = value.__getstate__()
    if isinstance(value, dict):
        for k, v in value.items():
            found |= _private_types(k, seen) | _private_types(v, seen)
    elif isinstance(value, (list, tuple)):
        for v in value:
            found |= _private_types(v, seen)
    elif isinstance(value, np.ndarray) and value.dtype == object:
        for v in value.flat:
            found |= _private_types(v, seen)
    elif hasattr(value, "__dict__") and not isinstance(value, type):
        found |= _private_types(vars(value), seen)
    return found


def test_saved_state_names_no_private_class():
    for est in _fitted_public_estimators():
        assert _private_types(est) == set(), type(est).__name__
        # ... while the live estimator keeps its engine objects (nothing converted in place)
        if hasattr(est, "_train_state"):
            assert isinstance(est._train_state, loop.TrainState)


def test_skops_trusts_only_public_classes():
    sio = pytest.importorskip("skops.io")  # not a dependency (it needs numpy >= 1.25)
    public = {f"{c.__module__}.{c.__qualname__}" for c in PUBLIC_CLASSES}
    X, y = _data("reg")
    Xc, yc = _data("clf")
    for est in _fitted_public_estimators():
        data = sio.dumps(est)
        untrusted = sio.get_untrusted_types(data=data)
        assert set(untrusted) <= public, type(est).__name__
        loaded = sio.loads(data, trusted=untrusted)
        if isinstance(est, sklipschitz.SBAFKernel):
            np.testing.assert_array_equal(loaded(X[:5], X[:4]), est(X[:5], X[:4]))
            continue
        data_X = Xc if hasattr(est, "classes_") else X
        method = "transform" if isinstance(est, sklipschitz.SBAFRandomFeatures) else "predict"
        np.testing.assert_array_equal(getattr(loaded, method)(data_X),
                                      getattr(est, method)(data_X))


def test_skops_round_trip_continues_partial_fit_exactly():
    sio = pytest.importorskip("skops.io")
    X, y = _data("clf")
    chunks = _chunks(X, y)
    est = sklipschitz.SymNetClassifier(hidden_layer_sizes=(5,), random_state=0)
    est.partial_fit(*chunks[0], classes=_CLASSES)
    data = sio.dumps(est)
    loaded = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    _go_on(est, chunks, "partial")
    _go_on(loaded, chunks, "partial")
    _assert_same_weights(loaded, est)


# -- the conversion itself ------------------------------------------------------------


def _engine_objects():
    state = loop.TrainState(coefs=[np.ones((3, 2))], intercepts=[np.zeros(2)], n_iter=4)
    state.step_state = steps.StepState(lipschitz=np.array([2.0, 3.0]), epoch=2,
                                       prev_params=[np.ones(2)])
    power = network_lipschitz.PowerIteration(seed=3)
    power.spectral_norm(("W", 0), np.arange(6.0).reshape(3, 2))
    schedule = network_lipschitz.EstimateSchedule(2)
    schedule.combine([1.0, 2.0], [0.5, 2.0], spacing=[3, 1])  # one kept ratio, one inf
    return [
        state, state.step_state, steps.LipschitzStep(decay=True), steps.ConstantStep(0.1),
        steps.LocalStep(per_column=True, octave_steps=8),
        *(cls() for cls in updates.UPDATES.values()),
        network_lipschitz.CentredUpdate(updates.Adam()), power, schedule,
        penalties.Tikhonov(np.eye(3), 3),
        *(make() for make in activations.ACTIVATIONS.values()),
        activations.SBAF(k=0.5, input_map="clip"),
    ]


def _plain_only(value):
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_only(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain_only(v) for v in value)
    return isinstance(value, (int, float, str, type(None), np.ndarray, np.generic,
                              np.random.RandomState))


def _assert_equal_plain(a, b):
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _assert_equal_plain(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for p, q in zip(a, b):
            _assert_equal_plain(p, q)
    elif isinstance(a, np.random.RandomState):
        _assert_equal_plain(list(a.get_state()), list(b.get_state()))
    else:
        np.testing.assert_array_equal(a, b)


def test_every_registered_class_round_trips_through_plain_values():
    objects = _engine_objects()
    assert {type(o) for o in objects} == set(CLASSES.values())
    for obj in objects:
        plain = to_plain(obj)
        assert plain[TAG] == type(obj).__name__ and _plain_only(plain)
        back = from_plain(plain)
        assert type(back) is type(obj) and back is not obj
        assert back.__dict__.keys() == obj.__dict__.keys()
        _assert_equal_plain(to_plain(back), plain)
    # arrays are shared, not copied (weights held twice stay one array)
    state = objects[0]
    assert from_plain(to_plain(state)).coefs[0] is state.coefs[0]
    # the power iterations' tuple keys come back as tuples
    power = next(o for o in objects if isinstance(o, network_lipschitz.PowerIteration))
    back = from_plain(to_plain(power))
    assert list(back._vectors) == [("W", 0)]
    _assert_equal_plain(back._rng, power._rng)


def test_plain_values_name_only_registered_classes():
    with pytest.raises(ValueError, match="engine state type 'os.system' is not one of"):
        from_plain({TAG: "os.system"})
    with pytest.raises(ValueError, match="engine state type 'DenseNetwork' is not one of"):
        from_plain([{"a": {TAG: "DenseNetwork"}}])
    with pytest.raises(ValueError, match="StepState: invalid attribute name '__class__'"):
        from_plain({TAG: "StepState", "__class__": "x"})
    with pytest.raises(ValueError, match="'items' is not a list"):
        from_plain({TAG: "tuple", "items": "ab"})
    with pytest.raises(ValueError, match="as many keys as values"):
        from_plain({TAG: "dict", "keys": [1, 2], "values": [3]})
    with pytest.raises(ValueError, match="reserved key"):
        to_plain({TAG: 1})
    # a state saved before a field was added gets the field's default
    back = from_plain({TAG: "TrainState", "coefs": [], "intercepts": []})
    assert back.n_iter == 0 and back.loss_curve == [] and back.step_state is None


@pytest.mark.parametrize("round_trip", ["pickle"], indirect=True)
def test_a_network_that_does_not_match_the_weights_is_refused(round_trip):
    est = sklipschitz.SymNetRegressor(hidden_layer_sizes=(4,), max_iter=2,
                                      random_state=0).fit(*_data("reg"))
    state = est.__getstate__()
    assert state["_network"]["layer_sizes"] == [10, 4, 1]
    assert state["_network"]["activation"] == to_plain(est._network.activation)
    bad = dict(state, _network=dict(state["_network"], layer_sizes=[10, 5, 1]))
    with pytest.raises(ValueError, match="layer sizes do not match its weights"):
        sklipschitz.SymNetRegressor().__setstate__(bad)
    bad = dict(state, _network=dict(state["_network"],
                                    activation=to_plain(activations.ReLU())))
    with pytest.raises(ValueError, match="activation is not activation='sbaf'"):
        sklipschitz.SymNetRegressor().__setstate__(bad)
    # the activation is saved, not searched again: its constants come back as they were
    loaded = round_trip(est)
    assert vars(loaded._network.activation) == vars(est._network.activation)
    # a state without the activation builds it from the parameters
    del state["_network"]["activation"]
    rebuilt = sklipschitz.SymNetRegressor(**est.get_params())
    rebuilt.__setstate__(state)
    np.testing.assert_array_equal(rebuilt.predict(_X[:20]), est.predict(_X[:20]))
