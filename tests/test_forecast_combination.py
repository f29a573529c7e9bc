"""The network's forecast averaged with a statistical model's, where the validation
origins say the average forecasts better."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import TINY
from fastapi.testclient import TestClient

from rnnkit import ConfigError, Forecaster, GlobalForecaster
from rnnkit.forecasting import combination
from rnnkit.forecasting.baselines import statistical_forecast
from rnnkit.forecasting.metrics import evaluation_verdict
from rnnkit.serving import ServeLimits, create_app, load_runs

# The tests' tiny settings leave the combination out; these put it back, with a network
# too small to beat AutoETS on a smooth series.
COMBINED = {**TINY, "combine_with": "auto_ets", "epochs": 1, "units": 2}


def smooth_series(days: int = 200, level: float = 100.0, seed: int = 0) -> pd.DataFrame:
    """A trend and a weekly cycle with little noise: AutoETS forecasts it almost exactly,
    a two-epoch network does not."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    values = level + 0.5 * t + 10 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.5, days)
    return pd.DataFrame({"date": pd.date_range("2024-01-01", periods=days), "value": values})


def test_validation_origins_are_evenly_spaced_whole_horizons_ending_at_the_last():
    assert combination.validation_origins(100, 150, 7, 20) == [100, 111, 122, 132, 143]
    assert combination.validation_origins(100, 109, 7, 20) == [100, 101, 102]
    assert combination.validation_origins(100, 107, 7, 20) == [100]
    assert combination.validation_origins(100, 106, 7, 20) == []
    # The window before an origin must lie in the data.
    assert combination.validation_origins(0, 30, 7, 20) == [20, 21, 22, 23]


def test_the_mean_is_kept_unless_the_network_alone_is_clearly_better_on_validation():
    actual = np.array([[10.0, 20.0], [30.0, 40.0]])
    network, statistical = actual + 1.0, actual - 3.0  # the mean is off by 1: a tie
    assert combination.choose_weight(network, statistical, actual, np.ones(2))[0] == 0.5
    assert combination.choose_weight(actual + 2, actual - 2, actual, np.ones(2))[0] == 0.5
    # The mean 1 % worse than the network alone is kept; 3 % worse it is not.
    for worse, weight in ((1.01, 0.5), (1.03, 0.0)):
        chosen, errors = combination.choose_weight(
            actual + 1.0, actual + 2 * worse - 1.0, actual, np.ones(2)
        )
        assert errors["0.5"] == pytest.approx(worse * errors["0.0"]) and chosen == weight
    # A statistical model whose forecasts are not numbers is never averaged in.
    nan = np.full_like(actual, np.nan)
    assert combination.choose_weight(actual + 5, nan, actual, np.ones(2))[0] == 0.0


def test_each_row_is_weighed_over_its_own_scale():
    # The large series alone would prefer the network; over their levels the small
    # series' large relative errors decide.
    actual = np.array([[1.0, 1.0], [1000.0, 1000.0]])
    network = np.array([[3.0, 3.0], [1000.0, 1000.0]])
    statistical = np.array([[1.0, 1.0], [1100.0, 1100.0]])
    unscaled = combination.choose_weight(network, statistical, actual, np.ones(2))
    levelled = combination.choose_weight(network, statistical, actual, np.array([1.0, 1000.0]))
    assert (unscaled[0], levelled[0]) == (0.0, 0.5)


def test_a_network_far_off_on_validation_is_averaged_with_autoets_everywhere(tmp_path):
    data = smooth_series()
    f = Forecaster(**COMBINED).fit(data, verbose=0)
    chosen = f.combination_
    assert chosen["combined_with"] == "auto_ets" and f.combination_weight_ == 0.5
    assert chosen["origins"] == len(
        combination.validation_origins(
            f.split_["train"], f.split_["train"] + f.split_["validation"], 7, 14
        )
    )
    assert chosen["errors"]["0.5"] < chosen["errors"]["0.0"]

    # The test part scores the combined forecast as the model and the network alone beside.
    table = f.evaluation_["predictions"]
    assert {"model", "network", "auto_ets"} <= set(f.metrics_) and "network" in table
    assert not np.allclose(table["model"], table["network"])
    assert "the network averaged with AutoETS" in evaluation_verdict(f.evaluation_, 7)

    # predict: the network's forecast averaged with AutoETS fitted on the last periods.
    values = f.series_.to_numpy()
    network = f.forecast_windows(values[None, -14:])
    ets, _ = statistical_forecast("auto_ets", values[-combination.history_periods(7) :], 7, 7)
    forecast = f.predict()["forecast"].to_numpy()
    np.testing.assert_allclose(forecast, np.maximum(0.5 * network[0] + 0.5 * ets, 0), rtol=1e-6)

    # A saved run keeps the choice and enough history to forecast the same.
    f.save(tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "preprocessing.json").read_text())
    assert saved["combination"] == {"combined_with": "auto_ets", "weight": 0.5, "history": 500}
    assert len(saved["tail"]["values"]) == len(values)  # all 200 periods: fewer than 500
    np.testing.assert_allclose(Forecaster.load(tmp_path / "run").predict()["forecast"], forecast)

    # The server forecasts a history as predict() does.
    client = TestClient(create_app(load_runs([str(tmp_path / "run")]), ServeLimits()))
    history = f.series_.iloc[-60:]
    body = {"history": [{"time": str(t.date()), "value": float(v)} for t, v in history.items()]}
    answer = client.post("/models/run/forecast", json=body).json()
    expected = f.predict(pd.DataFrame({"date": history.index, "value": history.to_numpy()}))
    np.testing.assert_allclose(answer["forecast"], expected["forecast"], rtol=1e-5)


def test_combine_with_none_forecasts_with_the_network_alone(tmp_path):
    f = Forecaster(**{**COMBINED, "combine_with": "none"}).fit(smooth_series(), verbose=0)
    assert f.combination_ is None and f.combination_weight_ == 0.0
    assert "network" not in f.metrics_
    values = f.series_.to_numpy()
    np.testing.assert_allclose(
        f.predict()["forecast"], f.forecast_windows(values[None, -14:])[0], rtol=1e-6
    )
    f.save(tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "preprocessing.json").read_text())
    assert saved["combination"] is None and len(saved["tail"]["values"]) == 14


def test_a_run_saved_before_combinations_forecasts_with_the_network_alone(tmp_path):
    f = Forecaster(**COMBINED).fit(smooth_series(), verbose=0)
    f.save(tmp_path / "run")
    path = tmp_path / "run" / "preprocessing.json"
    saved = json.loads(path.read_text())
    del saved["combination"]
    path.write_text(json.dumps(saved))
    loaded = Forecaster.load(tmp_path / "run")
    assert loaded.combination_weight_ == 0.0
    values = loaded.series_.to_numpy()
    np.testing.assert_allclose(
        loaded.predict()["forecast"], loaded.forecast_windows(values[None, -14:])[0], rtol=1e-6
    )


def test_a_damaged_combination_is_refused_naming_the_key(tmp_path):
    f = Forecaster(**COMBINED).fit(smooth_series(), verbose=0)
    f.save(tmp_path / "run")
    path = tmp_path / "run" / "preprocessing.json"
    saved = json.loads(path.read_text())
    saved["combination"]["weight"] = 1.5
    path.write_text(json.dumps(saved))
    with pytest.raises(Exception, match=r"preprocessing.json: combination.weight"):
        Forecaster.load(tmp_path / "run")


def test_an_unknown_statistical_model_is_refused_with_the_choices():
    with pytest.raises(ConfigError, match="combine_with='ets' is not one of auto, none, auto_"):
        Forecaster(combine_with="ets")


def test_auto_averages_one_series_with_autoarima_and_a_panel_with_autoets(tmp_path):
    f = Forecaster(**{**COMBINED, "combine_with": "auto"}).fit(smooth_series(), verbose=0)
    assert f.combination_["combined_with"] == "auto_arima" and f.combination_weight_ == 0.5
    assert "the network averaged with AutoARIMA" in evaluation_verdict(f.evaluation_, 7)
    values = f.series_.to_numpy()
    network = f.forecast_windows(values[None, -14:])[0]
    arima, _ = statistical_forecast("auto_arima", values[-combination.history_periods(7) :], 7, 7)
    forecast = f.predict()["forecast"].to_numpy()
    np.testing.assert_allclose(forecast, np.maximum(0.5 * network + 0.5 * arima, 0), rtol=1e-6)
    report = (f.save(tmp_path / "run") / "report.html").read_text()
    assert "<td>combine_with</td><td>auto \u2192 auto_arima (auto)</td>" in report
    np.testing.assert_allclose(Forecaster.load(tmp_path / "run").predict()["forecast"], forecast)
    assert Forecaster().config.combine_with == "auto"  # the default
    assert GlobalForecaster(id_column="shop").config.combination_model == "auto_ets"


def test_a_global_model_chooses_on_each_series_last_validation_origin_and_statics(tmp_path):
    frames = [
        smooth_series(days=120, level=level, seed=k).assign(shop=f"s{k}", region=region)
        for k, (level, region) in enumerate(((50.0, "n"), (500.0, "s"), (5000.0, "n")))
    ]
    panel = pd.concat(frames)
    settings = {**COMBINED, "ensemble_size": 1, "static_columns": ("region",)}
    g = GlobalForecaster(id_column="shop", **settings).fit(panel, verbose=0)
    assert g.combination_["origins"] == 3 and g.combination_weight_ == 0.5
    assert "network" in g.metrics_ and "network" in g.metrics_by_series_["s0"]
    forecasts = g.predict()
    for key, s in g.series_.items():
        values = s.to_numpy()
        static = g.static_inputs([key])
        network = g.forecast_panel(values[None, -14:], [g.scaling(key, values)], None, static)[0]
        ets, _ = statistical_forecast("auto_ets", values, 7, 7)
        expected = np.maximum(0.5 * network + 0.5 * ets, 0)
        got = forecasts.loc[forecasts["shop"] == key, "forecast"].to_numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-6)
        np.testing.assert_allclose(g.forecast_series(key, values), expected, rtol=1e-6)
    g.save(tmp_path / "run")
    loaded = GlobalForecaster.load(tmp_path / "run")
    np.testing.assert_allclose(loaded.predict()["forecast"], forecasts["forecast"], rtol=1e-6)


def test_a_global_model_above_the_series_limit_keeps_the_network_alone(monkeypatch):
    monkeypatch.setattr(combination, "MAX_SERIES", 2)
    panel = pd.concat(
        smooth_series(days=120, level=50.0 * (k + 1), seed=k).assign(shop=f"s{k}") for k in range(3)
    )
    settings = {**COMBINED, "ensemble_size": 1}
    g = GlobalForecaster(id_column="shop", **settings).fit(panel, verbose=0)
    assert g.combination_ is None and g.combination_weight_ == 0.0
    # The same panel within the limit is averaged (the series are AutoETS's to forecast).
    monkeypatch.setattr(combination, "MAX_SERIES", 3)
    g = GlobalForecaster(id_column="shop", **settings).fit(panel, verbose=0)
    assert g.combination_weight_ == 0.5


def test_the_same_history_is_fitted_once_and_forecast_the_same(monkeypatch):
    fits = []

    def counted(name, history, horizon, season):
        fits.append(len(history))
        return statistical_forecast(name, history, horizon, season)

    monkeypatch.setattr(combination, "statistical_forecast", counted)
    combination._remembered_forecast.cache_clear()
    values = smooth_series()["value"].to_numpy()
    first = combination.statistical_forecasts("auto_ets", values, [150, 200], 7, 7)
    again = combination.statistical_forecasts("auto_ets", values, [150, 200], 7, 7)
    np.testing.assert_array_equal(first, again)
    assert fits == [150, 200]  # the second call fitted nothing
    changed = values.copy()
    changed[-1] += 1.0  # a history that differs in one value is fitted again
    combination.statistical_forecasts("auto_ets", changed, [200], 7, 7)
    assert fits == [150, 200, 200]
    first[0, 0] = -1.0  # the caller's copy: the remembered forecast is unchanged
    assert combination.statistical_forecasts("auto_ets", values, [150], 7, 7)[0, 0] != -1.0
