"""A forecast run directory: what :meth:`Forecaster.save` writes beside the model (the
scaling and the series' tail in ``preprocessing.json``, the evaluation files) and the
checks :meth:`Forecaster.load` makes that the files come from one run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.config import ForecastConfig
from rnnkit.core import persistence, run_files
from rnnkit.data.covariates import CovariateScaling
from rnnkit.forecasting.intervals import Calibration, quantile_name

RUN_FILES = ("model.keras", "config.json", "preprocessing.json", "metadata.json")


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


def covariate_state(
    covariates: pd.DataFrame | None, scaling: CovariateScaling | None, keep: int
) -> dict[str, Any] | None:
    """The covariate columns' scaling and last ``keep`` periods, for
    ``preprocessing.json``; ``None`` without them."""
    if covariates is None:
        return None
    return {
        "columns": list(covariates.columns),
        **scaling.to_dict(),
        "tail": covariates.iloc[-keep:].to_numpy().tolist(),
    }


def restore_covariates(
    state: dict[str, Any], index: pd.DatetimeIndex
) -> tuple[CovariateScaling, pd.DataFrame]:
    """The scaling and the last periods (on ``index``) :func:`covariate_state` saved."""
    frame = pd.DataFrame(state["tail"], index=index, columns=state["columns"], dtype="float64")
    return CovariateScaling.from_dict(state), frame


def write_evaluation(directory: Path, evaluation: dict[str, Any]) -> None:
    """``metrics.json``, ``evaluation.json`` and ``test_predictions.csv`` of the test part."""
    persistence.write_json(directory / "metrics.json", evaluation["metrics"])
    persistence.write_json(directory / "evaluation.json", evaluation["details"])
    evaluation["predictions"].to_csv(directory / "test_predictions.csv", index=False)


def no_future(
    time_column: str, quantiles: tuple[float, ...], id_column: str | None = None
) -> pd.DataFrame:
    """The report's forecast of a model that reads future columns: none, since the
    periods after the data need their values, which the training data does not hold."""
    names = ["forecast", *(quantile_name(q) for q in quantiles)]
    ids = {} if id_column is None else {id_column: pd.Series([], dtype=object)}
    return pd.DataFrame(
        {**ids, time_column: pd.DatetimeIndex([]), **{n: np.empty(0) for n in names}}
    )


def restore_intervals(run: Path, intervals: dict | None, horizon: int) -> Calibration | None:
    """The saved calibration, refused when its steps are not the horizon's."""
    if intervals is None:
        return None
    steps = len(intervals["offsets"][0])
    if steps != horizon:
        raise run_files.damaged(
            run,
            f"preprocessing.json: intervals.offsets has {steps} steps but the horizon "
            f"in config.json is {horizon}",
        )
    return Calibration.from_dict(intervals)


def check_preprocessing(
    run: Path,
    pre: dict[str, Any],
    config: ForecastConfig,
    window_norm: str,
    calendar: list[str] | None,
) -> None:
    """Refuses a ``preprocessing.json`` that disagrees with ``config.json`` (whose window
    normalisation is ``window_norm`` and calendar features ``calendar``)."""
    c = config
    columns = list(c.covariate_aggs) or None
    saved = pre.get("covariates")
    saved_columns = None if saved is None else saved["columns"]
    if saved_columns != columns:
        raise run_files.damaged(
            run,
            f"preprocessing.json: covariates.columns is {saved_columns} but config.json "
            f"names {columns}",
        )
    if saved is not None and "tail" in pre and len(saved["tail"]) != len(pre["tail"]["values"]):
        raise run_files.damaged(
            run,
            f"preprocessing.json: covariates.tail has {len(saved['tail'])} periods but "
            f"tail has {len(pre['tail']['values'])}",
        )
    if pre.get("calendar") != calendar:
        raise run_files.damaged(
            run,
            f"preprocessing.json: calendar features {pre.get('calendar')} but config.json "
            f"and this version of rnnkit give {calendar}",
        )
    for key, expected in (("freq", c.freq), ("window_norm", window_norm)):
        if pre[key] != expected:
            raise run_files.damaged(
                run,
                f"preprocessing.json: {key} is {pre[key]!r} but config.json says {expected!r}",
            )
    _check_tails(run, pre, c.window)


def _check_tails(run: Path, pre: dict[str, Any], lookback: int) -> None:
    # One series keeps a whole lookback; the short series of a global model are
    # padded, but need one period to pad with.
    tails = pre["tails"] if "tails" in pre else {"": pre["tail"]}
    needed = 1 if "tails" in pre else lookback
    for key, tail in tails.items():
        if len(tail["values"]) < needed:
            where = f"tails.{key}" if key else "tail"
            raise run_files.damaged(
                run,
                f"preprocessing.json: {where} keeps {len(tail['values'])} periods but "
                f"forecasting needs at least {needed}",
            )
