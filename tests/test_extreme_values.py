"""Values too large for the arithmetic of a run are refused, never written as null
metrics with exit code 0."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import TINY, make_events
from typer.testing import CliRunner

from rnnkit import Forecaster
from rnnkit.cli.main import app
from rnnkit.data.timeseries import aggregate
from rnnkit.errors import DataError, TrainingError

runner = CliRunner()


def test_values_beyond_1e150_are_refused_before_training(tmp_path):
    data, out = tmp_path / "big.csv", tmp_path / "run"
    dates = pd.date_range("2024-01-01", periods=90, freq="D").strftime("%Y-%m-%d")
    pd.DataFrame({"date": dates, "value": np.linspace(1e307, 9e307, 90)}).to_csv(data, index=False)
    result = runner.invoke(
        app,
        ["forecast", "train", str(data), "--lookback", "14", "--horizon", "7", "--units", "8",
         "--num-layers", "1", "--epochs", "1", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1
    assert "Column 'value' has 90 periods beyond ±1e+150 after aggregation (2024-01-01" in lines[0]
    assert "Rescale the column" in lines[0]
    assert not out.exists()


def test_a_period_whose_sum_overflows_is_refused():
    rows = pd.DataFrame({"t": ["2024-01-01", "2024-01-01", "2024-01-02"], "v": [1.5e308] * 3})
    with pytest.raises(DataError, match=r"has 2 periods beyond .*2024-01-01 00:00:00: inf"):
        aggregate(rows, "t", "v", "D", "sum", "zero")


def test_non_finite_model_errors_stop_the_fit(monkeypatch):
    forecaster = Forecaster(time_column="created_at", target_column="amount", **TINY)
    # Forecasts that overflowed, as 1e308 values gave before they were refused.
    monkeypatch.setattr(
        Forecaster, "forecast_windows", lambda self, w, starts=None: np.full((len(w), 7), np.inf)
    )
    with pytest.raises(TrainingError, match=r"test errors are not finite numbers \(mae inf"):
        forecaster.fit(make_events(), verbose=0)
