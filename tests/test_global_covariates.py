"""Covariate columns in a global model: each series' own drivers, one network."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rnnkit import DataError, GlobalForecaster, forecasting
from rnnkit.cli.main import app
from rnnkit.errors import RunDirectoryError

COLUMNS = dict(time_column="date", target_column="value", id_column="store")
SETTINGS = dict(
    **COLUMNS,
    horizon=7,
    lookback=14,
    epochs=5,
    patience=5,
    units=8,
    num_layers=1,
    ensemble_size=1,
    gradient_health=False,
    calendar=False,
    combine_with="none",
)
PROMO = dict(future_columns=["promo"], past_columns=["temp"], agg_columns={"promo": "max"})
SIZES = {"s0": 1.0, "s1": 5.0, "s2": 0.5, "short": 2.0}
runner = CliRunner()


def stores(days: int = 200, seed: int = 0) -> pd.DataFrame:
    """Daily sales of four stores of different sizes, each 60 % higher on its own
    promotion days (one in five, at random), with a temperature beside them; they all
    end on the same day, and the store "short" opened 20 days before the end (fewer
    periods than training needs)."""
    rng = np.random.default_rng(seed)
    frames = []
    for key, size in SIZES.items():
        index = pd.date_range("2023-01-01", periods=days, freq="D")
        index = index[-20:] if key == "short" else index
        n = len(index)
        promo = (rng.random(n) < 0.2).astype(float)
        temp = 10 + 5 * np.sin(np.arange(n) / 20) + rng.normal(0, 1, n)
        sales = size * (50 + 30 * promo + rng.normal(0, 1, n))
        frames.append(
            pd.DataFrame(
                {"store": key, "date": index, "value": sales, "promo": promo, "temp": temp}
            )
        )
    return pd.concat(frames).sample(frac=1.0, random_state=0).reset_index(drop=True)


def next_week(rows: pd.DataFrame, promo=(1, 0, 0, 1, 0, 0, 0)) -> pd.DataFrame:
    start = rows["date"].max() + pd.Timedelta(days=1)
    dates = pd.date_range(start, periods=7)
    return pd.concat(
        [pd.DataFrame({"store": key, "date": dates, "promo": list(promo)}) for key in SIZES]
    ).reset_index(drop=True)


@pytest.fixture(scope="module")
def trained() -> GlobalForecaster:
    return GlobalForecaster(**SETTINGS, **PROMO).fit(stores(), verbose=0)


def test_every_series_is_trained_and_forecast_with_its_own_covariates(trained):
    assert trained.model_.input_shape == (None, 14 + 7, 4)  # value, flag, promo, temp
    assert set(trained.covariates_) == set(SIZES)
    assert "short" in trained.padded_  # trained on, padded on the left
    forecast = trained.predict(future=next_week(stores()))
    assert forecast.groupby("store").size().to_dict() == {key: 7 for key in SIZES}
    assert np.isfinite(forecast["forecast"]).all()
    # One standardisation for every series, fit on their training parts.
    assert trained.covariate_scaling_.mean[0] == pytest.approx(0.2, abs=0.05)


@pytest.mark.slow  # two global trainings of 30 epochs compared: about 15 s
def test_a_global_model_forecasts_each_series_promotions_from_its_future_driver():
    rows, week = stores(), next_week(stores())
    longer = {**SETTINGS, "epochs": 30}
    model = GlobalForecaster(**longer, **PROMO).fit(rows, verbose=0)
    plain = GlobalForecaster(**longer).fit(rows, verbose=0)
    assert model.metrics_["model"]["mase"] < 0.5 * plain.metrics_["model"]["mase"]
    forecast = model.predict(future=week).set_index(["store", "date"])["forecast"]
    for key, size in SIZES.items():
        days = forecast.loc[key].to_numpy()
        assert days[0] - days[1] > 15 * size and days[3] - days[2] > 15 * size, key


def test_predict_needs_each_series_future_columns(trained):
    week = next_week(stores())
    with pytest.raises(DataError, match=r"store 's0': This model reads the future columns promo"):
        trained.predict()
    with pytest.raises(DataError, match=r"store 's1': This model reads the future columns promo"):
        trained.predict(future=week[week["store"] != "s1"])
    with pytest.raises(DataError, match=r"store 's2': The future data has no 'promo' for 2 of"):
        trained.predict(future=week.drop(index=week.index[week["store"] == "s2"][-2:]))
    with pytest.raises(DataError, match="no column 'store'"):
        trained.predict(future=week.drop(columns="store"))
    # Only the series asked for need their future rows.
    only = trained.predict(ids=["s1"], future=week[week["store"] == "s1"])
    assert list(only["store"].unique()) == ["s1"]


def test_newer_rows_bring_their_own_covariates(trained):
    rows = stores()
    warmer = rows.assign(temp=rows["temp"] + 10)
    week = next_week(rows)
    assert not np.allclose(
        trained.predict(warmer, future=week)["forecast"],
        trained.predict(future=week)["forecast"],
    )
    with pytest.raises(DataError, match="temp"):
        trained.predict(rows.drop(columns="temp"), future=week)


def test_a_saved_global_run_keeps_each_series_covariates(trained, tmp_path):
    trained.save(tmp_path / "run")
    pre = json.loads((tmp_path / "run" / "preprocessing.json").read_text())
    assert pre["covariates"]["columns"] == ["promo", "temp"]
    assert set(pre["covariates"]["tails"]) == set(pre["tails"]) == set(SIZES)
    for key, rows in pre["covariates"]["tails"].items():
        assert 0 < len(rows) <= len(pre["tails"][key]["values"])
    assert not (tmp_path / "run" / "forecast.csv").exists()  # it needs the future promos
    loaded = forecasting.load(tmp_path / "run")
    week = next_week(stores())
    pd.testing.assert_frame_equal(loaded.predict(future=week), trained.predict(future=week))
    loaded.evaluate(stores())  # "short" is too short to evaluate: left out
    for key in ("s0", "s1", "s2"):
        assert loaded.last_evaluation_["by_series"][key]["model"]["mae"] == pytest.approx(
            trained.metrics_by_series_[key]["model"]["mae"], rel=1e-6
        )
    pre["covariates"]["tails"].pop("s2")
    (tmp_path / "run" / "preprocessing.json").write_text(json.dumps(pre))
    with pytest.raises(RunDirectoryError, match="covariates.tails and tails name different"):
        forecasting.load(tmp_path / "run")


def test_the_cli_trains_a_global_model_with_covariates_and_predicts_with_future_data(tmp_path):
    rows = stores()
    data, future = tmp_path / "sales.csv", tmp_path / "next_week.csv"
    rows.to_csv(data, index=False)
    next_week(rows).to_csv(future, index=False)
    out = tmp_path / "run"
    args = ["forecast", "train", str(data), "--out", str(out), "--time-column", "date"]
    args += ["--target-column", "value", "--id-column", "store", "--future-columns", "promo"]
    args += ["--past-columns", "temp", "--agg-columns", "promo=max", "--epochs", "2"]
    args += ["--lookback", "14", "--horizon", "7", "--units", "8", "--ensemble-size", "1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["forecast", "predict", str(out), "--future-data", str(future)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("store,date,forecast") and len(lines) == 1 + 7 * len(SIZES)
    result = runner.invoke(app, ["forecast", "predict", str(out)])
    assert result.exit_code == 1
    assert "reads the future columns promo" in result.output


def test_serve_forecasts_a_series_of_a_global_run_with_its_future_columns(trained, tmp_path):
    from fastapi.testclient import TestClient

    from rnnkit.serving import ServeLimits, create_app, load_runs

    trained.save(tmp_path / "stores")
    client = TestClient(create_app(load_runs([str(tmp_path / "stores")]), ServeLimits()))
    week = next_week(stores())
    for key in ("s1", "short"):
        ahead = week[week["store"] == key]
        points = [
            {"time": str(t.date()), "covariates": {"promo": p}}
            for t, p in zip(ahead["date"], ahead["promo"])
        ]
        answer = client.post("/models/stores/forecast", json={"id": key, "future": points})
        assert answer.status_code == 200, answer.text
        expected = trained.predict(ids=[key], future=ahead)["forecast"]
        np.testing.assert_allclose(answer.json()["forecast"], expected, rtol=1e-5)
    answer = client.post("/models/stores/forecast", json={"id": "s1"})
    assert answer.status_code == 422 and "future has 0 periods" in answer.text


def test_a_global_run_with_past_columns_only_forecasts_from_its_saved_periods(tmp_path):
    rows = stores()
    model = GlobalForecaster(**{**SETTINGS, "epochs": 2}, past_columns=["temp"]).fit(
        rows, verbose=0
    )
    model.save(tmp_path / "run")
    written = pd.read_csv(tmp_path / "run" / "forecast.csv")
    assert written.groupby("store").size().to_dict() == {key: 7 for key in SIZES}
    loaded = forecasting.load(tmp_path / "run")
    np.testing.assert_allclose(loaded.predict()["forecast"], written["forecast"], rtol=1e-6)


@pytest.mark.parametrize("freq", ["D", "W", "M"])
def test_aggregating_every_series_at_once_equals_one_series_at_a_time(freq):
    from rnnkit.data.covariates import aggregate_columns, aggregate_columns_by_id

    rng = np.random.default_rng(1)
    n = 600
    rows = pd.DataFrame(
        {
            "store": rng.choice(["a", "b", "c"], n),
            "t": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 200 * 24, n), "h"),
            "price": rng.normal(10, 2, n),
            "units": rng.poisson(3, n).astype(float),
        }
    )
    rows.loc[rows.index[::7], "price"] = np.nan  # missing values, skipped
    aggs = {"price": "mean", "units": "sum", "last_price": "last", "rows": "count"}
    rows["last_price"], rows["rows"] = rows["price"], rows["units"]
    rule = {"D": "D", "W": "W-MON", "M": "MS"}[freq]
    indexes = {key: pd.date_range("2024-01-01", "2024-07-20", freq=rule) for key in ("a", "b", "c")}
    together = aggregate_columns_by_id(rows, rows["store"].to_numpy(), "t", aggs, freq, indexes)
    for key, index in indexes.items():
        alone = aggregate_columns(rows[rows["store"] == key], "t", aggs, freq, index)
        pd.testing.assert_frame_equal(together[key], alone)
    empty = rows.assign(price=np.where(rows["store"] == "b", np.nan, rows["price"]))
    with pytest.raises(DataError, match=r"store 'b': Column 'price' has no value"):
        aggregate_columns_by_id(
            empty, rows["store"].to_numpy(), "t", aggs, freq, indexes, id_column="store"
        )
