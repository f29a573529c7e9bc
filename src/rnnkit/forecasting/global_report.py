"""The ``report.html`` of a global model: overall and per-series metrics, plots of the
largest series."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.config import ForecastConfig
from rnnkit.core.report import (
    TrainingRecord,
    config_html,
    format_number,
    frame_html,
    gradient_section,
    image_html,
    loss_html,
    metrics_table_html,
    plt,
    save_figure,
    write_html,
)
from rnnkit.forecasting.metrics import evaluation_verdict
from rnnkit.forecasting.report import (
    FORECAST_COLUMNS,
    band_columns,
    interval_section,
    shade_band,
    verdict_html,
)

# The plot shows this many series: the largest by total over their test periods.
PLOTTED_SERIES = 6


def series_table_html(
    by_series: Mapping[str, Mapping[str, Mapping[str, float]]], id_column: str
) -> str:
    """One row per scored series (``{id: {method: metrics}}``): MASE of every method, the
    best in bold, sorted by the model's MASE relative to seasonal naive."""
    methods = list(next(iter(by_series.values())))
    rows = []
    for key, metrics in by_series.items():
        mases = {m: metrics[m]["mase"] for m in methods}
        ratio = mases["model"] / mases["seasonal_naive"] if mases["seasonal_naive"] else math.nan
        rows.append((ratio, key, mases))
    rows.sort(key=lambda r: (not np.isfinite(r[0]), r[0]))
    head = "".join(
        f"<th>{html.escape(h)}</th>"
        for h in [id_column, *(f"{m} MASE" for m in methods), "model / s.naive"]
    )
    body = []
    for ratio, key, mases in rows:
        finite = [v for v in mases.values() if np.isfinite(v)]
        best = min(finite) if finite else None
        cells = [f"<td>{html.escape(key)}</td>"]
        for m in methods:
            css = ' class="best"' if mases[m] == best else ""
            cells.append(f"<td{css}>{format_number(mases[m])}</td>")
        cells.append(f"<td>{format_number(ratio)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def plot_series_forecasts(
    config: ForecastConfig,
    series: Mapping[str, pd.Series],
    predictions: pd.DataFrame,
    future: pd.DataFrame,
    path: Path,
) -> str:
    """Recent actuals, the test forecasts (model, seasonal naive) and the future forecast
    of the largest series."""
    c = config
    table = predictions
    tested, ahead_band = band_columns(c.quantiles, table), band_columns(c.quantiles, future)
    totals = table.groupby(c.id_column)["actual"].sum().sort_values(ascending=False)
    keys = list(totals.index[:PLOTTED_SERIES])
    columns = 2 if len(keys) > 1 else 1
    rows = math.ceil(len(keys) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(11, 3 * rows), squeeze=False)
    for axis, key in zip(axes.flat, keys):
        values = series[key]
        tests = table[table[c.id_column] == key]
        start = max(0, len(values) - len(tests) - 3 * c.horizon)
        recent = values.iloc[start:]
        axis.plot(recent.index, recent.to_numpy(), color="#555", lw=1, label="actual")
        times = pd.to_datetime(tests[c.time_column])
        for _, rows in tests.groupby("origin", sort=False):
            shade_band(
                axis, pd.to_datetime(rows[c.time_column]), rows, tested, color="C0", alpha=0.2
            )
        axis.plot(times, tests["model"], color="C0", lw=1.4, label="model (test)")
        axis.plot(times, tests["seasonal_naive"], color="C2", lw=0.9, ls="--", label="s. naive")
        ahead = future[future[c.id_column] == key]
        axis.plot(ahead[c.time_column], ahead["forecast"], color="C1", lw=1.4, label="forecast")
        shade_band(axis, ahead[c.time_column], ahead, ahead_band, color="C1", alpha=0.25)
        axis.set_title(key if len(key) <= 50 else key[:49] + "\u2026", fontsize=9)
        axis.tick_params(axis="x", labelrotation=20, labelsize=7)
        axis.grid(alpha=0.3)
    for axis in list(axes.flat)[len(keys) :]:
        axis.set_visible(False)
    axes.flat[0].legend(loc="upper left", fontsize=7)
    figure.tight_layout()
    return save_figure(figure, path)


def write_global_forecast_report(
    directory: Path,
    config: ForecastConfig,
    *,
    series: Mapping[str, pd.Series],
    preparation: Mapping[str, Any],
    evaluation: Mapping[str, Any],
    future: pd.DataFrame,
    training: TrainingRecord,
    settings_used: Mapping[str, Any] | None = None,
) -> None:
    """Writes ``loss.png``, ``forecast.png`` and ``report.html`` into ``directory``.

    Args:
        directory: the (staging) run directory.
        config: the run's configuration.
        series: every series trained on, by id.
        preparation: what aggregation did (``GlobalForecaster.preparation_``).
        evaluation: the panel scoring (:func:`~rnnkit.forecasting.panel_scoring.score_panel`).
        future: the forecast of every series (``GlobalForecaster.predict()``).
        training: what training recorded.
        settings_used: the values used for the automatic settings, shown beside the
            configured ones (see :func:`~rnnkit.core.report.config_html`).
    """
    c = config
    details = evaluation["details"]
    prep = preparation
    loss_body = loss_html(training, directory / "loss.png")
    forecast_png = plot_series_forecasts(
        c, series, evaluation["predictions"], future, directory / "forecast.png"
    )
    epochs = len(training.history.get("loss", []))
    skipped = prep.get("skipped", {})
    notes = [
        f"{prep['rows_used']} rows aggregated into {prep['series']} series "
        f"({prep['start']} to {prep['end']}); <b>{prep['periods_filled']} periods had no "
        f"rows and were filled</b> ({c.fill_method}).",
        f"{prep['rows_missing_target']} rows had no '{html.escape(c.target_column)}' value "
        "and were skipped."
        if prep["rows_missing_target"]
        else "",
        f"<span class='warn'>{len(skipped)} series too short to train and score on: "
        f"{html.escape(', '.join(list(skipped)[:10]))}.</span>"
        if skipped
        else "",
        f"Each series is split in time and scaled on its own training part. Test: the last "
        f"{c.test_size or c.horizon} periods of each of {details['series_scored']} series, "
        f"{details['test_points']} points. Overall: {details['overall']}. "
        f"ARIMA {details['arima']}.",
        f"<b>The model beats seasonal naive on {details['model_beats_seasonal_naive']} of "
        f"{details['series_scored']} series</b> (MASE).",
        f"Trained {epochs} epochs in {training.seconds:.1f} s "
        "on the windows of every series; best validation-loss weights restored.",
    ]
    sections = [
        (
            "Test metrics, overall (original scale)",
            verdict_html(evaluation_verdict(evaluation, c.horizon))
            + metrics_table_html(evaluation["metrics"], FORECAST_COLUMNS)
            + "<p class='note'>"
            + "<br>".join(n for n in notes if n)
            + "</p>",
        ),
        *interval_section(evaluation["metrics"], details),
        ("MASE per series", series_table_html(evaluation["by_series"], c.id_column)),
        (
            "Forecasts",
            image_html(forecast_png, "forecasts of the largest series") + frame_html(future),
        ),
        ("Training", loss_body),
        *gradient_section(training.gradient_health, directory),
        ("Configuration", config_html(c.to_dict(), settings_used)),
    ]
    title = f"rnnkit forecast: {c.target_column} per {c.id_column}"
    write_html(directory / "report.html", title, sections)
