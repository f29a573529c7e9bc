"""Scoring a forecaster of one series: the model and the baselines forecast the last test
periods from the same origins, and each is measured on the original scale."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.config import ForecastConfig
from rnnkit.data.windows import evaluation_origins
from rnnkit.forecasting import baselines
from rnnkit.forecasting.intervals import interval_metrics, quantile_name, seasonal_naive_offsets
from rnnkit.forecasting.metrics import forecast_metrics, mase_scale

# The methods every forecast is scored with, the model first; "network" (the network
# alone) follows it where the model's forecast averages it with a statistical model's.
METHODS = ("model", "network", *baselines.BASELINES)

#: ``combine(values, origins, network)``: the model's forecasts from ``origins`` of
#: ``values`` given the network's (see :meth:`Forecaster.combined`).
Combine = Callable[[np.ndarray, Sequence[int], np.ndarray], np.ndarray]


def model_forecasts(
    network: np.ndarray, values: np.ndarray, origins: Sequence[int], combine: Combine | None
) -> dict[str, np.ndarray]:
    """``{"model": ...}``: the network's forecasts, or with ``combine`` the combined ones
    and the network's under ``"network"``."""
    if combine is None:
        return {"model": network}
    return {"model": combine(values, origins, network), "network": network}


def score_series(
    forecast_windows: Callable[[np.ndarray, pd.DatetimeIndex], np.ndarray],
    values: np.ndarray,
    test_size: int,
    index: pd.DatetimeIndex,
    config: ForecastConfig,
    forecast_quantiles: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    combine: Combine | None = None,
) -> dict[str, Any]:
    """Scores a model and the baselines on the last ``test_size`` periods of one series.

    Every method forecasts the full horizon from the same origins (see
    :func:`~rnnkit.data.windows.evaluation_origins`), on the original scale.

    Args:
        forecast_windows: the model's forecasts of raw windows ``(n, lookback)`` given the
            dates of their first forecast periods, such as
            :meth:`Forecaster.forecast_windows`.
        values: the series, one value per period.
        test_size: periods at its end to score on.
        index: the period starts of ``values``.
        config: the forecaster's configuration (lookback, horizon, freq).
        forecast_quantiles: the model's quantile forecasts ``(n, len(quantiles), horizon)``
            of raw windows and their point forecasts, such as
            :meth:`Forecaster.forecast_quantiles`; ``None`` without intervals. With it,
            the model's and seasonal naive's metrics gain pinball losses and the coverage
            and width of each central interval (see
            :func:`~rnnkit.forecasting.intervals.interval_metrics`); seasonal naive's
            quantiles are the empirical ones of its errors, per step, on the history
            before the test.
        combine: the model's forecasts given the network's, where they average it with a
            statistical model's (see :func:`model_forecasts`); ``None``: the network's.

    Returns:
        ``{"metrics": {method: {...}}, "predictions": DataFrame, "details": {...}}``.
    """
    c = config
    season = c.season
    origins = evaluation_origins(len(values), test_size, c.horizon)
    windows = np.stack([values[o - c.window : o] for o in origins])
    network = forecast_windows(windows, index[origins])
    predictions = model_forecasts(network, values, origins, combine)
    methods = [*predictions, *baselines.BASELINES]
    forecasts, fitted = baselines.forecast_from_origins(values, origins, c.horizon, season)
    predictions.update(forecasts)
    actual = np.stack([values[o : o + c.horizon] for o in origins])
    scale = mase_scale(values[: origins[0]], season)
    metrics = {m: forecast_metrics(actual, predictions[m], scale) for m in methods}
    bands, intervals = _score_intervals(
        forecast_quantiles, windows, predictions, actual, values[: origins[0]], c, metrics
    )
    table = pd.DataFrame(
        {
            c.time_column: np.concatenate([index[o : o + c.horizon] for o in origins]),
            "origin": np.repeat([str(index[o].date()) for o in origins], c.horizon),
            "step": np.tile(np.arange(1, c.horizon + 1), len(origins)),
            "actual": actual.ravel(),
            **{m: predictions[m].ravel() for m in methods},
            **bands,
        }
    )
    return {
        "metrics": metrics,
        "predictions": table,
        "details": {
            "origins": [str(index[o]) for o in origins],
            "test_points": int(actual.size),
            "zero_actuals_excluded_from_mape": int((actual == 0).sum()),
            "seasonal_period": season,
            "mase_scale": scale,
            "baselines": fitted,
            "intervals": intervals,
            "by_step": errors_by_step(actual, predictions, scale),
        },
    }


def errors_by_step(
    actual: np.ndarray, predictions: dict[str, np.ndarray], scale: float
) -> dict[str, dict[str, list[float]]]:
    """Each method's MAE and MASE at every horizon step (1 to h), over the origins:
    ``{method: {"mae": [...], "mase": [...]}}``. Every step has one error per origin, so
    the mean of the steps' MAE is the overall MAE.

    Example:
        >>> actual = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> errors_by_step(actual, {"model": actual + [[0.5, 1.0], [0.5, 3.0]]}, 2.0)
        {'model': {'mae': [0.5, 2.0], 'mase': [0.25, 1.0]}}
    """
    out = {}
    for method, forecast in predictions.items():
        mae = np.mean(np.abs(actual - forecast), axis=0)
        out[method] = {"mae": mae.tolist(), "mase": (mae / scale).tolist()}
    return out


def _score_intervals(
    forecast_quantiles: Callable[[np.ndarray, np.ndarray], np.ndarray] | None,
    windows: np.ndarray,
    predictions: dict[str, np.ndarray],
    actual: np.ndarray,
    history: np.ndarray,
    config: ForecastConfig,
    metrics: dict[str, dict[str, float]],
) -> tuple[dict[str, np.ndarray], dict[str, Any] | None]:
    """Adds the interval metrics of the model and seasonal naive to ``metrics``; returns
    the model's quantile columns of the test table and what the details say of them."""
    quantiles = config.quantiles
    if forecast_quantiles is None or not quantiles:
        return {}, None
    model = forecast_quantiles(windows, predictions["model"])
    metrics["model"].update(interval_metrics(actual, model, quantiles))
    offsets = seasonal_naive_offsets(history, config.season, config.horizon, quantiles)
    if offsets is not None:
        naive = predictions["seasonal_naive"][:, None, :] + offsets[None, :, :]
        metrics["seasonal_naive"].update(interval_metrics(actual, naive, quantiles))
    columns = {quantile_name(q): model[:, i, :].ravel() for i, q in enumerate(quantiles)}
    return columns, {
        "quantiles": list(quantiles),
        "model": "split conformal on the validation windows (preprocessing.json: intervals)",
        "seasonal_naive": "empirical quantiles of its in-sample errors per step, on the "
        "history before the test"
        if offsets is not None
        else "none: the history before the test is too short",
    }
