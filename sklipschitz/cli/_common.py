"""Exit codes, the two error types of the command line, and its message helpers."""

from __future__ import annotations

import sys

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

PROG = "sklipschitz"


class CLIError(Exception):
    """A runtime error shown to the user as one line (exit code 1)."""


class UsageError(Exception):
    """A command-line usage error found after parsing (exit code 2)."""


def one_line(exc_or_text):
    """The first non-empty line of an exception's message (or of a text)."""
    text = str(exc_or_text).strip()
    if not text and isinstance(exc_or_text, BaseException):
        text = type(exc_or_text).__name__
    return text.splitlines()[0] if text else ""


def version():
    from sklipschitz import __version__

    return __version__


def show_warning(message, category, filename, lineno, file=None, line=None):
    """``warnings.showwarning`` of the command line: one line ``warning: <message>``
    on stderr, whatever the warning's category or origin."""
    text = " ".join(str(message).split())
    print(f"warning: {text}", file=sys.stderr if file is None else file)
