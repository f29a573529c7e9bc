"""Preparing labelled texts, shared by the in-memory and the streamed paths: reading the
columns, checking the classes, the stratified split and the class weights."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.data.reading import read_table, require_columns
from rnnkit.errors import DataError

# One row each for the train, validation and test parts of a stratified split.
MIN_CLASS_ROWS = 3

DataLike = pd.DataFrame | str | os.PathLike[str]


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
