"""The first job: forecasting a series (:class:`Forecaster`) or many series with one
model (:class:`GlobalForecaster`), scored against baselines, backtested, reported.

:func:`load` reads a forecast run directory of either kind.
"""

from __future__ import annotations

import os

from rnnkit.core import persistence
from rnnkit.forecasting.forecaster import Forecaster, make_config
from rnnkit.forecasting.global_forecaster import GlobalForecaster
from rnnkit.forecasting.saving import RUN_FILES, read_run_config

__all__ = ["Forecaster", "GlobalForecaster", "load", "make_config"]


def load(path: str | os.PathLike[str]) -> Forecaster:
    """Loads a forecast run directory: a :class:`GlobalForecaster` when the run was trained
    on many series (its config names an ``id_column``), a :class:`Forecaster` otherwise.

    Example:
        >>> from rnnkit import forecasting
        >>> forecasting.load("runs/forecast").predict()  # doctest: +SKIP
    """
    run = persistence.open_run(path, "forecast", RUN_FILES)
    config = read_run_config(run)
    estimator = GlobalForecaster if config.id_column is not None else Forecaster
    return estimator.load(run)
