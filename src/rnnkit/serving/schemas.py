"""The request and response bodies of the HTTP API (pydantic models, strict: unknown
fields are refused)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

_STRICT = ConfigDict(extra="forbid")


class HistoryPoint(BaseModel):
    """One period's value, at the period's start time (ISO 8601)."""

    model_config = _STRICT
    time: Annotated[str, Field(strict=True, examples=["2024-05-01"])]
    value: Annotated[float, Field(strict=True, allow_inf_nan=False, examples=[1250.0])]
    covariates: dict[str, Annotated[float, Field(strict=True, allow_inf_nan=False)]] | None = Field(
        default=None,
        description="The period's value of every covariate column, for a run trained "
        "with --future-columns or --past-columns.",
        examples=[{"promo": 1.0}],
    )


class FuturePoint(BaseModel):
    """One period forecast: its start time and the future columns' values."""

    model_config = _STRICT
    time: Annotated[str, Field(strict=True, examples=["2024-05-02"])]
    covariates: dict[str, Annotated[float, Field(strict=True, allow_inf_nan=False)]] = Field(
        examples=[{"promo": 0.0}]
    )


class ForecastRequest(BaseModel):
    """Recent per-period values to forecast from; the run's saved tail when omitted."""

    model_config = _STRICT
    history: list[HistoryPoint] | None = Field(
        default=None,
        description="Already aggregated values, one per period of the run's freq, oldest "
        "first, no gaps; at least `lookback` of them. Only the last `lookback` are used.",
    )
    future: list[FuturePoint] | None = Field(
        default=None,
        description="For a run trained with --future-columns: their values for every "
        "period forecast (the horizon), oldest first.",
    )
    id: Annotated[str, Field(strict=True, min_length=1, max_length=1000)] | None = Field(
        default=None,
        description="The series to forecast, for a run trained with --id-column (required "
        "there). With a history, a series the model has not seen is forecast too, scaled "
        "on that history.",
    )
    static: (
        dict[
            Annotated[str, Field(max_length=1000)],
            Annotated[str, Field(strict=True, max_length=1000)]
            | Annotated[float, Field(strict=True, allow_inf_nan=False)],
        ]
        | None
    ) = Field(
        default=None,
        description="For a run trained with --static-columns: the series' value of each "
        "static column, needed for a series the model has not seen (a trained series uses "
        "its saved values).",
        examples=[{"region": "north", "floor_area": 120.0}],
    )


class ForecastResponse(BaseModel):
    model: str
    dates: list[str]
    forecast: list[float]
    quantiles: dict[str, list[float]] = Field(
        default_factory=dict,
        description="The prediction interval: per quantile (`q0.1`, `q0.5`, `q0.9`), one "
        "value per date. Empty for a run trained without intervals.",
        examples=[{"q0.1": [1010.0], "q0.5": [1240.0], "q0.9": [1490.0]}],
    )


class ClassifyRequest(BaseModel):
    """Texts to label, raw (they are cleaned exactly as in training)."""

    model_config = _STRICT
    texts: list[Annotated[str, Field(strict=True)]] = Field(min_length=1)
    top_k: Annotated[int, Field(strict=True, ge=1)] = 1


class LabelProbability(BaseModel):
    label: str
    probability: float


class ClassifyResponse(BaseModel):
    model: str
    labels: list[str]
    probabilities: list[float]
    top_k: list[list[LabelProbability]]


EXAMPLES = {
    "forecast": '{"history": [{"time": "2024-05-01", "value": 1250.0}, ...]} or no body '
    '(and "id": "..." for a model of many series)',
    "classify": '{"texts": ["my card was stolen"], "top_k": 1}',
}
