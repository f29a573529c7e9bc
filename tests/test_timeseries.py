import numpy as np
import pandas as pd
import pytest

from rnnkit import DataError
from rnnkit.data.reading import read_table
from rnnkit.data.timeseries import aggregate, future_index


def _frame(rows, path=None):
    frame = pd.DataFrame(rows, columns=["t", "v"]).astype(object)
    frame.attrs.update(source=path or "data.csv", line_offset=2, line_word="line")
    return frame


def test_sum_per_day_fills_missing_days_with_zero_and_counts_them():
    frame = _frame([("2024-01-01 10:00", "5"), ("2024-01-01 12:00", "7"), ("2024-01-04", "1")])
    prepared = aggregate(frame, "t", "v", "D", "sum", "zero")
    assert prepared.values.tolist() == [12.0, 0.0, 0.0, 1.0]
    assert prepared.periods_filled == 2
    assert list(prepared.values.index.strftime("%Y-%m-%d")) == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
        "2024-01-04",
    ]


def test_mean_levels_are_interpolated_not_zeroed():
    frame = _frame([("2024-01-01", "10"), ("2024-01-03", "20")])
    prepared = aggregate(frame, "t", "v", "D", "mean", "interpolate")
    assert prepared.values.tolist() == [10.0, 15.0, 20.0]
    assert prepared.periods_filled == 1


def test_rows_are_sorted_and_duplicate_timestamps_aggregated():
    frame = _frame([("2024-01-02", "1"), ("2024-01-01", "2"), ("2024-01-02", "3")])
    assert aggregate(frame, "t", "v", "D", "sum", "zero").values.tolist() == [2.0, 4.0]
    assert aggregate(frame, "t", "v", "D", "last", "ffill").values.tolist() == [2.0, 3.0]
    assert aggregate(frame, "t", "v", "D", "count", "zero").values.tolist() == [1.0, 2.0]


def test_weekly_and_monthly_periods_are_labelled_by_their_start():
    frame = _frame([("2024-01-03", "1"), ("2024-01-09", "2"), ("2024-02-20", "4")])
    weekly = aggregate(frame, "t", "v", "W", "sum", "zero").values
    assert weekly.index[0] == pd.Timestamp("2024-01-01")  # a Monday
    monthly = aggregate(frame, "t", "v", "M", "sum", "zero").values
    assert monthly.tolist() == [3.0, 4.0]
    assert monthly.index[1] == pd.Timestamp("2024-02-01")


def test_missing_targets_are_skipped_and_counted():
    frame = _frame([("2024-01-01", "1"), ("2024-01-02", None), ("2024-01-02", "2")])
    prepared = aggregate(frame, "t", "v", "D", "sum", "zero")
    assert prepared.rows_missing_target == 1
    assert prepared.values.tolist() == [1.0, 2.0]


def test_unparseable_dates_name_the_first_bad_lines():
    frame = _frame([("2024-01-01", "1"), ("yesterday", "2"), ("2024-01-03", "3"), ("??", "1")])
    with pytest.raises(
        DataError, match=r"column 't': 2 values are not dates.*line 3: 'yesterday'.*line 5"
    ):
        aggregate(frame, "t", "v", "D", "sum", "zero")


def test_non_numeric_targets_name_the_first_bad_lines():
    frame = _frame([("2024-01-01", "1"), ("2024-01-02", "n/a"), ("2024-01-03", "3 NGN")])
    with pytest.raises(
        DataError,
        match=r"column 'v': 2 values are not finite numbers \(line 3: 'n/a', line 4: '3 NGN'\)",
    ):
        aggregate(frame, "t", "v", "D", "sum", "zero")


def test_target_all_missing_is_reported(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("t,v\n2024-01-01,\n2024-01-02,\n")
    frame = read_table(path, columns=["t", "v"])
    with pytest.raises(DataError, match="every value is missing"):
        aggregate(frame, "t", "v", "D", "sum", "zero")


def test_empty_time_is_reported_with_line(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("t,v\n2024-01-01,1\n,2\n")
    frame = read_table(path, columns=["t", "v"])
    with pytest.raises(DataError, match=r"1 rows have no time \(line 3"):
        aggregate(frame, "t", "v", "D", "sum", "zero")


def test_timezone_aware_times_become_utc():
    frame = _frame([("2024-01-01T23:30:00+02:00", "1"), ("2024-01-02T01:00:00+00:00", "1")])
    values = aggregate(frame, "t", "v", "D", "sum", "zero").values
    assert values.index[0] == pd.Timestamp("2024-01-01")
    assert values.tolist() == [1.0, 1.0]


def test_future_index_continues_the_frequency():
    index = future_index(pd.Timestamp("2024-01-31"), "D", 2)
    assert list(index) == [pd.Timestamp("2024-02-01"), pd.Timestamp("2024-02-02")]
    business = future_index(pd.Timestamp("2024-01-05"), "B", 1)  # a Friday
    assert business[0] == pd.Timestamp("2024-01-08")
    assert np.all(
        future_index(pd.Timestamp("2024-01-01"), "M", 2)
        == pd.DatetimeIndex(["2024-02-01", "2024-03-01"])
    )


def test_undecodable_bytes_in_the_target_are_reported_not_crashing():
    # Found by hypothesis: b"\x80" made the text conversion raise UnicodeDecodeError.
    frame = _frame([("2024-01-01", "1"), ("2024-01-02", b"\x80")])
    with pytest.raises(DataError, match=r"1 values are not finite numbers \(line 3"):
        aggregate(frame, "t", "v", "D", "sum", "zero")


def test_periods_reaching_beyond_the_dates_pandas_holds_are_one_clear_error():
    # The week of 1677-09-22 starts on a Monday before the earliest nanosecond time.
    frame = _frame([("1677-09-22", "1"), ("2000-01-01", "1")])
    with pytest.raises(
        DataError,
        match=r"column 't': the W periods from 1677-09-22 .* reach "
        r"beyond the dates pandas supports .* or use a finer --freq",
    ):
        aggregate(frame, "t", "v", "W", "sum", "zero")
