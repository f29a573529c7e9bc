"""A backtest's directory: its per-fold metrics, forecasts, plot and ``report.html``.

Like a run directory it is written into a staging directory that the caller renames into
place (:func:`~rnnkit.core.persistence.staged_directory`), so it appears complete or not
at all. It holds no model: a backtest trains one per fold (or one for all with
``refit=False``), and ``forecast train`` is what keeps a model.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from rnnkit.config import ForecastConfig
from rnnkit.core import persistence
from rnnkit.core.report import (
    config_html,
    metrics_table_html,
    save_figure,
    write_report,
)
from rnnkit.forecasting.metrics import verdict
from rnnkit.forecasting.report import FORECAST_COLUMNS

# The files of a backtest directory, as the README lists them.
BACKTEST_FILES = (
    "backtest.json",
    "metrics.json",
    "metrics_by_fold.csv",
    "predictions.csv",
    "backtest.png",
    "report.html",
    "config.json",
    "metadata.json",
)


def backtest_summary(result: Mapping[str, Any]) -> dict[str, Any]:
    """The backtest's result without its predictions table: what ``backtest.json`` holds
    and ``forecast backtest --json`` prints."""
    return {key: value for key, value in result.items() if key != "predictions"}


def backtest_verdict(result: Mapping[str, Any], horizon: int) -> str:
    """:func:`~rnnkit.forecasting.metrics.verdict` of the metrics averaged over the folds,
    judged on every fold's origins and points together."""
    sentence = verdict(
        result["mean"],
        horizon=horizon,
        test_points=result["test_points"],
        origins=result["origins"],
    )
    return f"Mean over {len(result['folds'])} folds: {sentence}"


def metrics_by_fold(result: Mapping[str, Any]) -> pd.DataFrame:
    """One row per fold and method: the fold's dates, then every metric it has."""
    rows = []
    for fold in result["folds"]:
        for method, values in fold["metrics"].items():
            rows.append(
                {
                    "fold": fold["fold"],
                    "test_start": fold["test_start"],
                    "test_end": fold["test_end"],
                    "trained_until": fold["trained_until"],
                    "trained": fold["trained"],
                    "method": method,
                    **values,
                }
            )
    return pd.DataFrame(rows)


def write_backtest(directory: Path, config: ForecastConfig, result: Mapping[str, Any]) -> None:
    """Writes every file of :data:`BACKTEST_FILES` into an existing (staging) directory.

    Args:
        directory: where to write, empty.
        config: the configuration every fold trained with.
        result: :func:`~rnnkit.forecasting.backtesting.backtest`'s result.
    """
    persistence.write_json(directory / "backtest.json", backtest_summary(result))
    persistence.write_json(directory / "metrics.json", result["mean"])
    persistence.write_json(directory / "config.json", config.to_dict())
    persistence.write_json(
        directory / "metadata.json", {**persistence.metadata("forecast"), "kind": "backtest"}
    )
    metrics_by_fold(result).to_csv(directory / "metrics_by_fold.csv", index=False)
    result["predictions"].to_csv(directory / "predictions.csv", index=False)
    encoded = plot_backtest(config, result, directory / "backtest.png")
    write_backtest_html(directory / "report.html", config, result, encoded)


def plot_backtest(config: ForecastConfig, result: Mapping[str, Any], path: Path) -> str:
    """Above: every fold's test part, the actuals against the model's and seasonal naive's
    forecasts (the first series of a panel). Below: each method's MASE per fold."""
    c = config
    table = result["predictions"]
    title = f"{c.target_column}: each fold's test forecasts"
    if c.id_column is not None and c.id_column in table:
        first = table[c.id_column].iloc[0]
        table = table[table[c.id_column] == first]
        title += f" ({c.id_column} {first})"
    figure, (forecasts, scores) = plt.subplots(
        2, 1, figsize=(11, 7), gridspec_kw={"height_ratios": [3, 2]}
    )
    actual = table.drop_duplicates(c.time_column).sort_values(c.time_column)
    forecasts.plot(
        pd.to_datetime(actual[c.time_column]), actual["actual"], color="#555", lw=1, label="actual"
    )
    for number, rows in table.groupby("fold", sort=True):
        times = pd.to_datetime(rows[c.time_column])
        # Alternate shades, so that folds side by side (or overlapping) stay apart.
        forecasts.axvspan(times.min(), times.max(), color="#888", alpha=0.06 + 0.06 * (number % 2))
        forecasts.annotate(
            f"fold {number}",
            (times.min(), 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(2, -12),
            textcoords="offset points",
            fontsize=8,
            color="#555",
        )
        # One line per origin, so consecutive origins' forecasts are not joined.
        for _, piece in rows.groupby("origin", sort=False):
            when = pd.to_datetime(piece[c.time_column])
            forecasts.plot(when, piece["model"], color="C0", lw=1.4)
            forecasts.plot(when, piece["seasonal_naive"], color="C2", lw=0.9, ls="--")
    forecasts.plot([], [], color="C0", lw=1.4, label="model")
    forecasts.plot([], [], color="C2", lw=0.9, ls="--", label="seasonal_naive")
    forecasts.set_title(title)
    forecasts.legend(loc="lower left", fontsize=8)
    forecasts.grid(alpha=0.3)
    forecasts.tick_params(axis="x", labelrotation=20)
    numbers = [fold["fold"] for fold in result["folds"]]
    colors = {
        "model": "C0",
        "seasonal_naive": "C2",
        "auto_ets": "C3",
        "auto_theta": "C4",
        "auto_arima": "C5",
        "naive": "C7",
    }
    for method, color in colors.items():
        if method in result["mean"]:  # a large panel leaves statistical baselines out
            values = [fold["metrics"][method]["mase"] for fold in result["folds"]]
            scores.plot(numbers, values, marker="o", color=color, label=method)
    scores.set_xticks(numbers)
    scores.set_xlabel("fold")
    scores.set_ylabel("MASE (lower is better)")
    scores.legend(loc="best", fontsize=8)
    scores.grid(alpha=0.3)
    figure.tight_layout()
    return save_figure(figure, path)


def write_backtest_html(
    path: Path,
    config: ForecastConfig,
    result: Mapping[str, Any],
    encoded_plot: str,
) -> None:
    """The backtest's ``report.html``: the verdict, the mean and per-fold metrics, the
    plot and the configuration."""
    write_report(
        path,
        "backtest.html.j2",
        title=f"rnnkit forecast backtest: {config.target_column}",
        c=config,
        result=result,
        folds=result["folds"],
        verdict=backtest_verdict(result, config.horizon),
        mean=metrics_table_html(result["mean"], FORECAST_COLUMNS),
        plot=encoded_plot,
        per_fold=[
            (fold, metrics_table_html(fold["metrics"], FORECAST_COLUMNS))
            for fold in result["folds"]
        ],
        configuration=config_html(config.to_dict()),
    )
