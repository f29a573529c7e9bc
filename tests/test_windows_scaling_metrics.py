import numpy as np
import pytest

from rnnkit.data.scaling import Scaler, window_statistics
from rnnkit.data.windows import evaluation_origins, make_windows
from rnnkit.forecasting import baselines
from rnnkit.forecasting.metrics import forecast_metrics, mape, mase_scale, smape


def test_windows_targets_stay_inside_their_part():
    values = np.arange(20.0)
    x, y = make_windows(values, lookback=4, steps=3, target_start=10, target_end=15)
    assert y.min() >= 10 and y.max() < 15
    assert x[0].tolist() == [6.0, 7.0, 8.0, 9.0]  # inputs may come from before the part
    assert len(x) == 3


def test_windows_empty_when_part_is_too_short():
    x, y = make_windows(np.arange(10.0), lookback=4, steps=5, target_start=8, target_end=10)
    assert x.shape == (0, 4) and y.shape == (0, 5)


def test_evaluation_origins_tile_the_test_with_whole_horizons():
    assert evaluation_origins(100, 30, 10) == [70, 80, 90]
    assert evaluation_origins(100, 7, 7) == [93]


def test_minmax_scaler_round_trips_and_survives_constant_data():
    scaler = Scaler.fit(np.array([2.0, 4.0, 6.0]), "minmax")
    assert scaler.transform(np.array([2.0, 6.0])).tolist() == [0.0, 1.0]
    assert scaler.inverse_transform(scaler.transform(np.array([9.0]))).tolist() == [9.0]
    assert Scaler.fit(np.array([3.0, 3.0]), "minmax").scale == 1.0
    assert Scaler.from_dict(scaler.to_dict()) == scaler


def test_level_normalisation_makes_windows_scale_free():
    windows = np.array([[1.0, 2.0, 3.0], [100.0, 200.0, 300.0]])
    center, spread = window_statistics(windows, "level", 1e-9)
    normalised = (windows - center) / spread
    np.testing.assert_allclose(normalised[0], normalised[1])


def test_standard_normalisation_handles_flat_windows():
    center, spread = window_statistics(np.zeros((1, 5)), "standard", 1e-3)
    assert np.all(np.isfinite(center)) and spread[0, 0] == pytest.approx(1e-3)


def test_mape_skips_zero_actuals():
    actual = np.array([0.0, 100.0, 200.0])
    predicted = np.array([5.0, 110.0, 180.0])
    assert mape(actual, predicted) == pytest.approx(10.0)
    assert np.isnan(mape(np.zeros(3), np.ones(3)))


def test_smape_counts_a_pair_of_zeros_as_no_error():
    assert smape(np.array([0.0, 100.0]), np.array([0.0, 100.0])) == 0.0
    assert smape(np.array([100.0]), np.array([0.0])) == pytest.approx(200.0)


def test_mase_is_one_for_the_seasonal_naive_of_a_repeating_history():
    history = np.array([1.0, 5.0, 1.0, 5.0, 1.0, 5.0])
    scale = mase_scale(history, season=2)
    assert np.isnan(scale)  # a perfectly seasonal history has no in-sample error
    history = np.array([1.0, 2.0, 4.0, 7.0])
    assert mase_scale(history, season=1) == pytest.approx(2.0)
    metrics = forecast_metrics(np.array([9.0, 11.0]), np.array([7.0, 11.0]), scale=2.0)
    assert metrics["mae"] == 1.0 and metrics["mase"] == 0.5


def test_seasonal_naive_repeats_the_last_season():
    history = np.array([0, 0, 1, 2, 3, 4, 5, 6, 7], dtype=float)
    assert baselines.seasonal_naive(history, 9, season=7).tolist() == [1, 2, 3, 4, 5, 6, 7, 1, 2]
    assert baselines.naive(history, 2).tolist() == [7.0, 7.0]


def test_arima_forecasts_a_trend():
    history = np.arange(60, dtype=float) * 2 + np.random.default_rng(0).normal(0, 0.1, 60)
    order = baselines.select_arima_order(history)
    forecast = baselines.arima(history, 5, order)
    assert forecast.shape == (5,)
    assert forecast[-1] == pytest.approx(128, abs=3)
