"""Runs loaded for serving: named, checked, loaded once and compiled for inference."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rnnkit import forecasting
from rnnkit.classification import TextClassifier
from rnnkit.core import persistence
from rnnkit.errors import ConfigError, RnnkitError, RunDirectoryError
from rnnkit.serving.inference import CompiledModel

# Model names travel in URLs: letters, digits, dot, dash and underscore only, so a name can
# never be a path and never needs escaping.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


@dataclasses.dataclass
class LoadedRun:
    """A run loaded for serving: its name in URLs, its job and its estimator."""

    name: str
    job: str
    estimator: Any

    def describe(self) -> dict[str, Any]:
        """What ``GET /models`` says of this run (no file paths: they are the server's)."""
        estimator = self.estimator
        info: dict[str, Any] = {
            "name": self.name,
            "job": self.job,
            "config": estimator.config.to_dict(),
            "metrics": getattr(estimator, "metrics_", None),
        }
        if self.job == "forecast" and estimator.config.id_column is not None:
            ends = [s.index[-1] for s in estimator.series_.values()]
            info["series"] = len(ends)
            info["last_period"] = max(ends).isoformat()
        elif self.job == "forecast":
            info["last_period"] = estimator.series_.index[-1].isoformat()
        else:
            info["classes"] = list(estimator.classes_)
        return persistence.json_safe(info)


def parse_run_spec(spec: str) -> tuple[str, Path]:
    """``"name=path"`` or ``"path"`` (named after the directory) to ``(name, path)``.

    Example:
        >>> parse_run_spec("sales=runs/forecast")
        ('sales', PosixPath('runs/forecast'))
        >>> parse_run_spec("runs/complaints")
        ('complaints', PosixPath('runs/complaints'))
    """
    name, sep, path = spec.partition("=")
    if not sep or not NAME_PATTERN.match(name):  # a path that merely contains "="
        name, path = os.path.basename(os.path.abspath(spec)), spec
    if not NAME_PATTERN.match(name) or name in (".", ".."):
        raise ConfigError(
            f"Cannot name a model {name!r} (from {spec!r}): names are 1 to 64 letters, digits, "
            "'.', '-' or '_'. Choose one with NAME=RUN_DIR, e.g. sales=runs/forecast."
        )
    return name, Path(path)


def _job_of(path: Path) -> str:
    """The job recorded in a run's metadata, with open_run's messages for non-runs."""
    if not (path / "metadata.json").is_file():
        persistence.open_run(path, "forecast", ())  # raises: missing or not a run
    meta = persistence.read_json(path / "metadata.json")
    job = meta.get("job") if isinstance(meta, dict) else None
    if job not in ("forecast", "classify"):
        raise RunDirectoryError(
            f"'{path}' is not a forecast or classify run (metadata.json says job {job!r}). "
            "Give the --out directory of `rnnkit forecast train` or `rnnkit classify train`."
        )
    return job


def load_run(name: str, path: str | Path) -> LoadedRun:
    """Loads one run directory (with every check of ``Forecaster.load``) for serving."""
    path = Path(path)
    job = _job_of(path)
    load = forecasting.load if job == "forecast" else TextClassifier.load
    try:
        estimator = load(path)
    except RnnkitError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        # A run whose JSON files parse but lack fields (edited by hand, damaged).
        raise RunDirectoryError(
            f"Run directory '{path}' could not be loaded ({type(err).__name__}: {err}); it "
            "is damaged or was written by another program. Train again to recreate it."
        ) from err
    estimator.model_ = CompiledModel(estimator.model_)
    return LoadedRun(name, job, estimator)


def load_runs(specs: Sequence[str]) -> dict[str, LoadedRun]:
    """Loads every ``NAME=RUN_DIR`` or ``RUN_DIR`` in ``specs``; names must be unique.

    Raises:
        RunDirectoryError: a directory is missing, incomplete, unsafe, from a newer rnnkit
            or not an rnnkit run.
        ConfigError: no runs, a bad name or the same name twice.
    """
    if not specs:
        raise ConfigError("Give at least one run directory to serve.")
    runs: dict[str, LoadedRun] = {}
    for spec in specs:
        name, path = parse_run_spec(spec)
        if name in runs:
            raise ConfigError(
                f"Two runs are named {name!r}. Name them apart with NAME=RUN_DIR, e.g. "
                f"{name}-2={path}."
            )
        runs[name] = load_run(name, path)
    return runs


def warm_up(runs: dict[str, LoadedRun]) -> None:
    """Compiles each model's one-request shape, so the first request is not slow."""
    for run in runs.values():
        if run.job == "forecast":
            run.estimator.predict()
        else:
            run.estimator.predict_top_k(["warm up"], 1)
