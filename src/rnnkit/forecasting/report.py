"""The ``report.html`` of a forecaster of one series: test metrics against the
baselines, the forecast, the loss curves and the configuration."""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from rnnkit.config import ForecastConfig
from rnnkit.core.report import (
    TrainingRecord,
    config_html,
    frame_html,
    gradient_section,
    image_html,
    loss_html,
    metrics_table_html,
    write_html,
)
from rnnkit.forecasting.figures import plot_forecast, plot_step_errors
from rnnkit.forecasting.intervals import central_intervals, coverage_name, interval_columns
from rnnkit.forecasting.metrics import evaluation_verdict

FORECAST_COLUMNS = ("mae", "rmse", "mape", "smape", "mase")


def interval_section(
    metrics: Mapping[str, Mapping[str, float]], details: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """The report's table of the prediction intervals on the test (empty without them)."""
    intervals = details.get("intervals")
    if not intervals:
        return []
    quantiles = intervals["quantiles"]
    columns = interval_columns(quantiles)
    rows = {m: v for m, v in metrics.items() if columns[0] in v}
    nominal = ", ".join(
        f"coverage_{coverage_name(low)} should be near {coverage_name(low)} %"
        for low, _ in central_intervals(quantiles)
    )
    note = (
        f"Model: {html.escape(intervals['model'])}. Seasonal naive: "
        f"{html.escape(intervals['seasonal_naive'])}. Coverage is the share of test points "
        f"inside the interval ({nominal}); width its mean width; pinball the quantile loss "
        "(lower is better, in bold)."
    )
    ranked = [c for c in columns if c.startswith("pinball")]
    table = metrics_table_html(rows, columns, ranked=ranked)
    return [("Prediction intervals (test)", table + f"<p class='note'>{note}</p>")]


def step_errors_section(
    by_step: Mapping[str, Mapping[str, Any]] | None,
    path: Path,
    metric: str,
    ylabel: str,
    note: str,
) -> list[tuple[str, str]]:
    """The report's plot of each method's error at every forecast step, written to
    ``path`` (empty without per-step errors)."""
    if not by_step:
        return []
    encoded = plot_step_errors(by_step, metric, ylabel, path)
    return [
        (
            "Error by forecast step (test)",
            image_html(encoded, "error by forecast step") + f"<p class='note'>{note}</p>",
        )
    ]


def verdict_html(sentence: str) -> str:
    """The verdict as the report's first line."""
    return f"<p><strong>{html.escape(sentence)}</strong></p>"


def write_forecast_report(
    directory: Path,
    config: ForecastConfig,
    *,
    series: pd.Series,
    preparation: Mapping[str, Any],
    split: Mapping[str, int],
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
        series: the per-period series trained on.
        preparation: what aggregation did (``Forecaster.preparation_``).
        split: periods in the train, validation and test parts.
        evaluation: the test scoring (metrics, predictions, details).
        future: the forecast after the end of the series.
        training: what training recorded.
        settings_used: the values used for the automatic settings, shown beside the
            configured ones (see :func:`~rnnkit.core.report.config_html`).
    """
    c = config
    details = evaluation["details"]
    loss_body = loss_html(training, directory / "loss.png")
    forecast_png = plot_forecast(
        c, series, split, evaluation["predictions"], future, directory / "forecast.png"
    )
    prep = preparation
    epochs = len(training.history.get("loss", []))
    notes = [
        f"{prep['rows_used']} rows aggregated into {prep['periods']} periods "
        f"({prep['start']} to {prep['end']}); <b>{prep['periods_filled']} periods had no "
        f"rows and were filled</b> ({c.fill_method}).",
        f"{prep['rows_missing_target']} rows had no '{html.escape(c.target_column)}' value and "
        "were skipped."
        if prep["rows_missing_target"]
        else "",
        f"Split in time: train {split['train']}, validation "
        f"{split['validation']}, test {split['test']} periods. "
        "The scaler was fit on the training part only.",
        f"Test: {len(details['origins'])} forecast origin(s), {details['test_points']} points, "
        f"full horizon of {c.horizon}. MAPE skips {details['zero_actuals_excluded_from_mape']} "
        f"zero actual(s). MASE divides by the in-sample seasonal-naive MAE "
        f"(season {details['seasonal_period']}). ARIMA order {tuple(details['arima_order'])}.",
        f"Trained {epochs} epochs in {training.seconds:.1f} s; "
        "best validation-loss weights restored.",
    ]
    if training.stopped_on_nan:
        notes.append(
            '<span class="warn">Training stopped on a NaN loss; the best weights '
            "seen before it are kept.</span>"
        )
    sections = [
        (
            "Test metrics (original scale)",
            verdict_html(evaluation_verdict(evaluation, c.horizon))
            + metrics_table_html(evaluation["metrics"], FORECAST_COLUMNS)
            + "<p class='note'>"
            + "<br>".join(n for n in notes if n)
            + "</p>",
        ),
        *interval_section(evaluation["metrics"], details),
        (
            "Forecast",
            image_html(forecast_png, "forecast")
            + "<p class='note'>Top: the whole series, its validation and test parts and the "
            "forecast after it. Below: the test periods close up, with one horizon before "
            "them: every method's forecasts from each origin (dotted lines), the model's "
            "interval as a band where the run has quantiles, then the forecast after the "
            "data.</p>" + frame_html(future),
        ),
        *step_errors_section(
            details.get("by_step"),
            directory / "errors_by_step.png",
            "mae",
            f"MAE ({c.target_column})",
            f"Each method's mean absolute error at each step of the horizon, over the "
            f"{len(details['origins'])} test origin(s) (evaluation.json by_step, which also "
            "holds the MASE); the mean over the steps is the MAE of the table above.",
        ),
        ("Training", loss_body),
        *gradient_section(training.gradient_health, directory),
        ("Configuration", config_html(c.to_dict(), settings_used)),
    ]
    write_html(directory / "report.html", f"rnnkit forecast: {c.target_column}", sections)
