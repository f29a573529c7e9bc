"""One forecaster across many series: a global model (loans per branch, complaints per
product), trained on the windows of every series at once.

Each series is aggregated, gap-filled, split in time and scaled on its own (its scaler
fit on its own training part); windows are normalised by their own level as for one
series, so series of very different sizes share one network. Every series is scored on
its own last test periods against its own baselines, and the metrics are given per
series and overall.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.config import ForecastConfig
from rnnkit.core import run_files
from rnnkit.data.calendar_features import check_country
from rnnkit.data.covariates import (
    CovariateScaling,
    aggregate_columns_by_id,
    covariate_windows,
    left_padded,
)
from rnnkit.data.reading import PARQUET_SUFFIXES, read_table, require_columns
from rnnkit.data.scaling import Scaler
from rnnkit.data.static_covariates import StaticEncoding, static_table
from rnnkit.data.streaming import aggregate_file_by_id, aggregate_frame_by_id, column_chunks
from rnnkit.data.timeseries import PANDAS_RULES, Panel, future_index
from rnnkit.data.windows import last_windows, make_windows, window_starts
from rnnkit.errors import ConfigError, DataError, NotFittedError
from rnnkit.forecasting import combination, prediction
from rnnkit.forecasting.forecaster import Forecaster
from rnnkit.forecasting.global_report import write_global_forecast_report
from rnnkit.forecasting.intervals import quantile_name
from rnnkit.forecasting.network_inputs import LEVEL_FLOOR, nonnegative_floor
from rnnkit.forecasting.panel_scoring import score_panel
from rnnkit.forecasting.saving import tail_series, tail_state
from rnnkit.forecasting.series_data import check_data_type, indexed_by_time, time_index_as_column

DataLike = Panel | pd.DataFrame | str | os.PathLike[str]


class GlobalForecaster(Forecaster):
    """Forecasts every series of a file with one recurrent network (a global model).

    Rows carry a series id in ``id_column``. Each series runs from its first period to
    the last period of the file when gaps are zero-filled (events), to its own last
    period otherwise. Series too short for one training window, the validation and the
    test are left out of training and scoring (listed in ``skipped_``) but are still
    forecast when they have ``lookback`` periods, scaled on their own history, as is
    any new series given to :meth:`predict`.

    Overall metrics pool every test point for MAE, RMSE, MAPE and sMAPE (so large
    series weigh more), and average the per-series MASE (scale-free: each series
    counts once).

    Example:
        >>> f = GlobalForecaster(time_column="date_received", target_column="complaint_id",
        ...                      id_column="product", agg="count", lookback=28, horizon=7)
        >>> f.fit("complaints.csv").metrics_by_series_  # doctest: +SKIP
        >>> f.predict(ids=["Mortgage"])  # doctest: +SKIP
    """

    def _configured(self) -> None:
        super()._configured()
        if self.config.id_column is None:
            raise ConfigError(
                "GlobalForecaster needs id_column, the column naming each row's series "
                "(--id-column). For one series use Forecaster."
            )

    # ----------------------------------------------------------------- data
    def test_periods(self, length: int) -> int:
        """Periods in each series' test part: ``test_size``, by default one horizon (one
        forecast origin a series: the panel's series give the test its many windows)."""
        return self.config.test_size or self.config.horizon

    def prepare(self, data: DataLike, ids: list[str] | None = None) -> Panel:  # type: ignore[override]
        """Reads (if a path), aggregates and gap-fills every series of ``data``.

        Args:
            data: a path (CSV streamed in chunks, or Parquet), a DataFrame of rows, or
                a :class:`~rnnkit.data.timeseries.Panel` already aggregated.
            ids: keep only these series (an unknown id is an error).
        """
        c = self.config
        columns = (c.id_column, c.time_column, c.target_column, c.freq, c.agg, c.fill_method)
        check_data_type(data, c, (Panel, pd.DataFrame))
        statics, frame = None, None
        if isinstance(data, Panel):
            panel = data
            if c.static_columns and panel.statics is None:
                raise DataError(
                    f"This Panel has no static columns ({', '.join(c.static_columns)}): give "
                    "the rows (a DataFrame or a path) instead."
                )
            if c.covariate_aggs and any(p.covariates is None for p in panel.series.values()):
                raise DataError(
                    f"This Panel has no covariate columns ({', '.join(c.covariate_aggs)}): "
                    "give the rows (a DataFrame or a path) instead."
                )
        elif isinstance(data, pd.DataFrame):
            if len(data) == 0:
                raise DataError("The DataFrame has no rows.")
            frame = time_index_as_column(data, c.time_column)
            panel = aggregate_frame_by_id(frame, *columns, time_format=c.time_format)
            if c.static_columns:
                statics = static_table([frame], c.id_column, c.static_columns, "the DataFrame")
        elif Path(data).suffix.lower() in PARQUET_SUFFIXES or c.covariate_aggs:
            # Covariate columns are aggregated from the rows in memory (not streamed).
            frame = read_table(data, columns=[*columns[:3], *c.static_columns, *c.covariate_aggs])
            panel = aggregate_frame_by_id(frame, *columns, time_format=c.time_format)
            if c.static_columns:
                statics = static_table([frame], c.id_column, c.static_columns, f"'{data}'")
        else:
            panel = aggregate_file_by_id(data, *columns, time_format=c.time_format)
            if c.static_columns:
                chunks = column_chunks(data, [c.id_column, *c.static_columns])
                statics = static_table(chunks, c.id_column, c.static_columns, f"'{data}'")
        if statics is not None:
            # Ids whose rows all lack a target make no series and need no static value.
            panel = dataclasses.replace(panel, statics=statics.loc[list(panel.series)])
        if c.covariate_aggs and frame is not None:
            panel = self._with_covariates(panel, frame)
        return panel.select(ids, c.id_column) if ids else panel

    def _with_covariates(self, panel: Panel, frame: pd.DataFrame) -> Panel:
        """Every series of ``panel`` with its covariate columns, aggregated per period
        from its rows of ``frame`` on the series' own periods."""
        c = self.config
        require_columns(frame, list(c.covariate_aggs))
        covariates = aggregate_columns_by_id(
            frame,
            frame[c.id_column].astype("string").str.strip().to_numpy(dtype=object),
            c.time_column,
            c.covariate_aggs,
            c.freq,
            {key: prepared.values.index for key, prepared in panel.series.items()},
            c.time_format,
            c.id_column,
        )
        series = {
            key: dataclasses.replace(prepared, covariates=covariates[key])
            for key, prepared in panel.series.items()
        }
        return dataclasses.replace(panel, series=series)

    # ----------------------------------------------------------------- training
    def fit(
        self, data: DataLike, *, ids: list[str] | None = None, **kwargs: Any
    ) -> GlobalForecaster:  # type: ignore[override]
        """Trains one model on the windows of every series and scores each series.

        Args:
            data: as :meth:`prepare`.
            ids: train on these series only.
            **kwargs: as :meth:`Forecaster.fit` (checkpoint_path, callbacks, verbose,
                state_path, resume).

        Returns:
            self, with ``model_``, ``scalers_``, ``series_``, ``metrics_`` (overall),
            ``metrics_by_series_`` and ``skipped_`` set.
        """
        super().fit(self.prepare(data, ids), **kwargs)
        self.time_indexed_ = indexed_by_time(data, self.config.time_column)
        return self

    def _training_data(self, data: DataLike) -> dict[str, Any]:
        """Per series: split, fit its scaler on its training part, cut its windows."""
        c = self.config
        if c.country is not None:
            check_country(c.country)
        panel = self.prepare(data)
        steps = self._output_steps()
        raw: dict[str, list[tuple[np.ndarray, np.ndarray, float]]] = {"train": [], "validation": []}
        features: dict[str, list[np.ndarray | None]] = {"train": [], "validation": []}
        held_out = []  # whole horizons of the validation part, for the intervals
        held_out_features = []
        splits, skipped, padded, self.scalers_, self.epsilons_ = {}, {}, {}, {}, {}
        nonnegative = True
        kept = {}
        for key, prepared in panel.series.items():
            values = prepared.values.to_numpy()
            covariates = None if prepared.covariates is None else prepared.covariates.to_numpy()
            test = self.test_periods(len(values))
            if len(values) <= test:
                skipped[key] = (
                    f"{len(values)} periods: not one before its last {test} (the test part)."
                )
                continue
            needed = self.periods_needed(len(values))
            if len(values) < needed:
                # Too short for one training window, the validation and the test: padded
                # on the left with its first value, so every series is trained on.
                padded[key] = needed - len(values)
                values = np.concatenate([np.full(needed - len(values), values[0]), values])
                covariates = left_padded(covariates, len(values))
            index = _periods_ending(prepared.values.index, len(values), c.freq)
            kept[key] = (values, index, covariates)
        self._fit_covariate_scaling(kept)
        for key, (values, index, covariates) in kept.items():
            part = self._series_windows(values, index, steps, covariates)
            splits[key] = part["split"]
            self.scalers_[key], self.epsilons_[key] = part["scaler"], part["epsilon"]
            nonnegative = nonnegative and part["nonnegative"]
            for name in raw:
                raw[name].append(part["windows"][name])
                features[name].append(part["features"][name])
            held_out.append(part["held_out"])
            held_out_features.append(part["held_out_features"])
        if not splits:
            first = next(iter(skipped.items()))
            raise DataError(
                f"No series is long enough to train on ({len(skipped)} series). "
                f"{c.id_column} {first[0]!r}: {first[1]}"
            )
        self.floor_ = 0.0 if nonnegative else None  # every series' training part
        self.skipped_ = skipped
        self.padded_ = padded
        static_rows = self._fit_statics(panel, list(splits))
        self._choose_panel_base(raw)
        return {
            "prepared": panel,
            "series": panel.values(),
            "covariates": _panel_covariates(panel),
            "split": splits,
            **self._panel_arrays(raw, features, static_rows),
            "calibration": self._calibration_data(held_out, held_out_features, static_rows),
        }

    def _fit_covariate_scaling(self, kept: dict[str, tuple]) -> None:
        """Sets ``covariate_scaling_``: one standardisation of the covariate columns, fit
        on the training parts of every series trained on (``None`` without them)."""
        self.covariate_scaling_ = None
        if not self.config.covariate_aggs or not kept:
            return
        self.covariate_scaling_ = CovariateScaling.fit(
            np.concatenate(
                [
                    covariates[: self.split_sizes(len(values))["train"]]
                    for values, _, covariates in kept.values()
                ]
            )
        )

    def _series_windows(
        self,
        values: np.ndarray,
        index: pd.DatetimeIndex,
        steps: int,
        covariates: np.ndarray | None = None,
    ) -> dict[str, Any]:
        """One series split, scaled on its training part and cut into windows;
        ``covariates`` its covariate columns ``(len(values), k)``, in the data's units.

        Returns:
            ``{"split", "scaler", "epsilon", "nonnegative", "windows", "features",
            "held_out", "held_out_features"}``: ``windows`` and ``features`` per part
            (train, validation) as ``(inputs, targets, epsilon)`` and the windows'
            features; ``held_out`` the validation part's whole horizons, for the intervals.
        """
        c = self.config
        split = self.split_sizes(len(values))
        n_train, n_val = split["train"], split["validation"]
        scaler, epsilon = _fit_scaling(values[:n_train], c.scaler_method)
        nonnegative = nonnegative_floor(values[:n_train]) is not None
        scaled = scaler.transform(values)
        windows, features = {}, {}
        for name, (start, end) in (
            ("train", (0, n_train)),
            ("validation", (n_train, n_train + n_val)),
        ):
            windows[name] = (*make_windows(scaled, c.window, steps, start, end), epsilon)
            starts = window_starts(c.window, steps, start, end)
            features[name] = self._features(index, starts, covariates)
        inputs, targets = make_windows(scaled, c.window, c.horizon, n_train, n_train + n_val)
        return {
            "split": split,
            "scaler": scaler,
            "epsilon": epsilon,
            "nonnegative": nonnegative,
            "windows": windows,
            "features": features,
            "held_out": (inputs, targets, np.full((len(inputs), 1), epsilon)),
            "held_out_features": self._features(
                index, window_starts(c.window, c.horizon, n_train, n_train + n_val), covariates
            ),
        }

    def _fit_statics(self, panel: Panel, trained: list[str]) -> list[np.ndarray | None]:
        """Sets ``static_encoding_`` and gives each trained series' static inputs (None
        each without ``static_columns``)."""
        self.static_encoding_ = None
        if not self.config.static_columns:
            return [None] * len(trained)
        # Fit on every series of the data, so that the short ones left out of training
        # are still forecast (a category only they have keeps its initial embedding).
        self.static_encoding_ = StaticEncoding.fit(panel.statics)
        return list(self.static_encoding_.transform(panel.statics.loc[trained]))

    def _choose_panel_base(
        self, raw: dict[str, list[tuple[np.ndarray, np.ndarray, float]]]
    ) -> None:
        """Sets ``base_`` and ``base_smoothing_`` from every series' windows, on the
        validation part where any series has one, else on the training part."""
        chosen_on = "validation" if any(len(x) for x, _, _ in raw["validation"]) else "train"
        # Each series' windows over its own level (its level floor is a fixed share of
        # it), so that the base is chosen on every series alike, not on the largest ones
        # (unscaled) nor on the windows of a sparse series' quiet weeks (window units).
        self.base_, self.base_smoothing_ = self._choose_base(
            np.concatenate([x / e for x, _, e in raw[chosen_on]]),
            np.concatenate([y / e for _, y, e in raw[chosen_on]]),
        )

    def _panel_arrays(
        self,
        raw: dict[str, list[tuple[np.ndarray, np.ndarray, float]]],
        features: dict[str, list[np.ndarray | None]],
        static_rows: list[np.ndarray | None],
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The network's inputs and targets of each part, every series' windows
        normalised by their own level and stacked."""
        parts = {
            name: [
                (*self._normalised(x, y, epsilon=e), f, row)
                for (x, y, e), f, row in zip(windows, features[name], static_rows)
            ]
            for name, windows in raw.items()
        }
        return {
            name: (
                np.concatenate([self._model_inputs(x, f, row) for x, _, f, row in windows]),
                self._targets(np.concatenate([y for _, y, _, _ in windows])),
            )
            for name, windows in parts.items()
        }

    def _calibration_data(
        self,
        held_out: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
        held_out_features: list[np.ndarray | None],
        static_rows: list[np.ndarray | None],
    ) -> tuple:
        """Every series' validation horizons in their own units, with their features and
        static inputs: one calibration serves them all."""
        return (
            *(np.concatenate(part) for part in zip(*held_out)),
            np.concatenate(held_out_features) if self.feature_names_ else None,
            None
            if self.static_encoding_ is None
            else np.concatenate(
                [
                    np.repeat(row[None, :], len(inputs), axis=0)
                    for row, (inputs, _, _) in zip(static_rows, held_out)
                ]
            ),
        )

    def _choose_combination(self, data_: dict[str, Any]) -> dict[str, Any] | None:
        """As :meth:`Forecaster._choose_combination`, on each trained series' last
        validation origin, every series' errors over its own level (so that series of
        every size weigh alike); ``None`` above
        :data:`~rnnkit.forecasting.combination.MAX_SERIES` series (the statistical model
        is refit for every series at every forecast)."""
        c = self.config
        trained = {key: data_["series"][key] for key in data_["split"]}
        if c.combination_model == "none" or len(trained) > combination.MAX_SERIES:
            return None
        rows: dict[str, list] = {name: [] for name in ("window", "scaling", "start", "key")}
        statistical, actual, levels = [], [], []
        for key, s in trained.items():
            values = s.to_numpy()
            origin = len(values) - data_["split"][key]["test"] - c.horizon
            if origin < c.window:  # a short series, padded to train on: not chosen on
                continue
            rows["window"].append(values[origin - c.window : origin])
            rows["scaling"].append(self.scaling(key, values[:origin]))
            rows["start"].append(s.index[origin])
            rows["key"].append(key)
            statistical.append(
                combination.statistical_forecasts(
                    c.combination_model, values, [origin], c.horizon, c.season
                )[0]
            )
            actual.append(values[origin : origin + c.horizon])
            levels.append(float(np.mean(np.abs(values[:origin]))) or 1.0)
        if not rows["key"]:
            return None
        network = self.forecast_panel(
            np.stack(rows["window"]),
            rows["scaling"],
            rows["start"],
            self.static_inputs(rows["key"], data_["prepared"].statics),
            self.window_covariates(rows["key"], rows["start"], data_["covariates"]),
        )
        weight, errors = combination.choose_weight(
            network, np.stack(statistical), np.stack(actual), np.array(levels)
        )
        count = len(rows["key"])
        where = f"the last validation origin of each of {count} series"
        return combination.record(c, weight, count, where, errors)

    def _set_fitted_data(self, data_: dict[str, Any]) -> None:
        panel: Panel = data_["prepared"]
        self.series_ = data_["series"]
        self.covariates_ = data_["covariates"]
        self.split_ = data_["split"]
        self.statics_ = panel.statics
        self.preparation_ = {**panel.summary(), "series_trained": len(self.split_)}
        self.preparation_["skipped"] = self.skipped_
        self.preparation_["padded"] = getattr(self, "padded_", {})
        trained = {key: self.series_[key] for key in self.split_}
        self.evaluation_ = self._score_panel(
            trained,
            {key: split["test"] for key, split in self.split_.items()},
            covariates=self.covariates_,
        )
        self.evaluation_["details"]["network"] = self._network_choice()
        self.metrics_by_series_ = self.evaluation_["by_series"]

    # ----------------------------------------------------------------- forecasting
    def scaling(self, key: str, history: np.ndarray) -> tuple[Scaler, float]:
        """The series' scaler and level floor: saved ones for a trained series, else fit
        on ``history`` (a new series, or one too short to train on)."""
        if key in self.scalers_:
            return self.scalers_[key], self.epsilons_[key]
        return _fit_scaling(history, self.config.scaler_method)

    def forecast_panel(
        self,
        windows: np.ndarray,
        scalings: list[tuple[Scaler, float]],
        starts: pd.DatetimeIndex | list | None = None,
        static: np.ndarray | None = None,
        covariates: np.ndarray | None = None,
    ) -> np.ndarray:
        """Forecasts (original scale) raw windows ``(n, lookback)``, row ``i`` scaled by
        ``scalings[i]``; every row goes through the network in one batch. ``starts``, the
        dates of the rows' first forecast periods, and ``covariates``, the rows' covariate
        columns over their windows and horizons (see :meth:`window_covariates`), as
        :meth:`Forecaster.forecast_windows`; ``static``, each row's static inputs (see
        :meth:`static_inputs`), needed by a model with ``static_columns``."""
        if self.config.static_columns and static is None:
            raise ConfigError(
                f"This model reads the static columns {', '.join(self.config.static_columns)}:"
                " give each window's static inputs (static=self.static_inputs(ids))."
            )
        offset = np.array([[s.offset] for s, _ in scalings])
        scale = np.array([[s.scale] for s, _ in scalings])
        epsilon = np.array([[e] for _, e in scalings])
        features = self.window_features(starts, covariates)
        scaled = self._forecast_scaled((windows - offset) / scale, epsilon, features, static)
        return self._floored(scaled * scale + offset)

    def window_covariates(
        self,
        keys: list[str],
        starts: pd.DatetimeIndex | list,
        covariates: dict[str, pd.DataFrame] | None,
    ) -> np.ndarray | None:
        """The covariate columns ``(n, lookback + horizon, k)`` over the windows whose
        first forecast periods are ``starts``, row ``i`` of the series ``keys[i]`` and
        taken from ``covariates[keys[i]]`` (each series' columns per period, in the data's
        units, reaching each start's horizon); ``None`` without covariate columns. A
        series shorter than a window is padded on the left with its first period, as
        its values are."""
        c = self.config
        if not c.covariate_aggs:
            return None
        starts = list(starts)
        out = np.empty((len(keys), c.window + c.horizon, len(c.covariate_aggs)))
        rows: dict[str, list[int]] = {}
        for i, key in enumerate(keys):
            rows.setdefault(key, []).append(i)
        for key, where in rows.items():
            frame = covariates[key]
            positions = frame.index.get_indexer([starts[i] for i in where])
            values = frame.to_numpy()
            pad = max(0, c.window - int(positions.min()))
            if pad:
                values = left_padded(values, len(values) + pad)
                positions = positions + pad
            out[where] = covariate_windows(
                values, positions, c.window, c.horizon, len(c.past_columns)
            )
        return out

    def static_inputs(
        self, keys: list[str], statics: pd.DataFrame | None = None
    ) -> np.ndarray | None:
        """The network's static inputs ``(len(keys), width)`` of the series ``keys``, from
        ``statics`` (each series' static columns, indexed by id; by default those of the
        series it was trained on); ``None`` without ``static_columns``.

        Raises:
            DataError: a series without static values, or with a category the model
                was not trained on.
        """
        encoding = getattr(self, "static_encoding_", None)
        if encoding is None:
            return None
        table = self.statics_ if statics is None else statics
        unknown = [key for key in dict.fromkeys(keys) if key not in table.index]
        if unknown:
            raise DataError(
                f"The model has no static columns ({', '.join(encoding.columns)}) for series "
                f"{unknown[0]!r}: give its rows with those columns (predict(data)), or its "
                "values (static in serve)."
            )
        unique = list(dict.fromkeys(keys))
        rows = dict(zip(unique, encoding.transform(table.loc[unique])))
        return np.stack([rows[key] for key in keys])

    def panel_quantiles(
        self, windows: np.ndarray, scalings: list[tuple[Scaler, float]], forecast: np.ndarray
    ) -> np.ndarray:
        """The quantile forecasts ``(n, len(quantiles_), horizon)`` of raw windows whose
        point forecasts (:meth:`forecast_panel`) are ``forecast``, each in its own
        series' units; ``(n, 0, horizon)`` without intervals."""
        offset = np.array([[s.offset] for s, _ in scalings])
        scale = np.array([[s.scale] for s, _ in scalings])
        epsilon = np.array([[e] for _, e in scalings])
        spread = self._spread((windows - offset) / scale, epsilon)
        return self._bands(forecast, spread * scale)

    def series_quantiles(self, key: str, values: np.ndarray, forecast: np.ndarray) -> np.ndarray:
        """The quantile forecasts ``(len(quantiles_), horizon)`` of the series ``key``
        after ``values``, whose point forecast (:meth:`forecast_series`) is ``forecast``."""
        window = last_windows(values, [len(values)], self.config.window)
        return self.panel_quantiles(window, [self.scaling(key, values)], forecast[None, :])[0]

    def forecast_series(
        self,
        key: str,
        values: np.ndarray,
        start: pd.Timestamp | None = None,
        static: dict[str, str | float] | None = None,
        covariates: np.ndarray | None = None,
    ) -> np.ndarray:
        """The ``horizon`` values after ``values`` (one series' per-period history, at
        least ``lookback`` long, on the original scale) of the series ``key``; ``start``
        is the first forecast period's date (needed with calendar features); ``static``
        the series' static columns (by default its saved ones); ``covariates`` the
        covariate columns over the window and the horizon, ``(1, lookback + horizon,
        k)`` (see :meth:`Forecaster.forecast_covariates`)."""
        window = last_windows(values, [len(values)], self.config.window)
        starts = None if start is None else [start]
        table = None if static is None else pd.DataFrame([static], index=[key])
        inputs = self.static_inputs([key], table)
        scaling = [self.scaling(key, values)]
        network = self.forecast_panel(window, scaling, starts, inputs, covariates)
        return self.combined(values, [len(values)], network)[0]

    def predict(  # type: ignore[override]
        self,
        data: DataLike | None = None,
        ids: list[str] | None = None,
        horizon: int | None = None,
        future: pd.DataFrame | str | os.PathLike[str] | None = None,
    ) -> pd.DataFrame:
        """Forecasts the ``horizon`` periods after the end of every series.

        Args:
            data: newer rows to forecast from; by default the data the model was trained
                on (or its saved tails, after ``load``). New series are forecast too,
                scaled on their own history.
            ids: forecast these series only.
            horizon: the first ``horizon`` periods of each series only, up to the trained
                horizon; by default all of them.
            future: with ``future_columns``, their values for the periods forecast: rows
                (a DataFrame or a path) with the id, time and future columns, for every
                series forecast.

        Returns:
            A long DataFrame: the id (named after ``id_column``), the period start
            (named after ``time_column``), ``forecast`` and a column per quantile
            (``q0.1``, ``q0.5``, ``q0.9``), ``horizon`` rows a series; indexed by the
            period starts instead when ``data`` (or, without it, the data ``fit`` was
            given) is a DataFrame indexed by time. ``unforecast_`` lists the series
            shorter than ``lookback``.
        """
        self._check_fitted()
        c = self.config
        steps = self._steps(horizon)
        statics = None
        if data is not None:
            panel = self.prepare(data, ids)
            series, statics = panel.values(), panel.statics
            history = _panel_covariates(panel)
        else:
            series = self.series_
            history = getattr(self, "covariates_", None)
            if ids:
                unknown = [key for key in ids if key not in series]
                if unknown:
                    raise DataError(
                        f"The model has no series with {c.id_column} {unknown[0]!r}: give its "
                        "rows with --data, or choose one of: "
                        f"{', '.join(list(series)[:10])}."
                    )
                series = {key: series[key] for key in ids}
        # Every series is forecast; one shorter than the lookback is padded on the left.
        usable = series
        self.unforecast_ = []
        windows = np.concatenate(
            [last_windows(s.to_numpy(), [len(s)], c.window) for s in usable.values()]
        )
        scalings = [self.scaling(key, s.to_numpy()) for key, s in usable.items()]
        starts = [future_index(s.index[-1], c.freq, 1)[0] for s in usable.values()]
        static = self.static_inputs(list(usable), statics)
        covariates = self._forecast_covariates(usable, history, future)
        forecasts = self.forecast_panel(windows, scalings, starts, static, covariates)
        if self.combination_weight_:
            forecasts = np.concatenate(
                [
                    self.combined(s.to_numpy(), [len(s)], forecast[None, :])
                    for s, forecast in zip(usable.values(), forecasts)
                ]
            )
        bands = self.panel_quantiles(windows, scalings, forecasts)
        frames = [
            pd.DataFrame(
                {
                    c.id_column: key,
                    c.time_column: future_index(s.index[-1], c.freq, c.horizon),
                    "forecast": forecast,
                    **{quantile_name(q): b for q, b in zip(self.quantiles_, band)},
                }
            )
            for (key, s), forecast, band in zip(usable.items(), forecasts, bands)
        ]
        forecasts = pd.concat([frame.iloc[:steps] for frame in frames], ignore_index=True)
        return self._as_given(forecasts, data)

    def _forecast_covariates(
        self,
        series: dict[str, pd.Series],
        history: dict[str, pd.DataFrame] | None,
        future: pd.DataFrame | str | os.PathLike[str] | None,
    ) -> np.ndarray | None:
        """The covariates over each series' last window and its periods forecast, ``(n,
        lookback + horizon, k)``: its history's, then ``future``'s future columns (see
        :meth:`Forecaster.forecast_covariates`); ``None`` without covariate columns."""
        c = self.config
        if not c.covariate_aggs:
            return None
        ahead = _rows_by_id(future, c) if c.future_columns and future is not None else {}
        rows = []
        for key, s in series.items():
            dates = future_index(s.index[-1], c.freq, c.horizon)
            try:
                rows.append(prediction.forecast_covariates(c, history[key], dates, ahead.get(key)))
            except DataError as error:
                raise DataError(f"{c.id_column} {key!r}: {error}") from None
        return np.concatenate(rows)

    # ----------------------------------------------------------------- evaluation
    def evaluate(  # type: ignore[override]
        self, data: DataLike | None = None, ids: list[str] | None = None
    ) -> dict[str, dict[str, float]]:
        """Overall metrics of the model and the baselines on the last test periods of
        every series of ``data`` (per series in ``last_evaluation_["by_series"]``).

        Series shorter than ``lookback`` + the test are left out and counted.
        """
        self._check_fitted()
        if data is None:
            if not hasattr(self, "evaluation_"):
                raise NotFittedError("No training data kept after load: pass data to evaluate.")
            return self.evaluation_["metrics"]
        c = self.config
        panel = self.prepare(data, ids)
        series = panel.values()
        tests = {key: self.test_periods(len(s)) for key, s in series.items()}
        usable = {key: s for key, s in series.items() if len(s) >= c.window + tests[key]}
        if not usable:
            test = min(tests.values())
            raise DataError(
                f"Evaluation needs at least {c.window + test} periods a series (lookback "
                f"{c.window} + test {test}); none of the {len(series)} series has that many."
            )
        self.last_evaluation_ = self._score_panel(
            usable, {key: tests[key] for key in usable}, panel.statics, _panel_covariates(panel)
        )
        self.last_evaluation_["details"]["series_too_short"] = sorted(set(series) - set(usable))
        return self.last_evaluation_["metrics"]

    def _score_panel(
        self,
        series: dict[str, pd.Series],
        tests: dict[str, int],
        statics: pd.DataFrame | None = None,
        covariates: dict[str, pd.DataFrame] | None = None,
    ) -> dict:
        def forecast(windows: np.ndarray, scalings: list, starts: list, keys: list) -> np.ndarray:
            static = self.static_inputs(keys, statics)
            columns = self.window_covariates(keys, starts, covariates)
            return self.forecast_panel(windows, scalings, starts, static, columns)

        return score_panel(
            self.config,
            self.scaling,
            forecast,
            series,
            tests,
            panel_quantiles=self.panel_quantiles if self.quantiles_ else None,
            combine=self._combine_callback(),
        )

    def metrics_frame(self, by_series: dict | None = None) -> pd.DataFrame:
        """Per-series metrics as a long table: id, method, mae, rmse, mape, smape, mase."""
        by_series = self.metrics_by_series_ if by_series is None else by_series
        return pd.DataFrame(
            [
                {self.config.id_column: key, "method": method, **values}
                for key, methods in by_series.items()
                for method, values in methods.items()
            ]
        )

    # ----------------------------------------------------------------- persistence
    def _scaling_state(self, keep: int) -> dict[str, Any]:
        encoding = getattr(self, "static_encoding_", None)
        return {
            "scalers": {key: s.to_dict() for key, s in self.scalers_.items()},
            "epsilons": self.epsilons_,
            "tails": {key: tail_state(s, keep) for key, s in self.series_.items()},
            "static": None
            if encoding is None
            else {
                **encoding.to_dict(),
                # As text, as a CSV gives them: numbers and categories alike.
                "values": {
                    str(key): [str(v) for v in row]
                    for key, row in zip(self.statics_.index, self.statics_.to_numpy())
                },
            },
        }

    def _covariate_state(self, keep: int) -> dict[str, Any] | None:
        """The covariate columns' scaling and each series' last ``keep`` periods of them,
        for ``preprocessing.json``; ``None`` without them."""
        covariates = getattr(self, "covariates_", None)
        if covariates is None:
            return None
        return {
            "columns": list(self.config.covariate_aggs),
            **self.covariate_scaling_.to_dict(),
            "tails": {key: f.iloc[-keep:].to_numpy().tolist() for key, f in covariates.items()},
        }

    _preprocessing_schema = run_files.GlobalForecastPreprocessing

    def _restore_scaling(self, pre: dict[str, Any]) -> None:
        self.scalers_ = {key: Scaler.from_dict(s) for key, s in pre["scalers"].items()}
        self.epsilons_ = {key: float(e) for key, e in pre["epsilons"].items()}
        self.series_ = {key: tail_series(t, self.config) for key, t in pre["tails"].items()}
        static = pre.get("static")  # runs saved before static columns have none
        self.static_encoding_ = None if static is None else StaticEncoding.from_dict(static)
        if static is not None:
            self.statics_ = pd.DataFrame.from_dict(
                static["values"], orient="index", columns=static["columns"]
            )
        state = pre.get("covariates")
        self.covariate_scaling_ = None if state is None else CovariateScaling.from_dict(state)
        if state is not None:
            self.covariates_ = {
                key: pd.DataFrame(
                    rows,
                    index=self.series_[key].index[-len(rows) :],
                    columns=state["columns"],
                    dtype="float64",
                )
                for key, rows in state["tails"].items()
            }

    def _write_report(self, directory: Path, future: pd.DataFrame) -> None:
        self.metrics_frame().to_csv(directory / "metrics_by_series.csv", index=False)
        write_global_forecast_report(
            directory,
            self.config,
            series=self.series_,
            preparation=self.preparation_,
            evaluation=self.evaluation_,
            future=future,
            training=self._training_record(),
            settings_used=self._settings_used(),
        )

    def _split_used(self) -> dict[str, int | str]:
        """The test and validation sizes, a range where the series' splits differ."""

        def spread(part: str) -> int | str:
            sizes = sorted({split[part] for split in self.split_.values()})
            return sizes[0] if len(sizes) == 1 else f"{sizes[0]} to {sizes[-1]} per series"

        return {"test_size": spread("test"), "validation_size": spread("validation")}

    def _check_preprocessing(self, run: Path, pre: dict[str, Any]) -> None:
        super()._check_preprocessing(run, pre)
        static = pre.get("static")
        saved = None if static is None else static["columns"]
        expected = list(self.config.static_columns) or None
        if saved != expected:
            raise run_files.damaged(
                run,
                f"preprocessing.json: static.columns is {saved} but config.json names {expected}",
            )
        covariates = pre.get("covariates")  # its columns checked as a single run's
        if covariates is None:
            return
        for key, rows in covariates["tails"].items():
            periods = len(pre["tails"].get(key, {}).get("values", []))
            if len(rows) > periods:
                raise run_files.damaged(
                    run,
                    f"preprocessing.json: covariates.tails[{key!r}] has {len(rows)} periods "
                    f"but tails[{key!r}] has {periods}",
                )
        if set(covariates["tails"]) != set(pre["tails"]):
            raise run_files.damaged(
                run, "preprocessing.json: covariates.tails and tails name different series"
            )

    @classmethod
    def _check_run_config(cls, config: ForecastConfig, path: str | os.PathLike[str]) -> None:
        """Refuses a run of one series: :meth:`Forecaster.load` reads those."""
        if config.id_column is None:
            raise ConfigError(
                f"'{path}' is a run of one series (no id_column): load it with Forecaster."
            )


def _fit_scaling(train: np.ndarray, kind: str) -> tuple[Scaler, float]:
    """A series' scaler, fit on ``train``, and its level floor (see ``LEVEL_FLOOR``)."""
    scaler = Scaler.fit(train, kind)
    epsilon = float(LEVEL_FLOOR * np.mean(np.abs(scaler.transform(train))) + 1e-8)
    return scaler, epsilon


def _panel_covariates(panel: Panel) -> dict[str, pd.DataFrame] | None:
    """Each series' covariate columns per period; ``None`` without them."""
    if any(p.covariates is None for p in panel.series.values()):
        return None
    return {key: p.covariates for key, p in panel.series.items()}


def _rows_by_id(
    data: pd.DataFrame | str | os.PathLike[str], config: ForecastConfig
) -> dict[str, pd.DataFrame]:
    """The future rows (a DataFrame or a path) of each series, by id."""
    c = config
    columns = [c.id_column, c.time_column, *c.future_columns]
    if isinstance(data, pd.DataFrame):
        frame = time_index_as_column(data, c.time_column)
        require_columns(frame, columns)
    else:
        frame = read_table(data, columns=columns)
    ids = frame[c.id_column].astype("string").str.strip().to_numpy(dtype=object)
    return dict(tuple(frame.groupby(ids, sort=False)))


def _periods_ending(index: pd.DatetimeIndex, periods: int, freq: str) -> pd.DatetimeIndex:
    """The ``periods`` period starts that end with ``index`` (``index`` itself, or it
    padded on the left, as a short series' values are)."""
    if periods == len(index):
        return index
    offset = pd.tseries.frequencies.to_offset(PANDAS_RULES[freq])
    return pd.date_range(end=index[-1], periods=periods, freq=offset)


def truncate(panel: Panel, periods: int) -> Panel:
    """Every series without its last ``periods`` periods (for rolling origins)."""
    series = {
        key: dataclasses.replace(p, values=p.values.iloc[: len(p.values) - periods])
        for key, p in panel.series.items()
        if len(p.values) > periods
    }
    statics = None if panel.statics is None else panel.statics.loc[list(series)]
    return Panel(series, panel.ids_without_values, statics)
