"""``sklipschitz predict``: predict a CSV file with a model saved by ``fit``."""

from __future__ import annotations

import csv
import os
import sys

from . import _io
from ._common import EXIT_OK, PROG, CLIError, UsageError
from .fit import MODEL_FORMAT, design

# key -> (type, description) of the model bundle written by ``fit``
_BUNDLE_KEYS = {
    "pipeline": (object, "the fitted pipeline"),
    "kind": (str, "'regressor' or 'classifier'"),
    "target": (str, "the target column's name"),
    "features": (list, "the feature columns' names"),
    "categorical": (list, "the one-hot encoded columns"),
}


def load_bundle(path):
    """The dict saved by ``fit``; CLIError naming what is wrong with any other file."""
    import joblib

    if not os.path.exists(path):
        raise CLIError(f"{path}: no such file")
    if os.path.isdir(path):
        raise CLIError(f"{path}: is a directory, expected a model file")
    try:
        bundle = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure
        raise CLIError(f"{path}: not a model file written by '{PROG} fit' "
                       f"({type(exc).__name__})") from None
    if not isinstance(bundle, dict) or bundle.get("format") != MODEL_FORMAT:
        raise CLIError(f"{path}: not a model file written by '{PROG} fit'")
    for key, (kind, what) in _BUNDLE_KEYS.items():
        if key not in bundle:
            raise CLIError(f"{path}: malformed model file: no '{key}' entry ({what}); "
                           f"fit the model again with '{PROG} fit'")
        if not isinstance(bundle[key], kind):
            raise CLIError(f"{path}: malformed model file: '{key}' is a "
                           f"{type(bundle[key]).__name__}, expected {what}")
    if bundle["kind"] not in ("regressor", "classifier"):
        raise CLIError(f"{path}: malformed model file: 'kind' is {bundle['kind']!r}, "
                       "expected 'regressor' or 'classifier'")
    if not hasattr(bundle["pipeline"], "predict"):
        raise CLIError(f"{path}: malformed model file: 'pipeline' has no predict method")
    return bundle


def _fmt(v):
    if isinstance(v, float) or hasattr(v, "dtype") and v.dtype.kind == "f":
        return repr(float(v))
    return str(v)


def _write_rows(stream, header, columns, n_rows):
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(header)
    for i in range(n_rows):
        writer.writerow([_fmt(c[i]) for c in columns])


def cmd_predict(args):
    import numpy as np

    if args.out:
        _io.check_writable_target(args.out)
    bundle = load_bundle(args.model)
    if args.proba and bundle["kind"] != "classifier":
        raise UsageError("--proba needs a classifier model")
    source = args.data
    header, rows = _io.read_csv(args.data, args.delimiter)
    missing = [f for f in bundle["features"] if f not in header]
    if missing:
        raise CLIError(f"{source}: missing column(s) the model was fitted on: "
                       f"{', '.join(missing)}")
    X = design(header, rows, bundle["features"], bundle["categorical"], source)
    pipeline = bundle["pipeline"]
    pred = np.asarray(pipeline.predict(X))
    out_header = [f"predicted_{bundle['target']}"]
    columns = [pred]
    if args.proba:
        proba = np.asarray(pipeline.predict_proba(X))
        classes = pipeline.steps[-1][1].classes_
        out_header += [f"proba_{c}" for c in classes]
        columns += [proba[:, j] for j in range(proba.shape[1])]
    if args.out:
        _io.atomic_write(args.out, lambda f: _write_rows(f, out_header, columns, len(pred)))
        print(f"wrote {len(pred)} predictions to {args.out}", file=sys.stderr)
    else:
        _write_rows(sys.stdout, out_header, columns, len(pred))
    return EXIT_OK
