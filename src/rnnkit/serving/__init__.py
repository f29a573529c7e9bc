"""Serving saved runs over HTTP: the FastAPI app (:mod:`~rnnkit.serving.app`), the runs it
serves (:mod:`~rnnkit.serving.runs`), compiled inference
(:mod:`~rnnkit.serving.inference`), request bodies (:mod:`~rnnkit.serving.schemas`) and
the guard of limits and API keys (:mod:`~rnnkit.serving.guard`).

Names are re-exported on first use, so ``rnnkit serve --help`` does not load FastAPI.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "API_KEY_ENV": "guard",
    "API_KEY_HEADER": "guard",
    "ServeLimits": "guard",
    "check_exposure": "guard",
    "is_loopback": "guard",
    "CompiledModel": "inference",
    "LoadedRun": "runs",
    "load_run": "runs",
    "load_runs": "runs",
    "parse_run_spec": "runs",
    "warm_up": "runs",
    "create_app": "app",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
