import keras
import numpy as np
import pytest
from conftest import TINY, make_events

from rnnkit import ConfigError, Forecaster, TrainingConfig
from rnnkit.lr_finder import range_test, suggest


def test_suggestion_is_where_the_loss_falls_fastest():
    rates = list(np.geomspace(1e-5, 1, 12))
    loss = [1.0, 1.0, 1.0, 0.99, 0.95, 0.6, 0.3, 0.25, 0.24, 0.3, 2.0, 9.0]
    assert suggest(rates, loss) == pytest.approx(rates[5])


def test_range_test_sweeps_up_and_stops_when_the_loss_diverges():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x @ rng.normal(size=(8, 1))).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)]
    )
    result = range_test(
        model, x, y, "mse", batch_size=32, clipnorm=0, min_lr=1e-5, max_lr=100.0, steps=150
    )
    assert result.diverged
    assert len(result.learning_rates) < 150
    assert np.all(np.diff(result.learning_rates) > 0)
    assert 1e-4 < result.suggestion < 1.0


def test_learning_rate_auto_trains_at_the_suggested_rate(tmp_path):
    f = Forecaster(time_column="created_at", target_column="amount", learning_rate="auto", **TINY)
    f.fit(make_events(), verbose=0)
    assert f.learning_rate_ == f.learning_rate_range_test_.suggestion
    assert float(f.model_.optimizer.learning_rate) == pytest.approx(f.learning_rate_)
    run = f.save(tmp_path / "run")
    assert (run / "lr_find.png").exists() and (run / "lr_find.json").exists()


def test_learning_rate_must_be_a_number_or_auto():
    with pytest.raises(ConfigError, match="a number or 'auto'"):
        TrainingConfig(learning_rate="fast")
