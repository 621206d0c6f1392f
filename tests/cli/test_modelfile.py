"""Safe model files: every estimator of the package round-trips, nothing in a file
is executed, and pickles load only with --trust-pickle."""

import inspect
import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.datasets import load_diabetes, load_iris
from sklearn.preprocessing import FunctionTransformer

import sklipschitz
from sklipschitz.cli import modelfile

from ._util import assert_one_line_error, run

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

PUBLIC_ESTIMATORS = sorted(
    name for name in sklipschitz.__all__
    if inspect.isclass(getattr(sklipschitz, name))
    and issubclass(getattr(sklipschitz, name), BaseEstimator)
)

# name -> (estimator, data, methods compared after loading)
_X, _y = load_diabetes(return_X_y=True)
_X = (_X - _X.mean(0)) / _X.std(0)
_y = (_y - _y.mean()) / _y.std()
_Xi, _yi = load_iris(return_X_y=True)
_labels = np.array(["setosa", "versicolor", "virginica"])[_yi]
CASES = {
    "LipschitzRegressor": [
        (sklipschitz.LipschitzRegressor(), "reg", ["predict"]),
        (sklipschitz.LipschitzRegressor(loss="quantile", quantile=0.8, solver="gd",
                                        max_iter=20), "reg", ["predict"]),
        (sklipschitz.LipschitzRegressor(loss="log_cosh"), "multi", ["predict"]),
        (sklipschitz.LipschitzRegressor(alpha=0.01, penalty="l1"), "reg", ["predict"]),
    ],
    "LipschitzRegressorCV": [
        (sklipschitz.LipschitzRegressorCV(loss="quantile", quantile=0.7, penalty="l1",
                                          n_alphas=4, cv=3), "reg", ["predict"]),
    ],
    "LipschitzQuantileClassifier": [
        (sklipschitz.LipschitzQuantileClassifier(max_iter=30), "clf",
         ["predict", "predict_proba", "decision_function"]),
    ],
    "SymNetClassifier": [
        (sklipschitz.SymNetClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0),
         "clf", ["predict", "predict_proba"]),
    ],
    "SymNetRegressor": [
        (sklipschitz.SymNetRegressor(hidden_layer_sizes=(6, 3), max_iter=5, random_state=0),
         "multi", ["predict"]),
        (sklipschitz.SymNetRegressor(hidden_layer_sizes=(), max_iter=5), "reg", ["predict"]),
    ],
    "SBAFRandomFeatures": [
        (sklipschitz.SBAFRandomFeatures(n_components=20, random_state=0), "reg",
         ["transform"]),
    ],
    "SBAFKernel": [(sklipschitz.SBAFKernel(k=0.5, degree=5), None, ["__call__"])],
}


def _data(kind):
    if kind == "clf":
        return _Xi, _labels
    if kind == "multi":
        return _X[:200], np.c_[_y[:200], -_y[:200]]
    return _X[:200], _y[:200]


def _roundtrip(obj):
    buf = io.BytesIO()
    modelfile.dump(obj, buf)
    buf.seek(0)
    return modelfile.load(buf)


def test_every_public_estimator_is_allowed_and_tested():
    allowed = {name.split(".")[-1] for name in modelfile.ALLOWED_CLASSES
               if name.startswith("sklipschitz.")}
    assert set(PUBLIC_ESTIMATORS) == allowed
    assert set(PUBLIC_ESTIMATORS) == set(CASES)


@pytest.mark.parametrize("estimator, kind, methods",
                         [case for cases in CASES.values() for case in cases],
                         ids=lambda v: type(v).__name__ if isinstance(v, BaseEstimator) else "")
def test_fitted_estimator_round_trip_predicts_identically(estimator, kind, methods):
    if kind is None:  # a kernel: nothing to fit
        loaded = _roundtrip(estimator)
        np.testing.assert_array_equal(loaded(_X[:7], _X[:5]), estimator(_X[:7], _X[:5]))
        assert loaded.get_params() == estimator.get_params()
        return
    X, y = _data(kind)
    estimator.fit(X, y)
    loaded = _roundtrip(estimator)
    assert type(loaded) is type(estimator)
    assert loaded.get_params() == estimator.get_params()
    for method in methods:
        np.testing.assert_array_equal(getattr(loaded, method)(X), getattr(estimator, method)(X))
    for attr in ("coef_", "intercept_", "coefs_", "classes_", "n_iter_", "loss_curve_",
                 "lipschitz_constant_", "weights_"):
        if hasattr(estimator, attr):
            a, b = getattr(estimator, attr), getattr(loaded, attr)
            if isinstance(a, list):
                assert len(a) == len(b)
                for p, q in zip(a, b):
                    np.testing.assert_array_equal(p, q)
            else:
                np.testing.assert_array_equal(a, b)
    # a loaded model can be trained again like a new one
    loaded.fit(X, y)
    estimator.fit(X, y)
    for method in methods:
        a, b = getattr(loaded, method)(X), getattr(estimator, method)(X)
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=1e-10)
        else:
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("estimator, kind, kw", [
    (sklipschitz.LipschitzRegressor(batch_size=50, random_state=0), "reg", {}),
    (sklipschitz.LipschitzRegressor(learning_rate="local", loss="quantile", random_state=0,
                                    tikhonov=0.1 * np.eye(10), average=True), "reg", {}),
    (sklipschitz.LipschitzQuantileClassifier(batch_size=40, random_state=0), "clf",
     {"classes": ["setosa", "versicolor", "virginica"]}),
    (sklipschitz.SymNetClassifier(hidden_layer_sizes=(5,), random_state=0), "clf",
     {"classes": ["setosa", "versicolor", "virginica"]}),
    (sklipschitz.SymNetRegressor(hidden_layer_sizes=(5, 3), optimizer="adam", random_state=0),
     "reg", {}),
    (sklipschitz.SymNetRegressor(hidden_layer_sizes=(5,), optimizer="momentum", batch_size=64,
                                 random_state=0), "reg", {}),
], ids=lambda v: type(v).__name__ if isinstance(v, BaseEstimator) else "")
def test_partial_fit_continues_a_loaded_model_exactly(estimator, kind, kw):
    X, y = _data(kind)
    order = np.random.default_rng(0).permutation(len(X))
    X, y = X[order], y[order]
    n = len(X) // 3
    estimator.partial_fit(X[:n], y[:n], **kw)
    estimator.partial_fit(X[n:2 * n], y[n:2 * n])
    loaded = _roundtrip(estimator)
    estimator.partial_fit(X[2 * n:], y[2 * n:])
    loaded.partial_fit(X[2 * n:], y[2 * n:])
    method = "predict_proba" if kind == "clf" else "predict"
    np.testing.assert_array_equal(getattr(loaded, method)(X), getattr(estimator, method)(X))
    assert loaded.n_iter_ == estimator.n_iter_


@pytest.mark.parametrize("estimator, kind", [
    (sklipschitz.LipschitzRegressor(solver="gd", max_iter=5, warm_start=True, random_state=0),
     "reg"),
    (sklipschitz.SymNetClassifier(hidden_layer_sizes=(5,), max_iter=3, warm_start=True,
                                  early_stopping=True, random_state=0), "clf"),
], ids=lambda v: type(v).__name__ if isinstance(v, BaseEstimator) else "")
def test_warm_start_continues_a_loaded_model_exactly(estimator, kind):
    X, y = _data(kind)
    estimator.fit(X, y)
    loaded = _roundtrip(estimator)
    np.testing.assert_array_equal(loaded.fit(X, y).predict(X), estimator.fit(X, y).predict(X))


def test_training_state_that_cannot_be_saved_is_left_out_with_a_warning():
    est = sklipschitz.LipschitzRegressor(solver="gd", max_iter=3).fit(_X, _y)
    est._train_state.opt_state = lambda: None  # not plain data
    buf = io.BytesIO()
    with pytest.warns(UserWarning, match="training state of LipschitzRegressor is not saved"):
        modelfile.dump(est, buf)
    buf.seek(0)
    loaded = modelfile.load(buf)
    assert not hasattr(loaded, "_train_state")
    np.testing.assert_array_equal(loaded.predict(_X), est.predict(_X))
    with zipfile.ZipFile(buf) as z:  # no orphan arrays of the dropped state
        header = json.loads(z.read(modelfile.HEADER))
        stored = {n for n in z.namelist() if n != modelfile.HEADER}
    assert stored == set(_array_paths(header))


def _array_paths(node):
    if isinstance(node, dict):
        if "path" in node:
            yield node["path"]
        for value in node.values():
            yield from _array_paths(value)
    elif isinstance(node, list):
        for value in node:
            yield from _array_paths(value)


def test_shared_arrays_stay_shared():
    est = sklipschitz.SymNetRegressor(hidden_layer_sizes=(4,), max_iter=2,
                                      random_state=0).fit(_X, _y)
    assert est.coefs_[0] is est._train_state.coefs[0]
    loaded = _roundtrip(est)
    assert loaded.coefs_[0] is loaded._train_state.coefs[0]


def test_unfitted_estimator_and_plain_values_round_trip():
    value = {"a": [1, 2.5, None, "x", True], "b": (np.float32(1.5), np.arange(3)),
             "c": float("nan"), "d": slice(0, 3, None), "e": np.int64,
             "f": np.array(["a", "bb"], dtype=object),
             "g": sklipschitz.SymNetClassifier(hidden_layer_sizes=(3,)),
             "h": {(1, "a"): 2, 3: [4]}, "i": sp.csr_matrix(np.eye(3)),
             "j": np.random.RandomState(5)}
    loaded = _roundtrip(value)
    assert loaded["a"] == value["a"] and isinstance(loaded["b"], tuple)
    assert loaded["b"][0] == np.float32(1.5) and loaded["b"][0].dtype == np.float32
    np.testing.assert_array_equal(loaded["b"][1], np.arange(3))
    assert np.isnan(loaded["c"]) and loaded["d"] == slice(0, 3, None) and loaded["e"] is np.int64
    assert loaded["f"].dtype == object and list(loaded["f"]) == ["a", "bb"]
    assert loaded["g"].get_params() == value["g"].get_params()
    assert loaded["h"] == {(1, "a"): 2, 3: [4]}
    assert sp.isspmatrix_csr(loaded["i"]) and (loaded["i"] != value["i"]).nnz == 0
    np.testing.assert_array_equal(loaded["j"].standard_normal(4), value["j"].standard_normal(4))


def test_values_the_format_cannot_hold_are_named_at_save_time():
    with pytest.raises(modelfile.ModelFileError,
                       match=r"model\.func: a numpy\.ufunc cannot be saved"):
        modelfile.dump(FunctionTransformer(func=np.log), io.BytesIO())
    with pytest.raises(modelfile.ModelFileError, match=r"model\[0\]: an array of dtype object"):
        modelfile.dump([np.array([1, "a"], dtype=object)], io.BytesIO())
    with pytest.raises(modelfile.ModelFileError, match="a dict key of type frozenset"):
        modelfile.dump({frozenset(): 2}, io.BytesIO())


def _tampered(tmp_path, edit=None, extra=None):
    """A model file of a fitted regressor with its header edited."""
    est = sklipschitz.LipschitzRegressor().fit(_X[:50], _y[:50])
    path = tmp_path / "model.skm"
    modelfile.dump(est, path)
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    header = json.loads(members[modelfile.HEADER])
    if edit:
        edit(header)
    members[modelfile.HEADER] = json.dumps(header).encode()
    members.update(extra or {})
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _plain(items):
    """A string-keyed dict as the model file's JSON tree stores it."""
    return {"__type__": "dict", "items": items}


def _pickle_array():
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.array([object()], dtype=object), allow_pickle=True)
    return buf.getvalue()


@pytest.mark.parametrize("edit, extra, message", [
    (lambda h: h["object"].update({"class": "os.system"}), None, "'os.system' is not one"),
    (lambda h: h["object"].update({"class": "sklearn.svm.SVC"}), None,
     "'sklearn.svm.SVC' is not one"),
    (lambda h: h["object"]["attrs"].update({"__class__": None}), None, "invalid attribute"),
    (lambda h: h["object"]["attrs"].update({"coef_": {"__type__": "ndarray",
                                                      "path": "arrays/evil.npy"}}),
     {"arrays/evil.npy": _pickle_array()}, "allow_pickle"),
    (lambda h: h["object"]["attrs"].update({"coef_": {"__type__": "dtype_type",
                                                      "name": "O"}}), None, "not allowed"),
    (lambda h: h["object"]["attrs"].update({"x": {"__type__": "pickle"}}), None,
     "unknown entry type"),
    (lambda h: h.update({"format_version": 99}), None, "format version 99"),
    # the training state is plain values; engine objects come from a closed registry
    (lambda h: h["object"]["attrs"].update({"_train_state": _plain({"__engine__": "os.system"})}),
     None, "engine state type 'os.system' is not one of"),
    (lambda h: h["object"]["attrs"].update({"_train_state": {"__type__": "state",
                                                             "class": "os.system"}}), None,
     "unknown entry type 'state'"),
    (lambda h: h["object"]["attrs"].update(
        {"_step_rule": _plain({"__engine__": "LocalStep", "__class__": "x"})}), None,
     "LocalStep: invalid attribute name '__class__'"),
    (lambda h: h["object"]["attrs"].update(
        {"_network": _plain({"__engine__": "network",
                           "layer_sizes": {"__type__": "list", "items": [10, 1]}})}), None,
     "LipschitzRegressor keeps no network"),
    (lambda h: h["object"]["attrs"].update({"_rng": {"__type__": "ref", "ref": 999}}), None,
     "reference .999. to nothing"),
    (lambda h: h["object"]["attrs"].update({"_rng": {"__type__": "ref", "ref": {}}}), None,
     "reference .{}. to nothing"),
    # parameters are validated before any use (a huge value could make a rebuild hang)
    (lambda h: h["object"]["params"].update({"alpha": -1.0}), None,
     "LipschitzRegressor: The 'alpha' parameter"),
    (lambda h: h["object"]["attrs"]["_rng"].update({"pos": 10 ** 30}), None,
     "malformed random state"),
])
def test_tampered_files_are_refused(tmp_path, edit, extra, message):
    path = _tampered(tmp_path, edit, extra)
    with pytest.raises(modelfile.ModelFileError, match=message):
        modelfile.load(path)


def test_other_versions_warn(tmp_path):
    path = _tampered(tmp_path, lambda h: h["versions"].update({"scikit-learn": "0.1"}))
    with pytest.warns(UserWarning, match=r"written with scikit-learn 0\.1 \(now"):
        loaded = modelfile.load(path)
    assert hasattr(loaded, "coef_")


class _WritesAFile:
    """Unpickling this object creates a file: what a malicious model file could do."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.makedirs, (self.path,))


def test_crafted_pickle_is_refused_unread_without_the_flag(capsys, diabetes_csv, tmp_path):
    data, _, _ = diabetes_csv
    marker = tmp_path / "pwned"
    crafted = tmp_path / "model.joblib"
    crafted.write_bytes(pickle.dumps({"format": "sklipschitz-csv-model",
                                      "payload": _WritesAFile(str(marker))}))
    code, out, err = run(capsys, "predict", str(crafted), data)
    assert code == 1 and out == ""
    assert_one_line_error(err, "not a model file", "pickle", "--trust-pickle")
    assert not marker.exists()
    # the flag means what it says: the pickle runs (then the bundle is found malformed)
    code, _, err = run(capsys, "predict", str(crafted), data, "--trust-pickle")
    assert marker.exists()
    assert code == 1
    assert_one_line_error(err, "malformed model file")


def test_trusted_pickle_of_a_fitted_model_still_predicts(capsys, diabetes_csv, tmp_path):
    import joblib

    data, X, _ = diabetes_csv
    model = tmp_path / "m.skm"
    assert run(capsys, "fit", data, "--target", "target", "-q", "--out", str(model))[0] == 0
    bundle = modelfile.load(model)
    joblib.dump(bundle, tmp_path / "old.joblib")
    code, out, err = run(capsys, "predict", str(tmp_path / "old.joblib"), data,
                         "--trust-pickle")
    assert code == 0, err
    np.testing.assert_allclose([float(v) for v in out.split()[1:]],
                               bundle["pipeline"].predict(X), rtol=1e-12)


def test_help_explains_the_pickle_flag(capsys):
    code, out, _ = run(capsys, "predict", "--help")
    assert code == 0
    text = " ".join(out.split())
    assert "--trust-pickle" in text and "runs any code it contains" in text


def test_cli_model_file_holds_no_pickle(capsys, iris_csv, tmp_path):
    data, _, _ = iris_csv
    model = tmp_path / "clf.skm"
    code, _, err = run(capsys, "fit", data, "--target", "species", "--model",
                       "symnet-classifier", "--one-hot", "--param", "max_iter=3",
                       "--param", "random_state=0", "-q", "--out", str(model))
    assert code == 0, err
    with zipfile.ZipFile(model) as z:
        names = z.namelist()
        assert names[0] == modelfile.HEADER
        for name in names[1:]:
            array = np.lib.format.read_array(io.BytesIO(z.read(name)), allow_pickle=False)
            assert array.dtype != object
        header = json.loads(z.read(modelfile.HEADER))
    classes = {node["class"] for node in _walk(header)}
    assert classes == {"sklearn.pipeline.Pipeline", "sklearn.compose.ColumnTransformer",
                       "sklearn.preprocessing.StandardScaler",
                       "sklearn.preprocessing.OneHotEncoder",
                       "sklipschitz.SymNetClassifier"}


def _walk(node):
    if isinstance(node, dict):
        if node.get("__type__") == "estimator":
            yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)
