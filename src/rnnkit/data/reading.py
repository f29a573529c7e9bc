"""Reading a user's CSV or Parquet file, with messages that say what to fix.

Every problem is raised as a :class:`~rnnkit.errors.DataError` naming the file, and
where it helps the column and the first bad lines. Line numbers count the header as
line 1, as a text editor or spreadsheet shows them.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import stat
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd

from rnnkit.errors import DataError, did_you_mean, format_examples

PARQUET_SUFFIXES = (".parquet", ".pq")
_CHUNK = 1 << 20


def read_table(path: str | os.PathLike[str], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Reads a CSV (optionally gzip-compressed) or Parquet file into a DataFrame.

    Args:
        path: the file to read.
        columns: columns that must be present; a missing one is reported with the
            closest existing name. Only these columns are kept when given.

    Returns:
        The table as read, every CSV column as text (``dtype=str``), so that parsing
        numbers and dates happens later with messages that name the bad lines.

    Raises:
        DataError: the file is missing, empty, not UTF-8, unparseable, has no data rows
            or lacks one of ``columns``.

    Example:
        >>> df = read_table("loans.csv", columns=["created_at", "amount"])  # doctest: +SKIP
    """
    path = check_file(path)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        frame = _read_parquet(path)
        frame.attrs["line_offset"] = 1
        frame.attrs["line_word"] = "row"
    else:
        frame = _read_csv(path)
        frame.attrs["line_offset"] = 2
        frame.attrs["line_word"] = "line"
    frame.attrs["source"] = str(path)
    _require_unique_columns(frame)

    if columns is not None:
        require_columns(frame, columns)
        frame = frame[list(dict.fromkeys(columns))]
    if len(frame) == 0:
        raise no_rows_error(path)
    return frame


def check_file(path: str | os.PathLike[str]) -> Path:
    """Checks that ``path`` is an existing, non-empty file, before any format is read.

    Args:
        path: a CSV or Parquet file.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        DataError: the file is missing, a directory or empty.

    Example:
        >>> check_file("loans.csv")  # doctest: +SKIP
        PosixPath('loans.csv')
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"File '{path}' does not exist. Check the path and try again.")
    if path.is_dir():
        raise DataError(f"'{path}' is a directory; give the path of a CSV or Parquet file.")
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):
        kind = "a pipe (such as <(...) makes)" if stat.S_ISFIFO(mode) else "not a regular file"
        raise DataError(
            f"'{path}' is {kind}: rnnkit reads its data file more than once (to check it, "
            "then in chunks). Save the data to a file first and give its path."
        )
    if path.stat().st_size == 0:
        raise DataError(f"File '{path}' is empty. Give a CSV with a header line and data rows.")
    return path


def check_csv_file(path: str | os.PathLike[str]) -> tuple[Path, str]:
    """Checks a CSV file before reading it: present, not empty, not binary, UTF-8.

    Args:
        path: a CSV file, optionally gzip-compressed (``.gz``; only its decompression
            is checked, when it is read).

    Returns:
        The path and the encoding to read it with (``utf-8-sig`` when it starts with a
        byte-order mark).

    Raises:
        DataError: the file is missing, empty, binary or not UTF-8 (with the bad line).

    Example:
        >>> check_csv_file("loans.csv")  # doctest: +SKIP
        (PosixPath('loans.csv'), 'utf-8')
    """
    path = check_file(path)
    if path.suffix.lower() == ".gz":
        return path, "utf-8"
    with path.open("rb") as handle:
        if b"\x00" in handle.read(8192):
            raise DataError(
                f"File '{path}' is binary, not CSV text. Give a UTF-8 CSV or a .parquet file."
            )
    return path, _check_utf8(path)


def read_csv_header(path: Path, encoding: str, columns: Sequence[str]) -> list[int]:
    """Reads only the header of a checked CSV and finds ``columns`` in it.

    Names are compared with spaces around them stripped, as :func:`read_table` does.

    Args:
        path, encoding: as returned by :func:`check_csv_file`.
        columns: columns that must be present.

    Returns:
        The 0-based position in the file of each of ``columns``, in their order.

    Raises:
        DataError: the header repeats a name or lacks one of ``columns`` (with the
            closest existing name).

    Example:
        >>> read_csv_header(Path("loans.csv"), "utf-8", ["created_at", "amount"])  # doctest: +SKIP
        [0, 3]
    """
    with csv_read_errors(path):
        header = pd.read_csv(path, nrows=0, dtype=str, encoding=encoding)
        header.columns = _header_names(path, encoding)
    header.attrs["source"] = str(path)
    _require_unique_columns(header)
    require_columns(header, columns)
    return [header.columns.get_loc(name) for name in columns]


def no_rows_error(path: Path) -> DataError:
    """The error for a file that has a header but no data rows."""
    return DataError(
        f"File '{path}' has a header but no data rows. Add rows below the header line."
    )


@contextlib.contextmanager
def csv_read_errors(path: Path) -> Iterator[None]:
    """Turns what pandas raises while reading a CSV into DataErrors naming the file."""
    try:
        yield
    except pd.errors.EmptyDataError as err:
        raise DataError(
            f"File '{path}' is empty. Give a CSV with a header line and data rows."
        ) from err
    except pd.errors.ParserError as err:
        raise DataError(
            f"File '{path}' is not a well-formed CSV: {err}. Check quoting and that every "
            "line has as many fields as the header."
        ) from err
    except UnicodeDecodeError as err:
        raise DataError(f"File '{path}' is not UTF-8 text. Save it as UTF-8.") from err
    except (OSError, EOFError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
        raise DataError(
            f"File '{path}' could not be decompressed ({type(err).__name__}: {err}). Check "
            "that it is a complete gzip file, or give the CSV uncompressed."
        ) from err


def _header_names(path: Path, encoding: str) -> list[str]:
    """The header's names as written, spaces around them stripped. pandas renames a
    repeated name (``value``, ``value.1``), which would hide it from the check below."""
    first = pd.read_csv(
        path, header=None, nrows=1, dtype=str, keep_default_na=False, encoding=encoding
    )
    return [str(name).strip() for name in first.iloc[0]]


def _require_unique_columns(frame: pd.DataFrame) -> None:
    duplicated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if duplicated:
        # e.g. "date, date " once spaces are stripped: frame["date"] would be two columns.
        raise DataError(
            f"File '{frame.attrs.get('source', 'the data')}' has more than one column named "
            f"{', '.join(repr(c) for c in duplicated)} (spaces around names are ignored). "
            "Rename the columns so that each name appears once."
        )


def require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str = "column") -> None:
    """Raises a DataError naming each missing column and its closest existing name."""
    source = frame.attrs.get("source", "the data")
    present = [str(c) for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        parts = [f"'{name}'.{did_you_mean(name, present)}" for name in missing]
        raise DataError(
            f"File '{source}' has no {what} "
            + " No column ".join(parts)
            + f" Columns in the file: {', '.join(repr(c) for c in present[:20])}"
            + ("..." if len(present) > 20 else "")
        )


def line_numbers(frame: pd.DataFrame, positions: Sequence[int]) -> list[int]:
    """File line (or Parquet row) numbers of the given 0-based row positions."""
    offset = int(frame.attrs.get("line_offset", 2))
    return [int(p) + offset for p in positions]


def describe_bad_rows(
    frame: pd.DataFrame, column: str, mask: pd.Series, problem: str, fix: str
) -> DataError:
    """A DataError for the rows where ``mask`` is true: how many, which lines, the values."""
    positions = [i for i, bad in enumerate(mask.to_numpy()) if bad]
    values = frame[column].iloc[positions[:3]].tolist()
    word = frame.attrs.get("line_word", "line")
    examples = format_examples(line_numbers(frame, positions[:3]), values).replace("line", word)
    source = frame.attrs.get("source", "the data")
    return DataError(
        f"File '{source}', column '{column}': {len(positions)} {problem} ({examples}). {fix}"
    )


def _check_utf8(path: Path) -> str:
    """Returns the encoding to read with; raises with the first bad line if not UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with path.open("rb") as handle:
        head = handle.read(3)
        encoding = "utf-8-sig" if head == codecs.BOM_UTF8 else "utf-8"
        handle.seek(0)
        while chunk := handle.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as err:
                bad_line = line + chunk[: err.start].count(b"\n")
                raise DataError(
                    f"File '{path}' is not UTF-8 text (line {bad_line} has byte "
                    f"0x{chunk[err.start]:02x}). Save it as UTF-8 (e.g. in a spreadsheet: "
                    "CSV UTF-8), or convert it with `iconv -f latin1 -t utf-8`."
                ) from err
            line += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as err:
            raise DataError(f"File '{path}' is not UTF-8 text: it ends mid-character.") from err
    return encoding


def _read_csv(path: Path) -> pd.DataFrame:
    path, encoding = check_csv_file(path)
    with csv_read_errors(path):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        frame.columns = _header_names(path, encoding)
    # Empty fields read as "" (keep_default_na=False keeps texts like "NA" intact);
    # they are treated as missing.
    return frame.replace("", pd.NA)


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as err:  # pyarrow raises many types for a bad file
        raise DataError(
            f"File '{path}' could not be read as Parquet ({type(err).__name__}: {err}). "
            "Check that it is a Parquet file, or give a CSV."
        ) from err
