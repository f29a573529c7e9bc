"""Forecast error metrics on the original scale.

MAPE skips periods whose actual value is zero (it is undefined there); the count skipped
is reported by :func:`forecast_metrics`. MASE divides the MAE by the in-sample MAE of the
seasonal naive forecast (lag ``m``) on the history before the test, as in Hyndman &
Koehler (2006) and the M4 competition.
"""

from __future__ import annotations

import numpy as np

FORECAST_METRICS = ("mae", "rmse", "mape", "smape", "mase")


def mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean(np.abs(actual - predicted)))


def rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.sqrt(np.mean((actual - predicted) ** 2)))


def mape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute percentage error in percent, over non-zero actuals (NaN if none)."""
    nonzero = actual != 0
    if not nonzero.any():
        return float("nan")
    return float(100 * np.mean(np.abs((actual[nonzero] - predicted[nonzero]) / actual[nonzero])))


def smape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Symmetric MAPE in percent (0 to 200); a pair of zeros counts as no error."""
    denominator = np.abs(actual) + np.abs(predicted)
    ratio = np.divide(
        2 * np.abs(actual - predicted),
        denominator,
        out=np.zeros_like(denominator, dtype="float64"),
        where=denominator > 0,
    )
    return float(100 * np.mean(ratio))


def mase_scale(history: np.ndarray, season: int) -> float:
    """In-sample MAE of the seasonal naive forecast; falls back to lag 1 on short history."""
    lag = season if len(history) > season else 1
    if len(history) <= lag:
        return float("nan")
    scale = float(np.mean(np.abs(history[lag:] - history[:-lag])))
    return scale if scale > 0 else float("nan")


def forecast_metrics(actual: np.ndarray, predicted: np.ndarray, scale: float) -> dict[str, float]:
    """MAE, RMSE, MAPE, sMAPE and MASE of one method over all test points."""
    actual = np.asarray(actual, dtype="float64").ravel()
    predicted = np.asarray(predicted, dtype="float64").ravel()
    error = mae(actual, predicted)
    return {
        "mae": error,
        "rmse": rmse(actual, predicted),
        "mape": mape(actual, predicted),
        "smape": smape(actual, predicted),
        "mase": error / scale if np.isfinite(scale) else float("nan"),
    }
