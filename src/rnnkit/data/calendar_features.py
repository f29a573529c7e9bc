"""Calendar features: what the time index says about each period, known for the future.

A forecaster with ``calendar=True`` reads, beside each window's values, these features of
every period in the window and of every period it forecasts (see
:mod:`rnnkit.forecasting.forecaster`). They depend on the frequency only, so a saved run
computes them again from the dates, with nothing more to give at prediction time.

========  ==================================================================
freq      features
========  ==================================================================
``H``     hour of day (sine, cosine), day of week (one-hot, 7)
``D/B``   day of week (one-hot, 7), day of year (sine, cosine), day of month
          (sine, cosine of the day over the month's length)
``W``     week of year (sine, cosine of the period start's day of year)
``M``     month of year (sine, cosine)
``Q``     quarter (sine, cosine)
``Y``     none
========  ==================================================================

With a ``country`` (an ISO code the ``holidays`` package knows, e.g. ``US``, ``GB``,
``DE``), the hourly, daily and weekly frequencies add ``holiday``: 1 on a public holiday
(for weeks, the share of the week's days that are holidays).

The day of month came later (:data:`DAY_OF_MONTH`): a run saved before it names its
features without it, and a ``Calendar`` ``without`` them gives that run's features.
"""

from __future__ import annotations

import dataclasses
import warnings
from functools import cached_property

import numpy as np
import pandas as pd

from rnnkit.errors import ConfigError

HOLIDAY_FREQS = ("H", "D", "B", "W")
#: The day-of-month features of daily data, absent from runs saved before them.
DAY_OF_MONTH = ("day_of_month_sin", "day_of_month_cos")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _cycle(name: str, position: np.ndarray, period: float) -> dict[str, np.ndarray]:
    angle = 2 * np.pi * position / period
    return {f"{name}_sin": np.sin(angle), f"{name}_cos": np.cos(angle)}


def _weekday(index: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    day = index.dayofweek.to_numpy()
    return {f"dow_{name}": (day == k).astype("float64") for k, name in enumerate(_WEEKDAYS)}


def _day_of_year(index: pd.DatetimeIndex) -> np.ndarray:
    return index.dayofyear.to_numpy() - 1


def _features(index: pd.DatetimeIndex, freq: str) -> dict[str, np.ndarray]:
    if freq == "H":
        return {**_cycle("hour", index.hour.to_numpy(), 24), **_weekday(index)}
    if freq in ("D", "B"):
        return {
            **_weekday(index),
            **_cycle("day_of_year", _day_of_year(index), 365.25),
            **_cycle("day_of_month", index.day.to_numpy() - 1, index.days_in_month.to_numpy()),
        }
    if freq == "W":
        return _cycle("week_of_year", _day_of_year(index), 365.25)
    if freq == "M":
        return _cycle("month", index.month.to_numpy() - 1, 12)
    if freq == "Q":
        return _cycle("quarter", index.quarter.to_numpy() - 1, 4)
    return {}


def check_country(country: str) -> None:
    """Refuses a country code the ``holidays`` package does not know.

    Raises:
        ConfigError: naming a few codes it knows.
    """
    import holidays

    known = holidays.list_supported_countries()
    if country not in known:
        raise ConfigError(
            f"country={country!r} is not a country the holidays package knows: give an ISO "
            f"3166 code such as {', '.join(sorted(known)[:8])}... (US, GB, DE, FR, IN)."
        )


@dataclasses.dataclass(frozen=True)
class Calendar:
    """The calendar features of one frequency (and a country's holidays).

    Example:
        >>> calendar = Calendar("M")
        >>> calendar.names
        ('month_sin', 'month_cos')
        >>> calendar.at(pd.date_range("2020-01-01", periods=2, freq="MS")).round(3).tolist()
        [[0.0, 1.0], [0.5, 0.866]]
    """

    freq: str
    country: str | None = None
    #: features left out (:data:`DAY_OF_MONTH` for a run saved before them)
    without: tuple[str, ...] = ()

    @cached_property
    def names(self) -> tuple[str, ...]:
        """The features' names, in the order of :meth:`at`'s columns."""
        names = tuple(
            n for n in _features(pd.DatetimeIndex([]), self.freq) if n not in self.without
        )
        if self.country is not None and self.freq in HOLIDAY_FREQS:
            names += ("holiday",)
        return names

    def __len__(self) -> int:
        return len(self.names)

    def at(self, index: pd.DatetimeIndex) -> np.ndarray:
        """The features of the periods starting at ``index``: ``(len(index), len(self))``."""
        features = _features(index, self.freq)
        columns = [values for name, values in features.items() if name not in self.without]
        if "holiday" in self.names:
            columns.append(self._holidays(index))
        if not columns:
            return np.empty((len(index), 0))
        return np.stack(columns, axis=1).astype("float64")

    def _holidays(self, index: pd.DatetimeIndex) -> np.ndarray:
        import holidays

        days = 7 if self.freq == "W" else 1
        years = range(index.min().year, index.max().year + 2) if len(index) else []
        calendar = holidays.country_holidays(self.country, years=years)
        dates = pd.DatetimeIndex(sorted(calendar)).as_unit("ns").to_numpy()
        starts = index.normalize()
        counts = sum(
            np.isin((starts + pd.Timedelta(days=k)).as_unit("ns").to_numpy(), dates)
            for k in range(days)
        )
        return np.asarray(counts, dtype="float64") / days

    def window_features(
        self, starts: pd.DatetimeIndex | list[pd.Timestamp], lookback: int, horizon: int
    ) -> np.ndarray:
        """The features of every window's periods, ``(n, lookback + horizon, len(self))``:
        the ``lookback`` periods before each of ``starts`` (the window's first forecast
        period) and the ``horizon`` from it, one period of ``freq`` apart (a series whose
        weeks start on Saturdays, or whose months are labelled by their last day, keeps
        its own dates)."""
        starts = pd.DatetimeIndex(starts)
        steps = range(-lookback, horizon)
        dates = np.stack([_shifted(starts, k, self.freq).to_numpy() for k in steps], axis=1)
        features = self.at(pd.DatetimeIndex(dates.ravel()))
        return features.reshape(len(starts), len(steps), len(self))


def _shifted(starts: pd.DatetimeIndex, periods: int, freq: str) -> pd.DatetimeIndex:
    """``starts`` moved by ``periods`` periods of ``freq`` (each from its own date)."""
    if freq in _FIXED:
        return starts + periods * _FIXED[freq]
    if freq == "B":
        return starts + pd.offsets.BDay(periods)
    months = {"M": 1, "Q": 3, "Y": 12}[freq] * periods
    with warnings.catch_warnings():  # a DateOffset is applied date by date: fine here
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        return starts + pd.DateOffset(months=months)


_FIXED = {"H": pd.Timedelta(hours=1), "D": pd.Timedelta(days=1), "W": pd.Timedelta(weeks=1)}
