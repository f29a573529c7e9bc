"""From rows of events or values to one regular series: parse, aggregate, fill gaps.

The guide groups loans by their exact timestamp and never fills days without loans, so
its "days" are neither days nor regular. Here every period of ``freq`` between the first
and the last row is present, and the periods that had no rows are filled and counted.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd

from rnnkit.data.reading import describe_bad_rows
from rnnkit.data.time_formats import DateOrders
from rnnkit.errors import DataError, did_you_mean

# rnnkit's frequency names -> pandas resampling rules. Periods are labelled by their start.
PANDAS_RULES = {"H": "h", "D": "D", "B": "B", "W": "W-MON", "M": "MS", "Q": "QS", "Y": "YS"}


@dataclasses.dataclass(frozen=True)
class PreparedSeries:
    """A regular series and what it took to make it.

    Attributes:
        values: one value per period, gaps filled.
        rows_used: input rows that contributed.
        rows_missing_target: input rows skipped because the target was empty.
        periods_filled: periods that had no rows and were filled.
    """

    values: pd.Series
    rows_used: int
    rows_missing_target: int
    periods_filled: int
    # Which periods had no rows (one boolean per period), when known: what
    # check_sparsity reads to name the likely cause of a mostly filled series.
    filled: np.ndarray | None = dataclasses.field(default=None, compare=False, repr=False)
    # The covariate columns per period, on the same index (see rnnkit.data.covariates).
    covariates: pd.DataFrame | None = dataclasses.field(default=None, compare=False, repr=False)

    def summary(self) -> dict[str, object]:
        index = self.values.index
        return {
            "periods": len(self.values),
            "start": str(index[0]),
            "end": str(index[-1]),
            "rows_used": self.rows_used,
            "rows_missing_target": self.rows_missing_target,
            "periods_filled": self.periods_filled,
        }


@dataclasses.dataclass(frozen=True)
class Panel:
    """Many regular series, one per id, aggregated from one table of rows.

    Attributes:
        series: ``{id: PreparedSeries}``, sorted by id.
        ids_without_values: ids whose rows all lack a target value (no series made).
        statics: each series' static columns (see
            :mod:`rnnkit.data.static_covariates`), indexed by id; ``None`` without them.
    """

    series: dict[str, PreparedSeries]
    ids_without_values: tuple[str, ...] = ()
    statics: pd.DataFrame | None = dataclasses.field(default=None, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.series)

    def values(self) -> dict[str, pd.Series]:
        """``{id: series}``: the filled values of every series."""
        return {key: prepared.values for key, prepared in self.series.items()}

    def select(self, ids: list[str] | tuple[str, ...], id_column: str) -> Panel:
        """The named series only; an unknown id is an error naming the closest ones."""
        unknown = [key for key in ids if key not in self.series]
        if unknown:
            hint = did_you_mean(unknown[0], self.series)
            raise DataError(
                f"No series with {id_column} {unknown[0]!r}.{hint} "
                f"The data has {len(self.series)} series: "
                f"{', '.join(list(self.series)[:10])}{', ...' if len(self.series) > 10 else ''}."
            )
        statics = None if self.statics is None else self.statics.loc[list(ids)]
        return Panel({key: self.series[key] for key in ids}, self.ids_without_values, statics)

    def summary(self) -> dict[str, object]:
        starts = [p.values.index[0] for p in self.series.values()]
        ends = [p.values.index[-1] for p in self.series.values()]
        return {
            "series": len(self.series),
            "periods": int(sum(len(p.values) for p in self.series.values())),
            "start": str(min(starts)),
            "end": str(max(ends)),
            "rows_used": int(sum(p.rows_used for p in self.series.values())),
            "rows_missing_target": int(sum(p.rows_missing_target for p in self.series.values())),
            "periods_filled": int(sum(p.periods_filled for p in self.series.values())),
            "ids_without_values": list(self.ids_without_values),
        }


def parse_times(
    frame: pd.DataFrame,
    column: str,
    time_format: str | None = None,
    orders: DateOrders | None = None,
) -> pd.Series:
    """Parses the time column; every empty or unparseable value is reported by line.

    Args:
        frame: the rows.
        column: the time column.
        time_format: a ``strftime`` format every value must have (pandas ``format=``);
            ``None`` reads each value in the column's one date order.
        orders: the date orders of earlier chunks of the same file (see
            :class:`~rnnkit.data.time_formats.DateOrders`), so that every chunk is read
            alike; ``None`` for a frame of its own.

    Raises:
        DataError: empty or unparseable times, or a column that mixes date formats.
    """
    raw = frame[column]
    missing = raw.isna()
    if missing.any():
        raise describe_bad_rows(
            frame,
            column,
            missing,
            "rows have no time",
            "Fill in the time or remove those rows.",
        )
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        if time_format is None:
            # pandas would read them as nanoseconds since 1970: all in one period.
            source = frame.attrs.get("source", "the data")
            raise DataError(
                f"File '{source}', column '{column}' holds numbers ({raw.iloc[0]}, ...), "
                "not dates or times. Store dates or text such as 2024-01-31, or give their "
                "format with --time-format (e.g. '%Y%m%d' for 20240131)."
            )
        raw = raw.astype("string")  # 20240131 read with the format, as text would be
    if time_format is None:
        options = {"format": "mixed", "dayfirst": (orders or DateOrders(column)).dayfirst(frame)}
        fix = "Use a format such as 2024-01-31 or 2024-01-31 14:05:00."
    else:
        options = {"format": time_format}
        fix = f"Every value must have the --time-format {time_format!r}, or fix those lines."
    try:
        try:
            with warnings.catch_warnings():
                # pandas 2 warns, then returns objects, where offsets differ between rows.
                warnings.simplefilter("ignore", FutureWarning)
                times = pd.to_datetime(raw, errors="coerce", **options)
            mixed_offsets = not pd.api.types.is_datetime64_any_dtype(times)
        except ValueError as err:
            if "timezone" not in str(err).lower():
                raise
            mixed_offsets = True
        if mixed_offsets:
            # Offsets that differ between rows (e.g. daylight saving): compare in UTC.
            times = pd.to_datetime(raw, errors="coerce", utc=True, **options)
    except (ValueError, TypeError, OverflowError) as err:
        raise DataError(
            f"File '{frame.attrs.get('source', 'the data')}', column '{column}': times could "
            f"not be parsed ({err}). {fix}"
        ) from err
    bad = times.isna()
    if bad.any():
        raise describe_bad_rows(frame, column, bad, "values are not dates or times", fix)
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return times


def parse_numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    """Parses the target column; text that is not a number is reported by line."""
    raw = frame[column]
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        numbers = raw.astype("float64")
    else:
        # Bytes (e.g. from a Parquet binary column) become text; undecodable bytes are
        # then reported as bad values rather than crashing the conversion.
        text = raw.map(lambda v: v.decode("utf-8", "replace") if isinstance(v, bytes) else v)
        numbers = pd.to_numeric(text.astype("string").str.strip(), errors="coerce")
        numbers = numbers.astype("float64")
    bad = (raw.notna() & numbers.isna()) | ~np.isfinite(numbers.fillna(0.0))
    if bad.any():
        raise describe_bad_rows(
            frame,
            column,
            bad,
            "values are not finite numbers",
            "Remove units and thousands separators, or fix those lines.",
        )
    if numbers.isna().all():
        raise all_missing_error(frame.attrs.get("source", "the data"), column)
    return numbers


def all_missing_error(source: object, column: str) -> DataError:
    """The error for a target column without a single value."""
    return DataError(
        f"File '{source}', column '{column}': every value "
        "is missing. Choose the column that holds the values with --target-column."
    )


def aggregate(
    frame: pd.DataFrame,
    time_column: str,
    target_column: str,
    freq: str,
    agg: str,
    fill: str,
    time_format: str | None = None,
) -> PreparedSeries:
    """Aggregates rows per period and fills the periods that had no rows.

    Args:
        frame: rows as read by :func:`~rnnkit.data.reading.read_table`.
        time_column, target_column: column names.
        freq: an rnnkit frequency name (``D``, ``W``...).
        agg: ``sum``, ``mean``, ``count``, ``last``, ``min`` or ``max``.
        fill: ``zero``, ``interpolate`` or ``ffill`` (already resolved from ``auto``).
        time_format: the format of every time (pandas ``format=``), or ``None`` to read
            them in the column's one date order (see :func:`parse_times`).

    Returns:
        A :class:`PreparedSeries`, sorted by time, one value per period.
    """
    times = parse_times(frame, time_column, time_format)
    values = parse_numbers(frame, target_column) if agg != "count" else None
    rows = pd.DataFrame({"time": times.to_numpy()})
    if values is not None:
        rows["value"] = values.to_numpy()
        missing_target = int(rows["value"].isna().sum())
        rows = rows[rows["value"].notna()]
    else:
        rows["value"] = 1.0
        missing_target = 0
    if rows.empty:
        raise DataError(
            f"File '{frame.attrs.get('source', 'the data')}' has no rows with both a time "
            f"and a '{target_column}' value."
        )
    rows = rows.sort_values("time", kind="stable")
    try:
        grouped = rows.set_index("time")["value"].resample(
            PANDAS_RULES[freq], closed="left", label="left"
        )
        counts = grouped.count()
        series = combine(grouped, agg)
    except (pd.errors.OutOfBoundsDatetime, OverflowError) as err:
        # A period that starts before (or ends after) what pandas' nanosecond times hold.
        raise DataError(
            f"File '{frame.attrs.get('source', 'the data')}', column '{time_column}': the "
            f"{freq} periods from {rows['time'].iloc[0]} to {rows['time'].iloc[-1]} reach "
            f"beyond the dates pandas supports ({pd.Timestamp.min.date()} to "
            f"{pd.Timestamp.max.date()}). Remove the rows at those edges (a mistyped "
            "year?) or use a finer --freq."
        ) from err
    return fill_periods(series, counts, fill, time_column, target_column, len(rows), missing_target)


def combine(grouped: pd.core.resample.Resampler, agg: str) -> pd.Series:
    """One value per period of resampled rows: their ``agg`` (``NaN`` for a period
    without rows, except a count of 0)."""
    if agg == "count":
        return grouped.count().astype("float64")
    if agg == "sum":
        return grouped.sum(min_count=1)
    return getattr(grouped, agg)()


def fill_periods(
    series: pd.Series,
    counts: pd.Series,
    fill: str,
    time_column: str,
    target_column: str,
    rows_used: int,
    rows_missing_target: int,
) -> PreparedSeries:
    """Fills the periods that had no rows (``counts == 0``) and names the result.

    Shared by :func:`aggregate` and :func:`~rnnkit.data.streaming.aggregate_file`, so
    that both fill gaps the same way.

    Args:
        series: one aggregated value per period, every period present.
        counts: rows per period, on the same index.
        fill: ``zero``, ``interpolate`` or ``ffill``.
        time_column, target_column: names given to the index and the series.
        rows_used, rows_missing_target: carried into the :class:`PreparedSeries`.

    Returns:
        The filled series and its counts as a :class:`PreparedSeries`.

    Example:
        >>> index = pd.date_range("2024-01-01", periods=3, freq="D")
        >>> counts = pd.Series([1, 0, 1], index=index)
        >>> series = pd.Series([1.0, 0.0, 3.0], index=index)
        >>> fill_periods(series, counts, "interpolate", "t", "v", 2, 0).values.tolist()
        [1.0, 2.0, 3.0]
    """
    empty = counts == 0
    series = series.where(~empty)
    if fill == "zero":
        series = series.fillna(0.0)
    elif fill == "interpolate":
        series = series.interpolate(method="linear", limit_direction="both")
    elif fill == "ffill":
        series = series.ffill().bfill()
    else:
        raise ValueError(f"unknown fill {fill!r}")
    series = series.astype("float64")
    series.name = target_column
    series.index.name = time_column
    check_magnitudes(series, target_column)
    return PreparedSeries(
        values=series,
        rows_used=rows_used,
        rows_missing_target=rows_missing_target,
        periods_filled=int(empty.sum()),
        filled=empty.to_numpy(dtype=bool),
    )


# A series with more filled periods than this share is refused (unless allowed): it is
# far more often a wrong --freq or a mistyped date than data that sparse.
SPARSE_SHARE = 0.5
# Coarser rnnkit frequencies, and the spacing of rows from which each is suggested.
_SPACINGS = (("Y", 360), ("Q", 89), ("M", 28), ("W", 7), ("D", 1))


def check_sparsity(prepared: PreparedSeries, freq: str, allow_sparse: bool) -> None:
    """Stops on a series most of whose periods had no rows, naming the likely cause: a
    jump in the dates (a mistyped year) or a ``freq`` finer than the rows' spacing.

    Args:
        prepared: the aggregated series.
        freq: its rnnkit frequency.
        allow_sparse: warn instead of stopping (the data is that sparse).

    Raises:
        DataError: more than half the periods were filled and ``allow_sparse`` is off.
    """
    periods, filled = len(prepared.values), prepared.periods_filled
    if prepared.filled is None or periods == 0 or filled <= SPARSE_SHARE * periods:
        return
    message = (
        f"{filled:,} of the series' {periods:,} periods ({filled / periods:.0%}) had no rows "
        f"and were filled: {_likely_cause(prepared, freq)}."
    )
    if allow_sparse:
        warnings.warn(f"{message} Training on it anyway (allow_sparse).", stacklevel=2)
        return
    raise DataError(f"{message} Fix that, or pass --allow-sparse if the data is this sparse.")


def _likely_cause(prepared: PreparedSeries, freq: str) -> str:
    index = prepared.values.index
    present = np.flatnonzero(~prepared.filled)
    if len(present) < 2:
        return "only one period has rows"
    gaps = np.diff(present)
    jump = int(gaps.argmax())
    if gaps[jump] - 1 >= SPARSE_SHARE * prepared.periods_filled:
        before, after = index[present[jump]], index[present[jump + 1]]
        return (
            f"the rows jump from {before.date()} to {after.date()} ({gaps[jump] - 1:,} empty "
            "periods between), a mistyped date (year) is the likely cause"
        )
    spacing = pd.Series(index[present]).diff().median()
    days = spacing / pd.Timedelta(days=1)
    hours = spacing / pd.Timedelta(hours=1)
    shown = f"{days:.3g} days" if days >= 1 else f"{hours:.3g} hours"
    shown = shown.replace("1 days", "1 day") if days == 1 else shown
    order = [name for name, _ in _SPACINGS]
    for name, minimum in _SPACINGS:
        if days >= minimum and (freq not in order or order.index(name) < order.index(freq)):
            return (
                f"rows come about every {shown}, so --freq {freq} is likely finer than the "
                f"data: try --freq {name}"
            )
    return f"rows fall in about one period in {float(np.median(gaps)):g}"


# The largest magnitude a period may have. Squared errors (RMSE), the standard scaler's
# variance and window statistics square the values: beyond about 1.3e154 (the square root
# of float64's largest number) they overflow to inf, and the run's metrics come out null.
MAX_MAGNITUDE = 1e150


def check_magnitudes(series: pd.Series, target_column: str) -> None:
    """Refuses periods whose value is not finite (a sum that overflowed) or beyond
    ``MAX_MAGNITUDE``, naming the first few.

    Example:
        >>> index = pd.date_range("2024-01-01", periods=2, freq="D")
        >>> check_magnitudes(pd.Series([1.0, 1e300], index=index), "amount")
        Traceback (most recent call last):
        ...
        rnnkit.errors.DataError: Column 'amount' has 1 periods beyond ±1e+150 ...
    """
    values = series.to_numpy()
    bad = ~np.isfinite(values) | (np.abs(np.nan_to_num(values)) > MAX_MAGNITUDE)
    if not bad.any():
        return
    shown = ", ".join(f"{series.index[i]}: {values[i]:.3g}" for i in np.flatnonzero(bad)[:3]) + (
        ", ..." if bad.sum() > 3 else ""
    )
    raise DataError(
        f"Column '{target_column}' has {int(bad.sum())} periods beyond ±{MAX_MAGNITUDE:g} "
        f"after aggregation ({shown}): errors and scaling would overflow (inf) and the "
        "metrics could not be computed. Rescale the column (e.g. divide it by 1e6) and "
        "train again."
    )


def future_index(last: pd.Timestamp, freq: str, steps: int) -> pd.DatetimeIndex:
    """The ``steps`` period starts after ``last``."""
    offset = pd.tseries.frequencies.to_offset(PANDAS_RULES[freq])
    return pd.date_range(start=last + offset, periods=steps, freq=offset)
