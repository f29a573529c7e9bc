"""Model builders: pure functions returning a ``keras.Model`` of built-in layers only.

Built-in layers keep every saved model loadable with ``safe_mode=True`` and no custom
objects, on any Keras 3 backend.
"""

from __future__ import annotations

import warnings

import keras

from rnnkit.config import ModelConfig

_CELLS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "simple_rnn": keras.layers.SimpleRNN}


def step_loop_gru() -> bool:
    """Whether GRU layers should run Keras's generic step loop (``use_cudnn=False``)
    rather than its fused JAX path, which projects every step's input in one matmul
    before the loop. On JAX on CPU the fused path is the slower one
    (``benchmarks/gru_loop_speed.py``): the classifier's bidirectional GRU(64) over 128
    steps forwards a batch of 32 in 7.3 ms instead of 14.7 ms, and its gradient on a
    batch of 64 takes 59.6 ms instead of 62.9 ms; the forecaster's GRU(32) forwards in
    0.47 ms instead of 1.50 ms. Elsewhere
    (a GPU, another backend) Keras's choice stands."""
    if keras.backend.backend() != "jax":
        return False
    import jax

    return jax.default_backend() == "cpu"


def _recurrent_layer(cell: str, units: int, **kwargs):
    """One ``cell`` layer of ``units``; a GRU runs the step loop where that is faster
    (:func:`step_loop_gru`)."""
    if cell == "gru" and step_loop_gru():
        kwargs["use_cudnn"] = False
    return _CELLS[cell](units, **kwargs)


def prefer_step_loops(model: keras.Model) -> keras.Model:
    """Sets ``use_cudnn=False`` on every GRU of ``model`` (in nested models and
    bidirectional wrappers too) where :func:`step_loop_gru` says so: for models loaded
    from runs saved before it. The weights and the arithmetic are the same; only the
    loop Keras traces differs. Call it before the model's first prediction."""
    if not step_loop_gru():
        return model
    for layer in _every_layer(model):
        if isinstance(layer, keras.layers.GRU):
            layer.use_cudnn = False
    return model


def _every_layer(layer):
    yield layer
    if isinstance(layer, keras.layers.Bidirectional):
        yield from _every_layer(layer.forward_layer)
        yield from _every_layer(layer.backward_layer)
    for inner in getattr(layer, "layers", ()):
        yield from _every_layer(inner)


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
    for index in range(config.num_layers):
        last = index == config.num_layers - 1
        layer = _recurrent_layer(
            config.cell,
            config.units,
            return_sequences=return_sequences or not last,
            recurrent_dropout=config.recurrent_dropout,
            name=f"{name}_{index + 1}",
        )
        if config.bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional_{name}_{index + 1}")
        x = layer(x)
        if config.dropout > 0:
            # "dropout_1" for the default stack (the names saved runs have), prefixed else.
            dropout_name = f"{name}_dropout_{index + 1}".removeprefix("rnn_")
            x = keras.layers.Dropout(config.dropout, name=dropout_name)(x)
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


def member_lookbacks(lookback: int, ensemble_size: int) -> list[int]:
    """Each member's lookback: evenly spaced from ``lookback`` down to half of it.

    Example:
        >>> member_lookbacks(56, 5)
        [56, 49, 42, 35, 28]
    """
    if ensemble_size == 1:
        return [lookback]
    shortest = max(1, lookback // 2)
    step = (lookback - shortest) / (ensemble_size - 1)
    return [round(lookback - k * step) for k in range(ensemble_size)]


def build_ensemble_forecaster(
    lookback: int,
    horizon: int,
    config: ModelConfig,
    ensemble_size: int = 1,
    linear: bool = False,
    zero_output: bool = True,
    channels: int = 1,
    future_steps: int = 0,
    static_vocabularies: tuple[int, ...] = (),
) -> keras.Model:
    """``ensemble_size`` forecasters in one model: ``(batch, lookback, 1)`` windows to
    ``(batch, ensemble_size, horizon)``, one row of forecasts per member.

    Members share nothing but the input: each has its own recurrent stack (drawn with its
    own initial weights) and reads the last ``member_lookbacks(...)[k]`` steps of the
    window, so one compiled training step trains them all, each on its own loss (the
    targets are broadcast over the members). With ``linear``, a Dense map of the
    flattened window is added to each member's output. With ``zero_output`` the output
    layers start at zero, so an untrained model forecasts zero: the base forecast when
    the targets are corrections to it.

    With covariates, each step of the input has ``channels`` values (the window's value
    first, then the covariates), and ``future_steps`` more steps follow the window: the
    covariates known for the periods forecast (their value channel is zero).

    With ``static_vocabularies`` (the number of categories of each categorical static
    column), the last ``len(static_vocabularies)`` channels hold category indices, the
    same at every step: each goes through an ``Embedding`` of its own (see
    :func:`static_embedding_dim`) whose vectors replace it before the members read the
    input.

    Example:
        >>> model = build_ensemble_forecaster(56, 28, ModelConfig(num_layers=1, units=16), 3)
        >>> model.output_shape
        (None, 3, 28)
        >>> config = ModelConfig(num_layers=1, units=16)
        >>> build_ensemble_forecaster(56, 28, config, channels=11, future_steps=28).input_shape
        (None, 84, 11)
        >>> build_ensemble_forecaster(
        ...     56, 28, config, channels=3, static_vocabularies=(4, 2)
        ... ).get_layer("static_1_embedding").output.shape
        (None, 56, 2)
    """
    initializer = "zeros" if zero_output else "glorot_uniform"
    inputs = keras.Input(shape=(lookback + future_steps, channels), name="window")
    joined = inputs
    if static_vocabularies:
        joined = _embedded(inputs, lookback + future_steps, channels, static_vocabularies)
        channels = joined.shape[-1]
    members = []
    for k, steps in enumerate(member_lookbacks(lookback, ensemble_size)):
        name = f"member_{k + 1}"
        x = joined
        if steps < lookback:
            x = keras.layers.Cropping1D((lookback - steps, 0), name=f"{name}_lookback")(x)
        hidden = recurrent_stack(x, config, name=f"{name}_rnn")
        output = keras.layers.Dense(horizon, kernel_initializer=initializer, name=f"{name}_out")(
            hidden
        )
        if linear:
            values = _window_values(x, future_steps, channels, name) if channels > 1 else x
            flat = keras.layers.Flatten(name=f"{name}_flatten")(values)
            direct = keras.layers.Dense(
                horizon, kernel_initializer=initializer, name=f"{name}_linear"
            )(flat)
            output = keras.layers.Add(name=f"{name}_sum")([output, direct])
        if future_steps:
            # The covariates' own effect on each period forecast: one linear map of a
            # period's covariates, shared by every step (as a regression on calendar
            # dummies), beside what the recurrent layers make of them.
            future = keras.layers.Cropping1D((steps, 0), name=f"{name}_future")(x)
            effect = keras.layers.Dense(
                1, kernel_initializer=initializer, name=f"{name}_covariates_linear"
            )(future)
            effect = keras.layers.Flatten(name=f"{name}_covariates_flatten")(effect)
            output = keras.layers.Add(name=f"{name}_covariates_sum")([output, effect])
        members.append(keras.layers.Reshape((1, horizon), name=f"{name}_row")(output))
    outputs = (
        members[0]
        if ensemble_size == 1
        else keras.layers.Concatenate(axis=1, name="members")(members)
    )
    return keras.Model(inputs, outputs, name="ensemble_forecaster")


def static_embedding_dim(categories: int) -> int:
    """The embedding width of a static column of ``categories`` categories: half of
    them, rounded up, at most 8 (a few series attributes need few dimensions).

    Example:
        >>> [static_embedding_dim(n) for n in (1, 2, 5, 40)]
        [1, 1, 3, 8]
    """
    return max(1, min(8, (categories + 1) // 2))


def _embedded(inputs, steps: int, channels: int, vocabularies: tuple[int, ...]):
    """``inputs`` ``(steps, channels)`` with its last ``len(vocabularies)`` channels (category
    indices) replaced by their embeddings, with built-in layers only (one input tensor
    keeps every caller's single-array batches)."""
    count = len(vocabularies)
    by_channel = keras.layers.Permute((2, 1), name="static_channels")(inputs)
    dynamic = keras.layers.Cropping1D((0, count), name="static_others")(by_channel)
    parts = [keras.layers.Permute((2, 1), name="static_others_steps")(dynamic)]
    for j, size in enumerate(vocabularies):
        position = channels - count + j
        index = keras.layers.Cropping1D(
            (position, channels - position - 1), name=f"static_{j + 1}_channel"
        )(by_channel)
        index = keras.layers.Reshape((steps,), name=f"static_{j + 1}_index")(index)
        # Embedding casts the (whole-number) float indices to integers.
        parts.append(
            keras.layers.Embedding(
                size, static_embedding_dim(size), name=f"static_{j + 1}_embedding"
            )(index)
        )
    return keras.layers.Concatenate(axis=-1, name="static_joined")(parts)


def _window_values(x, future_steps: int, channels: int, name: str):
    """The first channel (the values) of the window's steps of ``x`` ``(steps +
    future_steps, channels)``: ``(steps, 1)``, with built-in layers only."""
    if future_steps:
        x = keras.layers.Cropping1D((0, future_steps), name=f"{name}_window")(x)
    x = keras.layers.Permute((2, 1), name=f"{name}_channels")(x)
    x = keras.layers.Cropping1D((0, channels - 1), name=f"{name}_values")(x)
    return keras.layers.Permute((2, 1), name=f"{name}_steps")(x)


#: The linear part's logits are its weights times this factor, so that Adam, whose steps
#: have the same size for every weight, moves the linear model ten times faster than the
#: recurrent one (the learning rate that suits each differs by about that much).
NGRAM_SCALE = 10.0


def build_text_classifier(
    sequence_length: int,
    vocabulary_size: int,
    num_classes: int,
    config: ModelConfig,
    embedding_dim: int = 100,
    spatial_dropout: float = 0.2,
    pooling: str = "max",
    ngram_features: int = 0,
    ngram_width: int = 0,
    name: str | None = None,
) -> keras.Model:
    """Many-to-one text classifier: token ids (and n-gram bags) to class probabilities.

    Embedding (sized to the vocabulary) + SpatialDropout1D + the recurrent stack + a
    Dense layer of class scores. ``pooling="max"`` max-pools the last layer's outputs
    over time (robust to padding); ``"last"`` uses the final state, as the guide does.

    With ``ngram_features`` (rows of the n-gram table, see
    :class:`rnnkit.data.ngrams.NgramFeatures`), the model is wide and deep: two more
    inputs, the ids and weights of each text's TF-IDF n-grams (``ngram_width`` of them),
    go through an ``Embedding`` of one row of class scores per n-gram and a ``Dot`` with
    the weights, which is a linear model on the sparse TF-IDF vector. Its scores are
    added to the recurrent network's before the softmax. The recurrent scores start at
    zero, so a model whose linear rows are set from a fitted linear classifier starts as
    that classifier and learns only what the recurrent network adds.

    Example:
        >>> model = build_text_classifier(512, 5000, 10, ModelConfig(num_layers=1, units=100))
        >>> model.output_shape
        (None, 10)
        >>> wide = build_text_classifier(
        ...     32, 500, 3, ModelConfig(num_layers=1, units=8), ngram_features=90, ngram_width=17
        ... )
        >>> [tuple(i.shape) for i in wide.inputs], wide.output_shape
        ([(None, 32), (None, 17), (None, 17)], (None, 3))
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
    if not ngram_features:
        outputs = keras.layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
        return keras.Model(inputs, outputs, name=name or "text_classifier")
    recurrent = keras.layers.Dense(
        num_classes, kernel_initializer="zeros", name="recurrent_scores"
    )(x)
    ids = keras.Input(shape=(ngram_width,), dtype="int32", name="ngram_ids")
    weights = keras.Input(shape=(ngram_width,), dtype="float32", name="ngram_weights")
    rows = keras.layers.Embedding(
        ngram_features, num_classes, embeddings_initializer="zeros", name="ngram_table"
    )(ids)
    linear = keras.layers.Dot(axes=1, name="ngram_scores")([weights, rows])
    linear = keras.layers.Rescaling(NGRAM_SCALE, name="ngram_scale")(linear)
    scores = keras.layers.Add(name="scores")([linear, recurrent])
    outputs = keras.layers.Activation("softmax", name="probabilities")(scores)
    return keras.Model(
        [inputs, ids, weights], outputs, name=name or "wide_and_deep_text_classifier"
    )


def text_classifier_ensemble(members: list[keras.Model]) -> tuple[keras.Model, keras.Model]:
    """Text classifiers of the same inputs joined: ``(training, averaged)``.

    The training model stacks the members' probabilities, ``(batch, members, classes)``,
    so one compiled step trains every member on its own loss (the labels repeated over
    the members); the averaged model, which shares their layers, gives the mean of their
    probabilities, ``(batch, classes)``: the ensemble's prediction, one ``model.keras``
    of Keras's own layers.

    Example:
        >>> config = ModelConfig(num_layers=1, units=4)
        >>> members = [
        ...     build_text_classifier(8, 50, 3, config, name=f"member_{k}") for k in (1, 2)
        ... ]
        >>> training, averaged = text_classifier_ensemble(members)
        >>> training.output_shape, averaged.output_shape
        ((None, 2, 3), (None, 3))
    """
    first = members[0]
    inputs = [keras.Input(shape=t.shape[1:], dtype=t.dtype, name=t.name) for t in first.inputs]
    args = inputs if len(inputs) > 1 else inputs[0]
    outputs = [member(args) for member in members]
    classes = first.output_shape[-1]
    stacked = keras.layers.Concatenate(axis=1, name="member_probabilities")(
        [
            keras.layers.Reshape((1, classes), name=f"{m.name}_row")(o)
            for m, o in zip(members, outputs)
        ]
    )
    averaged = keras.layers.Average(name="probabilities")(outputs)
    return (
        keras.Model(args, stacked, name="text_classifier_members"),
        keras.Model(args, averaged, name="text_classifier_ensemble"),
    )


# ----------------------------------------------------------------------- the four topologies
# The guide's four kinds of network. Many to one is the forecaster and the text classifier
# above; these builders add the other three.


def build_one_to_one(input_dim: int, output_dim: int, units: int = 64) -> keras.Model:
    """One to one: a vanilla dense network, one vector in and one vector out (no recurrence).

    Example:
        >>> build_one_to_one(4, 3, units=16).output_shape
        (None, 3)
    """
    inputs = keras.Input(shape=(input_dim,), name="features")
    x = keras.layers.Dense(units, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(output_dim, name="output")(x)
    return keras.Model(inputs, outputs, name="one_to_one")


def build_one_to_many(
    input_dim: int, steps: int, output_dim: int, config: ModelConfig
) -> keras.Model:
    """One to many: a sequence of ``steps`` outputs generated from one input vector.

    The vector is repeated at every step (``RepeatVector``) and read by the recurrent stack,
    which returns every step's output; a Dense layer maps each step to ``output_dim``.
    Output shape ``(batch, steps, output_dim)``.

    Example:
        >>> model = build_one_to_many(8, 12, 1, ModelConfig(num_layers=1, units=16))
        >>> model.output_shape
        (None, 12, 1)
    """
    inputs = keras.Input(shape=(input_dim,), name="vector")
    x = keras.layers.RepeatVector(steps, name="repeat")(inputs)
    x = recurrent_stack(x, config, return_sequences=True)
    outputs = keras.layers.Dense(output_dim, name="step_output")(x)  # applied at every step
    return keras.Model(inputs, outputs, name="one_to_many")


def build_many_to_many(
    lookback: int, horizon: int, config: ModelConfig, n_features: int = 1
) -> keras.Model:
    """Many to many: an encoder-decoder (seq2seq) forecaster, ``(batch, lookback,
    n_features)`` windows to ``(batch, horizon)``, a drop-in for :func:`build_forecaster`.

    The encoder (``config.num_layers`` recurrent layers) reads the window; its last layer's
    output is repeated ``horizon`` times and read by the decoder (as many layers), whose
    first layer starts from the encoder's final states. A Dense layer turns each decoder
    step into one value. With ``bidirectional`` the encoder reads both ways and the decoder,
    which runs forwards only, has twice the units so the joined states fit.

    Example:
        >>> model = build_many_to_many(60, 30, ModelConfig(num_layers=2, units=32))
        >>> model.output_shape
        (None, 30)
    """
    if config.recurrent_dropout > 0:
        warnings.warn(
            f"recurrent_dropout={config.recurrent_dropout} rules out the fused recurrent "
            "kernels (cuDNN) and makes training several times slower.",
            stacklevel=2,
        )
    inputs = keras.Input(shape=(lookback, n_features), name="window")
    x = inputs
    states: list = []
    for index in range(config.num_layers):
        last = index == config.num_layers - 1
        layer = _recurrent_layer(
            config.cell,
            config.units,
            return_sequences=not last,
            return_state=last,
            recurrent_dropout=config.recurrent_dropout,
            name=f"encoder_{index + 1}",
        )
        if config.bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional_encoder_{index + 1}")
        x = layer(x)
        if last:
            x, states = x[0], list(x[1:])
        if config.dropout > 0:
            x = keras.layers.Dropout(config.dropout, name=f"encoder_dropout_{index + 1}")(x)
    if config.bidirectional:
        # [h_forward, (c_forward,) h_backward, (c_backward)]: join each kind of state.
        half = len(states) // 2
        states = [
            keras.layers.Concatenate(name=f"encoder_state_{k + 1}")([states[k], states[k + half]])
            for k in range(half)
        ]
    decoder_units = config.units * (2 if config.bidirectional else 1)
    x = keras.layers.RepeatVector(horizon, name="repeat_context")(x)
    for index in range(config.num_layers):
        layer = _recurrent_layer(
            config.cell,
            decoder_units,
            return_sequences=True,
            recurrent_dropout=config.recurrent_dropout,
            name=f"decoder_{index + 1}",
        )
        x = layer(x, initial_state=states) if index == 0 else layer(x)
        if config.dropout > 0:
            x = keras.layers.Dropout(config.dropout, name=f"decoder_dropout_{index + 1}")(x)
    x = keras.layers.Dense(1, name="step_forecast")(x)  # (batch, horizon, 1)
    outputs = keras.layers.Reshape((horizon,), name="forecast")(x)
    return keras.Model(inputs, outputs, name="seq2seq_forecaster")
