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
from rnnkit.forecasting.metrics import METHOD_NAMES, forecast_metrics, mase_scale
from rnnkit.forecasting.scoring import METHODS, Combine

Scaling = tuple[Scaler, float]

# The statistical baselines are refit per series and per origin. Above these many series
# each is left out, and the report says so: AutoARIMA takes about 0.5 s a series here,
# AutoETS and AutoTheta a few hundredths.
MAX_SERIES = {"auto_ets": 1000, "auto_theta": 1000, "auto_arima": 100}


def score_panel(
    config: ForecastConfig,
    scaling: Callable[[str, np.ndarray], Scaling],
    forecast_panel: Callable[
        [np.ndarray, list[Scaling], list[pd.Timestamp], list[str]], np.ndarray
    ],
    series: dict[str, pd.Series],
    tests: dict[str, int],
    panel_quantiles: Callable[[np.ndarray, list[Scaling], np.ndarray], np.ndarray] | None = None,
    combine: Combine | None = None,
) -> dict:
    """Scores each series on its last ``tests[key]`` periods, then pools them.

    ``scaling`` and ``forecast_panel`` are the model's (see
    :meth:`GlobalForecaster.scaling` and :meth:`GlobalForecaster.forecast_panel`): a
    series' scaler and level floor from its history, and forecasts of raw windows given
    the dates of their first forecast periods and the ids of their series.

    The model forecasts every origin of every series in one batch; the baselines (the
    statistical ones up to :data:`MAX_SERIES` series) forecast each series from the same
    origins. Overall MAE, RMSE, MAPE and sMAPE pool every test point; overall MASE is the
    mean of the per-series MASE.

    With ``panel_quantiles`` (:meth:`GlobalForecaster.panel_quantiles`), the model's and
    seasonal naive's metrics gain the interval metrics, per series and pooled over every
    test point (see :func:`~rnnkit.forecasting.scoring.score_series`).

    With ``combine`` (see :data:`~rnnkit.forecasting.scoring.Combine`), each series'
    model forecasts are the combined ones, and the network's are scored under
    ``"network"``.

    Returns:
        ``{"metrics": overall, "by_series": {id: {method: metrics}}, "predictions":
        DataFrame, "details": {...}}``.
    """
    c = config
    statistical = tuple(m for m in baselines.STATISTICAL if len(series) <= MAX_SERIES[m])
    left_out = {m for m in baselines.STATISTICAL if m not in statistical}
    if combine is None:
        left_out.add("network")
    methods = [m for m in METHODS if m not in left_out]
    plans = {key: evaluation_origins(len(s), tests[key], c.horizon) for key, s in series.items()}
    windows, scalings, starts, keys = _panel_windows(c, scaling, series, plans)
    network = forecast_panel(windows, scalings, starts, keys)
    model = network if combine is None else _combined(series, plans, network, combine)
    quantiles = config.quantiles if panel_quantiles is not None else ()
    bands = panel_quantiles(windows, scalings, model) if quantiles else None
    pooled_bands: dict[str, list[np.ndarray]] = {"model": [], "seasonal_naive": []}
    row = 0
    by_series, details, tables = {}, {}, []
    pooled: dict[str, list[np.ndarray]] = {m: [] for m in ["actual", *methods]}
    for key, s in track(list(series.items()), "series"):  # AutoARIMA: about 0.5 s a series
        origins = plans[key]
        rows = slice(row, row + len(origins))
        model_band = None if bands is None else bands[rows]
        forecasts = {"model": model[rows]}
        if combine is not None:
            forecasts["network"] = network[rows]
        scored = _score_series(
            c, key, s, origins, forecasts, model_band, methods, quantiles, statistical
        )
        by_series[key], details[key] = scored["metrics"], scored["details"]
        for m, band in scored["bands"].items():
            pooled_bands[m].append(np.moveaxis(band, 1, 0).reshape(len(quantiles), -1))
        row += len(origins)
        pooled["actual"].append(scored["actual"].ravel())
        for m in methods:
            pooled[m].append(scored["predictions"][m].ravel())
        tables.append(scored["table"])
    actual = np.concatenate(pooled["actual"])
    overall = _pooled_metrics(actual, pooled, pooled_bands, by_series, methods, quantiles)
    return {
        "metrics": overall,
        "by_series": by_series,
        "predictions": pd.concat(tables, ignore_index=True),
        "details": _panel_details(c, actual, by_series, details, statistical, quantiles),
    }


def _panel_details(
    config: ForecastConfig,
    actual: np.ndarray,
    by_series: dict[str, dict[str, dict[str, float]]],
    details: dict[str, dict],
    statistical: tuple[str, ...],
    quantiles: tuple[float, ...],
) -> dict:
    """What the scoring did, for the report: counts, the baselines and the intervals
    used, how the overall metrics pool, and each series' ``details``."""
    wins = sum(m["model"]["mase"] < m["seasonal_naive"]["mase"] for m in by_series.values())
    return {
        "series_scored": len(by_series),
        "model_beats_seasonal_naive": int(wins),
        "test_points": int(actual.size),
        "zero_actuals_excluded_from_mape": int((actual == 0).sum()),
        "seasonal_period": config.season,
        "baselines": _baselines_note(statistical, len(by_series)),
        "intervals": _intervals_note(quantiles),
        "overall": "MAE, RMSE, MAPE, sMAPE pooled over every test point; MASE the "
        "mean of the per-series MASE",
        "by_series": details,
    }


def _baselines_note(statistical: tuple[str, ...], series: int) -> str:
    """The baselines scored, and any statistical one left out for the panel's size."""
    note = ", ".join(["naive", "seasonal naive", *(METHOD_NAMES[m] for m in statistical)])
    left = [m for m in baselines.STATISTICAL if m not in statistical]
    if left:
        note += f"; left out, as this panel has {series:,} series: " + ", ".join(
            f"{METHOD_NAMES[m]} (fitted up to {MAX_SERIES[m]:,} series)" for m in left
        )
    return note


def _combined(
    series: dict[str, pd.Series],
    plans: dict[str, list[int]],
    network: np.ndarray,
    combine: Combine,
) -> np.ndarray:
    """The model's forecasts of every origin of every series (the rows of ``network``,
    in :func:`_panel_windows`'s order), each series combined on its own values."""
    rows, row = [], 0
    for key, s in series.items():
        origins = plans[key]
        rows.append(combine(s.to_numpy(), origins, network[row : row + len(origins)]))
        row += len(origins)
    return np.concatenate(rows)


def _panel_windows(
    config: ForecastConfig,
    scaling: Callable[[str, np.ndarray], Scaling],
    series: dict[str, pd.Series],
    plans: dict[str, list[int]],
) -> tuple[np.ndarray, list[Scaling], list[pd.Timestamp], list[str]]:
    """The model's batch: every origin's window of every series, with its series' scaling
    (from the history before its first origin), first forecast date and id."""
    windows, scalings, starts, keys = [], [], [], []
    for key, s in series.items():
        values, origins = s.to_numpy(), plans[key]
        scaled_by = scaling(key, values[: origins[0]])
        windows.append(last_windows(values, origins, config.window))
        starts.extend(s.index[o] for o in origins)
        keys.extend([key] * len(origins))
        scalings.extend([scaled_by] * len(origins))
    return np.concatenate(windows), scalings, starts, keys


def _score_series(
    config: ForecastConfig,
    key: str,
    s: pd.Series,
    origins: list[int],
    given: dict[str, np.ndarray],
    model_bands: np.ndarray | None,
    methods: list[str],
    quantiles: tuple[float, ...],
    statistical: tuple[str, ...],
) -> dict:
    """One series scored from its origins: the model's forecasts (and the network's,
    where they differ) ``given`` with its intervals, the baselines' made here on its own
    values.

    Returns:
        ``{"metrics": {method: metrics}, "details", "actual", "predictions", "bands",
        "table"}``, ``bands`` each method's intervals (none without ``model_bands``).
    """
    c = config
    values = s.to_numpy()
    predictions, fitted = baselines.forecast_from_origins(
        values, origins, c.horizon, c.season, statistical
    )
    predictions.update(given)
    actual = np.stack([values[o : o + c.horizon] for o in origins])
    scale = mase_scale(values[: origins[0]], c.season)
    metrics = {m: forecast_metrics(actual, predictions[m], scale) for m in methods}
    series_bands, columns = {}, {}
    if model_bands is not None:
        series_bands = _series_bands(c, values[: origins[0]], predictions, model_bands, quantiles)
        for m, band in series_bands.items():
            metrics[m].update(interval_metrics(actual, band, quantiles))
        columns = {quantile_name(q): model_bands[:, i, :].ravel() for i, q in enumerate(quantiles)}
    return {
        "metrics": metrics,
        "details": {
            "origins": [str(s.index[o]) for o in origins],
            "mase_scale": scale,
            "baselines": fitted,
        },
        "actual": actual,
        "predictions": predictions,
        "bands": series_bands,
        "table": _series_table(c, key, s.index, origins, actual, predictions, methods, columns),
    }


def _series_bands(
    config: ForecastConfig,
    history: np.ndarray,
    predictions: dict[str, np.ndarray],
    model_bands: np.ndarray,
    quantiles: tuple[float, ...],
) -> dict[str, np.ndarray]:
    """One series' intervals, (origins, quantiles, horizon): the model's, and seasonal
    naive's from its in-sample errors on ``history`` where it has enough."""
    series_bands = {"model": model_bands}
    offsets = seasonal_naive_offsets(history, config.season, config.horizon, quantiles)
    if offsets is not None:
        naive = predictions["seasonal_naive"][:, None, :] + offsets[None, :, :]
        series_bands["seasonal_naive"] = naive
    return series_bands


def _series_table(
    config: ForecastConfig,
    key: str,
    index: pd.Index,
    origins: list[int],
    actual: np.ndarray,
    predictions: dict[str, np.ndarray],
    methods: list[str],
    columns: dict[str, np.ndarray],
) -> pd.DataFrame:
    """One series' rows of the predictions table: a row per origin and step."""
    c = config
    return pd.DataFrame(
        {
            c.id_column: key,
            c.time_column: np.concatenate([index[o : o + c.horizon] for o in origins]),
            "origin": np.repeat([str(index[o].date()) for o in origins], c.horizon),
            "step": np.tile(np.arange(1, c.horizon + 1), len(origins)),
            "actual": actual.ravel(),
            **{m: predictions[m].ravel() for m in methods},
            **columns,
        }
    )


def _pooled_metrics(
    actual: np.ndarray,
    pooled: dict[str, list[np.ndarray]],
    pooled_bands: dict[str, list[np.ndarray]],
    by_series: dict[str, dict[str, dict[str, float]]],
    methods: list[str],
    quantiles: tuple[float, ...],
) -> dict[str, dict[str, float]]:
    """The overall metrics: every test point pooled, MASE the mean of the series' finite
    ones, and the interval metrics of the methods every series has intervals of."""
    overall = {}
    for m in methods:
        metrics = forecast_metrics(actual, np.concatenate(pooled[m]), 1.0)
        mases = [by_series[key][m]["mase"] for key in by_series]
        finite = [v for v in mases if np.isfinite(v)]
        metrics["mase"] = float(np.mean(finite)) if finite else float("nan")
        overall[m] = metrics
    for m, parts in pooled_bands.items():
        if quantiles and len(parts) == len(by_series):  # every series has this method's
            bands = np.concatenate(parts, axis=1)  # (quantiles, points)
            overall[m].update(interval_metrics(actual[None, :], bands[None], quantiles))
    return overall


def _intervals_note(quantiles: tuple[float, ...]) -> dict | None:
    """How the intervals were made, for the details (None without intervals)."""
    if not quantiles:
        return None
    return {
        "quantiles": list(quantiles),
        "model": "split conformal on every series' validation windows, in units of "
        "each window's spread (preprocessing.json: intervals)",
        "seasonal_naive": "empirical quantiles of each series' in-sample errors per "
        "step, on its history before the test",
        "overall": "pooled over every test point",
    }
