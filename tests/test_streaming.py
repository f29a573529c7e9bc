import numpy as np
import pandas as pd
import pytest

from rnnkit import DataError
from rnnkit.data.reading import read_table
from rnnkit.data.streaming import aggregate_file
from rnnkit.data.timeseries import aggregate

AGGS = ["sum", "mean", "count", "last", "min", "max"]


def _events(path, rows=200, seed=0):
    """Unsorted events with repeated timestamps (across chunks too), gaps and empty amounts."""
    rng = np.random.default_rng(seed)
    # Few distinct times, so that equal timestamps land in different chunks.
    minutes = rng.choice(np.arange(0, 60 * 24 * 40, 90), size=rows)
    minutes[(minutes > 60 * 24 * 10) & (minutes < 60 * 24 * 14)] += 60 * 24 * 5  # a gap
    times = pd.Timestamp("2024-01-01") + pd.to_timedelta(minutes, unit="min")
    amounts = rng.integers(-50, 500, size=rows) / 4
    text = [f"{a:g}" for a in amounts]
    for i in rng.choice(rows, size=rows // 10, replace=False):
        text[i] = ""
    frame = pd.DataFrame({"id": np.arange(rows), "created_at": times, "amount": text})
    frame.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S")
    return path


def _expected(path, agg, fill, freq="D"):
    frame = read_table(path, columns=["created_at", "amount"])
    return aggregate(frame, "created_at", "amount", freq, agg, fill)


@pytest.mark.parametrize("agg", AGGS)
@pytest.mark.parametrize("chunk_rows", [7, 64, 10_000])
def test_aggregate_file_equals_aggregate_of_the_whole_file(tmp_path, agg, chunk_rows):
    path = _events(tmp_path / "events.csv")
    for fill in ["zero", "interpolate", "ffill"]:
        expected = _expected(path, agg, fill)
        got = aggregate_file(path, "created_at", "amount", "D", agg, fill, chunk_rows=chunk_rows)
        pd.testing.assert_series_equal(got.values, expected.values, rtol=1e-12)
        assert got.summary() == expected.summary()


@pytest.mark.parametrize("freq", ["H", "W", "M"])
def test_aggregate_file_equals_aggregate_for_other_frequencies(tmp_path, freq):
    path = _events(tmp_path / "events.csv", seed=1)
    expected = _expected(path, "last", "ffill", freq)
    got = aggregate_file(path, "created_at", "amount", freq, "last", "ffill", chunk_rows=13)
    pd.testing.assert_series_equal(got.values, expected.values)


def test_last_takes_the_later_line_when_times_tie_across_chunks(tmp_path):
    path = tmp_path / "ties.csv"
    path.write_text("t,v\n2024-01-01 10:00,1\n2024-01-01 12:00,2\n2024-01-01 12:00,3\n")
    got = aggregate_file(path, "t", "v", "D", "last", "zero", chunk_rows=2)
    assert got.values.tolist() == [3.0]


def test_bad_value_in_a_later_chunk_reports_its_line_in_the_file(tmp_path):
    path = _events(tmp_path / "events.csv", rows=50)
    lines = path.read_text().splitlines()
    fields = lines[41].split(",")  # line 42 of the file
    lines[41] = ",".join([fields[0], fields[1], "12 EUR"])
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"column 'amount': 1 values .*line 42: '12 EUR'"):
        aggregate_file(path, "created_at", "amount", "D", "sum", "zero", chunk_rows=7)


def test_bad_time_in_a_later_chunk_reports_its_line_in_the_file(tmp_path):
    path = tmp_path / "events.csv"
    rows = [f"2024-01-{day:02d},1" for day in range(1, 21)]
    rows[15] = "yesterday,1"  # line 17 of the file
    path.write_text("t,v\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match=r"column 't': 1 values .*line 17: 'yesterday'"):
        aggregate_file(path, "t", "v", "D", "sum", "zero", chunk_rows=4)


def test_a_chunk_without_values_is_skipped_but_a_file_without_values_is_rejected(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("t,v\n2024-01-01,\n2024-01-02,\n2024-01-03,5\n")
    assert aggregate_file(path, "t", "v", "D", "sum", "zero", chunk_rows=2).values.tolist() == [5.0]
    path.write_text("t,v\n2024-01-01,\n2024-01-02,\n")
    with pytest.raises(DataError, match="every value is missing"):
        aggregate_file(path, "t", "v", "D", "sum", "zero", chunk_rows=1)


def test_aggregate_file_keeps_the_checks_of_read_table(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        aggregate_file(tmp_path / "nope.csv", "t", "v", "D", "sum", "zero")
    path = tmp_path / "header.csv"
    path.write_text("t,v\n")
    with pytest.raises(DataError, match="header but no data rows"):
        aggregate_file(path, "t", "v", "D", "sum", "zero")
    path.write_text("time,amount\n2024-01-01,1\n")
    with pytest.raises(DataError, match="no column 'amonut'. Did you mean 'amount'"):
        aggregate_file(path, "time", "amonut", "D", "sum", "zero")
    path.write_bytes("t,v\n2024-01-01,caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8 text"):
        aggregate_file(path, "t", "v", "D", "sum", "zero")
