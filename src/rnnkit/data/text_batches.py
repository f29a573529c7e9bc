"""Training and validation batches read, cleaned and encoded from a file at every epoch."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np

from rnnkit.data import text as text_prep
from rnnkit.data.text_stream import TextTable, selected_chunks


class TextBatches(keras.utils.PyDataset):
    """One part of a streamed table as ``(token ids, class ids)`` batches for ``model.fit``.

    Every epoch reads the file again and cleans and encodes one batch at a time. With
    ``shuffle_rows``, rows pass through a shuffle buffer of that many rows, as tf.data's
    ``shuffle``: each row out is a random row of the buffer, replaced by the next row
    read, and at the end of the file the rest of the buffer comes out in random order. A
    part smaller than the buffer is thus shuffled whole, as in memory; a file sorted by
    label is only mixed within about ``shuffle_rows`` rows (shuffle such a file once
    beforehand). The order is drawn from NumPy's global generator as the epoch starts,
    which :class:`rnnkit.core.training.EpochSeed` seeds from ``seed + epoch``: the same seed
    gives the same batches, in a resumed run too, whatever ``chunk_rows``.

    Batches are made in order: Keras asks for them so with one worker and
    ``shuffle=False``, as :func:`rnnkit.core.training.fit` passes a dataset. Asking for
    another batch restarts the epoch and skips to it: correct, but slow.

    Args:
        table, text_column, cleaner: as for :func:`scan`.
        tokenizer: the trained tokenizer, its sequence length set.
        parts: one of TRAIN, VALIDATION, TEST or DROPPED per row.
        row_labels: the class id of every row (-1 where dropped).
        part: the part to give.
        batch_size: rows per batch (the last batch may be smaller).
        shuffle_rows: the shuffle buffer; 0 gives the rows in file order.

    Example:
        >>> batches = TextBatches(table, "text", cleaner, tokenizer, parts, labels,
        ...                       TRAIN, 64, shuffle_rows=SHUFFLE_ROWS)  # doctest: +SKIP
        >>> model.fit(batches, shuffle=False)  # doctest: +SKIP
    """

    def __init__(
        self,
        table: TextTable,
        text_column: str,
        cleaner,
        tokenizer,
        parts: np.ndarray,
        row_labels: np.ndarray,
        part: int,
        batch_size: int,
        shuffle_rows: int = 0,
    ) -> None:
        super().__init__()  # one worker, no multiprocessing: the batches are made in order
        self.table = table
        self.text_column = text_column
        self.cleaner = cleaner
        self.tokenizer = tokenizer
        self.selected = parts == part
        self.row_labels = row_labels
        self.rows = int(self.selected.sum())
        self.batch_size = batch_size
        self.shuffle_rows = shuffle_rows
        self._stream: Iterator[tuple[np.ndarray, np.ndarray]] | None = None
        self._next = 0

    def __len__(self) -> int:
        return math.ceil(self.rows / self.batch_size)

    def on_epoch_begin(self) -> None:
        self._stream = None  # the next batch asked for starts a new pass over the file

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        if self._stream is None or index != self._next:
            self._stream = self._batches()
            for _ in range(index):
                next(self._stream)
        self._next = index + 1
        return next(self._stream)

    def _batches(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        rows = self._rows()
        if self.shuffle_rows:
            rng = np.random.default_rng(np.random.randint(2**31))
            rows = _shuffled(rows, self.shuffle_rows, rng)
        while batch := [row for _, row in zip(range(self.batch_size), rows, strict=False)]:
            texts, labels = zip(*batch, strict=True)
            yield text_prep.encode(self.tokenizer, texts), np.array(labels, dtype="int64")

    def _rows(self) -> Iterator[tuple[str, int]]:
        chunks = selected_chunks(self.table, self.text_column, self.cleaner, self.selected)
        for rows, cleaned in chunks:
            yield from zip(cleaned, self.row_labels[rows].tolist(), strict=True)


def _shuffled(rows: Iterator[Any], size: int, rng: np.random.Generator) -> Iterator[Any]:
    """``rows`` through a shuffle buffer of ``size`` (see :class:`TextBatches`)."""
    buffer: list[Any] = []
    draws: Iterator[int] = iter(())
    for row in rows:
        if len(buffer) < size:
            buffer.append(row)
            continue
        # Drawn in blocks for speed; the sequence does not depend on how rows are chunked.
        slot = next(draws, None)
        if slot is None:
            draws = iter(rng.integers(size, size=4096).tolist())
            slot = next(draws)
        yield buffer[slot]
        buffer[slot] = row
    for slot in rng.permutation(len(buffer)).tolist():
        yield buffer[slot]
