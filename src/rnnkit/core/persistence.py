"""Run directories: written complete or not at all, read back with checks.

A run is a directory holding ``model.keras`` (loaded with Keras safe mode), JSON files
and plots. Nothing is pickled. Writing goes to a hidden sibling directory that is renamed
into place only once every file is written, so a failure leaves no half-written run.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rnnkit import __version__
from rnnkit.core import compilation
from rnnkit.core.run_lock import run_lock
from rnnkit.core.run_safety import check_keras_file, check_regular_file, check_run_safety
from rnnkit.errors import RunDirectoryError

FORMAT_VERSION = 1
JOBS = {"forecast": "rnnkit forecast", "classify": "rnnkit classify"}


def check_output_directory(out: str | os.PathLike[str], overwrite: bool) -> Path:
    """Fails early if ``out`` cannot receive a run (before any training is spent)."""
    out = Path(out)
    recover_run_directory(out)
    if out.exists() and not out.is_dir():
        raise RunDirectoryError(f"--out '{out}' is a file; give a directory path for the run.")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise RunDirectoryError(
            f"--out '{out}' exists and is not empty. Pass --overwrite to replace it, "
            "or choose another --out."
        )
    return out


@contextlib.contextmanager
def staged_directory(out: str | os.PathLike[str], overwrite: bool = False) -> Iterator[Path]:
    """Yields an empty staging directory that replaces ``out`` when the block succeeds.

    On any exception (Ctrl-C included) the staging directory is removed and ``out`` is
    left as it was. ``out``'s lock (:func:`~rnnkit.core.run_lock.run_lock`) is held
    throughout, so staging folders that a killed writer left are removed first.
    """
    with run_lock(out):
        out = check_output_directory(out, overwrite)
        remove_leftovers(out)
        tag = uuid.uuid4().hex[:8]
        staging = out.parent / f".{out.name}.partial-{tag}"
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            staging.mkdir()
        except OSError as err:
            raise RunDirectoryError(
                f"Could not create the run '{out}': {err.strerror or err}. Choose a writable "
                "--out, or free some space."
            ) from err
        try:
            yield staging
        except OSError as err:
            shutil.rmtree(staging, ignore_errors=True)
            if err.errno in _FULL_OR_READ_ONLY:
                raise RunDirectoryError(
                    f"Could not write the run '{out}': {err.strerror} ({err.filename or out}). "
                    "Nothing was written; free some space (or choose a writable --out) and "
                    "run it again."
                ) from err
            raise
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        # Outside the try: a swap cut short leaves a complete staging directory that
        # recover_run_directory puts in place.
        _swap_into_place(staging, out, tag)


# Write errors that say where the run goes cannot take it (reading never gives them).
_FULL_OR_READ_ONLY = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}


def _swap_into_place(staging: Path, out: Path, tag: str) -> None:
    """Renames the complete ``staging`` directory to ``out``, retiring an old ``out``."""
    if out.exists():
        # Two renames: a kill between them leaves no `out`, but both siblings complete;
        # recover_run_directory (run by the next save or load) finishes the swap.
        retired = out.parent / f".{out.name}.old-{tag}"
        os.replace(out, retired)
        try:
            os.replace(staging, out)
        except FileNotFoundError:
            if not out.is_dir():  # else a concurrent load already finished this swap
                raise
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, out)


def remove_leftovers(out: str | os.PathLike[str]) -> list[Path]:
    """Removes what killed writers of ``out`` left beside it; call with ``out``'s lock held.

    Only rnnkit's own leftovers, recognised by name and content: staging folders
    ``.NAME.partial-TAG`` (eight hex digits) holding nothing but regular files, whose
    swap is not half done (no ``.NAME.old-TAG``: :func:`recover_run_directory` needs
    those), temporary training states ``.NAME.training-state.npz.PID.tmp``, and a
    training state ``.NAME.training-state.npz`` (an ``.npz`` archive) older than the run
    ``out`` itself: a run was saved after its last epoch, so the training it would resume
    already finished or was replaced (a kill between the save and the state's removal).
    A state newer than the run is what ``--resume`` continues, and is kept. Holding the
    lock means no other rnnkit process is writing them.

    Returns:
        The paths removed.
    """
    out = Path(out)
    staging = re.compile(rf"^\.{re.escape(out.name)}\.partial-([0-9a-f]{{8}})$")
    state = re.compile(rf"^\.{re.escape(out.name)}\.training-state\.npz\.[0-9]+\.tmp$")
    removed = []
    try:
        entries = list(out.parent.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for path in entries:
        if path.is_symlink():
            continue
        match = staging.match(path.name)
        if match and path.is_dir() and not (out.parent / f".{out.name}.old-{match[1]}").exists():
            if all(child.is_file() and not child.is_symlink() for child in path.iterdir()):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        elif state.match(path.name) and path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
        elif path.name == f".{out.name}.training-state.npz" and _stale_state(path, out):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _stale_state(state: Path, out: Path) -> bool:
    """Whether ``state`` is a training state (a zip, as ``np.savez`` writes) last written
    before the run directory ``out`` was."""
    try:
        if not (state.is_file() and out.is_dir()):
            return False
        with state.open("rb") as handle:
            if handle.read(4) != b"PK\x03\x04":
                return False
        return state.stat().st_mtime < out.stat().st_mtime
    except OSError:
        return False


def recover_run_directory(out: str | os.PathLike[str]) -> None:
    """Finishes a run replacement that a killed process left between its two renames.

    :func:`staged_directory` replaces a run by renaming ``out`` to ``.NAME.old-TAG``, then
    ``.NAME.partial-TAG`` to ``out``. A process killed between the two leaves no ``out``.
    The staging directory is complete by then (it is renamed only once every file is
    written), so it is put in place; if it is gone, the old run is put back. Old runs left
    behind once ``out`` is in place are removed. Safe to run concurrently.

    Example:
        >>> recover_run_directory("runs/forecast")  # doctest: +SKIP
    """
    out = Path(out)
    prefix = f".{out.name}.old-"
    try:
        retired_dirs = sorted(p for p in out.parent.iterdir() if p.name.startswith(prefix))
    except (FileNotFoundError, NotADirectoryError):
        return
    for retired in retired_dirs:
        staging = out.parent / f".{out.name}.partial-{retired.name[len(prefix) :]}"
        if not out.exists():
            try:
                os.replace(staging if staging.is_dir() else retired, out)
            except FileNotFoundError:  # another process recovered it first
                pass
        if out.exists():
            shutil.rmtree(retired, ignore_errors=True)


def json_safe(value: Any) -> Any:
    """JSON-safe copy: NaN and infinities become null, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Writes ``data`` as indented JSON; NaN is written as null."""
    Path(path).write_text(json.dumps(json_safe(data), indent=2, allow_nan=False) + "\n")


def read_json(path: str | os.PathLike[str]) -> Any:
    """A run's JSON file; a missing, non-regular or unparsable one is a RunDirectoryError."""
    path = Path(path)
    try:
        check_regular_file(path)
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise RunDirectoryError(
            f"Run directory '{path.parent}' has no {path.name}: it is incomplete or not an "
            "rnnkit run. Train again to recreate it."
        ) from err
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        raise RunDirectoryError(f"'{path}' is not valid JSON ({err}). Train again.") from err
    except OSError as err:
        raise RunDirectoryError(
            f"'{path}' could not be read ({err.strerror or err}). Check its permissions, or "
            "train again."
        ) from err


def metadata(job: str) -> dict[str, Any]:
    """The ``metadata.json`` of a new run: format version, job and package versions."""
    import keras
    import numpy
    import pandas

    return {
        "format_version": FORMAT_VERSION,
        "job": job,
        "rnnkit": __version__,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def open_run(run_dir: str | os.PathLike[str], job: str, required: tuple[str, ...]) -> Path:
    """Checks that ``run_dir`` is a complete run of ``job`` in a format this version reads."""
    run_dir = Path(run_dir)
    recover_run_directory(run_dir)
    if not run_dir.is_dir():
        raise RunDirectoryError(f"Run directory '{run_dir}' does not exist. Check the path.")
    if not (run_dir / "metadata.json").exists():
        raise RunDirectoryError(
            f"'{run_dir}' is not an rnnkit run (it has no metadata.json). Give the --out "
            "directory of a training command."
        )
    meta = read_json(run_dir / "metadata.json")
    if not isinstance(meta, dict):
        raise RunDirectoryError(
            f"'{run_dir / 'metadata.json'}' is not a JSON object: '{run_dir}' is not an rnnkit "
            "run, or it is damaged. Train again to recreate it."
        )
    other = meta.get("job")
    if other != job:
        command = JOBS.get(str(other), "the command that made it")
        raise RunDirectoryError(
            f"'{run_dir}' is a {other!r} run, not a {job!r} run. Use `{command}` with it."
        )
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise RunDirectoryError(
            f"Run directory '{run_dir}' is damaged: metadata.json: format_version must be an "
            f"integer >= 1, got {version!r}. Train again to recreate it."
        )
    if version > FORMAT_VERSION:
        raise RunDirectoryError(
            f"'{run_dir}' has run format {version!r}; this rnnkit reads format "
            f"{FORMAT_VERSION} or older. Upgrade rnnkit to load it."
        )
    missing = [name for name in required if not (run_dir / name).exists()]
    if missing:
        raise RunDirectoryError(
            f"Run directory '{run_dir}' is incomplete: missing {', '.join(missing)}. "
            "Train again to recreate it."
        )
    check_run_safety(run_dir)
    return run_dir


def load_keras_model(path: str | os.PathLike[str]):  # -> keras.Model
    """Loads a ``.keras`` file in safe mode: no Lambda layers, no arbitrary code."""
    import keras

    check_keras_file(path)
    compilation.enable_cache()  # a loaded model compiles its prediction function
    from rnnkit.core.models import prefer_step_loops

    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as err:  # Keras raises ValueError, TypeError, OSError...
        raise RunDirectoryError(
            f"Could not load model '{path}' safely ({type(err).__name__}: {err}). rnnkit "
            "loads only models built from Keras layers, without custom code."
        ) from err
    return prefer_step_loops(model)  # runs saved before GRUs chose their loop
