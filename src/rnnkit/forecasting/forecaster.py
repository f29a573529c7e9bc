"""The first job: a multi-step forecaster trained from a CSV of events or values."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# The `name as name` imports below keep importable from here the names that now live
# with their concept (fitting, network_inputs, saving, series_data).
from rnnkit.config import ForecastConfig, TrainingConfig, with_params
from rnnkit.core import models, persistence, recipe, run_files
from rnnkit.core import resume as resume_
from rnnkit.core.estimator import EstimatorParams
from rnnkit.core.range_test import RangeTestResult
from rnnkit.core.report import TrainingRecord, write_training_record
from rnnkit.data.calendar_features import DAY_OF_MONTH, Calendar, check_country
from rnnkit.data.covariates import CovariateScaling, covariate_windows
from rnnkit.data.scaling import DEFAULT_SMOOTHING, Scaler, base_forecast, window_statistics
from rnnkit.data.timeseries import PreparedSeries, check_sparsity, future_index
from rnnkit.data.windows import make_windows, window_starts
from rnnkit.errors import ConfigError, DataError, NotFittedError
from rnnkit.forecasting import (
    combination,
    fitting,
    network_inputs,
    prediction,
    saving,
    series_data,
)
from rnnkit.forecasting.fitting import ALWAYS_FINITE as ALWAYS_FINITE
from rnnkit.forecasting.fitting import CORRECTION_WEIGHTS as CORRECTION_WEIGHTS
from rnnkit.forecasting.fitting import LOSS_NAMES as LOSS_NAMES
from rnnkit.forecasting.fitting import check_model_metrics as check_model_metrics
from rnnkit.forecasting.intervals import Calibration, calibrate, quantile_name
from rnnkit.forecasting.network_inputs import LEVEL_FLOOR as LEVEL_FLOOR
from rnnkit.forecasting.network_inputs import nonnegative_floor as nonnegative_floor
from rnnkit.forecasting.report import write_forecast_report
from rnnkit.forecasting.saving import RUN_FILES as RUN_FILES
from rnnkit.forecasting.saving import read_run_config as read_run_config
from rnnkit.forecasting.saving import tail_series as tail_series
from rnnkit.forecasting.saving import tail_state as tail_state
from rnnkit.forecasting.scoring import score_series
from rnnkit.forecasting.series_data import TEST_ORIGINS as TEST_ORIGINS
from rnnkit.forecasting.series_data import TEST_SHARE as TEST_SHARE
from rnnkit.forecasting.series_data import DataLike as DataLike
from rnnkit.forecasting.series_data import check_data_type as check_data_type
from rnnkit.forecasting.series_data import indexed_by_time as indexed_by_time
from rnnkit.forecasting.series_data import time_index_as_column as time_index_as_column


def make_config(config: ForecastConfig | None = None, **params: Any) -> ForecastConfig:
    """A ForecastConfig from a base config and flat keyword overrides.

    Keywords may name fields of ``ForecastConfig``, ``ModelConfig`` or ``TrainingConfig``
    (``Forecaster(lookback=60, cell="gru", epochs=20)``).
    """
    return with_params(config or ForecastConfig(), "forecaster", **params)


# Validation parts of up to this many windows are evaluated in one batch (one compiled
# shape); a window is a few hundred numbers, so even the largest is a few megabytes.
ONE_BATCH_ROWS = 16384


def _one_batch(rows: int) -> int | None:
    """The validation batch size: every window at once, up to :data:`ONE_BATCH_ROWS`."""
    return rows if 0 < rows <= ONE_BATCH_ROWS else None


class Forecaster(EstimatorParams):
    """Forecasts the next ``horizon`` periods of a series with a stacked recurrent network.

    Rows of events or values are aggregated per period, gaps are filled, the series is
    split in time (train, validation, test), scaled with statistics of the training part
    only and cut into lookback windows. Each window is normalised by its own level so the
    network sees series that grow beyond their training range. Where forecasts from the
    validation part say so, the network's forecast is averaged with AutoARIMA's
    (``combine_with``; ``combination_weight_``). The test is scored on the original scale
    against naive, seasonal-naive, AutoETS, AutoTheta and AutoARIMA forecasts of the same
    periods.

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
        prepared = series_data.aggregate_series(data, self.config)
        length = len(prepared.values)
        if length >= self.periods_needed(length):  # else "too short" is the true reason
            check_sparsity(prepared, self.config.freq, self.config.allow_sparse)
        return prepared

    def periods_needed(self, length: int) -> int:
        """Periods a series of ``length`` needs for one training window, the validation
        and the test."""
        return self._periods_needed(length, self.test_periods(length))

    def _periods_needed(self, length: int, test: int) -> int:
        validation = series_data.validation_periods(length, self.config)
        return self.config.window + self._output_steps() + validation + test

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
        """Periods in the train, validation and test parts of a series of ``length``.

        Raises:
            DataError: the series is too short for one training window, the validation
                and the test.
        """
        test = self.test_periods(length)
        return series_data.split_sizes(length, self.config, test, self._output_steps())

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
        self.calendar_without_: tuple[str, ...] = ()  # every feature (a loaded run may lack some)
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
            validation_batch_size=_one_batch(len(data_["validation"][1])),
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
        self.combination_ = self._choose_combination(data_)
        self._set_fitted_data(data_)
        self.metrics_ = self.evaluation_["metrics"]
        check_model_metrics(self.metrics_)
        return self

    def _weigh_correction(self, x_val: np.ndarray, y_val: np.ndarray, loss: str) -> float:
        """Scales the trained correction by whichever of CORRECTION_WEIGHTS gives the
        lowest validation loss (see :func:`rnnkit.forecasting.fitting.weigh_correction`);
        1 without a base forecast. Returns the weight."""
        if getattr(self, "base_", "none") == "none" or len(y_val) == 0:
            return 1.0
        return fitting.weigh_correction(self.model_, x_val, y_val, loss)

    def _choose_combination(self, data_: dict[str, Any]) -> dict[str, Any] | None:
        """Whether the forecasts average the network's with the ``combine_with`` model's,
        chosen on up to :data:`~rnnkit.forecasting.combination.VALIDATION_ORIGINS`
        origins of the validation part (see :mod:`rnnkit.forecasting.combination`);
        ``None`` when there is nothing to combine or choose on."""
        c = self.config
        series, split = data_["series"], data_["split"]
        start = split["train"]
        origins = combination.validation_origins(
            start, start + split["validation"], c.horizon, c.window
        )
        if c.combination_model == "none" or not origins:
            return None
        values = series.to_numpy()
        forecast = prediction.with_covariates(
            self.forecast_windows, data_["prepared"].covariates, series.index, c
        )
        network = forecast(
            np.stack([values[o - c.window : o] for o in origins]), series.index[origins]
        )
        statistical = combination.statistical_forecasts(
            c.combination_model, values, origins, c.horizon, c.season
        )
        actual = np.stack([values[o : o + c.horizon] for o in origins])
        weight, errors = combination.choose_weight(
            network, statistical, actual, np.ones(len(origins))
        )
        where = f"{len(origins)} forecast origins of the validation part"
        return combination.record(c, weight, len(origins), where, errors)

    def combined(
        self, values: np.ndarray, origins: list[int] | np.ndarray, network: np.ndarray
    ) -> np.ndarray:
        """The model's forecasts ``(len(origins), horizon)`` from ``origins`` of one
        series' ``values``, given the network's forecasts from them: the network's, or
        their average with the ``combine_with`` model's where the validation chose it."""
        weight = self.combination_weight_
        if weight == 0.0:
            return network
        c, chosen = self.config, self.combination_
        statistical = combination.statistical_forecasts(
            chosen["combined_with"], values, origins, c.horizon, c.season, chosen["history"]
        )
        return self._floored(combination.combine(network, statistical, weight))

    @property
    def combination_weight_(self) -> float:
        """The statistical model's weight in the forecasts: 0 (the network's alone) or
        0.5 (the mean of the two)."""
        return float((getattr(self, "combination_", None) or {}).get("weight", 0.0))

    def _combine_callback(self):
        """``combined`` for the scorers, or ``None`` when the forecasts are the network's."""
        return self.combined if self.combination_weight_ else None

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
        chosen = getattr(self, "combination_", None) or {}
        return {
            "base": getattr(self, "base_", "none"),
            "correction_weight": getattr(self, "correction_weight_", 1.0),
            "combined_with": chosen.get("combined_with", "none"),
            "combination_weight": chosen.get("weight", 0.0),
            "combination_origins": chosen.get("origins", 0),
            "combination_chosen_on": chosen.get("chosen_on", ""),
            "combination_errors": chosen.get("errors", {}),
        }

    def _loss(self) -> str:
        """The training loss. ``auto`` is MAE (what MASE measures) when the network
        corrects a base forecast; without one, MSE for one series and Huber for many."""
        return fitting.training_loss(self.config)

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
        self.epsilon_ = network_inputs.level_floor(scaled[:n_train])
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
        without = getattr(self, "calendar_without_", ())
        calendar = Calendar(c.freq, c.country, without) if c.uses_calendar else None
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
        covariate_scaling = getattr(self, "covariate_scaling_", None)
        return network_inputs.window_features(
            self.config, self.calendar_, covariate_scaling, starts, covariates
        )

    def _model_inputs(
        self,
        normalised: np.ndarray,
        features: np.ndarray | None,
        static: np.ndarray | None = None,
    ) -> np.ndarray:
        """The network's input from normalised windows ``(n, lookback)``, their
        ``features`` and a global model's ``static`` inputs (see
        :func:`rnnkit.forecasting.network_inputs.model_inputs`)."""
        return network_inputs.model_inputs(normalised, features, static)

    def _choose_base(self, inputs: np.ndarray, targets: np.ndarray) -> tuple[str, float]:
        """The base forecast the network corrects and its smoothing weight, chosen on
        the given windows (see :func:`rnnkit.forecasting.network_inputs.choose_base`)."""
        return network_inputs.choose_base(inputs, targets, self.config)

    def _targets(self, targets: np.ndarray) -> np.ndarray:
        """Targets shaped like the model's output: ``(n, 1, horizon)`` for an ensemble,
        whose ``(n, members, horizon)`` output the loss broadcasts them over."""
        return targets[:, None, :] if self._ensemble_output() else targets

    def _ensemble_output(self) -> bool:
        return network_inputs.ensemble_output(self.config, self.feature_names_)

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
        return prediction.predict_batch(self.model_, inputs)

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
        forecast = self.combined(series.to_numpy(), [len(series)], forecast)
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
        fit_indexed = getattr(self, "time_indexed_", False)
        return prediction.as_given(forecasts, data, self.config.time_column, fit_indexed)

    def _time_as_column(self, forecasts: pd.DataFrame) -> pd.DataFrame:
        """``forecasts`` as :meth:`predict` gives them for a time column (undoes
        :meth:`_as_given`)."""
        return prediction.time_as_column(forecasts, self.config.time_column, self.config.id_column)

    def forecast_covariates(
        self,
        history: pd.DataFrame | None,
        dates: pd.DatetimeIndex,
        future: pd.DataFrame | str | os.PathLike[str] | None,
    ) -> np.ndarray | None:
        """The covariates over the last window and the periods forecast ``dates``, ``(1,
        lookback + horizon, k)``: the history's, then ``future``'s future columns (past
        columns are not read over the horizon); ``None`` without covariate columns."""
        return prediction.forecast_covariates(self.config, history, dates, future)

    def _steps(self, horizon: int | None) -> int:
        """The periods ``predict`` returns: ``horizon``, checked against the trained one."""
        return prediction.checked_steps(horizon, self.config.horizon)

    # ----------------------------------------------------------------- evaluation
    def evaluate(self, data: DataLike | None = None) -> dict[str, dict[str, float]]:
        """Metrics of the model and the baselines on the last test periods of ``data``.

        Args:
            data: rows to score on (path or DataFrame); by default the training data, whose
                test part the model never saw.

        Returns:
            ``{"model": {...}, "naive": {...}, "seasonal_naive": {...}, "auto_ets": {...}, ...}``,
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
        forecast = prediction.with_covariates(self.forecast_windows, covariates, index, self.config)
        quantiles = self.forecast_quantiles if self.quantiles_ else None
        return score_series(
            forecast,
            values,
            test_size,
            index,
            self.config,
            forecast_quantiles=quantiles,
            combine=self._combine_callback(),
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
                **self._scaling_state(keep=self.periods_used_),
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
                "time_indexed": bool(getattr(self, "time_indexed_", False)),
                "combination": combination.state(getattr(self, "combination_", None)),
            },
        )
        persistence.write_json(directory / "metadata.json", persistence.metadata("forecast"))
        if hasattr(self, "evaluation_"):
            saving.write_evaluation(directory, self.evaluation_)
        write_training_record(directory, self._training_record())
        if c.future_columns:
            # The periods after the data need the future columns' values, which the
            # training data does not hold: `rnnkit forecast predict --future-data` makes
            # the forecast.
            future = saving.no_future(c.time_column, self.quantiles_, c.id_column)
        else:
            # forecast.csv keeps the period as a column, however fit's data was indexed.
            future = self._time_as_column(self.predict())
            future.to_csv(directory / "forecast.csv", index=False)
        if hasattr(self, "evaluation_"):
            self._write_report(directory, future)

    @property
    def periods_used_(self) -> int:
        """The periods of history a forecast reads (and a saved run keeps): the lookback
        (a season at least), or the statistical model's history where it is combined."""
        c = self.config
        keep = max(c.window, c.season)
        if self.combination_weight_:
            keep = max(keep, self.combination_["history"])
        return keep

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
        """The training loss as the loss plot names it (see
        :func:`rnnkit.forecasting.fitting.loss_name`)."""
        return fitting.loss_name(self._loss(), self.config.window_norm_method)

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
            scaling, tail = saving.restore_covariates(state, self.series_.index)
            self.covariate_scaling_, self.covariates_ = scaling, tail

    def _covariate_state(self, keep: int) -> dict[str, Any] | None:
        """The covariate columns' scaling and last ``keep`` periods, for
        ``preprocessing.json``; ``None`` without them."""
        covariates = getattr(self, "covariates_", None)
        scaling = getattr(self, "covariate_scaling_", None)
        return saving.covariate_state(covariates, scaling, keep)

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
            "scaler": c.scaler_method,
            "window_norm": c.window_norm_method,
            "base": getattr(self, "base_", c.base),
            "combine_with": c.combination_model,
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
        # fit's data was indexed by time: predict() indexes its forecasts so after a load.
        self.time_indexed_ = bool(pre.get("time_indexed", False))
        self.combination_ = combination.restore(pre.get("combination"))
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
        return saving.restore_intervals(run, intervals, self.config.horizon)

    def _check_preprocessing(self, run: Path, pre: dict[str, Any]) -> None:
        """Refuses a ``preprocessing.json`` that disagrees with ``config.json``. A run
        saved before the day-of-month features reads its calendar without them."""
        saved = pre.get("calendar")
        if self.calendar_ is not None and isinstance(saved, list):
            older = Calendar(self.config.freq, self.config.country, DAY_OF_MONTH)
            if saved == list(older.names) != list(self.calendar_.names):
                self.calendar_without_ = DAY_OF_MONTH
        calendar = None if self.calendar_ is None else list(self.calendar_.names)
        saving.check_preprocessing(run, pre, self.config, self.config.window_norm_method, calendar)
