"""Scoring a global model: every series on its own test periods against its own
baselines, then the per-series metrics pooled into overall ones."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from rnnkit.config import ForecastConfig
from rnnkit.core.progress import track
from rnnkit.data.scaling import Scaler
from rnnkit.data.windows import evaluation_origins, last_windows
from rnnkit.forecasting import baselines
from rnnkit.forecasting.intervals import interval_metrics, quantile_name, seasonal_naive_offsets
from rnnkit.forecasting.metrics import forecast_metrics, mase_scale
from rnnkit.forecasting.scoring import METHODS

Scaling = tuple[Scaler, float]

# ARIMA is selected and refit per series and per origin (about 0.5 s a series here):
# above this many series it is left out of the baselines, and the report says so.
ARIMA_MAX_SERIES = 100


def score_panel(
    config: ForecastConfig,
    scaling: Callable[[str, np.ndarray], Scaling],
    forecast_panel: Callable[
        [np.ndarray, list[Scaling], list[pd.Timestamp], list[str]], np.ndarray
    ],
    series: dict[str, pd.Series],
    tests: dict[str, int],
    panel_quantiles: Callable[[np.ndarray, list[Scaling], np.ndarray], np.ndarray] | None = None,
) -> dict:
    """Scores each series on its last ``tests[key]`` periods, then pools them.

    ``scaling`` and ``forecast_panel`` are the model's (see
    :meth:`GlobalForecaster.scaling` and :meth:`GlobalForecaster.forecast_panel`): a
    series' scaler and level floor from its history, and forecasts of raw windows given
    the dates of their first forecast periods and the ids of their series.

    The model forecasts every origin of every series in one batch; naive, seasonal naive
    and ARIMA (up to :data:`ARIMA_MAX_SERIES` series) forecast each series from the same
    origins. Overall MAE, RMSE, MAPE and sMAPE pool every test point; overall MASE is the
    mean of the per-series MASE.

    With ``panel_quantiles`` (:meth:`GlobalForecaster.panel_quantiles`), the model's and
    seasonal naive's metrics gain the interval metrics, per series and pooled over every
    test point (see :func:`~rnnkit.forecasting.scoring.score_series`).

    Returns:
        ``{"metrics": overall, "by_series": {id: {method: metrics}}, "predictions":
        DataFrame, "details": {...}}``.
    """
    c = config
    season = c.season
    with_arima = len(series) <= ARIMA_MAX_SERIES
    methods = [m for m in METHODS if with_arima or m != "arima"]
    keys, windows, scalings, starts, plans = [], [], [], [], {}
    for key, s in series.items():
        values = s.to_numpy()
        origins = evaluation_origins(len(values), tests[key], c.horizon)
        plans[key] = origins
        scaled_by = scaling(key, values[: origins[0]])
        windows.append(last_windows(values, origins, c.window))
        starts.extend(s.index[o] for o in origins)
        keys.extend([key] * len(origins))
        scalings.extend([scaled_by] * len(origins))
    windows = np.concatenate(windows)
    model = forecast_panel(windows, scalings, starts, keys)
    quantiles = config.quantiles if panel_quantiles is not None else ()
    bands = panel_quantiles(windows, scalings, model) if quantiles else None
    pooled_bands: dict[str, list[np.ndarray]] = {"model": [], "seasonal_naive": []}
    row = 0
    by_series, details, tables = {}, {}, []
    pooled: dict[str, list[np.ndarray]] = {m: [] for m in ["actual", *methods]}
    for key, s in track(list(series.items()), "series"):  # ARIMA: about 0.5 s a series
        values, origins = s.to_numpy(), plans[key]
        predictions, order = baselines.forecast_from_origins(
            values, origins, c.horizon, season, with_arima=with_arima
        )
        predictions["model"] = model[row : row + len(origins)]
        actual = np.stack([values[o : o + c.horizon] for o in origins])
        scale = mase_scale(values[: origins[0]], season)
        by_series[key] = {m: forecast_metrics(actual, predictions[m], scale) for m in methods}
        columns = {}
        if bands is not None:
            series_bands = {"model": bands[row : row + len(origins)]}
            offsets = seasonal_naive_offsets(values[: origins[0]], season, c.horizon, quantiles)
            if offsets is not None:
                naive = predictions["seasonal_naive"][:, None, :] + offsets[None, :, :]
                series_bands["seasonal_naive"] = naive
            for m, band in series_bands.items():
                by_series[key][m].update(interval_metrics(actual, band, quantiles))
                pooled_bands[m].append(np.moveaxis(band, 1, 0).reshape(len(quantiles), -1))
            model_band = series_bands["model"]
            columns = {
                quantile_name(q): model_band[:, i, :].ravel() for i, q in enumerate(quantiles)
            }
        row += len(origins)
        details[key] = {
            "origins": [str(s.index[o]) for o in origins],
            "mase_scale": scale,
            "arima_order": None if order is None else list(order),
        }
        pooled["actual"].append(actual.ravel())
        for m in methods:
            pooled[m].append(predictions[m].ravel())
        tables.append(
            pd.DataFrame(
                {
                    c.id_column: key,
                    c.time_column: np.concatenate([s.index[o : o + c.horizon] for o in origins]),
                    "origin": np.repeat([str(s.index[o].date()) for o in origins], c.horizon),
                    "step": np.tile(np.arange(1, c.horizon + 1), len(origins)),
                    "actual": actual.ravel(),
                    **{m: predictions[m].ravel() for m in methods},
                    **columns,
                }
            )
        )
    actual = np.concatenate(pooled["actual"])
    overall = {}
    for m in methods:
        metrics = forecast_metrics(actual, np.concatenate(pooled[m]), 1.0)
        mases = [by_series[key][m]["mase"] for key in by_series]
        finite = [v for v in mases if np.isfinite(v)]
        metrics["mase"] = float(np.mean(finite)) if finite else float("nan")
        overall[m] = metrics
    for m, parts in pooled_bands.items():
        if quantiles and len(parts) == len(by_series):  # every series has this method's
            pooled = np.concatenate(parts, axis=1)  # (quantiles, points)
            overall[m].update(interval_metrics(actual[None, :], pooled[None], quantiles))
    wins = sum(m["model"]["mase"] < m["seasonal_naive"]["mase"] for m in by_series.values())
    return {
        "metrics": overall,
        "by_series": by_series,
        "predictions": pd.concat(tables, ignore_index=True),
        "details": {
            "series_scored": len(by_series),
            "model_beats_seasonal_naive": int(wins),
            "test_points": int(actual.size),
            "zero_actuals_excluded_from_mape": int((actual == 0).sum()),
            "seasonal_period": season,
            "arima": "included" if with_arima else f"left out: more than {ARIMA_MAX_SERIES} series",
            "intervals": None
            if not quantiles
            else {
                "quantiles": list(quantiles),
                "model": "split conformal on every series' validation windows, in units of "
                "each window's spread (preprocessing.json: intervals)",
                "seasonal_naive": "empirical quantiles of each series' in-sample errors per "
                "step, on its history before the test",
                "overall": "pooled over every test point",
            },
            "overall": "MAE, RMSE, MAPE, sMAPE pooled over every test point; MASE the "
            "mean of the per-series MASE",
            "by_series": details,
        },
    }
