"""Property-based bad input: only rnnkit's own errors, with a message, may escape.

Hypothesis throws arbitrary bytes, malformed CSV, mixed types, extreme values and huge
fields at the readers (`read_table`), the time-series preparation (`aggregate`) and the
text cleaning and tokenization (`rnnkit.data.text`). Each case either succeeds with a
well-formed result or raises an `RnnkitError` whose message is not empty.
"""

from __future__ import annotations

import collections
import datetime as dt
import gzip
import io
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnkit.data import text as text_prep
from rnnkit.data.reading import read_table
from rnnkit.data.timeseries import aggregate
from rnnkit.errors import RnnkitError

CASES: collections.Counter[str] = collections.Counter()
FAST = settings(
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module", autouse=True)
def report_cases():
    yield
    print(f"\nhypothesis cases tried: {sum(CASES.values())} {dict(CASES)}")


def _expect_only_rnnkit_errors(action):
    """Runs ``action``; an RnnkitError with a message is fine, anything else fails."""
    try:
        return action()
    except RnnkitError as err:
        assert str(err).strip(), f"{type(err).__name__} without a message"
        return None


# ----------------------------------------------------------------- strategies
FIELD = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            "NA",
            "nan",
            "inf",
            "-inf",
            "1e309",
            "-0",
            "0x1F",
            "1,5",
            " 7 ",
            "2024-01-01",
            "2024-13-45",
            "9999-12-31",
            "1677-09-21",
            "2262-04-12",
            "2024-03-10 02:30:00-05:00",
            "2024-03-10T02:30:00Z",
            "yesterday",
            '"quoted, field"',
            '"unclosed',
            "\r",
            "\x00",
            "\ufeff",
        ]
    ),
    st.integers(-(10**30), 10**30).map(str),
    st.floats().map(repr),
)


@st.composite
def csv_bytes(draw) -> bytes:
    columns = draw(
        st.lists(st.sampled_from(["t", "v", "x", " t ", "", "t"]), min_size=1, max_size=4)
    )
    rows = draw(st.lists(st.lists(FIELD, min_size=0, max_size=5), max_size=8))
    separator = draw(st.sampled_from([",", ";", "\t"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(separator.join(r) for r in [columns, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace")


MIXED = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.binary(max_size=8),
    st.datetimes(min_value=dt.datetime(1, 1, 1)),
    st.dates(),
    st.timedeltas(),
    st.complex_numbers(),
    # Decimal("sNaN") is left out: pandas itself raises on it (pd.isna(Decimal("sNaN"))).
    st.decimals().filter(lambda d: not d.is_snan()),
    st.sampled_from(["2024-01-01", "2024-01-02 10:00", "1e308", "-1e308", "12", "x"]),
)


def _read_bytes(content: bytes, suffix: str, columns):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"data{suffix}"
        path.write_bytes(content)
        frame = _expect_only_rnnkit_errors(lambda: read_table(path, columns=columns))
    if frame is not None:
        assert isinstance(frame, pd.DataFrame) and len(frame) > 0
        if columns is not None:
            assert list(frame.columns) == list(dict.fromkeys(columns))
    return frame


# ----------------------------------------------------------------- read_table
@FAST
@given(
    content=st.binary(min_size=0, max_size=3000),
    suffix=st.sampled_from([".csv", ".txt", ".csv.gz", ".gz", ".parquet", ".pq", ""]),
    columns=st.sampled_from([None, ["t"], ["t", "v"]]),
)
def test_read_table_on_arbitrary_bytes(content, suffix, columns):
    CASES["read_table bytes"] += 1
    _read_bytes(content, suffix, columns)


@FAST
@given(
    content=csv_bytes(), compress=st.booleans(), columns=st.sampled_from([None, ["t"], ["t", "v"]])
)
def test_read_table_on_malformed_csv(content, compress, columns):
    CASES["read_table csv"] += 1
    if compress:
        _read_bytes(gzip.compress(content), ".csv.gz", columns)
    else:
        _read_bytes(content, ".csv", columns)


@settings(deadline=None, max_examples=60)
@given(values=st.lists(MIXED, min_size=1, max_size=6), cut=st.integers(0, 400))
def test_read_table_on_parquet_with_mixed_types_and_truncation(values, cut):
    CASES["read_table parquet"] += 1
    frame = pd.DataFrame({"t": [str(v) for v in values], "v": range(len(values))})
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    content = buffer.getvalue()
    _read_bytes(content[: len(content) - cut] if cut else content, ".parquet", ["t", "v"])


def test_read_table_on_a_huge_field():
    CASES["read_table huge field"] += 1
    content = b"t,v\n2024-01-01," + b"9" * 5_000_000 + b'\n"' + b"x" * 2_000_000 + b'",1\n'
    frame = _read_bytes(content, ".csv", ["t", "v"])
    assert frame is None or len(frame) == 2


# ----------------------------------------------------------------- aggregate
FREQS = st.sampled_from(["H", "D", "B", "W", "M", "Q", "Y"])
AGGS = st.sampled_from(["sum", "mean", "count", "last", "min", "max"])
FILLS = st.sampled_from(["zero", "interpolate", "ffill"])
NEAR_TIMES = st.datetimes(min_value=dt.datetime(2023, 1, 1), max_value=dt.datetime(2025, 1, 1))


def _check_aggregate(frame, freq, agg, fill):
    prepared = _expect_only_rnnkit_errors(lambda: aggregate(frame, "t", "v", freq, agg, fill))
    if prepared is not None:
        values = prepared.values
        assert isinstance(values.index, pd.DatetimeIndex) and values.index.is_monotonic_increasing
        assert values.dtype == "float64" and not values.isna().any()


@FAST
@given(
    times=st.lists(MIXED, min_size=1, max_size=8),
    values=st.lists(MIXED, min_size=8, max_size=8),
    freq=FREQS,
    agg=AGGS,
    fill=FILLS,
)
def test_aggregate_on_mixed_types(times, values, freq, agg, fill):
    CASES["aggregate mixed"] += 1
    frame = pd.DataFrame(
        {"t": pd.Series(times, dtype=object), "v": pd.Series(values[: len(times)], dtype=object)}
    )
    _check_aggregate(frame, freq, agg, fill)


@FAST
@given(
    times=st.lists(NEAR_TIMES, min_size=1, max_size=30),
    values=st.lists(
        st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=30, max_size=30
    ),
    freq=FREQS,
    agg=AGGS,
    fill=FILLS,
    as_text=st.booleans(),
)
def test_aggregate_on_extreme_values(times, values, freq, agg, fill, as_text):
    CASES["aggregate extreme"] += 1
    frame = pd.DataFrame({"t": times, "v": values[: len(times)]})
    if as_text:  # as read from a CSV: every column is text
        frame = frame.astype(str)
    _check_aggregate(frame, freq, agg, fill)


@settings(deadline=None, max_examples=60)
@given(
    times=st.lists(
        st.datetimes(min_value=dt.datetime(1677, 9, 22), max_value=dt.datetime(2262, 4, 10)),
        min_size=1,
        max_size=3,
    ),
    freq=st.sampled_from(["D", "B", "W", "M", "Q", "Y"]),
    agg=AGGS,
    fill=FILLS,
)
def test_aggregate_at_the_edges_of_the_supported_dates(times, freq, agg, fill):
    CASES["aggregate date edges"] += 1
    # Hourly is left out: ~5 million hourly periods per case would take too long here.
    frame = pd.DataFrame({"t": times, "v": [1.0] * len(times)})
    _check_aggregate(frame, freq, agg, fill)


@settings(deadline=None, max_examples=40)
@given(content=csv_bytes(), freq=FREQS, agg=AGGS, fill=FILLS)
def test_read_then_aggregate_end_to_end(content, freq, agg, fill):
    CASES["read + aggregate"] += 1
    frame = _read_bytes(content, ".csv", ["t", "v"])
    if frame is not None:
        _check_aggregate(frame, freq, agg, fill)


# ----------------------------------------------------------------- text
TEXTS = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.sampled_from("Xx{}$.,0123 9'\u2019`_-\n\tAbc"), max_size=80),
    st.sampled_from(
        [
            "XX/XX/XXXX",
            "{$1,500.00}",
            "\u0130stanbul",
            "\ufb01",
            "\u00df" * 50,
            "\x00\x01",
            "\ud7ff",
            "a" * 100_000,
        ]
    ),
)


@FAST
@given(texts=st.lists(TEXTS, max_size=6), remove_stopwords=st.booleans())
def test_text_cleaning_always_gives_clean_words(texts, remove_stopwords):
    CASES["text cleaning"] += 1
    cleaner = text_prep.TextCleaner(remove_stopwords=remove_stopwords)
    cleaned = _expect_only_rnnkit_errors(lambda: cleaner.clean_all(texts))
    assert cleaned is not None and len(cleaned) == len(texts)
    for text in cleaned:
        assert text == text.strip() and "  " not in text
        assert not any(ch.isdigit() and ch.isascii() for ch in text)
    counts = text_prep.token_counts(cleaned)
    assert counts.shape == (len(texts),)
    length = text_prep.choose_sequence_length(cleaned)
    assert 8 <= length <= 256


@FAST
@given(
    texts=st.lists(TEXTS, min_size=1, max_size=6),
    max_tokens=st.integers(2, 50),
    sequence_length=st.integers(1, 40),
    padding=st.sampled_from(["start", "end"]),
    truncation=st.sampled_from(["start", "end"]),
)
def test_tokenizer_encodes_any_cleaned_text_to_fixed_length(
    texts, max_tokens, sequence_length, padding, truncation
):
    CASES["tokenizer"] += 1
    cleaned = text_prep.TextCleaner().clean_all(texts)
    tokenizer = text_prep.build_tokenizer(cleaned, max_tokens, sequence_length, padding, truncation)
    ids = text_prep.encode(tokenizer, cleaned + ["never seen words"])
    assert ids.shape == (len(cleaned) + 1, sequence_length)
    assert ids.min() >= 0 and ids.max() < max(tokenizer.get_vocab_size(), 2)
    restored = text_prep.tokenizer_from_json(text_prep.tokenizer_to_json(tokenizer))
    np.testing.assert_array_equal(text_prep.encode(restored, cleaned), ids[:-1])
