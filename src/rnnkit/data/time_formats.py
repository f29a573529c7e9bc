"""Telling the date formats of a time column apart before pandas guesses row by row.

``pd.to_datetime(format="mixed")`` parses every value on its own: in a column that mixes
``2016-01-15`` and ``21/01/2016``, ``03/02/2016`` becomes March 2 although the column is
day-first, and nothing says so. :class:`DateOrders` sorts the values by where their year,
month and day stand, stops when a column mixes orders that cannot be read alike, and
otherwise says whether the column is day-first.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from rnnkit.data.reading import line_numbers
from rnnkit.errors import DataError

# The first three numbers of a value and what lies between them (``2016-01-15 10:00``).
_FIELDS = r"^\D*(\d+)(\D+)(\d+)(\D+)(\d+)"
_NAMES = {
    "ymd": "year first",
    "dmy": "day first",
    "mdy": "month first",
    "xxy": "year last, day and month not told apart",
}
_FORMATS = {"ymd": "%Y-%m-%d", "dmy": "%d/%m/%Y", "mdy": "%m/%d/%Y", "xxy": "%d/%m/%Y"}


def _as_text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def date_orders(values: pd.Series) -> pd.Series:
    """Each text value's date order: ``ymd``, ``dmy``, ``mdy``, ``xxy`` (year last, day
    and month both 12 or less) or NA (no numeric date: a month name, ``20160115``).

    Example:
        >>> date_orders(pd.Series(["2016-01-15", "21/01/2016", "03/02/2016", "Jan 5"])).tolist()
        ['ymd', 'dmy', 'xxy', <NA>]
    """
    fields = values.astype("string").str.extract(_FIELDS)
    first, second, third = fields[0], fields[2], fields[4]
    a = pd.to_numeric(first, errors="coerce")
    b = pd.to_numeric(second, errors="coerce")
    year_first = first.str.len() == 4
    year_last = (third.str.len() == 4) & ~year_first
    order = pd.Series(pd.NA, index=values.index, dtype="string")
    order[year_first.fillna(False)] = "ymd"
    order[(year_last & (a <= 12) & (b <= 12)).fillna(False)] = "xxy"
    order[(year_last & (a > 12) & (b <= 12)).fillna(False)] = "dmy"
    order[(year_last & (b > 12) & (a <= 12)).fillna(False)] = "mdy"
    return order


@dataclasses.dataclass
class DateOrders:
    """The date orders met so far in one time column (of one frame, or of every chunk of
    one file), with a first example of each: ``(line, value)``."""

    column: str
    examples: dict[str, tuple[int, str]] = dataclasses.field(default_factory=dict)
    read_month_first: bool = False  # rows of undecided order were read month first

    def dayfirst(self, frame: pd.DataFrame) -> bool:
        """Adds the rows of ``frame`` and says whether to read them day first.

        Raises:
            DataError: the column mixes year-first and year-last dates, or day-first and
                month-first ones, naming lines of each and ``--time-format``.
        """
        raw = frame[self.column]
        if not (pd.api.types.is_string_dtype(raw) or raw.dtype == object):
            return False  # already times (Parquet, a DataFrame of Timestamps)
        # A date's order is in its first ten characters: sorting the distinct ones is
        # fast even for a million timestamps, which share a few hundred dates.
        if raw.dtype == object:  # any values, bytes from Parquet too: as parse_times reads them
            raw = raw.map(_as_text)
        heads = raw.astype("string").str.slice(0, 10).to_numpy(dtype=object)
        distinct = pd.Series(pd.unique(heads), dtype="string")
        orders = date_orders(distinct)
        for order in ("ymd", "dmy", "mdy", "xxy"):
            if order in self.examples:
                continue
            found = np.flatnonzero((orders == order).fillna(False).to_numpy())
            if len(found):
                position = int((heads == distinct.iloc[int(found[0])]).argmax())
                line = line_numbers(frame, [position])[0]
                self.examples[order] = (line, str(raw.iloc[position]))
        seen = set(self.examples)
        if "dmy" in seen and "mdy" in seen:
            self._mixed("dmy", "mdy", frame)
        if "ymd" in seen and seen & {"dmy", "mdy", "xxy"}:
            other = next(o for o in ("dmy", "mdy", "xxy") if o in seen)
            self._mixed("ymd", other, frame)
        if "dmy" in seen and self.read_month_first:
            self._mixed("dmy", "xxy", frame, earlier=True)
        if "dmy" not in seen and "xxy" in seen:
            self.read_month_first = True
        return "dmy" in seen

    def _mixed(self, one: str, other: str, frame: pd.DataFrame, earlier: bool = False) -> None:
        source = frame.attrs.get("source", "the data")
        word = frame.attrs.get("line_word", "line")
        shown = " and ".join(
            f"{self.examples[o][1]!r} ({_NAMES[o]}, {word} {self.examples[o][0]})"
            for o in (one, other)
        )
        why = (
            "earlier chunks of rows were read month first before a day-first date showed"
            if earlier
            else "pandas would guess each row alone (03/02/2016 as March in one row and "
            "February in the next)"
        )
        raise DataError(
            f"File '{source}', column '{self.column}' mixes date formats: {shown}; {why}. "
            "Write every date in one format, or give the format with --time-format (e.g. "
            f"--time-format '{_FORMATS[other]}'; rows in another format are then reported)."
        )
