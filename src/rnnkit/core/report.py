"""The parts every report is made of: the self-contained ``report.html``, tables, figures.

The jobs' own reports (:mod:`rnnkit.forecasting.report`, :mod:`rnnkit.classification.report`)
are built from these; each takes results (metrics, forecasts, histories), never an
estimator to call. The HTML is written by Jinja2 templates (package data under
``rnnkit/templates``) that escape every value they are given: ``page.html.j2`` the page,
``parts.html.j2`` the parts, a template per report the rest. The figures of what
training recorded (loss curves, the learning-rate range test, gradient health) live here
too, since both jobs write them.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
import matplotlib
from markupsafe import Markup

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import Formatter, FuncFormatter, MaxNLocator  # noqa: E402

from rnnkit.core.gradient_health import GradientHealth  # noqa: E402
from rnnkit.core.persistence import write_json  # noqa: E402
from rnnkit.core.range_test import RangeTestResult  # noqa: E402


@dataclasses.dataclass(frozen=True)
class TrainingRecord:
    """What a fit recorded, as both jobs' reports and run directories show it.

    Attributes:
        history: loss (and metrics) per epoch; None for a loaded run.
        seconds: time spent in training.
        stopped_on_nan: training stopped on a NaN loss.
        gradient_health: the gradient-health callback, when it ran.
        range_test: the learning-rate range test, when it ran.
        loss_name: the loss trained on, as the loss plot's axis names it.
    """

    history: Mapping[str, Sequence[float]] | None
    seconds: float = math.nan
    stopped_on_nan: bool = False
    gradient_health: GradientHealth | None = None
    range_test: RangeTestResult | None = None
    loss_name: str = "loss"


@functools.cache
def templates() -> jinja2.Environment:
    """The report templates, escaping every value they are given unless it is already
    markup (:class:`markupsafe.Markup`, as the parts below return)."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("rnnkit", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["number"] = format_number
    return environment


def part(name: str) -> Any:
    """A macro of ``parts.html.j2`` as a function returning markup."""
    return getattr(templates().get_template("parts.html.j2").module, name)


def write_report(path: Path, template: str, **context: Any) -> None:
    """Renders the report ``template`` (which extends ``page.html.j2``) into ``path``."""
    page = templates().get_template(template).render(**context)
    path.write_text(page, encoding="utf-8")


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
    metrics: Mapping[str, Mapping[str, Any]],
    columns: Sequence[str],
    lower_is_better: bool = True,
    ranked: Sequence[str] | None = None,
) -> Markup:
    """An HTML table with the best value of each column in bold (of the ``ranked``
    columns only, when given: a coverage has no best, only a nominal share)."""
    best = {}
    for column in columns if ranked is None else ranked:
        values = [v.get(column) for v in metrics.values()]
        finite = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
        if finite:
            best[column] = min(finite) if lower_is_better else max(finite)
    rows = [
        (
            name,
            [
                (format_number(values.get(c)), c in best and values.get(c) == best[c])
                for c in columns
            ],
        )
        for name, values in metrics.items()
    ]
    return part("metrics_table")(["method", *columns], rows)


def frame_html(frame: pd.DataFrame, max_rows: int = 60) -> Markup:
    """The first ``max_rows`` rows as an HTML table (pandas escapes the cells)."""
    return Markup(
        frame.head(max_rows).to_html(index=False, float_format=lambda v: format_number(v), border=0)
    )


_SUFFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def number_tick(value: float, _position: int | None = None) -> str:
    """A tick label as a plain number, from a thousand up with an engineering suffix, so
    that an axis never needs an offset or a ``1e6`` multiplier above it.

    Example:
        >>> number_tick(1_500_000), number_tick(250_000.0), number_tick(0.25), number_tick(-12.0)
        ('1.5M', '250k', '0.25', '-12')
    """
    if abs(value) < 1e-10:  # a locator's rounding residue of 0 (5.6e-17), not a value
        return "0"
    for scale, suffix in _SUFFIXES:
        if abs(value) >= scale:
            return f"{value / scale:.4g}{suffix}"
    return f"{value:.4g}"


def plain_number_ticks(axis) -> None:
    """The y axis of ``axis`` labelled with :func:`number_tick` (no offset text)."""
    axis.yaxis.set_major_formatter(FuncFormatter(number_tick))


class LogNumberFormatter(Formatter):
    """Tick labels of a log axis as :func:`number_tick` numbers (``0.6``, not
    ``6 × 10⁻¹``). The major formatter labels every decade; the minor one labels every
    tick when the axis spans less than a decade, the 2s and 5s below two decades, and
    nothing wider, so labels never crowd."""

    def __init__(self, minor: bool = False) -> None:
        self.minor = minor

    def __call__(self, value: float, position: int | None = None) -> str:
        if value <= 0:
            return ""
        if not self.minor:
            return number_tick(value)
        low, high = sorted(self.axis.get_view_interval())
        decades = math.log10(high / low) if low > 0 else math.inf
        leading = round(value / 10 ** math.floor(math.log10(value) + 1e-9), 6)
        if decades < 1 or (decades < 2 and leading in (2.0, 5.0)):
            return number_tick(value)
        return ""


def plain_log_ticks(axis) -> None:
    """The y axis of ``axis`` on a log scale, labelled by :class:`LogNumberFormatter`."""
    axis.set_yscale("log")
    axis.yaxis.set_major_formatter(LogNumberFormatter())
    axis.yaxis.set_minor_formatter(LogNumberFormatter(minor=True))


def save_figure(figure: plt.Figure, path: Path) -> str:
    """Saves ``figure`` as PNG at ``path`` and returns it base64-encoded for the report."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    data = buffer.getvalue()
    path.write_bytes(data)
    return base64.b64encode(data).decode("ascii")


def best_epoch(history: Mapping[str, Sequence[float]]) -> int | None:
    """The epoch (from 1) of the lowest validation loss, whose weights training keeps;
    ``None`` without a finite one.

    Example:
        >>> best_epoch({"loss": [3.0, 2.0, 1.0], "val_loss": [2.5, 1.5, 1.8]})
        2
    """
    finite = [(v, i) for i, v in enumerate(history.get("val_loss", []), 1) if math.isfinite(v)]
    return min(finite)[1] if finite else None


#: A final validation loss below this share of the training loss is pointed out.
LOW_VALIDATION_LOSS = 0.7


def loss_gap_note(history: Mapping[str, Sequence[float]]) -> str | None:
    """A note when the final validation loss is far below the training loss, which
    dropout, or a small or easy validation part, explains better than a good model."""
    losses, validation = history.get("loss", []), history.get("val_loss", [])
    if not losses or not validation:
        return None
    train, val = losses[-1], validation[-1]
    if not (math.isfinite(train) and math.isfinite(val)) or val >= LOW_VALIDATION_LOSS * train:
        return None
    return (
        f"Validation loss below training loss ({format_number(val, 3)} against "
        f"{format_number(train, 3)} at the last epoch): dropout, or a small or easy "
        "validation part."
    )


def loss_figure(
    history: Mapping[str, Sequence[float]], metrics: Sequence[str] = (), loss_name: str = "loss"
) -> plt.Figure:
    """Training and validation loss per epoch (and any extra metric pairs), the loss named
    on its axis, the best epoch (:func:`best_epoch`) marked on each."""
    names = ["loss", *metrics]
    best = best_epoch(history)
    figure, axes = plt.subplots(1, len(names), figsize=(6 * len(names), 3.5), squeeze=False)
    for axis, name in zip(axes[0], names):
        for key, style in ((name, "-"), (f"val_{name}", "--")):
            if key in history:
                axis.plot(range(1, len(history[key]) + 1), history[key], style, label=key)
        if best is not None:
            axis.axvline(best, color="C3", ls=":", lw=1.2, label=f"best epoch {best}")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_xlabel("epoch")
        axis.set_ylabel(loss_name if name == "loss" else name)
        axis.set_title(name)
        if name == "loss":
            plain_log_ticks(axis)
        axis.legend()
        axis.grid(alpha=0.3)
    return figure


def plot_loss(
    history: Mapping[str, Sequence[float]],
    path: Path,
    metrics: Sequence[str] = (),
    loss_name: str = "loss",
) -> str:
    """Saves :func:`loss_figure` at ``path``; returns it base64-encoded."""
    return save_figure(loss_figure(history, metrics, loss_name), path)


def loss_html(training: TrainingRecord, path: Path, metrics: Sequence[str] = ()) -> Markup:
    """The report's loss plot (written to ``path``), the best epoch and, when it is far
    below the training loss, a note on the final validation loss."""
    history = training.history
    encoded = plot_loss(history, path, metrics, training.loss_name)
    epochs = len(history.get("loss", []))
    return part("loss")(
        encoded, training.loss_name, best_epoch(history), epochs, loss_gap_note(history)
    )


def flat_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of a configuration dict, a nested one's under dotted keys
    (``training.loss``)."""
    flat = {}
    for key, value in config.items():
        if isinstance(value, Mapping):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


def setting_text(value: Any, used: Any) -> str:
    """A setting as the configuration table shows it: its value, and after an arrow the
    value the run used where that differs, marked "(auto)" when it was chosen for it.

    Example:
        >>> setting_text(None, 14), setting_text(0.3, "93 texts"), setting_text(7, 7)
        ('None → 14 (auto)', '0.3 → 93 texts', '7')
    """
    shown = format_number(used) if isinstance(used, float) else str(used)
    if shown == str(value):
        return shown
    automatic = value is None or value == "auto"
    return f"{value} \u2192 {shown}" + (" (auto)" if automatic else "")


def config_html(config: Mapping[str, Any], used: Mapping[str, Any] | None = None) -> Markup:
    """The configuration, one row per setting, each value left-aligned beside its key.

    Args:
        config: the configuration dict (``config.json``).
        used: the values the run actually used, by :func:`flat_settings` key, where a
            setting was automatic (``None``, ``"auto"``) or is a share resolved to a count.
    """
    used = used or {}
    rows = [
        (key, setting_text(value, used[key]) if key in used else str(value))
        for key, value in flat_settings(config).items()
    ]
    return part("config_table")(rows)


def gradient_section(health: GradientHealth | None, directory: Path) -> Markup:
    """The report's gradient-health section (empty when it was not recorded)."""
    if health is None:
        return Markup("")
    encoded = write_gradient_files(health, directory)
    messages = [finding.message for finding in health.findings]
    return part("gradient_health")(messages, encoded, health.every)


def plot_gradients(frame: pd.DataFrame, path: Path) -> str:
    """Gradient and weight norms per layer over training (log scale); returns base64 PNG."""
    figure, (grads, weights, loss) = plt.subplots(1, 3, figsize=(15, 4.6), layout="constrained")
    for layer, rows in frame.groupby("layer", sort=False):
        style = "-" if rows["recurrent"].iloc[0] else ":"
        grads.plot(rows["step"], rows["gradient_norm"], style, label=layer)
        weights.plot(rows["step"], rows["weight_norm"], style, label=layer)
    first = frame.drop_duplicates("step")
    loss.plot(first["step"], first["loss"], color="k")
    for axis, title in (
        (grads, "gradient norm per layer"),
        (weights, "weight norm per layer"),
        (loss, "probe-batch loss"),
    ):
        plain_log_ticks(axis)
        axis.set_xlabel("optimizer step")
        axis.set_title(title)
        axis.grid(alpha=0.3)
    # Below the panels: over them it hid the lines of the first.
    handles, labels = grads.get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=5, fontsize=7, frameon=False)
    return save_figure(figure, path)


def write_gradient_files(health: GradientHealth, directory: Path) -> str | None:
    """Writes ``gradients.csv`` and ``gradients.png``; returns the PNG as base64."""
    frame = health.frame()
    if frame.empty:
        return None
    frame.to_csv(directory / "gradients.csv", index=False)
    return plot_gradients(frame, directory / "gradients.png")


def plot_range_test(result: RangeTestResult, path: Path) -> str:
    """Smoothed loss against learning rate (log scale), suggestion marked; base64 PNG."""
    figure, axis = plt.subplots(figsize=(7, 4))
    axis.plot(result.learning_rates, result.losses, color="#bbb", lw=0.8, label="batch loss")
    axis.plot(result.learning_rates, result.smoothed, color="C0", label="smoothed")
    axis.axvline(result.suggestion, color="C3", ls="--", label=f"suggested {result.suggestion:.2g}")
    axis.set_xscale("log")
    finite = [v for v in result.smoothed if math.isfinite(v)]
    if finite:
        low, high = min(finite), finite[0]
        axis.set_ylim(low - 0.1 * (high - low), high + 0.6 * (high - low) + 1e-12)
    axis.set_xlabel("learning rate")
    axis.set_ylabel("loss")
    axis.set_title("learning-rate range test")
    axis.legend()
    axis.grid(alpha=0.3)
    return save_figure(figure, path)


def write_training_record(directory: Path, record: TrainingRecord) -> None:
    """Writes what training recorded, shared by both jobs: ``history.csv``, and when they
    ran, the range test (``lr_find.json``/``.png``) and ``gradient_health.json``."""
    history, range_test = record.history, record.range_test
    gradient_health = record.gradient_health
    if history is not None:
        pd.DataFrame(history).rename_axis("epoch").to_csv(directory / "history.csv")
    if range_test is not None:
        write_json(directory / "lr_find.json", range_test.to_dict())
        plot_range_test(range_test, directory / "lr_find.png")
    if gradient_health is not None:
        write_json(directory / "gradient_health.json", gradient_health.summary())
