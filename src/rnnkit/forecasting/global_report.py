"""The ``report.html`` of a global model: overall and per-series metrics, plots of the
largest series."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from rnnkit.config import ForecastConfig
from rnnkit.core.report import (
    TrainingRecord,
    config_html,
    format_number,
    frame_html,
    gradient_section,
    loss_html,
    metrics_table_html,
    part,
    write_report,
)
from rnnkit.forecasting.figures import METHOD_STYLES, PLOTTED_SERIES, plot_panel_forecasts
from rnnkit.forecasting.metrics import evaluation_verdict
from rnnkit.forecasting.report import (
    FORECAST_COLUMNS,
    interval_section,
    step_errors_section,
)


def series_table_html(
    by_series: Mapping[str, Mapping[str, Mapping[str, float]]], id_column: str
) -> Markup:
    """One row per scored series (``{id: {method: metrics}}``): MASE of every method, the
    best in bold, sorted by the model's MASE relative to seasonal naive."""
    methods = list(next(iter(by_series.values())))
    rows = []
    for key, metrics in by_series.items():
        mases = {m: metrics[m]["mase"] for m in methods}
        ratio = mases["model"] / mases["seasonal_naive"] if mases["seasonal_naive"] else math.nan
        rows.append((ratio, key, mases))
    rows.sort(key=lambda r: (not np.isfinite(r[0]), r[0]))
    header = [id_column, *(f"{m} MASE" for m in methods), "model / s.naive"]
    table = []
    for ratio, key, mases in rows:
        finite = [v for v in mases.values() if np.isfinite(v)]
        best = min(finite) if finite else None
        cells = [(format_number(mases[m]), mases[m] == best) for m in methods]
        table.append((key, [*cells, (format_number(ratio), False)]))
    return part("metrics_table")(header, table)


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
    loss_body = loss_html(training, directory / "loss.png")
    forecast_png = plot_panel_forecasts(
        c, series, evaluation["predictions"], future, directory / "forecast.png"
    )
    step_errors = step_errors_section(
        panel_errors_by_step(evaluation["predictions"], details, c.id_column),
        directory / "errors_by_step.png",
        "mase",
        "MASE (mean over series)",
        "Each method's MASE at each step of the horizon: at every step the mean over "
        "the series of the series' mean absolute error there over its own scale, as the "
        "overall MASE is the mean of the series' MASE. The same errors unscaled are "
        "dominated by the largest series.",
    )
    write_report(
        directory / "report.html",
        "global_forecast.html.j2",
        title=f"rnnkit forecast: {c.target_column} per {c.id_column}",
        c=c,
        prep=preparation,
        details=details,
        skipped=preparation.get("skipped", {}),
        epochs=len(training.history.get("loss", [])),
        seconds=training.seconds,
        verdict_sentence=evaluation_verdict(evaluation, c.horizon),
        metrics=metrics_table_html(evaluation["metrics"], FORECAST_COLUMNS),
        intervals=interval_section(evaluation["metrics"], details),
        series_table=series_table_html(evaluation["by_series"], c.id_column),
        forecast_png=forecast_png,
        plotted_series=PLOTTED_SERIES,
        future=frame_html(future),
        step_errors=step_errors,
        loss=loss_body,
        gradients=gradient_section(training.gradient_health, directory),
        configuration=config_html(c.to_dict(), settings_used),
    )
