"""Run directories: written complete or not at all, read back with checks.

A run is a directory holding ``model.keras`` (loaded with Keras safe mode), JSON files
and plots. Nothing is pickled. Writing goes to a hidden sibling directory that is renamed
into place only once every file is written, so a failure leaves no half-written run.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rnnkit.errors import RunDirectoryError

FORMAT_VERSION = 1
JOBS = {"forecast": "rnnkit forecast", "classify": "rnnkit classify"}


def check_output_directory(out: str | os.PathLike[str], overwrite: bool) -> Path:
    """Fails early if ``out`` cannot receive a run (before any training is spent)."""
    out = Path(out)
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
    left as it was.
    """
    out = check_output_directory(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:8]
    staging = out.parent / f".{out.name}.partial-{tag}"
    staging.mkdir()
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if out.exists():
        retired = out.parent / f".{out.name}.old-{tag}"
        os.replace(out, retired)
        os.replace(staging, out)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, out)


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN and infinities become null, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Writes ``data`` as indented JSON; NaN is written as null."""
    Path(path).write_text(json.dumps(_clean(data), indent=2, allow_nan=False) + "\n")


def read_json(path: str | os.PathLike[str]) -> Any:
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as err:
        raise RunDirectoryError(
            f"Run directory '{path.parent}' has no {path.name}: it is incomplete or not an "
            "rnnkit run. Train again to recreate it."
        ) from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RunDirectoryError(f"'{path}' is not valid JSON ({err}). Train again.") from err


def metadata(job: str) -> dict[str, Any]:
    """The ``metadata.json`` of a new run: format version, job and package versions."""
    import keras
    import numpy
    import pandas

    from rnnkit import __version__

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
    if not run_dir.is_dir():
        raise RunDirectoryError(f"Run directory '{run_dir}' does not exist. Check the path.")
    if not (run_dir / "metadata.json").exists():
        raise RunDirectoryError(
            f"'{run_dir}' is not an rnnkit run (it has no metadata.json). Give the --out "
            "directory of a training command."
        )
    meta = read_json(run_dir / "metadata.json")
    other = meta.get("job")
    if other != job:
        command = JOBS.get(str(other), "the command that made it")
        raise RunDirectoryError(
            f"'{run_dir}' is a {other!r} run, not a {job!r} run. Use `{command}` with it."
        )
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
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
    return run_dir


def load_keras_model(path: str | os.PathLike[str]):  # -> keras.Model
    """Loads a ``.keras`` file in safe mode: no Lambda layers, no arbitrary code."""
    import keras

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as err:  # Keras raises ValueError, TypeError, OSError...
        raise RunDirectoryError(
            f"Could not load model '{path}' safely ({type(err).__name__}: {err}). rnnkit "
            "loads only models built from Keras layers, without custom code."
        ) from err
