"""Resumable training: the state at each epoch end, so a killed run continues where it was.

The state is one ``.npz`` file (no pickle) written beside the run directory, as
``.NAME.training-state.npz`` for a run ``NAME``, at the end of every epoch: to a temporary
name first, then renamed, so the file always holds one whole epoch. It holds the model's
variables (weights and dropout seed states), the optimizer's variables (Adam's moments
and step count), early stopping's state (best loss, best weights, patience used), the
history so far, and a fingerprint of the configuration and the training data.

Resuming rebuilds the model exactly as a new run would, loads all of that, and calls
``model.fit(initial_epoch=k)``. Because every epoch re-seeds the random generators from
``seed + epoch`` (:class:`rnnkit.core.training.EpochSeed`), the resumed epochs shuffle and drop
out exactly as the uninterrupted run does, and the two end with the same weights.

Example:
    >>> Forecaster(epochs=50).fit("loans.csv", state_path=".run.training-state.npz")
    ... # killed at epoch 20; the same call with resume=True trains epochs 21..50
    ... # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from rnnkit.errors import ConfigError, RunDirectoryError

STATE_VERSION = 1


def state_path(out: str | os.PathLike[str]) -> Path:
    """Where the training state of a run written to ``out`` is kept.

    Example:
        >>> state_path("runs/forecast").as_posix()
        'runs/.forecast.training-state.npz'
    """
    out = Path(out)
    return out.parent / f".{out.name}.training-state.npz"


def announce(path: Path, resume: bool, say: Callable[[str], None]) -> None:
    """Tells the user, through ``say``, what happens to a saved training state."""
    if resume and path.exists():
        epochs = ResumableTraining(path, {}, resume=True).saved_epochs()
        say(f"resuming after epoch {epochs} from the saved training state {path}")
    elif resume:
        say(f"no saved training state at {path}: training from the first epoch")
    elif path.exists():
        say(
            f"note: {path} holds the state of an interrupted run; starting over (pass "
            "--resume to continue it instead)"
        )


def fingerprint(
    job: str, config: dict[str, Any], learning_rate: float, arrays: list[np.ndarray]
) -> dict[str, Any]:
    """What must not change between a run and its resumption: config, data, rate."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(array.tobytes())
    return {
        "job": job,
        "config": config,
        "learning_rate": float(learning_rate),
        "data_sha256": digest.hexdigest(),
    }


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        flat: dict[str, Any] = {}
        for key, value in data.items():
            flat.update(_flat(value, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): data}


def _differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    old, new = _flat(saved), _flat(current)
    names = {"data_sha256": "training data", "learning_rate": "learning rate (resolved)"}
    return [
        f"{names.get(key, key)}: saved {old.get(key)!r}, now {new.get(key)!r}"
        if key != "data_sha256"
        else "the training data differ"
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    ]


def _finite_or_none(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _process() -> tuple[int, int]:
    """This process's id and the number of processes training together."""
    if keras.backend.backend() != "jax":
        return 0, 1
    import jax

    return jax.process_index(), jax.process_count()


class ResumableTraining(keras.callbacks.Callback):
    """Saves the training state at every epoch end; on resume, restores it before fit.

    Args:
        path: the state file (see :func:`state_path`).
        fingerprint: from :func:`fingerprint`; a saved state with another one is refused.
        resume: continue from the state in ``path`` when it exists (otherwise start over
            and overwrite it).

    In a multi-process run (see :func:`rnnkit.core.training.initialize_processes`) every
    process takes one, with the same ``path``: process 0 alone writes the state, and on
    resume every process reads it (restoring is collective), so on several hosts the
    file must be on a shared filesystem or copied to the same path on each.

    Use through :func:`rnnkit.core.training.fit`, which wires it to early stopping.
    """

    def __init__(
        self, path: str | os.PathLike[str], fingerprint: dict[str, Any], resume: bool = False
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.fingerprint = fingerprint
        self.resume = resume
        self.history: dict[str, list[float]] = {}
        self.initial_epoch = 0
        self.finished = False  # the saved run had stopped: nothing is left to train
        self._early_stopping: keras.callbacks.EarlyStopping | None = None
        self._pending: dict[str, Any] | None = None

    # ----------------------------------------------------------------- restoring
    def saved_epochs(self) -> int | None:
        """Epochs completed in the saved state, or None when there is none to resume."""
        if not (self.resume and self.path.exists()):
            return None
        return int(self._read_meta()["epochs_done"])

    def _read_meta(self) -> dict[str, Any]:
        try:
            with np.load(self.path, allow_pickle=False) as state:
                meta = json.loads(str(state["meta"]))
        except (OSError, ValueError, KeyError) as err:
            raise RunDirectoryError(
                f"The saved training state '{self.path}' cannot be read ({err}). Delete it "
                "and train without --resume."
            ) from err
        if meta.get("version") != STATE_VERSION:
            raise RunDirectoryError(
                f"The saved training state '{self.path}' is from another rnnkit version. "
                "Delete it and train without --resume."
            )
        return meta

    def restore(self, model: keras.Model, early_stopping: keras.callbacks.EarlyStopping) -> int:
        """Loads the saved state into ``model`` and returns the epoch to start from.

        Raises:
            ConfigError: the state was saved by a run with another configuration or data.
        """
        self._early_stopping = early_stopping
        if self.resume:
            self._check_processes_agree()
        if self.saved_epochs() is None:
            return 0
        meta = self._read_meta()
        differences = _differences(meta["fingerprint"], self.fingerprint)
        if differences:
            raise ConfigError(
                f"Cannot resume from '{self.path}': it was saved by a run with other settings "
                f"({'; '.join(differences[:4])}{'; ...' if len(differences) > 4 else ''}). "
                "Run the same command as the interrupted one, or drop --resume to start over."
            )
        with np.load(self.path, allow_pickle=False) as state:
            arrays = {key: state[key] for key in state.files if key != "meta"}
        variables = [arrays[f"model_{i}"] for i in range(meta["model_variables"])]
        for variable, value in zip(model.variables, variables, strict=True):
            variable.assign(value)
        optimizer = model.optimizer
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
        for variable, i in zip(
            optimizer.variables, range(meta["optimizer_variables"]), strict=True
        ):
            variable.assign(arrays[f"optimizer_{i}"])
        best = [arrays[f"best_{i}"] for i in range(meta["best_weights"])]
        self.history = meta["history"]
        self.finished = bool(meta["finished"])
        self._pending = {**meta["early_stopping"], "best_weights": best or None}
        self.initial_epoch = int(meta["epochs_done"])
        if self.finished and best:
            # Training will not run again: apply what EarlyStopping's on_train_end would.
            model.set_weights(best)
        return self.initial_epoch

    def _check_processes_agree(self) -> None:
        """Stops every process of a multi-process run unless all see the same saved state.

        Restoring assigns the variables, a collective across the processes: a process
        that found no state, or another one (on another host, say), would not take the
        same steps as the others, and the run would fail at its first step.

        Raises:
            ConfigError: on every process, when they do not all see the same state.
        """
        process, processes = _process()
        if processes == 1:
            return
        from jax.experimental import multihost_utils

        epochs, digest = -1, 0  # -1: no state; -2: a state that cannot be read
        if self.path.exists():
            digest = zlib.crc32(self.path.read_bytes()) & 0x7FFFFFFF
            try:
                epochs = self.saved_epochs() or 0
            except RunDirectoryError:
                epochs = -2
        seen = np.asarray(
            multihost_utils.process_allgather(np.array([epochs, digest], dtype=np.int32))
        ).reshape(processes, 2)
        if (seen == seen[0]).all():
            return

        def describe(row: np.ndarray) -> str:
            if row[0] < 0:
                return "no state" if row[0] == -1 else "a state it cannot read"
            other = " (another file)" if row[1] != seen[0][1] else ""
            return f"a state after epoch {row[0]}{other}"

        views = "; ".join(f"process {i}: {describe(row)}" for i, row in enumerate(seen))
        raise ConfigError(
            f"The processes of this run do not see the same saved training state at "
            f"'{self.path}' ({views}). With --resume every process reads the state that "
            "process 0 wrote: on several hosts, keep it on a shared filesystem or copy it to "
            "the same path on each host; or drop --resume to start over."
        )

    def on_train_begin(self, logs=None) -> None:
        # EarlyStopping resets itself in its own on_train_begin, which runs before this.
        if self._pending is not None and self._early_stopping is not None:
            for key, value in self._pending.items():
                setattr(self._early_stopping, key, value)
            self._pending = None

    # ----------------------------------------------------------------- saving
    def on_epoch_end(self, epoch: int, logs=None) -> None:
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        last = epoch + 1 >= int(self.params.get("epochs") or 0)
        self._save(epoch + 1, finished=bool(self.model.stop_training) or last)

    def _save(self, epochs_done: int, finished: bool) -> None:
        if _process()[0] != 0:
            return  # process 0 alone writes; the others hold the same (replicated) values
        stopping = self._early_stopping
        best_weights = (stopping.best_weights if stopping is not None else None) or []
        best = None if stopping is None or stopping.best is None else float(stopping.best)
        meta = {
            "version": STATE_VERSION,
            "epochs_done": epochs_done,
            "finished": finished,
            "fingerprint": self.fingerprint,
            "history": self.history,
            "model_variables": len(self.model.variables),
            "optimizer_variables": len(self.model.optimizer.variables),
            "best_weights": len(best_weights),
            "early_stopping": {
                "best": _finite_or_none(best),
                "wait": int(stopping.wait) if stopping else 0,
                "best_epoch": int(stopping.best_epoch) if stopping else 0,
                "stopped_epoch": int(stopping.stopped_epoch) if stopping else 0,
            },
        }
        arrays = {f"model_{i}": np.asarray(v) for i, v in enumerate(self.model.variables)}
        arrays.update(
            {f"optimizer_{i}": np.asarray(v) for i, v in enumerate(self.model.optimizer.variables)}
        )
        arrays.update({f"best_{i}": np.asarray(w) for i, w in enumerate(best_weights)})
        arrays["meta"] = np.array(json.dumps(meta, allow_nan=True))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        with temporary.open("wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())  # a power cut must not leave a renamed empty file
        os.replace(temporary, self.path)
