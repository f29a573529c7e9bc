"""Aggregating a CSV bigger than memory into one regular series, chunk by chunk.

:func:`aggregate_file` gives the same :class:`~rnnkit.data.timeseries.PreparedSeries` as
``aggregate(read_table(path), ...)`` while holding only one chunk of rows and a few
statistics per period: each chunk is parsed with the same checks (bad values are reported
with their line in the file), reduced to per-period partial statistics (count, sum, min,
max and the last value with its time), and the partials are merged as chunks arrive.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit.data.reading import check_csv_file, csv_read_errors, no_rows_error, read_csv_header
from rnnkit.data.timeseries import (
    PANDAS_RULES,
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


def aggregate_file(
    path: str | os.PathLike[str],
    time_column: str,
    target_column: str,
    freq: str,
    agg: str,
    fill: str,
    chunk_rows: int = 1_000_000,
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

    Returns:
        A :class:`~rnnkit.data.timeseries.PreparedSeries`, one value per period.

    Raises:
        DataError: as ``read_table`` and ``aggregate`` raise it; a bad value is reported
            with its line in the file (only the bad values of its chunk are counted).

    Example:
        >>> prepared = aggregate_file("events.csv", "created_at", "amount", "D", "sum",
        ...                           "zero")  # doctest: +SKIP
    """
    if agg not in _STATISTICS:
        raise ValueError(f"unknown agg {agg!r}")
    rule = PANDAS_RULES[freq]
    path, encoding = check_csv_file(path)
    positions = read_csv_header(path, encoding, [time_column, target_column])

    state: pd.DataFrame | None = None
    first_time = last_time = None
    rows_read = rows_used = rows_missing_target = 0
    for chunk in _chunks(path, encoding, sorted(set(positions)), chunk_rows):
        chunk.columns = [str(c).strip() for c in chunk.columns]
        chunk = chunk.replace("", pd.NA)  # as read_table: an empty field is missing
        # Line numbers in errors count from the start of the file, not of the chunk.
        chunk.attrs.update(source=str(path), line_offset=2 + rows_read, line_word="line")
        rows_read += len(chunk)
        times = parse_times(chunk, time_column).to_numpy()
        if agg == "count":
            # As aggregate: counting needs no target value, so none is parsed or skipped.
            values = np.ones(len(chunk))
        elif chunk[target_column].isna().all():
            # parse_numbers rejects a column without values; only the whole file may not.
            rows_missing_target += len(chunk)
            continue
        else:
            values = parse_numbers(chunk, target_column).to_numpy()
        present = ~np.isnan(values)
        rows_missing_target += int((~present).sum())
        rows_used += int(present.sum())
        if not present.any():
            continue
        rows = pd.DataFrame({"value": values[present], "time": times[present]})
        # A stable sort by time, as in aggregate: ties keep their order in the file.
        rows = rows.sort_values("time", kind="stable").set_index("time", drop=False)
        first = rows.index[0]
        last = rows.index[-1]
        first_time = first if first_time is None else min(first_time, first)
        last_time = last if last_time is None else max(last_time, last)
        partial = _partial_statistics(rows, rule, agg)
        state = partial if state is None else _merge(pd.concat([state, partial]), agg)

    if rows_read == 0:
        raise no_rows_error(path)
    if state is None:
        raise all_missing_error(str(path), target_column)

    # Every period between the first and the last row, exactly as resampling all rows
    # at once would lay them out (the same labels and the same index frequency).
    index = (
        pd.Series(0.0, index=pd.DatetimeIndex([first_time, last_time]))
        .resample(rule, closed="left", label="left")
        .count()
        .index
    )
    state = state.reindex(index)
    counts = state["count"].fillna(0).astype("int64")
    if agg == "count":
        series = counts.astype("float64")
    elif agg == "mean":
        series = state["sum"] / state["count"]
    else:
        series = state[agg]
    return fill_periods(
        series, counts, fill, time_column, target_column, rows_used, rows_missing_target
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
    """Per-period statistics of one chunk's rows (sorted by time), empty periods dropped."""
    grouped = rows.resample(rule, closed="left", label="left")
    partial = {"count": grouped["value"].count()}
    for name in _STATISTICS[agg]:
        if name == "last_time":
            partial[name] = grouped["time"].last()
        else:
            partial[name] = getattr(grouped["value"], name)()
    frame = pd.DataFrame(partial)
    return frame[frame["count"] > 0]


def _merge(partials: pd.DataFrame, agg: str) -> pd.DataFrame:
    """Merges partial statistics of the same periods (the later chunks last)."""
    if agg == "last":
        # The latest time wins; on a tie the later chunk, i.e. the later line in the file.
        partials = partials.sort_values("last_time", kind="stable")
    grouped = partials.groupby(level=0, sort=True)
    merged = {"count": grouped["count"].sum()}
    for name in _STATISTICS[agg]:
        how = {"sum": "sum", "min": "min", "max": "max", "last": "last", "last_time": "last"}
        merged[name] = getattr(grouped[name], how[name])()
    return pd.DataFrame(merged)
