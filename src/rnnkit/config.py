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
Loss = Literal["auto", "mse", "huber", "mae"]
CELLS: tuple[str, ...] = get_args(Cell)

T = TypeVar("T", bound="_Config")


def _check_choice(field: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        hint = did_you_mean(str(value), choices)
        raise ConfigError(f"{field}={value!r} is not one of {', '.join(choices)}.{hint}")


def _check_positive_int(field: str, value: object, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{field} must be an integer >= {minimum}, got {value!r}.")


def _check_quantiles(field: str, value: object) -> None:
    """Quantile levels: a tuple of numbers in (0, 1), increasing, none repeated."""
    if not isinstance(value, tuple):
        raise ConfigError(
            f"{field} must be a list of numbers in (0, 1) such as [0.1, 0.5, 0.9] "
            f"(or [] for no intervals), got {value!r}."
        )
    for q in value:
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not (0 < q < 1):
            raise ConfigError(
                f"{field} must hold numbers strictly between 0 and 1, got {q!r} in "
                f"{list(value)}: give levels such as 0.1,0.5,0.9."
            )
    if any(b <= a for a, b in zip(value, value[1:])):
        raise ConfigError(
            f"{field} must be increasing with none repeated, got {list(value)}: "
            f"give {sorted(set(value))}."
        )


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
            if nested is None or name not in values:
                continue
            if not isinstance(values[name], dict):
                raise ConfigError(
                    f"{name} must be a JSON object of {nested.__name__} keys, got {values[name]!r}."
                )
            try:
                values[name] = nested.from_dict(values[name])
            except ConfigError as err:
                # "units must be ..." says which key, but not of which object.
                message = str(err)
                key = message.split(" ", 1)[0].split("=", 1)[0]
                joiner = "." if key in nested.__dataclass_fields__ else ": "  # type: ignore[attr-defined]
                raise ConfigError(f"{name}{joiner}{message}") from err
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
        learning_rate: Adam's learning rate, or ``"auto"`` to take the one a
            learning-rate range test suggests (run on a throw-away copy of the model).
        patience: epochs without a better validation loss before stopping.
        loss: ``"mse"``, ``"huber"`` or ``"auto"`` (forecasting only): ``auto`` is MSE
            for one series and Huber for a global model of many series, whose sparse
            series give windows of zeros followed by a few events, i.e. huge normalised
            targets (benchmarks/bench_global.py: mean MASE 0.44 with Huber, 0.67 with
            MSE on daily complaints per product).
        clipnorm: gradient norm clipping (0 turns it off).
        seed: the same seed gives the same run.
        gradient_health: record per-layer gradient and weight norms during training and
            flag the signs of exploding and vanishing gradients.
        distribute: data-parallel training over every local device (every GPU; on CPU as
            many devices as ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` makes)
            with Keras's ``DataParallel``; ``batch_size`` stays the global batch. With
            ``RNNKIT_COORDINATOR``, ``RNNKIT_NUM_PROCESSES`` and ``RNNKIT_PROCESS_ID`` set,
            several processes (or hosts) train one model together (see
            :func:`rnnkit.core.training.distributed`).
    """

    epochs: int = 100
    batch_size: int = 32
    # Measured on the loans benchmark (3 seeds): lr 3e-3 with patience 20 learns the weekly
    # cycle (MASE 2.38 vs 3.83 at 1e-3 with patience 10; seasonal naive 3.28).
    learning_rate: float | str = 3e-3
    patience: int = 20
    loss: str = "auto"
    clipnorm: float = 1.0
    seed: int = 42
    gradient_health: bool = True
    distribute: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.distribute, bool):
            raise ConfigError(f"distribute must be true or false, got {self.distribute!r}.")
        _check_positive_int("epochs", self.epochs)
        _check_positive_int("batch_size", self.batch_size)
        _check_positive_int("patience", self.patience)
        _check_positive_int("seed", self.seed, minimum=0)
        _check_choice("loss", self.loss, get_args(Loss))
        if self.learning_rate == "auto":
            pass
        elif isinstance(self.learning_rate, bool) or not isinstance(
            self.learning_rate, (int, float)
        ):
            raise ConfigError(
                f"learning_rate must be a number or 'auto', got {self.learning_rate!r}."
            )
        elif not (0 < self.learning_rate <= 10):
            raise ConfigError(f"learning_rate must be in (0, 10], got {self.learning_rate!r}.")
        if (
            isinstance(self.clipnorm, bool)
            or not isinstance(self.clipnorm, (int, float))
            or not math.isfinite(self.clipnorm)
            or self.clipnorm < 0
        ):
            raise ConfigError(f"clipnorm must be a finite number >= 0, got {self.clipnorm!r}.")


# Chosen on the tuning half of benchmarks/bench_forecast_suite.py and checked on its
# confirmation half (README, "Forecasting benchmark"): an ensemble of small one-layer GRUs
# that correct the better simple forecast beats both simple baselines on more series, in
# a fraction of the time, than one two-layer LSTM of 64 units.
def _forecaster_model() -> ModelConfig:
    return ModelConfig(cell="gru", num_layers=1, units=32)


def _forecaster_training() -> TrainingConfig:
    return TrainingConfig(patience=10)


FREQS = ("H", "D", "B", "W", "M", "Q", "Y")
AGGS = ("sum", "mean", "count", "last", "min", "max")
FILLS = ("auto", "zero", "interpolate", "ffill")
SCALERS = ("auto", "minmax", "standard", "none")
WINDOW_NORMS = ("auto", "none", "level", "standard")
STRATEGIES = ("direct", "recursive", "seq2seq")
BASES = ("none", "naive", "seasonal_naive", "seasonal_mean", "theta", "auto")
# The statistical models (statsforecast) the network's forecast may be averaged with;
# "auto" chooses one (see ForecastConfig.combination_model).
COMBINE_WITH = ("auto", "none", "auto_ets", "auto_theta", "auto_arima")
# Seasonal period of each frequency: MASE's scale, the seasonal-naive baseline, the base
# forecast and the automatic lookback use it.
SEASONAL_PERIODS = {"H": 24, "D": 7, "B": 5, "W": 52, "M": 12, "Q": 4, "Y": 1}


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
        lookback: periods the network sees; ``None`` chooses it from the horizon and the
            season (see :attr:`window`).
        horizon: periods it forecasts.
        strategy: ``direct`` (one network outputs the horizon), ``recursive``
            (one step at a time, each prediction fed back) or ``seq2seq`` (an
            encoder-decoder: many to many).
        scaler: ``minmax`` (the guide's), ``standard``, ``none`` or ``auto``; fit on
            the training part only. ``auto``: ``minmax`` for one series, ``none`` for a
            global model (see :attr:`scaler_method`).
        window_norm: after scaling, each input window is normalised by its own level
            (``level``: divide by the window's mean absolute value) or mean and
            standard deviation (``standard``, as RevIN), and the forecast mapped back.
            ``none`` is the guide's behaviour. ``auto``: ``standard`` for one series,
            ``level`` for a global model (see :attr:`window_norm_method`).
        test_size: periods held out for the test, at least ``horizon``. By default, for
            one series, up to three horizons (three forecast origins) within a fifth of
            the series, and one horizon where the series is too short for more; for a
            global model, one horizon of every series.
        validation_size: periods before the test used for early stopping
            (default: the larger of ``horizon`` and 15% of the series).
        id_column: the column naming the series of each row (branch, product...): one
            global model is then trained across every series (see
            :class:`~rnnkit.forecasting.GlobalForecaster`); ``None`` for one series.
        base: the simple forecast the network corrects (direct strategy): ``naive``
            (the last value), ``seasonal_naive`` (the last season repeated),
            ``seasonal_mean`` (the average shape of the window's last seasons, up to 4,
            at the level of the last one), ``theta`` (the Theta method on the window:
            exponential smoothing plus half its trend, deseasonalised; its smoothing
            weight chosen on the validation windows), ``auto`` (whichever of naive,
            seasonal naive and seasonal mean forecasts the validation windows best) or
            ``none`` (the network forecasts the values themselves). The output layers
            start at zero, so an untrained network already gives the base forecast; after
            training, the validation windows choose the whole correction, half of it
            (the average of network and base) or none.
        ensemble_size: members trained together in one model (independent losses,
            different initial weights and lookbacks); the forecast is their mean without the
            lowest and the highest member (their median for three or four).
        linear: add a linear map of the window to each member's output, beside the
            recurrent layers (what a linear autoregression already knows).
        combine_with: a statistical model (statsforecast's ``auto_ets``, ``auto_theta``
            or ``auto_arima``) whose forecast the network's may be averaged with,
            ``none``, or ``auto``: AutoARIMA for one series, AutoETS for a global model
            (see :attr:`combination_model`). After training, forecasts from a few origins
            of the validation part (each series' last one in a global model) choose: the
            network's forecast alone, or the mean of the two. The statistical model is
            refit on the last periods before every forecast (see
            :func:`~rnnkit.forecasting.combination.history_periods`).
        time_format: the format of every value of ``time_column`` (pandas ``format=``,
            e.g. ``"%d/%m/%Y"``); ``None`` reads them in the column's one date order and
            stops when the column mixes orders (``2016-01-15`` and ``21/01/2016``).
        allow_sparse: train on a series most of whose periods had no rows (with a
            warning); by default that stops, naming the likely cause (a ``freq`` finer
            than the data, a mistyped year).
        quantiles: the levels of the prediction intervals, each in (0, 1), increasing.
            They are calibrated after training on the forecast errors of the validation
            windows (split conformal, per horizon step, in units of each window's
            spread; see :mod:`rnnkit.forecasting.intervals`): the point forecast is
            unchanged. ``()`` turns intervals off.
        calendar: give the network calendar features of every period of its window and
            of the horizon it forecasts (day of week, day and month of year, hour of day:
            by frequency, see :mod:`rnnkit.data.calendar_features`), known ahead from the
            dates alone. ``None`` (automatic) turns them on for one series with the direct
            strategy (where the forecasting suite measured them) and off otherwise; see
            :attr:`uses_calendar`. Direct strategy only.
        country: add a public-holiday flag for this country to the calendar features (an
            ISO code of the ``holidays`` package: ``US``, ``GB``, ``DE``...), for hourly,
            daily and weekly data.
        future_columns: columns of the data known ahead (a price, a promotion): the
            network reads them over its window and the horizon, so forecasting needs their
            values for the horizon (``predict(future=...)``, ``--future-data``). One
            series only, direct strategy (see :mod:`rnnkit.data.covariates`).
        past_columns: columns observed up to the forecast origin only (a temperature):
            the network reads them over its window.
        agg_columns: how each covariate column's rows combine per period
            (``{"price": "mean", "promo": "max"}``); ``mean`` for a column not named.
        static_columns: columns holding one value per series of a global model (its
            region, its category): categorical ones are embedded, numeric ones
            standardised, and the network reads them at every step of the window (see
            :mod:`rnnkit.data.static_covariates`). Needs ``id_column``, direct strategy.
    """

    time_column: str = "date"
    target_column: str = "value"
    freq: str = "D"
    agg: str = "sum"
    fill: str = "auto"
    lookback: int | None = None
    horizon: int = 30
    strategy: str = "direct"
    scaler: str = "auto"
    window_norm: str = "auto"
    test_size: int | None = None
    validation_size: int | None = None
    id_column: str | None = None
    base: str = "auto"
    ensemble_size: int = 5
    linear: bool = True
    combine_with: str = "auto"
    time_format: str | None = None
    allow_sparse: bool = False
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)
    calendar: bool | None = None
    country: str | None = None
    future_columns: tuple[str, ...] = ()
    past_columns: tuple[str, ...] = ()
    agg_columns: tuple[tuple[str, str], ...] = ()
    static_columns: tuple[str, ...] = ()
    model: ModelConfig = dataclasses.field(default_factory=_forecaster_model)
    training: TrainingConfig = dataclasses.field(default_factory=_forecaster_training)

    def __post_init__(self) -> None:
        # Only a lower-case freq is replaced: an upper-case one stays the very object
        # given, as scikit-learn's clone checks.
        if isinstance(self.freq, str) and self.freq != self.freq.upper():
            object.__setattr__(self, "freq", self.freq.upper())
        _check_choice("freq", self.freq, FREQS)
        if isinstance(self.quantiles, list):  # as JSON gives it; a tuple stays the same object
            object.__setattr__(self, "quantiles", tuple(self.quantiles))
        _check_quantiles("quantiles", self.quantiles)
        _check_choice("agg", self.agg, AGGS)
        _check_choice("fill", self.fill, FILLS)
        _check_choice("strategy", self.strategy, STRATEGIES)
        _check_choice("scaler", self.scaler, SCALERS)
        _check_choice("window_norm", self.window_norm, WINDOW_NORMS)
        if self.lookback is not None:
            _check_positive_int("lookback", self.lookback)
        _check_positive_int("horizon", self.horizon)
        _check_choice("base", self.base, BASES)
        _check_choice("combine_with", self.combine_with, COMBINE_WITH)
        _check_positive_int("ensemble_size", self.ensemble_size)
        for name in ("linear", "allow_sparse"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false, got {getattr(self, name)!r}.")
        if self.calendar is not None and not isinstance(self.calendar, bool):
            raise ConfigError(
                f"calendar must be true, false or null (automatic), got {self.calendar!r}."
            )
        if self.time_format is not None and (
            not isinstance(self.time_format, str) or "%" not in self.time_format
        ):
            raise ConfigError(
                f"time_format must be a strftime format such as '%d/%m/%Y' or "
                f"'%Y-%m-%d %H:%M', got {self.time_format!r}."
            )
        if self.test_size is not None:
            _check_positive_int("test_size", self.test_size)
            if self.test_size < self.horizon:
                raise ConfigError(
                    f"test_size ({self.test_size}) must be at least horizon ({self.horizon}): "
                    "the test forecasts whole horizons."
                )
        if self.validation_size is not None:
            _check_positive_int("validation_size", self.validation_size)
        if self.country is not None:
            if not isinstance(self.country, str) or not self.country:
                raise ConfigError(
                    f"country must be an ISO country code such as 'US', got {self.country!r}."
                )
            if not self.uses_calendar:
                raise ConfigError(
                    f"country={self.country!r} adds holidays to the calendar features, which "
                    "are off here: turn them on (calendar=True, --calendar; direct strategy)."
                )
        self._check_covariates()
        if self.calendar is True and self.strategy != "direct":
            raise ConfigError(
                f"calendar features need the direct strategy, not {self.strategy!r}: use "
                "strategy='direct' (the default) or turn calendar off."
            )
        for name in ("time_column", "target_column"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ConfigError(f"{name} must be a non-empty column name.")
        if self.id_column is not None:
            if not isinstance(self.id_column, str) or not self.id_column:
                raise ConfigError("id_column must be a non-empty column name or None.")
            if self.id_column in (self.time_column, self.target_column):
                raise ConfigError(
                    f"id_column {self.id_column!r} is also the time or target column; "
                    "the id must be a column of its own."
                )

    def _check_covariates(self) -> None:
        for name in ("future_columns", "past_columns"):
            value = getattr(self, name)
            if isinstance(value, list):  # as JSON gives it
                object.__setattr__(self, name, value := tuple(value))
            if not isinstance(value, tuple) or not all(isinstance(v, str) and v for v in value):
                raise ConfigError(f"{name} must be a list of column names, got {value!r}.")
        aggs = self.agg_columns
        if isinstance(aggs, dict):
            aggs = tuple(aggs.items())
        if isinstance(aggs, list):
            aggs = tuple(tuple(pair) for pair in aggs)
        if not isinstance(aggs, tuple) or not all(
            isinstance(p, tuple) and len(p) == 2 and all(isinstance(v, str) for v in p)
            for p in aggs
        ):
            raise ConfigError(
                f"agg_columns must map column names to aggregations, such as "
                f"{{'price': 'mean'}}, got {self.agg_columns!r}."
            )
        object.__setattr__(self, "agg_columns", aggs)
        columns = (*self.future_columns, *self.past_columns)
        repeated = sorted({c for c in columns if columns.count(c) > 1})
        if repeated:
            raise ConfigError(
                f"Column {repeated[0]!r} is named twice in future_columns and past_columns: "
                "a covariate is either known ahead (future) or not (past)."
            )
        for column in columns:
            if column in (self.time_column, self.target_column, self.id_column):
                raise ConfigError(
                    f"Covariate column {column!r} is also the time, target or id column: "
                    "name the columns that drive the target."
                )
        for column, agg in aggs:
            if column not in columns:
                raise ConfigError(
                    f"agg_columns names {column!r}, which is not a future or past column"
                    f"{did_you_mean(column, columns)}. Give it with --future-columns or "
                    "--past-columns."
                )
            _check_choice(f"agg_columns[{column!r}]", agg, AGGS)
        if columns and self.strategy != "direct":
            raise ConfigError(f"covariate columns need the direct strategy, not {self.strategy!r}.")
        self._check_static_columns(columns)

    def _check_static_columns(self, covariates: tuple[str, ...]) -> None:
        value = self.static_columns
        if isinstance(value, list):  # as JSON gives it
            object.__setattr__(self, "static_columns", value := tuple(value))
        if not isinstance(value, tuple) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"static_columns must be a list of column names, got {value!r}.")
        if not value:
            return
        repeated = sorted({c for c in value if value.count(c) > 1})
        if repeated:
            raise ConfigError(f"Column {repeated[0]!r} is named twice in static_columns.")
        for column in value:
            if column in (self.time_column, self.target_column, self.id_column, *covariates):
                raise ConfigError(
                    f"Static column {column!r} is also the time, target, id or a covariate "
                    "column: name the columns that describe each series."
                )
        if self.id_column is None:
            raise ConfigError(
                f"static_columns ({', '.join(value)}) describe the series of a global model: "
                "give id_column (--id-column) too."
            )
        if self.strategy != "direct":
            raise ConfigError(f"static_columns need the direct strategy, not {self.strategy!r}.")

    @property
    def combination_model(self) -> str:
        """The statistical model the network's forecast may be averaged with: ``auto`` is
        AutoARIMA for one series and AutoETS for a global model.

        Chosen on the forecasting suite's tuning half (``benchmarks/partner_choice.py``,
        geometric-mean MASE over 3 seeds): the network alone 0.769, averaged where the
        validation says so with AutoETS 0.769, AutoARIMA 0.741, whichever of the three
        averaged best on the validation origins 0.746. Confirmation half: 0.586, 0.586,
        0.534, 0.519. A panel keeps AutoETS: it was tuned on the Tourism panels, and
        AutoARIMA's fits (one per series at every forecast) are the slowest.

        Example:
            >>> ForecastConfig().combination_model, ForecastConfig(id_column="id").combination_model
            ('auto_arima', 'auto_ets')
        """
        if self.combine_with != "auto":
            return self.combine_with
        return "auto_arima" if self.id_column is None else "auto_ets"

    @property
    def uses_calendar(self) -> bool:
        """Whether the network reads calendar features: ``calendar``, or when it is
        ``None`` (automatic) for one series (no ``id_column``) with the direct strategy.
        Chosen on the forecasting suite's tuning half and confirmed on its other half;
        global models were not measured with them, so they read none unless asked."""
        if self.calendar is not None:
            return self.calendar
        return self.strategy == "direct" and self.id_column is None

    @property
    def covariate_aggs(self) -> dict[str, str]:
        """Every covariate column (future ones first) and how its rows combine."""
        chosen = dict(self.agg_columns)
        return {c: chosen.get(c, "mean") for c in (*self.future_columns, *self.past_columns)}

    def to_dict(self) -> dict[str, Any]:
        # As JSON gives it back (a list), so a saved config compares equal to a new one's
        # dict (resuming checks that).
        return {
            **super().to_dict(),
            "quantiles": list(self.quantiles),
            "future_columns": list(self.future_columns),
            "past_columns": list(self.past_columns),
            "agg_columns": dict(self.agg_columns),
            "static_columns": list(self.static_columns),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ForecastConfig:
        """Like :meth:`_Config.from_dict`; a partial ``model`` or ``training`` object is
        completed with the forecaster's defaults."""
        if isinstance(data, dict):
            data = dict(data)
            for name, default in (("model", _forecaster_model), ("training", _forecaster_training)):
                if isinstance(data.get(name), dict):
                    data[name] = {**default().to_dict(), **data[name]}
        return super().from_dict(data)

    @property
    def season(self) -> int:
        """The seasonal period of ``freq`` (7 for daily data, 12 monthly, ...)."""
        return SEASONAL_PERIODS[self.freq]

    @property
    def window(self) -> int:
        """The lookback actually used: ``lookback``, or when it is ``None`` (automatic)
        twice the horizon or three seasons, whichever is longer, and at least 8 periods
        (three seasons rather than two: chosen on the forecasting suite's tuning half and
        confirmed on its other half)."""
        if self.lookback is not None:
            return self.lookback
        return max(2 * self.horizon, 3 * self.season, 8)

    @property
    def scaler_method(self) -> str:
        """The scaler actually used: ``auto`` is ``minmax`` for one series and ``none``
        for a global model, whose windows are then divided by their own level in the
        data's units (see :attr:`window_norm_method`)."""
        if self.scaler != "auto":
            return self.scaler
        return "none" if self.id_column is not None else "minmax"

    @property
    def window_norm_method(self) -> str:
        """The window normalisation actually used: ``auto`` is ``standard`` (mean and
        spread, as RevIN) for one series and ``level`` for a global model.

        Chosen on the benchmarks (README, "Forecasting benchmark"): for a panel, windows
        divided by their level in the data's units (``scaler="none"``) put series of
        every size on one relative footing, so the loss weighs errors as percentages; on
        the Tourism panels this cut MAPE from 26.6 to 22.7 (yearly) and 16.3 to 15.6
        (quarterly), and on the confirmation panels from 23.1 to 22.5 (monthly; MASE 1.417
        to 1.425) and left the CFPB products level (MASE 0.466 both). On single
        series it lost to ``standard`` (geometric-mean MASE 0.753 against 0.669 on the
        forecasting suite): temperatures and CO2 vary little relative to their level."""
        if self.window_norm != "auto":
            return self.window_norm
        return "level" if self.id_column is not None else "standard"

    @property
    def fill_method(self) -> str:
        """The fill actually used: ``auto`` resolved from ``agg``."""
        if self.fill != "auto":
            return self.fill
        return "zero" if self.agg in ("sum", "count") else "interpolate"


# Field type names (as strings, under `from __future__ import annotations`) of nested configs.
_NESTED: dict[str, type[_Config]] = {"ModelConfig": ModelConfig, "TrainingConfig": TrainingConfig}

J = TypeVar("J", "ForecastConfig", "ClassifierConfig")


def with_params(config: J, estimator: str, **params: Any) -> J:
    """``config`` with flat keyword overrides, each put where its name is a field: the
    job's own configuration, its ``model`` (:class:`ModelConfig`) or its ``training``
    (:class:`TrainingConfig`). Both jobs' ``make_config`` are this.

    Args:
        config: the job's configuration to start from.
        estimator: what the keywords configure, as the error names it ("forecaster").
        **params: field names and values (``cell="gru", epochs=20``).

    Raises:
        ConfigError: a keyword names no field (with the closest name).

    Example:
        >>> with_params(ClassifierConfig(), "classifier", cell="lstm", epochs=5).model.cell
        'lstm'
    """
    own = [name for name in type(config).__dataclass_fields__ if name not in ("model", "training")]
    model_fields = list(ModelConfig.__dataclass_fields__)
    training_fields = list(TrainingConfig.__dataclass_fields__)
    top: dict[str, Any] = {}
    model: dict[str, Any] = {}
    training: dict[str, Any] = {}
    for key, value in params.items():
        if key in own:
            top[key] = value
        elif key in model_fields:
            model[key] = value
        elif key in training_fields:
            training[key] = value
        else:
            known = [*own, *model_fields, *training_fields]
            raise ConfigError(f"Unknown {estimator} parameter {key!r}.{did_you_mean(key, known)}")
    return config.replace(
        **top, model=config.model.replace(**model), training=config.training.replace(**training)
    )


# ----------------------------------------------------------------------- classification
PADDINGS = ("start", "end")
TRUNCATIONS = ("end", "start")
NGRAM_FEATURES = ("none", "word", "char", "word+char")
POOLINGS = ("max", "last")
CLASS_WEIGHTS = ("none", "balanced")


# Measured on CFPB narratives and BANKING77 (benchmarks/bench_classify.py): one
# bidirectional GRU layer with max pooling matched or beat a BiLSTM (BANKING77 0.890 vs
# 0.880 test accuracy) in less time; batch 64 at 3e-3 trained as well as 32 at 2e-3 in
# fewer, cheaper epochs; the validation loss bottoms out after 3 to 10 epochs.
def _classifier_model() -> ModelConfig:
    return ModelConfig(cell="gru", num_layers=1, units=64, bidirectional=True)


def _classifier_training() -> TrainingConfig:
    return TrainingConfig(epochs=20, batch_size=64, learning_rate=3e-3, patience=3)


@dataclasses.dataclass(frozen=True)
class ClassifierConfig(_Config):
    """Everything that defines a text classification run.

    Args:
        text_column: the column of texts.
        label_column: the column of labels (any values; read as text).
        remove_stopwords: drop English stop words (NLTK's list) when cleaning. Off by
            default: on short intents ("why was my card declined") they carry meaning
            (BANKING77: 0.859 accuracy with them removed, 0.880 kept).
        max_tokens: the largest vocabulary, the padding and unknown tokens included. The
            embedding is sized to the vocabulary actually found, which may be smaller.
        sequence_length: tokens per text; ``None`` chooses the 95th percentile of the
            training texts' lengths, capped at 128 (on CFPB narratives, 256 tokens took
            twice as long for no better accuracy).
        padding: where short texts are padded: ``"start"`` (the words end next to the
            final recurrent step) or ``"end"`` (the guide's).
        truncation: which end of a long text is cut: ``"end"`` keeps its beginning.
        embedding_dim: size of each word vector.
        spatial_dropout: drops whole embedding channels (SpatialDropout1D).
        pooling: ``"max"``: max over the outputs at every step; ``"last"``: the final
            state only, as the guide.
        ngram_features: the wide part of a wide-and-deep model: TF-IDF features of word
            n-grams (``"word"``), character n-grams (``"char"``), both (``"word+char"``),
            or ``"none"`` (the recurrent network alone). Their linear scores are added to
            the recurrent network's inside the one Keras model, and start as a linear SVM
            fit on the training part (see :mod:`rnnkit.data.ngrams`). A streamed file
            trains the recurrent network alone.
        class_weight: ``"balanced"`` weights each class by the inverse of its frequency
            in the training part; ``"none"`` weights every text alike.
        test_size: fraction of the rows held out for the test (stratified).
        validation_size: fraction of the remaining rows used for early stopping.
        refit: once early stopping on the validation part has chosen the epochs, train
            the model again from its seed on the train and validation parts together for
            that many epochs (its n-gram table's start refit on them too), so the final
            model learns from every labelled row, as a linear baseline does. Not for a
            streamed file or a distributed run. Measured in
            ``benchmarks/bench_text_suite.py``.
        ensemble_size: networks in the refit model, each drawn from the seed with its
            own initial weights and trained on its own loss in one compiled step; the
            model predicts the mean of their probabilities. Needs ``refit``.
        drop_rare_classes: leave out (and report) classes with too few rows to appear in
            every split, instead of stopping with an error.
        stream: read, clean and encode a file in chunks at every epoch instead of holding
            every text in memory (see :mod:`rnnkit.data.text_stream`): ``True``,
            ``False``, or ``"auto"``: for a file larger than 100 MB (a gzip or Parquet
            file larger than 20 MB). The split and the vocabulary are the same either way;
            the TF-IDF baseline is then fit on a sample of 200,000 texts at most.
        chunk_rows: rows read at a time when streaming. Memory grows with it; the
            results do not depend on it.
        model: the recurrent stack (one bidirectional GRU layer of 64 units by default).
        training: epochs, batch size, learning rate, patience, seed. Its ``loss`` field
            is the forecaster's; classification always uses sparse categorical
            cross-entropy on integer labels.

    Example:
        >>> config = ClassifierConfig(text_column="text", label_column="category")
        >>> ClassifierConfig.from_dict(config.to_dict()) == config
        True
    """

    text_column: str = "text"
    label_column: str = "label"
    remove_stopwords: bool = False
    max_tokens: int = 20000
    sequence_length: int | None = None
    padding: str = "start"
    truncation: str = "end"
    embedding_dim: int = 100
    spatial_dropout: float = 0.2
    pooling: str = "max"
    ngram_features: str = "word+char"
    class_weight: str = "none"
    test_size: float = 0.3
    validation_size: float = 0.1
    refit: bool = True
    ensemble_size: int = 1
    drop_rare_classes: bool = False
    stream: bool | str = "auto"
    chunk_rows: int = 50_000
    model: ModelConfig = dataclasses.field(default_factory=_classifier_model)
    training: TrainingConfig = dataclasses.field(default_factory=_classifier_training)

    def __post_init__(self) -> None:
        for name in ("text_column", "label_column"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ConfigError(f"{name} must be a non-empty column name.")
        if self.text_column == self.label_column:
            raise ConfigError(
                f"text_column and label_column are both {self.text_column!r}; give the "
                "column of texts and the column of labels."
            )
        for name in ("remove_stopwords", "drop_rare_classes", "refit"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false, got {getattr(self, name)!r}.")
        if not isinstance(self.stream, bool) and self.stream != "auto":
            raise ConfigError(f"stream must be true, false or 'auto', got {self.stream!r}.")
        _check_positive_int("chunk_rows", self.chunk_rows)
        _check_positive_int("ensemble_size", self.ensemble_size)
        if self.ensemble_size > 1 and not self.refit:
            raise ConfigError(
                f"ensemble_size {self.ensemble_size} needs refit: the members are trained "
                "in the refit on every labelled row. Turn refit on, or set ensemble_size 1."
            )
        # Two special tokens ([PAD], [UNK]) plus at least one word.
        _check_positive_int("max_tokens", self.max_tokens, minimum=3)
        if self.sequence_length is not None:
            _check_positive_int("sequence_length", self.sequence_length)
        _check_positive_int("embedding_dim", self.embedding_dim)
        _check_choice("padding", self.padding, PADDINGS)
        _check_choice("truncation", self.truncation, TRUNCATIONS)
        _check_choice("pooling", self.pooling, POOLINGS)
        _check_choice("ngram_features", self.ngram_features, NGRAM_FEATURES)
        _check_choice("class_weight", self.class_weight, CLASS_WEIGHTS)
        _check_fraction("spatial_dropout", self.spatial_dropout, 0.0, 1.0)
        for name in ("test_size", "validation_size"):
            _check_fraction(name, getattr(self, name), 0.0, 1.0)
            if getattr(self, name) == 0:
                raise ConfigError(f"{name} must be above 0, got 0.")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClassifierConfig:
        """Like :meth:`_Config.from_dict`; a partial ``model`` or ``training`` object is
        completed with the classifier's defaults (not the forecaster's)."""
        if isinstance(data, dict):
            data = dict(data)
            for name, default in (("model", _classifier_model), ("training", _classifier_training)):
                if isinstance(data.get(name), dict):
                    data[name] = {**default().to_dict(), **data[name]}
        return super().from_dict(data)
