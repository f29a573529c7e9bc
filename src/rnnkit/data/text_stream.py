"""Texts and labels read a chunk of rows at a time, for corpora larger than memory.

``TextClassifier.fit`` takes this path for a large file (``ClassifierConfig.stream``).
Each pass over the file holds one chunk of ``chunk_rows`` rows at a time:

1. :func:`scan` checks and cleans every row as ``TextClassifier.prepare`` does (a text,
   a label, a text not empty once cleaned) and keeps a label code per row (4 bytes a
   row), with the counts and first lines of what it dropped.
2. The classifier splits the usable rows with the in-memory path's own stratified split
   on those codes, so the same rows land in train, validation and test. Then
   :func:`learn_vocabulary` reads the training rows again for the vocabulary (the
   ``tokenizers`` trainer counts words, it keeps no text), the histogram of their lengths
   (for the sequence length) and a bounded random sample of texts (for the TF-IDF
   baseline and the learning-rate range test).
3. :class:`~rnnkit.data.text_batches.TextBatches` (a ``keras.utils.PyDataset``) reads,
   cleans and encodes the training or validation rows batch by batch at every epoch;
   :func:`selected_chunks` gives any rows chunk by chunk (the test is scored that way).

Memory grows with ``chunk_rows``, the shuffle buffer and the vocabulary, plus about 10
bytes per row of the file for the label codes and the split (about 40 for a moment while
the split is drawn): not with the texts.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.data import text as text_prep
from rnnkit.data.reading import (
    PARQUET_SUFFIXES,
    check_csv_file,
    check_file,
    csv_read_errors,
    no_rows_error,
    read_csv_header,
    require_columns,
)
from rnnkit.errors import DataError, format_examples

# "auto" streams a file above this size. Compressed files (gzip, Parquet) count at five
# times their size on disk, about what text compresses by.
STREAM_BYTES = 100 * 2**20
COMPRESSION_RATIO = 5
CHUNK_ROWS = 50_000
# Training rows pass through a shuffle buffer this long (see TextBatches).
SHUFFLE_ROWS = 100_000

# What each row of the file is used for.
DROPPED, TRAIN, VALIDATION, TEST = -1, 0, 1, 2


def should_stream(data: object, stream: bool | str) -> bool:
    """Whether ``fit`` reads ``data`` in chunks: ``stream`` itself, or for ``"auto"``
    whether ``data`` is a file larger than :data:`STREAM_BYTES` (a DataFrame is already
    in memory)."""
    if isinstance(stream, bool):
        return stream
    if isinstance(data, pd.DataFrame) or not isinstance(data, (str, os.PathLike)):
        return False
    path = Path(data)
    if not path.is_file():
        return False  # the in-memory path reports a missing file
    size = path.stat().st_size
    if path.suffix.lower() in (".gz", *PARQUET_SUFFIXES):
        size *= COMPRESSION_RATIO
    return size > STREAM_BYTES


def is_blank(values: pd.Series) -> pd.Series:
    """True where a value is missing or only whitespace."""
    return values.isna() | values.astype("string").str.strip().fillna("").eq("")


@dataclasses.dataclass(frozen=True)
class TextTable:
    """A CSV or Parquet file (or a DataFrame) read ``chunk_rows`` rows at a time.

    Make one with :func:`open_table`, which checks the file and its columns first.
    """

    source: str
    line_offset: int  # file line of row 0: 2 below a CSV header, 1 for Parquet rows
    line_word: str
    chunk_rows: int
    path: Path | None = None
    encoding: str = "utf-8"
    frame: pd.DataFrame | None = None

    def line(self, row: int) -> int:
        """The file line (or Parquet row) of a 0-based row."""
        return self.line_offset + int(row)

    def chunks(self, columns: Sequence[str], every_field: bool = False) -> Iterator[pd.DataFrame]:
        """``columns`` of every row, a chunk at a time; empty CSV fields are missing.

        Args:
            columns: the columns to return.
            every_field: parse every field of a CSV, so that a line with too many fields
                is reported (with its line) as the in-memory reader reports it. Later
                passes over a file already checked parse only ``columns``.
        """
        if self.frame is not None:
            for start in range(0, len(self.frame), self.chunk_rows):
                yield self.frame.iloc[start : start + self.chunk_rows][list(columns)]
        elif self.path is not None and self.path.suffix.lower() in PARQUET_SUFFIXES:
            yield from self._parquet_chunks(columns)
        else:
            yield from self._csv_chunks(columns, every_field)

    def _csv_chunks(self, columns: Sequence[str], every_field: bool) -> Iterator[pd.DataFrame]:
        assert self.path is not None
        positions = None if every_field else read_csv_header(self.path, self.encoding, columns)
        with csv_read_errors(self.path):
            reader = pd.read_csv(
                self.path,
                usecols=positions,
                dtype=str,
                keep_default_na=False,  # as read_table: "NA" is a text, "" is missing
                encoding=self.encoding,
                chunksize=self.chunk_rows,
            )
            with reader:
                for chunk in reader:
                    chunk.columns = [str(c).strip() for c in chunk.columns]
                    yield chunk[list(columns)].replace("", pd.NA)

    def _parquet_chunks(self, columns: Sequence[str]) -> Iterator[pd.DataFrame]:
        import pyarrow.parquet as pq

        try:
            batches = pq.ParquetFile(self.path).iter_batches(
                batch_size=self.chunk_rows, columns=list(columns)
            )
            for batch in batches:
                yield batch.to_pandas()
        except Exception as err:  # pyarrow raises many types for a bad file
            raise DataError(
                f"File '{self.path}' could not be read as Parquet ({type(err).__name__}: "
                f"{err}). Check that it is a Parquet file, or give a CSV."
            ) from err


def open_table(
    data: pd.DataFrame | str | os.PathLike[str],
    columns: Sequence[str],
    fix: str,
    chunk_rows: int = CHUNK_ROWS,
) -> TextTable:
    """Checks ``data`` and its header for ``columns`` before any row is read.

    A missing column is reported with its closest existing name, followed by ``fix``
    (which says which option names the column), as ``classification.read_columns`` does.

    Raises:
        DataError: a missing, empty, binary or non-UTF-8 file, an unreadable Parquet
            file, or a missing column.
    """
    if isinstance(data, pd.DataFrame):
        source = str(data.attrs.get("source", "the DataFrame"))
        table = TextTable(
            source,
            int(data.attrs.get("line_offset", 0)),
            str(data.attrs.get("line_word", "row")),
            chunk_rows,
            frame=data,
        )
        header = data.iloc[:0]
    else:
        path = check_file(data)
        if path.suffix.lower() in PARQUET_SUFFIXES:
            table = TextTable(str(path), 1, "row", chunk_rows, path=path)
            header = pd.DataFrame(columns=_parquet_columns(path))
        else:
            path, encoding = check_csv_file(path)
            read_csv_header(path, encoding, [])  # a repeated column name is refused
            with csv_read_errors(path):
                header = pd.read_csv(path, nrows=0, dtype=str, encoding=encoding)
            header.columns = [str(c).strip() for c in header.columns]
            table = TextTable(str(path), 2, "line", chunk_rows, path=path, encoding=encoding)
    header.attrs["source"] = table.source
    try:
        require_columns(header, columns)
    except DataError as err:
        raise DataError(f"{err}. {fix}.") from None
    return table


def _parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.ParquetFile(path).schema_arrow.names)
    except Exception as err:  # pyarrow raises many types for a bad file
        raise DataError(
            f"File '{path}' could not be read as Parquet ({type(err).__name__}: {err}). "
            "Check that it is a Parquet file, or give a CSV."
        ) from err


# ----------------------------------------------------------------------- pass 1: scan
def no_usable_rows_error(
    source: str, text_column: str, label_column: str, no_text: int, no_label: int
) -> DataError:
    return DataError(
        f"File '{source}' has no row with both a text in '{text_column}' and a label in "
        f"'{label_column}' ({no_text} rows without a text, {no_label} without a label). "
        "Check the column names."
    )


def all_empty_error(
    source: str,
    text_column: str,
    kept: int,
    lines: Sequence[int],
    values: Sequence[object],
    line_word: str,
    remove_stopwords: bool,
) -> DataError:
    removed = "digits, symbols, CFPB masks" + (" and stop words" if remove_stopwords else "")
    return DataError(
        f"File '{source}', column '{text_column}': all {kept} texts are "
        f"empty after cleaning ({removed} removed; "
        f"{format_examples(lines, values).replace('line', line_word)}). Check that "
        "--text-column names the column of texts"
        + (", or pass --keep-stopwords." if remove_stopwords else ".")
    )


@dataclasses.dataclass
class Scan:
    """What the first pass keeps of a table: a label code per row, and counts.

    Attributes:
        codes: int32, one per row: the row's label as a position in ``labels``, or -1
            for a row dropped (no text, no label, or a text empty once cleaned).
        labels: the distinct labels of the usable rows, in order of first appearance.
        first_rows: the row where each of ``labels`` first appears.
        summary: the keys of ``TextClassifier.prepare``'s summary, plus ``first_lines``:
            the first file lines of each kind of dropped row.
    """

    table: TextTable
    codes: np.ndarray
    labels: list[str]
    first_rows: list[int]
    summary: dict[str, Any]


def scan(table: TextTable, text_column: str, label_column: str, cleaner) -> Scan:
    """Reads every row once, checks and cleans it, and keeps its label code.

    Rows are dropped and counted exactly as ``TextClassifier.prepare`` drops them.

    Raises:
        DataError: a malformed line (with its line), no data rows, no row with both a
            text and a label, or every text empty once cleaned (with the first lines).
    """
    tally = _ScanTally()
    for chunk in table.chunks([text_column, label_column], every_field=True):
        tally.add(chunk, table, text_column, label_column, cleaner)
    rows, dropped, kept_total = tally.rows, tally.dropped, tally.kept_total
    if rows == 0:
        if table.path is not None:
            raise no_rows_error(table.path)
        raise DataError(f"'{table.source}' has no rows. Give at least a few labelled texts.")
    if kept_total == 0:
        raise no_usable_rows_error(
            table.source,
            text_column,
            label_column,
            dropped["without_text"],
            tally.labels_missing,
        )
    all_codes = np.concatenate(tally.codes)
    used = int((all_codes >= 0).sum())
    summary = {
        "source": table.source,
        "rows_read": rows,
        "rows_without_text": dropped["without_text"],
        "rows_without_label": dropped["without_label"],
        "rows_empty_after_cleaning": dropped["empty_after_cleaning"],
        "rows_used": used,
        "first_lines": tally.first_lines,
    }
    scanned = Scan(table, all_codes, list(tally.index), tally.first_rows, summary)
    if used == 0:
        lines, values = zip(*tally.kept_examples, strict=True)
        raise all_empty_error(
            table.source,
            text_column,
            kept_total,
            lines,
            values,
            table.line_word,
            cleaner.remove_stopwords,
        )
    return scanned


def _dropped_counts() -> dict[str, int]:
    return {"without_text": 0, "without_label": 0, "empty_after_cleaning": 0}


@dataclasses.dataclass
class _ScanTally:
    """What :func:`scan` has kept of the chunks read so far."""

    index: dict[str, int] = dataclasses.field(default_factory=dict)
    first_rows: list[int] = dataclasses.field(default_factory=list)
    codes: list[np.ndarray] = dataclasses.field(default_factory=list)
    dropped: dict[str, int] = dataclasses.field(default_factory=_dropped_counts)
    # Rows without a label, with a text or not: the no-usable-rows error.
    labels_missing: int = 0
    first_lines: dict[str, list[int]] = dataclasses.field(
        default_factory=lambda: {kind: [] for kind in _dropped_counts()}
    )
    kept_total: int = 0
    # The first kept rows (line, text): the all-empty error.
    kept_examples: list[tuple[int, object]] = dataclasses.field(default_factory=list)
    rows: int = 0

    def add(
        self, chunk: pd.DataFrame, table: TextTable, text_column: str, label_column: str, cleaner
    ) -> None:
        """Checks and cleans one chunk's rows, keeping their label codes and counts."""
        no_text = is_blank(chunk[text_column]).to_numpy()
        label_missing = is_blank(chunk[label_column]).to_numpy()
        self.labels_missing += int(label_missing.sum())
        no_label = label_missing & ~no_text
        kept = np.flatnonzero(~(no_text | no_label))
        texts = chunk[text_column].iloc[kept]
        cleaned = cleaner.clean_all(texts.astype(str).tolist())
        empty = np.array([not text for text in cleaned], dtype=bool)
        labels = chunk[label_column].iloc[kept].astype(str).str.strip().tolist()
        chunk_codes = self._label_codes(len(chunk), kept, labels, empty)
        for kind, mask in (
            ("without_text", no_text),
            ("without_label", no_label),
            ("empty_after_cleaning", _at(len(chunk), kept[empty])),
        ):
            self.dropped[kind] += int(mask.sum())
            room = 3 - len(self.first_lines[kind])
            self.first_lines[kind] += [
                table.line(self.rows + p) for p in np.flatnonzero(mask)[:room]
            ]
        if len(self.kept_examples) < 3:
            self.kept_examples += [
                (table.line(self.rows + p), v)
                for p, v in zip(kept[:3], texts.iloc[:3].tolist(), strict=False)
            ][: 3 - len(self.kept_examples)]
        self.kept_total += len(kept)
        self.codes.append(chunk_codes)
        self.rows += len(chunk)

    def _label_codes(
        self, size: int, kept: np.ndarray, labels: list[str], empty: np.ndarray
    ) -> np.ndarray:
        """The chunk's label codes (-1 for a dropped row), new labels numbered in order
        of first appearance."""
        chunk_codes = np.full(size, -1, dtype="int32")
        for position, label, is_empty in zip(kept, labels, empty, strict=True):
            if is_empty:
                continue
            code = self.index.get(label)
            if code is None:
                code = self.index[label] = len(self.index)
                self.first_rows.append(self.rows + int(position))
            chunk_codes[position] = code
        return chunk_codes


def _at(size: int, positions: np.ndarray) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    mask[positions] = True
    return mask


# ----------------------------------------------------------------------- later passes
def selected_chunks(
    table: TextTable, text_column: str, cleaner, selected: np.ndarray
) -> Iterator[tuple[np.ndarray, list[str]]]:
    """The rows where ``selected`` (one flag per row) is true, chunk by chunk in file order:
    their row numbers and cleaned texts.

    Raises:
        DataError: the file no longer has the rows the first pass counted.
    """
    first = 0
    for chunk in table.chunks([text_column]):
        if first + len(chunk) > len(selected):
            raise _changed(table, len(selected))
        rows = first + np.flatnonzero(selected[first : first + len(chunk)])
        texts = chunk[text_column].iloc[rows - first].astype(str).tolist()
        yield rows, cleaner.clean_all(texts)
        first += len(chunk)
    if first != len(selected):
        raise _changed(table, len(selected))


def _changed(table: TextTable, rows: int) -> DataError:
    return DataError(
        f"File '{table.source}' changed while it was read: it had {rows} rows at the first "
        "pass. Train on a file that no other program is writing."
    )


@dataclasses.dataclass
class Vocabulary:
    """What :func:`learn_vocabulary` learns from the training rows.

    Attributes:
        tokenizer: the word-level tokenizer, no sequence length set yet.
        histogram: how many training texts have each word count.
        sample: the cleaned texts of the sample rows, in file order.
    """

    tokenizer: Any
    histogram: np.ndarray
    sample: list[str]


def learn_vocabulary(
    table: TextTable,
    text_column: str,
    cleaner,
    parts: np.ndarray,
    max_tokens: int,
    sample_rows: np.ndarray,
) -> Vocabulary:
    """The second pass: vocabulary and lengths of the training rows, and a sample.

    Args:
        table, text_column, cleaner: as for :func:`scan`.
        parts: one of TRAIN, VALIDATION, TEST or DROPPED per row.
        max_tokens: the largest vocabulary, special tokens included.
        sample_rows: sorted rows whose cleaned texts are kept (any part).

    The vocabulary is the one :func:`rnnkit.data.text.build_tokenizer` learns from the
    same texts in memory: the trainer counts words and breaks ties by the word, so
    neither the chunks nor the order of the texts change it.
    """
    histogram = np.zeros(1, dtype="int64")
    sample: list[str] = []
    sample_rows = np.asarray(sample_rows, dtype="int64")
    selected = parts == TRAIN
    selected[sample_rows] = True

    def training_texts() -> Iterator[str]:
        nonlocal histogram
        for rows, cleaned in selected_chunks(table, text_column, cleaner, selected):
            train = [text for text, part in zip(cleaned, parts[rows], strict=True) if part == TRAIN]
            histogram = text_prep.add_histograms(histogram, text_prep.length_histogram(train))
            wanted = _members(rows, sample_rows)
            sample.extend(text for text, keep in zip(cleaned, wanted, strict=True) if keep)
            yield from train

    tokenizer = text_prep.train_vocabulary(training_texts(), max_tokens)
    return Vocabulary(tokenizer, histogram, sample)


def _members(rows: np.ndarray, sorted_rows: np.ndarray) -> np.ndarray:
    """Which of ``rows`` are in ``sorted_rows`` (sorted), without sorting either again."""
    if len(sorted_rows) == 0:
        return np.zeros(len(rows), dtype=bool)
    found = np.minimum(np.searchsorted(sorted_rows, rows), len(sorted_rows) - 1)
    return sorted_rows[found] == rows
