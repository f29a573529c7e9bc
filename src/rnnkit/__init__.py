"""rnnkit: recurrent neural networks from a CSV, done right.

Two jobs, each a scikit-learn style estimator that trains, evaluates, predicts and saves:

* :class:`Forecaster` turns a CSV of events or values into a multi-step forecaster;
  :class:`GlobalForecaster` trains one across many series (an id column).
* :class:`TextClassifier` turns a CSV of texts and labels into a classifier.

Keras runs on the JAX backend unless ``KERAS_BACKEND`` says otherwise. The names below
are imported on first use (PEP 562), so ``import rnnkit`` loads neither Keras nor JAX.
"""

import importlib
import os
from importlib import metadata
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")

try:
    __version__ = metadata.version("rnnkit")
except metadata.PackageNotFoundError:  # run from a source tree that is not installed
    __version__ = "0+unknown"

# Public name -> the module that defines it.
_EXPORTS = {
    "Forecaster": "rnnkit.forecasting",
    "GlobalForecaster": "rnnkit.forecasting",
    "TextClassifier": "rnnkit.classification",
    "ClassifierConfig": "rnnkit.config",
    "ForecastConfig": "rnnkit.config",
    "ModelConfig": "rnnkit.config",
    "TrainingConfig": "rnnkit.config",
    "ConfigError": "rnnkit.errors",
    "DataError": "rnnkit.errors",
    "NotFittedError": "rnnkit.errors",
    "RnnkitError": "rnnkit.errors",
    "RunDirectoryError": "rnnkit.errors",
    "TrainingError": "rnnkit.errors",
}

__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
