"""Reading tables and writing output files atomically.

Tables are read with the standard library (``csv``, ``gzip``, ``bz2``,
``lzma``, ``zipfile``; pandas is not needed): compression is recognised by
the file's first bytes (so compressed stdin works too), the text is decoded
with ``--encoding`` (UTF-8 by default, a byte-order mark is fine, UTF-16 is
recognised by its byte-order mark), the delimiter is detected among
``, ; TAB |`` unless given, and the missing-value tokens are chosen with
``--na-values``.  Every output file is written to a temporary file in the
target directory and renamed into place (:func:`atomic_write`), so a failed
write never leaves a truncated file where a good one was.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import lzma
import math
import os
import re
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from ._common import CLIError

#: cells read as missing by default (compared after stripping, in any case)
DEFAULT_NA_VALUES = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-"})

#: delimiters tried, in order of preference, when none is given
DELIMITER_CANDIDATES = (",", ";", "\t", "|")

_SNIFF_LINES = 200
_SNIFF_CHARS = 1 << 20

# a number written with a decimal comma: 1,5  -0,25  1.234,5  (not 1,234 alone: ambiguous)
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d*),\d+([eE][+-]?\d+)?$")

# first bytes -> (name, decompress function, exceptions of a damaged stream)
_COMPRESSIONS = (
    (b"\x1f\x8b", "gzip", gzip.decompress, (OSError, EOFError, zlib.error)),
    (b"BZh", "bzip2", bz2.decompress, (OSError, EOFError, ValueError)),
    (b"\xfd7zXZ\x00", "xz", lzma.decompress, (lzma.LZMAError, EOFError)),
)
_ZIP_MAGIC = b"PK\x03\x04"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def to_float(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def is_numeric(values: Iterable[str]) -> bool:
    return all(to_float(v) is not None for v in values)


def decimal_comma_hint(value: str) -> str:
    """A sentence for a cell that is a number with a decimal comma, else ''."""
    if _DECIMAL_COMMA.match(value.strip()):
        return ("it looks like a number with a decimal comma; numbers must use a decimal "
                "point (e.g. 1.5): convert the file first")
    return ""


@dataclass
class Table:
    """A table read by :func:`read_table`: cells are stripped strings.

    ``lines[i]`` is the file line on which data row ``i`` starts; ``na_values``
    the (lower-case) cells that count as missing.
    """

    source: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    na_values: frozenset = field(default=DEFAULT_NA_VALUES)
    delimiter: str = ","
    compression: str | None = None
    encoding: str = "utf-8"

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> list[str]:
        j = self.header.index(name)
        return [row[j] for row in self.rows]

    def is_missing(self, cell: str) -> bool:
        return cell == "" or cell.lower() in self.na_values

    def where(self, i: int) -> str:
        return f"data row {i + 1}, line {self.lines[i]}"

    def check_no_missing(self, values: Sequence[str], name: str) -> None:
        missing = [i for i, v in enumerate(values) if self.is_missing(v)]
        if missing:
            raise CLIError(
                f"{self.source}: column '{name}' has {len(missing)} missing value(s) (first "
                f"at {self.where(missing[0])}: '{values[missing[0]]}'); fill them in or drop "
                "those rows (--na-values chooses which cells count as missing)")

    def is_text_column(self, name: str) -> bool:
        """True if a present (non-missing) cell of the column is not a number."""
        return not is_numeric(v for v in self.column(name) if not self.is_missing(v))

    def not_numeric_error(self, values: Sequence[str], name: str, advice: str) -> CLIError:
        """CLIError naming the first non-numeric cell of a column.

        ``advice`` ends the message, unless the cell is a number with a decimal
        comma: then the message says so instead.
        """
        i = next(i for i, v in enumerate(values)
                 if not self.is_missing(v) and to_float(v) is None)
        where = f"'{values[i]}' at {self.where(i)}"
        hint = decimal_comma_hint(values[i])
        if hint:
            return CLIError(f"{self.source}: column '{name}' is not numeric ({where}): {hint}")
        return CLIError(f"{self.source}: column '{name}' is not numeric ({where})"
                        + (f"; {advice}" if advice else ""))

    def numeric_column(self, values: Sequence[str], name: str) -> list[float]:
        """Floats of a column, or CLIError naming the column and the first bad cell."""
        out = []
        for i, v in enumerate(values):
            x = to_float(v)
            if x is None:
                raise self.not_numeric_error(values, name, "")
            if not math.isfinite(x):
                raise CLIError(f"{self.source}: column '{name}' has a non-finite value ('{v}' "
                               f"at {self.where(i)})")
            out.append(x)
        return out


def parse_na_values(items: Sequence[str] | None) -> frozenset:
    """The missing-value tokens of ``--na-values`` (comma-separated, repeatable).

    ``None`` (the option not given) gives :data:`DEFAULT_NA_VALUES`; an empty
    cell is always missing.
    """
    if items is None:
        return DEFAULT_NA_VALUES
    tokens = {t.strip().lower() for item in items for t in item.split(",")}
    return frozenset(tokens | {""})


def _read_bytes(path: str) -> tuple[bytes, str]:
    if path == "-":
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:  # a text-only stdin (embedded interpreters): already decoded
            return sys.stdin.read().encode("utf-8"), "<stdin>"
        return stream.read(), "<stdin>"
    if not os.path.exists(path):
        raise CLIError(f"{path}: no such file")
    if os.path.isdir(path):
        raise CLIError(f"{path}: is a directory, expected a CSV file")
    try:
        with open(path, "rb") as f:
            return f.read(), path
    except OSError as exc:
        raise CLIError(f"{path}: cannot read ({exc.strerror or exc})") from None


def decompress(data: bytes, name: str) -> tuple[bytes, str | None]:
    """The bytes of a gzip, bzip2, xz or single-file zip stream (recognised by its first
    bytes) decompressed, and the compression's name (None for plain data)."""
    for magic, kind, function, errors in _COMPRESSIONS:
        if data.startswith(magic):
            try:
                return function(data), kind
            except errors as exc:
                raise CLIError(f"{name}: damaged or truncated {kind} file ({exc})") from None
    if data.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = [m for m in archive.infolist() if not m.is_dir()]
                if len(members) != 1:
                    raise CLIError(f"{name}: a zip archive must hold exactly one file, it holds "
                                   f"{len(members)}: {', '.join(m.filename for m in members)}")
                return archive.read(members[0]), "zip"
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise CLIError(f"{name}: damaged zip file ({exc})") from None
    if data.startswith(_ZSTD_MAGIC):
        raise CLIError(f"{name}: zstd-compressed files are not supported; decompress it first "
                       "or use gzip, bzip2, xz or zip")
    return data, None


def decode(data: bytes, name: str, encoding: str = "utf-8") -> tuple[str, str]:
    """Text of ``data`` and the encoding used.  UTF-8 accepts a byte-order mark, and a
    UTF-16 byte-order mark switches the default UTF-8 to UTF-16."""
    canonical = codecs.lookup(encoding).name
    if canonical == "utf-8":
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            canonical = "utf-16"
        else:
            canonical = "utf-8-sig"
    try:
        text = data.decode(canonical)
    except UnicodeDecodeError as exc:
        bad = data[exc.start:exc.start + 1].hex()
        raise CLIError(f"{name}: not a {encoding} text file (byte 0x{bad} at offset "
                       f"{exc.start}: {exc.reason}); give its encoding, e.g. --encoding latin-1 "
                       "or --encoding cp1252") from None
    if "\x00" in text:
        raise CLIError(f"{name}: not a text file (it contains NUL characters)")
    return text, "utf-8" if canonical == "utf-8-sig" else canonical


def sniff_delimiter(text: str) -> str:
    """The candidate delimiter that splits the header into the most columns while every
    one of the first rows has as many fields (',' when none does)."""
    sample = text[:_SNIFF_CHARS].splitlines()[:_SNIFF_LINES]
    best, best_width = ",", 1
    for delim in DELIMITER_CANDIDATES:
        try:
            rows = [r for r in csv.reader(sample, delimiter=delim) if r]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        # a quoted cell spanning lines is cut by the sample: ignore the last row
        body = rows[1:-1] if len(rows) > 2 else rows[1:]
        if all(len(r) == width for r in body) and width > best_width:
            best, best_width = delim, width
    return best


def read_table(path: str, delimiter: str | None = None, encoding: str = "utf-8",
               na_values: frozenset = DEFAULT_NA_VALUES) -> Table:
    """Read a table with a header row from ``path`` (``'-'``: stdin).

    Raises :class:`CLIError` for a missing/empty/undecodable file, a missing
    header, duplicate column names or rows of the wrong length.
    """
    data, name = _read_bytes(path)
    data, compression = decompress(data, name)
    text, used = decode(data, name, encoding)
    delim = delimiter if delimiter is not None else sniff_delimiter(text)
    table = _parse(io.StringIO(text, newline=""), name, delim, na_values)
    table.compression, table.encoding = compression, used
    return table


def _parse(f: IO[str], name: str, delimiter: str, na_values: frozenset) -> Table:
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
        rows, lines = [], []
        previous = reader.line_num
        for row in reader:
            start, previous = previous + 1, reader.line_num
            if not row or all(c.strip() == "" for c in row):
                continue  # blank line
            if len(row) != len(header):
                hint = ""
                if len(header) == 1 and delimiter != ",":
                    hint = "; is --delimiter right?"
                raise CLIError(f"{name}, line {start}: {len(row)} fields, "
                               f"expected {len(header)} (as in the header){hint}")
            rows.append([c.strip() for c in row])
            lines.append(start)
    except csv.Error as exc:
        raise CLIError(f"{name}, line {reader.line_num}: {exc}") from None
    if not rows:
        raise CLIError(f"{name}: no data rows after the header")
    return Table(name, header, rows, lines, na_values, delimiter)


# ----------------------------------------------------------------------------
# Output files
# ----------------------------------------------------------------------------


def check_writable_target(path: str, what: str = "output file") -> None:
    """Before any work: the directory of ``path`` exists and ``path`` is not a directory."""
    out_dir = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(out_dir):
        raise CLIError(f"{path}: directory {out_dir} does not exist")
    if os.path.isdir(path):
        raise CLIError(f"{path}: is a directory, expected the {what}'s name")


def _new_file_mode(path: str) -> int:
    """The existing file's permissions, or those of a new file under the umask."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write(path: str, write: Callable[[IO[Any]], object], binary: bool = False) -> None:
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
        stream: IO[Any]
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
