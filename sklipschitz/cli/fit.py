"""``sklipschitz fit``: fit an estimator on a table and save it (safe model file)."""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import sys
from typing import TYPE_CHECKING, Any

from . import _io
from ._common import EXIT_OK, CLIError, UsageError, jsonable_params, one_line, print_json, version

if TYPE_CHECKING:
    import numpy as np

MODEL_FORMAT = "sklipschitz-csv-model"
MODEL_FORMAT_VERSION = 2

_REGRESSION_LOSSES = ("squared_error", "absolute_error", "quantile", "log_cosh")
_LINEAR_LOSSES = _REGRESSION_LOSSES + ("huber",)

# name -> (public module, class, kind, losses accepted by --loss (None: no --loss))
MODELS = {
    "regressor": ("sklipschitz.linear_model", "LipschitzRegressor", "regressor",
                  _LINEAR_LOSSES),
    "quantile-classifier": ("sklipschitz.linear_model", "LipschitzQuantileClassifier",
                            "classifier", None),
    "symnet-classifier": ("sklipschitz.neural_network", "SymNetClassifier", "classifier", None),
    "symnet-regressor": ("sklipschitz.neural_network", "SymNetRegressor", "regressor",
                         _REGRESSION_LOSSES),
}


def model_class(name: str) -> type:
    module, cls, _kind, _losses = MODELS[name]
    return getattr(importlib.import_module(module), cls)


def split_names(values: list[str] | None) -> list[str]:
    """Names from repeatable, comma-separated options."""
    out: list[str] = []
    for v in values or []:
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return out


def _parse_params(items: list[str] | None) -> dict[str, Any]:
    params = {}
    for item in items or []:
        if "=" not in item:
            raise UsageError(f"--param expects NAME=VALUE, got '{item}'")
        key, raw = item.split("=", 1)
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw
        params[key.strip()] = value
    return params


def _check_hidden_layer_sizes(value: Any) -> None:
    # `_validate_params` accepts any array-like here; the entries are checked in `fit` only
    sizes = [value] if isinstance(value, int) else value
    if not isinstance(sizes, (tuple, list)) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes):
        raise UsageError(f"--param hidden_layer_sizes must be a tuple of positive integers, "
                         f"e.g. (50,) or (100, 20); got {value!r}")


def _model_params(args: argparse.Namespace) -> dict[str, Any]:
    """Parameters of the estimator set by --loss and --quantile."""
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
        if losses is not None:  # regressors with a choice of loss
            if params.get("loss", "quantile") != "quantile":
                raise UsageError("--quantile needs --loss quantile (or no --loss)")
            params["loss"] = "quantile"
        elif args.model != "quantile-classifier":
            raise UsageError(f"--quantile is not an option of --model {args.model}")
        params["quantile"] = args.quantile
    return params


def build_estimator(args: argparse.Namespace) -> tuple[Any, str]:
    """The estimator of the command line, its parameters validated (UsageError if not)."""
    from sklearn.utils._param_validation import InvalidParameterError

    params = _model_params(args)
    extra = _parse_params(args.param)
    cls = model_class(args.model)
    valid = cls().get_params()
    unknown = sorted(set(extra) - set(valid))
    if unknown:
        raise UsageError(f"unknown parameter(s) for {cls.__name__}: {', '.join(unknown)} "
                         f"(valid: {', '.join(sorted(valid))})")
    if "hidden_layer_sizes" in extra:
        _check_hidden_layer_sizes(extra["hidden_layer_sizes"])
    params.update(extra)
    if getattr(args, "verbose", 0) and "verbose" in valid and "verbose" not in extra:
        params["verbose"] = args.verbose  # -v: the estimator's epoch lines (on stderr)
    estimator = cls(**params)
    try:
        estimator._validate_params()
    except InvalidParameterError as exc:
        raise UsageError(one_line(exc)) from None
    return estimator, MODELS[args.model][2]


def _feature_columns(table: _io.Table, target: str, drop: list[str]) -> list[str]:
    for name in [target, *drop]:
        if name not in table.header:
            raise CLIError(f"{table.source}: no column named '{name}' "
                           f"(columns: {', '.join(table.header)})")
    features = [h for h in table.header if h != target and h not in drop]
    if not features:
        raise CLIError(f"{table.source}: no feature columns left besides the target '{target}'")
    return features


def design(table: _io.Table, features: list[str], categorical: list[str]) -> np.ndarray:
    """Object/float feature matrix in ``features`` order."""
    import numpy as np

    cols = []
    for name in features:
        values = table.column(name)
        table.check_no_missing(values, name)
        if name in categorical:
            cols.append(np.asarray(values, dtype=object))
        else:
            cols.append(np.asarray(table.numeric_column(values, name), dtype=float))
    if categorical:
        X = np.empty((table.n_rows, len(features)), dtype=object)
        for j, c in enumerate(cols):
            X[:, j] = c
        return X
    return np.column_stack(cols)


def check_scalable(table: _io.Table, X: np.ndarray, features: list[str],
                   categorical: list[str]) -> None:
    """A CLIError naming the first numeric column whose squares overflow over the
    rows (StandardScaler's variance would be inf and its output NaN)."""
    import numpy as np

    limit = float(np.sqrt(np.finfo(np.float64).max / max(X.shape[0], 1)))
    for j, name in enumerate(features):
        if name in categorical:
            continue
        top = float(np.max(np.abs(np.asarray(X[:, j], dtype=float))))
        if top > limit:
            raise CLIError(
                f"{table.source}: column '{name}' has values of magnitude {top:.3g}, too "
                f"large to standardize (their squares over {X.shape[0]} rows overflow; at "
                f"most {limit:.3g}); rescale it (e.g. divide it by a power of ten) or "
                f"--drop {name}")


def _make_pipeline(estimator: Any, features: list[str], categorical: list[str],
                   scale: bool) -> Any:
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


def _target(table: _io.Table, target: str, kind: str) -> np.ndarray:
    import numpy as np

    y_raw = table.column(target)
    table.check_no_missing(y_raw, target)
    if kind == "classifier":
        y = np.asarray(y_raw, dtype=object).astype(str)
        if len(set(y)) < 2:
            raise CLIError(f"{table.source}: target column '{target}' has a single class "
                           f"('{y[0]}'); a classifier needs at least two")
        return y
    if not _io.is_numeric(y_raw):
        classifiers = [m for m in MODELS if MODELS[m][2] == "classifier"]
        err = table.not_numeric_error(y_raw, target, "")
        if "decimal comma" in str(err):
            raise err
        raise CLIError(f"{table.source}: target column '{target}' is not numeric; a regressor "
                       f"needs numbers (for class labels use --model {' or '.join(classifiers)})")
    return np.asarray(table.numeric_column(y_raw, target))


def read_args_table(args: argparse.Namespace,
                    na_values: frozenset | None = None) -> _io.Table:
    """The data table of a command, read with its --delimiter, --encoding and --na-values
    (``na_values`` when --na-values is not given, if not None)."""
    tokens = (na_values if args.na_values is None and na_values is not None
              else _io.parse_na_values(args.na_values))
    return _io.read_table(args.data, args.delimiter, args.encoding, tokens)


def cmd_fit(args: argparse.Namespace) -> int:
    from . import modelfile

    estimator, kind = build_estimator(args)
    _io.check_writable_target(args.out, "model file")
    table = read_args_table(args)
    drop = split_names(args.drop)
    features = _feature_columns(table, args.target, drop)
    text_cols = [f for f in features if table.is_text_column(f)]
    if text_cols and not args.one_hot:
        f = text_cols[0]
        raise table.not_numeric_error(
            table.column(f), f, f"pass --one-hot to one-hot encode text columns, or --drop {f}")
    categorical = list(text_cols)
    X = design(table, features, categorical)
    if not args.no_scale:
        check_scalable(table, X, features, categorical)
    y = _target(table, args.target, kind)
    pipeline = _make_pipeline(estimator, features, categorical, not args.no_scale)
    with contextlib.redirect_stdout(sys.stderr):  # epoch lines (verbose) are not data
        pipeline.fit(X, y)
    model = pipeline.steps[-1][1]
    bundle = {
        "format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION,
        "pipeline": pipeline, "model": args.model, "kind": kind, "target": args.target,
        "features": features, "categorical": categorical,
        "numeric_target": kind == "regressor",
        "na_values": sorted(table.na_values),
        "sklipschitz_version": version(),
    }
    _io.atomic_write(args.out, lambda f: modelfile.dump(bundle, f), binary=True)
    score_name, score, phrase = _training_score(pipeline, model, X, y, kind)
    iters = getattr(model, "n_iter_", None)
    summary = {
        "command": "fit", "estimator": type(model).__name__, "model": args.model, "kind": kind,
        "target": args.target, "n_rows": int(X.shape[0]), "n_features": len(features),
        "features": features, "categorical": categorical,
        "n_iter": None if iters is None else int(iters),
        "training_score": {"name": score_name, "value": score},
        "lipschitz_constant": getattr(model, "lipschitz_constant_", None),
        "loss": getattr(model, "loss_", None),
        "params": jsonable_params(model.get_params()),
        "data": {"source": table.source, "delimiter": table.delimiter,
                 "compression": table.compression, "encoding": table.encoding},
        "out": args.out, "format": modelfile.FORMAT,
        "sklipschitz_version": version(), "warnings": list(getattr(args, "warnings", [])),
    }
    if args.json:
        print_json(summary)
    elif args.quiet == 0:
        encoded = f", one-hot: {', '.join(categorical)}" if categorical else ""
        print(f"fitted {type(model).__name__} on {X.shape[0]} rows x {len(features)} columns "
              f"(target '{args.target}'{encoded})"
              + (f" in {iters} iteration{'s' if iters != 1 else ''}" if iters is not None
                 else "")
              + f"; training {phrase}; saved to {args.out}")
    return EXIT_OK


def _training_score(pipeline: Any, model: Any, X: np.ndarray, y: np.ndarray,
                    kind: str) -> tuple[str, float | list[float], str]:
    """The training fit in the terms of the model's loss: (name, value, phrase)."""
    import numpy as np

    if kind == "classifier":
        acc = float(pipeline.score(X, y))
        return "accuracy", acc, f"accuracy {acc:.4f}"
    loss = getattr(model, "loss", "squared_error")
    pred = np.asarray(pipeline.predict(X))
    if loss == "quantile":
        levels = np.atleast_1d(np.asarray(model.quantile, dtype=float))
        if pred.ndim == 1:
            below = float(np.mean(y <= pred))
            return ("fraction_below", below, f"fraction of targets below the prediction "
                    f"{below:.3f} (quantile {levels[0]:g})")
        # several levels: one prediction column per level
        fractions = [float(f) for f in np.mean(y[:, None] <= pred, axis=0)]
        return ("fraction_below", fractions,
                "fractions of targets below the predictions "
                + ", ".join(f"{f:.3f}" for f in fractions)
                + " (quantiles " + ", ".join(f"{q:g}" for q in levels) + ")")
    if loss == "absolute_error":
        mae = float(np.mean(np.abs(y - pred)))
        return "mean_absolute_error", mae, f"mean absolute error {mae:.6g}"
    if len(y) < 2 or np.ptp(y) == 0:
        # R^2 is undefined (one row) or meaningless (targets that do not vary)
        rmse = float(np.sqrt(np.mean((y - pred) ** 2)))
        return ("root_mean_squared_error", rmse,
                f"root mean squared error {rmse:.6g} (R^2 is undefined: the targets do not "
                "vary)")
    r2 = float(pipeline.score(X, y))
    return "r2", r2, f"R^2 {r2:.4f}"
