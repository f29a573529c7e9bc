"""The one place models are trained: ``model.fit`` with Keras callbacks."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from rnnkit.config import TrainingConfig
from rnnkit.core import compilation
from rnnkit.core.resume import ResumableTraining
from rnnkit.data.array_batches import FullBatches, class_weights
from rnnkit.errors import ConfigError, TrainingError


def seed_everything(seed: int) -> None:
    """Seeds Python, NumPy and the Keras backend: the same seed gives the same run."""
    keras.utils.set_random_seed(seed)


def compile_model(model: keras.Model, training: TrainingConfig, loss: Any, metrics=None) -> None:
    compilation.enable_cache()
    optimizer = keras.optimizers.Adam(
        learning_rate=training.learning_rate, clipnorm=training.clipnorm or None
    )
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)


# Environment variables naming the process group of a multi-process (multi-host) run; the
# train commands' --coordinator, --num-processes and --process-id stand for them.
COORDINATOR_VARIABLE = "RNNKIT_COORDINATOR"
NUM_PROCESSES_VARIABLE = "RNNKIT_NUM_PROCESSES"
PROCESS_ID_VARIABLE = "RNNKIT_PROCESS_ID"

_processes_initialized = False


@dataclasses.dataclass(frozen=True)
class ProcessGroup:
    """The processes that train one model together, and which of them this one is."""

    coordinator: str  # host:port where process 0 listens
    num_processes: int
    process_id: int


def process_group(
    coordinator: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
) -> ProcessGroup | None:
    """The multi-process run this process belongs to, or ``None`` for a single process.

    Each value comes from its argument (the CLI's ``--coordinator``, ``--num-processes``,
    ``--process-id``) or, when that is ``None``, from ``RNNKIT_COORDINATOR``,
    ``RNNKIT_NUM_PROCESSES`` and ``RNNKIT_PROCESS_ID``.

    Example:
        >>> process_group("10.0.0.1:7777", 2, 1)
        ProcessGroup(coordinator='10.0.0.1:7777', num_processes=2, process_id=1)

    Raises:
        ConfigError: only some of the three are given, or one is malformed.
    """
    given = (coordinator, num_processes, process_id)
    names = (COORDINATOR_VARIABLE, NUM_PROCESSES_VARIABLE, PROCESS_ID_VARIABLE)
    flags = ("--coordinator", "--num-processes", "--process-id")
    values = [
        str(value) if value is not None else os.environ.get(name, "").strip()
        for value, name in zip(given, names)
    ]
    labels = [f"{flag} ({name})" for flag, name in zip(flags, names)]
    if not any(values):
        return None
    if not all(values):
        missing = ", ".join(label for label, value in zip(labels, values) if not value)
        raise ConfigError(
            f"A multi-process run needs all of {', '.join(labels)}; {missing} not given. Give "
            "all three (process 0's host:port, how many processes, this process's id from "
            "0), or none for a single process."
        )
    host, _, port = values[0].rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(
            f"{labels[0]} is {values[0]!r}; expected process 0's host:port, e.g. "
            "10.0.0.1:7777 (or 127.0.0.1:7777 for processes on one machine)."
        )
    numbers = []
    for label, value in zip(labels[1:], values[1:]):
        try:
            numbers.append(int(value))
        except ValueError:
            raise ConfigError(f"{label} must be a whole number, got {value!r}.") from None
    processes, process = numbers
    if processes < 1:
        raise ConfigError(f"{labels[1]} must be at least 1, got {processes}.")
    if not 0 <= process < processes:
        raise ConfigError(
            f"{labels[2]} is {process} but must be from 0 to {processes - 1} for "
            f"{processes} processes ({labels[1]})."
        )
    return ProcessGroup(values[0], processes, process)


def initialize_processes(
    coordinator: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
) -> bool:
    """Joins the multi-process run named by the arguments or ``RNNKIT_*`` variables.

    See :func:`process_group` for where the values come from. Must run before anything
    touches JAX devices (JAX only learns of the other processes' devices at
    initialisation); once a run is joined, later calls do nothing and return True. On
    CPU the collectives go through gloo, JAX's CPU implementation across processes.

    Returns:
        Whether this process is part of a multi-process run.

    Raises:
        ConfigError: only some of the three values are given, or they are malformed.
    """
    global _processes_initialized
    if _processes_initialized:
        return True
    group = process_group(coordinator, num_processes, process_id)
    if group is None:
        return False
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=group.coordinator,
        num_processes=group.num_processes,
        process_id=group.process_id,
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


def _local_share(part: tuple[Any, np.ndarray], process: int, processes: int, devices: int):
    """Rows ``process::processes``, cut so every process has the same number of rows and
    that number divides across this process's devices (JAX shards only whole batches:
    at most ``processes * devices - 1`` rows of the part are left out). The inputs may be
    one array or a list of them (a model of several inputs)."""
    inputs, labels = part
    rows = len(labels) // (processes * devices) * devices

    def share(a: np.ndarray) -> np.ndarray:
        return a[process::processes][:rows]

    if isinstance(inputs, (list, tuple)):
        return [share(a) for a in inputs], share(labels)
    return share(inputs), share(labels)


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


@contextlib.contextmanager
def _without_distribution() -> Iterator[None]:
    """No distribution while the block runs: variables it creates live on this process."""
    previous = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(previous)


class BestModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """Saves the model to ``path`` whenever the validation loss improves.

    Unlike a plain ``ModelCheckpoint``, one process of a multi-process run can run it
    alone. Saving builds a throwaway optimizer (Keras lists the attributes it skips), and
    under a distribution over several processes creating its variable is a collective
    (``jax.device_put`` checks that every process passes the same value) that the other
    processes would never join: the next collective they do reach is then paired with it
    and both fail with "passed to device_put is not the same on each process". So saving
    runs without the distribution; reading the replicated weights needs no other process.
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__(str(path), monitor="val_loss", save_best_only=True)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        with _without_distribution():
            super().on_epoch_end(epoch, logs)


def progress_verbosity() -> int:
    """A live progress bar on a terminal, one line per epoch otherwise (logs, CI)."""
    return 1 if sys.stdout.isatty() else 2


def _data_arguments(
    train: tuple[np.ndarray, np.ndarray] | keras.utils.PyDataset,
    validation: tuple[np.ndarray, np.ndarray] | keras.utils.PyDataset,
    batch_size: int,
    validation_batch_size: int | None = None,
    class_weight: dict[int, float] | None = None,
) -> dict[str, Any]:
    """``model.fit``'s data arguments: arrays as :class:`FullBatches` (shuffled, every
    batch of one shape, the class weights folded into the rows' weights), or datasets that
    batch and shuffle themselves (``rnnkit.data.text_batches.TextBatches`` makes its
    batches in order, so Keras must not shuffle their indices)."""
    if isinstance(train, keras.utils.PyDataset):
        return {
            "x": train,
            "validation_data": validation,
            "shuffle": False,
            "class_weight": class_weight,
        }
    weights = class_weights(train[1], class_weight) if class_weight else None
    return {
        "x": FullBatches(train[0], train[1], batch_size, weights),
        "validation_data": validation,
        "validation_batch_size": validation_batch_size or batch_size,
        "shuffle": False,
    }


def fit(
    model: keras.Model,
    train: tuple[np.ndarray, np.ndarray] | keras.utils.PyDataset,
    validation: tuple[np.ndarray, np.ndarray] | keras.utils.PyDataset,
    training: TrainingConfig,
    checkpoint_path: str | Path | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    class_weight: dict[int, float] | None = None,
    verbose: int | None = None,
    resumable: ResumableTraining | None = None,
    validation_batch_size: int | None = None,
) -> dict[str, list[float]]:
    """Trains a compiled model with early stopping on validation loss.

    The best weights (lowest validation loss) are restored at the end, and written to
    ``checkpoint_path`` each time they improve. Training stops at the first NaN loss.
    With ``resumable``, the training state is saved at every epoch end and, when it
    resumes, training continues from the saved epoch (see :mod:`rnnkit.core.resume`).

    ``train`` and ``validation`` are ``(x, y)`` arrays, or ``keras.utils.PyDataset``s
    that batch and shuffle themselves (a text corpus streamed from a file; not under
    :func:`distributed`).

    Under :func:`distributed`, ``training.batch_size`` is the global batch: each of the
    processes trains on its share of the rows with ``batch_size / processes`` rows per
    step, and the parts are cut to a multiple of the device count.

    ``validation_batch_size`` (arrays only; ``batch_size`` by default): rows per
    validation batch. The whole validation part in one batch compiles the validation
    step for one shape instead of two (full batches and the last, partial one).

    Returns:
        The Keras history: a list per metric, one value per epoch.

    Raises:
        TrainingError: the loss was NaN from the first epoch, so no usable weights exist.
        ConfigError: under :func:`distributed`, the batch size does not divide across the
            devices.
    """
    train, validation, batch_size = _process_share(train, validation, training.batch_size)
    all_callbacks, early_stopping = _training_callbacks(training, checkpoint_path, callbacks)
    initial_epoch = 0
    if resumable is not None:
        initial_epoch = resumable.restore(model, early_stopping)
        all_callbacks.append(resumable)  # last: it saves what the others decided
    # A resumed run that had already stopped (early, or on NaN) has nothing left to train.
    if resumable is None or not resumable.finished:
        history = model.fit(
            **_data_arguments(train, validation, batch_size, validation_batch_size, class_weight),
            epochs=training.epochs,
            initial_epoch=initial_epoch,
            callbacks=all_callbacks,
            verbose=progress_verbosity() if verbose is None else verbose,
        )
    source = resumable.history if resumable is not None else history.history
    logs = {key: [float(v) for v in values] for key, values in source.items()}
    _check_converged(model, logs)
    return logs


def fit_epochs(
    model: keras.Model,
    train: tuple[Any, np.ndarray],
    training: TrainingConfig,
    epochs: int,
    class_weight: dict[int, float] | None = None,
) -> dict[str, list[float]] | None:
    """Trains a compiled model for exactly ``epochs`` epochs on the arrays ``train``, with
    no validation part: the refit on every labelled row once early stopping on a
    validation part has chosen the epochs. Seeded per epoch as :func:`fit` is.

    The targets may be class ids repeated over an ensemble's members, ``(rows,
    members)``; ``class_weight`` then weighs each row by its class, for every member.

    Returns:
        The history, or ``None`` when the loss or the weights became non-finite (the
        caller keeps the model it had).
    """
    targets = np.asarray(train[1])
    weights = class_weights(targets, class_weight) if class_weight else None
    history = model.fit(
        FullBatches(train[0], targets, training.batch_size, weights),
        shuffle=False,
        epochs=epochs,
        callbacks=[EpochSeed(training.seed), keras.callbacks.TerminateOnNaN()],
        verbose=0,
    )
    logs = {key: [float(v) for v in values] for key, values in history.history.items()}
    finite = all(math.isfinite(v) for v in logs.get("loss", [math.nan]))
    if not finite or not all(np.all(np.isfinite(w)) for w in model.get_weights()):
        return None
    return logs


def _training_callbacks(
    training: TrainingConfig,
    checkpoint_path: str | Path | None,
    callbacks: Sequence[keras.callbacks.Callback],
) -> tuple[list[keras.callbacks.Callback], keras.callbacks.EarlyStopping]:
    """The callbacks of every training (seed per epoch, stop on NaN, early stopping),
    the caller's, then the best-weights checkpoint; with the early stopping, which a
    resumed run restores."""
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
        all_callbacks.append(BestModelCheckpoint(checkpoint_path))
    return all_callbacks, early_stopping


def _process_share(
    train: tuple[np.ndarray, np.ndarray] | keras.utils.PyDataset,
    validation: tuple[np.ndarray, np.ndarray] | keras.utils.PyDataset,
    batch_size: int,
) -> tuple[Any, Any, int]:
    """This process's share of the data and of the global batch under
    :func:`distributed`; the data and batch as given otherwise."""
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
    return train, validation, batch_size


def _check_converged(model: keras.Model, logs: dict[str, list[float]]) -> None:
    """Refuses a training that left non-finite weights or no finite validation loss."""
    weights_finite = all(np.all(np.isfinite(w)) for w in model.get_weights())
    if not weights_finite or not any(math.isfinite(v) for v in logs.get("val_loss", [])):
        raise TrainingError(
            "Training diverged: the loss was NaN or infinite before any usable epoch. "
            "Lower --learning-rate (e.g. by 10x), keep gradient clipping on, or check the "
            "data for extreme values."
        )


def stopped_on_nan(history: dict[str, list[float]]) -> bool:
    """Whether training ended on a NaN or infinite loss (and best weights were kept)."""
    return any(not math.isfinite(v) for v in history.get("loss", []))
