import keras
import numpy as np
import pytest
from conftest import TINY, make_events

from rnnkit import ConfigError, Forecaster, TrainingConfig
from rnnkit.core.range_test import RangeTestResult, loss_fall, range_test, suggest


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
    assert result.conclusive


def test_a_sweep_whose_loss_never_falls_is_inconclusive():
    """Targets that are noise independent of the inputs: nothing to learn, so the loss
    stays at the targets' variance until it diverges, and no rate is suggested."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = rng.normal(size=(256, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1, use_bias=False)])
    model.build((None, 8))
    model.set_weights([np.zeros((8, 1), dtype="float32")])
    result = range_test(model, x, y, "mse", batch_size=32, clipnorm=0, steps=100)
    assert loss_fall(result.losses) > 0.75
    assert not result.conclusive
    assert result.rate_to_use(3e-3) == 3e-3


def test_loss_fall_ignores_a_few_extreme_batches():
    flat_with_spikes = [1.0] * 100
    for i in range(3, 100, 10):
        flat_with_spikes[i] = 50.0  # one batch in ten with a huge loss
    assert loss_fall(flat_with_spikes) == pytest.approx(1.0)
    falling = list(np.linspace(1.0, 0.2, 100))
    assert loss_fall(falling) < 0.3
    result = RangeTestResult([1e-3] * 3, [1.0] * 3, [1.0] * 3, 1e-3, False, conclusive=True)
    assert result.rate_to_use(3e-3) == 1e-3


# A plain network (no base forecast, level normalisation): its loss starts high and falls
# in the sweep. The default model starts at the base forecast, so its sweep can be
# inconclusive on small data, and then trains at the default rate (tested above).
PLAIN = {**TINY, "base": "none", "ensemble_size": 1, "linear": False, "window_norm": "level"}


def test_learning_rate_auto_trains_at_the_suggested_rate(tmp_path):
    f = Forecaster(time_column="created_at", target_column="amount", learning_rate="auto", **PLAIN)
    f.fit(make_events(), verbose=0)
    assert f.learning_rate_range_test_.conclusive
    assert f.learning_rate_ == f.learning_rate_range_test_.suggestion
    assert float(f.model_.optimizer.learning_rate) == pytest.approx(f.learning_rate_)
    run = f.save(tmp_path / "run")
    assert (run / "lr_find.png").exists() and (run / "lr_find.json").exists()


def test_learning_rate_must_be_a_number_or_auto():
    with pytest.raises(ConfigError, match="a number or 'auto'"):
        TrainingConfig(learning_rate="fast")
