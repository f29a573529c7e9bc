"""The vanishing and exploding gradient experiment, measured instead of asserted.

The guide says simple RNNs "fail to learn beyond about 5-10 steps" because the gradient
shrinks (or grows) by a factor at every step of backpropagation through time. This module
measures it: on a task whose answer is the sign of the *first* input step (every later
step is noise), it computes the norm of d(loss)/d(x_t) for every step t of freshly
initialised one-layer networks, trains each briefly on the same task, and shows an
exploding case (a linear simple RNN whose recurrent kernel has spectral radius above 1)
with and without gradient clipping.

Gradients with respect to the *inputs* need the backend's autodiff, so this module needs
the JAX backend (``jax.grad`` of ``model.stateless_call``); everything else is Keras.

Example:
    >>> frame = vanishing_gradients(cells=("simple_rnn", "lstm"), length=20, units=8, seeds=1)
    >>> sorted(summarize_gradients(frame)["lstm"])
    ['memory_horizon', 'norm_first', 'norm_last', 'ratio']
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import pandas as pd

from rnnkit.config import CELLS, ModelConfig, TrainingConfig
from rnnkit.core.models import build_forecaster
from rnnkit.core.training import compile_model
from rnnkit.errors import ConfigError, did_you_mean

TRAIN_LEARNING_RATE = 1e-2  # the brief training: ten times rnnkit's default
THRESHOLD = 1e-3  # the memory horizon: where the gradient falls below this share of its value at T
GRADIENT_BATCH = 128  # examples the per-step gradient norms are averaged over
EVALUATION_SIZE = 1024  # held-out examples for the accuracy after training


# ----------------------------------------------------------------------- checks and data
def check_settings(
    cells: Sequence[str] = CELLS,
    length: int = 100,
    units: int = 32,
    seeds: int = 3,
    train_steps: int = 300,
    exploding_length: int = 30,
    radius: float = 1.5,
    clipnorm: float = 1.0,
    learning_rate: float = TRAIN_LEARNING_RATE,
) -> tuple[str, ...]:
    """Validates every setting before any work; returns the cells without repeats.

    Raises:
        ConfigError: an unknown cell (with the closest name), a length below 2, a
            non-positive count, or an exploding case that overflows float32 at once.
    """
    cells = tuple(dict.fromkeys(cells))
    if not cells:
        raise ConfigError(f"Give at least one --cell: {', '.join(CELLS)}.")
    for cell in cells:
        if cell not in CELLS:
            hint = did_you_mean(cell, CELLS)
            raise ConfigError(f"Unknown cell {cell!r}.{hint} Valid cells: {', '.join(CELLS)}.")
    for name, value, minimum in (
        ("length", length, 2),
        ("units", units, 1),
        ("seeds", seeds, 1),
        ("train_steps", train_steps, 0),
        ("exploding_length", exploding_length, 2),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"{flag} must be an integer >= {minimum}, got {value!r}.")
    for name, value in (
        ("radius", radius),
        ("clipnorm", clipnorm),
        ("learning_rate", learning_rate),
    ):
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"{flag} must be a number above 0, got {value!r}.")
    # A linear RNN's state grows as radius**t; past about 1e30 the loss and its gradient
    # overflow float32 before the first step, and there is nothing left to clip.
    if radius > 1 and exploding_length * math.log10(radius) > 30:
        longest = int(30 / math.log10(radius))
        raise ConfigError(
            f"--exploding-length {exploding_length} with --radius {radius} overflows float32 "
            f"at once ({radius}**{exploding_length} > 1e30); use --exploding-length {longest} "
            "or less, or a smaller --radius."
        )
    if keras.backend.backend() != "jax":
        raise ConfigError(
            f"The gradient experiment needs the JAX backend (it differentiates with respect to "
            f"the inputs with jax.grad); the active Keras backend is "
            f"'{keras.backend.backend()}'. Run with KERAS_BACKEND=jax."
        )
    return cells


def first_step_task(size: int, length: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``(size, length, 1)`` of standard normal noise; the label is ``x[:, 0] > 0``.

    Only the first step carries the answer, so the network must carry it ``length - 1``
    steps: exactly the distance over which vanishing gradients are said to stop learning.
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((size, length, 1)).astype("float32")
    y = (x[:, 0, 0] > 0).astype("float32")[:, None]
    return x, y


def _loss() -> keras.losses.Loss:
    # Logits, not probabilities: a saturated sigmoid would clip the gradient to zero and
    # hide the very growth and decay being measured.
    return keras.losses.BinaryCrossentropy(from_logits=True)


# ----------------------------------------------------------------------- measurement
def _global_norm(arrays: Sequence[np.ndarray]) -> float:
    return float(np.sqrt(sum(np.sum(np.square(a, dtype="float64")) for a in arrays)))


def _input_gradient_function(model: keras.Model):
    """A compiled ``(trainable, non_trainable, x, y) -> norms`` for every model shaped like
    ``model``: the seeds of one cell share one compilation."""
    import jax  # backend-specific: Keras has no backend-neutral gradient with respect to inputs

    loss = keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum")

    def total_loss(x, trainable, non_trainable, y):
        logits, _ = model.stateless_call(trainable, non_trainable, x)
        return loss(y, logits)

    # The per-example losses are summed before differentiating, so each example's input
    # gradient is its own (examples do not interact), not divided by the batch size.
    gradient = jax.grad(total_loss)

    @jax.jit
    def norms(trainable, non_trainable, x, y):
        return jax.numpy.linalg.norm(gradient(x, trainable, non_trainable, y), axis=-1).mean(0)

    return norms


def _values(variables) -> list:
    return [v.value for v in variables]


def input_gradient_norms(model: keras.Model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean over examples of ``||d loss_i / d x_{i,t}||`` for every step t: shape ``(length,)``."""
    norms = _input_gradient_function(model)
    values = norms(_values(model.trainable_variables), _values(model.non_trainable_variables), x, y)
    return np.asarray(values, dtype="float64")


def weight_gradient_norms(model: keras.Model, x: np.ndarray, y: np.ndarray) -> list[float]:
    """The norm of the gradient of the batch's mean loss for each weight variable: what
    the optimizer receives, before any clipping."""
    import jax

    non_trainable = _values(model.non_trainable_variables)
    loss = _loss()

    def mean_loss(trainable):
        logits, _ = model.stateless_call(trainable, non_trainable, x)
        return loss(y, logits)

    gradients = jax.grad(mean_loss)(_values(model.trainable_variables))
    return [_global_norm([np.asarray(g)]) for g in gradients]


def memory_horizon(norms: Sequence[float], threshold: float = THRESHOLD) -> int | None:
    """Steps back from the last step at which the norm first falls below ``threshold`` of
    its value there; ``None`` when it never does within the sequence.

    Example:
        >>> memory_horizon([1e-5, 1e-2, 1.0])
        2
    """
    norms = np.asarray(norms, dtype="float64")
    below = np.nonzero(norms[::-1] < threshold * norms[-1])[0]
    return int(below[0]) if len(below) else None


def vanishing_gradients(
    cells: Sequence[str] = CELLS, length: int = 100, units: int = 32, seeds: int = 3
) -> pd.DataFrame:
    """The gradient norm at every input step of fresh one-layer networks, per cell.

    Each network is rnnkit's own forecaster architecture (one recurrent layer of
    ``units`` and a Dense head) on :func:`first_step_task`; norms are averaged over
    128 examples and over ``seeds`` initialisations (seed ``s`` fixes both the weights
    and the batch, so the cells see the same inputs).

    Returns:
        One row per (cell, t), ``t`` from 1 to ``length``: columns ``cell``, ``t``, ``norm``.

    Example:
        >>> frame = vanishing_gradients(("simple_rnn", "gru"), length=20, units=8, seeds=1)
        >>> ends = frame.groupby("cell")["norm"].agg(["first", "last"])
        >>> bool((ends["first"] < ends["last"]).all())  # fainter the further back in time
        True
    """
    cells = check_settings(cells, length, units, seeds)
    rows = []
    for cell in cells:
        per_seed, function = [], None
        for seed in range(seeds):
            keras.utils.set_random_seed(seed)
            model = build_forecaster(length, 1, ModelConfig(cell=cell, num_layers=1, units=units))
            function = function or _input_gradient_function(model)
            x, y = first_step_task(GRADIENT_BATCH, length, seed)
            trainable, non_trainable = model.trainable_variables, model.non_trainable_variables
            per_seed.append(function(_values(trainable), _values(non_trainable), x, y))
        norms = np.mean(np.asarray(per_seed, dtype="float64"), axis=0)
        rows += [(cell, t, float(norm)) for t, norm in enumerate(norms, start=1)]
    return pd.DataFrame(rows, columns=["cell", "t", "norm"])


def summarize_gradients(frame: pd.DataFrame, threshold: float = THRESHOLD) -> dict[str, dict]:
    """Per cell: the norms at t=1 and t=T, their ratio and the memory horizon."""
    summary = {}
    for cell, group in frame.groupby("cell", sort=False):
        norms = group.sort_values("t")["norm"].to_numpy()
        summary[str(cell)] = {
            "norm_first": float(norms[0]),
            "norm_last": float(norms[-1]),
            "ratio": float(norms[0] / norms[-1]) if norms[-1] > 0 else math.nan,
            "memory_horizon": memory_horizon(norms, threshold),
        }
    return summary


def train_on_first_step_task(
    cells: Sequence[str] = CELLS,
    length: int = 100,
    units: int = 32,
    seeds: int = 3,
    steps: int = 300,
    batch_size: int = 64,
    learning_rate: float = TRAIN_LEARNING_RATE,
) -> dict[str, dict]:
    """Trains each cell for ``steps`` Adam steps on fresh batches; held-out accuracy.

    Chance is 0.5. Adam with ``clipnorm=1`` (rnnkit's training defaults) at a learning rate
    ten times rnnkit's default: at 1e-3 no cell learned anything at length 100 within 300
    steps, so the comparison would show nothing. The outcome depends on it (at length 30
    and 1e-3 the LSTM learned and the GRU did not), so treat it as one data point.

    Returns:
        Per cell: ``accuracy`` (mean over seeds) and ``accuracies`` (one per seed).
    """
    cells = check_settings(
        cells, length, units, seeds, train_steps=steps, learning_rate=learning_rate
    )
    results = {}
    for cell in cells:
        accuracies = []
        for seed in range(seeds):
            keras.utils.set_random_seed(seed)
            model = build_forecaster(length, 1, ModelConfig(cell=cell, num_layers=1, units=units))
            training = TrainingConfig(learning_rate=learning_rate, clipnorm=1.0, seed=seed)
            accuracy = keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")  # on logits
            compile_model(model, training, loss=_loss(), metrics=[accuracy])
            # Fresh examples at every step (one epoch, no repeats): accuracy is learning,
            # not memorising a small set. Seed offsets keep them apart from the test set.
            x, y = first_step_task(steps * batch_size, length, 1000 + seed)
            model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
            x_test, y_test = first_step_task(EVALUATION_SIZE, length, 2000 + seed)
            logs = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
            accuracies.append(float(logs["accuracy"]))
        results[cell] = {"accuracy": float(np.mean(accuracies)), "accuracies": accuracies}
    return results


# ----------------------------------------------------------------------- exploding case
def build_exploding_rnn(length: int, units: int, radius: float) -> keras.Model:
    """A linear simple RNN whose recurrent kernel is orthogonal times ``radius``.

    Every singular value (so the spectral radius) equals ``radius``: with no squashing
    activation the state and the gradient grow exactly as ``radius**t``.
    """
    inputs = keras.Input(shape=(length, 1), name="window")
    x = keras.layers.SimpleRNN(
        units,
        activation="linear",
        recurrent_initializer=keras.initializers.Orthogonal(gain=radius),
        name="rnn_1",
    )(inputs)
    return keras.Model(inputs, keras.layers.Dense(1, name="logit")(x), name="exploding_rnn")


def exploding_gradients(
    length: int = 30,
    units: int = 32,
    radius: float = 1.5,
    steps: int = 20,
    learning_rate: float = 1e-2,
    clipnorm: float = 1.0,
    seed: int = 0,
    batch_size: int = 64,
    optimizers: Sequence[str] = ("sgd", "adam"),
) -> dict[str, Any]:
    """The exploding case: per-step gradient growth, then training with and without clipping.

    The same network (:func:`build_exploding_rnn`, same seed) is trained for ``steps``
    batches with each of ``optimizers`` (``"sgd"``, ``"adam"``), without clipping and with
    Keras's ``clipnorm`` (which, as rnnkit's training uses it, clips each variable's
    gradient separately to that norm; ``global_clipnorm`` would clip them together).
    SGD's update is the gradient times the learning rate, the case the guide describes;
    Adam divides by its running gradient scale, so its steps stay near the learning rate.

    Returns:
        ``norms`` (per step t=1..length), ``growth`` (norm at t=1 over t=length),
        ``gradient_norm`` and ``clipped_gradient_norm`` (global norm of the weights'
        gradient on the first batch, before and after ``clipnorm``), and ``runs``: per
        optimizer, as ``"sgd"`` and ``"sgd_clipnorm"`` etc., the ``losses`` per step, the
        ``first_update_norm`` (how far the first step moved the weights), ``final_loss``
        and ``finite`` (no NaN or infinite loss).

    Example:
        >>> result = exploding_gradients(length=20, units=8, steps=5, optimizers=("sgd",))
        >>> result["runs"]["sgd"]["finite"], result["runs"]["sgd_clipnorm"]["finite"]
        (False, True)
    """
    check_settings(exploding_length=length, units=units, radius=radius, clipnorm=clipnorm)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ConfigError(f"steps must be an integer >= 1, got {steps!r}.")
    unknown = [name for name in optimizers if name not in ("sgd", "adam")]
    if unknown or not optimizers:
        raise ConfigError(f"optimizers must be among 'sgd' and 'adam', got {optimizers!r}.")
    batches = [first_step_task(batch_size, length, 3000 + seed + i) for i in range(steps)]
    keras.utils.set_random_seed(seed)
    model = build_exploding_rnn(length, units, radius)
    norms = input_gradient_norms(model, *first_step_task(GRADIENT_BATCH, length, seed))
    per_variable = weight_gradient_norms(model, *batches[0])
    # Keras's clipnorm scales each variable's gradient g to g * c / max(|g|, c).
    clipped = [min(norm, clipnorm) for norm in per_variable]

    classes = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam}
    runs = {}
    for name, clip in [(o, c) for o in optimizers for c in (None, clipnorm)]:
        keras.utils.set_random_seed(seed)
        model = build_exploding_rnn(length, units, radius)
        model.compile(optimizer=classes[name](learning_rate, clipnorm=clip), loss=_loss())
        before = model.get_weights()
        losses, first_update = [], math.nan
        for step, (x, y) in enumerate(batches):
            # train_on_batch returns this batch's loss before its update: one value per step
            # (fit's per-batch logs are running means, which hide the first NaN).
            losses.append(float(model.train_on_batch(x, y)))
            if step == 0:
                first_update = _global_norm([a - b for a, b in zip(model.get_weights(), before)])
        runs[name if clip is None else f"{name}_clipnorm"] = {
            "losses": losses,
            "first_update_norm": first_update,
            "final_loss": losses[-1] if losses else math.nan,
            "finite": all(math.isfinite(v) for v in losses),
        }
    return {
        "length": length,
        "units": units,
        "radius": radius,
        "learning_rate": learning_rate,
        "clipnorm": clipnorm,
        "steps": steps,
        "norms": [float(v) for v in norms],
        "growth": float(norms[0] / norms[-1]),
        "gradient_norm": _global_norm([np.asarray(per_variable)]),
        "clipped_gradient_norm": _global_norm([np.asarray(clipped)]),
        "runs": runs,
    }


# ----------------------------------------------------------------------- the whole run
def run_gradients_experiment(
    cells: Sequence[str] = CELLS,
    length: int = 100,
    units: int = 32,
    seeds: int = 3,
    train_steps: int = 300,
    exploding_length: int = 30,
    radius: float = 1.5,
    clipnorm: float = 1.0,
    learning_rate: float = TRAIN_LEARNING_RATE,
) -> dict[str, Any]:
    """Everything ``rnnkit gradients`` reports: the frame, the summary, the exploding case.

    ``train_steps=0`` skips the brief training (and its accuracies); ``learning_rate`` is
    its Adam learning rate. The exploding case always uses SGD and Adam at 0.01.
    """
    cells = check_settings(
        cells,
        length,
        units,
        seeds,
        train_steps,
        exploding_length,
        radius,
        clipnorm,
        learning_rate,
    )
    started = time.perf_counter()
    frame = vanishing_gradients(cells, length, units, seeds)
    summary = summarize_gradients(frame)
    if train_steps:
        trained = train_on_first_step_task(
            cells, length, units, seeds, train_steps, learning_rate=learning_rate
        )
        for cell, values in trained.items():
            summary[cell].update(values)
    exploding = exploding_gradients(exploding_length, units, radius, clipnorm=clipnorm)
    settings = {
        "cells": list(cells),
        "length": length,
        "units": units,
        "seeds": seeds,
        "train_steps": train_steps,
        "train_learning_rate": learning_rate,
        "threshold": THRESHOLD,
        "gradient_batch": GRADIENT_BATCH,
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
    }
    return {
        "frame": frame,
        "cells": summary,
        "exploding": exploding,
        "settings": settings,
        "seconds": time.perf_counter() - started,
    }
