"""``rnnkit serve``: forecasts and classifications over HTTP from saved runs."""

from __future__ import annotations

from typing import Annotated

import typer

from rnnkit.cli.errors import info, user_errors
from rnnkit.serving.guard import API_KEY_ENV, API_KEY_HEADER, ServeLimits

_L = ServeLimits()

RunDirs = Annotated[
    list[str],
    typer.Argument(
        help="Run directories to serve, each RUN_DIR (named after the directory) or NAME=RUN_DIR.",
        show_default=False,
    ),
]


@user_errors
def serve(
    run_dirs: RunDirs,
    host: Annotated[
        str, typer.Option(help="Address to listen on. Anything but loopback requires --api-key.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar=API_KEY_ENV,
            show_default=False,
            help=f"Require this key in the {API_KEY_HEADER} header of every request.",
        ),
    ] = None,
    max_texts: Annotated[
        int, typer.Option(help="Most texts per classify request (413 beyond).")
    ] = _L.max_texts,
    max_text_length: Annotated[
        int, typer.Option(help="Most characters per text (413 beyond).")
    ] = _L.max_text_length,
    max_history: Annotated[
        int, typer.Option(help="Most periods in a forecast request's history (413 beyond).")
    ] = _L.max_history,
    access_log: Annotated[bool, typer.Option(help="Log one line per request.")] = True,
    keep_alive: Annotated[
        int,
        typer.Option(
            min=1,
            help="Seconds an idle keep-alive connection stays open. Longer than the "
            "clients' and proxies' own idle timeouts, so that the server never closes a "
            "connection just as a client sends on it.",
        ),
    ] = 75,
) -> None:
    """Serve saved runs over HTTP (FastAPI): /health, /models, forecast, classify, /docs."""
    import uvicorn

    from rnnkit.serving.app import create_app
    from rnnkit.serving.guard import check_exposure
    from rnnkit.serving.runs import load_runs, warm_up

    check_exposure(host, api_key)
    limits = ServeLimits(max_texts, max_text_length, max_history)
    runs = load_runs(run_dirs)
    warm_up(runs)
    app = create_app(runs, limits, api_key=api_key or None)
    names = ", ".join(f"{name} ({run.job})" for name, run in runs.items())
    info(
        f"serving {names} on http://{host}:{port} (API docs: /docs"
        + (f"; {API_KEY_HEADER} required)" if api_key else ")")
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        access_log=access_log,
        log_level="info",
        timeout_keep_alive=keep_alive,
    )
