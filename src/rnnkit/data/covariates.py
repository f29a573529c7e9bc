"""Covariate columns: drivers of the target given beside it, one value per period.

- **Future** columns (``future_columns``: a price, a promotion, a planned event) are known
  ahead: the network reads them over its window and over the periods it forecasts, so a
  forecast needs their values for the horizon.
- **Past** columns (``past_columns``: a temperature, a competitor's sales) are observed
  up to the forecast origin only: the network reads them over its window.

Each column is aggregated per period as ``agg_columns`` says (``mean`` unless told),
its empty periods filled as the target's are (zero after ``sum`` and ``count``, linear
interpolation otherwise), and standardised with the mean and standard deviation of the
training part.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from rnnkit.data.timeseries import PANDAS_RULES, combine, parse_numbers, parse_times
from rnnkit.errors import DataError

DEFAULT_AGG = "mean"


def aggregate_columns(
    frame: pd.DataFrame,
    time_column: str,
    aggs: dict[str, str],
    freq: str,
    index: pd.DatetimeIndex,
    time_format: str | None = None,
) -> pd.DataFrame:
    """Each of ``aggs``' columns aggregated per period of ``index`` (and filled).

    Args:
        frame: rows with ``time_column`` and every column of ``aggs``.
        aggs: ``{column: agg}``, ``agg`` one of sum, mean, count, last, min, max.
        index: the period starts to give a value for (the target's).

    Raises:
        DataError: a value that is not a number (by line), or a column with no value in
            any period of ``index``.
    """
    times = parse_times(frame, time_column, time_format)
    columns = {}
    for column, agg in aggs.items():
        per_period = _per_period(frame, times, column, agg, freq)
        columns[column] = _filled(per_period.reindex(index), column, agg, index)
    return pd.DataFrame(columns, index=index)


def aggregate_columns_by_id(
    frame: pd.DataFrame,
    ids: np.ndarray,
    time_column: str,
    aggs: dict[str, str],
    freq: str,
    indexes: dict[str, pd.DatetimeIndex],
    time_format: str | None = None,
    id_column: str = "id",
) -> dict[str, pd.DataFrame]:
    """:func:`aggregate_columns` for every series of a panel at once: ``ids`` holds each
    row's series, ``indexes`` each series' period starts. The times are parsed and each
    column aggregated once for every series (a thousand series in a fraction of the time
    of one call each), then cut per series and filled as :func:`aggregate_columns` does.

    Raises:
        DataError: as :func:`aggregate_columns`, the series named (``id_column``).
    """
    times = parse_times(frame, time_column, time_format)
    ids = np.asarray(ids, dtype=object)
    per_column = {}
    for column, agg in aggs.items():
        values = _column_values(frame, column, agg)
        kept = ~np.isnan(values)
        rows = pd.Series(values[kept], index=pd.DatetimeIndex(times.to_numpy()[kept]))
        grouped = rows.groupby(ids[kept], sort=False)
        combined = combine(grouped.resample(PANDAS_RULES[freq], closed="left", label="left"), agg)
        per_column[column] = {key: part.droplevel(0) for key, part in combined.groupby(level=0)}
    out = {}
    for key, index in indexes.items():
        columns = {}
        for column, agg in aggs.items():
            per_period = per_column[column].get(key, pd.Series(dtype="float64"))
            try:
                columns[column] = _filled(per_period.reindex(index), column, agg, index)
            except DataError as error:
                raise DataError(f"{id_column} {key!r}: {error}") from None
        out[key] = pd.DataFrame(columns, index=index)
    return out


def _filled(per_period: pd.Series, column: str, agg: str, index: pd.DatetimeIndex) -> np.ndarray:
    """One column's values on the periods ``index``, its empty periods filled: zero after
    ``sum`` and ``count``, linear interpolation otherwise."""
    if per_period.isna().all():
        raise DataError(
            f"Column '{column}' has no value in any of the {len(index)} periods from "
            f"{index[0]} to {index[-1]}: give its values beside the target's."
        )
    if agg in ("sum", "count"):
        per_period = per_period.fillna(0.0)
    else:
        per_period = per_period.interpolate(method="linear", limit_direction="both")
    return per_period.astype("float64").to_numpy()


def future_values(
    frame: pd.DataFrame,
    time_column: str,
    aggs: dict[str, str],
    freq: str,
    dates: pd.DatetimeIndex,
    time_format: str | None = None,
) -> pd.DataFrame:
    """The future columns' values for the periods forecast (``dates``), aggregated per
    period as in training and never filled: every period needs a value.

    Raises:
        DataError: naming the first periods and columns without a value.
    """
    times = parse_times(frame, time_column, time_format)
    values = pd.DataFrame(
        {
            column: _per_period(frame, times, column, agg, freq).reindex(dates)
            for column, agg in aggs.items()
        },
        index=dates,
    )
    missing = values.isna()
    if missing.to_numpy().any():
        column = missing.any().idxmax()
        periods = [str(t.date() if t == t.normalize() else t) for t in dates[missing[column]]]
        shown = ", ".join(periods[:3]) + (
            f" and {len(periods) - 3} more" if len(periods) > 3 else ""
        )
        raise DataError(
            f"The future data has no '{column}' for {len(periods)} of the {len(dates)} periods "
            f"forecast ({shown}): give every future column's value for each period from "
            f"{dates[0]} to {dates[-1]}."
        )
    return values


def _per_period(
    frame: pd.DataFrame, times: pd.Series, column: str, agg: str, freq: str
) -> pd.Series:
    """One column's rows aggregated per period (``NaN`` where a period has none)."""
    rows = pd.Series(_column_values(frame, column, agg), index=times.to_numpy())
    rows = rows[rows.notna()].sort_index(kind="stable")
    return combine(rows.resample(PANDAS_RULES[freq], closed="left", label="left"), agg)


def _column_values(frame: pd.DataFrame, column: str, agg: str) -> np.ndarray:
    """Each row's value of a covariate column (``NaN`` where empty; 1 for every row
    when it is counted)."""
    if frame[column].isna().all():
        raise DataError(
            f"Covariate column '{column}': every value is missing. Give its values, or "
            "leave it out of --future-columns and --past-columns."
        )
    if agg == "count":
        return np.ones(len(frame))
    return parse_numbers(frame, column).to_numpy(dtype="float64")


@dataclasses.dataclass(frozen=True)
class CovariateScaling:
    """The covariates' standardisation, fit on the training part.

    Example:
        >>> scaling = CovariateScaling.fit(np.array([[1.0, 5.0], [3.0, 5.0]]))
        >>> scaling.transform(np.array([[2.0, 6.0]])).tolist()
        [[0.0, 1.0]]
    """

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def fit(cls, values: np.ndarray) -> CovariateScaling:
        mean = np.mean(values, axis=0)
        std = np.std(values, axis=0)
        std = np.where(std > 1e-12 * np.maximum(np.abs(mean), 1.0), std, 1.0)  # a constant
        return cls(tuple(float(m) for m in mean), tuple(float(s) for s in std))

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (np.asarray(values, dtype="float64") - np.array(self.mean)) / np.array(self.std)

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, data: dict) -> CovariateScaling:
        return cls(tuple(data["mean"]), tuple(data["std"]))


def left_padded(values: np.ndarray | None, periods: int) -> np.ndarray | None:
    """``values`` ``(n, k)`` padded on the left to ``periods`` rows with its first row:
    the covariates of a series padded with its first value (a global model's short one).

    Example:
        >>> left_padded(np.array([[1.0], [2.0]]), 4).ravel().tolist()
        [1.0, 1.0, 1.0, 2.0]
    """
    if values is None or len(values) >= periods:
        return values
    return np.concatenate([np.repeat(values[:1], periods - len(values), axis=0), values])


def covariate_windows(
    values: np.ndarray, positions: np.ndarray, lookback: int, horizon: int, past: int
) -> np.ndarray:
    """The covariates of each window: ``(n, lookback + horizon, k)`` from ``values``
    ``(periods, k)``, for windows whose first forecast period is at each of
    ``positions``; the last ``past`` columns (past covariates) are zero over the
    periods forecast. ``values`` must reach ``position + horizon`` for each position.

    Example:
        >>> values = np.arange(12.0).reshape(6, 2)
        >>> covariate_windows(values, np.array([3]), 2, 2, past=1)[0].tolist()
        [[2.0, 3.0], [4.0, 5.0], [6.0, 0.0], [8.0, 0.0]]
    """
    steps = np.arange(-lookback, horizon)
    windows = np.asarray(values, dtype="float64")[np.asarray(positions)[:, None] + steps]
    if past:
        windows[:, lookback:, -past:] = 0.0
    return windows
