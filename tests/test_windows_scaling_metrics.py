import numpy as np
import pytest

from rnnkit.data.scaling import Scaler, window_statistics
from rnnkit.data.windows import evaluation_origins, make_windows
from rnnkit.forecasting import baselines
from rnnkit.forecasting.metrics import forecast_metrics, mape, mase_scale, smape, verdict


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


@pytest.mark.parametrize("name", baselines.STATISTICAL)
def test_statistical_baselines_forecast_a_trend_and_name_the_fitted_model(name):
    history = np.arange(60, dtype=float) * 2 + np.random.default_rng(0).normal(0, 0.1, 60)
    forecast, fitted = baselines.statistical_forecast(name, history, 5, season=1)
    assert forecast.shape == (5,)
    assert forecast[-1] == pytest.approx(128, abs=3)
    assert fitted.startswith(
        {"auto_ets": "ETS(", "auto_theta": "Theta", "auto_arima": "ARIMA("}[name]
    )


def test_a_failed_statistical_fit_falls_back_to_naive_and_says_so():
    forecast, fitted = baselines.statistical_forecast("auto_ets", np.array([3.0]), 4, season=7)
    assert forecast.tolist() == [3.0] * 4
    assert fitted == "naive (the fit failed)"


def test_baselines_are_refit_at_every_origin():
    values = np.r_[np.zeros(40), np.full(20, 10.0)] + np.random.default_rng(0).normal(0, 0.01, 60)
    forecasts, fitted = baselines.forecast_from_origins(values, [30, 50], 3, season=1)
    assert set(forecasts) == set(baselines.BASELINES) and set(fitted) == set(baselines.STATISTICAL)
    for name in baselines.STATISTICAL:
        assert forecasts[name].shape == (2, 3)
        # Refit on the later history, each level moves from about 0 to about 10.
        assert abs(forecasts[name][0]).max() < 1 < 9 < forecasts[name][1].min()


def _scores(**mases: float) -> dict[str, dict[str, float]]:
    return {m: {"mase": v, "mae": 10 * v} for m, v in mases.items()}


BIG_TEST = dict(horizon=7, test_points=28, origins=4)


def test_verdict_names_the_network_and_how_much_lower_its_mase_is():
    sentence = verdict(
        _scores(model=0.82, naive=1.3, seasonal_naive=0.95, auto_arima=1.1), **BIG_TEST
    )
    assert sentence == (
        "The network wins on the test part: MASE 0.82 against 0.95 for seasonal naive, "
        "the best baseline (14% lower)."
    )


def test_verdict_names_the_baseline_that_beats_the_network():
    sentence = verdict(
        _scores(model=1.2, naive=1.3, seasonal_naive=1.5, auto_arima=0.9), **BIG_TEST
    )
    assert sentence.startswith(
        "AutoARIMA beats the network on the test part (MASE 0.90 against 1.20)"
    )
    assert "use AutoARIMA" in sentence and "too small" not in sentence


def test_verdict_calls_errors_within_one_percent_a_tie():
    sentence = verdict(_scores(model=0.952, seasonal_naive=0.95, naive=1.4), **BIG_TEST)
    assert sentence.startswith("The network and seasonal naive, the best baseline, tie")


def test_verdict_falls_back_to_mae_when_mase_is_not_finite():
    metrics = {
        "model": {"mase": float("nan"), "mae": 5.0},
        "naive": {"mase": float("nan"), "mae": 4.0},
        "seasonal_naive": {"mase": float("inf"), "mae": 6.0},
    }
    sentence = verdict(metrics, **BIG_TEST)
    assert sentence.startswith("Naive beats the network on the test part (MAE 4.00 against 5.00)")


def test_verdict_says_a_single_origin_or_a_short_test_is_too_small_to_judge():
    metrics = _scores(model=0.8, seasonal_naive=0.9)
    single = verdict(metrics, horizon=7, test_points=14, origins=1)
    short = verdict(metrics, horizon=7, test_points=7, origins=2)
    assert "too small to judge: 14 points from 1 forecast origin (horizon 7)" in single
    assert "too small to judge: 7 points from 2 forecast origins" in short


def test_verdict_of_many_series_counts_those_the_network_wins():
    by_series = {
        "a": _scores(model=0.5, seasonal_naive=0.9, naive=1.0),
        "b": _scores(model=1.5, seasonal_naive=0.9, naive=1.0),
        "c": _scores(model=0.7, seasonal_naive=0.9, naive=0.6),
    }
    sentence = verdict(_scores(model=0.9, seasonal_naive=0.9), by_series=by_series, **BIG_TEST)
    assert "beats the best baseline on 1 of 3 series" in sentence
