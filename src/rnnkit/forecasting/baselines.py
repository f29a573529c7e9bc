"""Baselines every forecaster is shown against.

Naive (last value), seasonal naive (the value one season earlier) and ARIMA
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
    from threadpoolctl import threadpool_limits

    # The state-space matrices are tiny: BLAS threads only contend. On 2 busy cores the
    # order search of a 90-day series took 38.8 s with OpenBLAS's default threads, 2.0 s
    # with one.
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        # Convergence and frequency warnings are expected on short or noisy series.
        warnings.simplefilter("ignore")
        try:
            trend = "t" if order[1] == 1 else "c"
            return ARIMA(np.asarray(history, dtype="float64"), order=order, trend=trend).fit()
        except (ValueError, np.linalg.LinAlgError):
            return None


def forecast_from_origins(
    values: np.ndarray, origins: list[int], horizon: int, season: int, with_arima: bool = True
) -> tuple[dict[str, np.ndarray], tuple[int, int, int] | None]:
    """Naive, seasonal-naive and ARIMA forecasts ``(origins, horizon)`` from each origin.

    The ARIMA order is chosen once, on the history before the first origin, and refit
    at every origin. ``with_arima=False`` leaves ARIMA out (order ``None``).
    """
    names = ["naive", "seasonal_naive", *(["arima"] if with_arima else [])]
    rows: dict[str, list[np.ndarray]] = {name: [] for name in names}
    order = select_arima_order(values[: origins[0]]) if with_arima else None
    for origin in origins:
        history = values[:origin]
        rows["naive"].append(naive(history, horizon))
        rows["seasonal_naive"].append(seasonal_naive(history, horizon, season))
        if order is not None:
            rows["arima"].append(arima(history, horizon, order))
    return {name: np.stack(forecasts) for name, forecasts in rows.items()}, order
