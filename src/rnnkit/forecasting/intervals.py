"""Prediction intervals by split-conformal calibration on held-out windows.

The point model is trained as it always is; after training, its forecast errors on the
validation windows (never trained on) are divided by the spread of each window's input
(the ``window_statistics`` spread, so errors of a series that doubled count as those of
one that did not) and, per horizon step, their empirical quantiles become offsets. A
forecast's quantile ``q`` at step ``h`` is the point forecast plus ``offset[q, h]`` times
its input window's spread, mapped back through the scaler. Darts (``ConformalModel``) and
NeuralForecast (``PredictionIntervals``) calibrate the same way.

The same offsets serve one series and a global model of many: the residuals of every
series' validation windows are pooled, each in its own window's units.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnkit.data.scaling import base_forecast
from rnnkit.data.windows import make_windows

# Below this many residuals a step, its own quantiles are too coarse: every step's
# residuals are pooled instead, each divided by sqrt(step) (errors of a random walk grow
# so) and the pooled quantile multiplied back by sqrt(h) for step h.
MIN_RESIDUALS_PER_STEP = 10


def quantile_name(q: float) -> str:
    """The column of quantile ``q``: ``q0.1``, ``q0.5``, ``q0.95``."""
    return f"q{q:g}"


def conformal_quantile(residuals: np.ndarray, q: float, axis: int = 0) -> np.ndarray:
    """The empirical ``q``-quantile of ``residuals`` with the finite-sample correction of
    split conformal prediction: of ``n`` errors, an upper quantile (``q > 0.5``) is the
    ``ceil((n + 1) q)``-th smallest, a lower one the ``floor((n + 1) q)``-th (clipped to
    the largest and the smallest), so that a new exchangeable error falls below the one
    and above the other at least ``q`` and ``1 - q`` of the time; the median is the plain
    one.

    Example:
        >>> conformal_quantile(np.arange(1.0, 10.0), 0.9).item()  # the 9th of 9 errors
        9.0
        >>> conformal_quantile(np.arange(1.0, 20.0), 0.1).item()  # the 2nd of 19
        2.0
    """
    n = residuals.shape[axis]
    if q == 0.5:
        return np.median(residuals, axis=axis)
    rank = math.ceil((n + 1) * q) if q > 0.5 else math.floor((n + 1) * q)
    return np.take(np.sort(residuals, axis=axis), min(max(rank, 1), n) - 1, axis=axis)


@dataclasses.dataclass(frozen=True)
class Calibration:
    """Offsets of each quantile at each horizon step, in units of a window's spread.

    Attributes:
        quantiles: the levels, increasing.
        offsets: ``(len(quantiles), horizon)``, non-decreasing down each column.
        residuals_per_step: the validation errors each step was calibrated on.
        pooled: the steps had too few errors each and were pooled (see
            :data:`MIN_RESIDUALS_PER_STEP`).
    """

    quantiles: tuple[float, ...]
    offsets: np.ndarray
    residuals_per_step: int
    pooled: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "split conformal on the validation windows, per horizon step, in "
            "units of the input window's spread",
            "quantiles": list(self.quantiles),
            "offsets": self.offsets.tolist(),
            "residuals_per_step": self.residuals_per_step,
            "pooled": self.pooled,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        return cls(
            tuple(float(q) for q in data["quantiles"]),
            np.asarray(data["offsets"], dtype="float64"),
            int(data["residuals_per_step"]),
            bool(data["pooled"]),
        )

    @property
    def names(self) -> list[str]:
        return [quantile_name(q) for q in self.quantiles]

    def apply(self, forecast: np.ndarray, spread: np.ndarray) -> np.ndarray:
        """Quantile forecasts ``(n, len(quantiles), horizon)`` from point forecasts
        ``(n, horizon)`` and their windows' spreads ``(n, 1)`` on the same scale."""
        bands = forecast[:, None, :] + self.offsets[None, :, :] * spread[:, :, None]
        return np.sort(bands, axis=1)  # already ordered; sorting keeps rounding from crossing


def calibrate(residuals: np.ndarray, quantiles: Sequence[float]) -> Calibration | None:
    """Offsets from normalised validation errors ``(n, horizon)`` (actual minus forecast,
    divided by the input window's spread); ``None`` when there are none or they are not
    all finite."""
    residuals = np.asarray(residuals, dtype="float64")
    n, horizon = residuals.shape
    if n == 0 or not quantiles or not np.all(np.isfinite(residuals)):
        return None
    pooled = n < MIN_RESIDUALS_PER_STEP
    if pooled:
        growth = np.sqrt(np.arange(1, horizon + 1))
        flat = (residuals / growth).ravel()
        offsets = np.stack([conformal_quantile(flat, q) * growth for q in quantiles])
    else:
        offsets = np.stack([conformal_quantile(residuals, q, axis=0) for q in quantiles])
    return Calibration(tuple(float(q) for q in quantiles), np.sort(offsets, axis=0), n, pooled)


def seasonal_naive_offsets(
    history: np.ndarray, season: int, horizon: int, quantiles: Sequence[float]
) -> np.ndarray | None:
    """Offsets ``(len(quantiles), horizon)`` of the seasonal naive forecast on the
    original scale: per step, the empirical quantiles of its in-sample errors over
    ``history`` (every origin with a season before it and a horizon after it). ``None``
    when the history holds no such origin."""
    history = np.asarray(history, dtype="float64")
    lag = season if len(history) > season + horizon else 1
    inputs, targets = make_windows(history, lag, horizon, lag, len(history))
    if len(inputs) == 0 or not quantiles:
        return None
    residuals = targets - base_forecast(inputs, "seasonal_naive", lag, horizon)
    calibration = calibrate(residuals, quantiles)
    return None if calibration is None else calibration.offsets


def central_intervals(quantiles: Sequence[float]) -> list[tuple[float, float]]:
    """The pairs ``(q, 1 - q)`` both in ``quantiles``, widest first: (0.1, 0.9) is the
    central 80 % interval."""
    levels = {round(q, 10) for q in quantiles}
    return [(q, 1 - q) for q in quantiles if q < 0.5 and round(1 - q, 10) in levels]


def coverage_name(low: float) -> str:
    """The share an interval ``(low, 1 - low)`` should cover, as a key: ``80``."""
    return f"{(1 - 2 * low) * 100:g}"


def interval_metrics(
    actual: np.ndarray, bands: np.ndarray, quantiles: Sequence[float]
) -> dict[str, float]:
    """Pinball loss of each quantile and their mean, and the empirical coverage and mean
    width of each central interval, over every test point.

    Args:
        actual: ``(n, horizon)`` actual values.
        bands: ``(n, len(quantiles), horizon)`` quantile forecasts.
        quantiles: their levels.

    Returns:
        ``{"pinball_q0.1": ..., "pinball_mean": ..., "coverage_80": ..., "width_80": ...}``
        (coverage as a share, 0 to 1).
    """
    actual = np.asarray(actual, dtype="float64")
    metrics: dict[str, float] = {}
    losses = []
    for i, q in enumerate(quantiles):
        error = actual - bands[:, i, :]
        loss = float(np.mean(np.maximum(q * error, (q - 1) * error)))
        metrics[f"pinball_{quantile_name(q)}"] = loss
        losses.append(loss)
    metrics["pinball_mean"] = float(np.mean(losses))
    index = {round(q, 10): i for i, q in enumerate(quantiles)}
    for low, high in central_intervals(quantiles):
        lower, upper = bands[:, index[round(low, 10)], :], bands[:, index[round(high, 10)], :]
        name = coverage_name(low)
        metrics[f"coverage_{name}"] = float(np.mean((actual >= lower) & (actual <= upper)))
        metrics[f"width_{name}"] = float(np.mean(upper - lower))
    return metrics


def interval_columns(quantiles: Sequence[float]) -> list[str]:
    """The metric keys :func:`interval_metrics` gives, in order (for reports)."""
    columns = [f"pinball_{quantile_name(q)}" for q in quantiles] + ["pinball_mean"]
    for low, _ in central_intervals(quantiles):
        columns += [f"coverage_{coverage_name(low)}", f"width_{coverage_name(low)}"]
    return columns
