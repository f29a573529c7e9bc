"""`rnnkit demo`, the first command of the README, end to end on the shipped data."""

import json

import pytest
from typer.testing import CliRunner

from rnnkit.cli.main import app


# Two real trainings (a forecaster and a text classifier): about two minutes on 2 cores.
@pytest.mark.slow
def test_demo_trains_both_jobs_and_writes_complete_runs(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for job in ("forecast", "classify"):
        run = tmp_path / job
        for name in ("model.keras", "config.json", "metrics.json", "report.html"):
            assert (run / name).is_file(), f"{job}/{name} missing"
        assert f"report: {run / 'report.html'}" in result.output
    forecast_metrics = json.loads((tmp_path / "forecast" / "metrics.json").read_text())
    assert {"model", "naive", "seasonal_naive"} <= set(forecast_metrics)
    classify_metrics = json.loads((tmp_path / "classify" / "metrics.json").read_text())
    # The shipped narratives have 10 products: the network must do far better than chance.
    assert classify_metrics["model"]["accuracy"] > 0.5
    assert "demo finished in" in result.output
