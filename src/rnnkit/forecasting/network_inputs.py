"""What the forecasting network reads and learns: windows normalised by their own level,
the base forecast its output corrects, and the features beside each window's values
(calendar, covariate columns, a global model's static inputs)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnnkit.config import ForecastConfig
from rnnkit.data.calendar_features import Calendar
from rnnkit.data.covariates import CovariateScaling
from rnnkit.data.scaling import BASE_CHOICES, DEFAULT_SMOOTHING, THETA_SMOOTHING, base_forecast
from rnnkit.errors import ConfigError

# Window spreads are floored at this fraction of the training part's mean level, so that
# windows of near-zero values do not blow up into huge normalised targets.
LEVEL_FLOOR = 1e-3


def level_floor(scaled_train: np.ndarray) -> float:
    """The floor of the window spreads (``epsilon``) from the training part's scaled values."""
    return float(LEVEL_FLOOR * np.mean(np.abs(scaled_train)) + 1e-8)


def nonnegative_floor(train: np.ndarray) -> float | None:
    """0 when the training values have no negative one (then no forecast or interval
    bound goes below zero), else ``None``.

    Example:
        >>> nonnegative_floor(np.array([0.0, 3.0])), nonnegative_floor(np.array([-1.0, 3.0]))
        (0.0, None)
    """
    return 0.0 if np.all(np.asarray(train) >= 0) else None


def choose_base(
    inputs: np.ndarray, targets: np.ndarray, config: ForecastConfig
) -> tuple[str, float]:
    """The base forecast the network corrects and its smoothing weight (``theta``):
    the configured one, or for ``auto`` whichever simple forecast has the lowest
    error on the given windows (the validation windows, the most recent before the
    test; direct strategy only: the other strategies forecast values). ``theta``'s
    weight is chosen the same way from THETA_SMOOTHING."""
    c = config
    if c.strategy != "direct" or c.base == "none":
        return "none", DEFAULT_SMOOTHING
    kinds = BASE_CHOICES if c.base == "auto" else (c.base,)
    candidates = [
        (kind, alpha)
        for kind in kinds
        for alpha in (THETA_SMOOTHING if kind == "theta" else (DEFAULT_SMOOTHING,))
    ]
    if len(candidates) == 1:
        return candidates[0]
    errors = [
        float(np.mean(np.abs(targets - base_forecast(inputs, k, c.season, c.horizon, a))))
        for k, a in candidates
    ]
    return candidates[int(np.argmin(errors))]


def ensemble_output(config: ForecastConfig, feature_names: tuple[str, ...]) -> bool:
    """Whether the network is the ensemble forecaster (members, a linear part, a base,
    features or static inputs), whose output is ``(n, members, horizon)``."""
    c = config
    return c.strategy == "direct" and (
        c.ensemble_size > 1
        or c.linear
        or c.base != "none"
        or bool(feature_names)
        or bool(c.static_columns)
    )


def model_inputs(
    normalised: np.ndarray,
    features: np.ndarray | None,
    static: np.ndarray | None = None,
) -> np.ndarray:
    """The network's input ``(n, steps, channels)`` from normalised windows ``(n,
    lookback)``: the values alone, or with calendar ``features`` ``(n, lookback +
    horizon, k)``: then each step holds its value (zero for the periods forecast), a
    flag that is 1 for the periods forecast, and its features. A global model's
    ``static`` inputs (``(width,)`` or ``(n, width)``: see
    :class:`~rnnkit.data.static_covariates.StaticEncoding`) follow at every step."""
    values = np.asarray(normalised, dtype="float32")[..., None]
    n, lookback = normalised.shape
    if features is not None:
        future = features.shape[1] - lookback
        values = np.concatenate([values, np.zeros((n, future, 1), "float32")], axis=1)
        flag = np.zeros((n, lookback + future, 1), "float32")
        flag[:, lookback:] = 1.0
        values = np.concatenate([values, flag, features.astype("float32")], axis=2)
    if static is None:
        return values
    static = np.broadcast_to(np.asarray(static, dtype="float32"), (n, np.shape(static)[-1]))
    repeated = np.broadcast_to(static[:, None, :], (n, values.shape[1], static.shape[1]))
    return np.concatenate([values, repeated], axis=2)


def window_features(
    config: ForecastConfig,
    calendar: Calendar | None,
    covariate_scaling: CovariateScaling | None,
    starts: pd.DatetimeIndex | list | None,
    covariates: np.ndarray | None = None,
) -> np.ndarray | None:
    """The features ``(n, lookback + horizon, k)`` the network reads beside the values of
    windows whose first forecast periods are ``starts``; ``None`` when it reads none (see
    :meth:`~rnnkit.forecasting.Forecaster.window_features`).

    Raises:
        ConfigError: the network reads calendar features or covariates and they are not
            given.
    """
    c = config
    parts = []
    if calendar is not None:
        if starts is None:
            raise ConfigError(
                "This model reads calendar features: give the date of each window's "
                "first forecast period (starts=...)."
            )
        parts.append(calendar.window_features(starts, c.window, c.horizon))
    if c.covariate_aggs:
        if covariates is None:
            raise ConfigError(
                f"This model reads the covariate columns {', '.join(c.covariate_aggs)}: "
                "give their values over each window and its horizon (covariates=...)."
            )
        scaled = covariate_scaling.transform(covariates)
        if c.past_columns:
            scaled[:, c.window :, -len(c.past_columns) :] = 0.0
        parts.append(scaled)
    return np.concatenate(parts, axis=2) if parts else None
