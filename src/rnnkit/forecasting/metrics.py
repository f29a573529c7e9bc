"""Forecast error metrics on the original scale.

MAPE skips periods whose actual value is zero (it is undefined there); the count skipped
is reported by :func:`forecast_metrics`. MASE divides the MAE by the in-sample MAE of the
seasonal naive forecast (lag ``m``) on the history before the test, as in Hyndman &
Koehler (2006) and the M4 competition.

:func:`verdict` says in one sentence which method wins the test part, as the reports and
``rnnkit forecast train`` print it first or last.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

FORECAST_METRICS = ("mae", "rmse", "mape", "smape", "mase")


def mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean(np.abs(actual - predicted)))


def rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.sqrt(np.mean((actual - predicted) ** 2)))


def mape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute percentage error in percent, over non-zero actuals (NaN if none)."""
    nonzero = actual != 0
    if not nonzero.any():
        return float("nan")
    return float(100 * np.mean(np.abs((actual[nonzero] - predicted[nonzero]) / actual[nonzero])))


def smape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Symmetric MAPE in percent (0 to 200); a pair of zeros counts as no error."""
    denominator = np.abs(actual) + np.abs(predicted)
    ratio = np.divide(
        2 * np.abs(actual - predicted),
        denominator,
        out=np.zeros_like(denominator, dtype="float64"),
        where=denominator > 0,
    )
    return float(100 * np.mean(ratio))


def mase_scale(history: np.ndarray, season: int) -> float:
    """In-sample MAE of the seasonal naive forecast; falls back to lag 1 on short history."""
    lag = season if len(history) > season else 1
    if len(history) <= lag:
        return float("nan")
    scale = float(np.mean(np.abs(history[lag:] - history[:-lag])))
    return scale if scale > 0 else float("nan")


def forecast_metrics(actual: np.ndarray, predicted: np.ndarray, scale: float) -> dict[str, float]:
    """MAE, RMSE, MAPE, sMAPE and MASE of one method over all test points."""
    actual = np.asarray(actual, dtype="float64").ravel()
    predicted = np.asarray(predicted, dtype="float64").ravel()
    error = mae(actual, predicted)
    return {
        "mae": error,
        "rmse": rmse(actual, predicted),
        "mape": mape(actual, predicted),
        "smape": smape(actual, predicted),
        "mase": error / scale if np.isfinite(scale) else float("nan"),
    }


#: Names of the methods in a verdict (a further baseline is named by its key).
METHOD_NAMES = {
    "model": "the network",
    "network": "the network alone",
    "naive": "naive",
    "seasonal_naive": "seasonal naive",
    "auto_ets": "AutoETS",
    "auto_theta": "AutoTheta",
    "auto_arima": "AutoARIMA",
    # Runs saved before the statsforecast baselines.
    "arima": "ARIMA",
    "theta": "theta",
}
#: Errors closer than this share of the best baseline's are a tie.
TIE = 0.01


def _figure(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) >= 0.1 else f"{value:.3g}"


def _finite(metrics: Mapping[str, Mapping[str, float]], name: str) -> dict[str, float]:
    values = {m: v.get(name) for m, v in metrics.items()}
    return {m: float(v) for m, v in values.items() if v is not None and np.isfinite(v)}


def _ranked_metric(metrics: Mapping[str, Mapping[str, float]]) -> tuple[str, dict[str, float]]:
    """MASE where the model and a baseline have one, else MAE; with every finite value."""
    for name in ("mase", "mae"):
        values = _finite(metrics, name)
        if "model" in values and len(values) > 1:
            return name, values
    return "mae", _finite(metrics, "mae")


#: Methods scored beside the model that are not baselines: the network alone, when the
#: model's forecast averages it with a statistical model's.
NOT_BASELINES = ("model", "network")


def beats_best_baseline(metrics: Mapping[str, Mapping[str, float]]) -> bool | None:
    """Whether the model's error (MASE, else MAE) is below every baseline's; ``None``
    when there is nothing finite to compare."""
    _, values = _ranked_metric(metrics)
    rivals = [v for m, v in values.items() if m not in NOT_BASELINES]
    if "model" not in values or not rivals:
        return None
    return values["model"] < min(rivals)


def verdict(
    metrics: Mapping[str, Mapping[str, float]],
    *,
    horizon: int,
    test_points: int,
    origins: int,
    by_series: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None,
    model_name: str = "the network",
) -> str:
    """One sentence: which method wins on the test part and by how much (MASE, or MAE
    where MASE is not a finite number), then, when they say something, how many series the
    network wins and whether the test is too small to tell.

    Args:
        metrics: ``{method: {"mase": ..., "mae": ...}}`` as in ``metrics.json``, the
            network under ``"model"``.
        horizon: periods forecast from each origin.
        test_points: forecast points scored (over every series).
        origins: forecast origins scored (over every series).
        by_series: the per-series metrics of a global model.
        model_name: what the model's forecast is, as the sentence names it.

    Example:
        >>> verdict({"model": {"mase": 0.82, "mae": 4.1},
        ...          "seasonal_naive": {"mase": 0.95, "mae": 4.8}},
        ...         horizon=7, test_points=28, origins=4)
        'The network wins on the test part: MASE 0.82 against 0.95 for seasonal naive, the best baseline (14% lower).'
    """  # noqa: E501
    name, values = _ranked_metric(metrics)
    label = name.upper()
    baselines = {m: v for m, v in values.items() if m not in NOT_BASELINES}
    if "model" not in values or not baselines:
        sentence = f"No {label} to compare on the test part: the forecasts are not finite numbers."
    else:
        model = values["model"]
        best = min(baselines, key=baselines.get)
        rival = baselines[best]
        who = METHOD_NAMES.get(best, best)
        if abs(model - rival) <= TIE * abs(rival):
            sentence = (
                f"{_capital(model_name)} and {who}, the best baseline, tie on the test part: "
                f"{label} {_figure(model)} against {_figure(rival)}."
            )
        elif model < rival:
            lower = 100 * (rival - model) / rival
            sentence = (
                f"{_capital(model_name)} wins on the test part: {label} {_figure(model)} "
                f"against {_figure(rival)} for {who}, the best baseline ({lower:.0f}% lower)."
            )
        else:
            sentence = (
                f"{_capital(who)} beats {model_name} on the test part ({label} "
                f"{_figure(rival)} against {_figure(model)}): use {who}, or give the network "
                "more data."
            )
    if by_series:
        outcomes = [beats_best_baseline(m) for m in by_series.values()]
        compared = [o for o in outcomes if o is not None]
        sentence += (
            f" Series by series, {model_name} beats the best baseline on {sum(compared)} of "
            f"{len(compared)} series."
        )
    if test_points < 2 * horizon or origins < 2:
        sentence += (
            f" The test is too small to judge: {test_points} points from {origins} forecast "
            f"origin{'' if origins == 1 else 's'} (horizon {horizon}); a larger --test-size "
            "tells the methods apart more reliably."
        )
    return sentence


def evaluation_verdict(evaluation: Mapping[str, Any], horizon: int) -> str:
    """:func:`verdict` of a scoring (``Forecaster.evaluation_`` or a global model's), from
    its metrics and what its details say of the test size."""
    details = evaluation["details"]
    by_series = evaluation.get("by_series")
    if by_series is not None:
        origins = sum(len(d["origins"]) for d in details["by_series"].values())
    else:
        origins = len(details["origins"])
    choice = details.get("network")
    sentence = verdict(
        evaluation["metrics"],
        horizon=horizon,
        test_points=details["test_points"],
        origins=origins,
        by_series=by_series,
        model_name=model_name(choice),
    )
    return sentence + network_choice_sentence(choice)


def _capital(text: str) -> str:
    return text[0].upper() + text[1:]


def model_name(choice: Mapping[str, Any] | None) -> str:
    """What the model's forecast is: the network's, or its average with a statistical
    model's where the validation origins chose that.

    Example:
        >>> model_name({"combined_with": "auto_ets", "combination_weight": 0.5})
        'the network averaged with AutoETS'
    """
    weight = (choice or {}).get("combination_weight", 0.0)
    if not weight:
        return "the network"
    other = choice["combined_with"]
    return f"the network averaged with {METHOD_NAMES.get(other, other)}"


def network_choice_sentence(choice: Mapping[str, Any] | None) -> str:
    """What the validation windows kept of the network, when it is not all of it, and
    whether they averaged it with a statistical model.

    Example:
        >>> network_choice_sentence({"base": "seasonal_naive", "correction_weight": 0.0})
        ' The validation windows dropped the trained correction: the forecasts are the seasonal naive forecast alone.'
    """  # noqa: E501
    return _correction_sentence(choice) + _combination_sentence(choice)


def _correction_sentence(choice: Mapping[str, Any] | None) -> str:
    if not choice or choice.get("base", "none") == "none":
        return ""
    base = choice["base"].replace("_", " ")
    weight = choice.get("correction_weight", 1.0)
    if weight == 0.0:
        return (
            " The validation windows dropped the trained correction: the forecasts are the "
            f"{base} forecast alone."
        )
    if weight != 1.0:
        return (
            f" The validation windows kept {weight:g} of the trained correction: the forecasts "
            f"average the network's and the {base} forecast."
        )
    return ""


def _combination_sentence(choice: Mapping[str, Any] | None) -> str:
    """Example:
    >>> _combination_sentence({"combined_with": "auto_ets", "combination_weight": 0.5,
    ...     "combination_chosen_on": "5 forecast origins of the validation part"})
    " Forecasts from 5 forecast origins of the validation part chose the mean of the network's forecast and AutoETS's: the model row scores that mean, the network row the network alone."
    """  # noqa: E501
    if not choice or not choice.get("combination_weight"):
        return ""
    other = METHOD_NAMES.get(choice["combined_with"], choice["combined_with"])
    where = choice.get("combination_chosen_on") or "the validation part"
    return (
        f" Forecasts from {where} chose the mean of the network's forecast and {other}'s: "
        "the model row scores that mean, the network row the network alone."
    )
