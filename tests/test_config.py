import pytest

from rnnkit import ConfigError, ForecastConfig, Forecaster
from rnnkit.config import ModelConfig


def test_config_json_round_trip():
    config = ForecastConfig(lookback=30, model=ModelConfig(cell="gru", units=16))
    assert ForecastConfig.from_dict(config.to_dict()) == config


def test_config_rejects_unknown_key_with_closest_name():
    data = ForecastConfig().to_dict() | {"lookbak": 3}
    with pytest.raises(ConfigError, match="Unknown ForecastConfig key 'lookbak'.*'lookback'"):
        ForecastConfig.from_dict(data)


def test_config_rejects_unknown_choice_with_suggestion():
    with pytest.raises(ConfigError, match="cell='lstn' is not one of.*Did you mean 'lstm'"):
        ModelConfig(cell="lstn")


def test_unknown_freq_and_agg_are_config_errors():
    with pytest.raises(ConfigError, match="freq='X'"):
        ForecastConfig(freq="x")
    with pytest.raises(ConfigError, match="agg='average'"):
        ForecastConfig(agg="average")


def test_freq_is_case_insensitive():
    assert ForecastConfig(freq="d").freq == "D"


def test_forecaster_rejects_unknown_parameter():
    with pytest.raises(ConfigError, match="Unknown forecaster parameter 'unit'.*'units'"):
        Forecaster(unit=3)


def test_flat_parameters_reach_nested_configs():
    config = Forecaster(cell="gru", epochs=3, lookback=10).config
    assert (config.model.cell, config.training.epochs, config.lookback) == ("gru", 3, 10)


def test_fill_auto_resolves_from_agg():
    assert ForecastConfig(agg="sum").fill_method == "zero"
    assert ForecastConfig(agg="mean").fill_method == "interpolate"
    assert ForecastConfig(agg="mean", fill="ffill").fill_method == "ffill"


def test_scaling_auto_is_minmax_and_standard_for_one_series_and_level_for_a_panel():
    one, panel = ForecastConfig(), ForecastConfig(id_column="store")
    assert (one.scaler_method, one.window_norm_method) == ("minmax", "standard")
    assert (panel.scaler_method, panel.window_norm_method) == ("none", "level")
    given = ForecastConfig(id_column="store", scaler="standard", window_norm="none")
    assert (given.scaler_method, given.window_norm_method) == ("standard", "none")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0, True])
def test_clipnorm_must_be_a_finite_number_at_least_zero(value):
    with pytest.raises(ConfigError, match="clipnorm must be a finite number >= 0"):
        Forecaster(clipnorm=value)
