"""Reading CSV tables and writing output files atomically.

CSV files are read with the standard library ``csv`` module (pandas is not
needed).  Every output file is written to a temporary file in the target
directory and renamed into place (:func:`atomic_write`), so a failed write
never leaves a truncated file where a good one was.
"""

from __future__ import annotations

import csv
import math
import os
import re
import sys
import tempfile

from ._common import CLIError

MISSING_TOKENS = {"", "na", "n/a", "nan", "null", "none", "?", "-"}

# a number written with a decimal comma: 1,5  -0,25  1.234,5  (not 1,234 alone: ambiguous)
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d*),\d+([eE][+-]?\d+)?$")


def is_missing(cell):
    return cell.strip().lower() in MISSING_TOKENS


def to_float(cell):
    try:
        return float(cell)
    except ValueError:
        return None


def is_numeric(values):
    return all(to_float(v) is not None for v in values)


def line_of(i):
    """File line of data row ``i`` (0-based): after the header, blank lines aside."""
    return i + 2


def decimal_comma_hint(value):
    """A sentence for a cell that is a number with a decimal comma, else ''."""
    if _DECIMAL_COMMA.match(value.strip()):
        return ("it looks like a number with a decimal comma; numbers must use a decimal "
                "point (e.g. 1.5): convert the file first")
    return ""


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


def column(header, rows, name):
    j = header.index(name)
    return [row[j] for row in rows]


def check_no_missing(values, name, source):
    missing = [i for i, v in enumerate(values) if is_missing(v)]
    if missing:
        raise CLIError(
            f"{source}: column '{name}' has {len(missing)} missing value(s) (first at data "
            f"row {missing[0] + 1}, line {line_of(missing[0])}); fill them in or drop those rows")


def not_numeric_error(values, name, source, advice):
    """CLIError naming the first non-numeric cell of a column.

    ``advice`` ends the message, unless the cell is a number with a decimal
    comma: then the message says so instead.
    """
    i = next(i for i, v in enumerate(values) if not is_missing(v) and to_float(v) is None)
    where = f"'{values[i]}' at data row {i + 1}, line {line_of(i)}"
    hint = decimal_comma_hint(values[i])
    if hint:
        return CLIError(f"{source}: column '{name}' is not numeric ({where}): {hint}")
    return CLIError(f"{source}: column '{name}' is not numeric ({where})"
                    + (f"; {advice}" if advice else ""))


def numeric_column(values, name, source):
    """Floats of a column, or CLIError naming the column and the first bad cell."""
    out = []
    for i, v in enumerate(values):
        x = to_float(v)
        if x is None:
            raise not_numeric_error(values, name, source, "")
        if not math.isfinite(x):
            raise CLIError(f"{source}: column '{name}' has a non-finite value ('{v}' at data "
                           f"row {i + 1}, line {line_of(i)})")
        out.append(x)
    return out


# ----------------------------------------------------------------------------
# Output files
# ----------------------------------------------------------------------------


def check_writable_target(path, what="output file"):
    """Before any work: the directory of ``path`` exists and ``path`` is not a directory."""
    out_dir = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(out_dir):
        raise CLIError(f"{path}: directory {out_dir} does not exist")
    if os.path.isdir(path):
        raise CLIError(f"{path}: is a directory, expected the {what}'s name")


def _new_file_mode(path):
    """The existing file's permissions, or those of a new file under the umask."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write(path, write, binary=False):
    """Write ``path`` through ``write(stream)`` atomically.

    The data go to a temporary file in the same directory, which is flushed,
    synced and renamed over ``path`` (``os.replace``) only once ``write``
    returned.  On any failure the temporary file is removed and ``path`` is
    left as it was; an ``OSError`` becomes a :class:`CLIError` naming
    ``path``.
    """
    directory = os.path.dirname(os.path.abspath(path))
    mode = _new_file_mode(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.",
                                   suffix=".tmp")
    except OSError as exc:
        raise CLIError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        if binary:
            stream = os.fdopen(fd, "wb")
        else:
            stream = os.fdopen(fd, "w", newline="", encoding="utf-8")
        with stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise CLIError(f"{path}: cannot write ({exc.strerror or exc}); "
                           "the previous file, if any, is unchanged") from None
        raise
