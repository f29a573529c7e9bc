"""The network's forecast averaged with a statistical model's, where that forecasts better.

Averaging forecasts of different kinds is one of the steadiest gains in forecasting (the
M-competitions' combinations; ES-RNN's exponential smoothing beside its network). After
training, the forecaster forecasts a few origins of its validation part with the network
and with the statistical model (``ForecastConfig.combination_model``: by default AutoARIMA
for one series, AutoETS for a global model) and
averages the two (weight 0.5) unless the network alone was better there by more than
:data:`TOLERANCE` (weight 0: the network alone). The statistical model is refit on the last
:func:`history_periods` periods before every forecast, so a saved run, which keeps that
many periods, forecasts as the fitted estimator does.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnkit.config import ForecastConfig
from rnnkit.forecasting.baselines import statistical_forecast

#: The statistical model's weights the validation origins choose from (0: the network's
#: forecast alone; 0.5: the mean of the two). The network always keeps half at least.
WEIGHTS = (0.0, 0.5)
#: The most validation origins of one series forecast to choose the weight.
VALIDATION_ORIGINS = 5
#: The mean is kept unless the network alone has a validation error lower by more than
#: this share: early stopping chose the network's epoch on these same windows, so its
#: error there is optimistic, and an equal-weight mean is the steadier default (the
#: "forecast combination puzzle"). Chosen on the tuning half of the forecasting suite and
#: the Tourism yearly and quarterly panels, whose validation ratios (mean over network)
#: put it between 1.1 % (woolyrnq, where the mean won the test) and 3.5 % (loans and
#: yearly, where the network alone won it on MASE).
TOLERANCE = 0.02
#: The most series of a global model whose forecasts are combined: the statistical model
#: is fitted once per series to choose, and again at every forecast (AutoETS: about 35 ms a
#: daily series of 200 periods, 110 ms a monthly one of 115, on 2 cores). Up to this many
#: the fits take about as long as the network's training; on M3's 1,428 monthly series
#: (benchmarks/bench_m3.py) the average took sMAPE from 14.16 to 13.49, where a limit of
#: 1,000 had kept the network alone.
MAX_SERIES = 10_000


def history_periods(season: int) -> int:
    """The periods the statistical model is fitted on before each forecast: the last
    500, or 20 seasons where that is more (hourly data: 480, so 500).

    Example:
        >>> history_periods(7), history_periods(52)
        (500, 1040)
    """
    return max(500, 20 * season)


def statistical_forecasts(
    name: str,
    values: np.ndarray,
    origins: Sequence[int],
    horizon: int,
    season: int,
    history: int | None = None,
) -> np.ndarray:
    """``name``'s forecasts ``(len(origins), horizon)`` from each origin of ``values``,
    each fitted on the ``history`` periods before it (:func:`history_periods` by
    default)."""
    keep = history_periods(season) if history is None else history
    values = np.asarray(values, dtype="float64")
    return np.stack(
        [
            _remembered_forecast(name, values[max(0, o - keep) : o].tobytes(), horizon, season)
            for o in origins
        ]
    )


@functools.lru_cache(maxsize=256)
def _remembered_forecast(name: str, history: bytes, horizon: int, season: int) -> np.ndarray:
    """``statistical_forecast`` of the history whose float64 bytes are ``history``,
    remembered: a server asked again for the same history, or ``predict`` called again on
    the same run, forecasts without fitting again (AutoARIMA takes up to seconds). The
    fits are deterministic, so a remembered forecast is the one a new fit would give."""
    forecast = statistical_forecast(name, np.frombuffer(history), horizon, season)[0]
    forecast.setflags(write=False)  # shared by every caller: never changed in place
    return forecast


def validation_origins(start: int, end: int, horizon: int, lookback: int) -> list[int]:
    """Up to :data:`VALIDATION_ORIGINS` forecast origins, evenly spaced, whose whole
    horizon lies in ``[start, end)`` and whose window lies in the data (the last origin
    always among them); ``[]`` where no horizon fits.

    Example:
        >>> validation_origins(100, 150, 7, 20)
        [100, 111, 122, 132, 143]
        >>> validation_origins(100, 106, 7, 20)
        []
    """
    first, last = max(start, lookback), end - horizon
    if last < first:
        return []
    count = min(VALIDATION_ORIGINS, last - first + 1)
    if count == 1:
        return [last]
    spaced = np.linspace(first, last, count)
    return sorted({int(round(v)) for v in spaced})


def combine(network: np.ndarray, statistical: np.ndarray | None, weight: float) -> np.ndarray:
    """``(1 - weight) * network + weight * statistical``; ``network`` itself at weight 0."""
    if weight == 0.0 or statistical is None:
        return network
    return (1.0 - weight) * network + weight * statistical


def choose_weight(
    network: np.ndarray, statistical: np.ndarray, actual: np.ndarray, scales: np.ndarray
) -> tuple[float, dict[str, float]]:
    """0.5 (the mean) unless the network alone has a mean absolute error lower by more
    than :data:`TOLERANCE` (then 0), the errors taken over the rows' ``scales`` (one per
    row: 1 for one series, each series' level in a panel, so that every series weighs
    alike); with each weight's error, for the report.

    Example:
        >>> actual = np.array([[10.0, 12.0]])
        >>> choose_weight(actual + 2, actual - 2, actual, np.ones(1))
        (0.5, {'0.0': 2.0, '0.5': 0.0})
    """
    scales = np.asarray(scales, dtype="float64").reshape(-1, 1)
    errors = {}
    for weight in WEIGHTS:
        forecast = combine(network, statistical, weight)
        errors[weight] = float(np.mean(np.abs(actual - forecast) / scales))
    alone, mean = errors[0.0], errors[0.5]
    if not np.isfinite(mean):
        best = 0.0
    elif not np.isfinite(alone):
        best = 0.5
    else:
        best = 0.5 if mean <= (1.0 + TOLERANCE) * alone else 0.0
    return best, {str(w): e for w, e in errors.items()}


def record(
    config: ForecastConfig, weight: float, origins: int, chosen_on: str, errors: dict[str, float]
) -> dict[str, Any]:
    """What the fitted forecaster keeps of the choice (``combination_``): the model, its
    weight, how many origins chose it and where (for the verdict), each weight's
    validation error."""
    return {
        "combined_with": config.combination_model,
        "weight": float(weight),
        "history": history_periods(config.season),
        "origins": int(origins),
        "chosen_on": chosen_on,
        "errors": errors,
    }


def state(chosen: dict[str, Any] | None) -> dict[str, Any] | None:
    """``preprocessing.json``'s ``combination``: ``None`` where the forecasts are the
    network's alone."""
    if not chosen or not chosen.get("weight"):
        return None
    return {key: chosen[key] for key in ("combined_with", "weight", "history")}


def restore(saved: Any) -> dict[str, Any] | None:
    """``combination_`` of a loaded run from its (validated) ``combination`` state."""
    if saved is None:
        return None
    return {
        "combined_with": saved["combined_with"],
        "weight": float(saved["weight"]),
        "history": int(saved["history"]),
    }
