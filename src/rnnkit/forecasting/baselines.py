"""Baselines every forecaster is shown against.

Naive (last value) and seasonal naive (the last season repeated), and statsforecast's
AutoETS, AutoTheta and AutoARIMA, each refit on the history before every origin. Each
forecasts ``horizon`` steps from a history, exactly like the network, on the original
scale.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

#: The statistical baselines (statsforecast), in the order the reports show them.
STATISTICAL = ("auto_ets", "auto_theta", "auto_arima")
#: Every baseline a forecast is scored against.
BASELINES = ("naive", "seasonal_naive", *STATISTICAL)
# statsforecast's exponential-smoothing models take seasons of at most 24 periods (it fits
# a non-seasonal model above that). Seasonal ARIMA over 52 weeks took 23 s a fit on a
# 1,000-week series here, so above this ARIMA is fitted without its seasonal part too.
MAX_SEASON = 24


def naive(history: np.ndarray, horizon: int) -> np.ndarray:
    """Repeats the last observed value."""
    return np.full(horizon, float(history[-1]))


def seasonal_naive(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Repeats the last observed season; plain naive when the history is shorter."""
    if season <= 1 or len(history) < season:
        return naive(history, horizon)
    last_season = np.asarray(history[-season:], dtype="float64")
    return np.resize(last_season, horizon)


def _statistical_model(name: str, season: int, length: int):
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    # A season the history does not hold twice cannot be estimated: fit without it.
    season = season if 1 < season <= MAX_SEASON and length >= 2 * season else 1
    if name == "auto_ets":
        return AutoETS(season_length=season)
    if name == "auto_theta":
        return AutoTheta(season_length=season)
    # R's auto.arima approximates the likelihood for long or highly seasonal series;
    # statsforecast's exact default took minutes on 3,000 hours.
    return AutoARIMA(season_length=season, approximation=length > 150 or season > 12)


def _describe(name: str, fitted: dict) -> str:
    """The fitted model in the usual notation: ``ETS(A,N,A)``, ``ARIMA(1,1,1)(0,1,1)[7]``."""
    if name == "auto_ets":
        return str(fitted.get("method", "ETS"))
    if name == "auto_theta":
        return f"Theta ({fitted.get('modeltype', '')})".replace(" ()", "")
    from statsforecast.arima import arima_string

    return arima_string(fitted).strip()


def statistical_forecast(
    name: str, history: np.ndarray, horizon: int, season: int
) -> tuple[np.ndarray, str]:
    """The forecast of one statsforecast model (``auto_ets``, ``auto_theta`` or
    ``auto_arima``) fitted on ``history``, and the fitted model's name. A fit that fails
    or forecasts non-finite values gives the naive forecast, and says so.

    Example:
        >>> history = np.tile([1.0, 5.0, 3.0, 2.0], 12) + np.arange(48) * 0.1
        >>> forecast, fitted = statistical_forecast("auto_ets", history, 4, 4)
        >>> forecast.shape, fitted.startswith("ETS(")
        ((4,), True)
    """
    history = np.asarray(history, dtype="float64")
    model = _statistical_model(name, season, len(history))
    from threadpoolctl import threadpool_limits

    # The models' matrices are tiny: BLAS threads only contend (ARIMA's order search on
    # 2 busy cores took 38.8 s with OpenBLAS's default threads, 2.0 s with one).
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        # Convergence and short-series warnings are expected on short or noisy series.
        warnings.simplefilter("ignore")
        try:
            model.fit(history)
            forecast = np.asarray(model.predict(h=horizon)["mean"], dtype="float64")
            fitted = _describe(name, model.model_)
        except Exception:  # noqa: BLE001 - any failed fit falls back to naive, as documented
            forecast, fitted = np.full(horizon, np.nan), ""
    if forecast.shape != (horizon,) or not np.all(np.isfinite(forecast)):
        return naive(history, horizon), "naive (the fit failed)"
    return forecast, fitted


def forecast_from_origins(
    values: np.ndarray,
    origins: Sequence[int],
    horizon: int,
    season: int,
    statistical: Sequence[str] = STATISTICAL,
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Every baseline's forecasts ``(origins, horizon)`` from each origin, the
    ``statistical`` ones refit on the history before it.

    Returns:
        The forecasts by name, and each statistical model as fitted at the first origin
        (``{"auto_ets": "ETS(A,N,A)", ...}``).
    """
    rows: dict[str, list[np.ndarray]] = {name: [] for name in ("naive", "seasonal_naive")}
    fitted: dict[str, str] = {}
    for origin in origins:
        history = values[:origin]
        rows["naive"].append(naive(history, horizon))
        rows["seasonal_naive"].append(seasonal_naive(history, horizon, season))
        for name in statistical:
            forecast, model = statistical_forecast(name, history, horizon, season)
            rows.setdefault(name, []).append(forecast)
            fitted.setdefault(name, model)
    return {name: np.stack(forecasts) for name, forecasts in rows.items()}, fitted
