"""The argument parser: every option's value is checked here, before any work.

A bad value is a usage error (exit 2, argparse's ``parser.error``).
"""

from __future__ import annotations

import argparse
import codecs
from collections.abc import Callable

from ._common import PROG, version
from .compare.command import cmd_compare
from .fit import MODELS, cmd_fit
from .predict import cmd_predict

_DELIMITER_NAMES = {"\\t": "\t", "tab": "\t"}


def delimiter(text: str) -> str | None:
    """One character; ``\\t`` (a backslash and a t, as typed in a shell) or ``tab`` is a tab;
    ``auto`` (None) detects it."""
    if text == "auto":
        return None
    value = _DELIMITER_NAMES.get(text, text)
    if len(value) != 1:
        raise argparse.ArgumentTypeError(
            f"expected one character (or '\\t' for a tab), got {text!r}")
    if value in "\"\r\n":
        raise argparse.ArgumentTypeError(f"{text!r} cannot be a field delimiter")
    return value


def encoding(text: str) -> str:
    """A text encoding Python knows (e.g. utf-8, latin-1, cp1252, utf-16)."""
    try:
        codecs.lookup(text)
    except LookupError:
        raise argparse.ArgumentTypeError(f"unknown encoding {text!r} (e.g. utf-8, latin-1, "
                                         "cp1252, utf-16)") from None
    return text


def _int_at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


def _output_options() -> argparse.ArgumentParser:
    """--json, -q and -v, shared by every command."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("output")
    g.add_argument("--json", action="store_true",
                   help="print the summary as one JSON object (fit, compare: on stdout instead "
                        "of the text; predict: on stderr, the predictions stay on stdout)")
    g.add_argument("-q", "--quiet", action="count", default=0,
                   help="no progress or notes on stderr; -qq: no warnings either (they are "
                        "still listed in the --json summary)")
    g.add_argument("-v", "--verbose", action="count", default=0,
                   help="fit: the estimator's epoch lines on stderr (its verbose parameter; "
                        "-vv for more)")
    return p


def _table_options(predict: bool = False) -> argparse.ArgumentParser:
    """How fit and predict read their table."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("reading the table")
    g.add_argument("--delimiter", type=delimiter, default=None, metavar="CHAR",
                   help="field delimiter, one character; '\\t' or 'tab' for a tab (default: "
                        "detected among , ; tab |)")
    g.add_argument("--encoding", type=encoding, default="utf-8", metavar="NAME",
                   help="text encoding (default utf-8; a byte-order mark is fine, UTF-16 is "
                        "recognised by its byte-order mark)")
    g.add_argument("--na-values", action="append", metavar="TOKENS",
                   help="comma-separated cells that count as missing, replacing the default "
                        + ("the tokens the model was fitted with " if predict else
                           "list NA,N/A,NaN,null,None,?,- ")
                        + "(any case; an empty cell is always missing); --na-values '' for "
                          "empty cells only")
    return p


def _add_compare(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare", help="defaults vs learning-rate-tuned scikit-learn baselines",
        parents=[_output_options()],
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
    p.add_argument("--folds", type=_int_at_least(2), metavar="K",
                   help="number of CV folds, at least 2 (default 3 with --quick, else 5)")
    p.add_argument("--seed", type=_int_at_least(0), default=0, metavar="S",
                   help="seed (>= 0) of the folds and of the synthetic data (default 0)")
    p.add_argument("--resources", action="store_true",
                   help="also measure one fit of each side with sklipschitz.metrics (epochs, "
                        "CPU time, peak memory) and estimate the CO2 of each workflow")
    p.add_argument("--list", action="store_true", help="list the tasks and exit")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar on stderr (as with -q)")
    p.set_defaults(func=cmd_compare)


def _add_fit(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fit", help="fit a model on a CSV file and save it (safe model file)",
        parents=[_output_options(), _table_options()],
        description="Fit an estimator on a CSV file (header row required; gzip, bzip2, xz or "
                    "zip compressed files are read too) and save it as a model file of plain "
                    "arrays and JSON, which loads without running any code. All columns "
                    "except --target (and --drop) are features and must be numeric, unless "
                    "--one-hot is given; missing values are an error. Features are "
                    "standardized (StandardScaler) in a Pipeline saved with the model.",
    )
    p.add_argument("data", metavar="DATA.csv", help="training data ('-' for stdin)")
    p.add_argument("--target", required=True, metavar="COL", help="name of the target column")
    p.add_argument("--model", choices=list(MODELS), default="regressor",
                   help="estimator (default: regressor = LipschitzRegressor)")
    p.add_argument("--loss", metavar="LOSS",
                   help="loss of the regressors: squared_error (default), absolute_error, "
                        "quantile, log_cosh; also huber for --model regressor")
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
    p.add_argument("--out", required=True, metavar="MODEL.skm", help="where to save the model")
    p.set_defaults(func=cmd_fit)


def _add_predict(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict", help="predict a CSV file with a saved model",
        parents=[_output_options(), _table_options(predict=True)],
        description="Predict every row of a CSV file with a model saved by 'sklipschitz fit'. "
                    "The file needs the feature columns the model was fitted on (by name; other "
                    "columns, such as the target, are ignored). Writes a CSV with one column "
                    "predicted_<target> (and proba_<class> columns with --proba).",
    )
    p.add_argument("model", metavar="MODEL.skm", help="model file from 'sklipschitz fit'")
    p.add_argument("data", metavar="DATA.csv", help="data to predict ('-' for stdin)")
    p.add_argument("--out", metavar="PREDS.csv", help="output file (default: stdout)")
    p.add_argument("--proba", action="store_true",
                   help="also write class probabilities (classifiers)")
    p.add_argument("--trust-pickle", action="store_true",
                   help="also load a pickle/joblib model file (written by earlier versions of "
                        "this command, or with joblib in Python). Loading a pickle runs "
                        "any code it contains: a crafted file can do anything your user can. "
                        "Only for files you trust; without this flag such files are refused "
                        "unread")
    p.set_defaults(func=cmd_predict)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="scikit-learn estimators trained at a learning rate computed from the "
                    "data (1/L): no learning rate to tune.",
        epilog="Exit codes: 0 success, 1 runtime error (e.g. bad data), 2 usage error.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_compare(sub)
    _add_fit(sub)
    _add_predict(sub)
    return parser
