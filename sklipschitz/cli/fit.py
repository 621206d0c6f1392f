"""``sklipschitz fit``: fit an estimator on a CSV file and save it (joblib)."""

from __future__ import annotations

import ast
import importlib

from . import _io
from ._common import EXIT_OK, CLIError, UsageError, one_line, version

MODEL_FORMAT = "sklipschitz-csv-model"
MODEL_FORMAT_VERSION = 1

_REGRESSION_LOSSES = ("squared_error", "absolute_error", "quantile", "log_cosh")

# name -> (public module, class, kind, losses accepted by --loss (None: no --loss))
MODELS = {
    "regressor": ("sklipschitz.linear_model", "LipschitzRegressor", "regressor",
                  _REGRESSION_LOSSES),
    "quantile-classifier": ("sklipschitz.linear_model", "LipschitzQuantileClassifier",
                            "classifier", None),
    "symnet-classifier": ("sklipschitz.neural_network", "SymNetClassifier", "classifier", None),
    "symnet-regressor": ("sklipschitz.neural_network", "SymNetRegressor", "regressor",
                         _REGRESSION_LOSSES),
}


def model_class(name):
    module, cls, _kind, _losses = MODELS[name]
    return getattr(importlib.import_module(module), cls)


def split_names(values):
    """Names from repeatable, comma-separated options."""
    out = []
    for v in values or []:
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return out


def _parse_params(items):
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


def _check_hidden_layer_sizes(value):
    # `_validate_params` accepts any array-like here; the entries are checked in `fit` only
    sizes = [value] if isinstance(value, int) else value
    if not isinstance(sizes, (tuple, list)) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes):
        raise UsageError(f"--param hidden_layer_sizes must be a tuple of positive integers, "
                         f"e.g. (50,) or (100, 20); got {value!r}")


def _model_params(args):
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


def build_estimator(args):
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
    estimator = cls(**params)
    try:
        estimator._validate_params()
    except InvalidParameterError as exc:
        raise UsageError(one_line(exc)) from None
    return estimator, MODELS[args.model][2]


def _feature_columns(header, target, drop, source):
    for name in [target, *drop]:
        if name not in header:
            raise CLIError(f"{source}: no column named '{name}' (columns: {', '.join(header)})")
    features = [h for h in header if h != target and h not in drop]
    if not features:
        raise CLIError(f"{source}: no feature columns left besides the target '{target}'")
    return features


def design(header, rows, features, categorical, source):
    """Object/float feature matrix in ``features`` order."""
    import numpy as np

    cols = []
    for name in features:
        values = _io.column(header, rows, name)
        _io.check_no_missing(values, name, source)
        if name in categorical:
            cols.append(np.asarray(values, dtype=object))
        else:
            cols.append(np.asarray(_io.numeric_column(values, name, source), dtype=float))
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


def _target(header, rows, target, kind, source):
    import numpy as np

    y_raw = _io.column(header, rows, target)
    _io.check_no_missing(y_raw, target, source)
    if kind == "classifier":
        y = np.asarray(y_raw, dtype=object).astype(str)
        if len(set(y)) < 2:
            raise CLIError(f"{source}: target column '{target}' has a single class "
                           f"('{y[0]}'); a classifier needs at least two")
        return y
    if not _io.is_numeric(y_raw):
        classifiers = [m for m in MODELS if MODELS[m][2] == "classifier"]
        err = _io.not_numeric_error(y_raw, target, source, "")
        if "decimal comma" in str(err):
            raise err
        raise CLIError(f"{source}: target column '{target}' is not numeric; a regressor "
                       f"needs numbers (for class labels use --model {' or '.join(classifiers)})")
    return np.asarray(_io.numeric_column(y_raw, target, source))


def cmd_fit(args):
    import joblib

    estimator, kind = build_estimator(args)
    _io.check_writable_target(args.out, "model file")
    source = args.data
    header, rows = _io.read_csv(args.data, args.delimiter)
    drop = split_names(args.drop)
    features = _feature_columns(header, args.target, drop, source)
    text_cols = [f for f in features
                 if not _io.is_numeric([v for v in _io.column(header, rows, f)
                                        if not _io.is_missing(v)])]
    if text_cols and not args.one_hot:
        f = text_cols[0]
        raise _io.not_numeric_error(
            _io.column(header, rows, f), f, source,
            f"pass --one-hot to one-hot encode text columns, or --drop {f}")
    categorical = list(text_cols)
    X = design(header, rows, features, categorical, source)
    y = _target(header, rows, args.target, kind, source)
    pipeline = _make_pipeline(estimator, features, categorical, not args.no_scale)
    pipeline.fit(X, y)
    model = pipeline.steps[-1][1]
    bundle = {
        "format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION,
        "pipeline": pipeline, "model": args.model, "kind": kind, "target": args.target,
        "features": features, "categorical": categorical,
        "numeric_target": kind == "regressor",
        "sklipschitz_version": version(),
    }
    _io.atomic_write(args.out, lambda f: joblib.dump(bundle, f), binary=True)
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

