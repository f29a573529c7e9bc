"""Rolling-origin evaluation: refit the scaler and the model per fold, baselines alongside."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.config import ForecastConfig
from rnnkit.data.timeseries import PreparedSeries
from rnnkit.errors import ConfigError
from rnnkit.forecasting.forecaster import DataLike, Forecaster, make_config
from rnnkit.forecasting.global_forecaster import GlobalForecaster, truncate
from rnnkit.forecasting.scoring import METHODS


def backtest(
    data: DataLike,
    folds: int,
    config: ForecastConfig | None = None,
    verbose: int | None = 0,
    **params: Any,
) -> dict[str, Any]:
    """Rolling-origin evaluation: ``folds`` refits, each tested on the next horizon.

    Fold ``k`` (1-based) trains on the series up to ``folds - k + 1`` horizons before its
    end and tests on the horizon that follows; the scaler and the model are refit per
    fold. Baselines are scored on the same periods.

    Returns:
        ``{"folds": [{"fold", "test_start", "metrics"}...], "mean": {method: {...}}}``.
    """
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 1:
        raise ConfigError(f"folds must be an integer >= 1, got {folds!r}.")
    c = make_config(config, **params)
    if c.id_column is not None:
        estimator: type[Forecaster] = GlobalForecaster
    else:
        estimator = Forecaster
    template = estimator(c)
    prepared = template.prepare(data)
    test = c.test_size or c.horizon
    _check_folds_fit(template, prepared, folds, test)
    results = []
    for fold in range(1, folds + 1):
        cut = (folds - fold) * test
        if c.id_column is None:
            part = prepared.values.iloc[: len(prepared.values) - cut]
            if fold == 1:
                template.split_sizes(len(part))  # too short: the error names what is needed
            span = part.index
        else:
            part = truncate(prepared, cut)
            span = max(part.values().values(), key=len).index
        model = estimator(c).fit(part, verbose=verbose)
        results.append(
            {
                "fold": fold,
                "test_start": str(span[-test]),
                "test_end": str(span[-1]),
                "metrics": model.metrics_,
            }
        )
    methods = [m for m in METHODS if all(m in r["metrics"] for r in results)]
    mean = {
        method: {
            key: float(np.nanmean([r["metrics"][method][key] for r in results]))
            if any(np.isfinite(r["metrics"][method][key]) for r in results)
            else float("nan")
            # The point metrics, then the interval metrics every fold has (coverage_80...).
            for key in _common_keys([r["metrics"][method] for r in results])
        }
        for method in methods
    }
    return {"folds": results, "mean": mean}


def _common_keys(metrics: list[dict[str, float]]) -> list[str]:
    keys = [key for key in metrics[0] if all(key in m for m in metrics)]
    point = ["mae", "rmse", "mape", "smape", "mase"]
    return point + [key for key in keys if key not in point]


def _check_folds_fit(template: Forecaster, prepared: Any, folds: int, test: int) -> None:
    """Refuses more folds than the series holds, saying how many fit: the earliest fold
    trains on the series less ``folds - 1`` test parts."""
    if isinstance(prepared, PreparedSeries):
        length = len(prepared.values)
    else:
        length = max(len(s) for s in prepared.values().values())  # the longest series
    cut = (folds - 1) * test
    if length - cut >= template.periods_needed(max(length - cut, 0)):
        return
    fit = 0
    while fit < folds and length - fit * test >= template.periods_needed(length - fit * test):
        fit += 1
    longest = "" if isinstance(prepared, PreparedSeries) else "longest "
    hint = f"At most {fit} folds fit: lower --folds" if fit else "No fold fits: give more data"
    raise ConfigError(
        f"--folds {folds} needs more history than the {longest}series has: its earliest fold "
        f"trains on the {length} periods less {folds - 1} test parts of {test} "
        f"({max(length - cut, 0)} periods), and one training needs "
        f"{template.periods_needed(max(length - cut, 0))}. {hint}, or lower --lookback or "
        "--horizon."
    )
