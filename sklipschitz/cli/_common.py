"""Exit codes, the two error types of the command line, and its message helpers."""

from __future__ import annotations

import json
import math
import sys
from typing import IO, Any

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

PROG = "sklipschitz"


class CLIError(Exception):
    """A runtime error shown to the user as one line (exit code 1)."""


class UsageError(Exception):
    """A command-line usage error found after parsing (exit code 2)."""


def one_line(exc_or_text: object) -> str:
    """The first non-empty line of an exception's message (or of a text)."""
    text = str(exc_or_text).strip()
    if not text and isinstance(exc_or_text, BaseException):
        text = type(exc_or_text).__name__
    return text.splitlines()[0] if text else ""


def version() -> str:
    from sklipschitz import __version__

    return __version__


def show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: IO[str] | None = None, line: str | None = None) -> None:
    """``warnings.showwarning`` of the command line: one line ``warning: <message>``
    on stderr, whatever the warning's category or origin."""
    text = " ".join(str(message).split())
    print(f"warning: {text}", file=sys.stderr if file is None else file)


def jsonable(value: Any) -> Any:
    """``value`` with NumPy numbers and arrays as Python numbers and lists, tuples as
    lists, and non-finite floats as ``None`` (JSON has no NaN or infinity)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # NumPy array or scalar
        return jsonable(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def jsonable_params(params: dict[str, Any]) -> dict[str, Any]:
    """Estimator parameters for a JSON summary (objects as their ``repr``)."""
    out = {}
    for key, value in params.items():
        if isinstance(value, (dict, list, tuple, bool, int, float, str)) or value is None:
            out[key] = jsonable(value)
        else:
            out[key] = repr(value)
    return out


def print_json(obj: Any, file: IO[str] | None = None) -> None:
    """One JSON object on one line (stdout by default)."""
    print(json.dumps(jsonable(obj), allow_nan=False), file=sys.stdout if file is None else file,
          flush=True)
