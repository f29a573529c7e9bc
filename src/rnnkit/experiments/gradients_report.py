"""Tables, figures and the run directory of the gradient experiment (``rnnkit gradients``).

Kept apart from :mod:`rnnkit.experiments.gradients` so the measurement stays free of
plotting, and from :mod:`rnnkit.core.report`, which holds the parts every report shares.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from rnnkit.core.persistence import write_json
from rnnkit.core.report import format_number, frame_html, plt, save_figure, write_report

# plt comes from rnnkit.core.report, where the file-only Agg backend is chosen before pyplot.

GUIDE_STEPS = (5, 10)  # the guide: simple RNNs "fail to learn beyond about 5-10 steps"


def _horizon_text(horizon: int | None, length: int) -> str:
    # None: the norm never fell that far within the sequence, so the horizon is longer.
    return str(horizon) if horizon is not None else f"> {length - 1}"


def _first_non_finite(losses: list[float]) -> int | None:
    return next((step for step, v in enumerate(losses, start=1) if not math.isfinite(v)), None)


def _number(value: float) -> str:
    # format_number writes NaN as "n/a"; here a NaN loss is the result, so it says nan.
    return format_number(value) if math.isfinite(value) else str(value)


def cells_frame(summary: Mapping[str, Mapping[str, Any]], length: int) -> pd.DataFrame:
    """One row per cell: norms at t=1 and t=T, their ratio, the mean factor per step, the
    memory horizon and (when trained) the held-out accuracy, mean and per seed."""
    rows = []
    for cell, values in summary.items():
        ratio = values["ratio"]
        row = {
            "cell": cell,
            "norm t=1": values["norm_first"],
            f"norm t={length}": values["norm_last"],
            f"ratio t=1/t={length}": ratio,
            # The geometric mean of the step-to-step factor: comparable across lengths.
            "factor per step": ratio ** (1 / (length - 1)) if ratio > 0 else 0.0,
            "memory horizon": _horizon_text(values["memory_horizon"], length),
        }
        if "accuracy" in values:
            row["accuracy"] = values["accuracy"]
            row["per seed"] = ", ".join(f"{a:.2f}" for a in values["accuracies"])
        rows.append(row)
    return pd.DataFrame(rows)


def exploding_frame(exploding: Mapping[str, Any]) -> pd.DataFrame:
    """One row per training run of the exploding case."""
    rows = []
    for name, run in exploding["runs"].items():
        optimizer, _, clipped = name.partition("_")
        bad = _first_non_finite(run["losses"])
        rows.append(
            {
                "optimizer": optimizer,
                "clipnorm": exploding["clipnorm"] if clipped else "none",
                "first update norm": _number(run["first_update_norm"]),
                "loss at step 1": _number(run["losses"][0]),
                f"loss at step {exploding['steps']}": _number(run["final_loss"]),
                "finite": "yes" if bad is None else f"no: NaN/inf from step {bad}",
            }
        )
    return pd.DataFrame(rows)


def text_table(frame: pd.DataFrame) -> str:
    """A plain-text table, numbers as :func:`rnnkit.core.report.format_number` writes them."""
    cells = [[str(c) for c in frame.columns]]
    cells += [
        [format_number(v) if isinstance(v, float) else str(v) for v in row]
        for row in frame.itertuples(index=False)
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = [
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def exploding_lines(exploding: Mapping[str, Any]) -> list[str]:
    """The exploding case's headline numbers, one sentence each."""
    e = exploding
    return [
        f"Linear simple RNN, recurrent spectral radius {e['radius']}, length {e['length']}, "
        f"units {e['units']}: the gradient norm at t=1 is {format_number(e['growth'])} times "
        f"that at t={e['length']}.",
        f"Weight gradient norm on the first batch: {format_number(e['gradient_norm'])}; after "
        f"clipnorm={e['clipnorm']} (each variable clipped to that norm): "
        f"{format_number(e['clipped_gradient_norm'])}. Learning rate {e['learning_rate']}, "
        f"{e['steps']} steps on fresh batches.",
    ]


# ----------------------------------------------------------------------- figures
def plot_vanishing(
    frame: pd.DataFrame, summary: Mapping[str, Mapping[str, Any]], threshold: float, path: Path
) -> str:
    """Norm against t, one panel per cell side by side on a shared log scale."""
    cells = list(summary)
    length = int(frame["t"].max())
    figure, axes = plt.subplots(
        1, len(cells), figsize=(4.2 * len(cells), 3.6), sharey=True, squeeze=False
    )
    for index, (axis, cell) in enumerate(zip(axes[0], cells)):
        group = frame[frame["cell"] == cell].sort_values("t")
        norms = group["norm"].to_numpy()
        axis.plot(group["t"], np.where(norms > 0, norms, np.nan), color=f"C{index}")
        axis.axvspan(
            length - GUIDE_STEPS[1],
            length - GUIDE_STEPS[0],
            color="#fd0",
            alpha=0.3,
            label="guide: 5-10 steps back",
        )
        axis.axhline(
            threshold * norms[-1], color="#888", ls=":", lw=1, label=f"{threshold:g} x norm at T"
        )
        horizon = summary[cell]["memory_horizon"]
        if horizon is not None:
            axis.axvline(
                length - horizon,
                color="#a40",
                ls="--",
                lw=1,
                label=f"memory horizon: {horizon} steps",
            )
        axis.set_yscale("log")
        axis.set_xlabel("input step t")
        axis.set_title(cell)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7, loc="lower right")
    axes[0][0].set_ylabel("mean |d loss / d x_t|")
    figure.suptitle("Gradient reaching each input step at initialisation (log scale)")
    return save_figure(figure, path)


def plot_exploding(exploding: Mapping[str, Any], path: Path) -> str:
    """Left: the gradient norm per step. Right: the loss per training step, every run."""
    figure, (norms_axis, loss_axis) = plt.subplots(1, 2, figsize=(11, 3.8))
    norms = exploding["norms"]
    norms_axis.plot(range(1, len(norms) + 1), norms, color="C3")
    norms_axis.set_yscale("log")
    norms_axis.set_xlabel("input step t")
    norms_axis.set_ylabel("mean |d loss / d x_t|")
    norms_axis.set_title(f"radius {exploding['radius']}: growing towards t=1")
    norms_axis.grid(alpha=0.3)
    finite_losses = [
        v for run in exploding["runs"].values() for v in run["losses"] if math.isfinite(v) and v > 0
    ]
    top = max(finite_losses, default=1.0) * 10
    for index, (name, run) in enumerate(exploding["runs"].items()):
        losses = np.asarray(run["losses"], dtype="float64")
        steps = np.arange(1, len(losses) + 1)
        style = "-" if name.endswith("clipnorm") else "--"
        loss_axis.plot(
            steps,
            np.where(np.isfinite(losses) & (losses > 0), losses, np.nan),
            style,
            color=f"C{index}",
            marker=".",
            label=name,
        )
        bad = _first_non_finite(run["losses"])
        if bad is not None:  # NaN leaves no line: mark where it starts
            loss_axis.plot([bad], [top], "x", color=f"C{index}", ms=9)
            loss_axis.annotate(
                f"{name}: NaN from step {bad}",
                (bad, top),
                fontsize=8,
                xytext=(5, -12),
                textcoords="offset points",
            )
    loss_axis.set_yscale("log")
    loss_axis.xaxis.get_major_locator().set_params(integer=True)
    loss_axis.set_xlabel("training step")
    loss_axis.set_ylabel("batch loss")
    loss_axis.set_title(f"training, learning rate {exploding['learning_rate']}")
    loss_axis.grid(alpha=0.3)
    loss_axis.legend(fontsize=8)
    return save_figure(figure, path)


# ----------------------------------------------------------------------- run directory
def write_gradients_run(result: Mapping[str, Any], directory: Path) -> None:
    """Writes gradients.csv, gradients.png, exploding.png, summary.json and report.html."""
    frame: pd.DataFrame = result["frame"]
    settings = result["settings"]
    summary = result["cells"]
    exploding = result["exploding"]
    length = settings["length"]
    frame.to_csv(directory / "gradients.csv", index=False)
    vanishing_png = plot_vanishing(
        frame, summary, settings["threshold"], directory / "gradients.png"
    )
    exploding_png = plot_exploding(exploding, directory / "exploding.png")
    write_json(
        directory / "summary.json",
        {
            "settings": settings,
            "cells": summary,
            "exploding": exploding,
            "seconds": result["seconds"],
        },
    )
    write_report(
        directory / "report.html",
        "gradients.html.j2",
        title="rnnkit gradients: vanishing and exploding",
        settings=settings,
        length=length,
        seconds=result["seconds"],
        cells=frame_html(cells_frame(summary, length)),
        vanishing_png=vanishing_png,
        exploding_lines=exploding_lines(exploding),
        br=Markup("<br>"),
        exploding=frame_html(exploding_frame(exploding)),
        exploding_png=exploding_png,
        settings_table=frame_html(
            pd.DataFrame([{"setting": k, "value": str(v)} for k, v in settings.items()])
        ),
    )
