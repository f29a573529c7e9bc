"""The forecasting benchmark suite: real series of many domains and frequencies.

Every series is scored from several rolling forecast origins (each forecasts ``horizon``
periods from the data before it); the first origin's history is all that training sees.
The suite is split, before any tuning, into a **tuning** set (defaults are chosen on it)
and a **confirmation** set (defaults are only checked on it). Sources, all offline:

- ``../shared/data``: loans (per-day sum), CFPB complaints (per-day count);
- ``vega_datasets``: seattle-weather, seattle-temps, sf-temps;
- ``pmdarima``: msft, wineind, woolyrnq, airpassengers, ausbeer, taylor, lynx;
- ``statsmodels``: co2 (weekly), elnino (monthly).

Install the benchmark extras with
``.venv/bin/pip install --no-deps -r benchmarks/requirements.txt``.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@dataclasses.dataclass(frozen=True)
class Case:
    """One series of the suite and how it is scored."""

    name: str
    group: str  # "tuning" or "confirmation"
    domain: str
    freq: str
    horizon: int
    stride: int  # periods between consecutive forecast origins
    season: int  # MASE's seasonal period (rnnkit's for the frequency)
    load: Callable[[], pd.Series]
    origins: int = 5

    def origin_positions(self, length: int) -> list[int]:
        """Origins: the last one forecasts the last ``horizon`` periods."""
        last = length - self.horizon
        return [last - k * self.stride for k in reversed(range(self.origins))]


def train(case: Case, series: pd.Series, seed: int, **params):
    """rnnkit's Forecaster trained as the suite trains it: on everything before the first
    origin. ``test_size`` is one horizon after that history, so the model trains on all
    of it (the default test part would take more)."""
    from rnnkit import Forecaster

    first = case.origin_positions(len(series))[0]
    forecaster = Forecaster(
        horizon=case.horizon,
        freq=case.freq,
        seed=seed,
        gradient_health=False,
        test_size=case.horizon,
        **params,
    )
    return forecaster.fit(series.iloc[: first + case.horizon], verbose=0)


def train_keeping_data(case: Case, series: pd.Series, seed: int, **params):
    """:func:`train`, also returning the fit's prepared data (the ``data_`` its
    ``_choose_combination`` receives: the series, its split and windows), for probes that
    score other choices on the same trained network."""
    from rnnkit import Forecaster

    captured: dict = {}
    original = Forecaster._choose_combination

    def keep_data(self, data_):
        captured["data"] = data_
        return original(self, data_)

    Forecaster._choose_combination = keep_data
    try:
        forecaster = train(case, series, seed, **params)
    finally:
        Forecaster._choose_combination = original
    return forecaster, captured["data"]


def selected(only: list[str] | None = None) -> list[Case]:
    """The suite's cases, or those named in ``only``."""
    return [c for c in CASES if not only or c.name in only]


def geometric_mean(values) -> float:
    """The geometric mean (values at or below zero count as 1e-12)."""
    return float(math.exp(statistics.fmean(math.log(max(v, 1e-12)) for v in values)))


def _series(index, values, name: str) -> pd.Series:
    series = pd.Series(np.asarray(values, dtype="float64"), index=pd.DatetimeIndex(index))
    series.index.name = "date"
    series.name = name
    if series.isna().any():
        series = series.interpolate(limit_direction="both")
    return series


def loans() -> pd.Series:
    rows = pd.read_csv(SHARED / "loans" / "loans.csv", parse_dates=["created_at"])
    daily = rows.set_index("created_at")["amount"].resample("D").sum()
    # 2016-03-01..2017-06-30 is the steady part (data README).
    daily = daily["2016-03-01":"2017-06-30"]
    return _series(daily.index, daily.to_numpy(), "amount")


def cfpb_daily() -> pd.Series:
    rows = pd.read_csv(
        SHARED / "cfpb" / "complaints_full_schema_sample.csv", usecols=["Date received"]
    )
    dates = pd.to_datetime(rows["Date received"])
    daily = dates.value_counts().sort_index().resample("D").sum()
    # The part of the sample with complaints every day (the sample thins out after it).
    daily = daily["2018-12-01":"2019-07-31"]
    return _series(daily.index, daily.to_numpy(), "complaints")


def _vega(name: str, column: str, tail: int | None = None) -> pd.Series:
    from vega_datasets import local_data

    frame = getattr(local_data, name)()
    series = frame.set_index("date")[column]
    if tail:
        series = series.iloc[-tail:]
    return _series(series.index, series.to_numpy(), column)


def _monthly(values, start: str, name: str, freq: str = "MS") -> pd.Series:
    return _series(pd.date_range(start, periods=len(values), freq=freq), values, name)


def msft() -> pd.Series:
    from pmdarima.datasets import load_msft

    frame = load_msft()
    series = frame.set_index(pd.to_datetime(frame["Date"]))["Close"].iloc[-1500:]
    return _series(series.index, series.to_numpy(), "close")


def taylor() -> pd.Series:
    from pmdarima.datasets import load_taylor

    # Half-hourly electricity demand (England and Wales, June-August 2000), summed per hour.
    values = np.asarray(load_taylor(), dtype="float64")
    hourly = values.reshape(-1, 2).sum(axis=1)
    return _series(pd.date_range("2000-06-05", periods=len(hourly), freq="h"), hourly, "demand")


def _pmdarima(name: str, start: str, freq: str) -> Callable[[], pd.Series]:
    def load() -> pd.Series:
        import pmdarima.datasets as datasets

        values = getattr(datasets, f"load_{name}")(as_series=False)
        return _monthly(values, start, name, freq)

    return load


def co2() -> pd.Series:
    import statsmodels.api as sm

    frame = sm.datasets.co2.load_pandas().data
    series = frame["co2"].iloc[-1040:]  # the last 20 years of weeks
    return _series(series.index, series.to_numpy(), "co2")


def elnino() -> pd.Series:
    import statsmodels.api as sm

    frame = sm.datasets.elnino.load_pandas().data
    values = frame.drop(columns="YEAR").to_numpy().ravel()
    return _monthly(values, f"{int(frame.YEAR.iloc[0])}-01-01", "sst")


CASES = [
    # -- tuning: defaults are chosen on these
    Case("loans", "tuning", "lending", "D", 28, 7, 7, loans),
    Case(
        "seattle_weather",
        "tuning",
        "weather",
        "D",
        28,
        7,
        7,
        lambda: _vega("seattle_weather", "temp_max"),
    ),
    Case(
        "seattle_temps",
        "tuning",
        "weather",
        "H",
        24,
        24,
        24,
        lambda: _vega("seattle_temps", "temp", tail=24 * 90),
    ),
    Case("msft", "tuning", "finance", "B", 20, 5, 5, msft),
    Case("wineind", "tuning", "sales", "M", 12, 3, 12, _pmdarima("wineind", "1980-01-01", "MS")),
    Case("co2", "tuning", "climate", "W", 13, 4, 52, co2),
    Case(
        "woolyrnq", "tuning", "production", "Q", 8, 2, 4, _pmdarima("woolyrnq", "1965-01-01", "QS")
    ),
    # -- confirmation: only checked, never tuned on
    Case("cfpb_daily", "confirmation", "complaints", "D", 28, 7, 7, cfpb_daily),
    Case(
        "sf_temps",
        "confirmation",
        "weather",
        "H",
        24,
        24,
        24,
        lambda: _vega("sf_temps", "temp", tail=24 * 90),
    ),
    Case("taylor", "confirmation", "energy", "H", 24, 24, 24, taylor),
    Case(
        "airpassengers",
        "confirmation",
        "travel",
        "M",
        12,
        3,
        12,
        _pmdarima("airpassengers", "1949-01-01", "MS"),
    ),
    Case("elnino", "confirmation", "climate", "M", 12, 3, 12, elnino),
    Case(
        "ausbeer",
        "confirmation",
        "production",
        "Q",
        8,
        2,
        4,
        _pmdarima("ausbeer", "1956-01-01", "QS"),
    ),
    Case("lynx", "confirmation", "ecology", "Y", 4, 1, 1, _pmdarima("lynx", "1821-01-01", "YS")),
]


def mase_scale(history: np.ndarray, season: int) -> float:
    """In-sample MAE of the seasonal-naive forecast (naive when ``season`` is 1)."""
    diffs = np.abs(history[season:] - history[:-season])
    return float(diffs.mean()) if diffs.size and diffs.mean() > 0 else 1.0


def score(case: Case, series: pd.Series, forecasts: np.ndarray) -> dict[str, float]:
    """MASE, sMAPE and MAPE over every origin and step; ``forecasts`` is (origins, h)."""
    values = series.to_numpy()
    origins = case.origin_positions(len(values))
    actual = np.stack([values[o : o + case.horizon] for o in origins])
    scale = mase_scale(values[: origins[0]], case.season)
    error = np.abs(actual - forecasts)
    nonzero = actual != 0
    return {
        "mase": float(error.mean() / scale),
        "smape": float(
            200 * np.mean(error / np.maximum(np.abs(actual) + np.abs(forecasts), 1e-12))
        ),
        "mape": float(100 * np.mean(error[nonzero] / np.abs(actual[nonzero]))),
    }
