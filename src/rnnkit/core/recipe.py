"""The one training recipe of both jobs: the learning-rate range test (when the rate is
``auto``), the seed, the distribution, building and compiling the model, the gradient
probe, the resumable state and the fit. Each job prepares its data and reads the result;
:func:`rnnkit.core.training.fit` stays the only ``model.fit``."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np

from rnnkit.config import TrainingConfig
from rnnkit.core import resume as resume_
from rnnkit.core import training
from rnnkit.core.gradient_health import GradientHealth, probe_batch
from rnnkit.core.range_test import RangeTestResult, range_test


@dataclasses.dataclass(frozen=True)
class TrainingRun:
    """What :func:`train` did.

    Attributes:
        range_test: the learning-rate range test, when the rate was ``auto``.
        learning_rate: the rate trained at (None when only the range test ran).
        model: the trained model, its best validation-loss weights kept (None when only
            the range test ran).
        history: loss (and metrics) per epoch.
        seconds: time spent in the fit.
        gradient_health: the gradient-health callback, when it ran.
        stopped_on_nan: training stopped on a NaN loss.
    """

    range_test: RangeTestResult | None
    learning_rate: float | None = None
    model: keras.Model | None = None
    history: dict[str, list[float]] | None = None
    seconds: float = 0.0
    gradient_health: GradientHealth | None = None
    stopped_on_nan: bool = False


def run_range_test(
    build_model: Callable[[], keras.Model],
    sample: tuple[Any, np.ndarray],
    loss: str,
    settings: TrainingConfig,
) -> RangeTestResult:
    """The learning-rate range test on a fresh model seeded as training will be."""
    training.seed_everything(settings.seed)
    return range_test(build_model(), *sample, loss, settings.batch_size, clipnorm=settings.clipnorm)


def train(
    build_model: Callable[[], keras.Model],
    train_part: Any,
    validation_part: Any,
    settings: TrainingConfig,
    *,
    loss: str,
    sample: tuple[Any, np.ndarray],
    default_learning_rate: float,
    fingerprint: Callable[[float], dict[str, Any]],
    metrics: Sequence[str] | None = None,
    class_weight: dict[int, float] | None = None,
    built: Callable[[keras.Model], None] | None = None,
    checkpoint_path: str | os.PathLike[str] | None = None,
    callbacks: tuple = (),
    verbose: int | None = None,
    state_path: str | os.PathLike[str] | None = None,
    resume: bool = False,
    range_test_only: bool = False,
    validation_batch_size: int | None = None,
) -> TrainingRun:
    """Trains a model of ``build_model`` on ``train_part``, stopping early on
    ``validation_part``.

    Args:
        build_model: builds the (uncompiled) model; called under the distribution.
        train_part: ``(inputs, targets)`` arrays, or a dataset of batches.
        validation_part: the same for the validation part.
        settings: the job's training configuration.
        loss: the Keras loss.
        sample: ``(inputs, targets)`` arrays the range test and the gradient probe draw
            their batches from.
        default_learning_rate: the rate to train at when the range test is inconclusive.
        fingerprint: given the rate trained at, what identifies this run's configuration
            and data to a resumed run (:func:`rnnkit.core.resume.fingerprint`).
        metrics: Keras metrics to compile with.
        class_weight: weights of the classes in the loss.
        built: called with the model once built, before it is compiled.
        checkpoint_path: where the best model so far is written during training.
        callbacks: extra Keras callbacks.
        verbose: Keras verbosity.
        state_path: save the training state here at every epoch end.
        resume: continue from the state in ``state_path`` if there is one.
        range_test_only: stop after the range test (when the rate is ``auto``).
        validation_batch_size: rows per validation batch (see :func:`training.fit`).
    """
    result = None
    if settings.learning_rate == "auto":
        result = run_range_test(build_model, sample, loss, settings)
        # An inconclusive sweep (the loss never fell) falls back to the tuned default.
        settings = settings.replace(learning_rate=result.rate_to_use(default_learning_rate))
        if range_test_only:
            return TrainingRun(range_test=result)
    learning_rate = float(settings.learning_rate)

    # Build, compile and fit under one distribution: the variables must be created
    # where the training steps will run.
    with training.distributed(settings.distribute):
        model = _compiled_model(build_model, settings, loss, metrics, built)
        health = _gradient_health(settings, sample, loss)
        if health is not None:
            callbacks = (*callbacks, health)
        resumable = None
        if state_path is not None:
            resumable = resume_.ResumableTraining(state_path, fingerprint(learning_rate), resume)
        started = time.perf_counter()
        history = training.fit(
            model,
            train_part,
            validation_part,
            settings,
            checkpoint_path=checkpoint_path,
            callbacks=callbacks,
            class_weight=class_weight,
            verbose=verbose,
            resumable=resumable,
            validation_batch_size=validation_batch_size,
        )
        seconds = time.perf_counter() - started
    return TrainingRun(
        range_test=result,
        learning_rate=learning_rate,
        model=model,
        history=history,
        seconds=seconds,
        gradient_health=health,
        stopped_on_nan=training.stopped_on_nan(history),
    )


def _compiled_model(
    build_model: Callable[[], keras.Model],
    settings: TrainingConfig,
    loss: str,
    metrics: Sequence[str] | None,
    built: Callable[[keras.Model], None] | None,
) -> keras.Model:
    """A model of ``build_model`` built from the seed and compiled; call it under the
    distribution the model trains in."""
    training.seed_everything(settings.seed)
    model = build_model()
    if built is not None:
        built(model)
    training.compile_model(model, settings, loss, metrics=metrics)
    return model


def _gradient_health(
    settings: TrainingConfig, sample: tuple[Any, np.ndarray], loss: str
) -> GradientHealth | None:
    """The gradient probe callback on a batch of ``sample``, when ``gradient_health``."""
    if not settings.gradient_health:
        return None
    probe = probe_batch(*sample, settings.batch_size, settings.seed)
    return GradientHealth(probe, loss)
