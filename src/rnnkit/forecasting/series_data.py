"""Reading one series as a :class:`~rnnkit.forecasting.Forecaster` does: the data it
accepts, a frame indexed by time, the values (and covariate columns) aggregated per
period, and the series' split in time."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pandas as pd

from rnnkit.config import ForecastConfig
from rnnkit.data.covariates import aggregate_columns
from rnnkit.data.reading import PARQUET_SUFFIXES, read_table, require_columns
from rnnkit.data.streaming import aggregate_file
from rnnkit.data.timeseries import PreparedSeries, aggregate, check_magnitudes
from rnnkit.errors import DataError

# The default test part of one series: this many forecast origins (whole horizons) at
# most, within this share of the series. Several origins, so that one unusual horizon does
# not decide the verdict; few, so that most of the history is still trained on.
TEST_ORIGINS = 3
TEST_SHARE = 0.2

DataLike = pd.DataFrame | pd.Series | str | os.PathLike[str]


def aggregate_series(data: DataLike, config: ForecastConfig) -> PreparedSeries:
    """``data`` (rows as a path or a DataFrame, or a Series already one value per period)
    as one value per period of ``config.freq``, gaps filled, with the covariate columns
    when ``config`` names some."""
    c = config
    check_data_type(data, c, (pd.DataFrame, pd.Series))
    if c.covariate_aggs:
        return _aggregate_with_covariates(data, c)
    if isinstance(data, pd.Series):
        # Already one value per period (as made by `aggregate`): used as it is.
        if not isinstance(data.index, pd.DatetimeIndex) or data.isna().any():
            raise DataError("A Series must have a DatetimeIndex and no missing values.")
        check_magnitudes(data.astype("float64"), str(data.name or c.target_column))
        return PreparedSeries(data.astype("float64"), len(data), 0, 0)
    if isinstance(data, pd.DataFrame):
        frame = time_index_as_column(data, c.time_column)
        require_columns(frame, [c.time_column, c.target_column])
        frame = frame[[c.time_column, c.target_column]]
        if len(frame) == 0:
            raise DataError("The DataFrame has no rows.")
    elif Path(data).suffix.lower() not in PARQUET_SUFFIXES:
        # A CSV is aggregated chunk by chunk, so a file bigger than memory still fits.
        return aggregate_file(
            data,
            c.time_column,
            c.target_column,
            c.freq,
            c.agg,
            c.fill_method,
            time_format=c.time_format,
        )
    else:
        frame = read_table(data, columns=[c.time_column, c.target_column])
    columns = (c.time_column, c.target_column, c.freq, c.agg, c.fill_method)
    return aggregate(frame, *columns, time_format=c.time_format)


def _aggregate_with_covariates(data: DataLike, config: ForecastConfig) -> PreparedSeries:
    """The target and every covariate column, aggregated on one period grid."""
    c = config
    aggs = c.covariate_aggs
    if isinstance(data, pd.Series):
        raise DataError(
            f"A Series holds no covariate columns ({', '.join(aggs)}): give a DataFrame "
            "with those columns beside the target."
        )
    columns = [c.time_column, c.target_column, *aggs]
    if isinstance(data, pd.DataFrame):
        frame = time_index_as_column(data, c.time_column)
        require_columns(frame, columns)
        frame = frame[columns]
        if len(frame) == 0:
            raise DataError("The DataFrame has no rows.")
    else:
        frame = read_table(data, columns=columns)
    settings = (c.time_column, c.target_column, c.freq, c.agg, c.fill_method)
    prepared = aggregate(frame, *settings, time_format=c.time_format)
    covariates = aggregate_columns(
        frame, c.time_column, aggs, c.freq, prepared.values.index, c.time_format
    )
    return dataclasses.replace(prepared, covariates=covariates)


def validation_periods(length: int, config: ForecastConfig) -> int:
    """Periods in the validation part of a series of ``length``."""
    return config.validation_size or max(config.horizon, round(0.15 * length))


def split_sizes(
    length: int, config: ForecastConfig, test: int, output_steps: int
) -> dict[str, int]:
    """Periods in the train, validation and test (``test`` periods) parts of a series of
    ``length``, whose training windows forecast ``output_steps`` each.

    Raises:
        DataError: the series is too short for one training window, the validation and
            the test, with what to change.
    """
    c = config
    validation = validation_periods(length, c)
    needed_train = c.window + output_steps
    needed = needed_train + validation + test
    if length < needed:
        raise DataError(
            f"The series has {length} periods (freq {c.freq}) but needs at least "
            f"{needed}: lookback {c.window} + {needed_train - c.window} for one "
            f"training window, validation {validation}, test {test}. Lower --lookback "
            "or --horizon, choose a shorter --freq, or give more data."
        )
    return {"train": length - validation - test, "validation": validation, "test": test}


def check_data_type(data: object, config: ForecastConfig, accepted: tuple[type, ...]) -> None:
    """Refuses data of a type no forecaster reads (a NumPy array, a list) with what to give."""
    if isinstance(data, (*accepted, str, os.PathLike)):
        return
    raise DataError(
        f"A forecaster reads a DataFrame of rows with columns '{config.time_column}' and "
        f"'{config.target_column}' (or indexed by time), or a CSV or Parquet path, not "
        f"{type(data).__name__}: wrap the values in a DataFrame, e.g. pd.DataFrame("
        f"{{'{config.target_column}': values}}, index=pd.date_range(start, periods=len(values)))."
    )


def indexed_by_time(data: object, time_column: str) -> bool:
    """Whether ``data`` is a DataFrame whose periods are its DatetimeIndex (and not a
    ``time_column``): its forecasts are then indexed by time too.

    Example:
        >>> frame = pd.DataFrame({"v": [1.0]}, index=pd.DatetimeIndex(["2024-01-01"]))
        >>> indexed_by_time(frame, "date"), indexed_by_time(frame.reset_index(), "date")
        (True, False)
    """
    return (
        isinstance(data, pd.DataFrame)
        and isinstance(data.index, pd.DatetimeIndex)
        and time_column not in data.columns
    )


def time_index_as_column(frame: pd.DataFrame, time_column: str) -> pd.DataFrame:
    """``frame`` with its DatetimeIndex as ``time_column``, when it has no such column (a
    frame indexed by time, as pandas users keep series); otherwise ``frame`` itself."""
    if time_column in frame.columns or not isinstance(frame.index, pd.DatetimeIndex):
        return frame
    return frame.rename_axis(time_column).reset_index()
