"""Rolling-origin evaluation (backtesting): the model and the baselines forecast the test
part of several folds, each ending ``stride`` periods after the one before.

As Darts' ``historical_forecasts`` and skforecast's backtesting: with ``refit`` the scaler
and the model are trained again for every fold, on the history before its test part;
without it they are trained once, for the first fold, and that model forecasts every
later fold's test part from the history before it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.config import ForecastConfig
from rnnkit.data.timeseries import PreparedSeries
from rnnkit.errors import ConfigError, DataError
from rnnkit.forecasting.forecaster import DataLike, Forecaster, make_config
from rnnkit.forecasting.global_forecaster import GlobalForecaster, truncate
from rnnkit.forecasting.scoring import METHODS


def backtest(
    data: DataLike,
    folds: int,
    config: ForecastConfig | None = None,
    verbose: int | None = 0,
    *,
    stride: int | None = None,
    refit: bool = True,
    fold_started: Callable[[int, bool], None] | None = None,
    fold_done: Callable[[dict[str, Any]], None] | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Rolling-origin evaluation over ``folds`` folds, baselines scored on the same periods.

    Fold ``k`` (1-based) ends ``(folds - k) * stride`` periods before the end of the data
    and is tested on its last test part (``test_size``; by default the one that
    :meth:`Forecaster.test_periods` gives the earliest fold, for every fold). With the
    default ``stride`` (the test size) the folds' test parts follow each other without
    overlapping; a smaller stride overlaps them, a larger one leaves gaps.

    Args:
        data: as :meth:`Forecaster.fit` (or :meth:`GlobalForecaster.fit` with
            ``id_column``).
        folds: how many folds (forecast origins of a test part), at least 1.
        config: the forecaster's configuration; ``params`` override its fields.
        verbose: Keras verbosity of each training.
        stride: periods between the ends of consecutive folds (default: the test size).
        refit: train a model for every fold (True) or once, for the first (False).
        fold_started: called as ``fold_started(fold, trains)`` before each fold, ``trains``
            saying whether it trains a model (progress for a caller such as the CLI).
        fold_done: called with each fold's record (below) once it is scored.
        **params: configuration fields, as :class:`Forecaster` takes them.

    Returns:
        ``{"folds": [{"fold", "trained_until", "test_start", "test_end", "trained",
        "origins", "test_points", "seconds", "metrics"}...], "mean": {method: {...}},
        "stride", "refit", "test_size", "origins", "test_points", "predictions"}``: the
        metrics of each fold (``trained``: whether it trained a model; ``trained_until``:
        the last period that model trained or validated on), their mean over the folds,
        and ``predictions``, a DataFrame of every fold's test forecasts (a ``fold`` column
        first, then the columns of a run's ``test_predictions.csv``).

    Example:
        >>> from rnnkit.forecasting.backtesting import backtest
        >>> result = backtest("loans.csv", 3, time_column="created_at",
        ...                   target_column="amount", refit=False)  # doctest: +SKIP
        >>> result["mean"]["model"]["mase"]  # doctest: +SKIP
    """
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 1:
        raise ConfigError(f"folds must be an integer >= 1, got {folds!r}.")
    c = make_config(config, **params)
    _check_stride(stride)
    estimator: type[Forecaster] = GlobalForecaster if c.id_column is not None else Forecaster
    template = estimator(c)
    prepared = template.prepare(data)
    c, template, test = _fold_test_size(estimator, c, template, prepared, folds, stride)
    stride = test if stride is None else int(stride)
    _check_folds_fit(template, prepared, folds, stride)
    results, tables = _run_folds(
        estimator, c, template, prepared, folds, stride, refit, verbose, fold_started, fold_done
    )
    return _summary(results, tables, stride, refit, test)


def _summary(
    results: list[dict[str, Any]],
    tables: list[pd.DataFrame],
    stride: int,
    refit: bool,
    test: int,
) -> dict[str, Any]:
    """The folds' records and forecasts gathered into what :func:`backtest` returns."""
    predictions = pd.concat(tables, ignore_index=True)
    predictions = predictions[["fold", *[k for k in predictions.columns if k != "fold"]]]
    return {
        "folds": results,
        "mean": mean_metrics([r["metrics"] for r in results]),
        "stride": stride,
        "refit": refit,
        "test_size": test,
        "origins": sum(r["origins"] for r in results),
        "test_points": sum(r["test_points"] for r in results),
        "predictions": predictions,
    }


def _check_stride(stride: Any) -> None:
    """Refuses a stride that is not a whole number of periods >= 1."""
    bad_stride = isinstance(stride, bool) or not isinstance(stride, (int, np.integer))
    if stride is not None and (bad_stride or stride < 1):
        raise ConfigError(
            f"stride must be a whole number of periods >= 1, got {stride!r}: the periods "
            "between the ends of consecutive folds (default: the test size)."
        )


def _fold_test_size(
    estimator: type[Forecaster],
    config: ForecastConfig,
    template: Forecaster,
    prepared: Any,
    folds: int,
    stride: int | None,
) -> tuple[ForecastConfig, Forecaster, int]:
    """The test part of every fold, with the configuration and template that fix it:
    the configured ``test_size``, else the one the earliest fold would have."""
    test = _test_periods(template, _length(prepared))
    if config.test_size is None:
        # The default test part depends on the series' length: every fold gets the one
        # its earliest (shortest) fold would have, so the folds' test parts are alike.
        earliest = _length(prepared) - (folds - 1) * (test if stride is None else int(stride))
        test = min(test, _test_periods(template, max(earliest, 0)))
        config = config.replace(test_size=test)
        template = estimator(config)
    return config, template, test


def _run_folds(
    estimator: type[Forecaster],
    config: ForecastConfig,
    template: Forecaster,
    prepared: Any,
    folds: int,
    stride: int,
    refit: bool,
    verbose: int | None,
    fold_started: Callable[[int, bool], None] | None,
    fold_done: Callable[[dict[str, Any]], None] | None,
) -> tuple[list[dict[str, Any]], list[pd.DataFrame]]:
    """Trains (every fold with ``refit``, else the first) and scores each fold in turn.

    Returns:
        Each fold's record (see :func:`backtest`) and its test forecasts, with a ``fold``
        column.
    """
    c = config
    results, tables = [], []
    model: Forecaster | None = None
    trained_until = ""
    for fold in range(1, folds + 1):
        part, span = _fold_part(c, template, prepared, fold, (folds - fold) * stride)
        trains = refit or model is None
        if fold_started is not None:
            fold_started(fold, trains)
        started = time.perf_counter()
        if trains:
            model = estimator(c).fit(part, verbose=verbose)
            evaluation = model.evaluation_
        else:
            model.evaluate(part)
            evaluation = model.last_evaluation_
        # The dates are read off the forecasts scored, so they are those the estimator
        # tested, however it sizes its test part.
        test_start = _first_forecast(evaluation["predictions"], c, span)
        if trains:
            trained_until = str(span[span.get_loc(test_start) - 1])
        record = {
            "fold": fold,
            "trained_until": trained_until,
            "test_start": str(test_start),
            "test_end": str(span[-1]),
            "trained": trains,
            **_test_size(evaluation),
            "seconds": time.perf_counter() - started,
            "metrics": evaluation["metrics"],
        }
        results.append(record)
        tables.append(evaluation["predictions"].assign(fold=fold))
        if fold_done is not None:
            fold_done(record)
    return results, tables


def _fold_part(
    config: ForecastConfig, template: Forecaster, prepared: Any, fold: int, cut: int
) -> tuple[Any, pd.Index]:
    """A fold's data, the prepared data less its last ``cut`` periods, and the periods of
    its (longest) series."""
    if config.id_column is None:
        part = prepared.values.iloc[: len(prepared.values) - cut]
        if fold == 1:
            template.split_sizes(len(part))  # too short: the error names what is needed
        return part, part.index
    part = truncate(prepared, cut)
    return part, max(part.values().values(), key=len).index


def mean_metrics(metrics: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Each method's metrics averaged over folds (NaN folds skipped), for the methods and
    the metrics every fold has.

    Example:
        >>> mean_metrics([{"naive": {"mae": 1.0}}, {"naive": {"mae": 3.0}}])["naive"]["mae"]
        2.0
    """
    methods = [m for m in METHODS if all(m in fold for fold in metrics)]
    mean = {}
    for method in methods:
        values = [fold[method] for fold in metrics]
        mean[method] = {}
        for key in _common_keys(values):
            column = [v.get(key, float("nan")) for v in values]
            finite = any(np.isfinite(v) for v in column)
            mean[method][key] = float(np.nanmean(column)) if finite else float("nan")
    return mean


def _length(prepared: Any) -> int:
    """Periods of the series, or of the longest series of a panel."""
    if isinstance(prepared, PreparedSeries):
        return len(prepared.values)
    return max(len(s) for s in prepared.values().values())


def _test_periods(template: Forecaster, length: int) -> int:
    """The test part the estimator scores on a series of ``length`` (the default stride)."""
    try:
        return template.split_sizes(length)["test"]
    except DataError:  # too short: _check_folds_fit says so, with what is needed
        return template.test_periods(length)


def _first_forecast(predictions: pd.DataFrame, config: ForecastConfig, span: pd.Index) -> Any:
    """The first period a fold's forecasts cover, of its longest series with many."""
    rows = predictions
    if config.id_column is not None:
        last = rows.groupby(config.id_column)[config.time_column].transform("max")
        rows = rows[pd.to_datetime(last) == span[-1]]
    if rows.empty:  # no series reaches the end: the earliest forecast of any
        rows = predictions
    return pd.Timestamp(pd.to_datetime(rows[config.time_column]).min())


def _test_size(evaluation: dict[str, Any]) -> dict[str, int]:
    """The forecast origins and points one fold scored (over every series of a panel)."""
    details = evaluation["details"]
    if "by_series" in details:
        origins = sum(len(d["origins"]) for d in details["by_series"].values())
    else:
        origins = len(details["origins"])
    return {"origins": origins, "test_points": int(details["test_points"])}


def _common_keys(metrics: list[dict[str, float]]) -> list[str]:
    """The point metrics, then the interval metrics every fold has (coverage_80...)."""
    point = ["mae", "rmse", "mape", "smape", "mase"]
    keys = [key for key in metrics[0] if all(key in m for m in metrics)]
    return [key for key in point if key in keys] + [key for key in keys if key not in point]


def _check_folds_fit(template: Forecaster, prepared: Any, folds: int, stride: int) -> None:
    """Refuses more folds than the series holds, saying how many fit: the earliest fold
    trains on the series less ``folds - 1`` strides."""
    length = _length(prepared)
    cut = (folds - 1) * stride
    if length - cut >= template.periods_needed(max(length - cut, 0)):
        return
    fit = 0
    while fit < folds and length - fit * stride >= template.periods_needed(length - fit * stride):
        fit += 1
    longest = "" if isinstance(prepared, PreparedSeries) else "longest "
    hint = f"At most {fit} folds fit: lower --folds" if fit else "No fold fits: give more data"
    raise ConfigError(
        f"--folds {folds} needs more history than the {longest}series has: its earliest fold "
        f"trains on the {length} periods less {folds - 1} strides of {stride} "
        f"({max(length - cut, 0)} periods), and one training needs "
        f"{template.periods_needed(max(length - cut, 0))}. {hint}, or lower --stride, "
        "--lookback or --horizon."
    )
