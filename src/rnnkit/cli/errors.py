"""The CLI's single error boundary."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from rnnkit.errors import RnnkitError

F = TypeVar("F", bound=Callable[..., Any])


def user_errors(command: F) -> F:
    """An RnnkitError becomes one line on stderr and exit code 1; bugs keep the traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except RnnkitError as err:
            message = " ".join(str(err).split())
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("interrupted: nothing was written", err=True)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def echo(text: str = "") -> None:
    typer.echo(text)


def info(text: str) -> None:
    """Progress and notes go to stderr, so stdout stays clean for CSV and JSON."""
    print(text, file=sys.stderr, flush=True)
