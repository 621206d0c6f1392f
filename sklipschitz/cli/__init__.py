"""The ``sklipschitz`` command line: ``compare``, ``fit`` and ``predict``.

Exit codes: 0 success, 1 runtime error (bad data, unreadable file, failed
fit), 2 usage error (argparse's convention), 130 interrupted.  Errors are one
line on stderr, ``sklipschitz COMMAND: error: ...``; warnings one line
``warning: ...``.  Set ``SKLIPSCHITZ_TRACEBACK=1`` to see the Python
traceback of an error instead.  ``--json`` prints a machine-readable summary,
``-q``/``-v`` set the verbosity; stdout carries only data.  See ``docs/cli.md``.

This package is not imported by ``import sklipschitz``: the estimators do not
depend on it.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from ._common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    CLIError,
    UsageError,
    one_line,
    show_warning,
)

__all__ = ["main", "CLIError", "UsageError", "EXIT_OK", "EXIT_ERROR", "EXIT_USAGE",
           "EXIT_INTERRUPTED"]


def _run(args: argparse.Namespace) -> int:
    """Run the command with every warning shown as one ``warning:`` line (and kept in
    ``args.warnings`` for the JSON summaries); ``-qq`` hides them."""
    args.warnings = []
    quiet = getattr(args, "quiet", 0)

    def record(message, category, filename, lineno, file=None, line=None):
        args.warnings.append(" ".join(str(message).split()))
        if quiet < 2:
            show_warning(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        for category in (DeprecationWarning, PendingDeprecationWarning):
            warnings.filterwarnings("ignore", category=category)
        warnings.showwarning = record
        return args.func(args)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    from ._parser import build_parser

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
        return _run(args)
    except UsageError as exc:
        if traceback:
            raise
        print(f"{PROG} {args.command}: error: {one_line(exc)}", file=sys.stderr)
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
        print(f"{PROG} {args.command}: error: {prefix}{one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
