import json

import numpy as np
import pandas as pd
import pytest
from conftest import TINY, make_events

from rnnkit import ConfigError, Forecaster
from rnnkit.config import ForecastConfig
from rnnkit.errors import RunDirectoryError
from rnnkit.forecasting import load as forecasting_load
from rnnkit.forecasting.intervals import (
    calibrate,
    conformal_quantile,
    interval_metrics,
    seasonal_naive_offsets,
)

QUANTILE_COLUMNS = ["q0.1", "q0.5", "q0.9"]


def noisy_sine(days: int = 420, seed: int = 0) -> pd.Series:
    """A weekly sine around 20 with Gaussian noise (sd 1): what no model forecasts
    better than the noise, so an 80 % interval should cover about 80 % of it."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    values = 20 + 3 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 1, days)
    return pd.Series(values, index=pd.date_range("2023-01-01", periods=days, freq="D"))


# ----------------------------------------------------------------- configuration
def test_quantiles_default_to_the_80_percent_interval_and_its_median():
    assert ForecastConfig().quantiles == (0.1, 0.5, 0.9)


def test_quantiles_survive_a_json_round_trip_as_a_tuple():
    config = ForecastConfig(quantiles=(0.05, 0.5, 0.95))
    saved = json.loads(json.dumps(config.to_dict()))
    assert saved == config.to_dict()  # what resuming compares: a list either way
    loaded = ForecastConfig.from_dict(saved)
    assert loaded == config and loaded.quantiles == (0.05, 0.5, 0.95)


@pytest.mark.parametrize(
    ("quantiles", "message"),
    [
        ((0.1, 1.0), r"strictly between 0 and 1, got 1.0 in \[0.1, 1.0\]"),
        ((0.0, 0.5), r"strictly between 0 and 1, got 0.0"),
        ((0.9, 0.1), r"increasing with none repeated, got \[0.9, 0.1\]: give \[0.1, 0.9\]"),
        ((0.1, 0.1), r"increasing with none repeated"),
        ((True,), r"strictly between 0 and 1, got True"),
        ("0.1,0.9", r"must be a list of numbers in \(0, 1\)"),
    ],
)
def test_bad_quantiles_are_one_clear_config_error(quantiles, message):
    with pytest.raises(ConfigError, match=message):
        ForecastConfig(quantiles=quantiles)


def test_bad_quantiles_in_config_json_name_the_key():
    with pytest.raises(ConfigError, match="quantiles must hold numbers strictly between"):
        ForecastConfig.from_dict({"quantiles": [0.5, 2]})


# ----------------------------------------------------------------- calibration
def test_conformal_quantile_takes_the_corrected_order_statistic():
    errors = np.arange(1.0, 20.0)  # 19 errors: (n + 1) q = 18 and 2
    assert conformal_quantile(errors, 0.9) == 18.0
    assert conformal_quantile(errors, 0.1) == 2.0
    assert conformal_quantile(errors, 0.5) == 10.0
    assert conformal_quantile(np.arange(1.0, 5.0), 0.9) == 4.0  # clipped to the largest


def test_calibration_is_per_step_and_ordered():
    rng = np.random.default_rng(0)
    residuals = rng.normal(0, 1, (200, 3)) * np.array([1.0, 2.0, 4.0])
    calibration = calibrate(residuals, (0.1, 0.5, 0.9))
    widths = calibration.offsets[2] - calibration.offsets[0]
    assert not calibration.pooled and calibration.residuals_per_step == 200
    assert np.all(np.diff(calibration.offsets, axis=0) >= 0)
    np.testing.assert_allclose(widths / widths[0], [1.0, 2.0, 4.0], rtol=0.3)


def test_few_residuals_are_pooled_over_steps_growing_with_sqrt_step():
    residuals = np.random.default_rng(1).normal(0, 1, (4, 4))
    calibration = calibrate(residuals, (0.1, 0.9))
    widths = calibration.offsets[1] - calibration.offsets[0]
    assert calibration.pooled
    np.testing.assert_allclose(widths / widths[0], np.sqrt([1.0, 2.0, 3.0, 4.0]))


def test_no_residuals_calibrate_nothing():
    assert calibrate(np.empty((0, 5)), (0.1, 0.9)) is None


def test_seasonal_naive_offsets_of_an_exactly_seasonal_series_are_zero():
    history = np.tile([1.0, 5.0, 2.0], 20)
    np.testing.assert_array_equal(seasonal_naive_offsets(history, 3, 4, (0.1, 0.9)), 0.0)


def test_interval_metrics_count_coverage_and_pinball():
    actual = np.array([[0.0, 10.0]])
    bands = np.array([[[-1.0, -1.0], [1.0, 1.0]]])  # the second actual is outside
    metrics = interval_metrics(actual, bands, (0.1, 0.9))
    assert metrics["coverage_80"] == 0.5 and metrics["width_80"] == 2.0
    # q0.9 at the second point: 0.9 * (10 - 1); the others are inside, errors 1 on the
    # right side (0.1 * 1 and 0.1 * 1), and 0.1 * 11 for q0.1 at the second point.
    assert metrics["pinball_q0.9"] == pytest.approx((0.1 * 1 + 0.9 * 9) / 2)
    assert metrics["pinball_q0.1"] == pytest.approx((0.1 * 1 + 0.1 * 11) / 2)


# ----------------------------------------------------------------- the forecaster
def test_predict_gives_ordered_quantile_columns_beside_the_forecast(trained_forecaster):
    forecast = trained_forecaster.predict()
    assert list(forecast.columns) == ["created_at", "forecast", *QUANTILE_COLUMNS]
    bands = forecast[QUANTILE_COLUMNS].to_numpy()
    assert np.all(np.diff(bands, axis=1) >= 0)
    assert np.all(bands[:, 2] > bands[:, 0])


def test_saved_run_has_interval_columns_and_a_loaded_run_gives_identical_quantiles(
    trained_forecaster, tmp_path
):
    run = trained_forecaster.save(tmp_path / "run")
    loaded = Forecaster.load(run)
    pd.testing.assert_frame_equal(loaded.predict(), trained_forecaster.predict())
    future = pd.read_csv(run / "forecast.csv")
    tested = pd.read_csv(run / "test_predictions.csv")
    assert set(QUANTILE_COLUMNS) <= set(future.columns) & set(tested.columns)
    assert np.all(tested["q0.1"] <= tested["q0.9"])
    intervals = json.loads((run / "preprocessing.json").read_text())["intervals"]
    assert intervals["quantiles"] == [0.1, 0.5, 0.9] and len(intervals["offsets"][0]) == 7
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0 <= metrics["model"]["coverage_80"] <= 1 and metrics["model"]["width_80"] > 0
    assert "coverage_80" in (run / "report.html").read_text()


def test_intervals_with_the_wrong_number_of_steps_are_a_damaged_run(trained_forecaster, tmp_path):
    run = trained_forecaster.save(tmp_path / "run")
    path = run / "preprocessing.json"
    pre = json.loads(path.read_text())
    pre["intervals"]["offsets"] = [row[:3] for row in pre["intervals"]["offsets"]]
    path.write_text(json.dumps(pre))
    with pytest.raises(RunDirectoryError, match="intervals.offsets has 3 steps but the horizon"):
        Forecaster.load(run)


def test_a_run_saved_without_intervals_loads_and_forecasts_without_them(
    trained_forecaster, tmp_path
):
    run = trained_forecaster.save(tmp_path / "run")
    path = run / "preprocessing.json"
    pre = json.loads(path.read_text())
    del pre["intervals"]  # as runs written before intervals existed
    path.write_text(json.dumps(pre))
    loaded = Forecaster.load(run)
    assert list(loaded.predict().columns) == ["created_at", "forecast"]
    np.testing.assert_array_equal(
        loaded.predict()["forecast"], trained_forecaster.predict()["forecast"]
    )


@pytest.mark.parametrize("strategy", ["recursive", "seq2seq"])
def test_every_strategy_is_calibrated_on_whole_horizons(strategy):
    f = Forecaster(time_column="created_at", target_column="amount", strategy=strategy, **TINY).fit(
        make_events(), verbose=0
    )
    assert f.calibration_.offsets.shape == (3, TINY["horizon"])
    assert list(f.predict().columns) == ["created_at", "forecast", *QUANTILE_COLUMNS]


def test_empty_quantiles_turn_intervals_off(tmp_path):
    f = Forecaster(time_column="created_at", target_column="amount", quantiles=(), **TINY)
    f.fit(make_events(), verbose=0)
    assert list(f.predict().columns) == ["created_at", "forecast"]
    assert "coverage_80" not in f.metrics_["model"]
    run = f.save(tmp_path / "run")
    assert json.loads((run / "preprocessing.json").read_text())["intervals"] is None
    assert Forecaster.load(run).quantiles_ == ()


def test_one_validation_window_is_pooled_over_steps():
    settings = {**TINY, "validation_size": 7}  # one whole horizon of 7
    f = Forecaster(time_column="created_at", target_column="amount", **settings)
    f.fit(make_events(), verbose=0)
    assert f.calibration_.residuals_per_step == 1 and f.calibration_.pooled
    assert list(f.predict().columns) == ["created_at", "forecast", *QUANTILE_COLUMNS]


def test_nothing_to_calibrate_on_warns_and_gives_no_intervals(trained_forecaster):
    # Training needs validation windows, so a fit never gets here with none; a global
    # model's or a future strategy's might.
    f = trained_forecaster
    with pytest.warns(UserWarning, match="No prediction intervals: the validation part has 0"):
        assert f._calibrate(np.empty((0, 14)), np.empty((0, 7)), f.epsilon_) is None


@pytest.mark.slow  # a heavy training; covered by make test-slow
def test_80_percent_interval_covers_a_noisy_series_near_its_nominal_share():
    # A long test (20 horizons of 7) and 94 validation windows; iid noise the model
    # cannot forecast, so the coverage is about the calibration, not the network.
    settings = {**TINY, "epochs": 3, "validation_size": 100, "test_size": 140}
    f = Forecaster(**settings).fit(noisy_sine(), verbose=0)
    model = f.metrics_["model"]
    assert f.calibration_.residuals_per_step == 94
    assert 0.5 <= model["coverage_80"] <= 0.98
    assert model["width_80"] > 0


@pytest.mark.slow  # a heavy training; covered by make test-slow
def test_no_forecast_or_bound_goes_below_zero_for_a_series_without_negative_values(tmp_path):
    # Counts near zero: the 80 % interval's lower bound would reach below zero.
    rng = np.random.default_rng(0)
    index = pd.date_range("2023-01-01", periods=200, freq="D")
    counts = pd.Series(rng.poisson(1.0, 200).astype(float), index=index)
    forecaster = Forecaster(**{**TINY, "horizon": 7}).fit(counts, verbose=0)
    assert forecaster.floor_ == 0.0
    future = forecaster.predict()
    assert (future[["forecast", *QUANTILE_COLUMNS]].to_numpy() >= 0).all()
    assert (future["q0.1"] == 0).any()  # floored, not merely positive
    tested = forecaster.evaluation_["predictions"]
    assert (tested[["model", *QUANTILE_COLUMNS]].to_numpy() >= 0).all()
    loaded = forecasting_load(forecaster.save(tmp_path / "run"))
    assert loaded.floor_ == 0.0
    pd.testing.assert_frame_equal(loaded.predict(), future)
    shifted = Forecaster(**{**TINY, "horizon": 7}).fit(counts - 0.5, verbose=0)
    assert shifted.floor_ is None and (shifted.predict()["q0.1"] < -0.5).any()
