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
    write_html,
)
from rnnkit.forecasting.figures import METHOD_STYLES, PLOTTED_SERIES, plot_panel_forecasts
from rnnkit.forecasting.metrics import evaluation_verdict
from rnnkit.forecasting.report import (
    FORECAST_COLUMNS,
    interval_section,
    step_errors_section,
    verdict_html,
)


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


def panel_errors_by_step(
    predictions: pd.DataFrame, details: Mapping[str, Any], id_column: str
) -> dict[str, dict[str, list[float]]]:
    """Each method's MASE at every forecast step, the mean over the series of the
    series' MAE at that step over its own scale (as the overall MASE is the mean of the
    series' MASE), and its MAE at that step over every test point:
    ``{method: {"mase": [...], "mae": [...]}}``."""
    methods = [m for m in METHOD_STYLES if m in predictions]
    errors = predictions[methods].sub(predictions["actual"], axis=0).abs()
    errors["step"], errors["series"] = predictions["step"], predictions[id_column]
    per_series = errors.groupby(["series", "step"])[methods].mean()
    scales = pd.Series({key: d["mase_scale"] for key, d in details["by_series"].items()})
    scaled = per_series.div(
        scales.reindex(per_series.index.get_level_values("series")).to_numpy(), axis=0
    )
    scaled = scaled.replace([np.inf, -np.inf], np.nan).groupby(level="step").mean()
    pooled = errors.groupby("step")[methods].mean()
    return {m: {"mase": scaled[m].tolist(), "mae": pooled[m].tolist()} for m in methods}


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
    """Writes ``loss.png``, ``forecast.png``, ``errors_by_step.png`` and ``report.html``
    into ``directory``.

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
    forecast_png = plot_panel_forecasts(
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
            image_html(forecast_png, "forecasts of the largest series")
            + f"<p class='note'>The test periods of the {PLOTTED_SERIES} largest series (by "
            "their test total) with one horizon before them, then the forecast after the "
            "data.</p>" + frame_html(future),
        ),
        *step_errors_section(
            panel_errors_by_step(evaluation["predictions"], details, c.id_column),
            directory / "errors_by_step.png",
            "mase",
            "MASE (mean over series)",
            "Each method's MASE at each step of the horizon: at every step the mean over "
            "the series of the series' mean absolute error there over its own scale, as the "
            "overall MASE is the mean of the series' MASE. The same errors unscaled are "
            "dominated by the largest series.",
        ),
        ("Training", loss_body),
        *gradient_section(training.gradient_health, directory),
        ("Configuration", config_html(c.to_dict(), settings_used)),
    ]
    title = f"rnnkit forecast: {c.target_column} per {c.id_column}"
    write_html(directory / "report.html", title, sections)
