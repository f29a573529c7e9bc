"""Serving saved runs over HTTP: a FastAPI app that forecasts and classifies.

Runs are loaded once, when the app is made; every request then goes through one
compiled prediction function per model (a cached ``jax.jit`` of the model's
``stateless_call`` on the JAX backend). Requests are checked at the boundary: a bad body is
a 422, an unknown model a 404, a request over the configured limits a 413, a missing or
wrong API key a 401, and each error is a JSON object ``{"error": ..., "status": ...}`` that
says what to fix. Model names are keys of a dictionary of loaded runs, never paths.

Example:
    >>> from fastapi.testclient import TestClient  # doctest: +SKIP
    >>> app = create_app(load_runs(["runs/forecast", "complaints=runs/classify"]))
    >>> TestClient(app).post("/models/forecast/forecast").json()["forecast"]  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import hmac
import ipaddress
import json
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import Body, Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from rnnkit import persistence
from rnnkit.data.timeseries import PANDAS_RULES, future_index
from rnnkit.errors import ConfigError, RnnkitError, RunDirectoryError

API_KEY_HEADER = "X-API-Key"
API_KEY_ENV = "RNNKIT_API_KEY"
# Model names travel in URLs: letters, digits, dot, dash and underscore only, so a name can
# never be a path and never needs escaping.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
# Largest batch compiled as one shape; bigger batches are split into chunks of this size.
LARGEST_BUCKET = 256
LOG = logging.getLogger("rnnkit.serving")


# ----------------------------------------------------------------------- configuration
@dataclasses.dataclass(frozen=True)
class ServeLimits:
    """The largest request the server accepts; anything bigger is answered with a 413.

    Args:
        max_texts: texts in one ``classify`` request.
        max_text_length: characters in one text.
        max_history: periods in one ``forecast`` request's ``history``.

    Example:
        >>> ServeLimits(max_texts=64).max_texts
        64
    """

    max_texts: int = 256
    max_text_length: int = 10_000
    max_history: int = 10_000

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                flag = "--" + field.name.replace("_", "-")
                raise ConfigError(f"{flag} must be an integer >= 1, got {value!r}.")

    @property
    def max_body_bytes(self) -> int:
        """A byte cap on any request body, derived from the other limits.

        Generous enough for the largest valid request (a JSON escape such as ``\\u00e9``
        takes 6 bytes per character); it only stops a client from making the server read
        gigabytes before the per-field limits can answer.
        """
        texts = self.max_texts * (6 * self.max_text_length + 8)
        history = self.max_history * 200
        return max(texts, history) + 64 * 1024


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine.

    Example:
        >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
        (True, True, False)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, api_key: str | None) -> None:
    """Refuses to serve on a non-loopback address without an API key.

    A model on a network address without a key would answer anyone who can reach the
    machine, so this is an error rather than a warning.
    """
    if not is_loopback(host) and not api_key:
        raise ConfigError(
            f"--host {host} accepts connections from other machines, so an API key is "
            f"required: pass --api-key KEY or set {API_KEY_ENV}. Use --host 127.0.0.1 to "
            "serve this machine only."
        )


# ----------------------------------------------------------------------- loaded runs
class CompiledModel:
    """A Keras model's inference as one compiled function, for many small requests.

    ``model.predict`` builds a data pipeline on every call (about 0.5 ms before any
    arithmetic); ``predict_on_batch`` still converts the model state each time. On the
    JAX backend this jits ``model.stateless_call`` once, with the weights as device arrays,
    and pads each batch to a power of two so that at most nine shapes are ever compiled.
    Other backends fall back to ``predict_on_batch``.

    It offers the two methods the estimators call on their ``model_`` (``predict_on_batch``
    and ``predict``), so a loaded estimator serves through it unchanged.

    Example:
        >>> forecaster.model_ = CompiledModel(forecaster.model_)  # doctest: +SKIP
    """

    def __init__(self, model: Any) -> None:
        import keras

        self.model = model
        self._function = None
        if keras.backend.backend() == "jax":
            import jax

            # Copies: Keras may donate or replace its own buffers later.
            self._trainable = [jax.device_put(np.asarray(v)) for v in model.trainable_variables]
            self._non_trainable = [
                jax.device_put(np.asarray(v)) for v in model.non_trainable_variables
            ]

            def call(trainable, non_trainable, inputs):
                return model.stateless_call(trainable, non_trainable, inputs, training=False)[0]

            self._function = jax.jit(call)

    def predict_on_batch(self, inputs: np.ndarray) -> np.ndarray:
        """Outputs for one batch of at most ``LARGEST_BUCKET`` rows."""
        inputs = np.asarray(inputs)
        if self._function is None:
            return np.asarray(self.model.predict_on_batch(inputs))
        rows = len(inputs)
        size = 1 << max(rows - 1, 0).bit_length()
        if size != rows:
            padding = np.zeros((size - rows, *inputs.shape[1:]), dtype=inputs.dtype)
            inputs = np.concatenate([inputs, padding])
        outputs = self._function(self._trainable, self._non_trainable, inputs)
        return np.asarray(outputs)[:rows]

    def predict(self, inputs: np.ndarray, batch_size: int = LARGEST_BUCKET, verbose: int = 0):
        """Outputs for any number of rows, in chunks (same signature as ``keras.Model``)."""
        del verbose  # nothing to report: one compiled call per chunk
        size = max(1, min(int(batch_size), LARGEST_BUCKET))
        inputs = np.asarray(inputs)
        chunks = [self.predict_on_batch(inputs[i : i + size]) for i in range(0, len(inputs), size)]
        return np.concatenate(chunks) if chunks else np.zeros((0,), dtype="float32")


@dataclasses.dataclass
class LoadedRun:
    """A run loaded for serving: its name in URLs, its job and its estimator."""

    name: str
    job: str
    estimator: Any

    def describe(self) -> dict[str, Any]:
        """What ``GET /models`` says of this run (no file paths: they are the server's)."""
        estimator = self.estimator
        info: dict[str, Any] = {
            "name": self.name,
            "job": self.job,
            "config": estimator.config.to_dict(),
            "metrics": getattr(estimator, "metrics_", None),
        }
        if self.job == "forecast" and estimator.config.id_column is not None:
            ends = [s.index[-1] for s in estimator.series_.values()]
            info["series"] = len(ends)
            info["last_period"] = max(ends).isoformat()
        elif self.job == "forecast":
            info["last_period"] = estimator.series_.index[-1].isoformat()
        else:
            info["classes"] = list(estimator.classes_)
        return persistence._clean(info)


def parse_run_spec(spec: str) -> tuple[str, Path]:
    """``"name=path"`` or ``"path"`` (named after the directory) to ``(name, path)``.

    Example:
        >>> parse_run_spec("sales=runs/forecast")
        ('sales', PosixPath('runs/forecast'))
        >>> parse_run_spec("runs/complaints")
        ('complaints', PosixPath('runs/complaints'))
    """
    name, sep, path = spec.partition("=")
    if not sep or not NAME_PATTERN.match(name):  # a path that merely contains "="
        name, path = os.path.basename(os.path.abspath(spec)), spec
    if not NAME_PATTERN.match(name) or name in (".", ".."):
        raise ConfigError(
            f"Cannot name a model {name!r} (from {spec!r}): names are 1 to 64 letters, digits, "
            "'.', '-' or '_'. Choose one with NAME=RUN_DIR, e.g. sales=runs/forecast."
        )
    return name, Path(path)


def _job_of(path: Path) -> str:
    """The job recorded in a run's metadata, with open_run's messages for non-runs."""
    if not (path / "metadata.json").is_file():
        persistence.open_run(path, "forecast", ())  # raises: missing or not a run
    meta = persistence.read_json(path / "metadata.json")
    job = meta.get("job") if isinstance(meta, dict) else None
    if job not in ("forecast", "classify"):
        raise RunDirectoryError(
            f"'{path}' is not a forecast or classify run (metadata.json says job {job!r}). "
            "Give the --out directory of `rnnkit forecast train` or `rnnkit classify train`."
        )
    return job


def load_run(name: str, path: str | Path) -> LoadedRun:
    """Loads one run directory (with every check of ``Forecaster.load``) for serving."""
    from rnnkit.classification import TextClassifier
    from rnnkit.forecasting import Forecaster

    path = Path(path)
    job = _job_of(path)
    loader = Forecaster if job == "forecast" else TextClassifier
    try:
        estimator = loader.load(path)
    except RnnkitError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        # A run whose JSON files parse but lack fields (edited by hand, damaged).
        raise RunDirectoryError(
            f"Run directory '{path}' could not be loaded ({type(err).__name__}: {err}); it "
            "is damaged or was written by another program. Train again to recreate it."
        ) from err
    estimator.model_ = CompiledModel(estimator.model_)
    return LoadedRun(name, job, estimator)


def load_runs(specs: Sequence[str]) -> dict[str, LoadedRun]:
    """Loads every ``NAME=RUN_DIR`` or ``RUN_DIR`` in ``specs``; names must be unique.

    Raises:
        RunDirectoryError: a directory is missing, incomplete, unsafe, from a newer rnnkit
            or not an rnnkit run.
        ConfigError: no runs, a bad name or the same name twice.
    """
    if not specs:
        raise ConfigError("Give at least one run directory to serve.")
    runs: dict[str, LoadedRun] = {}
    for spec in specs:
        name, path = parse_run_spec(spec)
        if name in runs:
            raise ConfigError(
                f"Two runs are named {name!r}. Name them apart with NAME=RUN_DIR, e.g. "
                f"{name}-2={path}."
            )
        runs[name] = load_run(name, path)
    return runs


def warm_up(runs: dict[str, LoadedRun]) -> None:
    """Compiles each model's one-request shape, so the first request is not slow."""
    for run in runs.values():
        if run.job == "forecast":
            run.estimator.predict()
        else:
            run.estimator.predict_top_k(["warm up"], 1)


# ----------------------------------------------------------------------- request bodies
_STRICT = ConfigDict(extra="forbid")


class HistoryPoint(BaseModel):
    """One period's value, at the period's start time (ISO 8601)."""

    model_config = _STRICT
    time: Annotated[str, Field(strict=True, examples=["2024-05-01"])]
    value: Annotated[float, Field(strict=True, allow_inf_nan=False, examples=[1250.0])]


class ForecastRequest(BaseModel):
    """Recent per-period values to forecast from; the run's saved tail when omitted."""

    model_config = _STRICT
    history: list[HistoryPoint] | None = Field(
        default=None,
        description="Already aggregated values, one per period of the run's freq, oldest "
        "first, no gaps; at least `lookback` of them. Only the last `lookback` are used.",
    )
    id: Annotated[str, Field(strict=True, min_length=1, max_length=1000)] | None = Field(
        default=None,
        description="The series to forecast, for a run trained with --id-column (required "
        "there). With a history, a series the model has not seen is forecast too, scaled "
        "on that history.",
    )


class ForecastResponse(BaseModel):
    model: str
    dates: list[str]
    forecast: list[float]


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


# ----------------------------------------------------------------------- the app
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
    # is _Guard, which covers every path (docs included).
    key_scheme = APIKeyHeader(name=API_KEY_HEADER, auto_error=False)
    app = FastAPI(
        title="rnnkit",
        summary="Forecasts and text classifications from saved rnnkit runs.",
        version=_version(),
        dependencies=[] if api_key is None else [_documented(key_scheme)],
    )
    app.state.runs = runs
    app.state.limits = limits

    app.add_middleware(_Guard, api_key=api_key, max_body_bytes=limits.max_body_bytes)

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
        request: Annotated[ForecastRequest | None, Body()] = None,
        # A default, not Annotated: annotations are strings here and forecast_run is local.
        run: LoadedRun = Depends(forecast_run),  # noqa: B008
    ) -> dict[str, Any]:
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
                    f"uses the last {forecaster.config.window}).",
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
            values = forecaster._forecast_windows(series.to_numpy()[-c.window :][None, :])[0]
        else:
            values = forecaster.forecast_series(key, series.to_numpy())
        if not np.all(np.isfinite(values)):
            raise HTTPException(
                422,
                "The forecast is not finite: the history values are far outside the "
                "range this model was trained on. Check their units and scale.",
            )
        return {
            "model": name,
            "dates": [t.isoformat() for t in dates],
            "forecast": values.tolist(),
        }

    @app.post(
        "/models/{name}/classify",
        response_model=ClassifyResponse,
        summary="Label texts: best label, its probability and the top k labels of each.",
    )
    async def classify(
        request: ClassifyRequest,
        run: LoadedRun = Depends(classify_run),  # noqa: B008
    ) -> dict[str, Any]:
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

    return app


def _documented(scheme: APIKeyHeader):
    from fastapi import Security

    return Security(scheme)


class _Guard:
    """Pure ASGI middleware: the API key (401) and the body-size cap (413), before routing.

    Pure ASGI rather than ``BaseHTTPMiddleware``: it runs on every request, and this adds
    no task or stream per request.
    """

    def __init__(self, app: Any, api_key: str | None, max_body_bytes: int) -> None:
        self.app = app
        self.expected = None if api_key is None else api_key.encode("utf-8")
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if self.expected is not None:
            given = headers.get(API_KEY_HEADER.lower().encode("latin-1"), b"")
            # Constant-time comparison: the time taken does not reveal how much matched.
            if not hmac.compare_digest(given, self.expected):
                await _send_error(
                    send,
                    401,
                    f"Missing or wrong API key: send it in the {API_KEY_HEADER} header.",
                    [(b"www-authenticate", b"ApiKey")],
                )
                return
        too_large = (
            f"The request body is larger than {self.max_body_bytes} bytes. Send fewer "
            "texts or periods per request."
        )
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_body_bytes:
            await _send_error(send, 413, too_large)
            return
        received = 0

        async def counted() -> dict:
            # Bodies without a Content-Length (chunked) are counted as they arrive.
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body_bytes:
                raise HTTPException(413, too_large)  # FastAPI re-raises it to our handler
            return message

        await self.app(scope, counted, send)


async def _send_error(send: Any, status: int, message: str, headers: list | None = None) -> None:
    body = json.dumps({"error": message, "status": status}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _version() -> str:
    from rnnkit import __version__

    return __version__
