"""Plots, the self-contained ``report.html`` and the metrics tables the CLI prints."""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

if TYPE_CHECKING:
    from rnnkit.forecasting import Forecaster

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;
margin:2em auto;color:#222;padding:0 1em}h1{font-size:1.6em}
h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.best{font-weight:bold;background:#eef7ee}img{max-width:100%;border:1px solid #eee}
.note{color:#555;font-size:.92em}.warn{color:#a40}
"""


def format_number(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, float):
        magnitude = abs(value)
        if magnitude >= 1e5:
            return f"{value:,.0f}"
        return f"{value:.{digits}g}" if magnitude < 1e4 else f"{value:,.1f}"
    return str(value)


def metrics_table(metrics: Mapping[str, Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A plain-text table: one row per method, one column per metric."""
    header = ["method", *columns]
    rows = [
        [name, *(format_number(values.get(c)) for c in columns)] for name, values in metrics.items()
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths))
        )
    ]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))
            )
        )
    return "\n".join(lines)


def metrics_table_html(
    metrics: Mapping[str, Mapping[str, Any]], columns: Sequence[str], lower_is_better: bool = True
) -> str:
    """An HTML table with the best value of each column in bold."""
    best = {}
    for column in columns:
        values = [v.get(column) for v in metrics.values()]
        finite = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
        if finite:
            best[column] = min(finite) if lower_is_better else max(finite)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["method", *columns])
    body = []
    for name, values in metrics.items():
        cells = [f"<td>{html.escape(name)}</td>"]
        for column in columns:
            value = values.get(column)
            css = ' class="best"' if column in best and value == best[column] else ""
            cells.append(f"<td{css}>{format_number(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def frame_html(frame: pd.DataFrame, max_rows: int = 60) -> str:
    return frame.head(max_rows).to_html(
        index=False, float_format=lambda v: format_number(v), border=0
    )


def save_figure(figure: plt.Figure, path: Path) -> str:
    """Saves ``figure`` as PNG at ``path`` and returns it base64-encoded for the report."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    data = buffer.getvalue()
    path.write_bytes(data)
    return base64.b64encode(data).decode("ascii")


def image_html(encoded: str, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def write_html(path: Path, title: str, sections: Sequence[tuple[str, str]]) -> None:
    """A single-file report: every image inline, no external resources."""
    parts = [f"<h2>{html.escape(heading)}</h2>\n{body}" for heading, body in sections]
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>\n"
        + "\n".join(parts)
        + "</body></html>\n"
    )
    path.write_text(page, encoding="utf-8")


def plot_loss(
    history: Mapping[str, Sequence[float]], path: Path, metrics: Sequence[str] = ()
) -> str:
    """Training and validation loss per epoch (and any extra metric pairs)."""
    names = ["loss", *metrics]
    figure, axes = plt.subplots(1, len(names), figsize=(6 * len(names), 3.5), squeeze=False)
    for axis, name in zip(axes[0], names):
        for key, style in ((name, "-"), (f"val_{name}", "--")):
            if key in history:
                axis.plot(range(1, len(history[key]) + 1), history[key], style, label=key)
        axis.set_xlabel("epoch")
        axis.set_title(name)
        if name == "loss":
            axis.set_yscale("log")
        axis.legend()
        axis.grid(alpha=0.3)
    return save_figure(figure, path)


def _config_html(config: Mapping[str, Any]) -> str:
    rows = []
    for key, value in config.items():
        if isinstance(value, Mapping):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        rows.append(f"<tr><td>{html.escape(str(key))}</td><td>{html.escape(str(value))}</td></tr>")
    return "<table>" + "".join(rows) + "</table>"


def gradient_section(estimator: Any, directory: Path) -> list[tuple[str, str]]:
    """The report's gradient-health section (empty when it was not recorded)."""
    from rnnkit.diagnostics import findings_html, write_gradient_files

    health = getattr(estimator, "gradient_health_", None)
    if health is None:
        return []
    encoded = write_gradient_files(health, directory)
    body = findings_html(health.findings)
    if encoded:
        body += image_html(encoded, "gradient norms") + (
            f"<p class='note'>Measured every {health.every} optimizer steps on a fixed batch "
            "of training data (gradients.csv).</p>"
        )
    return [("Gradient health", body)]


# ----------------------------------------------------------------------- forecasting
FORECAST_COLUMNS = ("mae", "rmse", "mape", "smape", "mase")


def plot_forecast(forecaster: Forecaster, path: Path) -> str:
    """The series, the test forecasts of every method against actuals, and the future."""
    c = forecaster.config
    series = forecaster.series_
    table = forecaster.evaluation_["predictions"]
    future = forecaster.predict()
    figure, (whole, zoom) = plt.subplots(2, 1, figsize=(11, 7))
    split = forecaster.split_
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


def write_forecast_report(forecaster: Forecaster, directory: Path) -> None:
    """Writes ``loss.png``, ``forecast.png`` and ``report.html`` into ``directory``."""
    c = forecaster.config
    evaluation = forecaster.evaluation_
    details = evaluation["details"]
    loss_png = plot_loss(forecaster.history_, directory / "loss.png")
    forecast_png = plot_forecast(forecaster, directory / "forecast.png")
    prep = forecaster.preparation_
    epochs = len(forecaster.history_.get("loss", []))
    notes = [
        f"{prep['rows_used']} rows aggregated into {prep['periods']} periods "
        f"({prep['start']} to {prep['end']}); <b>{prep['periods_filled']} periods had no "
        f"rows and were filled</b> ({c.fill_method}).",
        f"{prep['rows_missing_target']} rows had no '{html.escape(c.target_column)}' value and "
        "were skipped."
        if prep["rows_missing_target"]
        else "",
        f"Split in time: train {forecaster.split_['train']}, validation "
        f"{forecaster.split_['validation']}, test {forecaster.split_['test']} periods. "
        "The scaler was fit on the training part only.",
        f"Test: {len(details['origins'])} forecast origin(s), {details['test_points']} points, "
        f"full horizon of {c.horizon}. MAPE skips {details['zero_actuals_excluded_from_mape']} "
        f"zero actual(s). MASE divides by the in-sample seasonal-naive MAE "
        f"(season {details['seasonal_period']}). ARIMA order {tuple(details['arima_order'])}.",
        f"Trained {epochs} epochs in {getattr(forecaster, 'training_seconds_', math.nan):.1f} s; "
        "best validation-loss weights restored.",
    ]
    if getattr(forecaster, "stopped_on_nan_", False):
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
        ("Forecast", image_html(forecast_png, "forecast") + frame_html(forecaster.predict())),
        ("Training", image_html(loss_png, "loss curves")),
        *gradient_section(forecaster, directory),
        ("Configuration", _config_html(c.to_dict())),
    ]
    write_html(directory / "report.html", f"rnnkit forecast: {c.target_column}", sections)


# ----------------------------------------------------------------------- classification
if TYPE_CHECKING:
    import numpy as np

    from rnnkit.classification import TextClassifier

CLASSIFICATION_COLUMNS = ("accuracy", "macro_f1", "weighted_f1")


def _short(label: str, limit: int = 32) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "\u2026"


def plot_confusion_matrix(matrix: np.ndarray, class_names: Sequence[str], path: Path) -> str:
    """Rows are actual classes, columns predicted; colour is the share of the row."""
    import numpy as np

    matrix = np.asarray(matrix)
    n = len(class_names)
    totals = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    size = min(4 + 0.45 * n, 30)
    figure, axis = plt.subplots(figsize=(size + 2, size))
    image = axis.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    names = [_short(str(c)) for c in class_names]
    axis.set_xticks(range(n), names, rotation=60, ha="right", fontsize=8 if n <= 20 else 5)
    axis.set_yticks(range(n), names, fontsize=8 if n <= 20 else 5)
    axis.set_xlabel("predicted")
    axis.set_ylabel("actual")
    if n <= 20:  # counts stay readable up to about 20 classes
        for i in range(n):
            for j in range(n):
                if matrix[i, j]:
                    axis.text(
                        j,
                        i,
                        str(matrix[i, j]),
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if shares[i, j] > 0.6 else "black",
                    )
    figure.colorbar(image, ax=axis, fraction=0.046, label="share of the actual class")
    axis.set_title("test confusion matrix")
    return save_figure(figure, path)


def write_classification_report(classifier: TextClassifier, directory: Path) -> None:
    """Writes ``loss.png``, ``confusion_matrix.png`` and ``report.html`` into ``directory``."""
    c = classifier.config
    evaluation = classifier.evaluation_
    details = evaluation["details"]
    prep = classifier.preparation_
    split = classifier.split_
    loss_png = plot_loss(classifier.history_, directory / "loss.png", metrics=["accuracy"])
    confusion_png = plot_confusion_matrix(
        evaluation["confusion"], classifier.classes_, directory / "confusion_matrix.png"
    )
    epochs = len(classifier.history_.get("loss", []))
    if prep["test_source"] == "split":
        test_note = (
            f"Stratified split: train {split['train']}, validation {split['validation']}, "
            f"test {split['test']} texts (seed {c.training.seed})."
        )
    else:
        fixed = prep["test_data"]
        test_note = (
            f"Train {split['train']} and validation {split['validation']} texts "
            f"(stratified); test: {split['test']} texts of "
            f"'{html.escape(fixed['source'])}' ({fixed['rows_with_unknown_label']} "
            "rows with labels unseen in training left out)."
        )
    length = prep["sequence_length"]
    notes = [
        test_note,
        f"Majority baseline: always '{html.escape(details['majority_class'])}'. "
        f"TF-IDF baseline: {html.escape(details['tfidf_linear'])}, on the same cleaned texts.",
        f"Sequence length {length} tokens"
        + (
            " (95th percentile of training texts, capped at 128)"
            if prep["sequence_length_chosen"]
            else ""
        )
        + f"; {prep['texts_longer_than_sequence_length']} training texts are longer and lose "
        f"their {'end' if c.truncation == 'end' else 'start'}. Vocabulary: "
        f"{prep['vocabulary_size']} tokens (max_tokens {c.max_tokens}).",
        f"Trained {epochs} epochs in {classifier.training_seconds_:.1f} s; best"
        " validation-loss weights restored.",
    ]
    if getattr(classifier, "stopped_on_nan_", False):
        notes.append(
            '<span class="warn">Training stopped on a NaN loss; the best weights '
            "seen before it are kept.</span>"
        )
    dropped = [
        f"{prep['rows_read']} rows read; {prep['rows_used']} used.",
        f"{prep['rows_without_text']} rows had no text and {prep['rows_without_label']} no "
        "label: dropped.",
        f"{prep['rows_empty_after_cleaning']} texts were empty after cleaning: dropped.",
    ]
    if prep.get("dropped_classes"):
        listed = ", ".join(f"'{html.escape(k)}' ({v})" for k, v in prep["dropped_classes"].items())
        dropped.append(f"Classes with too few rows, left out: {listed}.")
    distribution = pd.DataFrame(prep["label_distribution"])
    distribution["total"] = distribution[["train", "validation", "test"]].sum(axis=1)
    distribution = distribution.sort_values("total", ascending=False, kind="stable")
    sections = [
        (
            "Test metrics",
            metrics_table_html(evaluation["metrics"], CLASSIFICATION_COLUMNS, lower_is_better=False)
            + "<p class='note'>"
            + "<br>".join(notes)
            + "</p>",
        ),
        (
            "Labels",
            "<p class='note'>"
            + "<br>".join(dropped)
            + "</p>"
            + frame_html(distribution, max_rows=200),
        ),
        ("Per-class metrics (test)", frame_html(evaluation["per_class"], max_rows=200)),
        ("Confusion matrix", image_html(confusion_png, "confusion matrix")),
        ("Training", image_html(loss_png, "loss and accuracy curves")),
        *gradient_section(classifier, directory),
        ("Configuration", _config_html(c.to_dict())),
    ]
    write_html(directory / "report.html", f"rnnkit classify: {c.label_column}", sections)
