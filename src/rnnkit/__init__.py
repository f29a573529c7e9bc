"""rnnkit: recurrent neural networks from a CSV, done right.

Two jobs, each a scikit-learn style estimator that trains, evaluates, predicts and saves:

* :class:`Forecaster` turns a CSV of events or values into a multi-step forecaster;
  :class:`GlobalForecaster` trains one across many series (an id column).
* :class:`TextClassifier` turns a CSV of texts and labels into a classifier.

Keras runs on the JAX backend unless ``KERAS_BACKEND`` says otherwise.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

__version__ = "0.1.0"

from rnnkit.classification import TextClassifier  # noqa: E402
from rnnkit.config import (  # noqa: E402
    ClassifierConfig,
    ForecastConfig,
    ModelConfig,
    TrainingConfig,
)
from rnnkit.errors import (  # noqa: E402
    ConfigError,
    DataError,
    NotFittedError,
    RnnkitError,
    RunDirectoryError,
    TrainingError,
)
from rnnkit.forecasting import Forecaster  # noqa: E402
from rnnkit.global_forecasting import GlobalForecaster  # noqa: E402

__all__ = [
    "ClassifierConfig",
    "ConfigError",
    "DataError",
    "ForecastConfig",
    "Forecaster",
    "GlobalForecaster",
    "ModelConfig",
    "NotFittedError",
    "RnnkitError",
    "RunDirectoryError",
    "TextClassifier",
    "TrainingError",
    "TrainingConfig",
    "__version__",
]
