"""The ``report.html`` of a forecaster of one series: test metrics against the
baselines, the forecast, the loss curves and the configuration."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from rnnkit.config import ForecastConfig
from rnnkit.core.report import (
    TrainingRecord,
    config_html,
    frame_html,
    gradient_section,
    loss_html,
    metrics_table_html,
    templates,
    write_report,
)
from rnnkit.forecasting.figures import plot_forecast, plot_step_errors
from rnnkit.forecasting.intervals import central_intervals, coverage_name, interval_columns
from rnnkit.forecasting.metrics import METHOD_NAMES, evaluation_verdict

FORECAST_COLUMNS = ("mae", "rmse", "mape", "smape", "mase")


def _part(name: str):
    return getattr(templates().get_template("forecast_parts.html.j2").module, name)


def interval_section(
    metrics: Mapping[str, Mapping[str, float]], details: Mapping[str, Any]
) -> Markup:
    """The report's table of the prediction intervals on the test (empty without them)."""
    intervals = details.get("intervals")
    if not intervals:
        return Markup("")
    quantiles = intervals["quantiles"]
    columns = interval_columns(quantiles)
    rows = {m: v for m, v in metrics.items() if columns[0] in v}
    ranked = [c for c in columns if c.startswith("pinball")]
    return _part("intervals")(
        metrics_table_html(rows, columns, ranked=ranked),
        intervals["model"],
        intervals["seasonal_naive"],
        [coverage_name(low) for low, _ in central_intervals(quantiles)],
    )


def step_errors_section(
    by_step: Mapping[str, Mapping[str, Any]] | None,
    path: Path,
    metric: str,
    ylabel: str,
    note: str,
) -> Markup:
    """The report's plot of each method's error at every forecast step, written to
    ``path`` (empty without per-step errors)."""
    if not by_step:
        return Markup("")
    encoded = plot_step_errors(by_step, metric, ylabel, path)
    return _part("step_errors")(encoded, note)


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
    step_errors = step_errors_section(
        details.get("by_step"),
        directory / "errors_by_step.png",
        "mae",
        f"MAE ({c.target_column})",
        f"Each method's mean absolute error at each step of the horizon, over the "
        f"{len(details['origins'])} test origin(s) (evaluation.json by_step, which also "
        "holds the MASE); the mean over the steps is the MAE of the table above.",
    )
    write_report(
        directory / "report.html",
        "forecast.html.j2",
        title=f"rnnkit forecast: {c.target_column}",
        c=c,
        prep=preparation,
        split=split,
        details=details,
        baselines_fitted=", ".join(
            f"{METHOD_NAMES.get(name, name)} {fitted}"
            for name, fitted in details.get("baselines", {}).items()
        ),
        epochs=len(training.history.get("loss", [])),
        seconds=training.seconds,
        stopped_on_nan=training.stopped_on_nan,
        verdict_sentence=evaluation_verdict(evaluation, c.horizon),
        metrics=metrics_table_html(evaluation["metrics"], FORECAST_COLUMNS),
        intervals=interval_section(evaluation["metrics"], details),
        forecast_png=forecast_png,
        future=frame_html(future),
        step_errors=step_errors,
        loss=loss_body,
        gradients=gradient_section(training.gradient_health, directory),
        configuration=config_html(c.to_dict(), settings_used),
    )
