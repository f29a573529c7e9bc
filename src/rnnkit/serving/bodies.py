"""Request bodies parsed and validated so that no body can stall the server.

FastAPI's own body handling parses JSON on the event loop and then validates every item:
a 2 MB body of a million ``{}`` took 12 s (two million errors, gigabytes of memory) while
``/health`` waited. Here a body with more commas than a valid request can hold is
refused (413) before it is parsed; any other is validated from its bytes by pydantic
against models whose lists are capped at the server's limits, so an over-long list is one
``too_long`` error (a 413 too), however many items it holds; and a large body is
validated in a worker thread (pydantic's JSON parser lets the event loop run meanwhile).
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from rnnkit.serving.guard import ServeLimits
from rnnkit.serving.schemas import ClassifyRequest, ForecastRequest, HistoryPoint

M = TypeVar("M", bound=BaseModel)

# Bodies up to this size are validated on the event loop: a thread hop costs more than
# validating them (a request of a few texts or periods takes well under a millisecond).
INLINE_BODY_BYTES = 64 * 1024


def limited_models(limits: ServeLimits) -> tuple[type[ForecastRequest], type[ClassifyRequest]]:
    """The request models of a server, their lists capped at ``limits``.

    Example:
        >>> forecast, classify = limited_models(ServeLimits(max_texts=2))
        >>> classify.model_fields["texts"].metadata[-1].max_length
        2
    """

    class LimitedForecastRequest(ForecastRequest):
        history: Annotated[list[HistoryPoint], Field(max_length=limits.max_history)] | None = (
            ForecastRequest.model_fields["history"]
        )

    class LimitedClassifyRequest(ClassifyRequest):
        texts: list[Annotated[str, Field(strict=True)]] = Field(
            min_length=1, max_length=limits.max_texts
        )

    return LimitedForecastRequest, LimitedClassifyRequest


async def validate_body(body: bytes, model: type[M], limits: ServeLimits) -> M:
    """``body`` validated as ``model``; a large body in a worker thread.

    Raises:
        HTTPException: 413 for a list longer than the server's limits.
        RequestValidationError: anything else wrong (the app's 422 handler words it).
    """
    _count_items(body, issubclass(model, ForecastRequest), limits)
    if len(body) <= INLINE_BODY_BYTES:
        result = _validate(body, model, limits)
    else:
        result = await run_in_threadpool(_validate, body, model, limits)
    if isinstance(result, Exception):
        raise result
    return result


def _count_items(body: bytes, forecast: bool, limits: ServeLimits) -> None:
    """Refuses, before any parsing, a body with more commas than a valid request can hold.

    Every JSON value but the first of an array or object follows a comma, so the commas
    bound the items. A forecast has two per history period, and one more per covariate
    value (room is left for six a period; an ``id``, the ``future`` periods of a short
    horizon or a bad time string take a few more); in a classify request they may also
    stand inside the texts, at most one per character. Counting them takes a millisecond
    for the largest body, where parsing a million items takes a tenth of a second of the
    event loop's time.
    """
    commas = body.count(b",")
    if forecast:
        allowed = 8 * limits.max_history + 1024
        what = f"a forecast request holds at most {limits.max_history} history periods"
    else:
        allowed = limits.max_texts * (limits.max_text_length + 1) + 1024
        what = f"a classify request holds at most {limits.max_texts} texts"
    if commas > allowed:
        raise HTTPException(
            413,
            f"The request body holds {commas + 1} or more JSON items; {what}. Send fewer "
            "per request.",
        )


def _validate(body: bytes, model: type[M], limits: ServeLimits) -> M | Exception:
    """The model, or the error to raise. The ValidationError is dropped here, in the
    thread that made it: it holds the body's items, and freeing a million of them on the
    event loop would stall it."""
    try:
        return model.model_validate_json(body)
    except ValidationError as err:
        error = _as_http_error(err, limits)
    return error


def _as_http_error(err: ValidationError, limits: ServeLimits) -> Exception:
    errors = err.errors(include_url=False, include_input=False)
    for error in errors:
        if error["type"] != "too_long" or tuple(error["loc"]) not in (("history",), ("texts",)):
            continue
        actual = error.get("ctx", {}).get("actual_length")
        if error["loc"] == ("texts",):
            return HTTPException(
                413,
                f"{actual} texts sent; this server accepts at most {limits.max_texts} per "
                "request. Split them into smaller requests.",
            )
        return HTTPException(
            413,
            f"history has {actual} periods; this server accepts at most "
            f"{limits.max_history}. Send only the recent periods.",
        )
    # Located under "body", as FastAPI locates the errors of the bodies it validates. All
    # of them, for the count in the message: the capped lists bound how many there are.
    located: list[dict[str, Any]] = [{**error, "loc": ("body", *error["loc"])} for error in errors]
    return RequestValidationError(located)
