"""`rnnkit demo`, the first command of the README, end to end on the shipped data."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from rnnkit.cli.main import app

CHECK_REPORTS = Path(__file__).parents[1] / "scripts" / "check_reports.py"


# Two real trainings (a forecaster and a text classifier): about two minutes on 2 cores,
# run once for the tests below.
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(app, ["demo", "--out", str(out)])
    return out, result


@pytest.mark.slow
def test_demo_trains_both_jobs_and_writes_complete_runs(demo):
    out, result = demo
    assert result.exit_code == 0, result.output
    for job in ("forecast", "classify"):
        run = out / job
        for name in ("model.keras", "config.json", "metrics.json", "report.html"):
            assert (run / name).is_file(), f"{job}/{name} missing"
        assert f"report: {run / 'report.html'}" in result.output
    forecast_metrics = json.loads((out / "forecast" / "metrics.json").read_text())
    assert {"model", "naive", "seasonal_naive"} <= set(forecast_metrics)
    classify_metrics = json.loads((out / "classify" / "metrics.json").read_text())
    # The shipped narratives have 10 products: the network must do far better than chance.
    assert classify_metrics["model"]["accuracy"] > 0.5
    assert "demo finished in" in result.output


@pytest.mark.slow
def test_demo_forecast_is_tested_on_ordinary_days_from_several_origins(demo):
    out, result = demo
    assert result.exit_code == 0, result.output
    evaluation = json.loads((out / "forecast" / "evaluation.json").read_text())
    assert len(evaluation["origins"]) == 3 and evaluation["test_points"] == 42
    # The shipped rows stop before the sample thins out: complaints on every test day,
    # more than 10 a day on average (the thinned-out tail had 5), and a forecast after
    # the data at that level.
    tested = pd.read_csv(out / "forecast" / "test_predictions.csv")
    assert evaluation["zero_actuals_excluded_from_mape"] == 0
    ahead = pd.read_csv(out / "forecast" / "forecast.csv")
    assert tested["actual"].mean() > 10 and ahead["forecast"].mean() > 10


@pytest.mark.slow
def test_demo_reports_render_in_a_real_browser(demo, tmp_path):
    out, result = demo
    assert result.exit_code == 0, result.output
    shots = tmp_path / "screenshots"
    check = subprocess.run(
        [sys.executable, str(CHECK_REPORTS), str(out), "--screenshots", str(shots)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check.returncode == 3:  # the script's own answer when it finds no Chromium
        pytest.skip(check.stderr.strip())
    assert check.returncode == 0, check.stdout + check.stderr
    assert "2 of 2 reports render cleanly" in check.stdout
    assert {p.name for p in shots.iterdir()} == {"forecast.png", "classify.png"}
