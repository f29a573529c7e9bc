"""The ``report.html`` of a text classifier: test metrics against the baselines, the
labels and their split, per-class metrics, the confusion matrix and the loss curves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from rnnkit.classification.metrics import failing_classes_warning, largest_confusions, verdict
from rnnkit.config import ClassifierConfig
from rnnkit.core.report import (
    TrainingRecord,
    config_html,
    frame_html,
    gradient_section,
    loss_html,
    metrics_table_html,
    plt,
    save_figure,
    templates,
    write_report,
)

CLASSIFICATION_COLUMNS = ("accuracy", "macro_f1", "weighted_f1")
# Above this many classes the confusion matrix numbers its classes, as the per-class table
# does, since their shortened names may then look alike.
NUMBERED_CLASSES = 20


def _short(label: str, limit: int = 32) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "\u2026"


def plot_confusion_matrix(matrix: np.ndarray, class_names: Sequence[str], path: Path) -> str:
    """Saves :func:`confusion_figure` at ``path``; returns it base64-encoded."""
    return save_figure(confusion_figure(matrix, class_names), path)


def confusion_figure(matrix: np.ndarray, class_names: Sequence[str]) -> plt.Figure:
    """Rows are actual classes, columns predicted; colour is the share of the row."""
    matrix = np.asarray(matrix)
    n = len(class_names)
    totals = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    size = min(4 + 0.45 * n, 30)
    figure, axis = plt.subplots(figsize=(size + 2, size))
    image = axis.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    names = [_short(str(c)) for c in class_names]
    if n > NUMBERED_CLASSES:  # shortened names may look alike: numbered as in the tables
        names = [f"{i} {name}" for i, name in enumerate(names)]
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
    return figure


def per_class_html(per_class: pd.DataFrame) -> Markup:
    """The per-class table; numbered, as the confusion matrix numbers many classes."""
    if len(per_class) > NUMBERED_CLASSES:
        per_class = per_class.copy()
        per_class.insert(0, "#", range(len(per_class)))
    return frame_html(per_class, max_rows=200)


def confusion_html(encoded: str, matrix: np.ndarray, classes: Sequence[str]) -> Markup:
    """The confusion matrix picture and under it the largest confusions with the full
    class names, which a picture of 77 or 150 classes cannot show legibly."""
    table = largest_confusions(matrix, list(classes))
    confusion = templates().get_template("classification_parts.html.j2").module.confusion
    return confusion(encoded, None if table.empty else frame_html(table))


def write_classification_report(
    directory: Path,
    config: ClassifierConfig,
    *,
    classes: Sequence[str],
    preparation: Mapping[str, Any],
    split: Mapping[str, int],
    evaluation: Mapping[str, Any],
    training: TrainingRecord,
    settings_used: Mapping[str, Any] | None = None,
) -> None:
    """Writes ``loss.png``, ``confusion_matrix.png`` and ``report.html`` into ``directory``.

    Args:
        directory: the (staging) run directory.
        config: the run's configuration.
        classes: the class names, in the order of the confusion matrix.
        preparation: rows read, dropped and used (``TextClassifier.preparation_``).
        split: texts in the train, validation and test parts.
        evaluation: the test scoring (metrics, per-class table, confusion matrix).
        training: what training recorded.
        settings_used: the values used for the automatic settings, shown beside the
            configured ones (see :func:`~rnnkit.core.report.config_html`).
    """
    c = config
    prep = preparation
    loss_body = loss_html(training, directory / "loss.png", metrics=["accuracy"])
    confusion_png = plot_confusion_matrix(
        evaluation["confusion"], classes, directory / "confusion_matrix.png"
    )
    distribution = pd.DataFrame(prep["label_distribution"])
    distribution["total"] = distribution[["train", "validation", "test"]].sum(axis=1)
    distribution = distribution.sort_values("total", ascending=False, kind="stable")
    write_report(
        directory / "report.html",
        "classification.html.j2",
        title=f"rnnkit classify: {c.label_column}",
        c=c,
        prep=prep,
        split=split,
        details=evaluation["details"],
        ngrams=prep.get("ngram_features"),
        dropped_classes=prep.get("dropped_classes") or {},
        epochs=len(training.history.get("loss", [])),
        seconds=training.seconds,
        stopped_on_nan=training.stopped_on_nan,
        verdict=verdict(
            evaluation["metrics"],
            split["test"],
            kept_start=bool((prep.get("ngram_features") or {}).get("kept_start")),
        ),
        failing=failing_classes_warning(evaluation["per_class"], evaluation["confusion"]),
        metrics=metrics_table_html(
            evaluation["metrics"], CLASSIFICATION_COLUMNS, lower_is_better=False
        ),
        distribution=frame_html(distribution, max_rows=200),
        per_class=per_class_html(evaluation["per_class"]),
        confusion=confusion_html(confusion_png, evaluation["confusion"], classes),
        loss=loss_body,
        gradients=gradient_section(training.gradient_health, directory),
        configuration=config_html(c.to_dict(), settings_used),
    )
