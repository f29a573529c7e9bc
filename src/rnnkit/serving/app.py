"""Serving saved runs over HTTP: a FastAPI app that forecasts and classifies.

Runs are loaded once, when the app is made; every request then goes through one
compiled prediction function per model (a cached ``jax.jit`` of the model's
``stateless_call`` on the JAX backend). Requests are checked at the boundary: a bad body is
a 422, an unknown model a 404, a request over the configured limits a 413, a missing or
wrong API key a 401, and each error is a JSON object ``{"error": ..., "status": ...}`` that
says what to fix. Model names are keys of a dictionary of loaded runs, never paths.

Example:
    >>> from fastapi.testclient import TestClient  # doctest: +SKIP
    >>> app = create_app(load_runs(["runs/forecast", "complaints=runs/classify"]))  # doctest: +SKIP
    >>> TestClient(app).post("/models/forecast/forecast").json()["forecast"]  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from fastapi import Depends, FastAPI, HTTPException, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from starlette.exceptions import HTTPException as StarletteHTTPException

from rnnkit import __version__
from rnnkit.data.timeseries import PANDAS_RULES, future_index
from rnnkit.errors import RnnkitError
from rnnkit.forecasting.intervals import quantile_name
from rnnkit.serving.bodies import limited_models, validate_body
from rnnkit.serving.guard import API_KEY_HEADER, Guard, ServeLimits
from rnnkit.serving.runs import LoadedRun
from rnnkit.serving.schemas import (
    EXAMPLES,
    ClassifyRequest,
    ClassifyResponse,
    ForecastRequest,
    ForecastResponse,
    HistoryPoint,
)

LOG = logging.getLogger("rnnkit.serving")


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, "status": status, **extra}, status_code=status)


def _validation_message(request: Request, errors: Sequence[dict[str, Any]]) -> str:
    parts = []
    for err in errors[:5]:
        location = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        detail = err.get("msg", "invalid")
        if err.get("type") == "json_invalid":
            detail = f"the body is not valid JSON ({err.get('ctx', {}).get('error', '')})"
            location = "body"
        parts.append(f"{location}: {detail}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    job = request.url.path.rstrip("/").rsplit("/", 1)[-1]
    example = f" Send {EXAMPLES[job]}." if job in EXAMPLES else ""
    return "Invalid request: " + "; ".join(parts) + more + "." + example


def _series_id(request: ForecastRequest | None, forecaster: Any) -> str | None:
    """The series a request names: required by a global run, refused by a single one."""
    key = None if request is None else request.id
    id_column = forecaster.config.id_column
    if id_column is None:
        if key is not None:
            raise HTTPException(
                422, "id: this model forecasts one series (it has no id column); leave id out."
            )
        return None
    known = forecaster.series_
    if key is None:
        raise HTTPException(
            422,
            f"id is required: this model forecasts {len(known)} series, one per "
            f'{id_column} (e.g. {next(iter(known))!r}). Send {{"id": ...}}; GET /models '
            "lists the model's configuration.",
        )
    if key not in known and (request.history is None):
        raise HTTPException(
            404,
            f"The model has no series with {id_column} {key!r}. Send its history to forecast "
            "a new series, or one of the trained ids.",
        )
    return key


def _history_series(points: list[HistoryPoint], forecaster: Any) -> pd.Series:
    """The request's history as a regular series of the run's frequency, or a 422."""

    c = forecaster.config
    if len(points) < c.window:
        raise HTTPException(
            422,
            f"history has {len(points)} periods; this model needs at least its lookback, "
            f"{c.window}. Send more periods, or no body to forecast from the saved data.",
        )
    times = pd.to_datetime(
        pd.Series([p.time for p in points]), errors="coerce", format="ISO8601", utc=True
    )
    bad = np.flatnonzero(times.isna().to_numpy())
    if len(bad):
        raise HTTPException(
            422,
            f"history[{bad[0]}].time {points[bad[0]].time!r} is not an ISO 8601 date or time "
            f"({len(bad)} such). Use e.g. 2024-05-01 or 2024-05-01T13:00:00Z.",
        )
    index = pd.DatetimeIndex(times.dt.tz_localize(None))
    offset = pd.tseries.frequencies.to_offset(PANDAS_RULES[c.freq])
    expected = pd.date_range(index[0], periods=len(index), freq=offset)
    first = index[0]
    on_offset = offset.is_on_offset(first) and (c.freq == "H" or first == first.normalize())
    if not on_offset or not index.equals(expected):
        position = 0 if not on_offset else int(np.argmax(index != expected))
        raise HTTPException(
            422,
            f"history[{position}].time is {index[position]}, expected "
            f"{expected[position] if on_offset else 'the start of a period'}: history must be "
            f"one value per period of the model's freq {c.freq!r} ({PANDAS_RULES[c.freq]} in "
            "pandas), labelled by the period start, oldest first, with no gaps. Aggregate "
            "the rows per period first.",
        )
    values = np.array([p.value for p in points], dtype="float64")
    return pd.Series(values, index=index.rename(c.time_column), name=c.target_column)


def _covariates(
    request: ForecastRequest | None,
    forecaster: Any,
    series: pd.Series,
    dates: pd.DatetimeIndex,
    key: str | None = None,
) -> np.ndarray | None:
    """The covariates of the request's window and horizon (see
    :meth:`Forecaster.forecast_covariates`), or a 422 naming what is missing; ``key``
    the series of a global run."""
    c = forecaster.config
    columns = list(c.covariate_aggs)
    if not columns:
        return None
    if request is not None and request.history is not None:
        rows = []
        for i, point in enumerate(request.history):
            missing = [k for k in columns if k not in (point.covariates or {})]
            if missing:
                raise HTTPException(
                    422,
                    f"history[{i}].covariates has no {missing[0]!r}: this model reads the "
                    f"covariate columns {', '.join(columns)}; give each period's values.",
                )
            rows.append([point.covariates[k] for k in columns])
        history = pd.DataFrame(rows, index=series.index, columns=columns)
    else:
        history = forecaster.covariates_ if key is None else forecaster.covariates_[key]
    future = None
    if c.future_columns:
        points = request.future if request is not None else None
        if points is None or len(points) != len(dates):
            sent = 0 if points is None else len(points)
            raise HTTPException(
                422,
                f"future has {sent} periods; this model reads the future columns "
                f"{', '.join(c.future_columns)} and needs their values for each of the "
                f"{len(dates)} periods forecast, from {dates[0].isoformat()}.",
            )
        for i, (point, date) in enumerate(zip(points, dates)):
            when = pd.to_datetime(point.time, errors="coerce", format="ISO8601", utc=True)
            if pd.isna(when) or when.tz_localize(None) != date:
                raise HTTPException(
                    422,
                    f"future[{i}].time is {point.time!r}, expected {date.isoformat()}: one "
                    "point per period forecast, oldest first.",
                )
            missing = [k for k in c.future_columns if k not in point.covariates]
            if missing:
                raise HTTPException(
                    422, f"future[{i}].covariates has no {missing[0]!r}: give every future column."
                )
        future = pd.DataFrame(
            {
                c.time_column: dates,
                **{k: [p.covariates[k] for p in points] for k in c.future_columns},
            }
        )
    return forecaster.forecast_covariates(history, dates, future)


def create_app(
    runs: dict[str, LoadedRun],
    limits: ServeLimits | None = None,
    api_key: str | None = None,
) -> FastAPI:
    """The FastAPI app serving ``runs`` (from :func:`load_runs`).

    Args:
        runs: loaded runs by name.
        limits: request limits (413 beyond them).
        api_key: when given, every request must carry it in the ``X-API-Key`` header.

    Example:
        >>> app = create_app(load_runs(["runs/forecast"]), api_key="s3cret")  # doctest: +SKIP
        >>> uvicorn.run(app, host="127.0.0.1", port=8000)  # doctest: +SKIP
    """
    limits = limits or ServeLimits()
    # Declared so that /docs shows the key and its "Authorize" button; the check itself
    # is Guard, which covers every path (docs included).
    key_scheme = APIKeyHeader(name=API_KEY_HEADER, auto_error=False)
    app = FastAPI(
        title="rnnkit",
        summary="Forecasts and text classifications from saved rnnkit runs.",
        version=__version__,
        dependencies=[] if api_key is None else [_documented(key_scheme)],
    )
    app.state.runs = runs
    app.state.limits = limits

    app.add_middleware(Guard, api_key=api_key, max_body_bytes=limits.max_body_bytes, limits=limits)
    forecast_model, classify_model = limited_models(limits)

    _add_error_handlers(app)

    # Dependencies run before the body is validated, so an unknown model is a 404 whatever
    # the body; async because a dict lookup needs no worker thread.
    # The endpoints are `async def` although they compute: a request takes a millisecond or
    # a few, and running it on the event loop avoids a thread hop per request and threads
    # fighting over the GIL. With worker threads (plain `def`), a first bench_serve.py run
    # (httpx clients) went from 307 forecasts/s at 1 client down to 133 at 64; on the loop,
    # throughput rises with clients instead.
    def lookup(name: str, job: str) -> LoadedRun:
        run = runs.get(name)
        if run is None:
            known = ", ".join(sorted(runs)) or "none"
            raise HTTPException(404, f"No model named {name!r}. Loaded models: {known}.")
        if run.job != job:
            raise HTTPException(
                404,
                f"Model {name!r} is a {run.job} model; use POST /models/{name}/{run.job}.",
            )
        return run

    async def forecast_run(name: str) -> LoadedRun:
        return lookup(name, "forecast")

    async def classify_run(name: str) -> LoadedRun:
        return lookup(name, "classify")

    @app.get("/health", summary="Liveness: the server is up and its models are loaded.")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "models": len(runs)}

    @app.get("/models", summary="Each loaded run: name, job, config and test metrics.")
    async def models() -> dict[str, Any]:
        return {"models": [run.describe() for run in runs.values()]}

    @app.post(
        "/models/{name}/forecast",
        response_model=ForecastResponse,
        summary="Forecast the horizon after the history (default: after the saved data).",
    )
    async def forecast(
        http: Request,
        # A default, not Annotated: annotations are strings here and forecast_run is local.
        run: LoadedRun = Depends(forecast_run),  # noqa: B008
    ) -> dict[str, Any]:
        body = await http.body()
        request = None
        if body.strip() not in (b"", b"null"):  # no body: the saved tail
            request = await validate_body(body, forecast_model, limits)
        return _forecast(run, request, limits)

    @app.post(
        "/models/{name}/classify",
        response_model=ClassifyResponse,
        summary="Label texts: best label, its probability and the top k labels of each.",
    )
    async def classify(
        http: Request,
        run: LoadedRun = Depends(classify_run),  # noqa: B008
    ) -> dict[str, Any]:
        request = await validate_body(await http.body(), classify_model, limits)
        return _classify(run, request, limits)

    _document_bodies(app)
    return app


def _document_bodies(app: FastAPI) -> None:
    """Puts the request models in the OpenAPI schema: the endpoints read their bodies
    themselves (see :mod:`rnnkit.serving.bodies`), so FastAPI does not know them."""
    bodies = {"forecast": (ForecastRequest, False), "classify": (ClassifyRequest, True)}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for job, (model, required) in bodies.items():
                model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(model_schema.pop("$defs", {}))
                components[model.__name__] = model_schema
                schema["paths"][f"/models/{{name}}/{job}"]["post"]["requestBody"] = {
                    "required": required,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{model.__name__}"}
                        }
                    },
                }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_error_handlers(app: FastAPI) -> None:
    """Every error as ``{"error": ..., "status": ...}``, with a message saying what to fix."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        details = [
            {"location": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg")}
            for e in errors[:20]
        ]
        return _error(422, _validation_message(request, errors), details=details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = (
                f"No such path {request.url.path!r}. See GET /models for the models and "
                "/docs for the endpoints."
            )
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}. See /docs."
        return _error(exc.status_code, message)

    @app.exception_handler(RnnkitError)
    async def rnnkit_error(request: Request, exc: RnnkitError) -> JSONResponse:
        return _error(422, " ".join(str(exc).split()))

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        LOG.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error(500, "Internal error in rnnkit (a bug): see the server log.")


def _forecast(
    run: LoadedRun, request: ForecastRequest | None, limits: ServeLimits
) -> dict[str, Any]:
    """The ``forecast`` endpoint: the horizon after the request's history (or the saved
    tail), with a 4xx naming what to fix."""
    name = run.name
    forecaster = run.estimator
    series = None
    key = _series_id(request, forecaster)
    if request is not None and request.history is not None:
        if len(request.history) > limits.max_history:
            raise HTTPException(
                413,
                f"history has {len(request.history)} periods; this server accepts at "
                f"most {limits.max_history}. Send only the recent periods (the model "
                f"uses the last {forecaster.periods_used_}).",
            )
        series = _history_series(request.history, forecaster)
    c = forecaster.config
    if series is None:
        # The saved tail: at least `lookback` periods (of the series, in a global run).
        series = forecaster.series_ if key is None else forecaster.series_[key]
    try:
        dates = future_index(series.index[-1], c.freq, c.horizon)
    except (pd.errors.OutOfBoundsDatetime, OverflowError) as err:
        raise HTTPException(
            422,
            f"The forecast dates fall beyond the dates pandas supports ({err}). "
            "Send a history that ends earlier.",
        ) from None
    # The estimator's own window-to-forecast step (what predict() calls), without
    # predict()'s DataFrames: a third of the time per request.
    if key is None:
        window = series.to_numpy()[-c.window :][None, :]
        covariates = _covariates(request, forecaster, series, dates)
        values = forecaster.forecast_windows(window, dates[:1], covariates)
        # Averaged with the statistical model's where the run chose that (as predict()).
        values = forecaster.combined(series.to_numpy(), [len(series)], values)[0]
        bands = forecaster.forecast_quantiles(window, values[None, :])[0]
    else:
        static = None if request is None else request.static
        if static is not None and not c.static_columns:
            raise HTTPException(
                422, "static: this model reads no static columns (--static-columns); leave it out."
            )
        covariates = _covariates(request, forecaster, series, dates, key)
        values = forecaster.forecast_series(key, series.to_numpy(), dates[0], static, covariates)
        bands = forecaster.series_quantiles(key, series.to_numpy(), values)
    if not (np.all(np.isfinite(values)) and np.all(np.isfinite(bands))):
        raise HTTPException(
            422,
            "The forecast is not finite: the history values are far outside the "
            "range this model was trained on. Check their units and scale.",
        )
    return {
        "model": name,
        "dates": [t.isoformat() for t in dates],
        "forecast": values.tolist(),
        "quantiles": {
            quantile_name(q): band.tolist() for q, band in zip(forecaster.quantiles_, bands)
        },
    }


def _classify(run: LoadedRun, request: ClassifyRequest, limits: ServeLimits) -> dict[str, Any]:
    """The ``classify`` endpoint: the best label and the top k of each text, with a 413
    beyond the limits."""
    name = run.name
    texts = request.texts
    if len(texts) > limits.max_texts:
        raise HTTPException(
            413,
            f"{len(texts)} texts sent; this server accepts at most "
            f"{limits.max_texts} per request. Split them into smaller requests.",
        )
    too_long = [i for i, t in enumerate(texts) if len(t) > limits.max_text_length]
    if too_long:
        raise HTTPException(
            413,
            f"texts[{too_long[0]}] has {len(texts[too_long[0]])} characters "
            f"({len(too_long)} text(s) too long); this server accepts at most "
            f"{limits.max_text_length}. Shorten them (the model reads only the first "
            f"{run.estimator.sequence_length_} words anyway).",
        )
    best = run.estimator.predict_top_k(texts, request.top_k)
    return {
        "model": name,
        "labels": [b[0][0] for b in best],
        "probabilities": [b[0][1] for b in best],
        "top_k": [[{"label": lab, "probability": p} for lab, p in b] for b in best],
    }


def _documented(scheme: APIKeyHeader):
    return Security(scheme)
