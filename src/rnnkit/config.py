"""Small frozen configurations, validated on creation and saved as JSON.

A job's configuration is one dataclass with at most one level of nesting
(``model`` and ``training``). CLI flags map one to one onto these fields.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Literal, TypeVar, get_args

from rnnkit.errors import ConfigError, did_you_mean

Cell = Literal["lstm", "gru", "simple_rnn"]
Loss = Literal["mse", "huber"]
CELLS: tuple[str, ...] = get_args(Cell)

T = TypeVar("T", bound="_Config")


def _check_choice(field: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        hint = did_you_mean(str(value), choices)
        raise ConfigError(f"{field}={value!r} is not one of {', '.join(choices)}.{hint}")


def _check_positive_int(field: str, value: object, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{field} must be an integer >= {minimum}, got {value!r}.")


def _check_fraction(field: str, value: object, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{field} must be a number, got {value!r}.")
    if not (low <= value < high) or math.isnan(value):
        raise ConfigError(f"{field} must be in [{low}, {high}), got {value!r}.")


class _Config:
    """JSON round-trip shared by every configuration dataclass."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        """Builds the config from a dict, rejecting unknown keys with the closest name."""
        if not isinstance(data, dict):
            raise ConfigError(f"{cls.__name__} expects a JSON object, got {type(data).__name__}.")
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = [key for key in data if key not in fields]
        if unknown:
            key = unknown[0]
            raise ConfigError(
                f"Unknown {cls.__name__} key {key!r}.{did_you_mean(key, fields)} "
                f"Valid keys: {', '.join(fields)}."
            )
        values = dict(data)
        for name, field in fields.items():
            nested = _NESTED.get(field.type if isinstance(field.type, str) else "")
            if nested is not None and isinstance(values.get(name), dict):
                values[name] = nested.from_dict(values[name])
        return cls(**values)

    def replace(self: T, **changes: Any) -> T:
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


@dataclasses.dataclass(frozen=True)
class ModelConfig(_Config):
    """The recurrent stack shared by both jobs.

    Args:
        cell: ``"lstm"``, ``"gru"`` or ``"simple_rnn"``.
        num_layers: how many recurrent layers are stacked.
        units: units per recurrent layer (per direction when bidirectional).
        dropout: dropout between layers (never after the output layer).
        bidirectional: wrap each recurrent layer in ``Bidirectional``.
        recurrent_dropout: dropout on the recurrent state inside each cell, as in the
            guide's classifier. Off by default: it rules out the fused (cuDNN) kernels
            and slows training several times; rnnkit warns when it is set.
    """

    cell: str = "lstm"
    num_layers: int = 2
    units: int = 64
    dropout: float = 0.0
    bidirectional: bool = False
    recurrent_dropout: float = 0.0

    def __post_init__(self) -> None:
        _check_choice("cell", self.cell, CELLS)
        _check_fraction("recurrent_dropout", self.recurrent_dropout, 0.0, 1.0)
        _check_positive_int("num_layers", self.num_layers)
        _check_positive_int("units", self.units)
        _check_fraction("dropout", self.dropout, 0.0, 1.0)
        if not isinstance(self.bidirectional, bool):
            raise ConfigError(f"bidirectional must be true or false, got {self.bidirectional!r}.")


@dataclasses.dataclass(frozen=True)
class TrainingConfig(_Config):
    """How a model is trained: Adam, early stopping on validation loss, clipping.

    Args:
        epochs: the most epochs to train; early stopping usually ends sooner.
        batch_size: windows or texts per gradient step.
        learning_rate: Adam's learning rate.
        patience: epochs without a better validation loss before stopping.
        loss: ``"mse"`` or ``"huber"`` (forecasting only).
        clipnorm: gradient norm clipping (0 turns it off).
        seed: the same seed gives the same run.
    """

    epochs: int = 100
    batch_size: int = 32
    learning_rate: float = 1e-3
    patience: int = 10
    loss: str = "mse"
    clipnorm: float = 1.0
    seed: int = 42

    def __post_init__(self) -> None:
        _check_positive_int("epochs", self.epochs)
        _check_positive_int("batch_size", self.batch_size)
        _check_positive_int("patience", self.patience)
        _check_positive_int("seed", self.seed, minimum=0)
        _check_choice("loss", self.loss, get_args(Loss))
        if isinstance(self.learning_rate, bool) or not isinstance(self.learning_rate, (int, float)):
            raise ConfigError(f"learning_rate must be a number, got {self.learning_rate!r}.")
        if not (0 < self.learning_rate <= 10):
            raise ConfigError(f"learning_rate must be in (0, 10], got {self.learning_rate!r}.")
        if not isinstance(self.clipnorm, (int, float)) or self.clipnorm < 0:
            raise ConfigError(f"clipnorm must be a number >= 0, got {self.clipnorm!r}.")


FREQS = ("H", "D", "B", "W", "M", "Q", "Y")
AGGS = ("sum", "mean", "count", "last", "min", "max")
FILLS = ("auto", "zero", "interpolate", "ffill")
SCALERS = ("minmax", "standard", "none")
WINDOW_NORMS = ("none", "level", "standard")
STRATEGIES = ("direct", "recursive")


@dataclasses.dataclass(frozen=True)
class ForecastConfig(_Config):
    """Everything that defines a forecasting run.

    Args:
        time_column: the column of timestamps.
        target_column: the column of values to aggregate and forecast.
        freq: period length: ``H``, ``D``, ``B``, ``W``, ``M``, ``Q`` or ``Y``.
        agg: how rows in one period combine: sum, mean, count, last, min, max.
        fill: how periods without rows are filled: ``zero``, ``interpolate``,
            ``ffill``, or ``auto`` (zero for sum and count, interpolation otherwise).
        lookback: periods the network sees.
        horizon: periods it forecasts.
        strategy: ``direct`` (one network outputs the horizon) or ``recursive``
            (one step at a time, each prediction fed back).
        scaler: ``minmax`` (the guide's), ``standard`` or ``none``; fit on the training
            part only.
        window_norm: after scaling, each input window is normalised by its own level
            (``level``: divide by the window's mean absolute value) or mean and
            standard deviation (``standard``, as RevIN), and the forecast mapped back.
            ``none`` is the guide's behaviour.
        test_size: periods held out for the test (default: ``horizon``).
        validation_size: periods before the test used for early stopping
            (default: the larger of ``2 * horizon`` and 15% of the series).
    """

    time_column: str = "date"
    target_column: str = "value"
    freq: str = "D"
    agg: str = "sum"
    fill: str = "auto"
    lookback: int = 60
    horizon: int = 30
    strategy: str = "direct"
    scaler: str = "minmax"
    window_norm: str = "level"
    test_size: int | None = None
    validation_size: int | None = None
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    training: TrainingConfig = dataclasses.field(default_factory=TrainingConfig)

    def __post_init__(self) -> None:
        if isinstance(self.freq, str):
            object.__setattr__(self, "freq", self.freq.upper())
        _check_choice("freq", self.freq, FREQS)
        _check_choice("agg", self.agg, AGGS)
        _check_choice("fill", self.fill, FILLS)
        _check_choice("strategy", self.strategy, STRATEGIES)
        _check_choice("scaler", self.scaler, SCALERS)
        _check_choice("window_norm", self.window_norm, WINDOW_NORMS)
        _check_positive_int("lookback", self.lookback)
        _check_positive_int("horizon", self.horizon)
        if self.test_size is not None:
            _check_positive_int("test_size", self.test_size)
            if self.test_size < self.horizon:
                raise ConfigError(
                    f"test_size ({self.test_size}) must be at least horizon ({self.horizon}): "
                    "the test forecasts whole horizons."
                )
        if self.validation_size is not None:
            _check_positive_int("validation_size", self.validation_size)
        for name in ("time_column", "target_column"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ConfigError(f"{name} must be a non-empty column name.")

    @property
    def fill_method(self) -> str:
        """The fill actually used: ``auto`` resolved from ``agg``."""
        if self.fill != "auto":
            return self.fill
        return "zero" if self.agg in ("sum", "count") else "interpolate"


# Field type names (as strings, under `from __future__ import annotations`) of nested configs.
_NESTED: dict[str, type[_Config]] = {"ModelConfig": ModelConfig, "TrainingConfig": TrainingConfig}
