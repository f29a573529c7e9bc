"""The pictures of the forecasting reports: the forecast of one series (the whole series,
then the test periods close up), the forecasts of a panel's largest series, and the error
at each forecast step.

Every method keeps one look in every figure (:data:`METHOD_STYLES`): the network a thick
solid line drawn on top, each baseline its own colour, dash pattern and marker, so that
baselines which forecast the same values (naive and AutoETS on a flat series) stay told
apart by their markers. The forecast plots draw the methods of :data:`PLOTTED_METHODS`;
the error at each step draws every method.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.dates import AutoDateLocator

from rnnkit.config import ForecastConfig
from rnnkit.core.report import plain_number_ticks, plt, save_figure
from rnnkit.forecasting.intervals import central_intervals, quantile_name

#: How each method is drawn: colour, line style, marker, width, drawing order.
METHOD_STYLES: dict[str, dict] = {
    "model": {"color": "C0", "ls": "-", "marker": "", "lw": 2.0, "zorder": 6},
    # The network alone, where the model's forecast averages it with a statistical one's.
    "network": {"color": "C0", "ls": "--", "marker": ".", "lw": 1.0, "zorder": 5},
    "seasonal_naive": {"color": "C2", "ls": "--", "marker": "o", "lw": 1.0, "zorder": 5},
    "auto_ets": {"color": "C3", "ls": "-.", "marker": "s", "lw": 1.0, "zorder": 4},
    "naive": {"color": "C7", "ls": ":", "marker": "^", "lw": 1.2, "zorder": 3},
    "auto_theta": {"color": "C4", "ls": "--", "marker": "D", "lw": 1.0, "zorder": 2},
    "auto_arima": {"color": "C5", "ls": ":", "marker": "v", "lw": 1.0, "zorder": 2},
}
#: The methods a forecast plot draws (more lines would hide the network's).
PLOTTED_METHODS = ("model", "seasonal_naive", "auto_ets", "naive")
ACTUAL_STYLE = {"color": "#222", "lw": 1.1, "marker": ".", "ms": 4, "zorder": 7}
AHEAD_STYLE = {"color": "C1", "lw": 2.0, "zorder": 6}

MARKED_ORIGINS = 20

# The plot of a panel shows this many series: the largest by total over their test periods.
PLOTTED_SERIES = 6


def band_columns(quantiles: Sequence[float], table: pd.DataFrame) -> tuple[str, str] | None:
    """The columns of the widest central interval ``table`` holds (``q0.1``, ``q0.9``)."""
    for low, high in central_intervals(quantiles):
        names = (quantile_name(low), quantile_name(high))
        if all(name in table.columns for name in names):
            return names
    return None


def shade_band(axis, times, table: pd.DataFrame, columns: tuple[str, str] | None, **style) -> None:
    """The interval between ``columns`` of ``table`` as a shaded band (none without one)."""
    if columns is not None:
        axis.fill_between(times, table[columns[0]], table[columns[1]], lw=0, **style)


def band_label(columns: tuple[str, str] | None) -> str:
    return "" if columns is None else f"{columns[0]}-{columns[1]} interval"


def date_ticks(axis, most: int = 7) -> None:
    """At most ``most`` date ticks on the x axis, so that full dates fit side by side
    without rotation (the default locator puts up to 11 there)."""
    axis.xaxis.set_major_locator(AutoDateLocator(minticks=3, maxticks=most))


def method_line(axis, times, values, method: str, **overrides) -> None:
    """One method's forecasts in its :data:`METHOD_STYLES` look (markers kept few)."""
    style = {**METHOD_STYLES.get(method, {"color": "C4", "ls": "--", "marker": "x"})}
    style.update(overrides)
    axis.plot(times, values, ms=3.5, markevery=max(1, len(values) // 40), label=method, **style)


def draw_test_close_up(
    axis,
    config: ForecastConfig,
    history: pd.Series,
    tests: pd.DataFrame,
    ahead: pd.DataFrame,
    methods: Sequence[str],
    most_ticks: int = 7,
) -> None:
    """The test periods of one series with a short context before them (one horizon):
    actuals, each method's forecasts from every origin (origins marked), the model's
    interval per origin, then the forecast after the data and its interval."""
    c = config
    times = pd.to_datetime(tests[c.time_column])
    first = times.min()
    position = history.index.searchsorted(first)
    context = history.iloc[max(0, position - c.horizon) :]
    axis.axvspan(first, history.index[-1], color="#f60", alpha=0.05, lw=0)
    origins = tests.groupby("origin", sort=False)[c.time_column].first()
    # Each origin marked, up to a number that still reads as marks rather than a hatch.
    if len(origins) <= MARKED_ORIGINS:
        for i, start in enumerate(pd.to_datetime(origins)):
            label = "forecast origin" if i == 0 else ""
            axis.axvline(start, color="#999", ls=":", lw=0.8, label=label)
    tested = band_columns(c.quantiles, tests)
    # One band per origin, so consecutive origins' bands are not joined across them.
    for _, rows in tests.groupby("origin", sort=False):
        shade_band(axis, pd.to_datetime(rows[c.time_column]), rows, tested, color="C0", alpha=0.18)
    if tested is not None:
        axis.fill_between([], [], [], color="C0", alpha=0.18, label=f"model {band_label(tested)}")
    axis.plot(context.index, context.to_numpy(), label="actual", **ACTUAL_STYLE)
    for method in methods:
        if method in tests:
            method_line(axis, times, tests[method].to_numpy(), method)
    ahead_times = pd.to_datetime(ahead[c.time_column])
    if len(ahead):
        axis.plot(ahead_times, ahead["forecast"], label="forecast after the data", **AHEAD_STYLE)
        future_band = band_columns(c.quantiles, ahead)
        shade_band(axis, ahead_times, ahead, future_band, color="C1", alpha=0.22)
        if future_band is not None:
            axis.fill_between([], [], [], color="C1", alpha=0.22, label=band_label(future_band))
    end = ahead_times.max() if len(ahead) else history.index[-1]
    span = end - context.index[0]
    axis.set_xlim(context.index[0] - span * 0.01, end + span * 0.01)
    date_ticks(axis, most_ticks)
    plain_number_ticks(axis)
    axis.grid(alpha=0.3)


def forecast_figure(
    config: ForecastConfig,
    series: pd.Series,
    split: Mapping[str, int],
    predictions: pd.DataFrame,
    future: pd.DataFrame,
) -> plt.Figure:
    """The whole series with its validation and test parts and the forecast after it
    (top), and the test periods close up (:func:`draw_test_close_up`, bottom)."""
    c = config
    figure, (whole, close) = plt.subplots(
        2, 1, figsize=(11, 7.5), height_ratios=(1, 1.4), layout="constrained"
    )
    whole.plot(series.index, series.to_numpy(), color="#555", lw=0.8, label="actual")
    bounds = [series.index[split["train"]], series.index[split["train"] + split["validation"]]]
    whole.axvspan(bounds[0], bounds[1], color="#fd0", alpha=0.15, label="validation")
    whole.axvspan(bounds[1], series.index[-1], color="#f60", alpha=0.12, label="test")
    band = band_columns(c.quantiles, future)
    whole.plot(future[c.time_column], future["forecast"], label="forecast", **AHEAD_STYLE)
    shade_band(
        whole, future[c.time_column], future, band, color="C1", alpha=0.25, label=band_label(band)
    )
    whole.set_title(f"{c.target_column} per period ({c.freq}, {c.agg}): the whole series")
    date_ticks(whole)
    plain_number_ticks(whole)
    whole.grid(alpha=0.3)
    origins = predictions["origin"].nunique()
    draw_test_close_up(close, c, series, predictions, future, list(PLOTTED_METHODS))
    close.set_title(
        f"test close up: forecasts from {origins} origin{'s' if origins != 1 else ''} "
        "against actuals, then the forecast after the data"
    )
    for axis in (whole, close):
        axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    return figure


def plot_forecast(
    config: ForecastConfig,
    series: pd.Series,
    split: Mapping[str, int],
    predictions: pd.DataFrame,
    future: pd.DataFrame,
    path: Path,
) -> str:
    """Saves :func:`forecast_figure` at ``path``; returns it base64-encoded."""
    return save_figure(forecast_figure(config, series, split, predictions, future), path)


def panel_forecast_figure(
    config: ForecastConfig,
    series: Mapping[str, pd.Series],
    predictions: pd.DataFrame,
    future: pd.DataFrame,
) -> plt.Figure:
    """The test close up (:func:`draw_test_close_up`) of each of the largest series."""
    c = config
    table = predictions
    totals = table.groupby(c.id_column)["actual"].sum().sort_values(ascending=False)
    keys = list(totals.index[:PLOTTED_SERIES])
    columns = 2 if len(keys) > 1 else 1
    rows = math.ceil(len(keys) / columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(11, 3.2 * rows + 0.6), squeeze=False, layout="constrained"
    )
    methods = [m for m in PLOTTED_METHODS if m in table]
    for axis, key in zip(axes.flat, keys):
        tests = table[table[c.id_column] == key]
        ahead = future[future[c.id_column] == key]
        draw_test_close_up(axis, c, series[key], tests, ahead, methods, most_ticks=5)
        axis.set_title(key if len(key) <= 50 else key[:49] + "\u2026", fontsize=9)
        axis.tick_params(labelsize=7)
    for axis in list(axes.flat)[len(keys) :]:
        axis.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=4, fontsize=8, frameon=False)
    return figure


def plot_panel_forecasts(
    config: ForecastConfig,
    series: Mapping[str, pd.Series],
    predictions: pd.DataFrame,
    future: pd.DataFrame,
    path: Path,
) -> str:
    """Saves :func:`panel_forecast_figure` at ``path``; returns it base64-encoded."""
    return save_figure(panel_forecast_figure(config, series, predictions, future), path)


def step_errors_figure(
    by_step: Mapping[str, Mapping[str, Sequence[float]]], metric: str, ylabel: str
) -> plt.Figure:
    """Each method's error ``by_step[method][metric]`` at forecast steps 1 to h."""
    figure, axis = plt.subplots(figsize=(8, 3.6), layout="constrained")
    for method in [m for m in METHOD_STYLES if m in by_step] + [
        m for m in by_step if m not in METHOD_STYLES
    ]:
        values = np.asarray(by_step[method][metric], dtype=float)
        method_line(axis, np.arange(1, len(values) + 1), values, method)
    axis.set_xlabel("forecast step (periods after the origin)")
    axis.set_ylabel(ylabel)
    axis.set_title(f"{metric.upper()} at each forecast step on the test")
    axis.xaxis.get_major_locator().set_params(integer=True)
    plain_number_ticks(axis)
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    return figure


def plot_step_errors(
    by_step: Mapping[str, Mapping[str, Sequence[float]]], metric: str, ylabel: str, path: Path
) -> str:
    """Saves :func:`step_errors_figure` at ``path``; returns it base64-encoded."""
    return save_figure(step_errors_figure(by_step, metric, ylabel), path)
