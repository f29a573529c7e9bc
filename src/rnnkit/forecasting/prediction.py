"""The pieces of a forecaster's ``predict`` around the network: one compiled call per
batch of windows, the covariates over the periods forecast, the horizon asked for, and
forecasts shaped as the data came (a time column, or indexed by time)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.config import ForecastConfig
from rnnkit.data.array_batches import bucket, padded
from rnnkit.data.covariates import covariate_windows, future_values, left_padded
from rnnkit.data.reading import read_table, require_columns
from rnnkit.errors import ConfigError, DataError
from rnnkit.forecasting.series_data import indexed_by_time, time_index_as_column

# Batches forecast at once are padded to a power of two of at least this many rows, so
# that a fit (validation, calibration, scoring, the forecast) compiles one or two shapes
# rather than one for every count of windows.
SMALLEST_BUCKET = 16


def padded_output(model: Any, inputs: np.ndarray) -> np.ndarray:
    """``model.predict_on_batch(inputs)``, the rows padded with zeros to a power of two
    (at least :data:`SMALLEST_BUCKET`) and the padding's outputs dropped: each row's
    output depends on that row alone."""
    # predict_on_batch runs one compiled (jitted) function: no per-call dataset overhead.
    batch = np.asarray(inputs, dtype="float32")
    rows = len(batch)
    batch = padded(batch, bucket(rows, SMALLEST_BUCKET))
    return np.asarray(model.predict_on_batch(batch))[:rows]


def predict_batch(model: Any, inputs: np.ndarray) -> np.ndarray:
    """The network's forecast of a batch of inputs; an ensemble's is its members'
    trimmed mean (see :func:`members_average`)."""
    output = np.asarray(padded_output(model, inputs), dtype="float64")
    # An ensemble gives one row per member.
    return members_average(output) if output.ndim == 3 else output


def members_average(output: np.ndarray) -> np.ndarray:
    """An ensemble's forecast from its members' ``(n, members, horizon)``: at each step,
    the mean of the members without the lowest and the highest one (the median of three
    or four; the mean of one or two). One member that went astray moves it no more than
    it moves a median, and averaging the middle members steadies it across seeds: on the
    forecasting suite the seed spread of CO2 fell from 11 % to 7 % of the median, the
    geometric-mean MASE level (``benchmarks/member_average.py``).

    Example:
        >>> members_average(np.array([[[1.0], [2.0], [4.0], [9.0], [100.0]]])).tolist()
        [[5.0]]
    """
    if output.shape[1] <= 2:
        return output.mean(axis=1)
    return np.sort(output, axis=1)[:, 1:-1].mean(axis=1)


def forecast_covariates(
    config: ForecastConfig,
    history: pd.DataFrame | None,
    dates: pd.DatetimeIndex,
    future: pd.DataFrame | str | os.PathLike[str] | None,
) -> np.ndarray | None:
    """The covariates over the last window and the periods forecast ``dates``, ``(1,
    lookback + horizon, k)`` (see :meth:`~rnnkit.forecasting.Forecaster.forecast_covariates`)."""
    c = config
    if not c.covariate_aggs:
        return None
    past = np.zeros((len(dates), len(c.past_columns)))
    ahead = np.empty((len(dates), 0))
    if c.future_columns:
        if future is None:
            raise DataError(
                f"This model reads the future columns {', '.join(c.future_columns)}: give "
                f"their values for the {len(dates)} periods from {dates[0]} to "
                f"{dates[-1]} (predict(future=...), --future-data FILE)."
            )
        aggs = {column: c.covariate_aggs[column] for column in c.future_columns}
        if isinstance(future, pd.DataFrame):
            frame = time_index_as_column(future, c.time_column)
        else:
            frame = read_table(future, columns=[c.time_column, *aggs])
        require_columns(frame, [c.time_column, *aggs])
        ahead = future_values(frame, c.time_column, aggs, c.freq, dates, c.time_format)
        ahead = ahead.to_numpy()
    # A global model's short series is padded with its first period, as its values are.
    rows = left_padded(history.to_numpy()[-c.window :], c.window)
    return np.concatenate([rows, np.concatenate([ahead, past], axis=1)])[None]


def checked_steps(horizon: int | None, trained: int) -> int:
    """The periods ``predict`` returns: ``horizon``, checked against the ``trained`` one."""
    if horizon is None:
        return trained
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)):
        raise ConfigError(f"horizon must be a whole number of periods, got {horizon!r}.")
    if not 1 <= horizon <= trained:
        raise ConfigError(
            f"horizon={horizon} is outside 1..{trained}: the model was trained to "
            f"forecast {trained} periods. Ask for at most {trained}, or train again with "
            f"--horizon {horizon}."
        )
    return int(horizon)


def as_given(
    forecasts: pd.DataFrame, data: object, time_column: str, fit_indexed_by_time: bool
) -> pd.DataFrame:
    """``forecasts`` indexed by their periods when ``data`` (or, when it is ``None``, the
    data ``fit`` was given: ``fit_indexed_by_time``) was a DataFrame indexed by time, as
    it came."""
    given = fit_indexed_by_time if data is None else None
    if given or (given is None and indexed_by_time(data, time_column)):
        return forecasts.set_index(time_column)
    return forecasts


def time_as_column(
    forecasts: pd.DataFrame, time_column: str, id_column: str | None
) -> pd.DataFrame:
    """``forecasts`` as ``predict`` gives them for a time column (undoes :func:`as_given`),
    the id and time columns first."""
    if time_column in forecasts.columns:
        return forecasts
    frame = forecasts.reset_index()
    first = [name for name in (id_column, time_column) if name is not None]
    return frame[[*first, *(name for name in frame.columns if name not in first)]]


def with_covariates(
    forecast_windows: Callable[..., np.ndarray],
    covariates: pd.DataFrame | None,
    index: pd.DatetimeIndex,
    config: ForecastConfig,
) -> Callable[[np.ndarray, pd.DatetimeIndex], np.ndarray]:
    """``forecast_windows(windows, starts)`` for windows of the series on ``index``, each
    window's covariates (when there are any) taken from the series' own ``covariates``."""
    if covariates is None:
        return forecast_windows
    c = config

    def forecast(windows: np.ndarray, starts: pd.DatetimeIndex) -> np.ndarray:
        columns = covariate_windows(
            covariates.to_numpy(),
            index.get_indexer(starts),
            c.window,
            c.horizon,
            len(c.past_columns),
        )
        return forecast_windows(windows, starts, columns)

    return forecast
