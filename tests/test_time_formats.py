"""A time column read in one date order: mixed formats stop with lines of each and
``--time-format``; day-first dates are read day first in every row."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from rnnkit import DataError, Forecaster
from rnnkit.cli.main import app
from rnnkit.config import ForecastConfig
from rnnkit.data.streaming import aggregate_file
from rnnkit.data.timeseries import aggregate
from rnnkit.errors import ConfigError

runner = CliRunner()


def _frame(times):
    frame = pd.DataFrame({"t": times, "v": ["1"] * len(times)}).astype(object)
    frame.attrs.update(source="data.csv", line_offset=2, line_word="line")
    return frame


def _alternating_csv(path, days=80):
    dates = pd.date_range("2016-01-01", periods=days, freq="D")
    times = [
        d.strftime("%Y-%m-%d") if i % 2 else d.strftime("%d/%m/%Y") for i, d in enumerate(dates)
    ]
    pd.DataFrame({"date": times, "value": range(days)}).to_csv(path, index=False)


def test_a_column_mixing_year_first_and_day_first_dates_is_refused(tmp_path):
    data, out = tmp_path / "mixed.csv", tmp_path / "run"
    _alternating_csv(data)
    result = runner.invoke(
        app,
        ["forecast", "train", str(data), "--lookback", "14", "--horizon", "7", "--out", str(out)],
    )
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1
    assert (
        "column 'date' mixes date formats: '2016-01-02' (year first, line 3) and "
        "'13/01/2016' (day first, line 14)" in lines[0]
    )
    assert "--time-format '%d/%m/%Y'" in lines[0]
    assert not out.exists()


def test_day_first_dates_are_read_day_first_in_every_row():
    prepared = aggregate(_frame(["21/01/2016", "03/02/2016"]), "t", "v", "D", "sum", "zero")
    index = prepared.values.index
    assert (index[0], index[-1]) == (pd.Timestamp("2016-01-21"), pd.Timestamp("2016-02-03"))
    assert prepared.periods_filled == 12


def test_day_first_and_month_first_rows_are_refused():
    with pytest.raises(
        DataError,
        match=r"'21/01/2016' \(day first, line 2\) and '01/13/2016' \(month first, line 3\)",
    ):
        aggregate(_frame(["21/01/2016", "01/13/2016"]), "t", "v", "D", "sum", "zero")


def test_orders_are_compared_across_the_chunks_of_a_file(tmp_path):
    path = tmp_path / "chunks.csv"
    pd.DataFrame({"t": ["2016-01-01", "2016-01-02", "21/01/2016"], "v": [1, 2, 3]}).to_csv(
        path, index=False
    )
    with pytest.raises(
        DataError,
        match=r"'2016-01-01' \(year first, line 2\) and '21/01/2016' \(day first, line 4\)",
    ):
        aggregate_file(path, "t", "v", "D", "sum", "zero", chunk_rows=2)


def test_time_format_settles_the_order_and_reports_rows_in_another():
    frame = _frame(["01/02/2016", "03/02/2016"])
    prepared = aggregate(frame, "t", "v", "D", "sum", "zero", time_format="%d/%m/%Y")
    assert prepared.values.index[-1] == pd.Timestamp("2016-02-03")
    with pytest.raises(
        DataError, match=r"1 values are not dates.*line 3: '2016-02-03'.*--time-format '%d/%m/%Y'"
    ):
        aggregate(
            _frame(["01/02/2016", "2016-02-03"]),
            "t",
            "v",
            "D",
            "sum",
            "zero",
            time_format="%d/%m/%Y",
        )


def test_time_format_is_a_config_field_used_by_the_forecaster():
    assert (
        ForecastConfig.from_dict(ForecastConfig(time_format="%d/%m/%Y").to_dict()).time_format
        == "%d/%m/%Y"
    )
    with pytest.raises(ConfigError, match="time_format must be a strftime format"):
        ForecastConfig(time_format="dd/mm/yyyy")
    forecaster = Forecaster(time_column="t", target_column="v", time_format="%d/%m/%Y")
    assert forecaster.prepare(_frame(["01/02/2016", "03/02/2016"])).values.index[-1].day == 3


def test_a_numeric_time_column_is_refused_not_read_as_nanoseconds(tmp_path):
    path = tmp_path / "int-dates.parquet"
    pd.DataFrame({"t": range(1000, 1200), "v": [1.0] * 200}).to_parquet(path)
    forecaster = Forecaster(time_column="t", target_column="v")
    with pytest.raises(
        DataError,
        match=r"column 't' holds numbers \(1000, \.\.\.\), not dates or times.*--time-format",
    ):
        forecaster.prepare(str(path))


def test_a_numeric_time_column_is_read_with_its_time_format():
    frame = pd.DataFrame({"t": [20240130, 20240131], "v": [1.0, 2.0]})
    prepared = aggregate(frame, "t", "v", "D", "sum", "zero", time_format="%Y%m%d")
    assert list(prepared.values.index) == [pd.Timestamp("2024-01-30"), pd.Timestamp("2024-01-31")]
