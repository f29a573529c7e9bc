"""Training batches of one shape: the padded last batch trains as the short one would."""

import keras
import numpy as np
import pytest

from rnnkit.config import TrainingConfig
from rnnkit.core import training
from rnnkit.data.array_batches import FullBatches


def _model(outputs_shape: tuple[int, ...]) -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((3,))
    x = keras.layers.Dense(int(np.prod(outputs_shape)))(inputs)
    model = keras.Model(inputs, keras.layers.Reshape(outputs_shape)(x))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mae")
    return model


@pytest.mark.parametrize("outputs_shape", [(2,), (4, 2)])  # one output, or four members
def test_the_padded_last_batch_takes_the_short_batchs_step(outputs_shape):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3)).astype("float32")
    y = rng.normal(size=(5, 2)).astype("float32")
    if len(outputs_shape) == 2:
        y = y[:, None, :]  # broadcast over the members, as the forecaster's targets are
    batches = FullBatches(x, y, batch_size=8)
    assert batches.batch_size == 5  # fewer rows than a batch: one batch of them all
    batches = FullBatches(x, y, batch_size=4)
    batches.order = np.arange(5)
    padded_x, padded_y, weights = batches[1]
    assert padded_x.shape == (4, 3)
    assert weights.ravel().tolist() == [4.0, 0.0, 0.0, 0.0]

    short, padded = _model(outputs_shape), _model(outputs_shape)
    short.train_on_batch(x[4:], y[4:])
    padded.train_on_batch(padded_x, padded_y, sample_weight=weights)
    for a, b in zip(short.get_weights(), padded.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # and the step did something: the weights moved from their start
    assert not np.allclose(short.get_weights()[0], _model(outputs_shape).get_weights()[0])


def test_an_epoch_visits_every_row_once_in_the_order_keras_would_draw():
    x = np.arange(10, dtype="float32")[:, None]
    batches = FullBatches(x, np.arange(10.0), batch_size=4, sample_weight=np.full(10, 2.0))
    np.random.seed(3)
    batches.on_epoch_begin()
    np.random.seed(3)
    assert batches.order.tolist() == np.random.permutation(10).tolist()
    seen = np.concatenate([batches[i][0][:, 0] for i in range(len(batches))])
    weights = np.concatenate([batches[i][2][:, 0] for i in range(len(batches))])
    assert len(batches) == 3 and seen.shape == (12,)
    assert sorted(seen[weights > 0].tolist()) == list(range(10))
    assert weights.tolist() == [2.0] * 8 + [4.0, 4.0, 0.0, 0.0]  # class weight 2, times 4/2


def test_training_compiles_one_step_for_a_part_the_batch_does_not_divide(caplog):
    import jax

    rng = np.random.default_rng(0)
    x = rng.normal(size=(37, 3)).astype("float32")
    y = rng.normal(size=(37, 2)).astype("float32")
    model = _model((2,))
    settings = TrainingConfig(epochs=2, batch_size=16, patience=2, seed=0)
    jax.config.update("jax_log_compiles", True)
    try:
        with caplog.at_level("DEBUG", logger="jax"):
            history = training.fit(model, (x, y), (x[:5], y[:5]), settings, verbose=0)
    finally:
        jax.config.update("jax_log_compiles", False)
    compiled = [r.getMessage() for r in caplog.records if "compilation of jit(" in r.getMessage()]
    # 37 rows in batches of 16: two full ones and one of 5, padded (before: a second step)
    assert sum("jit(train_step)" in m for m in compiled) == 1, compiled
    assert len(history["loss"]) == 2
