"""Model builders: pure functions returning a ``keras.Model`` of built-in layers only.

Built-in layers keep every saved model loadable with ``safe_mode=True`` and no custom
objects, on any Keras 3 backend.
"""

from __future__ import annotations

import warnings

import keras

from rnnkit.config import ModelConfig

_CELLS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "simple_rnn": keras.layers.SimpleRNN}


def recurrent_stack(x, config: ModelConfig, return_sequences: bool = False, name: str = "rnn"):
    """Stacks ``config.num_layers`` recurrent layers on ``x``, dropout between them.

    Dropout follows every recurrent layer (as in the guide) and never the output layer.
    Only the last layer's ``return_sequences`` is set by the caller.
    """
    if config.recurrent_dropout > 0:
        warnings.warn(
            f"recurrent_dropout={config.recurrent_dropout} rules out the fused recurrent "
            "kernels (cuDNN) and makes training several times slower; dropout between "
            "layers usually regularises as well.",
            stacklevel=2,
        )
    layer_class = _CELLS[config.cell]
    for index in range(config.num_layers):
        last = index == config.num_layers - 1
        layer = layer_class(
            config.units,
            return_sequences=return_sequences or not last,
            recurrent_dropout=config.recurrent_dropout,
            name=f"{name}_{index + 1}",
        )
        if config.bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional_{name}_{index + 1}")
        x = layer(x)
        if config.dropout > 0:
            x = keras.layers.Dropout(config.dropout, name=f"dropout_{index + 1}")(x)
    return x


def build_forecaster(lookback: int, outputs: int, config: ModelConfig) -> keras.Model:
    """Many-to-one forecaster: ``(batch, lookback, 1)`` windows to ``(batch, outputs)``.

    ``outputs`` is the horizon for the direct strategy and 1 for the recursive one.

    Example:
        >>> model = build_forecaster(60, 30, ModelConfig(num_layers=4, units=50, dropout=0.2))
        >>> model.output_shape
        (None, 30)
    """
    inputs = keras.Input(shape=(lookback, 1), name="window")
    x = recurrent_stack(inputs, config)
    outputs_ = keras.layers.Dense(outputs, name="forecast")(x)
    return keras.Model(inputs, outputs_, name="forecaster")


def build_text_classifier(
    sequence_length: int,
    vocabulary_size: int,
    num_classes: int,
    config: ModelConfig,
    embedding_dim: int = 100,
    spatial_dropout: float = 0.2,
    pooling: str = "max",
) -> keras.Model:
    """Many-to-one text classifier: token ids to class probabilities.

    Embedding (sized to the vocabulary) + SpatialDropout1D + the recurrent stack +
    softmax. ``pooling="max"`` max-pools the last layer's outputs over time (robust to
    padding); ``"last"`` uses the final state, as the guide does.

    Example:
        >>> model = build_text_classifier(512, 5000, 10, ModelConfig(num_layers=1, units=100))
        >>> model.output_shape
        (None, 10)
    """
    if pooling not in ("max", "last"):
        raise ValueError(f"pooling must be 'max' or 'last', got {pooling!r}")
    inputs = keras.Input(shape=(sequence_length,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(vocabulary_size, embedding_dim, name="embedding")(inputs)
    if spatial_dropout > 0:
        x = keras.layers.SpatialDropout1D(spatial_dropout, name="spatial_dropout")(x)
    x = recurrent_stack(x, config, return_sequences=pooling == "max")
    if pooling == "max":
        x = keras.layers.GlobalMaxPooling1D(name="max_over_time")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="text_classifier")
