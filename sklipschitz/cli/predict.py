"""``sklipschitz predict``: predict a table with a model saved by ``fit``."""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import sys
import warnings
from collections.abc import Callable
from typing import IO, Any

from . import _io
from ._common import EXIT_OK, PROG, CLIError, UsageError, one_line, print_json
from .fit import MODEL_FORMAT, design, read_args_table

# key -> (type, description) of the model bundle written by ``fit``
_BUNDLE_KEYS = {
    "pipeline": (object, "the fitted pipeline"),
    "kind": (str, "'regressor' or 'classifier'"),
    "target": (str, "the target column's name"),
    "features": (list, "the feature columns' names"),
    "categorical": (list, "the one-hot encoded columns"),
}

UNTRUSTED = ("it is not a safe model file: a pickle/joblib file can run any code when "
             "loaded; if you trust where it comes from, pass --trust-pickle")


def _load_pickle(path: str) -> Any:
    import joblib

    try:
        return joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure
        raise CLIError(f"{path}: not a model file written by '{PROG} fit' "
                       f"({type(exc).__name__})") from None


def load_bundle(path: str, trust_pickle: bool = False,
                warn: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The dict saved by ``fit``; CLIError naming what is wrong with any other file.

    A safe model file (:mod:`sklipschitz.cli.modelfile`) is read without running
    anything from it; any other file is unpickled only with ``trust_pickle``.
    """
    if not os.path.exists(path):
        raise CLIError(f"{path}: no such file")
    if os.path.isdir(path):
        raise CLIError(f"{path}: is a directory, expected a model file")
    from . import modelfile

    if modelfile.is_model_file(path):
        try:
            bundle = modelfile.load(path, warn=warn)
        except modelfile.ModelFileError as exc:
            raise CLIError(f"{path}: not a valid model file: {one_line(exc)}") from None
    elif trust_pickle:
        bundle = _load_pickle(path)
    else:
        raise CLIError(f"{path}: not a model file written by '{PROG} fit'; {UNTRUSTED}")
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


def _fmt(v: Any) -> str:
    if isinstance(v, float) or hasattr(v, "dtype") and v.dtype.kind == "f":
        return repr(float(v))
    return str(v)


def _write_rows(stream: IO[str], header: list[str], columns: list[Any], n_rows: int) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(header)
    for i in range(n_rows):
        writer.writerow([_fmt(c[i]) for c in columns])


def _prediction_columns(pred: Any, target: str, model: Any) -> tuple[list[str], list[Any]]:
    """Names and columns of the predictions: one column, or one per quantile level of a
    regressor fitted at several levels (``predicted_<target>_q<level>``)."""
    import numpy as np

    if pred.ndim == 1:
        return [f"predicted_{target}"], [pred]
    levels: Any = getattr(model, "quantile", None)
    if getattr(model, "loss", None) == "quantile" and np.ndim(levels) == 1 and \
            len(levels) == pred.shape[1]:
        names = [f"predicted_{target}_q{float(q):g}" for q in levels]
    else:
        names = [f"predicted_{target}_{j}" for j in range(pred.shape[1])]
    return names, [pred[:, j] for j in range(pred.shape[1])]


def cmd_predict(args: argparse.Namespace) -> int:
    import numpy as np

    if args.out:
        _io.check_writable_target(args.out)
    bundle = load_bundle(args.model, args.trust_pickle,
                         warn=lambda m: warnings.warn(m, UserWarning, stacklevel=2))
    if args.proba and bundle["kind"] != "classifier":
        raise UsageError("--proba needs a classifier model")
    saved = bundle.get("na_values")  # the missing-value tokens of the fit
    table = read_args_table(args, frozenset(saved) if isinstance(saved, list) and all(
        isinstance(t, str) for t in saved) else None)
    missing = [f for f in bundle["features"] if f not in table.header]
    if missing:
        raise CLIError(f"{table.source}: missing column(s) the model was fitted on: "
                       f"{', '.join(missing)}")
    X = design(table, bundle["features"], bundle["categorical"])
    pipeline = bundle["pipeline"]
    with contextlib.redirect_stdout(sys.stderr):
        pred = np.asarray(pipeline.predict(X))
        out_header, columns = _prediction_columns(pred, bundle["target"],
                                                  pipeline.steps[-1][1])
        if args.proba:
            proba = np.asarray(pipeline.predict_proba(X))
            classes = pipeline.steps[-1][1].classes_
            out_header += [f"proba_{c}" for c in classes]
            columns += [proba[:, j] for j in range(proba.shape[1])]
    if args.out:
        _io.atomic_write(args.out, lambda f: _write_rows(f, out_header, columns, len(pred)))
        if not args.json and args.quiet == 0:
            print(f"wrote {len(pred)} predictions to {args.out}", file=sys.stderr)
    else:
        _write_rows(sys.stdout, out_header, columns, len(pred))
        sys.stdout.flush()
    if args.json:
        model = pipeline.steps[-1][1] if hasattr(pipeline, "steps") else pipeline
        print_json({
            "command": "predict", "model": args.model, "estimator": type(model).__name__,
            "kind": bundle["kind"], "target": bundle["target"], "n_rows": int(len(pred)),
            "columns": out_header, "out": args.out,
            "data": {"source": table.source, "delimiter": table.delimiter,
                     "compression": table.compression, "encoding": table.encoding},
            "warnings": list(getattr(args, "warnings", [])),
        }, file=sys.stderr)
    return EXIT_OK
