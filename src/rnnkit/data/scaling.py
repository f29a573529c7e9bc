"""Scalers fit on the training part only, saved as plain JSON (no pickle)."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Scaler:
    """An affine map ``(x - offset) / scale``: min-max, standard or identity.

    Example:
        >>> s = Scaler.fit(np.array([2.0, 4.0, 6.0]), "minmax")
        >>> s.transform(np.array([4.0])).tolist()
        [0.5]
    """

    kind: str
    offset: float
    scale: float

    @classmethod
    def fit(cls, values: np.ndarray, kind: str) -> Scaler:
        values = np.asarray(values, dtype="float64")
        if kind == "minmax":
            offset, scale = float(values.min()), float(values.max() - values.min())
        elif kind == "standard":
            offset, scale = float(values.mean()), float(values.std())
        elif kind == "none":
            offset, scale = 0.0, 1.0
        else:
            raise ValueError(f"unknown scaler {kind!r}")
        # A constant training part would divide by zero; keep it unscaled instead.
        return cls(kind, offset, scale if scale > 0 else 1.0)

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (np.asarray(values, dtype="float64") - self.offset) / self.scale

    def inverse_transform(self, values: np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype="float64") * self.scale + self.offset

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Scaler:
        return cls(str(data["kind"]), float(data["offset"]), float(data["scale"]))  # type: ignore[arg-type]


def window_statistics(
    windows: np.ndarray, kind: str, epsilon: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per-window ``(center, spread)`` for window normalisation, shapes ``(n, 1)``.

    ``level`` divides by the window's mean absolute value (center 0), ``standard``
    subtracts its mean and divides by its standard deviation (RevIN), ``none`` is the
    identity. ``epsilon`` keeps flat or all-zero windows finite.
    """
    n = windows.shape[0]
    if kind == "none":
        return np.zeros((n, 1)), np.ones((n, 1))
    if kind == "level":
        return np.zeros((n, 1)), np.abs(windows).mean(axis=1, keepdims=True) + epsilon
    if kind == "standard":
        return windows.mean(axis=1, keepdims=True), windows.std(axis=1, keepdims=True) + epsilon
    raise ValueError(f"unknown window normalisation {kind!r}")


# The smoothing weight of a ``theta`` base chosen without validation windows, and of runs
# saved before the weight was recorded.
DEFAULT_SMOOTHING = 0.3


def base_forecast(
    windows: np.ndarray,
    kind: str,
    season: int,
    horizon: int,
    smoothing: float = DEFAULT_SMOOTHING,
) -> np.ndarray:
    """The simple forecast a network corrects, ``(n, horizon)``, from windows ``(n, lookback)``.

    ``naive`` repeats each window's last value, ``seasonal_naive`` its last ``season``
    values (naive when ``season`` is 1 or longer than the window), ``seasonal_mean`` the
    average shape of its last seasons (up to ``SEASONS_AVERAGED``, as many as the window
    holds) at the level of the last season, which repeats less noise than seasonal
    naive; ``none`` is zero.

    Example:
        >>> base_forecast(np.array([[1.0, 2.0, 3.0, 4.0]]), "seasonal_naive", 2, 3).tolist()
        [[3.0, 4.0, 3.0]]
        >>> base_forecast(np.array([[1.0, 3.0, 3.0, 3.0]]), "seasonal_mean", 2, 2).tolist()
        [[2.5, 3.5]]
        >>> base_forecast(np.array([[1.0, 2.0, 3.0, 4.0]]), "theta", 1, 2, smoothing=1.0).tolist()
        [[4.5, 5.0]]
    """
    n, lookback = windows.shape
    if kind == "none":
        return np.zeros((n, horizon))
    if kind == "theta":
        return _theta(windows, season, horizon, smoothing)
    if kind == "naive" or season <= 1 or season > lookback:
        return np.repeat(windows[:, -1:], horizon, axis=1)
    steps = np.arange(horizon) % season
    shape = _seasonal_shape(windows, season) if kind == "seasonal_mean" else None
    if kind == "seasonal_naive" or (kind == "seasonal_mean" and shape is None):
        return windows[:, -season:][:, steps]
    if kind == "seasonal_mean":
        return (shape + windows[:, -season:].mean(axis=1, keepdims=True))[:, steps]
    raise ValueError(f"unknown base forecast {kind!r}")


def _seasonal_shape(windows: np.ndarray, season: int) -> np.ndarray | None:
    """The average shape ``(n, season)`` of each window's last seasons (up to
    ``SEASONS_AVERAGED``), centred on zero and ending at the window's last period; None
    when the window holds fewer than two seasons."""
    n, lookback = windows.shape
    seasons = min(SEASONS_AVERAGED, lookback // season) if season > 1 else 0
    if seasons < 2:
        return None
    last = windows[:, -seasons * season :].reshape(n, seasons, season)
    return last.mean(axis=1) - last.mean(axis=(1, 2))[:, None]


def _theta(windows: np.ndarray, season: int, horizon: int, smoothing: float) -> np.ndarray:
    n, lookback = windows.shape
    shape = _seasonal_shape(windows, season)
    if shape is not None:
        # Column k of ``shape`` is the season position of the window's period
        # ``lookback - season + k``; map every period of the window and of the horizon.
        position = (np.arange(lookback + horizon) - lookback) % season
        windows = windows - shape[:, position[:lookback]]
    # Simple exponential smoothing's last level, as one weighted sum of the window.
    alpha = float(smoothing)
    weights = alpha * (1 - alpha) ** np.arange(lookback - 1, -1, -1, dtype="float64")
    weights[0] = (1 - alpha) ** (lookback - 1)
    level = windows @ weights
    time = np.arange(lookback) - (lookback - 1) / 2
    slope = (windows - windows.mean(axis=1, keepdims=True)) @ time / (time @ time)
    steps = np.arange(1, horizon + 1)
    drift = steps - 1 + (1 - (1 - alpha) ** lookback) / alpha
    forecast = level[:, None] + 0.5 * slope[:, None] * drift[None, :]
    if shape is not None:
        forecast = forecast + shape[:, position[lookback:]]
    return forecast


# Seasons the seasonal-mean base averages at most.
SEASONS_AVERAGED = 4
# Candidates of ``auto``. ``theta`` is not one: with it, the forecasting suite's
# geometric-mean MASE improved on its confirmation half (0.627 against 0.684) but
# worsened on its tuning half (0.823 against 0.792), where defaults are chosen.
BASE_CHOICES = ("naive", "seasonal_naive", "seasonal_mean")
# The smoothing weights a ``theta`` base chooses from on the validation windows.
THETA_SMOOTHING = (0.1, 0.2, 0.3, 0.5, 1.0)
