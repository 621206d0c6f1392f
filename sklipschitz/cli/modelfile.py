"""Model files that are safe to load: plain arrays and JSON, never a pickle.

A model file is a zip archive holding

* ``sklipschitz-model.json``: the format name and version, the versions of
  sklipschitz, scikit-learn and NumPy that wrote it, and the saved object as a
  tree of JSON values: numbers, strings, lists, tuples, string-keyed dicts,
  slices, NumPy dtypes, references to arrays, and estimators;
* ``arrays/<n>.npy``: every NumPy array and NumPy scalar of the tree, in
  NumPy's ``.npy`` format (numbers, booleans or strings; never objects).

An estimator is stored as its class name, ``get_params(deep=False)`` and its
fitted attributes.  Loading (:func:`load`) rebuilds it from an explicit
allow-list of classes (:data:`ALLOWED_CLASSES`: the package's public
estimators and the few scikit-learn classes the command line puts in its
pipelines), sets the attributes, and reads the arrays with
``allow_pickle=False``: nothing in the file is executed, and a file naming any
other class is refused.

The package's estimators are stored as their ``__getstate__`` (what a
pickle of them holds), which has only plain values: the training state that
continuing a fit needs (:data:`TRAINING_STATE`: the random generator, the step
rule, the optimizer moments and the power iterations of the last
``fit``/``partial_fit``) as numbers, arrays, lists and string-keyed dicts, the
SymNet network as its layer sizes and activation.  Loading hands them to ``__setstate__``,
which rebuilds the engine's objects from its closed registry
(:mod:`sklipschitz._engine.state`), so ``partial_fit`` and ``warm_start``
continue a loaded model exactly as they would the saved one.  A training state
holding anything else is left out with a warning (the loaded model then
predicts the same, and ``partial_fit`` starts a new training run).
"""

from __future__ import annotations

import importlib
import io
import json
import math
import re
import warnings
import zipfile
from collections.abc import Callable
from typing import IO, Any

import numpy as np
import scipy.sparse as sp

from ._common import one_line

__all__ = ["ALLOWED_CLASSES", "TRAINING_STATE", "ModelFileError", "dump", "is_model_file",
           "load"]

FORMAT = "sklipschitz-model"
FORMAT_VERSION = 2
HEADER = "sklipschitz-model.json"

#: the classes a model file may name -> (module, class name)
ALLOWED_CLASSES = {
    "sklipschitz.LipschitzRegressor": ("sklipschitz.linear_model", "LipschitzRegressor"),
    "sklipschitz.LipschitzRegressorCV": ("sklipschitz.linear_model", "LipschitzRegressorCV"),
    "sklipschitz.LipschitzQuantileClassifier": ("sklipschitz.linear_model",
                                                "LipschitzQuantileClassifier"),
    "sklipschitz.SymNetClassifier": ("sklipschitz.neural_network", "SymNetClassifier"),
    "sklipschitz.SymNetRegressor": ("sklipschitz.neural_network", "SymNetRegressor"),
    "sklipschitz.SBAFKernel": ("sklipschitz.kernels", "SBAFKernel"),
    "sklipschitz.SBAFRandomFeatures": ("sklipschitz.kernels", "SBAFRandomFeatures"),
    "sklearn.pipeline.Pipeline": ("sklearn.pipeline", "Pipeline"),
    "sklearn.compose.ColumnTransformer": ("sklearn.compose", "ColumnTransformer"),
    "sklearn.preprocessing.StandardScaler": ("sklearn.preprocessing", "StandardScaler"),
    "sklearn.preprocessing.OneHotEncoder": ("sklearn.preprocessing", "OneHotEncoder"),
    "sklearn.preprocessing.FunctionTransformer": ("sklearn.preprocessing",
                                                  "FunctionTransformer"),
}

#: private fitted attributes of the package's estimators that only continuing a fit
#: needs (saved when they are plain data, else left out with a warning)
TRAINING_STATE = frozenset({"_rng", "_train_state", "_step_rule", "_update", "_power",
                            "_schedule", "_penalty"})

_ATTRIBUTE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NUMPY_KINDS = "biufc?"  # bool, integers, floats, complex
_MAX_ARRAYS = 100_000


class ModelFileError(ValueError):
    """A model file that cannot be written or read in the safe format."""


def _class_name(obj: object) -> str | None:
    cls = type(obj)
    for name, (module, attr) in ALLOWED_CLASSES.items():
        mod = importlib.import_module(module)
        if getattr(mod, attr, None) is cls:
            return name
    return None


def _safe_dtype(name: str) -> np.dtype:
    """A NumPy dtype of numbers, booleans or strings named ``name``; nothing else."""
    if not isinstance(name, str) or not re.fullmatch(r"[<>|=]?[A-Za-z0-9_]+", name):
        raise ModelFileError(f"invalid dtype {name!r}")
    try:
        dtype = np.dtype(name)
    except TypeError:
        raise ModelFileError(f"invalid dtype {name!r}") from None
    if dtype.kind not in _NUMPY_KINDS + "U":
        raise ModelFileError(f"dtype {name!r} is not allowed in a model file")
    return dtype


# ----------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------


class _Encoder:
    def __init__(self) -> None:
        self.arrays: dict[str, bytes] = {}
        self.refs: dict[int, int] = {}  # id(array, list or dict) -> reference number
        self.keep: list = []  # the objects of ``refs``, alive while encoding

    def _shared(self, value: Any, node: dict) -> dict:
        """``node`` with a reference number, so a second occurrence of ``value``
        (an array, list or dict held twice) is stored as a reference."""
        node["ref"] = self.refs[id(value)] = len(self.refs)
        self.keep.append(value)
        return node

    def _array(self, array: np.ndarray, where: str) -> str:
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.asarray(array), allow_pickle=False)
        path = f"arrays/{len(self.arrays)}.npy"
        self.arrays[path] = buf.getvalue()
        return path

    def encode(self, value: Any, where: str) -> Any:
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int) and not isinstance(value, np.integer):
            return value
        if isinstance(value, float) and not isinstance(value, np.floating):
            return value if math.isfinite(value) else {"__type__": "float",
                                                       "value": repr(value)}
        if id(value) in self.refs:  # an array, list or dict seen before
            return {"__type__": "ref", "ref": self.refs[id(value)]}
        if isinstance(value, np.ndarray):
            return self._shared(value, self._ndarray(value, where))
        if isinstance(value, np.generic):
            if value.dtype.kind not in _NUMPY_KINDS + "U":
                raise ModelFileError(f"{where}: a NumPy {value.dtype} scalar cannot be saved")
            return {"__type__": "scalar", "path": self._array(np.asarray(value), where)}
        if isinstance(value, type) and issubclass(value, np.generic):
            return {"__type__": "dtype_type", "name": np.dtype(value).str}
        if isinstance(value, np.dtype):
            return {"__type__": "dtype", "name": value.str}
        if isinstance(value, tuple):
            items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
            return {"__type__": "tuple", "items": items}
        if isinstance(value, list):
            node = self._shared(value, {"__type__": "list"})
            node["items"] = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
            return node
        if isinstance(value, dict):
            node = self._shared(value, {"__type__": "dict"})
            if all(isinstance(k, str) for k in value):
                node["items"] = {k: self.encode(v, f"{where}[{k!r}]") for k, v in value.items()}
            else:
                for k in value:
                    if not isinstance(k, (str, int, float, bool, tuple, type(None))):
                        raise ModelFileError(f"{where}: a dict key of type "
                                             f"{type(k).__name__} cannot be saved")
                node["pairs"] = [[self.encode(k, f"{where} key"),
                                  self.encode(v, f"{where}[{k!r}]")] for k, v in value.items()]
            return node
        if isinstance(value, slice):
            parts = (value.start, value.stop, value.step)
            if not all(p is None or isinstance(p, int) for p in parts):
                raise ModelFileError(f"{where}: a slice of non-integers cannot be saved")
            return {"__type__": "slice", "items": list(parts)}
        if sp.issparse(value):
            csr = sp.csr_matrix(value)
            return {"__type__": "sparse", "format": "csr" if sp.isspmatrix(value) else "csr_array",
                    "shape": [int(n) for n in csr.shape],
                    "data": self.encode(csr.data, f"{where}.data"),
                    "indices": self.encode(csr.indices, f"{where}.indices"),
                    "indptr": self.encode(csr.indptr, f"{where}.indptr")}
        if isinstance(value, np.random.RandomState):
            kind, keys, pos, has_gauss, gauss = value.get_state()
            return {"__type__": "random_state", "pos": int(pos), "has_gauss": int(has_gauss),
                    "gauss": float(gauss), "keys": self.encode(np.asarray(keys), where)}
        name = _class_name(value)
        if name is not None:
            return self._estimator(value, name, where)
        raise ModelFileError(f"{where}: a {type(value).__module__}.{type(value).__qualname__} "
                             "cannot be saved in a model file (allowed: numbers, strings, "
                             "arrays, lists, dicts and the estimators of ALLOWED_CLASSES)")

    def _ndarray(self, array: np.ndarray, where: str) -> dict:
        if array.dtype.kind in _NUMPY_KINDS + "U":
            return {"__type__": "ndarray", "path": self._array(array, where)}
        if array.dtype == object and all(isinstance(v, str) for v in array.flat):
            # category and class labels: an object array of strings
            text = array.astype(str) if array.size else np.empty(array.shape, dtype="<U1")
            return {"__type__": "ndarray", "path": self._array(text, where), "object": True}
        raise ModelFileError(f"{where}: an array of dtype {array.dtype} (objects other than "
                             "strings) cannot be saved in a model file")

    def _estimator(self, est: Any, name: str, where: str) -> dict:
        params = est.get_params(deep=False)
        attrs, training = {}, {}
        encoded_params = {k: self.encode(v, f"{where}.{k}") for k, v in params.items()}
        ours = name.startswith("sklipschitz.")
        # the package's estimators: their pickled state, made of plain values only
        values = est.__getstate__() if ours else vars(est)
        self.keep.append(values)  # its temporary lists and dicts keep their ids while encoding
        for key, value in values.items():
            if key in params:
                continue
            if key in TRAINING_STATE and ours:
                training[key] = value
                continue
            attrs[key] = self.encode(value, f"{where}.{key}")
        attrs.update(self._training_state(training, name, where))
        return {"__type__": "estimator", "class": name, "params": encoded_params,
                "attrs": attrs}

    def _training_state(self, training: dict, name: str, where: str) -> dict:
        """The training-state attributes encoded, or none of them (with a warning) when one
        holds a value the format cannot store."""
        n_arrays, n_refs = len(self.arrays), len(self.refs)
        try:
            return {k: self.encode(v, f"{where}.{k}") for k, v in training.items()}
        except ModelFileError as exc:
            for path in list(self.arrays)[n_arrays:]:
                del self.arrays[path]
            for key in list(self.refs)[n_refs:]:
                del self.refs[key]
            warnings.warn(f"the training state of {name.split('.')[-1]} is not saved ({exc}): "
                          "the loaded model predicts the same, but partial_fit on it starts a "
                          "new training run", UserWarning, stacklevel=4)
            return {}


def _versions() -> dict:
    import sklearn

    from sklipschitz import __version__

    return {"sklipschitz": __version__, "scikit-learn": sklearn.__version__,
            "numpy": np.__version__}


def dump(obj: Any, file: str | IO[bytes]) -> None:
    """Save ``obj`` (an estimator, a pipeline, or a dict/list of them and plain values).

    Parameters
    ----------
    obj : object
        An estimator of :data:`ALLOWED_CLASSES` (fitted or not), or numbers,
        strings, arrays, lists, tuples and string-keyed dicts of them.
    file : str or binary file object
        Where to write the zip archive.

    Raises
    ------
    ModelFileError
        If ``obj`` holds a value the format cannot store; the message names it.

    See Also
    --------
    load : Read the file back, executing nothing from it.

    Examples
    --------
    >>> import io
    >>> from sklearn.datasets import load_diabetes
    >>> from sklipschitz import LipschitzRegressor
    >>> from sklipschitz.cli import modelfile
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = LipschitzRegressor().fit(X, y)
    >>> buffer = io.BytesIO()
    >>> modelfile.dump(model, buffer)
    >>> _ = buffer.seek(0)
    >>> bool((modelfile.load(buffer).predict(X) == model.predict(X)).all())
    True
    """
    encoder = _Encoder()
    tree = encoder.encode(obj, "model")
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "versions": _versions(),
              "object": tree}
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(HEADER, json.dumps(header, indent=1, allow_nan=False))
        for path, data in encoder.arrays.items():
            archive.writestr(path, data)


# ----------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------


class _Decoder:
    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.names = set(archive.namelist())
        self.refs: dict[int, Any] = {}

    def _register(self, node: dict, value: Any) -> Any:
        ref = node.get("ref")
        if ref is not None:
            if type(ref) is not int or ref in self.refs:
                raise ModelFileError(f"invalid reference number {ref!r}")
            self.refs[ref] = value
        return value

    def _array(self, path: Any) -> np.ndarray:
        if not isinstance(path, str) or path not in self.names or not path.startswith("arrays/"):
            raise ModelFileError(f"no array {path!r} in the file")
        with self.archive.open(path) as f:
            try:
                array = np.lib.format.read_array(io.BytesIO(f.read()), allow_pickle=False)
            except ValueError as exc:
                raise ModelFileError(f"{path}: {exc}") from None
        if array.dtype.kind not in _NUMPY_KINDS + "U":
            raise ModelFileError(f"{path}: dtype {array.dtype} is not allowed")
        return array

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict) or "__type__" not in node:
            raise ModelFileError(f"unexpected value {str(node)[:60]!r}")
        kind = node["__type__"]
        if kind == "float":
            if node.get("value") not in ("nan", "inf", "-inf"):
                raise ModelFileError(f"invalid float {node.get('value')!r}")
            return float(node["value"])
        if kind == "ref":
            if type(node.get("ref")) is not int or node["ref"] not in self.refs:
                raise ModelFileError(f"reference {str(node.get('ref'))[:20]!r} to nothing")
            return self.refs[node["ref"]]
        if kind == "tuple":
            return tuple(self.decode(v) for v in _expect(node, "items", list))
        if kind == "list":
            items: list = self._register(node, [])
            items.extend(self.decode(v) for v in _expect(node, "items", list))
            return items
        if kind == "dict":
            out: dict = self._register(node, {})
            if "pairs" in node:
                for pair in _expect(node, "pairs", list):
                    if not isinstance(pair, list) or len(pair) != 2:
                        raise ModelFileError("malformed dict entry")
                    key = self.decode(pair[0])
                    if not isinstance(key, (str, int, float, bool, tuple, type(None))):
                        raise ModelFileError("invalid dict key")
                    out[key] = self.decode(pair[1])
            else:
                for k, v in _expect(node, "items", dict).items():
                    out[str(k)] = self.decode(v)
            return out
        if kind == "slice":
            parts = _expect(node, "items", list)
            if len(parts) != 3 or not all(p is None or type(p) is int for p in parts):
                raise ModelFileError("invalid slice")
            return slice(*parts)
        if kind == "ndarray":
            array = self._array(node.get("path"))
            return self._register(node, array.astype(object) if node.get("object") else array)
        if kind == "sparse":
            shape = _expect(node, "shape", list)
            parts = [self.decode(node.get(k)) for k in ("data", "indices", "indptr")]
            if not all(isinstance(p, np.ndarray) for p in parts) or len(shape) != 2 or not all(
                    type(n) is int for n in shape):
                raise ModelFileError("malformed sparse matrix")
            try:
                matrix = sp.csr_matrix(tuple(parts), shape=tuple(shape))
            except (ValueError, TypeError) as exc:
                raise ModelFileError(f"malformed sparse matrix ({exc})") from None
            return sp.csr_array(matrix) if node.get("format") == "csr_array" else matrix
        if kind == "random_state":
            keys = self.decode(node.get("keys"))
            rng = np.random.RandomState()
            try:
                rng.set_state(("MT19937", keys, int(node["pos"]), int(node["has_gauss"]),
                               float(node["gauss"])))
            except (KeyError, ValueError, TypeError, OverflowError) as exc:
                raise ModelFileError(f"malformed random state ({exc})") from None
            return rng
        if kind == "scalar":
            array = self._array(node.get("path"))
            if array.shape != ():
                raise ModelFileError("a scalar entry holds an array")
            return array[()]
        if kind == "dtype_type":
            return _safe_dtype(_expect(node, "name", str)).type
        if kind == "dtype":
            return _safe_dtype(_expect(node, "name", str))
        if kind == "estimator":
            return self._estimator(node)
        raise ModelFileError(f"unknown entry type {str(kind)[:40]!r}")

    def _estimator(self, node: dict) -> Any:
        name = node.get("class")
        if name not in ALLOWED_CLASSES:
            raise ModelFileError(f"class {str(name)[:80]!r} is not one the format allows "
                                 f"({', '.join(sorted(ALLOWED_CLASSES))})")
        module, attr = ALLOWED_CLASSES[name]
        cls = getattr(importlib.import_module(module), attr)
        params = {k: self.decode(v) for k, v in _expect(node, "params", dict).items()}
        try:
            est = cls(**params)
            est._validate_params()  # the parameters' constraints, before any use
        except (TypeError, ValueError) as exc:
            raise ModelFileError(f"{name}: {one_line(exc)}") from None
        attrs = {}
        for key, value in _expect(node, "attrs", dict).items():
            if not _ATTRIBUTE.match(key) or key.startswith("__") or key in params:
                raise ModelFileError(f"{name}: invalid attribute name {key[:40]!r}")
            attrs[key] = self.decode(value)
        if not name.startswith("sklipschitz."):
            for key, value in attrs.items():
                setattr(est, key, value)
            return est
        try:
            # the engine's objects of the training state and the SymNet network,
            # rebuilt from plain values by the closed registry of _engine.state
            est.__setstate__(attrs)
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            raise ModelFileError(f"{name}: {one_line(exc)}") from None
        return est


def _expect(node: dict, key: str, kind: type) -> Any:
    value = node.get(key)
    if not isinstance(value, kind):
        raise ModelFileError(f"malformed entry: {key!r} is not a {kind.__name__}")
    return value


def is_model_file(file: str | IO[bytes]) -> bool:
    """True if ``file`` is a zip archive with this format's header (nothing is loaded)."""
    try:
        if not zipfile.is_zipfile(file):
            return False
        with zipfile.ZipFile(file) as archive:
            return HEADER in archive.namelist()
    except OSError:
        return False
    finally:
        if hasattr(file, "seek"):
            file.seek(0)


def load(file: str | IO[bytes], *, warn: Callable[[str], None] | None = None) -> Any:
    """Load an object saved by :func:`dump`, executing nothing from the file.

    Parameters
    ----------
    file : str or binary file object
        A model file written by :func:`dump`.
    warn : callable, default=None
        Called with a message when the file was written by other versions of
        sklipschitz or scikit-learn (default: :func:`warnings.warn`).

    Returns
    -------
    object
        The saved object, its estimators rebuilt from :data:`ALLOWED_CLASSES`.

    Raises
    ------
    ModelFileError
        If the file is not a model file of this format, or names a class
        or a value the format does not allow.

    See Also
    --------
    dump : Write a model file.

    Examples
    --------
    >>> import io
    >>> from sklipschitz import SymNetClassifier
    >>> from sklipschitz.cli import modelfile
    >>> buffer = io.BytesIO()
    >>> modelfile.dump({"model": SymNetClassifier(hidden_layer_sizes=(8,))}, buffer)
    >>> _ = buffer.seek(0)
    >>> modelfile.load(buffer)["model"].hidden_layer_sizes
    (8,)
    """
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelFileError(f"not a model file of format {FORMAT!r} ({exc})") from None
    with archive:
        if HEADER not in archive.namelist():
            raise ModelFileError(f"not a model file of format {FORMAT!r} (no {HEADER})")
        if len(archive.namelist()) > _MAX_ARRAYS:
            raise ModelFileError("too many entries in the file")
        try:
            header = json.loads(archive.read(HEADER).decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise ModelFileError(f"damaged header ({type(exc).__name__})") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise ModelFileError(f"not a model file of format {FORMAT!r}")
        if header.get("format_version") != FORMAT_VERSION:
            raise ModelFileError(f"format version {header.get('format_version')!r}, this "
                                 f"version of sklipschitz reads version {FORMAT_VERSION}")
        saved = header.get("versions")
        saved = saved if isinstance(saved, dict) else {}
        mine = _versions()
        changed = [f"{k} {saved.get(k)} (now {v})" for k, v in mine.items()
                   if k != "numpy" and saved.get(k) != v]
        if changed:
            (warn or (lambda m: warnings.warn(m, UserWarning, stacklevel=3)))(
                f"the model file was written with {', '.join(changed)}: its predictions may "
                "differ; fit it again with this version")
        try:
            return _Decoder(archive).decode(header.get("object"))
        except ModelFileError:
            raise
        except RecursionError:
            raise ModelFileError("the file's object tree is nested too deeply") from None
        except (TypeError, ValueError, OverflowError, KeyError, IndexError,
                AttributeError) as exc:
            # a value of the right kind in the wrong place: the file is damaged or crafted
            raise ModelFileError(f"malformed entry ({type(exc).__name__}: {exc})") from None
