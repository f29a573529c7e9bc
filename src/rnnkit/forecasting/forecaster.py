"""The first job: a multi-step forecaster trained from a CSV of events or values."""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.config import ForecastConfig, TrainingConfig, with_params
from rnnkit.core import models, persistence, recipe, run_files
from rnnkit.core import resume as resume_
from rnnkit.core.estimator import EstimatorParams
from rnnkit.core.range_test import RangeTestResult
from rnnkit.core.report import TrainingRecord, write_training_record
from rnnkit.data.calendar_features import Calendar, check_country
from rnnkit.data.covariates import (
    CovariateScaling,
    aggregate_columns,
    covariate_windows,
    future_values,
)
from rnnkit.data.reading import PARQUET_SUFFIXES, read_table, require_columns
from rnnkit.data.scaling import (
    BASE_CHOICES,
    DEFAULT_SMOOTHING,
    THETA_SMOOTHING,
    Scaler,
    base_forecast,
    window_statistics,
)
from rnnkit.data.streaming import aggregate_file
from rnnkit.data.timeseries import (
    PreparedSeries,
    aggregate,
    check_magnitudes,
    check_sparsity,
    future_index,
)
from rnnkit.data.windows import make_windows, window_starts
from rnnkit.errors import ConfigError, DataError, NotFittedError, TrainingError
from rnnkit.forecasting.intervals import Calibration, calibrate, quantile_name
from rnnkit.forecasting.report import write_forecast_report
from rnnkit.forecasting.scoring import score_series

# Window spreads are floored at this fraction of the training part's mean level, so that
# windows of near-zero values do not blow up into huge normalised targets.
LEVEL_FLOOR = 1e-3
# The training losses as the loss plot names them.
LOSS_NAMES = {"mae": "MAE", "mse": "MSE", "huber": "Huber"}
# The weights of the trained correction the validation windows choose from (1: the
# network as trained, 0: its base forecast alone).
CORRECTION_WEIGHTS = (1.0, 0.5, 0.0)
# The default test part of one series: this many forecast origins (whole horizons) at
# most, within this share of the series. Several origins, so that one unusual horizon does
# not decide the verdict; few, so that most of the history is still trained on.
TEST_ORIGINS = 3
TEST_SHARE = 0.2
RUN_FILES = ("model.keras", "config.json", "preprocessing.json", "metadata.json")

DataLike = pd.DataFrame | pd.Series | str | os.PathLike[str]


def make_config(config: ForecastConfig | None = None, **params: Any) -> ForecastConfig:
    """A ForecastConfig from a base config and flat keyword overrides.

    Keywords may name fields of ``ForecastConfig``, ``ModelConfig`` or ``TrainingConfig``
    (``Forecaster(lookback=60, cell="gru", epochs=20)``).
    """
    return with_params(config or ForecastConfig(), "forecaster", **params)


class Forecaster(EstimatorParams):
    """Forecasts the next ``horizon`` periods of a series with a stacked recurrent network.

    Rows of events or values are aggregated per period, gaps are filled, the series is
    split in time (train, validation, test), scaled with statistics of the training part
    only and cut into lookback windows. Each window is normalised by its own level so the
    network sees series that grow beyond their training range. The test is scored on the
    original scale against naive, seasonal-naive and ARIMA forecasts of the same periods.

    Args:
        config: a :class:`~rnnkit.config.ForecastConfig`; defaults otherwise.
        **params: overrides of any config field by name (``lookback=60, cell="gru"``).

    Example:
        >>> f = Forecaster(time_column="created_at", target_column="amount", horizon=30)
        >>> f.fit("loans.csv").evaluate()["model"]["mase"]  # doctest: +SKIP
        >>> f.predict()  # the 30 days after the data  # doctest: +SKIP
    """

    _make_config = staticmethod(make_config)

    def __init__(self, config: ForecastConfig | None = None, **params: Any) -> None:
        self.config = make_config(config, **params)
        self._configured()

    def _configured(self) -> None:
        if self.config.id_column is not None and type(self) is Forecaster:
            raise ConfigError(
                f"id_column={self.config.id_column!r} asks for one model across many series: "
                "use rnnkit.GlobalForecaster (or leave id_column out for one series)."
            )

    # ----------------------------------------------------------------- data
    def prepare(self, data: DataLike) -> PreparedSeries:
        """Reads (if a path), aggregates and gap-fills ``data`` as this config says.

        Raises:
            DataError: unreadable data, or a series most of whose periods had no rows
                (unless ``allow_sparse``; see :func:`~rnnkit.data.timeseries.check_sparsity`).
        """
        prepared = self._aggregate(data)
        length = len(prepared.values)
        if length >= self.periods_needed(length):  # else "too short" is the true reason
            check_sparsity(prepared, self.config.freq, self.config.allow_sparse)
        return prepared

    def _aggregate(self, data: DataLike) -> PreparedSeries:
        c = self.config
        check_data_type(data, c, (pd.DataFrame, pd.Series))
        if c.covariate_aggs:
            return self._aggregate_with_covariates(data)
        if isinstance(data, pd.Series):
            # Already one value per period (as made by `aggregate`): used as it is.
            if not isinstance(data.index, pd.DatetimeIndex) or data.isna().any():
                raise DataError("A Series must have a DatetimeIndex and no missing values.")
            check_magnitudes(data.astype("float64"), str(data.name or c.target_column))
            return PreparedSeries(data.astype("float64"), len(data), 0, 0)
        if isinstance(data, pd.DataFrame):
            frame = time_index_as_column(data, c.time_column)
            require_columns(frame, [c.time_column, c.target_column])
            frame = frame[[c.time_column, c.target_column]]
            if len(frame) == 0:
                raise DataError("The DataFrame has no rows.")
        elif Path(data).suffix.lower() not in PARQUET_SUFFIXES:
            # A CSV is aggregated chunk by chunk, so a file bigger than memory still fits.
            return aggregate_file(
                data,
                c.time_column,
                c.target_column,
                c.freq,
                c.agg,
                c.fill_method,
                time_format=c.time_format,
            )
        else:
            frame = read_table(data, columns=[c.time_column, c.target_column])
        columns = (c.time_column, c.target_column, c.freq, c.agg, c.fill_method)
        return aggregate(frame, *columns, time_format=c.time_format)

    def _aggregate_with_covariates(self, data: DataLike) -> PreparedSeries:
        """The target and every covariate column, aggregated on one period grid."""
        c = self.config
        aggs = c.covariate_aggs
        if isinstance(data, pd.Series):
            raise DataError(
                f"A Series holds no covariate columns ({', '.join(aggs)}): give a DataFrame "
                "with those columns beside the target."
            )
        columns = [c.time_column, c.target_column, *aggs]
        if isinstance(data, pd.DataFrame):
            frame = time_index_as_column(data, c.time_column)
            require_columns(frame, columns)
            frame = frame[columns]
            if len(frame) == 0:
                raise DataError("The DataFrame has no rows.")
        else:
            frame = read_table(data, columns=columns)
        settings = (c.time_column, c.target_column, c.freq, c.agg, c.fill_method)
        prepared = aggregate(frame, *settings, time_format=c.time_format)
        covariates = aggregate_columns(
            frame, c.time_column, aggs, c.freq, prepared.values.index, c.time_format
        )
        return dataclasses.replace(prepared, covariates=covariates)

    def periods_needed(self, length: int) -> int:
        """Periods a series of ``length`` needs for one training window, the validation
        and the test."""
        return self._periods_needed(length, self.test_periods(length))

    def _periods_needed(self, length: int, test: int) -> int:
        c = self.config
        validation = c.validation_size or max(c.horizon, round(0.15 * length))
        return c.window + self._output_steps() + validation + test

    def test_periods(self, length: int) -> int:
        """Periods in the test part of a series of ``length``: ``test_size`` when given,
        else whole horizons, one forecast origin each: up to ``TEST_ORIGINS`` while the
        test stays within ``TEST_SHARE`` of the series and the rest still holds one
        training window and the validation, and at least one.

        Example:
            >>> Forecaster(horizon=7).test_periods(365), Forecaster(horizon=7).test_periods(60)
            (21, 7)
        """
        c = self.config
        if c.test_size is not None:
            return c.test_size
        origins = min(TEST_ORIGINS, int(TEST_SHARE * length) // c.horizon)
        while origins > 1 and length < self._periods_needed(length, origins * c.horizon):
            origins -= 1
        return max(origins, 1) * c.horizon

    def split_sizes(self, length: int) -> dict[str, int]:
        """Periods in the train, validation and test parts of a series of ``length``."""
        c = self.config
        test = self.test_periods(length)
        validation = c.validation_size or max(c.horizon, round(0.15 * length))
        needed_train = c.window + self._output_steps()
        needed = needed_train + validation + test
        if length < needed:
            raise DataError(
                f"The series has {length} periods (freq {c.freq}) but needs at least "
                f"{needed}: lookback {c.window} + {needed_train - c.window} for one "
                f"training window, validation {validation}, test {test}. Lower --lookback "
                "or --horizon, choose a shorter --freq, or give more data."
            )
        return {"train": length - validation - test, "validation": validation, "test": test}

    # ----------------------------------------------------------------- training
    def fit(
        self,
        data: DataLike,
        *,
        checkpoint_path: str | os.PathLike[str] | None = None,
        callbacks: tuple = (),
        verbose: int | None = None,
        state_path: str | os.PathLike[str] | None = None,
        resume: bool = False,
    ) -> Forecaster:
        """Trains on ``data`` (a path or a DataFrame of rows) and scores the test part.

        Args:
            data: rows of events or values (a path or a DataFrame).
            checkpoint_path: where the best model so far is written during training.
            callbacks: extra Keras callbacks.
            verbose: Keras verbosity (default: a progress bar on a terminal).
            state_path: save the training state here at every epoch end (see
                :mod:`rnnkit.core.resume`), so that an interrupted fit can be resumed.
            resume: continue from the state in ``state_path`` if there is one; a state
                saved with another configuration or other data is refused.

        Returns:
            self, with ``model_``, ``scaler_``, ``series_``, ``history_`` and
            ``metrics_`` set.
        """
        c = self.config
        data_ = self._training_data(data)
        self.time_indexed_ = indexed_by_time(data, c.time_column)
        x_train, y_train = data_["train"]
        loss = self._loss()
        arrays = [*data_["train"], *data_["validation"]]
        run = recipe.train(
            self._build_model,
            data_["train"],
            data_["validation"],
            c.training,
            loss=loss,
            sample=(x_train, y_train),
            default_learning_rate=float(TrainingConfig().learning_rate),
            fingerprint=lambda rate: resume_.fingerprint("forecast", c.to_dict(), rate, arrays),
            checkpoint_path=checkpoint_path,
            callbacks=callbacks,
            verbose=verbose,
            state_path=state_path,
            resume=resume,
        )
        self.learning_rate_range_test_ = run.range_test
        self.learning_rate_ = run.learning_rate
        self.model_, self.history_ = run.model, run.history
        self.training_seconds_ = run.seconds
        self.stopped_on_nan_ = run.stopped_on_nan
        self.gradient_health_ = run.gradient_health
        self.correction_weight_ = self._weigh_correction(*data_["validation"], loss)
        self.kept_base_ = self.correction_weight_ == 0.0
        self.calibration_ = self._calibrate(*data_["calibration"])
        self._set_fitted_data(data_)
        self.metrics_ = self.evaluation_["metrics"]
        check_model_metrics(self.metrics_)
        return self

    def _weigh_correction(self, x_val: np.ndarray, y_val: np.ndarray, loss: str) -> float:
        """Scales the trained correction by whichever of CORRECTION_WEIGHTS gives the
        lowest validation loss: 1 keeps the network as trained, 0 the base forecast alone
        (so the model is never worse than its base on the held-out windows), 0.5 the
        average of the two (a combination, more robust than either when they are close).
        The correction is linear in the output layers' weights, so scaling them scales it
        exactly. Returns the weight."""
        if getattr(self, "base_", "none") == "none" or len(y_val) == 0:
            return 1.0
        import keras

        loss_function = keras.losses.get(loss)
        trained = self.model_.predict_on_batch(x_val)
        losses = {w: float(np.mean(loss_function(y_val, w * trained))) for w in CORRECTION_WEIGHTS}
        weight = min(losses, key=losses.get)
        if weight != 1.0:
            for layer in self.model_.layers:
                if layer.name.endswith(("_out", "_linear")):
                    layer.set_weights([weight * w for w in layer.get_weights()])
        return weight

    def _calibrate(
        self,
        inputs: np.ndarray,
        targets: np.ndarray,
        epsilon: float | np.ndarray,
        features: np.ndarray | None = None,
        static: np.ndarray | None = None,
    ) -> Calibration | None:
        """The prediction intervals' offsets, from the trained model's errors on the
        validation windows (scaled inputs ``(n, lookback)``, targets ``(n, horizon)``,
        and their features: see :meth:`window_features`); ``None``, with a warning, when
        there is nothing to calibrate on."""
        quantiles = self.config.quantiles
        if not quantiles:
            return None
        calibration = None
        if len(inputs):
            forecast = self._forecast_scaled(inputs, epsilon, features, static)
            spread = window_statistics(inputs, self.config.window_norm_method, epsilon)[1]
            calibration = calibrate((targets - forecast) / spread, quantiles)
        if calibration is None:
            warnings.warn(
                f"No prediction intervals: the validation part has {len(inputs)} whole "
                "windows with finite errors to calibrate them on. Give more data or a "
                "larger --validation-size.",
                stacklevel=3,
            )
        return calibration

    def _set_fitted_data(self, data_: dict[str, Any]) -> None:
        """Keeps the trained series and its split, and scores the test part."""
        series, split = data_["series"], data_["split"]
        self.series_ = series
        self.preparation_ = data_["prepared"].summary()
        self.split_ = split
        self.covariates_ = data_["prepared"].covariates
        self.evaluation_ = self._score(
            series.to_numpy(), split["test"], series.index, self.covariates_
        )
        self.evaluation_["details"]["network"] = self._network_choice()

    def _network_choice(self) -> dict[str, Any]:
        """What the validation windows chose: the base forecast the network corrects and
        how much of its trained correction is kept (1 all, 0.5 half, 0 none)."""
        return {
            "base": getattr(self, "base_", "none"),
            "correction_weight": getattr(self, "correction_weight_", 1.0),
        }

    def _loss(self) -> str:
        """The training loss. ``auto`` is MAE (what MASE measures) when the network
        corrects a base forecast; without one, MSE for one series and Huber for many."""
        loss = self.config.training.loss
        if loss != "auto":
            return loss
        if self.config.base != "none" and self.config.strategy == "direct":
            return "mae"
        return "huber" if self.config.id_column is not None else "mse"

    def _output_steps(self) -> int:
        return 1 if self.config.strategy == "recursive" else self.config.horizon

    def _build_model(self):
        c = self.config
        if c.strategy == "seq2seq":
            return models.build_many_to_many(c.window, c.horizon, c.model)
        if self._ensemble_output():
            features = self.feature_names_
            static = getattr(self, "static_encoding_", None)
            return models.build_ensemble_forecaster(
                c.window,
                c.horizon,
                c.model,
                c.ensemble_size,
                c.linear,
                c.base != "none",
                channels=(2 + len(features) if features else 1)
                + (0 if static is None else static.width),
                future_steps=c.horizon if features else 0,
                static_vocabularies=() if static is None else static.vocabulary_sizes,
            )
        return models.build_forecaster(c.window, self._output_steps(), c.model)

    def _training_data(self, data: DataLike) -> dict[str, Any]:
        """Aggregates, splits, fits the scaler (training part only) and cuts windows."""
        c = self.config
        if c.country is not None:
            check_country(c.country)
        prepared = self.prepare(data)
        series = prepared.values
        split = self.split_sizes(len(series))
        n_train, n_val = split["train"], split["validation"]
        values = series.to_numpy()
        self.scaler_ = Scaler.fit(values[:n_train], c.scaler_method)
        self.floor_ = nonnegative_floor(values[:n_train])
        scaled = self.scaler_.transform(values)
        covariates = None
        if prepared.covariates is not None:
            covariates = prepared.covariates.to_numpy()
            self.covariate_scaling_ = CovariateScaling.fit(covariates[:n_train])
        self.epsilon_ = float(LEVEL_FLOOR * np.mean(np.abs(scaled[:n_train])) + 1e-8)
        steps = self._output_steps()
        train = make_windows(scaled, c.window, steps, 0, n_train)
        validation = make_windows(scaled, c.window, steps, n_train, n_train + n_val)
        self.base_, self.base_smoothing_ = self._choose_base(
            *(validation if len(validation[0]) else train)
        )
        x_train, y_train = self._normalised(*train)
        x_val, y_val = self._normalised(*validation)
        # Whole horizons (the recursive strategy trains on one step) for the intervals.
        held_out = make_windows(scaled, c.window, c.horizon, n_train, n_train + n_val)

        def features(steps: int, start: int, end: int) -> np.ndarray | None:
            positions = window_starts(c.window, steps, start, end)
            return self._features(series.index, positions, covariates)

        return {
            "prepared": prepared,
            "series": series,
            "split": split,
            "train": (
                self._model_inputs(x_train, features(steps, 0, n_train)),
                self._targets(y_train),
            ),
            "validation": (
                self._model_inputs(x_val, features(steps, n_train, n_train + n_val)),
                self._targets(y_val),
            ),
            "calibration": (
                *held_out,
                self.epsilon_,
                features(c.horizon, n_train, n_train + n_val),
            ),
        }

    @property
    def calendar_(self) -> Calendar | None:
        """The calendar features the network reads (see ``calendar``), or ``None``: off,
        or none for this frequency (yearly data without holidays)."""
        c = self.config
        calendar = Calendar(c.freq, c.country) if c.uses_calendar else None
        return calendar if calendar is not None and len(calendar) else None

    @property
    def feature_names_(self) -> tuple[str, ...]:
        """What each period of the network's input holds beside its value: the calendar
        features, then the future and the past covariate columns; ``()`` for none."""
        c = self.config
        calendar = () if self.calendar_ is None else self.calendar_.names
        return (*calendar, *c.future_columns, *c.past_columns)

    def _features(
        self, index: pd.DatetimeIndex, positions: np.ndarray, covariates: np.ndarray | None
    ) -> np.ndarray | None:
        """The features of the windows whose first forecast periods are at ``positions``
        of ``index``, with the covariate columns ``covariates`` ``(len(index), k)``."""
        if not self.feature_names_:
            return None
        positions = np.asarray(positions, dtype="int64")
        windows = None
        if covariates is not None:
            c = self.config
            windows = covariate_windows(
                covariates, positions, c.window, c.horizon, len(c.past_columns)
            )
        return self.window_features(index[positions], windows)

    def window_features(
        self, starts: pd.DatetimeIndex | list | None, covariates: np.ndarray | None = None
    ) -> np.ndarray | None:
        """The features ``(n, lookback + horizon, k)`` the network reads beside the values
        of windows whose first forecast periods are ``starts``; ``None`` when it reads
        none.

        Args:
            starts: the date of each window's first forecast period (for the calendar).
            covariates: the covariate columns over each window and its horizon, ``(n,
                lookback + horizon, len(future_columns) + len(past_columns))``, in the
                data's units (past columns are not read over the horizon).

        Raises:
            ConfigError: the network reads calendar features or covariates and they are
                not given.
        """
        c = self.config
        parts = []
        calendar = self.calendar_
        if calendar is not None:
            if starts is None:
                raise ConfigError(
                    "This model reads calendar features: give the date of each window's "
                    "first forecast period (starts=...)."
                )
            parts.append(calendar.window_features(starts, c.window, c.horizon))
        if c.covariate_aggs:
            if covariates is None:
                raise ConfigError(
                    f"This model reads the covariate columns {', '.join(c.covariate_aggs)}: "
                    "give their values over each window and its horizon (covariates=...)."
                )
            scaled = self.covariate_scaling_.transform(covariates)
            if c.past_columns:
                scaled[:, c.window :, -len(c.past_columns) :] = 0.0
            parts.append(scaled)
        return np.concatenate(parts, axis=2) if parts else None

    def _model_inputs(
        self,
        normalised: np.ndarray,
        features: np.ndarray | None,
        static: np.ndarray | None = None,
    ) -> np.ndarray:
        """The network's input ``(n, steps, channels)`` from normalised windows ``(n,
        lookback)``: the values alone, or with calendar ``features`` ``(n, lookback +
        horizon, k)``: then each step holds its value (zero for the periods forecast), a
        flag that is 1 for the periods forecast, and its features. A global model's
        ``static`` inputs (``(width,)`` or ``(n, width)``: see
        :class:`~rnnkit.data.static_covariates.StaticEncoding`) follow at every step."""
        values = np.asarray(normalised, dtype="float32")[..., None]
        n, lookback = normalised.shape
        if features is not None:
            future = features.shape[1] - lookback
            values = np.concatenate([values, np.zeros((n, future, 1), "float32")], axis=1)
            flag = np.zeros((n, lookback + future, 1), "float32")
            flag[:, lookback:] = 1.0
            values = np.concatenate([values, flag, features.astype("float32")], axis=2)
        if static is None:
            return values
        static = np.broadcast_to(np.asarray(static, dtype="float32"), (n, np.shape(static)[-1]))
        repeated = np.broadcast_to(static[:, None, :], (n, values.shape[1], static.shape[1]))
        return np.concatenate([values, repeated], axis=2)

    def _choose_base(self, inputs: np.ndarray, targets: np.ndarray) -> tuple[str, float]:
        """The base forecast the network corrects and its smoothing weight (``theta``):
        the configured one, or for ``auto`` whichever simple forecast has the lowest
        error on the given windows (the validation windows, the most recent before the
        test; direct strategy only: the other strategies forecast values). ``theta``'s
        weight is chosen the same way from THETA_SMOOTHING."""
        c = self.config
        if c.strategy != "direct" or c.base == "none":
            return "none", DEFAULT_SMOOTHING
        kinds = BASE_CHOICES if c.base == "auto" else (c.base,)
        candidates = [
            (kind, alpha)
            for kind in kinds
            for alpha in (THETA_SMOOTHING if kind == "theta" else (DEFAULT_SMOOTHING,))
        ]
        if len(candidates) == 1:
            return candidates[0]
        errors = [
            float(np.mean(np.abs(targets - base_forecast(inputs, k, c.season, c.horizon, a))))
            for k, a in candidates
        ]
        return candidates[int(np.argmin(errors))]

    def _targets(self, targets: np.ndarray) -> np.ndarray:
        """Targets shaped like the model's output: ``(n, 1, horizon)`` for an ensemble,
        whose ``(n, members, horizon)`` output the loss broadcasts them over."""
        return targets[:, None, :] if self._ensemble_output() else targets

    def _ensemble_output(self) -> bool:
        c = self.config
        return c.strategy == "direct" and (
            c.ensemble_size > 1
            or c.linear
            or c.base != "none"
            or bool(self.feature_names_)
            or bool(c.static_columns)
        )

    def find_learning_rate(self, data: DataLike) -> RangeTestResult:
        """Runs the learning-rate range test on this configuration's model and data.

        Example:
            >>> f = Forecaster(time_column="t", target_column="v")
            >>> f.find_learning_rate("x.csv").suggestion  # doctest: +SKIP
        """
        data_ = self._training_data(data)
        return recipe.run_range_test(
            self._build_model, data_["train"], self._loss(), self.config.training
        )

    def _normalised(
        self, inputs: np.ndarray, targets: np.ndarray, epsilon: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        epsilon = self.epsilon_ if epsilon is None else epsilon
        center, spread = window_statistics(inputs, self.config.window_norm_method, epsilon)
        base = self._base(inputs, center)
        return (inputs - center) / spread, (targets - base) / spread

    def _base(self, inputs: np.ndarray, center: np.ndarray) -> np.ndarray:
        """What the network's (normalised) output is added to: the base forecast, or
        the window's center when there is none."""
        kind = getattr(self, "base_", "none")
        if kind == "none":
            return center
        smoothing = getattr(self, "base_smoothing_", DEFAULT_SMOOTHING)
        return base_forecast(inputs, kind, self.config.season, self.config.horizon, smoothing)

    # ----------------------------------------------------------------- forecasting
    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            name = type(self).__name__
            raise NotFittedError(
                f"This {name} is not trained yet: call fit(data) or {name}.load(run_dir) first."
            )

    def forecast_windows(
        self,
        windows: np.ndarray,
        starts: pd.DatetimeIndex | list | None = None,
        covariates: np.ndarray | None = None,
    ) -> np.ndarray:
        """Forecasts ``horizon`` steps (original scale) from raw windows ``(n, lookback)``.

        The step :meth:`predict` takes once it has the series' last ``lookback`` values,
        without its DataFrames (a server calls it once per request). ``starts`` and
        ``covariates`` are needed by a model with calendar features or covariate columns
        (see :meth:`window_features`) and ignored otherwise.
        """
        self._check_fitted()
        features = self.window_features(starts, covariates)
        scaled = self._forecast_scaled(self.scaler_.transform(windows), self.epsilon_, features)
        return self._floored(self.scaler_.inverse_transform(scaled))

    def _floored(self, values: np.ndarray) -> np.ndarray:
        """``values`` raised to the series' floor (zero when its training part has no
        negative value: counts, amounts), as forecasts and interval bounds are."""
        floor = getattr(self, "floor_", None)
        return values if floor is None else np.maximum(values, floor)

    @property
    def quantiles_(self) -> tuple[float, ...]:
        """The levels of the prediction intervals: ``()`` when they were turned off or
        could not be calibrated."""
        calibration = getattr(self, "calibration_", None)
        return () if calibration is None else calibration.quantiles

    def forecast_quantiles(self, windows: np.ndarray, forecast: np.ndarray) -> np.ndarray:
        """The quantile forecasts ``(n, len(quantiles_), horizon)``, original scale, of
        raw windows ``(n, lookback)`` whose point forecasts are ``forecast`` (from
        :meth:`forecast_windows`); ``(n, 0, horizon)`` without intervals."""
        self._check_fitted()
        spread = self._spread(self.scaler_.transform(windows), self.epsilon_)
        return self._bands(forecast, spread * self.scaler_.scale)

    def _spread(self, scaled: np.ndarray, epsilon: float | np.ndarray) -> np.ndarray:
        return window_statistics(scaled, self.config.window_norm_method, epsilon)[1]

    def _bands(self, forecast: np.ndarray, spread: np.ndarray) -> np.ndarray:
        calibration = getattr(self, "calibration_", None)
        if calibration is None:
            return np.empty((len(forecast), 0, forecast.shape[1]))
        return self._floored(calibration.apply(forecast, spread))

    def _forecast_scaled(
        self,
        current: np.ndarray,
        epsilon: float | np.ndarray,
        features: np.ndarray | None = None,
        static: np.ndarray | None = None,
    ) -> np.ndarray:
        """Forecasts ``horizon`` steps of scaled windows ``(n, lookback)``, on that scale.

        ``epsilon`` is the level floor: one number, or one per window ``(n, 1)``;
        ``features`` the windows' calendar features (see :meth:`window_features`);
        ``static`` a global model's static inputs, one row per window (direct strategy).
        """
        c = self.config
        if c.strategy != "recursive":  # direct and seq2seq forecast the horizon at once
            center, spread = window_statistics(current, c.window_norm_method, epsilon)
            base = self._base(current, center)
            inputs = self._model_inputs((current - center) / spread, features, static)
            return self._predict_batch(inputs) * spread + base
        steps = []
        for _ in range(c.horizon):
            center, spread = window_statistics(current, c.window_norm_method, epsilon)
            inputs = self._model_inputs((current - center) / spread, None)
            step = self._predict_batch(inputs) * spread + center
            steps.append(step[:, 0])
            current = np.concatenate([current[:, 1:], step[:, :1]], axis=1)
        return np.stack(steps, axis=1)

    def _predict_batch(self, inputs: np.ndarray) -> np.ndarray:
        # predict_on_batch runs one compiled (jitted) function: no per-call dataset overhead.
        batch = np.asarray(inputs, dtype="float32")
        output = np.asarray(self.model_.predict_on_batch(batch), dtype="float64")
        # An ensemble gives one row per member: the forecast is their median.
        return np.median(output, axis=1) if output.ndim == 3 else output

    def predict(
        self,
        data: DataLike | None = None,
        horizon: int | None = None,
        future: pd.DataFrame | str | os.PathLike[str] | None = None,
    ) -> pd.DataFrame:
        """Forecasts the ``horizon`` periods after the end of the data.

        Args:
            data: newer rows (path or DataFrame) to forecast from; by default the data the
                model was trained on (or its saved tail, after ``load``).
            horizon: the first ``horizon`` periods only, up to the trained horizon; by
                default all of them.
            future: with ``future_columns``, their values for the periods forecast: rows
                (a DataFrame or a path) with the time column and each future column,
                aggregated per period as in training; every period needs a value.

        Returns:
            A DataFrame with the period start (named after ``time_column``),
            ``forecast`` and a column per quantile of the prediction interval
            (``q0.1``, ``q0.5``, ``q0.9``: see ``quantiles``). When ``data`` (or, without
            it, the data ``fit`` was given) is a DataFrame indexed by time, the period
            starts are the index instead of a column.
        """
        self._check_fitted()
        c = self.config
        steps = self._steps(horizon)
        if data is not None:
            prepared = self.prepare(data)
            series, history = prepared.values, prepared.covariates
        else:
            series, history = self.series_, getattr(self, "covariates_", None)
        if len(series) < c.window:
            raise DataError(
                f"Forecasting needs the last {c.window} periods (lookback) but the data has "
                f"{len(series)}. Give a longer history."
            )
        window = series.to_numpy()[-c.window :][None, :]
        dates = future_index(series.index[-1], c.freq, c.horizon)
        covariates = self.forecast_covariates(history, dates, future)
        forecast = self.forecast_windows(window, dates[:1], covariates)
        bands = self.forecast_quantiles(window, forecast)[0]
        frame = pd.DataFrame(
            {
                c.time_column: dates,
                "forecast": forecast[0],
                **{quantile_name(q): band for q, band in zip(self.quantiles_, bands)},
            }
        )
        return self._as_given(frame.iloc[:steps], data)

    def _as_given(self, forecasts: pd.DataFrame, data: object) -> pd.DataFrame:
        """``forecasts`` indexed by their periods when ``data`` (or, when it is ``None``,
        the data ``fit`` was given) was a DataFrame indexed by time, as it came."""
        time_column = self.config.time_column
        given = getattr(self, "time_indexed_", False) if data is None else None
        if given or (given is None and indexed_by_time(data, time_column)):
            return forecasts.set_index(time_column)
        return forecasts

    def _time_as_column(self, forecasts: pd.DataFrame) -> pd.DataFrame:
        """``forecasts`` as :meth:`predict` gives them for a time column (undoes
        :meth:`_as_given`)."""
        time_column = self.config.time_column
        if time_column in forecasts.columns:
            return forecasts
        frame = forecasts.reset_index()
        first = [name for name in (self.config.id_column, time_column) if name is not None]
        return frame[[*first, *(name for name in frame.columns if name not in first)]]

    def forecast_covariates(
        self,
        history: pd.DataFrame | None,
        dates: pd.DatetimeIndex,
        future: pd.DataFrame | str | os.PathLike[str] | None,
    ) -> np.ndarray | None:
        """The covariates over the last window and the periods forecast ``dates``, ``(1,
        lookback + horizon, k)``: the history's, then ``future``'s future columns (past
        columns are not read over the horizon); ``None`` without covariate columns."""
        c = self.config
        if not c.covariate_aggs:
            return None
        past = np.zeros((len(dates), len(c.past_columns)))
        ahead = np.empty((len(dates), 0))
        if c.future_columns:
            if future is None:
                raise DataError(
                    f"This model reads the future columns {', '.join(c.future_columns)}: give "
                    f"their values for the {len(dates)} periods from {dates[0]} to "
                    f"{dates[-1]} (predict(future=...), --future-data FILE)."
                )
            aggs = {column: c.covariate_aggs[column] for column in c.future_columns}
            if isinstance(future, pd.DataFrame):
                frame = time_index_as_column(future, c.time_column)
            else:
                frame = read_table(future, columns=[c.time_column, *aggs])
            require_columns(frame, [c.time_column, *aggs])
            ahead = future_values(frame, c.time_column, aggs, c.freq, dates, c.time_format)
            ahead = ahead.to_numpy()
        rows = history.to_numpy()[-c.window :]
        return np.concatenate([rows, np.concatenate([ahead, past], axis=1)])[None]

    def _steps(self, horizon: int | None) -> int:
        """The periods ``predict`` returns: ``horizon``, checked against the trained one."""
        trained = self.config.horizon
        if horizon is None:
            return trained
        if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)):
            raise ConfigError(f"horizon must be a whole number of periods, got {horizon!r}.")
        if not 1 <= horizon <= trained:
            raise ConfigError(
                f"horizon={horizon} is outside 1..{trained}: the model was trained to "
                f"forecast {trained} periods. Ask for at most {trained}, or train again with "
                f"--horizon {horizon}."
            )
        return int(horizon)

    # ----------------------------------------------------------------- evaluation
    def evaluate(self, data: DataLike | None = None) -> dict[str, dict[str, float]]:
        """Metrics of the model and the baselines on the last test periods of ``data``.

        Args:
            data: rows to score on (path or DataFrame); by default the training data, whose
                test part the model never saw.

        Returns:
            ``{"model": {...}, "naive": {...}, "seasonal_naive": {...}, "arima": {...}}``,
            each with ``mae``, ``rmse``, ``mape``, ``smape`` and ``mase``.
        """
        self._check_fitted()
        if data is None:
            if not hasattr(self, "evaluation_"):
                raise NotFittedError("No training data kept after load: pass data to evaluate.")
            return self.evaluation_["metrics"]
        prepared = self.prepare(data)
        series = prepared.values
        test = self.test_periods(len(series))
        needed = self.config.window + test
        if len(series) < needed:
            raise DataError(
                f"Evaluation needs at least {needed} periods (lookback {self.config.window} + "
                f"test {test}); the data has {len(series)}."
            )
        self.last_evaluation_ = self._score(
            series.to_numpy(), test, series.index, prepared.covariates
        )
        return self.last_evaluation_["metrics"]

    def _score(
        self,
        values: np.ndarray,
        test_size: int,
        index: pd.DatetimeIndex,
        covariates: pd.DataFrame | None = None,
    ) -> dict:
        c = self.config

        def forecast(windows: np.ndarray, starts: pd.DatetimeIndex) -> np.ndarray:
            # Each test window's covariates come from the series itself.
            if covariates is None:
                return self.forecast_windows(windows, starts)
            columns = covariate_windows(
                covariates.to_numpy(),
                index.get_indexer(starts),
                c.window,
                c.horizon,
                len(c.past_columns),
            )
            return self.forecast_windows(windows, starts, columns)

        return score_series(
            forecast,
            values,
            test_size,
            index,
            self.config,
            forecast_quantiles=self.forecast_quantiles if self.quantiles_ else None,
        )

    # ----------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
        """Writes the run directory (complete or not at all) and returns its path."""
        self._check_fitted()
        with persistence.staged_directory(path, overwrite) as staging:
            self.write_run(staging)
        return Path(path)

    def write_run(self, directory: Path) -> None:
        """Writes every run file into an existing (staging) directory."""
        c = self.config
        self.model_.save(directory / "model.keras")
        persistence.write_json(directory / "config.json", c.to_dict())
        persistence.write_json(
            directory / "preprocessing.json",
            {
                **self._scaling_state(keep=max(c.window, c.season)),
                "window_norm": c.window_norm_method,
                "base": getattr(self, "base_", "none"),
                "base_smoothing": getattr(self, "base_smoothing_", DEFAULT_SMOOTHING),
                "freq": c.freq,
                "agg": c.agg,
                "fill": c.fill_method,
                "series": getattr(self, "preparation_", None),
                "split": getattr(self, "split_", None),
                "intervals": None if self.calibration_ is None else self.calibration_.to_dict(),
                "calendar": None if self.calendar_ is None else list(self.calendar_.names),
                "floor": getattr(self, "floor_", None),
                "covariates": self._covariate_state(keep=max(c.window, c.season)),
            },
        )
        persistence.write_json(directory / "metadata.json", persistence.metadata("forecast"))
        if hasattr(self, "evaluation_"):
            persistence.write_json(directory / "metrics.json", self.evaluation_["metrics"])
            persistence.write_json(directory / "evaluation.json", self.evaluation_["details"])
            self.evaluation_["predictions"].to_csv(directory / "test_predictions.csv", index=False)
        write_training_record(directory, self._training_record())
        if c.future_columns:
            # The periods after the data need the future columns' values, which the
            # training data does not hold: `rnnkit forecast predict --future-data` makes
            # the forecast.
            names = ["forecast", *(quantile_name(q) for q in self.quantiles_)]
            future = pd.DataFrame(
                {c.time_column: pd.DatetimeIndex([]), **{n: np.empty(0) for n in names}}
            )
        else:
            # forecast.csv keeps the period as a column, however fit's data was indexed.
            future = self._time_as_column(self.predict())
            future.to_csv(directory / "forecast.csv", index=False)
        if hasattr(self, "evaluation_"):
            self._write_report(directory, future)

    def _training_record(self) -> TrainingRecord:
        return TrainingRecord(
            history=getattr(self, "history_", None),
            seconds=getattr(self, "training_seconds_", float("nan")),
            stopped_on_nan=getattr(self, "stopped_on_nan_", False),
            gradient_health=getattr(self, "gradient_health_", None),
            range_test=getattr(self, "learning_rate_range_test_", None),
            loss_name=self._loss_name(),
        )

    def _loss_name(self) -> str:
        """The training loss as the loss plot names it: on scaled values, each window
        normalised by its own level or spread unless ``window_norm`` is ``none``."""
        loss = self._loss()
        where = "scaled" if self.config.window_norm_method == "none" else "window-normalised"
        return f"{LOSS_NAMES.get(loss, loss)} ({where})"

    def _scaling_state(self, keep: int) -> dict[str, Any]:
        """What ``preprocessing.json`` needs to forecast again: the scaler, the level floor
        and the last ``keep`` periods."""
        return {
            "scaler": self.scaler_.to_dict(),
            "epsilon": self.epsilon_,
            "tail": tail_state(self.series_, keep),
        }

    def _restore_scaling(self, pre: dict[str, Any]) -> None:
        self.scaler_ = Scaler.from_dict(pre["scaler"])
        self.epsilon_ = float(pre["epsilon"])
        self.series_ = tail_series(pre["tail"], self.config)
        state = pre.get("covariates")
        if state is not None:
            self.covariate_scaling_ = CovariateScaling.from_dict(state)
            self.covariates_ = pd.DataFrame(
                state["tail"], index=self.series_.index, columns=state["columns"], dtype="float64"
            )

    def _covariate_state(self, keep: int) -> dict[str, Any] | None:
        """The covariate columns' scaling and last ``keep`` periods, for
        ``preprocessing.json``; ``None`` without them."""
        covariates = getattr(self, "covariates_", None)
        if covariates is None:
            return None
        return {
            "columns": list(covariates.columns),
            **self.covariate_scaling_.to_dict(),
            "tail": covariates.iloc[-keep:].to_numpy().tolist(),
        }

    def _write_report(self, directory: Path, future: pd.DataFrame) -> None:
        write_forecast_report(
            directory,
            self.config,
            series=self.series_,
            preparation=self.preparation_,
            split=self.split_,
            evaluation=self.evaluation_,
            future=future,
            training=self._training_record(),
            settings_used=self._settings_used(),
        )

    def _settings_used(self) -> dict[str, Any]:
        """The values this fit used for the automatic settings, by the configuration
        table's keys (see :func:`~rnnkit.core.report.config_html`)."""
        c = self.config
        return {
            "lookback": c.window,
            **self._split_used(),
            "fill": c.fill_method,
            "base": getattr(self, "base_", c.base),
            "training.loss": self._loss(),
            "training.learning_rate": getattr(self, "learning_rate_", c.training.learning_rate),
        }

    def _split_used(self) -> dict[str, int | str]:
        return {"test_size": self.split_["test"], "validation_size": self.split_["validation"]}

    @classmethod
    def _check_run_config(cls, config: ForecastConfig, path: str | os.PathLike[str]) -> None:
        """Refuses a run of many series: :meth:`GlobalForecaster.load` reads those."""
        if config.id_column is not None:
            raise ConfigError(
                f"'{path}' is a run of many series (id_column {config.id_column!r}): load it "
                "with GlobalForecaster, or with rnnkit.forecasting.load, which reads either."
            )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Forecaster:
        """Loads a run directory written by :meth:`save` or ``rnnkit forecast train``.

        A run of many series (``id_column`` set) is loaded by
        :meth:`GlobalForecaster.load`; :func:`rnnkit.forecasting.load` reads either kind.
        """
        run = persistence.open_run(path, "forecast", RUN_FILES)
        config = read_run_config(run)
        cls._check_run_config(config, path)
        pre = run_files.read_run_file(run, "preprocessing.json", cls._preprocessing_schema)
        self = cls(config)
        self._check_preprocessing(run, pre)
        self.model_ = persistence.load_keras_model(run / "model.keras")
        run_files.check_model_shape(
            run,
            self.model_,
            self._input_steps(),
            (
                self._output_steps(),
                "the horizon in config.json"
                if config.strategy != "recursive"
                else "the one step of the recursive strategy",
            ),
        )
        self._restore_scaling(pre)
        self.base_ = pre["base"]
        self.floor_ = pre.get("floor")  # runs saved before it: no floor
        self.base_smoothing_ = pre.get("base_smoothing", DEFAULT_SMOOTHING)
        self.calibration_ = self._restore_intervals(run, pre.get("intervals"))
        self.preparation_ = pre.get("series")
        self.split_ = pre.get("split")
        if (run / "metrics.json").exists():
            self.metrics_ = run_files.read_run_json(run, "metrics.json")
        return self

    _preprocessing_schema: type[run_files.RunFile] = run_files.ForecastPreprocessing

    def _input_steps(self) -> tuple[int, str]:
        """The time steps the network reads, and where that number comes from."""
        c = self.config
        if not self.feature_names_:
            return c.window, "the lookback in config.json"
        return c.window + c.horizon, (
            "the lookback plus the horizon in config.json (calendar features, covariates)"
        )

    def _restore_intervals(self, run: Path, intervals: dict | None) -> Calibration | None:
        """The saved calibration, refused when its steps are not the horizon's."""
        if intervals is None:
            return None
        steps, horizon = len(intervals["offsets"][0]), self.config.horizon
        if steps != horizon:
            raise run_files.damaged(
                run,
                f"preprocessing.json: intervals.offsets has {steps} steps but the horizon "
                f"in config.json is {horizon}",
            )
        return Calibration.from_dict(intervals)

    def _check_preprocessing(self, run: Path, pre: dict[str, Any]) -> None:
        """Refuses a ``preprocessing.json`` that disagrees with ``config.json``."""
        c = self.config
        columns = list(c.covariate_aggs) or None
        saved = pre.get("covariates")
        saved_columns = None if saved is None else saved["columns"]
        if saved_columns != columns:
            raise run_files.damaged(
                run,
                f"preprocessing.json: covariates.columns is {saved_columns} but config.json "
                f"names {columns}",
            )
        if saved is not None and len(saved["tail"]) != len(pre["tail"]["values"]):
            raise run_files.damaged(
                run,
                f"preprocessing.json: covariates.tail has {len(saved['tail'])} periods but "
                f"tail has {len(pre['tail']['values'])}",
            )
        names = None if self.calendar_ is None else list(self.calendar_.names)
        if pre.get("calendar") != names:
            raise run_files.damaged(
                run,
                f"preprocessing.json: calendar features {pre.get('calendar')} but config.json "
                f"and this version of rnnkit give {names}",
            )
        for key, expected in (("freq", c.freq), ("window_norm", c.window_norm_method)):
            if pre[key] != expected:
                raise run_files.damaged(
                    run,
                    f"preprocessing.json: {key} is {pre[key]!r} but config.json says {expected!r}",
                )
        # One series keeps a whole lookback; the short series of a global model are
        # padded, but need one period to pad with.
        tails = pre["tails"] if "tails" in pre else {"": pre["tail"]}
        needed = 1 if "tails" in pre else c.window
        for key, tail in tails.items():
            if len(tail["values"]) < needed:
                where = f"tails.{key}" if key else "tail"
                raise run_files.damaged(
                    run,
                    f"preprocessing.json: {where} keeps {len(tail['values'])} periods but "
                    f"forecasting needs at least {needed}",
                )


# Defined whenever the forecasts are numbers: MAPE (all actuals zero) and MASE (a flat
# history) may be undefined on good data, these never are.
ALWAYS_FINITE = ("mae", "rmse", "smape")


def nonnegative_floor(train: np.ndarray) -> float | None:
    """0 when the training values have no negative one (then no forecast or interval
    bound goes below zero), else ``None``.

    Example:
        >>> nonnegative_floor(np.array([0.0, 3.0])), nonnegative_floor(np.array([-1.0, 3.0]))
        (0.0, None)
    """
    return 0.0 if np.all(np.asarray(train) >= 0) else None


def check_model_metrics(metrics: dict[str, dict[str, float]]) -> None:
    """Refuses a fit whose model test errors are not finite numbers (overflowing
    forecasts), rather than writing a run whose metrics are null.

    Raises:
        TrainingError: naming the metrics that are not finite.
    """
    model = metrics.get("model", {})
    bad = {k: model[k] for k in ALWAYS_FINITE if k in model and not np.isfinite(model[k])}
    if bad:
        shown = ", ".join(f"{k} {v}" for k, v in bad.items())
        raise TrainingError(
            f"The model's test errors are not finite numbers ({shown}): its forecasts "
            "overflowed or are not numbers. Rescale the target (e.g. divide it by 1e6), "
            "check the data for extreme values, or lower --learning-rate."
        )


def check_data_type(data: object, config: ForecastConfig, accepted: tuple[type, ...]) -> None:
    """Refuses data of a type no forecaster reads (a NumPy array, a list) with what to give."""
    if isinstance(data, (*accepted, str, os.PathLike)):
        return
    raise DataError(
        f"A forecaster reads a DataFrame of rows with columns '{config.time_column}' and "
        f"'{config.target_column}' (or indexed by time), or a CSV or Parquet path, not "
        f"{type(data).__name__}: wrap the values in a DataFrame, e.g. pd.DataFrame("
        f"{{'{config.target_column}': values}}, index=pd.date_range(start, periods=len(values)))."
    )


def indexed_by_time(data: object, time_column: str) -> bool:
    """Whether ``data`` is a DataFrame whose periods are its DatetimeIndex (and not a
    ``time_column``): its forecasts are then indexed by time too.

    Example:
        >>> frame = pd.DataFrame({"v": [1.0]}, index=pd.DatetimeIndex(["2024-01-01"]))
        >>> indexed_by_time(frame, "date"), indexed_by_time(frame.reset_index(), "date")
        (True, False)
    """
    return (
        isinstance(data, pd.DataFrame)
        and isinstance(data.index, pd.DatetimeIndex)
        and time_column not in data.columns
    )


def time_index_as_column(frame: pd.DataFrame, time_column: str) -> pd.DataFrame:
    """``frame`` with its DatetimeIndex as ``time_column``, when it has no such column (a
    frame indexed by time, as pandas users keep series); otherwise ``frame`` itself."""
    if time_column in frame.columns or not isinstance(frame.index, pd.DatetimeIndex):
        return frame
    return frame.rename_axis(time_column).reset_index()


def read_run_config(run_dir: str | os.PathLike[str]) -> ForecastConfig:
    """The configuration saved in a forecast run directory (``config.json``), checked.

    A run saved before calendar features existed has no ``calendar`` key: its network
    reads none (the automatic default would turn them on)."""

    def from_dict(data: Any) -> ForecastConfig:
        if isinstance(data, dict) and "calendar" not in data:
            data = {**data, "calendar": False}
        return ForecastConfig.from_dict(data)

    return run_files.read_run_config(run_dir, from_dict)


def tail_state(series: pd.Series, keep: int) -> dict[str, list]:
    """The last ``keep`` periods of ``series`` as JSON: ``{"index": [...], "values": [...]}``."""
    tail = series.iloc[-keep:]
    return {"index": [str(t) for t in tail.index], "values": tail.tolist()}


def tail_series(state: dict[str, list], config: ForecastConfig) -> pd.Series:
    """The series :func:`tail_state` saved, named as ``config`` names its columns."""
    return pd.Series(
        state["values"],
        index=pd.DatetimeIndex(state["index"], name=config.time_column),
        name=config.target_column,
        dtype="float64",
    )
