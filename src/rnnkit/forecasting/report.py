"""The ``report.html`` of a forecaster of one series: test metrics against the
baselines, the forecast, the loss curves and the configuration."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
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
    plt,
    save_figure,
    write_html,
)
from rnnkit.forecasting.intervals import (
    central_intervals,
    coverage_name,
    interval_columns,
    quantile_name,
)
from rnnkit.forecasting.metrics import evaluation_verdict

FORECAST_COLUMNS = ("mae", "rmse", "mape", "smape", "mase")


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


def verdict_html(sentence: str) -> str:
    """The verdict as the report's first line."""
    return f"<p><strong>{html.escape(sentence)}</strong></p>"


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
    band = band_columns(c.quantiles, future)
    figure, (whole, zoom) = plt.subplots(2, 1, figsize=(11, 7))
    whole.plot(series.index, series.to_numpy(), color="#555", lw=0.8, label="actual")
    bounds = [series.index[split["train"]], series.index[split["train"] + split["validation"]]]
    whole.axvspan(bounds[0], bounds[1], color="#fd0", alpha=0.15, label="validation")
    whole.axvspan(bounds[1], series.index[-1], color="#f60", alpha=0.12, label="test")
    whole.plot(future[c.time_column], future["forecast"], color="C0", label="forecast")
    shade_band(
        whole, future[c.time_column], future, band, color="C0", alpha=0.25, label=band_label(band)
    )
    whole.set_title(f"{c.target_column} per period ({c.freq}, {c.agg})")
    whole.legend(loc="upper left")
    whole.grid(alpha=0.3)
    start = max(0, len(series) - split["test"] - 3 * c.horizon)
    recent = series.iloc[start:]
    zoom.plot(recent.index, recent.to_numpy(), color="#555", lw=1, label="actual")
    times = pd.to_datetime(table[c.time_column])
    tested = band_columns(c.quantiles, table)
    # One band per origin, so consecutive origins' bands are not joined across them.
    for _, rows in table.groupby("origin", sort=False):
        shade_band(zoom, pd.to_datetime(rows[c.time_column]), rows, tested, color="C0", alpha=0.2)
    if tested is not None:
        zoom.fill_between([], [], [], color="C0", alpha=0.2, label=f"model {band_label(tested)}")
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
    settings_used: Mapping[str, Any] | None = None,
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
        ("Forecast", image_html(forecast_png, "forecast") + frame_html(future)),
        ("Training", loss_body),
        *gradient_section(training.gradient_health, directory),
        ("Configuration", config_html(c.to_dict(), settings_used)),
    ]
    write_html(directory / "report.html", f"rnnkit forecast: {c.target_column}", sections)
