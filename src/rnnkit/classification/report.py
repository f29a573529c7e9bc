"""The ``report.html`` of a text classifier: test metrics against the baselines, the
labels and their split, per-class metrics, the confusion matrix and the loss curves."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.classification.metrics import failing_classes_warning, largest_confusions, verdict
from rnnkit.config import ClassifierConfig
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


def per_class_html(per_class: pd.DataFrame) -> str:
    """The per-class table; numbered, as the confusion matrix numbers many classes."""
    if len(per_class) > NUMBERED_CLASSES:
        per_class = per_class.copy()
        per_class.insert(0, "#", range(len(per_class)))
    return frame_html(per_class, max_rows=200)


def confusion_html(encoded: str, matrix: np.ndarray, classes: Sequence[str]) -> str:
    """The confusion matrix picture and under it the largest confusions with the full
    class names, which a picture of 77 or 150 classes cannot show legibly."""
    table = largest_confusions(matrix, list(classes))
    if table.empty:
        below = "<p>No test text was confused with another class.</p>"
    else:
        below = (
            "<p class='note'>The largest confusions: test texts of the true class predicted "
            "as another, and their share of the true class.</p>" + frame_html(table)
        )
    # One under the other, each the page's width: side by side (tried first), the table's
    # full class names wrapped in narrow columns into a table taller than the page.
    return (
        image_html(encoded, "confusion matrix")
        + "<p class='note'>Each row is a true class, normalised to its share of that class's "
        "test texts; many classes are numbered as in the per-class table.</p>" + below
    )


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
    details = evaluation["details"]
    prep = preparation
    loss_body = loss_html(training, directory / "loss.png", metrics=["accuracy"])
    confusion_png = plot_confusion_matrix(
        evaluation["confusion"], classes, directory / "confusion_matrix.png"
    )
    epochs = len(training.history.get("loss", []))
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
        f"Trained {epochs} epochs in {training.seconds:.1f} s; best"
        " validation-loss weights restored.",
    ]
    ngrams = prep.get("ngram_features")
    if ngrams:
        kept = (
            " The trained model was worse on the validation part than its start, so the "
            "start was kept: the linear SVM alone, refit on the train and validation parts."
            if ngrams["kept_start"]
            else ""
        )
        notes.append(
            f"Wide and deep: {ngrams['kinds']} n-gram TF-IDF scores ({ngrams['features']} "
            f"features, up to {ngrams['per_text']} a text) are added to the recurrent "
            "network's; they start as a linear SVM fit on the training part (validation "
            f"accuracy {ngrams['start_validation_accuracy']:.3f}).{kept}"
        )
    if training.stopped_on_nan:
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
    failing = failing_classes_warning(evaluation["per_class"], evaluation["confusion"])
    warning = f"<p class='warn'>Warning: {html.escape(failing)}</p>" if failing else ""
    sections = [
        (
            "Test metrics",
            f"<p><strong>{html.escape(verdict(evaluation['metrics'], split['test']))}"
            "</strong></p>"
            + warning
            + metrics_table_html(
                evaluation["metrics"], CLASSIFICATION_COLUMNS, lower_is_better=False
            )
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
        ("Per-class metrics (test)", warning + per_class_html(evaluation["per_class"])),
        ("Confusion matrix", confusion_html(confusion_png, evaluation["confusion"], classes)),
        ("Training", loss_body),
        *gradient_section(training.gradient_health, directory),
        ("Configuration", config_html(c.to_dict(), settings_used)),
    ]
    write_html(directory / "report.html", f"rnnkit classify: {c.label_column}", sections)
