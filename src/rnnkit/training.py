"""The one place models are trained: ``model.fit`` with Keras callbacks."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from rnnkit.config import TrainingConfig
from rnnkit.errors import TrainingError
from rnnkit.resume import ResumableTraining


def seed_everything(seed: int) -> None:
    """Seeds Python, NumPy and the Keras backend: the same seed gives the same run."""
    keras.utils.set_random_seed(seed)


def compile_model(model: keras.Model, training: TrainingConfig, loss: Any, metrics=None) -> None:
    optimizer = keras.optimizers.Adam(
        learning_rate=training.learning_rate, clipnorm=training.clipnorm or None
    )
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)


class EpochSeed(keras.callbacks.Callback):
    """Re-seeds every generator from ``seed + epoch`` as each epoch begins.

    Each epoch's shuffling and dropout then depend only on the seed and the epoch, not
    on what ran before it in this process, so a run resumed at epoch k repeats the
    uninterrupted run's epochs exactly.
    """

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.seed = seed

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        keras.utils.set_random_seed(self.seed + epoch)


def progress_verbosity() -> int:
    """A live progress bar on a terminal, one line per epoch otherwise (logs, CI)."""
    return 1 if sys.stdout.isatty() else 2


def fit(
    model: keras.Model,
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    training: TrainingConfig,
    checkpoint_path: str | Path | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    class_weight: dict[int, float] | None = None,
    verbose: int | None = None,
    resumable: ResumableTraining | None = None,
) -> dict[str, list[float]]:
    """Trains a compiled model with early stopping on validation loss.

    The best weights (lowest validation loss) are restored at the end, and written to
    ``checkpoint_path`` each time they improve. Training stops at the first NaN loss.
    With ``resumable``, the training state is saved at every epoch end and, when it
    resumes, training continues from the saved epoch (see :mod:`rnnkit.resume`).

    Returns:
        The Keras history: a list per metric, one value per epoch.

    Raises:
        TrainingError: the loss was NaN from the first epoch, so no usable weights exist.
    """
    early_stopping = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=training.patience, restore_best_weights=True
    )
    all_callbacks: list[keras.callbacks.Callback] = [
        EpochSeed(training.seed),
        keras.callbacks.TerminateOnNaN(),
        early_stopping,
        *callbacks,
    ]
    if checkpoint_path is not None:
        all_callbacks.append(
            keras.callbacks.ModelCheckpoint(
                str(checkpoint_path), monitor="val_loss", save_best_only=True
            )
        )
    initial_epoch = 0
    if resumable is not None:
        initial_epoch = resumable.restore(model, early_stopping)
        all_callbacks.append(resumable)  # last: it saves what the others decided
    # A resumed run that had already stopped (early, or on NaN) has nothing left to train.
    if resumable is None or not resumable.finished:
        history = model.fit(
            train[0],
            train[1],
            validation_data=validation,
            epochs=training.epochs,
            initial_epoch=initial_epoch,
            batch_size=training.batch_size,
            callbacks=all_callbacks,
            class_weight=class_weight,
            shuffle=True,
            verbose=progress_verbosity() if verbose is None else verbose,
        )
    source = resumable.history if resumable is not None else history.history
    logs = {key: [float(v) for v in values] for key, values in source.items()}
    weights_finite = all(np.all(np.isfinite(w)) for w in model.get_weights())
    if not weights_finite or not any(math.isfinite(v) for v in logs.get("val_loss", [])):
        raise TrainingError(
            "Training diverged: the loss was NaN or infinite before any usable epoch. "
            "Lower --learning-rate (e.g. by 10x), keep gradient clipping on, or check the "
            "data for extreme values."
        )
    return logs


def stopped_on_nan(history: dict[str, list[float]]) -> bool:
    """Whether training ended on a NaN or infinite loss (and best weights were kept)."""
    return any(not math.isfinite(v) for v in history.get("loss", []))
