"""The one place models are trained: ``model.fit`` with Keras callbacks."""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from rnnkit.config import TrainingConfig
from rnnkit.errors import ConfigError, TrainingError
from rnnkit.resume import ResumableTraining


def seed_everything(seed: int) -> None:
    """Seeds Python, NumPy and the Keras backend: the same seed gives the same run."""
    keras.utils.set_random_seed(seed)


def compile_model(model: keras.Model, training: TrainingConfig, loss: Any, metrics=None) -> None:
    optimizer = keras.optimizers.Adam(
        learning_rate=training.learning_rate, clipnorm=training.clipnorm or None
    )
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)


# Environment variables naming the process group of a multi-process (multi-host) run.
COORDINATOR_VARIABLE = "RNNKIT_COORDINATOR"
NUM_PROCESSES_VARIABLE = "RNNKIT_NUM_PROCESSES"
PROCESS_ID_VARIABLE = "RNNKIT_PROCESS_ID"

_processes_initialized = False


def initialize_processes() -> bool:
    """Joins the multi-process run named by ``RNNKIT_COORDINATOR`` and its siblings.

    Must run before anything touches JAX devices (JAX only learns of the other
    processes' devices at initialisation); later calls do nothing. On CPU the
    collectives go through gloo, JAX's CPU implementation across processes.

    Returns:
        Whether this process is part of a multi-process run.

    Raises:
        ConfigError: only some of the three variables are set, or they are malformed.
    """
    global _processes_initialized
    names = (COORDINATOR_VARIABLE, NUM_PROCESSES_VARIABLE, PROCESS_ID_VARIABLE)
    values = {name: os.environ.get(name, "") for name in names}
    if not any(values.values()):
        return False
    if not all(values.values()):
        missing = ", ".join(name for name, value in values.items() if not value)
        raise ConfigError(
            f"A multi-process run needs {', '.join(names)}; {missing} not set. Set all three "
            "(the coordinator's host:port, how many processes, this process's id from 0), "
            "or none for a single process."
        )
    try:
        num_processes = int(values[NUM_PROCESSES_VARIABLE])
        process_id = int(values[PROCESS_ID_VARIABLE])
    except ValueError as error:
        raise ConfigError(
            f"{NUM_PROCESSES_VARIABLE} and {PROCESS_ID_VARIABLE} must be integers: {error}."
        ) from None
    if not 0 <= process_id < num_processes:
        raise ConfigError(
            f"{PROCESS_ID_VARIABLE}={process_id} must be in [0, {num_processes}) "
            f"({NUM_PROCESSES_VARIABLE}={num_processes})."
        )
    if not _processes_initialized:
        import jax

        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(
            coordinator_address=values[COORDINATOR_VARIABLE],
            num_processes=num_processes,
            process_id=process_id,
        )
        _processes_initialized = True
    return True


def process_index() -> tuple[int, int]:
    """This process's id and the number of processes (``(0, 1)`` in a single process)."""
    import jax

    return jax.process_index(), jax.process_count()


@contextlib.contextmanager
def distributed(enabled: bool) -> Iterator[keras.distribution.Distribution | None]:
    """Data-parallel training over every device while the block runs, when ``enabled``.

    Build, compile and fit the model inside the block: the variables are then created
    replicated on every device, each batch is split across the devices, and the
    gradients are all-reduced, so one step equals one single-device step on the whole
    batch (up to the order of float sums). In a multi-process run (see
    :func:`initialize_processes`) the devices of every process take part and
    :func:`fit` gives each process its share of the data. The previous distribution
    is restored afterwards.

    Yields:
        The ``DataParallel`` distribution, or ``None`` when not ``enabled``.
    """
    if not enabled:
        yield None
        return
    initialize_processes()
    previous = keras.distribution.distribution()
    # auto_shard_dataset only applies to tf.data input; rnnkit gives each process its rows.
    distribution = keras.distribution.DataParallel(
        devices=keras.distribution.list_devices(), auto_shard_dataset=False
    )
    keras.distribution.set_distribution(distribution)
    try:
        yield distribution
    finally:
        keras.distribution.set_distribution(previous)


def _local_share(
    part: tuple[np.ndarray, np.ndarray], process: int, processes: int, devices: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``process::processes``, cut so every process has the same number of rows and
    that number divides across this process's devices (JAX shards only whole batches:
    at most ``processes * devices - 1`` rows of the part are left out)."""
    rows = len(part[0]) // (processes * devices) * devices
    return part[0][process::processes][:rows], part[1][process::processes][:rows]


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

    Under :func:`distributed`, ``training.batch_size`` is the global batch: each of the
    processes trains on its share of the rows with ``batch_size / processes`` rows per
    step, and the parts are cut to a multiple of the device count.

    Returns:
        The Keras history: a list per metric, one value per epoch.

    Raises:
        TrainingError: the loss was NaN from the first epoch, so no usable weights exist.
        ConfigError: under :func:`distributed`, the batch size does not divide across the
            devices.
    """
    batch_size = training.batch_size
    distribution = keras.distribution.distribution()
    if distribution is not None:
        devices = len(distribution.device_mesh.devices.flat)
        process, processes = process_index()
        if batch_size % devices:
            raise ConfigError(
                f"--batch-size {batch_size} does not divide across {devices} devices; "
                f"choose a multiple of {devices}."
            )
        local_devices = devices // processes
        batch_size //= processes
        train = _local_share(train, process, processes, local_devices)
        validation = _local_share(validation, process, processes, local_devices)
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
            batch_size=batch_size,
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
