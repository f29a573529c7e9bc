"""The four topologies: output shapes, safe-mode save/load, and seq2seq training."""

import keras
import numpy as np
import pytest

from rnnkit.config import ModelConfig
from rnnkit.core.models import build_many_to_many, build_one_to_many, build_one_to_one

SMALL = ModelConfig(num_layers=1, units=4)


def _builders():
    return {
        "one_to_one": (lambda: build_one_to_one(5, 3, units=8), (2, 5), (2, 3)),
        "one_to_many": (lambda: build_one_to_many(5, 6, 2, SMALL), (2, 5), (2, 6, 2)),
        "many_to_many": (lambda: build_many_to_many(12, 4, SMALL), (2, 12, 1), (2, 4)),
        "many_to_many_bidirectional_gru": (
            lambda: build_many_to_many(
                12,
                4,
                ModelConfig(cell="gru", num_layers=2, units=4, bidirectional=True, dropout=0.1),
                n_features=3,
            ),
            (2, 12, 3),
            (2, 4),
        ),
    }


@pytest.mark.parametrize("name", list(_builders()))
def test_topology_output_shape(name):
    build, input_shape, output_shape = _builders()[name]
    x = np.random.default_rng(0).random(input_shape, dtype="float32")
    assert build()(x).shape == output_shape


@pytest.mark.parametrize("name", list(_builders()))
def test_topology_saves_and_loads_in_safe_mode_with_identical_outputs(name, tmp_path):
    build, input_shape, _ = _builders()[name]
    model = build()
    x = np.random.default_rng(1).random(input_shape, dtype="float32")
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_many_to_many_is_a_drop_in_for_the_direct_forecaster():
    from rnnkit.core.models import build_forecaster

    seq2seq, direct = build_many_to_many(14, 7, SMALL), build_forecaster(14, 7, SMALL)
    assert seq2seq.input_shape == direct.input_shape == (None, 14, 1)
    assert seq2seq.output_shape == direct.output_shape == (None, 7)


def test_many_to_many_decoder_starts_from_the_encoder_states():
    model = build_many_to_many(10, 3, SMALL)
    state_inputs = {t.name for t in model.get_layer("encoder_1").output[1:]}
    decoder_inputs = model.get_layer("decoder_1")._inbound_nodes[0].input_tensors
    assert state_inputs <= {t.name for t in decoder_inputs}


def test_many_to_many_trains_one_epoch_on_random_data():
    rng = np.random.default_rng(2)
    x, y = rng.random((32, 12, 1), dtype="float32"), rng.random((32, 4), dtype="float32")
    model = build_many_to_many(12, 4, SMALL)
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"][0])
