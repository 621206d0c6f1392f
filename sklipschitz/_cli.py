"""The ``sklipschitz`` command line: ``compare``, ``fit`` and ``predict``.

Exit codes: 0 success, 1 runtime error (bad data, unreadable file, failed
fit), 2 usage error (argparse's convention), 130 interrupted.  Errors are one
line on stderr, ``sklipschitz: error: ...``; set ``SKLIPSCHITZ_TRACEBACK=1``
to see the Python traceback instead.

CSV files are read with the standard library ``csv`` module (pandas is not
needed).  See ``docs/cli.md`` for the data rules (numeric columns, missing
values, ``--one-hot``) and the content of the model file.
"""

from __future__ import annotations

import argparse
import ast
import csv
import importlib
import importlib.util
import math
import os
import sys

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

PROG = "sklipschitz"
MODEL_FORMAT = "sklipschitz-csv-model"
MODEL_FORMAT_VERSION = 1


class CLIError(Exception):
    """A runtime error shown to the user as one line (exit code 1)."""


class UsageError(Exception):
    """A command-line usage error found after parsing (exit code 2)."""


# ----------------------------------------------------------------------------
# Models available to ``fit``
# ----------------------------------------------------------------------------

# name -> (module, class, kind, losses accepted by --loss (None: no --loss))
MODELS = {
    "regressor": ("sklipschitz.linear_model", "LipschitzRegressor", "regressor",
                  ("squared_error", "absolute_error", "quantile", "log_cosh")),
    "quantile-classifier": ("sklipschitz.linear_model", "LipschitzQuantileClassifier",
                            "classifier", None),
    "symnet-classifier": ("sklipschitz.neural_network", "SymNetClassifier", "classifier", None),
    "symnet-regressor": ("sklipschitz.neural_network", "SymNetRegressor", "regressor",
                         ("squared_error", "absolute_error", "quantile", "log_cosh")),
}


def available_models():
    return [name for name, (module, *_rest) in MODELS.items()
            if importlib.util.find_spec(module) is not None]


def _model_class(name):
    module, cls, _kind, _losses = MODELS[name]
    return getattr(importlib.import_module(module), cls)


# ----------------------------------------------------------------------------
# CSV reading
# ----------------------------------------------------------------------------

MISSING_TOKENS = {"", "na", "n/a", "nan", "null", "none", "?", "-"}


def _is_missing(cell):
    return cell.strip().lower() in MISSING_TOKENS


def _to_float(cell):
    try:
        value = float(cell)
    except ValueError:
        return None
    return value


def read_csv(path, delimiter=","):
    """Header and rows (lists of stripped strings) of a CSV file.

    Raises :class:`CLIError` for a missing/empty file, a missing header,
    duplicate column names or rows of the wrong length.
    """
    if path == "-":
        return _read_csv_stream(sys.stdin, "<stdin>", delimiter)
    if not os.path.exists(path):
        raise CLIError(f"{path}: no such file")
    if os.path.isdir(path):
        raise CLIError(f"{path}: is a directory, expected a CSV file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            return _read_csv_stream(f, path, delimiter)
    except UnicodeDecodeError as exc:
        raise CLIError(f"{path}: not a UTF-8 text file ({exc.reason})") from None


def _read_csv_stream(f, name, delimiter):
    reader = csv.reader(f, delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            raise CLIError(f"{name}: the file is empty")
        header = [h.strip() for h in header]
        if any(h == "" for h in header):
            raise CLIError(f"{name}: the header row has an empty column name "
                           f"(column {header.index('') + 1})")
        dupes = sorted({h for h in header if header.count(h) > 1})
        if dupes:
            raise CLIError(f"{name}: duplicate column name(s) in the header: {', '.join(dupes)}")
        rows = []
        for row in reader:
            if not row or all(c.strip() == "" for c in row):
                continue  # blank line
            if len(row) != len(header):
                raise CLIError(f"{name}, line {reader.line_num}: {len(row)} fields, "
                               f"expected {len(header)} (as in the header)")
            rows.append([c.strip() for c in row])
    except csv.Error as exc:
        raise CLIError(f"{name}, line {reader.line_num}: {exc}") from None
    if not rows:
        raise CLIError(f"{name}: no data rows after the header")
    return header, rows


def _column(header, rows, name, source):
    j = header.index(name)
    return [row[j] for row in rows]


def _line(i):
    # data row i (0-based) is on line i + 2 (after the header), blank lines aside
    return i + 2


def _check_no_missing(values, name, source):
    missing = [i for i, v in enumerate(values) if _is_missing(v)]
    if missing:
        raise CLIError(
            f"{source}: column '{name}' has {len(missing)} missing value(s) (first at data "
            f"row {missing[0] + 1}, line {_line(missing[0])}); fill them in or drop those rows")


def _numeric_column(values, name, source):
    """Floats of a column, or CLIError naming the column and the first bad cell."""
    out = []
    for i, v in enumerate(values):
        x = _to_float(v)
        if x is None:
            raise CLIError(f"{source}: column '{name}' is not numeric ('{v}' at data row "
                           f"{i + 1}, line {_line(i)})")
        if not math.isfinite(x):
            raise CLIError(f"{source}: column '{name}' has a non-finite value ('{v}' at data "
                           f"row {i + 1}, line {_line(i)})")
        out.append(x)
    return out


def _is_numeric(values):
    return all(_to_float(v) is not None for v in values)


# ----------------------------------------------------------------------------
# fit / predict
# ----------------------------------------------------------------------------


def _parse_params(items):
    params = {}
    for item in items or []:
        if "=" not in item:
            raise UsageError(f"--param expects NAME=VALUE, got '{item}'")
        key, raw = item.split("=", 1)
        key = key.strip()
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw
        params[key] = value
    return params


def _build_estimator(args):
    kind = MODELS[args.model][2]
    losses = MODELS[args.model][3]
    params = {}
    if args.loss is not None:
        if losses is None:
            raise UsageError(f"--loss is not an option of --model {args.model}")
        if args.loss not in losses:
            raise UsageError(f"--loss must be one of {', '.join(losses)} for --model {args.model}")
        params["loss"] = args.loss
    if args.quantile is not None:
        if not 0 < args.quantile < 1:
            raise UsageError("--quantile must be strictly between 0 and 1")
        if MODELS[args.model][3] is not None:  # regressors with a choice of loss
            if params.get("loss", "quantile") != "quantile":
                raise UsageError("--quantile needs --loss quantile (or no --loss)")
            params["loss"] = "quantile"
        elif args.model != "quantile-classifier":
            raise UsageError(f"--quantile is not an option of --model {args.model}")
        params["quantile"] = args.quantile
    extra = _parse_params(args.param)
    cls = _model_class(args.model)
    valid = cls().get_params()
    unknown = sorted(set(extra) - set(valid))
    if unknown:
        raise UsageError(f"unknown parameter(s) for {cls.__name__}: {', '.join(unknown)} "
                         f"(valid: {', '.join(sorted(valid))})")
    params.update(extra)
    return cls(**params), kind


def _feature_columns(header, target, drop, source):
    for name in [target, *drop]:
        if name not in header:
            raise CLIError(f"{source}: no column named '{name}' (columns: {', '.join(header)})")
    features = [h for h in header if h != target and h not in drop]
    if not features:
        raise CLIError(f"{source}: no feature columns left besides the target '{target}'")
    return features


def _design(header, rows, features, categorical, source):
    """Object/float feature matrix in ``features`` order."""
    import numpy as np

    cols = []
    for name in features:
        values = _column(header, rows, name, source)
        _check_no_missing(values, name, source)
        if name in categorical:
            cols.append(np.asarray(values, dtype=object))
        else:
            cols.append(np.asarray(_numeric_column(values, name, source), dtype=float))
    if categorical:
        X = np.empty((len(rows), len(features)), dtype=object)
        for j, c in enumerate(cols):
            X[:, j] = c
        return X
    return np.column_stack(cols)


def _make_pipeline(estimator, features, categorical, scale):
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    if not categorical:
        steps = [("scale", StandardScaler())] if scale else []
        return Pipeline(steps + [("model", estimator)])
    num = [j for j, f in enumerate(features) if f not in categorical]
    cat = [j for j, f in enumerate(features) if f in categorical]
    transformers = [("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False), cat)]
    if num:
        transformers.insert(0, ("scale", StandardScaler() if scale else "passthrough", num))
    return Pipeline([("encode", ColumnTransformer(transformers)), ("model", estimator)])


def cmd_fit(args):
    import joblib
    import numpy as np

    estimator, kind = _build_estimator(args)
    source = args.data
    header, rows = read_csv(args.data, args.delimiter)
    drop = _split_names(args.drop)
    features = _feature_columns(header, args.target, drop, source)
    text_cols = [f for f in features
                 if not _is_numeric([v for v in _column(header, rows, f, source)
                                     if not _is_missing(v)])]
    if text_cols and not args.one_hot:
        f = text_cols[0]
        values = _column(header, rows, f, source)
        i = next(i for i, v in enumerate(values) if not _is_missing(v) and _to_float(v) is None)
        raise CLIError(
            f"{source}: column '{f}' is not numeric ('{values[i]}' at data row {i + 1}, line "
            f"{_line(i)}); pass --one-hot to one-hot encode text columns, or --drop {f}")
    categorical = list(text_cols)
    X = _design(header, rows, features, categorical, source)
    y_raw = _column(header, rows, args.target, source)
    _check_no_missing(y_raw, args.target, source)
    if kind == "regressor":
        if not _is_numeric(y_raw):
            classifiers = [m for m in available_models() if MODELS[m][2] == "classifier"]
            raise CLIError(f"{source}: target column '{args.target}' is not numeric; a "
                           f"regressor needs numbers (for class labels use --model "
                           f"{' or '.join(classifiers)})")
        y = np.asarray(_numeric_column(y_raw, args.target, source))
    else:
        y = np.asarray(y_raw, dtype=object).astype(str)
        if len(set(y)) < 2:
            raise CLIError(f"{source}: target column '{args.target}' has a single class "
                           f"('{y[0]}'); a classifier needs at least two")
    pipeline = _make_pipeline(estimator, features, categorical, not args.no_scale)
    import warnings

    from sklearn.utils._param_validation import InvalidParameterError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            pipeline.fit(X, y)
        except InvalidParameterError as exc:
            raise UsageError(_one_line(exc)) from None
    for w in caught:
        if issubclass(w.category, (UserWarning, RuntimeWarning)):
            print(f"{PROG}: warning: {str(w.message).splitlines()[0]}", file=sys.stderr)
    model = pipeline.steps[-1][1]
    bundle = {
        "format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION,
        "pipeline": pipeline, "model": args.model, "kind": kind, "target": args.target,
        "features": features, "categorical": categorical,
        "numeric_target": kind == "regressor",
        "sklipschitz_version": _version(),
    }
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_dir):
        raise CLIError(f"{args.out}: directory {out_dir} does not exist")
    try:
        joblib.dump(bundle, args.out)
    except OSError as exc:
        raise CLIError(f"{args.out}: cannot write ({exc.strerror})") from None
    encoded = f", one-hot: {', '.join(categorical)}" if categorical else ""
    iters = getattr(model, "n_iter_", None)
    print(f"fitted {type(model).__name__} on {X.shape[0]} rows x {len(features)} columns "
          f"(target '{args.target}'{encoded})"
          + (f" in {iters} iteration{'s' if iters != 1 else ''}" if iters is not None else "")
          + f"; training {_training_summary(pipeline, model, X, y, kind)}; saved to {args.out}")
    return EXIT_OK


def _training_summary(pipeline, model, X, y, kind):
    """One phrase with the training fit, in the terms of the model's loss."""
    import numpy as np

    if kind == "classifier":
        return f"accuracy {pipeline.score(X, y):.4f}"
    loss = getattr(model, "loss", "squared_error")
    pred = np.asarray(pipeline.predict(X))
    if loss == "quantile":
        q = model.quantile
        return (f"fraction of targets below the prediction {np.mean(y <= pred):.3f} "
                f"(quantile {q:g})")
    if loss == "absolute_error":
        return f"mean absolute error {np.mean(np.abs(y - pred)):.6g}"
    return f"R^2 {pipeline.score(X, y):.4f}"


def _version():
    from . import __version__

    return __version__


def load_bundle(path):
    import joblib

    if not os.path.exists(path):
        raise CLIError(f"{path}: no such file")
    try:
        bundle = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure
        raise CLIError(f"{path}: not a model file written by '{PROG} fit' "
                       f"({type(exc).__name__})") from None
    if not isinstance(bundle, dict) or bundle.get("format") != MODEL_FORMAT:
        raise CLIError(f"{path}: not a model file written by '{PROG} fit'")
    return bundle


def _fmt(v):
    if isinstance(v, (float,)) or hasattr(v, "dtype") and v.dtype.kind == "f":
        return repr(float(v))
    return str(v)


def cmd_predict(args):
    import numpy as np

    bundle = load_bundle(args.model)
    source = args.data
    header, rows = read_csv(args.data, args.delimiter)
    missing = [f for f in bundle["features"] if f not in header]
    if missing:
        raise CLIError(f"{source}: missing column(s) the model was fitted on: "
                       f"{', '.join(missing)}")
    X = _design(header, rows, bundle["features"], bundle["categorical"], source)
    pipeline = bundle["pipeline"]
    pred = np.asarray(pipeline.predict(X))
    out_header = [f"predicted_{bundle['target']}"]
    columns = [pred]
    if args.proba:
        if bundle["kind"] != "classifier":
            raise UsageError("--proba needs a classifier model")
        proba = np.asarray(pipeline.predict_proba(X))
        classes = pipeline.steps[-1][1].classes_
        out_header += [f"proba_{c}" for c in classes]
        columns += [proba[:, j] for j in range(proba.shape[1])]
    stream = None
    try:
        if args.out:
            try:
                stream = open(args.out, "w", newline="")
            except OSError as exc:
                raise CLIError(f"{args.out}: cannot write ({exc.strerror})") from None
            out = stream
        else:
            out = sys.stdout
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(out_header)
        for i in range(len(pred)):
            writer.writerow([_fmt(c[i]) for c in columns])
    finally:
        if stream is not None:
            stream.close()
    if args.out:
        print(f"wrote {len(pred)} predictions to {args.out}", file=sys.stderr)
    return EXIT_OK


# ----------------------------------------------------------------------------
# compare
# ----------------------------------------------------------------------------


def _split_names(values):
    out = []
    for v in values or []:
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return out


def cmd_compare(args):
    from . import _compare as cmp

    if args.list:
        for t in cmp.select_tasks():
            flag = " (quick)" if t.quick else ""
            tuned = "GridSearchCV over " + ", ".join(t.grid) if t.grid else "no learning rate"
            print(f"{t.name:<28} {t.ours.label} vs {t.baseline.label} ({tuned}), "
                  f"{t.metric}{flag}")
        return EXIT_OK
    patterns = _split_names(args.tasks)
    try:
        tasks = cmp.select_tasks(patterns, quick=args.quick)
    except KeyError as exc:
        names = ", ".join(t.name for t in cmp.select_tasks())
        raise UsageError(f"--tasks: no task matches '{exc.args[0]}' (tasks: {names})") from None
    if args.folds is not None and args.folds < 2:
        raise UsageError("--folds must be at least 2")
    if args.resources and not cmp.resources_available():
        raise CLIError("--resources needs sklipschitz.metrics, which this installation lacks")
    settings = cmp.Settings(quick=args.quick, seed=args.seed, n_splits=args.folds,
                            resources=args.resources,
                            command=" ".join([PROG, *(args.argv or ["compare"])]))
    if args.out:
        os.makedirs(args.out, exist_ok=True)
    progress = None if args.no_progress else cmp.Progress(sys.stderr)
    failures = []
    records = cmp.run_suite(tasks, settings, progress, failures=failures)
    for name, exc in failures:
        print(f"{PROG} compare: error: task {name} failed: {type(exc).__name__}: "
              f"{_one_line(exc)}", file=sys.stderr)
    if not records:
        return EXIT_ERROR
    print(cmp.format_text_table(records))
    print()
    if args.resources:
        print(cmp.format_resource_table(records))
        print()
    for line in cmp.summary_lines(records):
        print(line)
    if args.out:
        paths = cmp.write_outputs(records, args.out, settings)
        written = [p for p in paths.values() if p]
        print("wrote " + ", ".join(written))
        if paths.get("png") is None:
            print(f"{PROG}: note: matplotlib is not installed, no plot written "
                  "(pip install 'sklipschitz[plot]')", file=sys.stderr)
    return EXIT_ERROR if failures else EXIT_OK


# ----------------------------------------------------------------------------
# Parser and entry point
# ----------------------------------------------------------------------------


def build_parser():
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="scikit-learn estimators trained at a learning rate computed from the "
                    "data (1/L): no learning rate to tune.",
        epilog="Exit codes: 0 success, 1 runtime error (e.g. bad data), 2 usage error.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "compare", help="defaults vs learning-rate-tuned scikit-learn baselines",
        description="Run a suite of tabular tasks (data shipped with scikit-learn plus seeded "
                    "synthetic data; no downloads). For each task, our estimator with default "
                    "settings is cross-validated against the scikit-learn estimator tuned by "
                    "GridSearchCV over its learning rate, on the same folds, both in a "
                    "StandardScaler pipeline, single-threaded. Reports CV score, total time "
                    "(CV + tuning + final refit), number of fits and the speed-up.",
    )
    p.add_argument("--quick", action="store_true",
                   help="the quick subset: smaller synthetic data, 3-fold CV (about a minute)")
    p.add_argument("--tasks", nargs="+", metavar="PATTERN",
                   help="task names or data set names, shell patterns allowed "
                        "(e.g. 'diabetes*' iris); comma-separated lists work too")
    p.add_argument("--out", metavar="DIR",
                   help="also write compare.csv, compare.md and compare.png into DIR")
    p.add_argument("--folds", type=int, metavar="K",
                   help="number of CV folds (default 3 with --quick, else 5)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the folds and of the synthetic data (default 0)")
    p.add_argument("--resources", action="store_true",
                   help="also measure one fit of each side with sklipschitz.metrics (epochs, "
                        "CPU time, peak memory) and estimate the CO2 of each workflow")
    p.add_argument("--list", action="store_true", help="list the tasks and exit")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=cmd_compare)

    models = available_models()
    p = sub.add_parser(
        "fit", help="fit a model on a CSV file and save it (joblib)",
        description="Fit an estimator on a CSV file (header row required) and save it with "
                    "joblib. All columns except --target (and --drop) are features and must be "
                    "numeric, unless --one-hot is given; missing values are an error. Features "
                    "are standardized (StandardScaler) in a Pipeline saved with the model.",
    )
    p.add_argument("data", metavar="DATA.csv", help="training data ('-' for stdin)")
    p.add_argument("--target", required=True, metavar="COL", help="name of the target column")
    p.add_argument("--model", choices=models, default="regressor",
                   help="estimator (default: regressor = LipschitzRegressor)")
    p.add_argument("--loss", metavar="LOSS",
                   help="loss of the regressors: squared_error (default), absolute_error, "
                        "quantile, log_cosh")
    p.add_argument("--quantile", type=float, metavar="Q",
                   help="quantile level in (0, 1); implies --loss quantile for the regressors")
    p.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="any other estimator parameter, e.g. --param alpha=0.01 (repeatable)")
    p.add_argument("--drop", action="append", metavar="COL",
                   help="columns to ignore (repeatable or comma-separated)")
    p.add_argument("--one-hot", action="store_true",
                   help="one-hot encode non-numeric columns (unseen categories at predict "
                        "time are all-zero) instead of stopping with an error")
    p.add_argument("--no-scale", action="store_true",
                   help="do not standardize the numeric features")
    p.add_argument("--delimiter", default=",", metavar="CHAR", help="field delimiter (default ,)")
    p.add_argument("--out", required=True, metavar="MODEL.joblib", help="where to save the model")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser(
        "predict", help="predict a CSV file with a saved model",
        description="Predict every row of a CSV file with a model saved by 'sklipschitz fit'. "
                    "The file needs the feature columns the model was fitted on (by name; other "
                    "columns, such as the target, are ignored). Writes a CSV with one column "
                    "predicted_<target> (and proba_<class> columns with --proba).",
    )
    p.add_argument("model", metavar="MODEL.joblib", help="model file from 'sklipschitz fit'")
    p.add_argument("data", metavar="DATA.csv", help="data to predict ('-' for stdin)")
    p.add_argument("--out", metavar="PREDS.csv", help="output file (default: stdout)")
    p.add_argument("--proba", action="store_true",
                   help="also write class probabilities (classifiers)")
    p.add_argument("--delimiter", default=",", metavar="CHAR", help="field delimiter (default ,)")
    p.set_defaults(func=cmd_predict)
    return parser


def _one_line(exc):
    text = str(exc).strip() or type(exc).__name__
    first = text.splitlines()[0]
    return first


def main(argv=None):
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return int(exc.code or 0) if isinstance(exc.code, int) else EXIT_USAGE
    if getattr(args, "func", None) is None:
        parser.print_usage(sys.stderr)
        print(f"{PROG}: error: a command is required (compare, fit, predict)", file=sys.stderr)
        return EXIT_USAGE
    traceback = os.environ.get("SKLIPSCHITZ_TRACEBACK", "") not in ("", "0")
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return args.func(args)
    except UsageError as exc:
        if traceback:
            raise
        print(f"{PROG} {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # output piped into e.g. `head`: not an error of ours
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - one readable line, never a traceback
        if traceback:
            raise
        prefix = "" if isinstance(exc, (CLIError, ValueError, OSError)) else \
            f"{type(exc).__name__}: "
        print(f"{PROG} {args.command}: error: {prefix}{_one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
