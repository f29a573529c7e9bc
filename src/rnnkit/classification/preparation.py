"""Preparing labelled texts: reading the columns, dropping unusable rows, checking the
classes, the stratified split and the class weights (the in-memory and the streamed
paths share these), and texts and labels given as plain sequences."""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.config import ClassifierConfig
from rnnkit.data import text as text_prep
from rnnkit.data import text_stream
from rnnkit.data.reading import line_numbers, read_table, require_columns
from rnnkit.data.text import TextCleaner
from rnnkit.errors import DataError

# One row each for the train, validation and test parts of a stratified split.
MIN_CLASS_ROWS = 3

DataLike = pd.DataFrame | str | os.PathLike[str]
Texts = str | Iterable[str]


@dataclasses.dataclass
class LabelledTexts:
    """Usable rows of a table: cleaned texts and their labels, plus what was dropped."""

    cleaned: list[str]
    labels: list[str]
    summary: dict[str, Any]


def source_of(frame: pd.DataFrame) -> str:
    """The name a table's messages give it: its file, or "the DataFrame"."""
    return str(frame.attrs.get("source", "the data"))


def read_columns(data: DataLike, columns: list[str], fix: str) -> pd.DataFrame:
    """``data`` (a path or a DataFrame) checked to have ``columns`` and some rows.

    A missing column is reported with its closest existing name, followed by ``fix``
    (which says which option names the column).
    """
    if isinstance(data, pd.DataFrame):
        frame = data.copy()
        frame.attrs.setdefault("source", "the DataFrame")
        frame.attrs.setdefault("line_offset", 0)  # DataFrame rows are counted from 0
        frame.attrs.setdefault("line_word", "row")
    else:
        frame = read_table(data)
    try:
        require_columns(frame, columns)
    except DataError as err:
        raise DataError(f"{err}. {fix}.") from None
    if len(frame) == 0:
        raise DataError(f"'{source_of(frame)}' has no rows. Give at least a few labelled texts.")
    return frame


def check_classes(
    counts: pd.Series,
    source: str,
    min_rows: int,
    label_column: str,
    drop_rare_classes: bool,
    first_lines: dict | None = None,
) -> dict[str, int]:
    """The classes to leave out (rows per class), or an error naming the rare ones.

    ``counts`` are rows per label, most frequent first; ``first_lines`` (streamed
    files) gives the line where each label first appears, to find the rare ones.
    """
    rare = counts[counts < min_rows]
    if len(rare) and not drop_rare_classes:

        def where(label: str) -> str:
            return f", first at line {first_lines[label]}" if first_lines else ""

        shown = ", ".join(f"{label!r} ({n}{where(label)})" for label, n in rare.head(5).items())
        raise DataError(
            f"File '{source}', column '{label_column}': {len(rare)} class(es) have fewer "
            f"than {min_rows} rows, too few for a stratified train/validation/test split: "
            f"{shown}{', ...' if len(rare) > 5 else ''}. Add rows, merge these labels "
            "into others, or pass --drop-rare-classes to leave them out."
        )
    dropped = {str(k): int(v) for k, v in rare.items()}
    counts = counts.drop(rare.index)
    if len(counts) < 2:
        only = f" ({counts.index[0]!r}, {int(counts.iloc[0])} rows)" if len(counts) else ""
        raise DataError(
            f"File '{source}', column '{label_column}' has a single class{only}"
            + (f" once {len(dropped)} rare class(es) are dropped" if dropped else "")
            + "; a classifier needs at least two. Check --label-column."
        )
    return dropped


def no_known_labels_error(
    source: str, label_column: str, classes: Sequence[str], example: str
) -> DataError:
    """The error for test rows none of whose labels the model knows."""
    return DataError(
        f"File '{source}', column '{label_column}': none of the "
        f"labels are known to the model (e.g. {example!r}); it knows "
        f"{', '.join(repr(x) for x in classes[:5])}"
        f"{', ...' if len(classes) > 5 else ''}. Check --label-column."
    )


def class_weight(train_counts: np.ndarray, mode: str) -> dict[int, float] | None:
    """Inverse class frequencies (from training rows per class) when ``mode`` is
    ``"balanced"``; None otherwise.

    Example:
        >>> class_weight(np.array([30, 10]), "balanced")
        {0: 0.6666666666666666, 1: 2.0}
    """
    if mode != "balanced":
        return None
    rows = int(train_counts.sum())
    classes = len(train_counts)
    return {i: float(rows / (classes * n)) for i, n in enumerate(train_counts) if n}


def stratified_split(
    labels: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(kept, held_out)`` with about ``fraction`` of every class held out.

    Each class with two rows or more keeps at least one row and holds out at least one,
    so every class appears on both sides; a class of one row stays on the kept side.

    Example:
        >>> kept, held = stratified_split(np.array([0, 0, 0, 1, 1, 1]), 0.3,
        ...                               np.random.default_rng(0))
        >>> len(kept), len(held)
        (4, 2)
    """
    kept, held = [], []
    for label in np.unique(labels):
        positions = np.flatnonzero(labels == label)
        rng.shuffle(positions)
        n_held = min(max(1, round(len(positions) * fraction)), len(positions) - 1)
        held.append(positions[:n_held])
        kept.append(positions[n_held:])
    return np.sort(np.concatenate(kept)), np.sort(np.concatenate(held))


def prepare_texts(data: DataLike, config: ClassifierConfig, cleaner: TextCleaner) -> LabelledTexts:
    """Reads (if a path) and cleans ``data``; drops rows without a text or a label.

    Rows whose text is empty once cleaned (only digits, symbols or masks) are dropped
    too. Every drop is counted in the returned summary (see
    :meth:`~rnnkit.classification.TextClassifier.prepare`).
    """
    c = config
    frame = read_columns(
        data,
        [c.text_column, c.label_column],
        "Set --text-column and --label-column (text_column, label_column) to the "
        "columns of texts and labels",
    )
    no_text = text_stream.is_blank(frame[c.text_column])
    no_label = text_stream.is_blank(frame[c.label_column])
    keep = ~(no_text | no_label)
    if not keep.any():
        raise text_stream.no_usable_rows_error(
            source_of(frame),
            c.text_column,
            c.label_column,
            int(no_text.sum()),
            int(no_label.sum()),
        )
    texts = frame[c.text_column][keep].astype(str).tolist()
    cleaned = cleaner.clean_all(texts)
    empty = np.array([not t for t in cleaned])
    if empty.all():
        raise _all_empty_error(frame, keep, c)
    labels = frame[c.label_column][keep].astype(str).str.strip().tolist()
    cleaned = [t for t, e in zip(cleaned, empty, strict=True) if not e]
    labels = [label for label, e in zip(labels, empty, strict=True) if not e]
    summary = {
        "source": source_of(frame),
        "rows_read": int(len(frame)),
        "rows_without_text": int(no_text.sum()),
        "rows_without_label": int((no_label & ~no_text).sum()),
        "rows_empty_after_cleaning": int(empty.sum()),
        "rows_used": len(cleaned),
    }
    return LabelledTexts(cleaned, labels, summary)


def _all_empty_error(frame: pd.DataFrame, keep: pd.Series, config: ClassifierConfig) -> DataError:
    c = config
    kept = np.flatnonzero(keep.to_numpy())
    lines = line_numbers(frame, kept[:3].tolist())
    values = frame[c.text_column].iloc[kept[:3]].tolist()
    word = frame.attrs.get("line_word", "line")
    return text_stream.all_empty_error(
        source_of(frame), c.text_column, len(kept), lines, values, word, c.remove_stopwords
    )


def choose_classes(
    prepared: LabelledTexts, min_rows: int, config: ClassifierConfig
) -> LabelledTexts:
    """Checks there are two classes or more, each with ``min_rows`` rows (or drops it)."""
    counts = pd.Series(prepared.labels).value_counts()
    dropped = check_classes(
        counts,
        prepared.summary["source"],
        min_rows,
        config.label_column,
        config.drop_rare_classes,
    )
    if dropped:
        keep = [label not in dropped for label in prepared.labels]
        prepared = LabelledTexts(
            [t for t, k in zip(prepared.cleaned, keep, strict=True) if k],
            [label for label, k in zip(prepared.labels, keep, strict=True) if k],
            {**prepared.summary, "rows_used": int(sum(keep))},
        )
    prepared.summary["dropped_classes"] = dropped
    return prepared


def known_labels(
    prepared: LabelledTexts, classes: Sequence[str], label_column: str
) -> tuple[LabelledTexts, np.ndarray]:
    """Rows whose label is one of ``classes``, with class ids; unknown ones are counted."""
    index = {label: i for i, label in enumerate(classes)}
    known = [label in index for label in prepared.labels]
    unknown = pd.Series([lab for lab, k in zip(prepared.labels, known, strict=True) if not k])
    summary = {
        **prepared.summary,
        "rows_with_unknown_label": int(len(unknown)),
        "unknown_labels": {str(k): int(v) for k, v in unknown.value_counts().items()},
        "rows_used": int(sum(known)),
    }
    if not any(known):
        raise no_known_labels_error(summary["source"], label_column, classes, unknown.iloc[0])
    kept = LabelledTexts(
        [t for t, k in zip(prepared.cleaned, known, strict=True) if k],
        [lab for lab, k in zip(prepared.labels, known, strict=True) if k],
        summary,
    )
    return kept, np.array([index[label] for label in kept.labels], dtype="int64")


def warn_if_unspaced(texts: list[str], ngram_features: str) -> None:
    """Warns when most texts are one long word: a language written without spaces
    (Chinese, Japanese, Thai), whose word vocabulary would hold whole texts."""
    if not texts:
        return
    words = float(np.median(text_prep.token_counts(texts)))
    characters = float(np.median([len(t) for t in texts]))
    if words > 1 or characters < 8:
        return
    if ngram_features in ("char", "word+char"):
        what = (
            "the character n-grams of the linear part read them; the recurrent network "
            "sees one token per text"
        )
    else:
        what = "pass --ngram-features char (ngram_features='char') to read characters"
    warnings.warn(
        f"Most training texts are a single word of {characters:.0f} characters or more "
        f"(median): a language written without spaces? {what}.",
        stacklevel=3,
    )


def label_distribution(classes: list[str], counts: dict[str, np.ndarray]) -> list[dict]:
    """Rows of each class in each part, from rows per class id in each part."""
    return [
        {"label": name, **{part: int(n[i]) for part, n in counts.items()}}
        for i, name in enumerate(classes)
    ]


def as_rows(data: DataLike | Texts, y: Iterable[Any] | None, config: ClassifierConfig) -> DataLike:
    """``data`` as rows: a path or DataFrame as it is, texts and labels ``y`` as a
    DataFrame of the configured text and label columns."""
    c = config
    if y is None:
        if isinstance(data, (pd.DataFrame, str, os.PathLike)):
            return data
        raise DataError(
            f"fit got {type(data).__name__} without labels: pass the labels too, "
            "fit(texts, labels), or a DataFrame or file of rows with "
            f"'{c.text_column}' and '{c.label_column}' columns."
        )
    texts, labels = as_texts(data), as_labels(y)
    if len(texts) != len(labels):
        raise DataError(
            f"fit got {len(texts)} texts but {len(labels)} labels: give one label per text."
        )
    frame = pd.DataFrame({c.text_column: texts, c.label_column: labels})
    frame.attrs["source"] = "the texts given to fit"
    return frame


def as_texts(texts: Texts) -> list[str]:
    """A list of texts; one string is one text (not a sequence of characters)."""
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, pd.DataFrame):
        raise DataError("Give a list or Series of texts, not a DataFrame (pick its column).")
    return ["" if _missing(t) else str(t) for t in texts]


def as_labels(labels: Iterable[Any]) -> list[str]:
    """Labels as the classifier keeps them: text, without surrounding spaces."""
    if isinstance(labels, str):
        raise DataError("Give one label per text (a list, array or Series), not one string.")
    return ["" if _missing(label) else str(label).strip() for label in labels]


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))
