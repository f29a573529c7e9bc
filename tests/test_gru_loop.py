"""GRU layers run Keras's step loop on JAX on CPU: the same outputs, built or loaded."""

import keras
import numpy as np
import pytest

from rnnkit.config import ModelConfig
from rnnkit.core.models import (
    build_forecaster,
    build_many_to_many,
    build_text_classifier,
    prefer_step_loops,
    step_loop_gru,
)
from rnnkit.core.persistence import load_keras_model

pytestmark = pytest.mark.skipif(
    not step_loop_gru(), reason="the step loop is chosen on JAX on CPU only"
)


def _grus(model):
    from rnnkit.core.models import _every_layer

    return [layer for layer in _every_layer(model) if isinstance(layer, keras.layers.GRU)]


def _fused_twin(model):
    """The same model and weights with every GRU on Keras's fused path."""
    twin = keras.models.clone_model(model)
    twin.set_weights(model.get_weights())
    for layer in _grus(twin):
        layer.use_cudnn = "auto"
    return twin


@pytest.mark.parametrize(
    "build, shape",
    [
        (lambda: build_forecaster(12, 3, ModelConfig(cell="gru", num_layers=2, units=8)), (4, 12)),
        (
            lambda: build_many_to_many(
                10, 3, ModelConfig(cell="gru", num_layers=1, units=4, bidirectional=True)
            ),
            (4, 10, 1),
        ),
    ],
)
def test_built_grus_use_the_step_loop_with_the_fused_paths_outputs(build, shape):
    model = build()
    grus = _grus(model)
    assert grus and all(layer.use_cudnn is False for layer in grus)
    x = np.random.default_rng(0).normal(size=shape).astype("float32")
    expected = np.asarray(_fused_twin(model)(x))
    np.testing.assert_allclose(np.asarray(model(x)), expected, rtol=1e-5, atol=1e-6)


def test_text_classifiers_bidirectional_gru_uses_the_step_loop():
    config = ModelConfig(cell="gru", num_layers=1, units=8, bidirectional=True)
    model = build_text_classifier(16, 50, 3, config, embedding_dim=8)
    grus = _grus(model)
    assert len(grus) >= 2 and all(layer.use_cudnn is False for layer in grus)


def test_a_model_saved_with_the_fused_path_loads_with_the_step_loop(tmp_path):
    model = build_forecaster(12, 3, ModelConfig(cell="gru", num_layers=1, units=8))
    saved = _fused_twin(model)  # as runs saved before the step loop was chosen
    path = tmp_path / "model.keras"
    saved.save(path)
    x = np.random.default_rng(1).normal(size=(5, 12)).astype("float32")
    loaded = load_keras_model(path)
    assert all(layer.use_cudnn is False for layer in _grus(loaded))
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(saved(x)), rtol=1e-5, atol=1e-6)


def test_lstm_layers_keep_keras_choice():
    model = prefer_step_loops(build_forecaster(12, 3, ModelConfig(cell="lstm", units=4)))
    lstms = [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)]
    assert lstms and all(layer.use_cudnn == "auto" for layer in lstms)
