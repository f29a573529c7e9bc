"""The files of a run checked against a schema when the run is loaded.

A run directory may be edited by hand, truncated by a full disk or written by another
program. Every file a loader reads is validated here first, so a damaged run is one clear
error naming the file and the key (``preprocessing.json: scaler.scale must be greater than
0, got 0``), never a ``KeyError`` from deep inside a loader, and never a run that loads and
then gives wrong answers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rnnkit.config import BASES, COMBINE_WITH, FREQS, PADDINGS, SCALERS, TRUNCATIONS, WINDOW_NORMS
from rnnkit.core import persistence
from rnnkit.data.scaling import DEFAULT_SMOOTHING
from rnnkit.errors import RnnkitError, RunDirectoryError

Finite = Annotated[float, Field(allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=1)]


class RunFile(BaseModel):
    """A run file's schema: types are strict (``"1"`` is not an integer), extra keys
    are kept for the reports that read them."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class ScalerState(RunFile):
    kind: Literal[tuple(s for s in SCALERS if s != "auto")]  # type: ignore[misc]
    offset: Finite
    scale: Positive


class TailState(RunFile):
    index: list[str]
    values: list[Finite]

    @model_validator(mode="after")
    def _same_length(self) -> TailState:
        if len(self.index) != len(self.values):
            raise ValueError(
                f"has {len(self.index)} dates in 'index' but {len(self.values)} 'values'"
            )
        import pandas as pd

        try:
            index = pd.DatetimeIndex(self.index)
        except (ValueError, TypeError) as err:
            raise ValueError(f"'index' holds a value that is not a date ({err})") from None
        if not index.is_monotonic_increasing or index.has_duplicates:
            raise ValueError("'index' dates are not in increasing order")
        return self


class CovariateScalingState(RunFile):
    """The covariate columns and their standardisation."""

    columns: list[str]
    mean: list[Finite]
    std: list[Positive]

    @model_validator(mode="after")
    def _one_scaling_per_column(self) -> CovariateScalingState:
        k = len(self.columns)
        if len(self.mean) != k or len(self.std) != k:
            raise ValueError(
                f"has {k} 'columns' but {len(self.mean)} 'mean', {len(self.std)} 'std'"
            )
        return self


class CovariateState(CovariateScalingState):
    """The covariate columns: their standardisation and their last periods."""

    tail: list[list[Finite]]

    @model_validator(mode="after")
    def _one_value_per_column(self) -> CovariateState:
        if any(len(row) != len(self.columns) for row in self.tail):
            raise ValueError(f"'tail' rows must hold one value per column ({len(self.columns)})")
        return self


class GlobalCovariateState(CovariateScalingState):
    """A global model's covariate columns: one standardisation, each series' last periods."""

    tails: dict[str, list[list[Finite]]]

    @model_validator(mode="after")
    def _one_value_per_column(self) -> GlobalCovariateState:
        k = len(self.columns)
        for key, rows in self.tails.items():
            if not rows or any(len(row) != k for row in rows):
                raise ValueError(
                    f"'tails' of series {key!r} must hold periods of one value per column ({k})"
                )
        return self


class IntervalState(RunFile):
    """The prediction intervals' calibration: an offset per quantile and horizon step."""

    quantiles: Annotated[list[Annotated[float, Field(gt=0, lt=1)]], Field(min_length=1)]
    offsets: list[list[Finite]]
    residuals_per_step: Count
    pooled: bool

    @model_validator(mode="after")
    def _one_row_per_quantile(self) -> IntervalState:
        if any(b <= a for a, b in zip(self.quantiles, self.quantiles[1:])):
            raise ValueError("'quantiles' are not increasing")
        if len(self.offsets) != len(self.quantiles):
            raise ValueError(
                f"has {len(self.quantiles)} 'quantiles' but {len(self.offsets)} rows of 'offsets'"
            )
        if len({len(row) for row in self.offsets}) > 1:
            raise ValueError("'offsets' rows differ in length")
        return self


class CombinationState(RunFile):
    """Whether the forecasts average the network's with a statistical model's."""

    combined_with: Literal[  # type: ignore[misc]
        tuple(c for c in COMBINE_WITH if c not in ("none", "auto"))
    ]
    weight: Annotated[float, Field(ge=0, lt=1)]
    # The periods the statistical model is fitted on before each forecast.
    history: Count


class ForecastPreprocessing(RunFile):
    """``preprocessing.json`` of a run of one series."""

    scaler: ScalerState
    epsilon: Positive
    tail: TailState
    window_norm: Literal[tuple(w for w in WINDOW_NORMS if w != "auto")]  # type: ignore[misc]
    base: Literal[tuple(b for b in BASES if b != "auto")]  # type: ignore[misc]
    base_smoothing: float = Field(default=DEFAULT_SMOOTHING, gt=0, le=1)
    freq: Literal[FREQS]  # type: ignore[valid-type]
    # Runs written before intervals existed, or without them, have none.
    intervals: IntervalState | None = None
    # The names of the calendar features the network reads; none without them.
    calendar: list[str] | None = None
    # The lowest value forecast (0 for a series without negative values); none: no floor.
    floor: Finite | None = None
    covariates: CovariateState | None = None
    # fit's data was a DataFrame indexed by time (runs saved before this: a time column).
    time_indexed: bool = False
    # The network's forecast averaged with a statistical model's (runs saved before this,
    # or where the validation kept the network alone: none).
    combination: CombinationState | None = None


class NumericStatic(RunFile):
    mean: Finite
    std: Positive


class StaticState(RunFile):
    """A global model's static columns: their encoding and each series' values."""

    columns: list[str]
    numeric: dict[str, NumericStatic]
    categories: dict[str, list[str]]
    values: dict[str, list[str]]

    @model_validator(mode="after")
    def _every_column_encoded(self) -> StaticState:
        encoded = [*self.numeric, *self.categories]
        if sorted(encoded) != sorted(self.columns):
            raise ValueError(
                f"encodes {encoded} but 'columns' names {self.columns}: each column is "
                "numeric or categorical"
            )
        empty = [c for c, v in self.categories.items() if not v]
        if empty:
            raise ValueError(f"categorical column {empty[0]!r} has no category")
        if any(len(row) != len(self.columns) for row in self.values.values()):
            raise ValueError(f"'values' rows must hold one value per column ({len(self.columns)})")
        return self


class GlobalForecastPreprocessing(RunFile):
    """``preprocessing.json`` of a run of many series: one scaler, floor and tail each."""

    scalers: dict[str, ScalerState]
    epsilons: dict[str, Positive]
    tails: dict[str, TailState]
    window_norm: Literal[tuple(w for w in WINDOW_NORMS if w != "auto")]  # type: ignore[misc]
    base: Literal[tuple(b for b in BASES if b != "auto")]  # type: ignore[misc]
    base_smoothing: float = Field(default=DEFAULT_SMOOTHING, gt=0, le=1)
    freq: Literal[FREQS]  # type: ignore[valid-type]
    # Runs written before intervals existed, or without them, have none.
    intervals: IntervalState | None = None
    # The names of the calendar features the network reads; none without them.
    calendar: list[str] | None = None
    # The lowest value forecast (0 for a series without negative values); none: no floor.
    floor: Finite | None = None
    # Runs without static columns (and those saved before them) have none.
    static: StaticState | None = None
    # Runs without covariate columns (and those saved before them) have none.
    covariates: GlobalCovariateState | None = None
    # fit's data was a DataFrame indexed by time (runs saved before this: a time column).
    time_indexed: bool = False
    # The network's forecast averaged with a statistical model's (runs saved before this,
    # or where the validation kept the network alone: none).
    combination: CombinationState | None = None

    @model_validator(mode="after")
    def _same_series(self) -> GlobalForecastPreprocessing:
        keys = set(self.scalers)
        for name in ("epsilons", "tails"):
            other = set(getattr(self, name))
            if other != keys:
                odd = sorted(other ^ keys)[:3]
                raise ValueError(
                    f"'scalers' and '{name}' name different series (e.g. {', '.join(odd)})"
                )
        if not keys:
            raise ValueError("names no series")
        return self


class Cleaning(RunFile):
    remove_stopwords: bool = False
    stopwords: list[str] = []


class ClassifierPreprocessing(RunFile):
    """``preprocessing.json`` of a text classification run."""

    cleaning: Cleaning
    sequence_length: Count
    padding: Literal[PADDINGS]  # type: ignore[valid-type]
    truncation: Literal[TRUNCATIONS]  # type: ignore[valid-type]
    vocabulary_size: Annotated[int, Field(ge=3)]
    classes: Annotated[list[str], Field(min_length=1)]
    majority_class: str

    @model_validator(mode="after")
    def _classes(self) -> ClassifierPreprocessing:
        seen: set[str] = set()
        for name in self.classes:
            if name in seen:
                raise ValueError(f"'classes' lists {name!r} twice")
            seen.add(name)
        if self.majority_class not in seen:
            raise ValueError(f"'majority_class' {self.majority_class!r} is not in 'classes'")
        return self


def damaged(run_dir: str | os.PathLike[str], problem: str) -> RunDirectoryError:
    """The one error of a damaged run: where, what, and how to fix it."""
    return RunDirectoryError(
        f"Run directory '{run_dir}' is damaged: {problem}. Train again to recreate it "
        "(or restore the file from a copy)."
    )


def _where(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def describe_errors(name: str, err: ValidationError) -> str:
    """Every problem pydantic found, as ``file: key must be ..., got ...`` phrases."""
    phrases = []
    missing = [_where(tuple(e["loc"])) for e in err.errors() if e["type"] == "missing"]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        phrases.append(f"{name}: {', '.join(missing)} {verb} missing")
    for error in err.errors(include_url=False):
        where = _where(tuple(error["loc"]))
        prefix = f"{name}: {where}" if where else f"{name}:"
        if error["type"] == "missing":
            continue
        message = str(error["msg"])
        message = message.replace("Input should be", "must be").replace("Value error, ", "")
        shown = repr(error.get("input"))
        if len(shown) > 40:
            shown = shown[:37] + "..."
        got = f", got {shown}" if error["type"] != "value_error" else ""
        phrases.append(f"{prefix} {message}{got}")
    if len(phrases) > 5:
        phrases = [*phrases[:5], f"and {len(phrases) - 5} more"]
    return "; ".join(phrases)


def read_run_file(
    run_dir: str | os.PathLike[str], name: str, schema: type[RunFile]
) -> dict[str, Any]:
    """Reads the JSON file ``name`` of ``run_dir``, validated against ``schema``.

    Returns the file's JSON object as it is (strict types: nothing was converted), with
    the keys the schema does not know, which reports read.

    Raises:
        RunDirectoryError: naming the file and every key that is missing or wrong.

    Example:
        >>> read_run_file("runs/a", "metrics.json", RunFile)  # doctest: +SKIP
    """
    data = persistence.read_json(Path(run_dir) / name)
    try:
        schema.model_validate(data)
    except ValidationError as err:
        raise damaged(run_dir, describe_errors(name, err)) from err
    return data


def read_run_json(run_dir: str | os.PathLike[str], name: str) -> dict[str, Any]:
    """A run file that must hold a JSON object (the whole file, unvalidated inside)."""
    data = persistence.read_json(Path(run_dir) / name)
    if not isinstance(data, dict):
        raise damaged(run_dir, f"{name} must hold a JSON object, got {type(data).__name__}")
    return data


def read_run_config(run_dir: str | os.PathLike[str], make: Any) -> Any:
    """``config.json`` made into a config by ``make`` (a ``from_dict``), its errors named
    after the file: ``config.json: model.units must be an integer >= 1, got 'abc'``."""
    data = read_run_json(run_dir, "config.json")
    try:
        return make(data)
    except RunDirectoryError:
        raise
    except RnnkitError as err:
        raise damaged(run_dir, f"config.json: {str(err).rstrip('.')}") from err


def check_model_shape(
    run_dir: str | os.PathLike[str],
    model: Any,
    inputs: tuple[int, str],
    outputs: tuple[int, str],
) -> None:
    """Refuses a model whose input steps or output width disagree with the run's files.

    Args:
        inputs: the time steps (tokens or lookback) the run's files feed the model, and
            where that number comes from (``"the lookback in config.json"``).
        outputs: the width of its last output axis (classes or forecast steps), and
            where that number comes from.
    """
    shape = model.input_shape
    if isinstance(shape, list):  # several inputs: the first is the sequence
        shape = shape[0]
    steps = tuple(shape)[1:2]
    width = tuple(model.output_shape)[-1]
    if steps[:1] not in ((None,), (inputs[0],)):
        raise damaged(
            run_dir,
            f"model.keras reads {steps[0] if steps else 'no'} steps but {inputs[1]} is {inputs[0]}",
        )
    if width != outputs[0]:
        raise damaged(run_dir, f"model.keras has {width} outputs but {outputs[1]} is {outputs[0]}")
