"""Aggregating a CSV bigger than memory into regular series, chunk by chunk.

:func:`aggregate_file` gives the same :class:`~rnnkit.data.timeseries.PreparedSeries` as
``aggregate(read_table(path), ...)`` while holding only one chunk of rows and a few
statistics per period: each chunk is parsed with the same checks (bad values are reported
with their line in the file), reduced to per-period partial statistics (count, sum, min,
max and the last value with its time), and the partials are merged as chunks arrive.
:func:`aggregate_file_by_id` does the same for many series in one file, one per value of
an id column (branches, products, stores), and :func:`aggregate_frame_by_id` for rows
already in memory.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit.data.reading import (
    check_csv_file,
    csv_read_errors,
    describe_bad_rows,
    no_rows_error,
    read_csv_header,
    require_columns,
)
from rnnkit.data.time_formats import DateOrders
from rnnkit.data.timeseries import (
    PANDAS_RULES,
    Panel,
    PreparedSeries,
    all_missing_error,
    fill_periods,
    parse_numbers,
    parse_times,
)

# The statistics each aggregation needs; "count" is always kept, to find empty periods.
_STATISTICS = {
    "sum": ("sum",),
    "mean": ("sum",),
    "count": (),
    "min": ("min",),
    "max": ("max",),
    "last": ("last", "last_time"),
}
# The id of the one series of a file aggregated without an id column.
_SINGLE = ""


def aggregate_file(
    path: str | os.PathLike[str],
    time_column: str,
    target_column: str,
    freq: str,
    agg: str,
    fill: str,
    chunk_rows: int = 1_000_000,
    time_format: str | None = None,
) -> PreparedSeries:
    """Aggregates a CSV per period in bounded memory, reading ``chunk_rows`` rows at a time.

    The result equals :func:`~rnnkit.data.timeseries.aggregate` on the whole file read by
    :func:`~rnnkit.data.reading.read_table` (sums up to floating-point rounding): rows may
    be in any order, and ``last`` takes the value of the latest time, the later line in
    the file on a tie.

    Args:
        path: a CSV file, optionally gzip-compressed.
        time_column, target_column: column names.
        freq: an rnnkit frequency name (``D``, ``W``...).
        agg: ``sum``, ``mean``, ``count``, ``last``, ``min`` or ``max``.
        fill: ``zero``, ``interpolate`` or ``ffill``.
        chunk_rows: rows parsed at a time; memory grows with it.
        time_format: the format of every time (pandas ``format=``), or ``None`` to
            read them in the column's one date order.

    Returns:
        A :class:`~rnnkit.data.timeseries.PreparedSeries`, one value per period.

    Raises:
        DataError: as ``read_table`` and ``aggregate`` raise it; a bad value is reported
            with its line in the file (only the bad values of its chunk are counted).

    Example:
        >>> prepared = aggregate_file("events.csv", "created_at", "amount", "D", "sum",
        ...                           "zero")  # doctest: +SKIP
    """
    columns = _Columns(None, time_column, target_column)
    path, chunks = _file_chunks(path, columns, chunk_rows)
    partials = _accumulate(chunks, columns, PANDAS_RULES[freq], agg, str(path), time_format)
    return _series(partials, _SINGLE, None, columns, freq, agg, fill)


def aggregate_file_by_id(
    path: str | os.PathLike[str],
    id_column: str,
    time_column: str,
    target_column: str,
    freq: str,
    agg: str,
    fill: str,
    chunk_rows: int = 1_000_000,
    time_format: str | None = None,
) -> Panel:
    """Aggregates a CSV of many series (one per ``id_column`` value) chunk by chunk.

    Each series runs from its own first period. With ``fill="zero"`` (events: no row
    means nothing happened) every series runs to the last period of the whole file, so a
    series whose last rows are older ends in zeros; otherwise each series ends at its
    own last row, as nothing can be said of the periods after it.

    Args:
        path: a CSV file, optionally gzip-compressed.
        id_column: the column naming the series of each row (read as text).
        time_column, target_column, freq, agg, fill, chunk_rows, time_format: as
            :func:`aggregate_file`.

    Returns:
        A :class:`~rnnkit.data.timeseries.Panel` of the series, sorted by id.

    Raises:
        DataError: as :func:`aggregate_file`; also rows without an id, with their lines.
    """
    columns = _Columns(id_column, time_column, target_column)
    path, chunks = _file_chunks(path, columns, chunk_rows)
    partials = _accumulate(chunks, columns, PANDAS_RULES[freq], agg, str(path), time_format)
    return _panel(partials, columns, freq, agg, fill)


def aggregate_frame_by_id(
    frame: pd.DataFrame,
    id_column: str,
    time_column: str,
    target_column: str,
    freq: str,
    agg: str,
    fill: str,
    time_format: str | None = None,
) -> Panel:
    """:func:`aggregate_file_by_id` for rows already in a DataFrame."""
    columns = _Columns(id_column, time_column, target_column)
    require_columns(frame, list(columns.names()))
    frame = frame[list(columns.names())].copy()
    for name in (time_column, target_column):
        if pd.api.types.is_string_dtype(frame[name]) or frame[name].dtype == object:
            frame[name] = frame[name].replace("", pd.NA)
    source = str(frame.attrs.get("source", "the data"))
    if len(frame) == 0:
        raise no_rows_error(source)
    partials = _accumulate([frame], columns, PANDAS_RULES[freq], agg, source, time_format)
    return _panel(partials, columns, freq, agg, fill)


@dataclasses.dataclass(frozen=True)
class _Columns:
    id: str | None
    time: str
    target: str

    def names(self) -> tuple[str, ...]:
        return (self.time, self.target) if self.id is None else (self.id, self.time, self.target)


@dataclasses.dataclass
class _Partials:
    """Merged per-(id, period) statistics and per-id row counts of the chunks so far."""

    state: pd.DataFrame | None = None
    counts: pd.DataFrame | None = None  # per id: rows_used, rows_missing_target
    last_time: pd.Timestamp | None = None

    def ids(self) -> list[str]:
        """Ids with at least one value, sorted."""
        return sorted(self.counts.index[self.counts["rows_used"] > 0])

    def ids_without_values(self) -> tuple[str, ...]:
        return tuple(sorted(self.counts.index[self.counts["rows_used"] == 0]))


def _file_chunks(
    path: str | os.PathLike[str], columns: _Columns, chunk_rows: int
) -> tuple[Path, Iterator[pd.DataFrame]]:
    """The checked path and its rows, chunk by chunk, with their true line numbers."""
    path, encoding = check_csv_file(path)
    positions = read_csv_header(path, encoding, list(columns.names()))

    def chunks() -> Iterator[pd.DataFrame]:
        rows_read = 0
        for chunk in _chunks(path, encoding, sorted(set(positions)), chunk_rows):
            chunk.columns = [str(c).strip() for c in chunk.columns]
            chunk = chunk.replace("", pd.NA)  # as read_table: an empty field is missing
            # Line numbers in errors count from the start of the file, not of the chunk.
            chunk.attrs.update(source=str(path), line_offset=2 + rows_read, line_word="line")
            rows_read += len(chunk)
            yield chunk
        if rows_read == 0:
            raise no_rows_error(path)

    return path, chunks()


def _accumulate(
    chunks: Iterable[pd.DataFrame],
    columns: _Columns,
    rule: str,
    agg: str,
    source: str,
    time_format: str | None = None,
) -> _Partials:
    if agg not in _STATISTICS:
        raise ValueError(f"unknown agg {agg!r}")
    partials = _Partials()
    orders = DateOrders(columns.time)  # every chunk read in the file's one date order
    rows_missing: list[pd.Series] = []
    for chunk in chunks:
        ids = _parse_ids(chunk, columns.id)
        times = parse_times(chunk, columns.time, time_format, orders).to_numpy()
        if agg == "count":
            # As aggregate: counting needs no target value, so none is parsed or skipped.
            values = np.ones(len(chunk))
        elif chunk[columns.target].isna().all():
            # parse_numbers rejects a column without values; only the whole file may not.
            values = np.full(len(chunk), np.nan)
        else:
            values = parse_numbers(chunk, columns.target).to_numpy()
        present = ~np.isnan(values)
        rows = pd.DataFrame({"id": ids, "value": values, "time": times})
        per_id = rows.groupby("id", sort=False)["value"].agg(["count", "size"])
        rows_missing.append(per_id["size"] - per_id["count"])
        rows = rows[present]
        if rows.empty:
            continue
        last = rows["time"].max()
        partials.last_time = last if partials.last_time is None else max(partials.last_time, last)
        # A stable sort by time, as in aggregate: ties keep their order in the file.
        rows = rows.sort_values("time", kind="stable")
        partial = _partial_statistics(rows, rule, agg)
        partials.state = (
            partial if partials.state is None else _merge(pd.concat([partials.state, partial]), agg)
        )
    if partials.state is None:
        if not rows_missing:
            raise no_rows_error(source)
        raise all_missing_error(source, columns.target)
    missing = pd.concat(rows_missing).groupby(level=0).sum()
    used = partials.state["count"].groupby(level=0).sum()
    partials.counts = pd.DataFrame({"rows_used": used, "rows_missing_target": missing}).fillna(0)
    return partials


def _parse_ids(chunk: pd.DataFrame, column: str | None) -> np.ndarray:
    """Each row's series id as text; rows without one are reported by line."""
    if column is None:
        return np.full(len(chunk), _SINGLE, dtype=object)
    ids = chunk[column].astype("string").str.strip()
    missing = ids.isna() | (ids == "")
    if missing.any():
        raise describe_bad_rows(
            chunk,
            column,
            missing,
            "rows have no id",
            "Fill in the series id or remove those rows.",
        )
    return ids.to_numpy(dtype=object)


def _panel(partials: _Partials, columns: _Columns, freq: str, agg: str, fill: str) -> Panel:
    end = partials.last_time if fill == "zero" else None
    series = {key: _series(partials, key, end, columns, freq, agg, fill) for key in partials.ids()}
    return Panel(series, partials.ids_without_values())


def _series(
    partials: _Partials,
    key: str,
    end: pd.Timestamp | None,
    columns: _Columns,
    freq: str,
    agg: str,
    fill: str,
) -> PreparedSeries:
    """One id's regular series: every period from its first row to ``end`` (or its last
    row), exactly as resampling its rows at once would lay them out."""
    state = partials.state.xs(key, level=0)
    counts = partials.counts.loc[key]
    first = state.index[0]
    last = state.index[-1] if end is None else max(state.index[-1], end)
    index = (
        pd.Series(0.0, index=pd.DatetimeIndex([first, last]))
        .resample(PANDAS_RULES[freq], closed="left", label="left")
        .count()
        .index
    )
    state = state.reindex(index)
    period_counts = state["count"].fillna(0).astype("int64")
    if agg == "count":
        series = period_counts.astype("float64")
    elif agg == "mean":
        series = state["sum"] / state["count"]
    else:
        series = state[agg]
    return fill_periods(
        series,
        period_counts,
        fill,
        columns.time,
        columns.target,
        int(counts["rows_used"]),
        int(counts["rows_missing_target"]),
    )


def _chunks(
    path: Path, encoding: str, columns: list[int], chunk_rows: int
) -> Iterator[pd.DataFrame]:
    """The file's rows, ``chunk_rows`` at a time, pandas' errors turned into DataErrors."""
    with csv_read_errors(path):
        reader = pd.read_csv(
            path,
            usecols=columns,
            dtype=str,
            keep_default_na=False,
            encoding=encoding,
            chunksize=chunk_rows,
        )
        with reader:
            yield from reader


def _partial_statistics(rows: pd.DataFrame, rule: str, agg: str) -> pd.DataFrame:
    """Per-(id, period) statistics of one chunk's rows (sorted by time), empty periods
    dropped."""
    period = pd.Grouper(key="time", freq=rule, closed="left", label="left")
    grouped = rows.groupby(["id", period], sort=True)
    partial = {"count": grouped["value"].count()}
    for name in _STATISTICS[agg]:
        if name == "last_time":
            partial[name] = grouped["time"].last()
        else:
            partial[name] = getattr(grouped["value"], name)()
    frame = pd.DataFrame(partial)
    return frame[frame["count"] > 0]


def _merge(partials: pd.DataFrame, agg: str) -> pd.DataFrame:
    """Merges partial statistics of the same (id, period) (the later chunks last)."""
    if agg == "last":
        # The latest time wins; on a tie the later chunk, i.e. the later line in the file.
        partials = partials.sort_values("last_time", kind="stable")
    grouped = partials.groupby(level=[0, 1], sort=True)
    merged = {"count": grouped["count"].sum()}
    for name in _STATISTICS[agg]:
        how = {"sum": "sum", "min": "min", "max": "max", "last": "last", "last_time": "last"}
        merged[name] = getattr(grouped[name], how[name])()
    return pd.DataFrame(merged)


def column_chunks(
    path: str | os.PathLike[str], columns: Sequence[str], chunk_rows: int = 1_000_000
) -> Iterator[pd.DataFrame]:
    """The named columns of a CSV, as text, ``chunk_rows`` rows at a time (an empty field
    is missing), for columns read beside the aggregation (static columns)."""
    path, encoding = check_csv_file(path)
    positions = read_csv_header(path, encoding, list(columns))
    for chunk in _chunks(path, encoding, sorted(set(positions)), chunk_rows):
        chunk.columns = [str(c).strip() for c in chunk.columns]
        yield chunk.replace("", pd.NA)
