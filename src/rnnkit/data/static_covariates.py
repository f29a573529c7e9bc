"""Static covariates: attributes of a whole series (its region, its category, its size),
one value per series of a global model.

A column is numeric when every series' value is a number (not true/false), categorical
otherwise.
Numeric columns are standardised with the mean and standard deviation of the trained
series; each categorical column's categories (its vocabulary) are the trained series'
values, and the network reads each category's index through an embedding. A category
the training data did not have is an error at prediction time: its embedding row was
never trained (as scikit-learn's encoders, which Darts' static covariates use, refuse
unknown categories by default).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np
import pandas as pd

from rnnkit.errors import DataError


def static_table(
    frames: Iterable[pd.DataFrame], id_column: str, columns: tuple[str, ...], source: str
) -> pd.DataFrame:
    """Each series' value of every static column: a frame indexed by id (as text).

    Args:
        frames: the rows (one frame, or a file's chunks), each with ``id_column`` and
            every column of ``columns``.
        source: the data's name, for errors.

    Raises:
        DataError: a missing column, a series without a value, or a series with more
            than one value in a column (naming the series, the column and two values).
    """
    parts = []
    for frame in frames:
        missing = [c for c in (id_column, *columns) if c not in frame.columns]
        if missing:
            raise DataError(
                f"{source} has no static column '{missing[0]}' (static_columns: "
                f"{', '.join(columns)}): give each row its series' value, or leave the "
                "column out of --static-columns."
            )
        part = frame[[id_column, *columns]].copy()
        part[id_column] = part[id_column].astype("string").str.strip()
        parts.append(part.dropna(subset=[id_column]).drop_duplicates())
    rows = pd.concat(parts, ignore_index=True).drop_duplicates()
    rows = rows[rows[id_column] != ""]
    table = {}
    for column in columns:
        values = rows[column].where(rows[column].astype("string").str.strip() != "")
        known = values.dropna()
        counts = known.groupby(rows[id_column][known.index]).nunique()
        if (counts > 1).any():
            key = str(counts[counts > 1].index[0])
            shown = ", ".join(repr(v) for v in known[rows[id_column] == key].unique()[:2])
            raise DataError(
                f"Static column '{column}' has more than one value in series {key!r} "
                f"({shown}) in {source}: a static column holds one value per series; fix "
                "those rows or leave the column out of --static-columns."
            )
        per_id = known.groupby(rows[id_column][known.index]).first()
        without = sorted(set(rows[id_column]) - set(per_id.index))
        if without:
            raise DataError(
                f"Series {without[0]!r} has no value in static column '{column}' in "
                f"{source} ({len(without)} series without one): give every series a value."
            )
        table[column] = per_id
    return pd.DataFrame(table)


@dataclasses.dataclass(frozen=True)
class StaticEncoding:
    """The static columns' encoding, fit on the trained series: numeric columns
    standardised, categorical ones mapped to indices of their vocabulary.

    The network reads the numeric columns first, then one index per categorical column.

    Example:
        >>> table = pd.DataFrame({"region": ["north", "south"], "size": ["1", "3"]},
        ...                      index=["a", "b"])
        >>> encoding = StaticEncoding.fit(table)
        >>> encoding.categories, encoding.transform(table).tolist()
        ({'region': ('north', 'south')}, [[-1.0, 0.0], [1.0, 1.0]])
    """

    columns: tuple[str, ...]
    numeric: dict[str, tuple[float, float]]  # column: (mean, std)
    categories: dict[str, tuple[str, ...]]  # column: vocabulary, in index order

    @classmethod
    def fit(cls, table: pd.DataFrame) -> StaticEncoding:
        numeric, categories = {}, {}
        for column in table.columns:
            values = pd.to_numeric(table[column], errors="coerce")
            # True/False are categories: saved as text, they would not read back as numbers.
            if values.notna().all() and not pd.api.types.is_bool_dtype(table[column]):
                mean, std = float(values.mean()), float(values.std(ddof=0))
                numeric[column] = (mean, std if std > 1e-12 * max(abs(mean), 1.0) else 1.0)
            else:
                categories[column] = tuple(sorted({str(v).strip() for v in table[column]}))
        return cls(tuple(table.columns), numeric, categories)

    @property
    def width(self) -> int:
        """The values the network reads per series."""
        return len(self.numeric) + len(self.categories)

    @property
    def vocabulary_sizes(self) -> tuple[int, ...]:
        """The number of categories of each categorical column, in input order."""
        return tuple(len(v) for v in self.categories.values())

    def transform(self, table: pd.DataFrame) -> np.ndarray:
        """The network's static inputs ``(len(table), width)``: the standardised numeric
        columns, then each categorical column's index.

        Raises:
            DataError: a missing column, a numeric column's value that is not a number,
                or a category the model was not trained on (naming the series).
        """
        missing = [c for c in self.columns if c not in table.columns]
        if missing:
            raise DataError(
                f"The data has no static column '{missing[0]}': this model reads "
                f"{', '.join(self.columns)}, one value per series."
            )
        parts = []
        for column, (mean, std) in self.numeric.items():
            values = pd.to_numeric(table[column], errors="coerce")
            if values.isna().any():
                key = values.index[values.isna()][0]
                raise DataError(
                    f"Static column '{column}' of series {key!r} is {table[column][key]!r}, not "
                    "a number: the model was trained on numbers in that column."
                )
            parts.append((values.to_numpy(dtype="float64") - mean) / std)
        for column, vocabulary in self.categories.items():
            positions = {category: i for i, category in enumerate(vocabulary)}
            values = [str(v).strip() for v in table[column]]
            unknown = [(k, v) for k, v in zip(table.index, values) if v not in positions]
            if unknown:
                key, value = unknown[0]
                shown = ", ".join(repr(v) for v in vocabulary[:10])
                raise DataError(
                    f"Series {key!r} has the category {value!r} in static column "
                    f"'{column}', which the model was not trained on (it knows {shown}"
                    f"{', ...' if len(vocabulary) > 10 else ''}): train again with series "
                    "of that category."
                )
            parts.append(np.array([positions[v] for v in values], dtype="float64"))
        return np.stack(parts, axis=1) if parts else np.empty((len(table), 0))

    def to_dict(self) -> dict[str, object]:
        return {
            "columns": list(self.columns),
            "numeric": {c: {"mean": m, "std": s} for c, (m, s) in self.numeric.items()},
            "categories": {c: list(v) for c, v in self.categories.items()},
        }

    @classmethod
    def from_dict(cls, data: dict) -> StaticEncoding:
        return cls(
            tuple(data["columns"]),
            {c: (float(v["mean"]), float(v["std"])) for c, v in data["numeric"].items()},
            {c: tuple(v) for c, v in data["categories"].items()},
        )
