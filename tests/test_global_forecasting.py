"""Many series, one model: aggregation per id, GlobalForecaster and `--id-column`."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import SCORED_METHODS, TINY, make_events
from typer.testing import CliRunner

from rnnkit import ConfigError, DataError, Forecaster, GlobalForecaster, forecasting
from rnnkit.cli.main import app
from rnnkit.data.streaming import aggregate_file_by_id, aggregate_frame_by_id
from rnnkit.data.timeseries import aggregate

AGGS = ["sum", "mean", "count", "last", "min", "max"]
COLUMNS = dict(time_column="created_at", target_column="amount", id_column="branch")
# gradient_health off: its background compile is the slowest part of a tiny fit.
SETTINGS = {**TINY, **COLUMNS, "gradient_health": False}
runner = CliRunner()


def make_panel(sizes=(1.0, 10.0, 0.5), days=100) -> pd.DataFrame:
    """Events of several branches: the same shape at different sizes, unsorted, and the
    last branch starting 20 days late."""
    frames = []
    for i, size in enumerate(sizes):
        start = "2024-01-01" if i < len(sizes) - 1 else "2024-01-21"
        events = make_events(days=days if i < len(sizes) - 1 else days - 20, seed=i, start=start)
        events["amount"] *= size
        events["branch"] = f"b{i}"
        frames.append(events)
    return pd.concat(frames).sample(frac=1.0, random_state=0).reset_index(drop=True)


@pytest.fixture(scope="module")
def panel_rows() -> pd.DataFrame:
    return make_panel()


@pytest.fixture(scope="module")
def trained(panel_rows) -> GlobalForecaster:
    return GlobalForecaster(**SETTINGS).fit(panel_rows, verbose=0)


# ----------------------------------------------------------------------- aggregation
@pytest.mark.parametrize("agg", AGGS)
@pytest.mark.parametrize("chunk_rows", [61, 100_000])  # 61: chunks end inside series
def test_aggregation_by_id_equals_aggregating_each_series_alone(tmp_path, agg, chunk_rows):
    rows = make_panel()
    rows.loc[rows.index[::17], "amount"] = np.nan  # missing targets, counted per series
    path = tmp_path / "panel.csv"
    rows.to_csv(path, index=False)
    for fill in ["zero", "interpolate"]:
        panel = aggregate_file_by_id(
            path, "branch", "created_at", "amount", "D", agg, fill, chunk_rows=chunk_rows
        )
        assert list(panel.series) == ["b0", "b1", "b2"]
        for key, got in panel.series.items():
            alone = aggregate(rows[rows["branch"] == key], "created_at", "amount", "D", agg, fill)
            expected = alone.values
            values = got.values.loc[expected.index]
            np.testing.assert_allclose(values.to_numpy(), expected.to_numpy(), rtol=1e-12)
            assert got.rows_used == alone.rows_used
            assert got.rows_missing_target == alone.rows_missing_target
        in_memory = aggregate_frame_by_id(rows, "branch", "created_at", "amount", "D", agg, fill)
        for key in panel.series:
            pd.testing.assert_series_equal(
                in_memory.series[key].values, panel.series[key].values, rtol=1e-12
            )


def test_zero_filled_series_run_to_the_end_of_the_file_others_to_their_own_end():
    rows = pd.DataFrame(
        {
            "branch": ["a", "a", "b", "b"],
            "created_at": ["2024-01-01", "2024-01-10", "2024-01-03", "2024-01-05"],
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    )
    zero = aggregate_frame_by_id(rows, "branch", "created_at", "amount", "D", "sum", "zero")
    assert str(zero.series["b"].values.index[0].date()) == "2024-01-03"
    assert str(zero.series["b"].values.index[-1].date()) == "2024-01-10"  # zeros after its end
    assert zero.series["b"].values.iloc[-5:].tolist() == [0.0] * 5
    mean = aggregate_frame_by_id(rows, "branch", "created_at", "amount", "D", "mean", "ffill")
    assert str(mean.series["b"].values.index[-1].date()) == "2024-01-05"


def test_a_row_without_an_id_is_reported_with_its_line(tmp_path):
    rows = make_panel(days=60)
    rows.loc[41, "branch"] = " "
    path = tmp_path / "panel.csv"
    rows.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"column 'branch': 1 rows have no id \(line 43"):
        aggregate_file_by_id(path, "branch", "created_at", "amount", "D", "sum", "zero", 10)


def test_a_series_without_any_value_is_listed_not_made():
    rows = make_panel(days=60)
    rows.loc[rows["branch"] == "b1", "amount"] = np.nan
    panel = aggregate_frame_by_id(rows, "branch", "created_at", "amount", "D", "sum", "zero")
    assert list(panel.series) == ["b0", "b2"]
    assert panel.ids_without_values == ("b1",)


# ----------------------------------------------------------------------- the estimator
def test_id_column_needs_the_global_forecaster_and_back():
    with pytest.raises(ConfigError, match="GlobalForecaster"):
        Forecaster(**COLUMNS)
    with pytest.raises(ConfigError, match="needs id_column"):
        GlobalForecaster(time_column="t", target_column="v")
    with pytest.raises(ConfigError, match="column of its own"):
        GlobalForecaster(time_column="t", target_column="v", id_column="t")


def test_the_default_loss_is_mae_with_a_base_else_huber_for_many_series_mse_for_one():
    assert GlobalForecaster(**SETTINGS)._loss() == "mae"
    assert Forecaster(time_column="t", target_column="v")._loss() == "mae"
    assert GlobalForecaster(**SETTINGS, base="none")._loss() == "huber"
    assert Forecaster(time_column="t", target_column="v", base="none")._loss() == "mse"
    assert GlobalForecaster(**SETTINGS, loss="mse")._loss() == "mse"


def test_every_series_is_scored_and_the_overall_metrics_pool_them(trained):
    by_series = trained.metrics_by_series_
    assert list(by_series) == ["b0", "b1", "b2"]
    table = trained.evaluation_["predictions"]
    assert len(table) == 3 * 7  # test_size defaults to the horizon
    for method in ("model", "naive", "seasonal_naive", "auto_ets", "auto_theta", "auto_arima"):
        overall = trained.metrics_[method]
        pooled_mae = float(np.mean(np.abs(table["actual"] - table[method])))
        assert overall["mae"] == pytest.approx(pooled_mae)
        mases = [by_series[key][method]["mase"] for key in by_series]
        assert overall["mase"] == pytest.approx(np.mean(mases))
        for key in by_series:
            part = table[table["branch"] == key]
            mae = float(np.mean(np.abs(part["actual"] - part[method])))
            assert by_series[key][method]["mae"] == pytest.approx(mae)


def test_each_series_is_scaled_on_its_own_training_part(panel_rows):
    """Changing one series' test values (or another series) leaves a scaler unchanged
    (a min-max scaler: the automatic one of a global model is the identity)."""
    settings = {**SETTINGS, "scaler": "minmax"}
    base = GlobalForecaster(**settings)
    base._training_data(panel_rows)
    changed_rows = panel_rows.copy()
    late = pd.to_datetime(changed_rows["created_at"]) >= "2024-04-03"  # b0's last test days
    changed_rows.loc[late & (changed_rows["branch"] == "b0"), "amount"] *= 50
    changed_rows.loc[changed_rows["branch"] == "b1", "amount"] *= 3
    changed = GlobalForecaster(**settings)
    changed._training_data(changed_rows)
    assert changed.scalers_["b0"] == base.scalers_["b0"]
    assert changed.scalers_["b2"] == base.scalers_["b2"]
    assert changed.scalers_["b1"].scale == pytest.approx(3 * base.scalers_["b1"].scale)


def test_a_new_series_is_forecast_on_its_own_scale(trained, panel_rows):
    """Per-series scaling and level normalisation make the forecast scale with the
    series: a new branch 1000 times larger gets a forecast 1000 times larger."""
    small = panel_rows[panel_rows["branch"] == "b0"].assign(branch="new")
    large = small.assign(amount=small["amount"] * 1000)
    forecast_small = trained.predict(small)["forecast"].to_numpy()
    forecast_large = trained.predict(large)["forecast"].to_numpy()
    np.testing.assert_allclose(forecast_large, 1000 * forecast_small, rtol=1e-4)


def test_predict_gives_the_horizon_of_every_series_or_the_named_ones(trained):
    forecast = trained.predict()
    assert list(forecast.columns) == ["branch", "created_at", "forecast", "q0.1", "q0.5", "q0.9"]
    assert forecast.groupby("branch").size().to_dict() == {"b0": 7, "b1": 7, "b2": 7}
    assert np.isfinite(forecast["forecast"]).all()
    only = trained.predict(ids=["b1"])
    pd.testing.assert_frame_equal(only, forecast[forecast["branch"] == "b1"].reset_index(drop=True))
    with pytest.raises(DataError, match="no series with branch 'b9'"):
        trained.predict(ids=["b9"])


def test_one_calibration_gives_intervals_in_each_series_units(trained, tmp_path):
    # b1 is b0's shape at ten times the size: its interval is about ten times as wide.
    forecast = trained.predict().set_index("branch")
    width = (forecast["q0.9"] - forecast["q0.1"]).groupby(level=0).mean()
    assert np.all(np.diff(forecast[["q0.1", "q0.5", "q0.9"]].to_numpy(), axis=1) >= 0)
    assert 3 < width["b1"] / width["b0"] < 30
    table = trained.evaluation_["predictions"]
    assert {"q0.1", "q0.5", "q0.9"} <= set(table.columns)
    pooled = np.mean((table["actual"] >= table["q0.1"]) & (table["actual"] <= table["q0.9"]))
    assert trained.metrics_["model"]["coverage_80"] == pytest.approx(pooled)
    for key in ("b0", "b1", "b2"):
        assert "pinball_mean" in trained.metrics_by_series_[key]["seasonal_naive"]
    trained.save(tmp_path / "run")
    assert "Prediction intervals (test)" in (tmp_path / "run" / "report.html").read_text()


def test_a_short_series_is_padded_trained_scored_and_forecast(panel_rows):
    short = make_events(days=20, seed=5, start="2024-03-20").assign(branch="short")
    model = GlobalForecaster(**SETTINGS).fit(pd.concat([panel_rows, short]), verbose=0)
    assert model.padded_["short"] > 0 and not model.skipped_
    assert "short" in model.metrics_by_series_
    assert set(model.predict()["branch"]) == {"b0", "b1", "b2", "short"}


def test_a_series_with_nothing_before_its_test_part_is_skipped():
    days = TINY["horizon"]
    rows = pd.concat([make_events(days=days, seed=i).assign(branch=f"b{i}") for i in range(2)])
    with pytest.raises(DataError, match=r"No series is long enough .*branch 'b0': 7 periods: not"):
        GlobalForecaster(**SETTINGS).fit(rows, verbose=0)


def test_save_and_load_give_the_same_forecasts(trained, tmp_path, panel_rows):
    trained.save(tmp_path / "run")
    loaded = forecasting.load(tmp_path / "run")  # a global run loads as a GlobalForecaster
    assert isinstance(loaded, GlobalForecaster)
    pd.testing.assert_frame_equal(loaded.predict(), trained.predict())
    # The automatic scaling is written resolved: windows over their level, unscaled.
    pre = json.loads((tmp_path / "run" / "preprocessing.json").read_text())
    assert pre["window_norm"] == "level"
    assert {s["kind"] for s in pre["scalers"].values()} == {"none"}
    by_series = pd.read_csv(tmp_path / "run" / "metrics_by_series.csv")
    assert set(by_series["branch"]) == {"b0", "b1", "b2"}
    report = (tmp_path / "run" / "report.html").read_text()
    assert "MASE per series" in report and (tmp_path / "run" / "errors_by_step.png").is_file()
    assert '<h2>Error by forecast step (test)</h2>\n<img alt="error by forecast step"' in report
    evaluated = loaded.evaluate(panel_rows)
    assert evaluated["model"]["mase"] == pytest.approx(trained.metrics_["model"]["mase"])


def test_report_opens_with_the_verdict_and_the_series_the_network_wins(trained, tmp_path):
    from rnnkit.forecasting.metrics import beats_best_baseline

    trained.save(tmp_path / "run")
    report = (tmp_path / "run" / "report.html").read_text()
    wins = sum(beats_best_baseline(m) for m in trained.metrics_by_series_.values())
    counted = f"the network beats the best baseline on {wins} of 3 series."
    assert "on the test part" in report and counted in report
    assert report.index(counted) < report.index("<table")
    # Each series holds out 15% of its days for validation: 15 of 100, 12 of b2's 80.
    assert "<td>validation_size</td><td>None \u2192 12 to 15 per series (auto)</td>" in report
    assert "<td>window_norm</td><td>auto \u2192 level (auto)</td>" in report


def test_a_global_run_is_not_loaded_as_a_forecaster_of_one_series(trained, tmp_path):
    trained.save(tmp_path / "run")
    with pytest.raises(ConfigError, match="run of many series .* load it with GlobalForecaster"):
        Forecaster.load(tmp_path / "run")


def test_a_run_of_one_series_is_not_loaded_as_a_global_model(tmp_path, trained_forecaster):
    trained_forecaster.save(tmp_path / "single")
    with pytest.raises(ConfigError, match="run of one series .* load it with Forecaster"):
        GlobalForecaster.load(tmp_path / "single")


@pytest.mark.slow  # a heavy training; covered by make test-slow
def test_backtest_refits_on_every_series(panel_rows):
    from rnnkit.forecasting.backtesting import backtest

    result = backtest(panel_rows, 2, **{**SETTINGS, "epochs": 1})
    assert [f["test_end"] for f in result["folds"]] == [
        "2024-04-02 00:00:00",
        "2024-04-09 00:00:00",
    ]
    assert set(result["mean"]) == SCORED_METHODS


# ----------------------------------------------------------------------- CLI
FLAGS = [
    "--time-column", "created_at", "--target-column", "amount", "--id-column", "branch",
    "--lookback", "14", "--horizon", "7", "--num-layers", "1", "--units", "8", "--epochs", "2",
]  # fmt: skip


@pytest.mark.slow  # a heavy training; covered by make test-slow
def test_cli_trains_predicts_and_evaluates_every_series(tmp_path):
    data = tmp_path / "panel.csv"
    make_panel().to_csv(data, index=False)
    out = tmp_path / "run"
    trained = runner.invoke(app, ["forecast", "train", str(data), *FLAGS, "--out", str(out)])
    assert trained.exit_code == 0, trained.output
    assert "beats seasonal naive (MASE) on" in trained.output
    # The network's name, or "the network averaged with AutoETS" where its validation
    # origins chose that (the CLI's default --combine-with).
    assert re.search(
        r"the network( averaged with AutoETS)? beats the best baseline on \d of 3 series",
        trained.stdout.splitlines()[-2],
    )
    assert "3 series (branch)" in trained.stderr
    predicted = runner.invoke(app, ["forecast", "predict", str(out), "--id", "b2", "--id", "b0"])
    assert predicted.exit_code == 0, predicted.output
    lines = predicted.stdout.strip().splitlines()
    assert lines[0] == "branch,created_at,forecast,q0.1,q0.5,q0.9"
    assert [line.split(",")[0] for line in lines[1:]] == ["b2"] * 7 + ["b0"] * 7
    evaluated = runner.invoke(app, ["forecast", "evaluate", str(out), "--data", str(data)])
    assert evaluated.exit_code == 0, evaluated.output
    assert re.search(r"^model\s", evaluated.stdout, re.M)


def test_cli_id_without_id_column_is_refused(tmp_path):
    data = tmp_path / "events.csv"
    make_events().to_csv(data, index=False)
    out = tmp_path / "run"
    flags = [f for f in FLAGS if f not in ("--id-column", "branch")]
    result = runner.invoke(
        app, ["forecast", "train", str(data), *flags, "--id", "b0", "--out", str(out)]
    )
    assert result.exit_code == 1
    assert "--id names series of a global model: give --id-column too" in result.stderr
    assert not out.exists()


def test_cli_missing_id_column_names_the_closest(tmp_path):
    data = tmp_path / "panel.csv"
    make_panel().rename(columns={"branch": "branches"}).to_csv(data, index=False)
    out = tmp_path / "run"
    result = runner.invoke(app, ["forecast", "train", str(data), *FLAGS, "--out", str(out)])
    assert result.exit_code == 1
    assert "branch" in result.stderr and "branches" in result.stderr
    assert not out.exists()


# ----------------------------------------------------------------------- serving
def test_serving_a_global_run_forecasts_the_named_series(trained, tmp_path):
    from fastapi.testclient import TestClient

    from rnnkit.serving import create_app, load_runs

    trained.save(tmp_path / "branches")
    client = TestClient(create_app(load_runs([str(tmp_path / "branches")])))
    listed = client.get("/models").json()["models"][0]
    assert listed["series"] == 3
    expected = trained.predict(ids=["b1"])
    response = client.post("/models/branches/forecast", json={"id": "b1"})
    assert response.status_code == 200, response.text
    np.testing.assert_allclose(response.json()["forecast"], expected["forecast"], rtol=1e-5)
    assert response.json()["dates"][0] == expected["created_at"][0].isoformat()
    for name in ("q0.1", "q0.5", "q0.9"):
        np.testing.assert_allclose(response.json()["quantiles"][name], expected[name], rtol=1e-5)

    missing = client.post("/models/branches/forecast")
    assert missing.status_code == 422 and "id is required" in missing.json()["error"]
    unknown = client.post("/models/branches/forecast", json={"id": "b9"})
    assert unknown.status_code == 404 and "no series with branch 'b9'" in unknown.json()["error"]
    # A series the model has not seen, with its history: scaled on that history.
    tail = trained.series_["b0"].iloc[-20:]
    history = [{"time": str(t.date()), "value": float(v) * 1000} for t, v in tail.items()]
    new = client.post("/models/branches/forecast", json={"id": "new", "history": history})
    assert new.status_code == 200, new.text
    direct = trained.forecast_series("new", tail.to_numpy() * 1000)
    np.testing.assert_allclose(new.json()["forecast"], direct, rtol=1e-5)


@pytest.mark.slow  # a heavy training; covered by make test-slow
def test_cli_backtest_with_an_id_column_prints_every_fold(tmp_path):
    data = tmp_path / "panel.csv"
    make_panel().to_csv(data, index=False)
    out = tmp_path / "backtest"
    result = runner.invoke(
        app, ["forecast", "backtest", str(data), *FLAGS, "--folds", "2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "fold 1:" in result.stdout and "fold 2:" in result.stdout
    assert "mean over 2 folds" in result.stdout
    # Every series' forecasts of both folds, and the plot of the first series.
    predictions = pd.read_csv(out / "predictions.csv")
    assert predictions.groupby("fold")["branch"].nunique().tolist() == [3, 3]
    assert (out / "backtest.png").stat().st_size > 0


def test_a_numpy_array_is_refused_with_what_to_pass_instead():
    with pytest.raises(DataError, match=r"reads a DataFrame of rows .* not ndarray: wrap"):
        GlobalForecaster(**SETTINGS).fit(np.zeros((10, 3)))


def test_predict_a_shorter_horizon_gives_each_series_first_periods(trained):
    full = trained.predict()
    short = trained.predict(horizon=1)
    first = full.groupby(trained.config.id_column, sort=False).head(1).reset_index(drop=True)
    pd.testing.assert_frame_equal(short, first)


def test_scoring_counts_each_series_done_for_a_progress_display(trained, panel_rows):
    from rnnkit.core.progress import listening

    counts = []
    with listening(lambda done, total, unit: counts.append((done, total, unit))):
        trained.evaluate(panel_rows)
    assert counts == [(done, 3, "series") for done in range(4)]
    trained.evaluate(panel_rows)  # nobody listening: nothing is reported
    assert len(counts) == 4


def test_the_base_is_chosen_on_every_series_alike_not_on_the_largest():
    """Three small weekly series (seasonal naive forecasts them) and one series a million
    times larger that only drifts (naive forecasts it): errors compared in each window's
    own units choose a seasonal base; compared in the data's units, the large series
    alone would choose naive."""
    rng = np.random.default_rng(0)
    days = pd.date_range("2024-01-01", periods=120, freq="D")
    weekly = 10 + 5 * np.sin(2 * np.pi * np.arange(120) / 7)
    frames = [
        pd.DataFrame({"created_at": days, "amount": weekly + rng.normal(0, 0.1, 120)}).assign(
            branch=f"small{i}"
        )
        for i in range(3)
    ]
    drift = 1e6 + np.cumsum(rng.normal(0, 1e4, 120))
    frames.append(pd.DataFrame({"created_at": days, "amount": drift}).assign(branch="large"))
    forecaster = GlobalForecaster(**{**SETTINGS, "agg": "mean"})
    forecaster._training_data(pd.concat(frames))
    assert forecaster.base_ in ("seasonal_naive", "seasonal_mean")
