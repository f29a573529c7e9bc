"""Covariate columns (`future_columns`, `past_columns`, `agg_columns`): aggregation,
what the network reads, what predicting needs, and the run files."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rnnkit import ConfigError, DataError, Forecaster, forecasting
from rnnkit.cli.main import app
from rnnkit.config import ForecastConfig
from rnnkit.data.covariates import aggregate_columns, future_values
from rnnkit.errors import RunDirectoryError

SETTINGS = dict(
    horizon=7,
    lookback=14,
    test_size=28,
    epochs=30,
    patience=5,
    units=8,
    num_layers=1,
    ensemble_size=1,
    gradient_health=False,
    calendar=False,  # the covariates alone (calendar features have their own tests)
)
PROMO = dict(future_columns=["promo"], past_columns=["temp"], agg_columns={"promo": "max"})
runner = CliRunner()


def promotions(days: int = 300, seed: int = 0) -> pd.DataFrame:
    """Daily sales 30 higher on promotion days (one day in five, at random: no model of
    the sales alone can see them coming), with a temperature beside them."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2023-01-01", periods=days, freq="D")
    promo = (rng.random(days) < 0.2).astype(float)
    temp = 10 + 5 * np.sin(np.arange(days) / 20) + rng.normal(0, 1, days)
    sales = 50 + 30 * promo + rng.normal(0, 1, days)
    return pd.DataFrame({"date": index, "value": sales, "promo": promo, "temp": temp})


def next_week(frame: pd.DataFrame, promo=(1, 0, 0, 1, 0, 0, 0)) -> pd.DataFrame:
    start = frame["date"].iloc[-1] + pd.Timedelta(days=1)
    return pd.DataFrame({"date": pd.date_range(start, periods=7), "promo": list(promo)})


@pytest.fixture(scope="module")
def trained() -> Forecaster:
    return Forecaster(**SETTINGS, **PROMO).fit(promotions(), verbose=0)


# ----------------------------------------------------------------- aggregation
def test_each_column_is_aggregated_per_period_and_filled_as_its_aggregation_says():
    rows = pd.DataFrame(
        {
            "t": ["2024-01-01 08:00", "2024-01-01 18:00", "2024-01-03 09:00"],
            "price": [10.0, 20.0, 40.0],
            "units": [1.0, 2.0, 5.0],
        }
    )
    index = pd.date_range("2024-01-01", periods=3, freq="D")
    table = aggregate_columns(rows, "t", {"price": "mean", "units": "sum"}, "D", index)
    assert table["price"].tolist() == [15.0, 27.5, 40.0]  # mean, then interpolated
    assert table["units"].tolist() == [3.0, 0.0, 5.0]  # sum, then zero


def test_a_covariate_that_is_not_a_number_is_reported_by_line():
    rows = pd.DataFrame({"t": ["2024-01-01", "2024-01-02"], "price": ["10", "ten"]})
    index = pd.date_range("2024-01-01", periods=2, freq="D")
    with pytest.raises(DataError, match="price"):
        aggregate_columns(rows, "t", {"price": "mean"}, "D", index)


def test_future_values_need_every_period_forecast():
    rows = pd.DataFrame({"t": ["2024-01-01", "2024-01-02"], "promo": [1.0, 0.0]})
    dates = pd.date_range("2024-01-01", periods=5, freq="D")
    with pytest.raises(DataError, match=r"no 'promo' for 3 of the 5 periods forecast \(2024-01-03"):
        future_values(rows, "t", {"promo": "max"}, "D", dates)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"future_columns": ["a"], "past_columns": ["a"]}, "named twice"),
        ({"agg_columns": {"b": "mean"}}, "not a future or past column"),
        ({"future_columns": ["p"], "agg_columns": {"p": "avg"}}, "is not one of"),
        ({"past_columns": ["value"]}, "also the time, target or id column"),
        ({"future_columns": ["p"], "strategy": "recursive"}, "need the direct strategy"),
    ],
)
def test_bad_covariate_settings_are_one_clear_config_error(params, message):
    with pytest.raises(ConfigError, match=message):
        ForecastConfig(**params)


def test_covariate_settings_survive_a_json_round_trip():
    config = ForecastConfig(**PROMO)
    saved = json.loads(json.dumps(config.to_dict()))
    assert saved["agg_columns"] == {"promo": "max"}
    assert ForecastConfig.from_dict(saved) == config
    assert config.covariate_aggs == {"promo": "max", "temp": "mean"}


# ----------------------------------------------------------------- the network
@pytest.mark.slow  # two trainings of 30 epochs compared: about 15 s
def test_a_future_driver_lets_the_network_forecast_what_the_sales_alone_cannot(trained):
    plain = Forecaster(**SETTINGS).fit(promotions(), verbose=0)
    assert trained.model_.input_shape == (None, 14 + 7, 4)  # value, flag, promo, temp
    assert trained.metrics_["model"]["mase"] < 0.8 * plain.metrics_["model"]["mase"]
    forecast = trained.predict(future=next_week(promotions()))["forecast"].to_numpy()
    assert forecast[0] - forecast[1] > 15 and forecast[3] - forecast[2] > 15  # the promotions


def test_predict_needs_the_future_columns_for_the_whole_horizon(trained):
    with pytest.raises(DataError, match=r"reads the future columns promo: give their values"):
        trained.predict()
    with pytest.raises(DataError, match="no 'promo' for 2 of the 7 periods"):
        trained.predict(future=next_week(promotions()).iloc[:5])
    with pytest.raises(DataError, match="promo"):
        trained.predict(future=next_week(promotions()).drop(columns="promo"))


@pytest.mark.slow  # a training of 30 epochs: about 15 s
def test_past_columns_are_read_over_the_window_only():
    frame = promotions()
    forecaster = Forecaster(**SETTINGS, past_columns=["temp"]).fit(frame, verbose=0)
    warmer = frame.assign(temp=frame["temp"] + 10)
    assert not np.allclose(forecaster.predict(warmer)["forecast"], forecaster.predict()["forecast"])
    covariates = forecaster.forecast_covariates(
        forecaster.covariates_, pd.date_range("2024-01-01", periods=7), None
    )
    assert covariates.shape == (1, 21, 1) and np.all(covariates[0, 14:] == 0)


def test_a_saved_run_keeps_the_covariates_scaling_and_tail(trained, tmp_path):
    trained.save(tmp_path / "run")
    pre = json.loads((tmp_path / "run" / "preprocessing.json").read_text())
    assert pre["covariates"]["columns"] == ["promo", "temp"]
    assert len(pre["covariates"]["tail"]) == len(pre["tail"]["values"])
    assert not (tmp_path / "run" / "forecast.csv").exists()  # it needs the future promos
    loaded = forecasting.load(tmp_path / "run")
    future = next_week(promotions())
    pd.testing.assert_frame_equal(loaded.predict(future=future), trained.predict(future=future))
    assert loaded.evaluate(promotions())["model"]["mae"] == pytest.approx(
        trained.metrics_["model"]["mae"], rel=1e-6
    )


def test_a_run_whose_covariates_disagree_with_its_config_is_refused(trained, tmp_path):
    trained.save(tmp_path / "run")
    path = tmp_path / "run" / "preprocessing.json"
    pre = json.loads(path.read_text())
    pre["covariates"]["columns"] = ["promo", "rain"]
    path.write_text(json.dumps(pre))
    with pytest.raises(RunDirectoryError, match=r"covariates.columns is \['promo', 'rain'\]"):
        forecasting.load(tmp_path / "run")


def test_covariates_need_a_data_frame():
    series = promotions().set_index("date")["value"]
    with pytest.raises(DataError, match="A Series holds no covariate columns"):
        Forecaster(**SETTINGS, **PROMO).fit(series, verbose=0)
    with pytest.raises(DataError, match="temp"):
        Forecaster(**SETTINGS, **PROMO).fit(promotions().drop(columns="temp"), verbose=0)


# ----------------------------------------------------------------- the CLI
def test_the_cli_trains_with_covariates_and_predicts_with_future_data(tmp_path):
    frame = promotions()
    data, future = tmp_path / "sales.csv", tmp_path / "next_week.csv"
    frame.to_csv(data, index=False)
    next_week(frame).to_csv(future, index=False)
    out = tmp_path / "run"
    args = ["forecast", "train", str(data), "--out", str(out), "--future-columns", "promo"]
    args += ["--past-columns", "temp", "--agg-columns", "promo=max", "--epochs", "3"]
    args += ["--lookback", "14", "--horizon", "7", "--units", "8", "--ensemble-size", "1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "config.json").read_text())["agg_columns"] == {"promo": "max"}
    result = runner.invoke(app, ["forecast", "predict", str(out), "--future-data", str(future)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("date,forecast") and len(lines) == 8
    result = runner.invoke(app, ["forecast", "predict", str(out)])
    assert result.exit_code == 1
    assert "reads the future columns promo" in result.output


def test_bad_agg_columns_on_the_command_line_is_one_clear_error(tmp_path):
    result = runner.invoke(
        app, ["forecast", "train", "x.csv", "--future-columns", "promo", "--agg-columns", "promo"]
    )
    assert result.exit_code != 0
    assert "expected column=agg pairs" in result.output


# ----------------------------------------------------------------- serve
def test_serve_takes_each_period_covariates_and_the_future_columns(trained, tmp_path):
    from fastapi.testclient import TestClient

    from rnnkit.serving import ServeLimits, create_app, load_runs

    trained.save(tmp_path / "sales")
    client = TestClient(create_app(load_runs([str(tmp_path / "sales")]), ServeLimits()))
    frame = promotions().iloc[-20:]
    history = [
        {
            "time": str(r.date.date()),
            "value": r.value,
            "covariates": {"promo": r.promo, "temp": r.temp},
        }
        for r in frame.itertuples()
    ]
    future = next_week(frame)
    points = [
        {"time": str(t.date()), "covariates": {"promo": p}}
        for t, p in zip(future.date, future.promo)
    ]
    answer = client.post("/models/sales/forecast", json={"history": history, "future": points})
    assert answer.status_code == 200, answer.text
    expected = trained.predict(frame, future=future)
    np.testing.assert_allclose(answer.json()["forecast"], expected["forecast"], rtol=1e-5)
    saved = client.post("/models/sales/forecast", json={"future": points}).json()  # saved tail
    np.testing.assert_allclose(
        saved["forecast"], trained.predict(future=future)["forecast"], rtol=1e-5
    )
    errors = {
        "no future": {"history": history},
        "short future": {"history": history, "future": points[:3]},
        "no temp": {
            "history": [{**h, "covariates": {"promo": 0.0}} for h in history],
            "future": points,
        },
        "bad time": {"history": history, "future": [{**points[0], "time": "soon"}, *points[1:]]},
    }
    messages = {
        name: client.post("/models/sales/forecast", json=body) for name, body in errors.items()
    }
    assert all(r.status_code == 422 for r in messages.values())
    assert "needs their values for each of the 7 periods" in messages["no future"].json()["error"]
    assert "future has 3 periods" in messages["short future"].json()["error"]
    assert "history[0].covariates has no 'temp'" in messages["no temp"].json()["error"]
    assert "future[0].time is 'soon'" in messages["bad time"].json()["error"]
