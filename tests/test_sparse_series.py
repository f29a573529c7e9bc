"""A series most of whose periods had no rows stops, naming the likely cause, unless
``--allow-sparse``."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from rnnkit import DataError, Forecaster
from rnnkit.cli.main import app

runner = CliRunner()


def _daily(days=60, last=None):
    times = list(pd.date_range("2016-01-01", periods=days, freq="D").strftime("%Y-%m-%d"))
    if last is not None:
        times[-1] = last
    return pd.DataFrame({"date": times, "value": [5.0] * days})


def test_hourly_periods_on_daily_rows_stop_and_suggest_the_daily_freq(tmp_path):
    data, out = tmp_path / "daily.csv", tmp_path / "run"
    _daily().to_csv(data, index=False)
    result = runner.invoke(app, ["forecast", "train", str(data), "--freq", "H", "--out", str(out)])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1
    assert "1,357 of the series' 1,417 periods (96%) had no rows and were filled" in lines[0]
    assert (
        "rows come about every 1 day, so --freq H is likely finer than the data: try --freq D"
        in lines[0]
    )
    assert "--allow-sparse" in lines[0]
    assert not out.exists()


def test_a_mistyped_year_stops_naming_the_jump():
    forecaster = Forecaster(time_column="date", target_column="value")
    with pytest.raises(
        DataError,
        match=r"the rows jump from 2016-02-28 to 2106-03-01 \(32,872 empty periods between\), a mistyped date",
    ):
        forecaster.prepare(_daily(last="2106-03-01"))


def test_allow_sparse_warns_and_goes_on():
    forecaster = Forecaster(time_column="date", target_column="value", allow_sparse=True)
    with pytest.warns(UserWarning, match=r"\(100%\) had no rows.*Training on it anyway"):
        prepared = forecaster.prepare(_daily(last="2106-03-01"))
    assert prepared.periods_filled == 32_872


def test_a_few_filled_periods_pass_silently():
    frame = _daily().drop(index=[10, 11, 40])
    assert Forecaster(time_column="date", target_column="value").prepare(frame).periods_filled == 3
