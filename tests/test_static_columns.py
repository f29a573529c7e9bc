"""Static columns of a global model: one value per series, embedded or standardised."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import TINY, make_events
from typer.testing import CliRunner

from rnnkit import ConfigError, DataError, GlobalForecaster, forecasting
from rnnkit.cli.main import app
from rnnkit.data.static_covariates import StaticEncoding, static_table

COLUMNS = dict(time_column="created_at", target_column="amount", id_column="branch")
SETTINGS = {**TINY, **COLUMNS, "gradient_health": False}
STATIC = ("region", "size")
runner = CliRunner()


def make_rows(regions=("north", "south", "north"), days=100) -> pd.DataFrame:
    """Events of a few branches, each with its region (text) and size (a number)."""
    frames = []
    for i, region in enumerate(regions):
        events = make_events(days=days, seed=i)
        events["amount"] *= 1 + i
        events["branch"] = f"b{i}"
        events["region"] = region
        events["size"] = str(10 * (i + 1))
        frames.append(events)
    return pd.concat(frames).sample(frac=1.0, random_state=0).reset_index(drop=True)


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return make_rows()


@pytest.fixture(scope="module")
def trained(rows) -> GlobalForecaster:
    return GlobalForecaster(**SETTINGS, static_columns=STATIC).fit(rows, verbose=0)


# ----------------------------------------------------------------------- the table
def test_static_table_holds_one_value_per_series(rows):
    table = static_table([rows], "branch", STATIC, "the data")
    assert table.to_dict("index") == {
        "b0": {"region": "north", "size": "10"},
        "b1": {"region": "south", "size": "20"},
        "b2": {"region": "north", "size": "30"},
    }


def test_static_encoding_embeds_text_and_standardises_numbers(rows):
    encoding = StaticEncoding.fit(static_table([rows], "branch", STATIC, "the data"))
    assert encoding.categories == {"region": ("north", "south")}
    assert list(encoding.numeric) == ["size"]
    assert encoding.vocabulary_sizes == (2,)


def test_static_column_with_two_values_in_one_series_is_an_error(rows):
    bad = rows.copy()
    bad.loc[bad.index[(bad["branch"] == "b1").to_numpy()][:3], "region"] = "east"
    with pytest.raises(
        DataError,
        match=r"Static column 'region' has more than one value in "
        r"series 'b1' \('(south|east)', '(south|east)'\)",
    ):
        GlobalForecaster(**SETTINGS, static_columns=STATIC).fit(bad, verbose=0)


def test_missing_static_column_is_an_error(rows):
    with pytest.raises(DataError, match="has no static column 'region'"):
        GlobalForecaster(**SETTINGS, static_columns=STATIC).fit(
            rows.drop(columns="region"), verbose=0
        )


def test_series_without_a_static_value_is_an_error(rows):
    bad = rows.copy()
    bad.loc[bad["branch"] == "b2", "size"] = np.nan
    with pytest.raises(DataError, match="Series 'b2' has no value in static column 'size'"):
        GlobalForecaster(**SETTINGS, static_columns=STATIC).fit(bad, verbose=0)


def test_static_columns_need_an_id_column():
    with pytest.raises(ConfigError, match="give id_column"):
        GlobalForecaster(**{**SETTINGS, "id_column": None}, static_columns=("region",))


def test_static_column_may_not_be_the_target():
    with pytest.raises(ConfigError, match="Static column 'amount' is also the time, target"):
        GlobalForecaster(**SETTINGS, static_columns=("amount",))


def test_static_columns_need_the_direct_strategy():
    with pytest.raises(ConfigError, match="static_columns need the direct strategy"):
        GlobalForecaster(**SETTINGS, static_columns=STATIC, strategy="recursive")


# ----------------------------------------------------------------------- the model
def test_the_network_embeds_each_categorical_column(trained):
    layer = trained.model_.get_layer("static_1_embedding")
    assert layer.input_dim == 2  # north, south
    # value, then size (standardised), then the region's index
    assert trained.model_.input_shape == (None, TINY["lookback"], 3)


def test_unseen_category_at_predict_time_is_an_error(trained, rows):
    new = rows.copy()
    new.loc[new["branch"] == "b0", "region"] = "east"
    with pytest.raises(
        DataError, match="Series 'b0' has the category 'east' in static column 'region'"
    ):
        trained.predict(new)


def test_predict_needs_the_static_columns_in_new_data(trained, rows):
    with pytest.raises(DataError, match="has no static column 'size'"):
        trained.predict(rows.drop(columns="size"))


def test_new_series_with_a_known_category_is_forecast(trained, rows):
    new = rows[rows["branch"] == "b0"].assign(branch="b9", region="south", size="15")
    forecast = trained.predict(new)
    assert set(forecast["branch"]) == {"b9"} and forecast["forecast"].notna().all()


def test_static_columns_change_the_forecast(trained):
    # The same window read as a north and as a south branch: the embedding is read.
    window = trained.series_["b0"].to_numpy()[-TINY["lookback"] :][None, :]
    scaling = [trained.scaling("b0", trained.series_["b0"].to_numpy())]
    north = trained.forecast_panel(window, scaling, static=trained.static_inputs(["b0"]))
    south = trained.forecast_panel(window, scaling, static=trained.static_inputs(["b1"]))
    assert not np.allclose(north, south)


def test_forecast_panel_without_static_inputs_is_an_error(trained):
    window = trained.series_["b0"].to_numpy()[-TINY["lookback"] :][None, :]
    scaling = [trained.scaling("b0", trained.series_["b0"].to_numpy())]
    with pytest.raises(ConfigError, match="reads the static columns region, size"):
        trained.forecast_panel(window, scaling)


# ----------------------------------------------------------------------- persistence
def test_save_load_gives_identical_forecasts(trained, rows, tmp_path):
    trained.save(tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "preprocessing.json").read_text())
    assert saved["static"]["categories"] == {"region": ["north", "south"]}
    assert saved["static"]["values"]["b1"] == ["south", "20"]
    loaded = forecasting.load(tmp_path / "run")
    pd.testing.assert_frame_equal(loaded.predict(), trained.predict())
    pd.testing.assert_frame_equal(loaded.predict(rows), trained.predict(rows))


def test_run_saved_before_static_columns_still_loads(rows, tmp_path):
    plain = GlobalForecaster(**SETTINGS).fit(rows, verbose=0)
    plain.save(tmp_path / "run")
    # What a run written before static columns existed holds: neither key.
    for name, key in (("config.json", "static_columns"), ("preprocessing.json", "static")):
        path = tmp_path / "run" / name
        data = json.loads(path.read_text())
        data.pop(key)
        path.write_text(json.dumps(data))
    loaded = GlobalForecaster.load(tmp_path / "run")
    assert loaded.config.static_columns == ()
    pd.testing.assert_frame_equal(loaded.predict(), plain.predict())


def test_run_whose_static_columns_disagree_with_its_config_is_refused(trained, tmp_path):
    trained.save(tmp_path / "run")
    path = tmp_path / "run" / "config.json"
    config = json.loads(path.read_text())
    config["static_columns"] = ["region"]
    path.write_text(json.dumps(config))
    with pytest.raises(Exception, match="static.columns is"):
        GlobalForecaster.load(tmp_path / "run")


# ----------------------------------------------------------------------- command line
def test_cli_trains_with_static_columns_from_a_csv(rows, tmp_path):
    data = tmp_path / "branches.csv"
    rows.to_csv(data, index=False)
    out = tmp_path / "run"
    args = ["forecast", "train", str(data), "--time-column", "created_at"]
    args += ["--target-column", "amount", "--id-column", "branch", "--static-columns"]
    args += ["region,size", "--lookback", "14", "--horizon", "7", "--num-layers", "1"]
    args += ["--units", "8", "--epochs", "1", "--no-calendar", "--out", str(out), "--quiet"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "config.json").read_text())["static_columns"] == ["region", "size"]
    saved = json.loads((out / "preprocessing.json").read_text())["static"]
    assert saved["categories"] == {"region": ["north", "south"]}


def test_cli_names_the_series_whose_static_value_changes(rows, tmp_path):
    bad = rows.copy()
    bad.loc[bad.index[(bad["branch"] == "b2").to_numpy()][:1], "size"] = "99"
    data = tmp_path / "branches.csv"
    bad.to_csv(data, index=False)
    args = ["forecast", "train", str(data), "--time-column", "created_at"]
    args += ["--target-column", "amount", "--id-column", "branch", "--static-columns", "size"]
    args += ["--out", str(tmp_path / "run")]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "Static column 'size' has more than one value in series 'b2'" in result.output


# ----------------------------------------------------------------------- learning
@pytest.mark.slow  # 22 s here: ten epochs on eight series
def test_network_learns_what_the_static_category_says():
    # Noisy series that rise or fall by their category only: a week's window hardly
    # tells the two apart, the category does.
    rng = np.random.default_rng(0)
    days, frames = 160, []
    for i in range(8):
        trend = "up" if i % 2 == 0 else "down"
        values = 300 + (0.6 if trend == "up" else -0.6) * np.arange(days)
        frames.append(
            pd.DataFrame(
                {
                    "date": pd.date_range("2024-01-01", periods=days).astype(str),
                    "value": values + rng.normal(0, 6, days),
                    "series": f"s{i}",
                    "trend": trend,
                }
            )
        )
    settings = {**TINY, "lookback": 7, "epochs": 10, "agg": "mean", "quantiles": ()}
    model = GlobalForecaster(
        **settings,
        time_column="date",
        target_column="value",
        id_column="series",
        static_columns=("trend",),
        gradient_health=False,
    ).fit(pd.concat(frames, ignore_index=True), verbose=0)
    keys = list(model.series_)
    windows = np.stack([model.series_[key].to_numpy()[-7:] for key in keys])
    scalings = [model.scaling(key, model.series_[key].to_numpy()) for key in keys]
    # Every series' own last window, forecast as if it rose and as if it fell.
    rising = model.forecast_panel(windows, scalings, static=model.static_inputs(["s0"] * 8))
    falling = model.forecast_panel(windows, scalings, static=model.static_inputs(["s1"] * 8))
    assert np.all((rising - falling).mean(axis=0) > 0)


# ----------------------------------------------------------------------- serving
def test_serve_forecasts_a_trained_series_with_its_saved_static_values(trained, tmp_path):
    from fastapi.testclient import TestClient

    from rnnkit.serving import create_app, load_runs

    trained.save(tmp_path / "stores")
    client = TestClient(create_app(load_runs([str(tmp_path / "stores")])))
    answer = client.post("/models/stores/forecast", json={"id": "b1"})
    assert answer.status_code == 200, answer.text
    expected = trained.predict(ids=["b1"])["forecast"].to_numpy()
    np.testing.assert_allclose(answer.json()["forecast"], expected, rtol=1e-5)
    dates = pd.date_range("2024-03-01", periods=20, freq="D")
    history = [{"time": str(d.date()), "value": 100.0 + i} for i, d in enumerate(dates)]
    new = client.post("/models/stores/forecast", json={"id": "b9", "history": history})
    assert new.status_code == 422
    assert "no static columns (region, size) for series 'b9'" in new.json()["error"]


def test_serve_forecasts_a_new_series_from_its_history_and_static_values(trained, tmp_path):
    from fastapi.testclient import TestClient

    from rnnkit.serving import create_app, load_runs

    trained.save(tmp_path / "stores")
    client = TestClient(create_app(load_runs([str(tmp_path / "stores")])))
    history = trained.series_["b1"].iloc[-20:]
    points = [{"time": str(t.date()), "value": float(v)} for t, v in history.items()]
    body = {"id": "b9", "history": points, "static": {"region": "south", "size": 20}}
    answer = client.post("/models/stores/forecast", json=body)
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["forecast"]) == TINY["horizon"]
    body["static"] = {"region": "east", "size": 20}
    unknown = client.post("/models/stores/forecast", json=body)
    assert unknown.status_code == 422
    assert "the category 'east' in static column 'region'" in unknown.json()["error"]


@pytest.mark.slow  # about 45 s: ARIMA baselines in every fold
def test_backtest_keeps_the_static_columns_in_every_fold(rows):
    from rnnkit.forecasting.backtesting import backtest

    result = backtest(rows, 2, **{**SETTINGS, "epochs": 1}, static_columns=STATIC, refit=False)
    assert len(result["folds"]) == 2
    assert np.isfinite(result["mean"]["model"]["mae"])


def test_true_and_false_are_categories():
    table = pd.DataFrame({"online": [True, False, True]}, index=["a", "b", "c"])
    encoding = StaticEncoding.fit(table)
    assert encoding.categories == {"online": ("False", "True")}
    saved = StaticEncoding.from_dict(encoding.to_dict())
    assert saved.transform(table.astype(str)).tolist() == [[1.0], [0.0], [1.0]]


def test_evaluate_reads_the_static_columns_of_new_data(trained, rows):
    metrics = trained.evaluate(rows)
    assert np.isfinite(metrics["model"]["mae"])


@pytest.mark.slow  # 26-52 s here: the calendar makes every window longer by the horizon
def test_static_columns_work_with_calendar_features(rows, tmp_path):
    settings = {**SETTINGS, "calendar": True, "epochs": 1}
    model = GlobalForecaster(**settings, static_columns=STATIC)
    model.fit(rows, verbose=0).save(tmp_path / "run")
    # value, flag, the calendar features, size, region
    channels = 2 + len(model.feature_names_) + 2
    assert model.model_.input_shape == (None, TINY["lookback"] + TINY["horizon"], channels)
    loaded = GlobalForecaster.load(tmp_path / "run")
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())
