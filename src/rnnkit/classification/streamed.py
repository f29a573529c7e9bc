"""Training a TextClassifier on a file read in chunks: a corpus larger than memory.

``TextClassifier.fit`` trains from these functions when ``ClassifierConfig.stream`` says
so: :func:`prepare_streamed` makes the first passes, :func:`training_batches` feeds
training, :func:`predict_in_chunks` scores the test part. Every pass over the file holds
one chunk of rows (see :mod:`rnnkit.data.text_stream`), and the run is the one the
in-memory path gives:

- the same rows are dropped, and the same rows go to train, validation and test: the
  first pass keeps a label code per row and the in-memory stratified split runs on them;
- the same vocabulary and sequence length: the second pass counts the words and the
  lengths of the training texts;
- the same run directory (``model.keras`` and JSON), loaded by ``TextClassifier.load``.

What differs: training reads, cleans and encodes the rows batch by batch at every epoch,
shuffled through a buffer of :data:`~rnnkit.data.text_stream.SHUFFLE_ROWS` rows rather
than as a whole; the test is scored chunk by chunk; the TF-IDF baseline is fit on a
uniform random sample of at most :data:`BASELINE_SAMPLE_ROWS` train and validation
texts (all of them when there are fewer, as in memory), and the learning-rate range test
and the gradient probe draw their batches from that sample's training texts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.classification import baselines
from rnnkit.classification.preparation import (
    MIN_CLASS_ROWS,
    DataLike,
    check_classes,
    no_known_labels_error,
    stratified_split,
)
from rnnkit.config import ClassifierConfig
from rnnkit.data import text as text_prep
from rnnkit.data import text_stream
from rnnkit.data.text import TextCleaner
from rnnkit.data.text_batches import TextBatches
from rnnkit.data.text_stream import DROPPED, TEST, TRAIN, VALIDATION, Scan, TextTable

# TF-IDF with word pairs holds its whole vocabulary and feature matrix in memory.
BASELINE_SAMPLE_ROWS = 200_000
# Sampled training texts encoded for the range test and the gradient probe.
PROBE_ROWS = 20_000

_FIX_COLUMNS = (
    "Set --text-column and --label-column (text_column, label_column) to the columns of "
    "texts and labels"
)


@dataclasses.dataclass
class StreamedData:
    """What :func:`prepare_streamed` learns from the file, to train and score from.

    Attributes:
        table: the training file; ``test_table``: the fixed test file, if any.
        row_labels: the class id of every row of ``table`` (-1: dropped).
        parts: TRAIN, VALIDATION, TEST or DROPPED for every row of ``table``.
        test_labels: the class id of every row of ``test_table`` (-1: dropped, or a label
            the model does not know).
        summary, test_summary: the rows read, dropped and used.
        histogram: training texts per word count.
        sample_texts, sample_labels: the baseline sample, training rows first.
        sample_training_rows: how many of the sample are training rows.
        classes: the class names, sorted; a class id indexes them.
        sequence_length: tokens per text.
        tokenizer: the vocabulary of the training part, padding and truncating.
        majority_class: the most frequent class id of the training part.
    """

    table: TextTable
    test_table: TextTable | None
    row_labels: np.ndarray
    parts: np.ndarray
    test_labels: np.ndarray | None
    summary: dict[str, Any]
    test_summary: dict[str, Any] | None
    histogram: np.ndarray
    sample_texts: list[str]
    sample_labels: np.ndarray
    sample_training_rows: int
    classes: list[str]
    sequence_length: int
    tokenizer: Any
    majority_class: int

    def counts(self, classes: int) -> dict[str, np.ndarray]:
        """Rows per class in each part."""
        counts = {
            name: np.bincount(self.row_labels[self.parts == part], minlength=classes)
            for name, part in (("train", TRAIN), ("validation", VALIDATION), ("test", TEST))
        }
        if self.test_labels is not None:
            known = self.test_labels[self.test_labels >= 0]
            counts["test"] = np.bincount(known, minlength=classes)
        return counts


def prepare_streamed(
    config: ClassifierConfig,
    cleaner: TextCleaner,
    data: DataLike,
    test_data: DataLike | None = None,
) -> StreamedData:
    """The first two passes: rows checked, classes, split, vocabulary, sequence length.

    Raises:
        DataError: as ``TextClassifier.fit`` raises it, with the file's line numbers.
    """
    c = config
    columns = [c.text_column, c.label_column]
    table = text_stream.open_table(data, columns, _FIX_COLUMNS, c.chunk_rows)
    test_table = None
    if test_data is not None:  # its header is checked before the long first pass
        test_table = text_stream.open_table(test_data, columns, _FIX_COLUMNS, c.chunk_rows)

    scanned = text_stream.scan(table, c.text_column, c.label_column, cleaner)
    min_rows = 2 if test_data is not None else MIN_CLASS_ROWS
    classes, row_labels, summary = _choose_classes(c, scanned, min_rows)
    del scanned

    parts, test_labels, test_summary = _split_rows(c, cleaner, classes, row_labels, test_table)
    sample_rows = _baseline_sample_rows(parts, c.training.seed)
    vocabulary = text_stream.learn_vocabulary(
        table, c.text_column, cleaner, parts, c.max_tokens, sample_rows
    )
    sequence_length = c.sequence_length or (
        text_prep.choose_sequence_length_from_histogram(vocabulary.histogram)
    )
    text_prep.set_sequence_length(vocabulary.tokenizer, sequence_length, c.padding, c.truncation)

    # The sample as the in-memory baseline takes its texts: training rows, then validation.
    sample_parts = parts[sample_rows]
    order = np.concatenate(
        [np.flatnonzero(sample_parts == TRAIN), np.flatnonzero(sample_parts == VALIDATION)]
    )
    return StreamedData(
        table=table,
        test_table=test_table,
        row_labels=row_labels,
        parts=parts,
        test_labels=test_labels,
        summary=summary,
        test_summary=test_summary,
        histogram=vocabulary.histogram,
        sample_texts=[vocabulary.sample[i] for i in order],
        sample_labels=row_labels[sample_rows][order].astype("int64"),
        sample_training_rows=int((sample_parts == TRAIN).sum()),
        classes=classes,
        sequence_length=sequence_length,
        tokenizer=vocabulary.tokenizer,
        majority_class=baselines.majority_class(row_labels[parts == TRAIN]),
    )


def _split_rows(
    config: ClassifierConfig,
    cleaner: TextCleaner,
    classes: list[str],
    row_labels: np.ndarray,
    test_table: TextTable | None,
) -> tuple[np.ndarray, np.ndarray | None, dict[str, Any] | None]:
    """The part of every row (TRAIN, VALIDATION, TEST or DROPPED), and with a fixed test
    file its rows' class ids and summary."""
    c = config
    # The in-memory path's split, on the same labels in the same order: the same rows.
    used = np.flatnonzero(row_labels >= 0)
    labels = row_labels[used].astype("int64")
    parts = np.full(len(row_labels), DROPPED, dtype="int8")
    rng = np.random.default_rng(c.training.seed)
    test_summary = test_labels = None
    if test_table is None:
        rest, test = stratified_split(labels, c.test_size, rng)
        parts[used[test]] = TEST
    else:
        rest = np.arange(len(labels))
        test_labels, test_summary = known_test_labels(c, cleaner, classes, test_table)
    train_positions, validation_positions = stratified_split(labels[rest], c.validation_size, rng)
    parts[used[rest[train_positions]]] = TRAIN
    parts[used[rest[validation_positions]]] = VALIDATION
    return parts, test_labels, test_summary


def _baseline_sample_rows(parts: np.ndarray, seed: int) -> np.ndarray:
    """The train and validation rows of the baseline sample: all of them, or a uniform
    random sample of BASELINE_SAMPLE_ROWS, in file order."""
    candidates = np.flatnonzero((parts == TRAIN) | (parts == VALIDATION))
    if len(candidates) <= BASELINE_SAMPLE_ROWS:
        return candidates
    sample_rng = np.random.default_rng(seed)
    return np.sort(sample_rng.choice(candidates, BASELINE_SAMPLE_ROWS, replace=False))


def training_batches(
    prepared: StreamedData,
    config: ClassifierConfig,
    cleaner: TextCleaner,
    part: int,
    shuffle_rows: int = 0,
) -> TextBatches:
    """Batches of one part (TRAIN or VALIDATION) of the file, read at every epoch."""
    return TextBatches(
        prepared.table,
        config.text_column,
        cleaner,
        prepared.tokenizer,
        prepared.parts,
        prepared.row_labels,
        part,
        config.training.batch_size,
        shuffle_rows,
    )


def test_chunks(
    prepared: StreamedData, config: ClassifierConfig, cleaner: TextCleaner
) -> Iterator[tuple[np.ndarray, list[str]]]:
    """The test rows' class ids and cleaned texts, chunk by chunk: the TEST part of the
    file, or the rows of the fixed test file whose label the model knows."""
    if prepared.test_table is None:
        table, selected, labels = prepared.table, prepared.parts == TEST, prepared.row_labels
    else:
        assert prepared.test_labels is not None
        table, selected, labels = (
            prepared.test_table,
            prepared.test_labels >= 0,
            prepared.test_labels,
        )
    return _labelled_chunks(table, config.text_column, cleaner, selected, labels)


def _choose_classes(
    config: ClassifierConfig, scanned: Scan, min_rows: int
) -> tuple[list[str], np.ndarray, dict[str, Any]]:
    """The classes, the class id of every row (-1: dropped) and the summary, classes
    checked as the in-memory path checks them."""
    per_code = np.bincount(scanned.codes[scanned.codes >= 0], minlength=len(scanned.labels))
    # value_counts' order in memory: most frequent first, from the order of appearance.
    counts = pd.Series(per_code, index=scanned.labels).sort_values(ascending=False)
    first_lines = {
        label: scanned.table.line(row)
        for label, row in zip(scanned.labels, scanned.first_rows, strict=True)
    }
    dropped = check_classes(
        counts,
        scanned.table.source,
        min_rows,
        config.label_column,
        config.drop_rare_classes,
        first_lines,
    )
    classes = sorted(label for label in scanned.labels if label not in dropped)
    row_labels = _class_ids(scanned, classes)
    summary = {
        **scanned.summary,
        "rows_used": int((row_labels >= 0).sum()),
        "dropped_classes": dropped,
    }
    return classes, row_labels, summary


def _class_ids(scanned: Scan, classes: list[str]) -> np.ndarray:
    """The class id of every row of ``scanned``; -1 for a dropped row or another label."""
    index = {label: i for i, label in enumerate(classes)}
    of_code = np.array([index.get(label, -1) for label in scanned.labels] + [-1], dtype="int32")
    return of_code[scanned.codes]  # code -1 reads the last entry: -1


def known_test_labels(
    config: ClassifierConfig, cleaner: TextCleaner, classes: list[str], table: TextTable
) -> tuple[np.ndarray, dict[str, Any]]:
    """A fixed test file's class ids per row (-1: dropped or unknown) and its summary,
    with the in-memory path's counts of unknown labels."""
    c = config
    scanned = text_stream.scan(table, c.text_column, c.label_column, cleaner)
    row_labels = _class_ids(scanned, classes)
    per_code = np.bincount(scanned.codes[scanned.codes >= 0], minlength=len(scanned.labels))
    unknown = pd.Series(
        {
            label: int(n)
            for label, n in zip(scanned.labels, per_code, strict=True)
            if label not in classes
        },
        dtype="int64",
    ).sort_values(ascending=False)
    used = int((row_labels >= 0).sum())
    if used == 0:
        raise no_known_labels_error(table.source, c.label_column, classes, scanned.labels[0])
    summary = {
        **scanned.summary,
        "rows_with_unknown_label": int(unknown.sum()),
        "unknown_labels": {str(k): int(v) for k, v in unknown.items()},
        "rows_used": used,
    }
    return row_labels, summary


def _labelled_chunks(
    table: TextTable,
    text_column: str,
    cleaner: TextCleaner,
    selected: np.ndarray,
    row_labels: np.ndarray,
) -> Iterator[tuple[np.ndarray, list[str]]]:
    """The selected rows' class ids and cleaned texts, chunk by chunk."""
    for rows, cleaned in text_stream.selected_chunks(table, text_column, cleaner, selected):
        yield row_labels[rows].astype("int64"), cleaned


def predict_in_chunks(
    chunks: Iterator[tuple[np.ndarray, list[str]]],
    probabilities: Callable[[list[str]], np.ndarray],
    predict_tfidf: Callable[[list[str]], np.ndarray],
    majority_class: int,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """True class ids and each method's predictions, computed a chunk at a time.

    ``probabilities`` gives the model's class probabilities of cleaned texts.
    """
    truth: list[np.ndarray] = []
    model: list[np.ndarray] = []
    tfidf: list[np.ndarray] = []
    for labels, cleaned in chunks:
        if not cleaned:
            continue
        truth.append(labels)
        model.append(probabilities(cleaned).argmax(axis=1))
        tfidf.append(predict_tfidf(cleaned))
    labels = np.concatenate(truth)
    predicted = {
        "model": np.concatenate(model),
        "majority": np.full(len(labels), majority_class),
        "tfidf_linear": np.concatenate(tfidf),
    }
    return labels, predicted
