"""Baselines every model is shown against.

Forecasting: naive (last value), seasonal naive (the value one season earlier) and ARIMA
(statsmodels, order chosen by AIC over a small grid). Each forecasts ``horizon`` steps
from a history, exactly like the network, on the original scale.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

ARIMA_ORDERS = tuple((p, 1, q) for p, q in itertools.product((0, 1, 2), (0, 1, 2)))


def naive(history: np.ndarray, horizon: int) -> np.ndarray:
    """Repeats the last observed value."""
    return np.full(horizon, float(history[-1]))


def seasonal_naive(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Repeats the last observed season; plain naive when the history is shorter."""
    if season <= 1 or len(history) < season:
        return naive(history, horizon)
    last_season = np.asarray(history[-season:], dtype="float64")
    return np.resize(last_season, horizon)


def select_arima_order(history: np.ndarray) -> tuple[int, int, int]:
    """The ARIMA(p, 1, q) order with the lowest AIC on ``history``."""
    best, best_aic = (0, 1, 1), np.inf
    for order in ARIMA_ORDERS:
        aic = _fit_arima(history, order)
        if aic is not None and aic.aic < best_aic:
            best, best_aic = order, aic.aic
    return best


def arima(history: np.ndarray, horizon: int, order: tuple[int, int, int]) -> np.ndarray:
    """ARIMA forecast of ``horizon`` steps; the naive forecast if the fit fails."""
    result = _fit_arima(history, order)
    if result is None:
        return naive(history, horizon)
    forecast = np.asarray(result.forecast(horizon), dtype="float64")
    return forecast if np.all(np.isfinite(forecast)) else naive(history, horizon)


def _fit_arima(history: np.ndarray, order: tuple[int, int, int]):
    from statsmodels.tsa.arima.model import ARIMA

    with warnings.catch_warnings():
        # Convergence and frequency warnings are expected on short or noisy series.
        warnings.simplefilter("ignore")
        try:
            trend = "t" if order[1] == 1 else "c"
            return ARIMA(np.asarray(history, dtype="float64"), order=order, trend=trend).fit()
        except (ValueError, np.linalg.LinAlgError):
            return None
