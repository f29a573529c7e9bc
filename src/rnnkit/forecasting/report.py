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
    metrics_table_html,
    plot_loss,
    plt,
    save_figure,
    write_html,
)

FORECAST_COLUMNS = ("mae", "rmse", "mape", "smape", "mase")


def plot_forecast(
    config: ForecastConfig,
    series: pd.Series,
    split: Mapping[str, int],
    predictions: pd.DataFrame,
    future: pd.DataFrame,
    path: Path,
) -> str:
    """The series, the test forecasts of every method against actuals, and the future."""
    c = config
    table = predictions
    figure, (whole, zoom) = plt.subplots(2, 1, figsize=(11, 7))
    whole.plot(series.index, series.to_numpy(), color="#555", lw=0.8, label="actual")
    bounds = [series.index[split["train"]], series.index[split["train"] + split["validation"]]]
    whole.axvspan(bounds[0], bounds[1], color="#fd0", alpha=0.15, label="validation")
    whole.axvspan(bounds[1], series.index[-1], color="#f60", alpha=0.12, label="test")
    whole.plot(future[c.time_column], future["forecast"], color="C0", label="forecast")
    whole.set_title(f"{c.target_column} per period ({c.freq}, {c.agg})")
    whole.legend(loc="upper left")
    whole.grid(alpha=0.3)
    start = max(0, len(series) - split["test"] - 3 * c.horizon)
    recent = series.iloc[start:]
    zoom.plot(recent.index, recent.to_numpy(), color="#555", lw=1, label="actual")
    times = pd.to_datetime(table[c.time_column])
    for method, color in (
        ("model", "C0"),
        ("seasonal_naive", "C2"),
        ("arima", "C3"),
        ("naive", "C7"),
    ):
        zoom.plot(
            times,
            table[method],
            color=color,
            lw=1.4 if method == "model" else 0.9,
            ls="-" if method == "model" else "--",
            label=method,
        )
    zoom.set_title("test periods: forecasts against actuals")
    zoom.legend(loc="upper left")
    zoom.grid(alpha=0.3)
    for axis in (whole, zoom):
        axis.tick_params(axis="x", labelrotation=20)
    return save_figure(figure, path)


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
) -> None:
    """Writes ``loss.png``, ``forecast.png`` and ``report.html`` into ``directory``.

    Args:
        directory: the (staging) run directory.
        config: the run's configuration.
        series: the per-period series trained on.
        preparation: what aggregation did (``Forecaster.preparation_``).
        split: periods in the train, validation and test parts.
        evaluation: the test scoring (metrics, predictions, details).
        future: the forecast after the end of the series.
        training: what training recorded.
    """
    c = config
    details = evaluation["details"]
    loss_png = plot_loss(training.history, directory / "loss.png")
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
            metrics_table_html(evaluation["metrics"], FORECAST_COLUMNS)
            + "<p class='note'>"
            + "<br>".join(n for n in notes if n)
            + "</p>",
        ),
        ("Forecast", image_html(forecast_png, "forecast") + frame_html(future)),
        ("Training", image_html(loss_png, "loss curves")),
        *gradient_section(training.gradient_health, directory),
        ("Configuration", config_html(c.to_dict())),
    ]
    write_html(directory / "report.html", f"rnnkit forecast: {c.target_column}", sections)
