"""The forecaster's ensemble of members that correct a simple base forecast."""

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import TINY, make_events

from rnnkit import ConfigError, Forecaster
from rnnkit.config import ForecastConfig, ModelConfig
from rnnkit.core.models import build_ensemble_forecaster, member_lookbacks
from rnnkit.data.scaling import THETA_SMOOTHING, base_forecast
from rnnkit.forecasting.prediction import members_average, predict_batch

ENSEMBLE = {**TINY, "ensemble_size": 3, "base": "auto", "linear": True, "loss": "mae"}


def test_seasonal_naive_base_repeats_the_last_season():
    windows = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
    assert base_forecast(windows, "seasonal_naive", 3, 5).tolist() == [[4, 5, 6, 4, 5]]
    assert base_forecast(windows, "naive", 3, 2).tolist() == [[6, 6]]


def test_seasonal_base_longer_than_the_window_falls_back_to_naive():
    windows = np.array([[1.0, 2.0, 3.0]])
    assert base_forecast(windows, "seasonal_naive", 7, 2).tolist() == [[3, 3]]


def test_seasonal_mean_base_averages_the_last_seasons_at_the_last_level():
    windows = np.array([[0.0, 10.0, 2.0, 8.0, 4.0, 6.0]])  # three seasons of 2, level 5
    # shape: mean of (0, 2, 4) and (10, 8, 6) minus 5 = (-3, 3), at the last level 5
    assert base_forecast(windows, "seasonal_mean", 2, 3).tolist() == [[2.0, 8.0, 2.0]]


def test_member_lookbacks_run_from_the_whole_window_down_to_half():
    assert member_lookbacks(20, 1) == [20]
    assert member_lookbacks(20, 3) == [20, 15, 10]


def test_untrained_ensemble_outputs_zero_corrections_for_every_member():
    model = build_ensemble_forecaster(12, 4, ModelConfig(num_layers=1, units=4), 3, True)
    output = model.predict_on_batch(np.random.default_rng(0).normal(size=(5, 12, 1)))
    assert output.shape == (5, 3, 4)
    assert np.all(output == 0)


def test_the_members_average_drops_the_lowest_and_the_highest_member():
    members = np.array([[[1.0, 0.0], [2.0, 0.0], [4.0, 3.0], [9.0, 6.0], [-50.0, 9.0]]])
    assert members_average(members).tolist() == [[7 / 3, 3.0]]
    # One member astray moves it no further than the others' range.
    astray = members.copy()
    astray[0, 4, 0] = 1e6
    assert members_average(astray)[0, 0] == pytest.approx(5.0)
    # Three or four members: their median; one or two: their mean.
    assert members_average(members[:, :3]).tolist() == [[2.0, 0.0]]
    assert members_average(members[:, :4]).tolist() == [[3.0, 1.5]]
    assert members_average(members[:, :2]).tolist() == [[1.5, 0.0]]


def test_an_ensembles_forecast_is_its_members_average():
    class Members:
        def predict_on_batch(self, inputs):
            rows = len(inputs)
            return np.tile(np.array([[[0.0], [1.0], [2.0], [30.0], [4.0]]]), (rows, 1, 1))

    forecast = predict_batch(Members(), np.zeros((3, 6)))
    assert forecast.shape == (3, 1)
    assert np.all(forecast == pytest.approx(7 / 3))


def test_automatic_lookback_follows_horizon_and_season():
    assert ForecastConfig(lookback=None, horizon=28, freq="D").window == 56
    assert ForecastConfig(lookback=None, horizon=6, freq="M").window == 36
    assert ForecastConfig(lookback=None, horizon=24, freq="M").window == 48
    assert ForecastConfig(lookback=None, horizon=24, freq="H").window == 72
    assert ForecastConfig(lookback=None, horizon=2, freq="Y").window == 8
    assert ForecastConfig(lookback=30, horizon=28).window == 30


def test_unknown_base_is_refused_with_the_choices():
    with pytest.raises(ConfigError, match="base='snaive' is not one of none, naive"):
        Forecaster(base="snaive")


def test_automatic_base_picks_a_seasonal_base_on_a_weekly_cycle():
    f = Forecaster(time_column="created_at", target_column="amount", **ENSEMBLE)
    f.fit(make_events(days=140), verbose=0)
    assert f.base_ in ("seasonal_naive", "seasonal_mean")
    assert f.model_.output_shape == (None, 3, TINY["horizon"])


@pytest.mark.slow  # a heavy training; covered by make test-slow
def test_ensemble_forecasts_are_identical_after_save_and_load(tmp_path):
    f = Forecaster(time_column="created_at", target_column="amount", **ENSEMBLE)
    f.fit(make_events(), verbose=0)
    f.save(tmp_path / "run")
    loaded = Forecaster.load(tmp_path / "run")
    assert loaded.base_ == f.base_
    np.testing.assert_allclose(loaded.predict()["forecast"], f.predict()["forecast"], rtol=1e-6)


class _Spoil(keras.callbacks.Callback):
    """Replaces the trained output layers with large random weights as training ends."""

    def on_train_end(self, logs=None):
        rng = np.random.default_rng(0)
        for layer in self.model.layers:
            if layer.name.endswith(("_out", "_linear")):
                layer.set_weights(
                    [rng.normal(scale=50.0, size=w.shape) for w in layer.get_weights()]
                )


def test_corrections_worse_than_none_on_validation_are_zeroed_to_the_base_forecast():
    f = Forecaster(
        time_column="created_at", target_column="amount", **{**ENSEMBLE, "base": "naive"}
    )
    f.fit(make_events(), verbose=0, callbacks=(_Spoil(),))
    assert f.kept_base_
    last = f.series_.to_numpy()[-1]
    np.testing.assert_allclose(f.predict()["forecast"], np.full(TINY["horizon"], last), rtol=1e-6)


def test_trained_corrections_better_than_none_are_kept():
    f = Forecaster(time_column="created_at", target_column="amount", **{**ENSEMBLE, "epochs": 20})
    f.fit(make_events(days=140), verbose=0)
    assert not f.kept_base_
    assert f.correction_weight_ in (1.0, 0.5)


@pytest.mark.parametrize("calendar", [False, True])
def test_half_the_correction_is_exactly_the_average_of_network_and_base(calendar):
    # With calendar features, the covariates' own linear map is scaled too.
    settings = {**ENSEMBLE, "calendar": calendar}
    f = Forecaster(time_column="created_at", target_column="amount", **settings)
    f.fit(make_events(days=140), verbose=0)
    windows = np.random.default_rng(1).normal(size=(4, *f.model_.input_shape[1:]))
    before = np.asarray(f.model_.predict_on_batch(windows))
    for layer in f.model_.layers:
        if layer.name.endswith(("_out", "_linear")):
            layer.set_weights([0.5 * w for w in layer.get_weights()])
    np.testing.assert_allclose(f.model_.predict_on_batch(windows), 0.5 * before, atol=1e-6)


@pytest.mark.parametrize("smoothing", [0.1, 0.5, 1.0])
def test_theta_base_continues_a_repeating_season_exactly(smoothing):
    pattern = np.array([3.0, -1.0, 0.5, 2.0, -4.5, 1.0, -1.0])
    windows = np.stack([np.tile(pattern, 4) + level for level in (0.0, 10.0)])
    forecast = base_forecast(windows, "theta", 7, 10, smoothing)
    expected = np.stack([np.tile(pattern, 2)[:10] + level for level in (0.0, 10.0)])
    np.testing.assert_allclose(forecast, expected, atol=1e-9)


@pytest.mark.parametrize("kind", ["naive", "seasonal_naive", "seasonal_mean", "theta"])
def test_every_base_commutes_with_shifting_and_scaling_the_window(kind):
    # The network corrects the base on window-normalised values: the base must give the
    # same forecast whichever scale it is computed on.
    windows = np.random.default_rng(0).normal(size=(6, 28)).cumsum(axis=1)
    forecast = base_forecast(windows, kind, 7, 9, 0.2)
    np.testing.assert_allclose(
        base_forecast(3.5 * windows - 2.0, kind, 7, 9, 0.2), 3.5 * forecast - 2.0, atol=1e-9
    )


@pytest.mark.slow  # a heavy training; covered by make test-slow
def test_theta_smoothing_is_chosen_saved_and_restored(tmp_path):
    params = {**ENSEMBLE, "base": "theta"}
    f = Forecaster(time_column="created_at", target_column="amount", **params)
    f.fit(make_events(days=140), verbose=0)
    assert f.base_ == "theta" and f.base_smoothing_ in THETA_SMOOTHING
    loaded = Forecaster.load(f.save(tmp_path / "run"))
    assert loaded.base_smoothing_ == f.base_smoothing_
    pd.testing.assert_frame_equal(loaded.predict(), f.predict())
