"""The CLI's single error boundary: every error is one line on stderr that starts with
``error:``, a user's mistake (an :class:`RnnkitError`, exit code 1) as a bad flag (exit
code 2, with the command's ``--help`` to see); only our bugs keep a traceback."""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from typer.core import TyperGroup

from rnnkit.errors import RnnkitError, did_you_mean

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


class CommandLine(TyperGroup):
    """The root command: a bad flag (unknown option, value not a number or not one of the
    choices, missing argument) is printed as every other error is, ``error: ...`` on one
    line, instead of Typer's framed panel, and exits with code 2."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except typer.TyperException as err:
            if type(err).__name__ == "NoArgsIsHelpError":  # the help is the whole answer
                err.show()  # type: ignore[attr-defined]
                sys.exit(getattr(err, "exit_code", 2))
            sys.exit(usage_error(err))
        except typer.Abort:
            typer.echo("interrupted: nothing was written", err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)


def usage_error(err: typer.TyperException) -> int:
    """Prints a bad flag's error as one line and returns its exit code."""
    message = " ".join(err.format_message().split()).replace("Value error, ", "")
    if not message.endswith((".", "?", "!")):
        message += "."
    # A value outside an option's choices: Typer names them, we add the closest one.
    outside = re.search(r"'([^']*)' is not one of (.*)", message)
    if outside:
        message += did_you_mean(outside.group(1), re.findall(r"'([^']*)'", outside.group(2)))
    context = getattr(err, "ctx", None)
    hint = f" See '{context.command_path} --help'." if context is not None else ""
    typer.echo(f"error: {message}{hint}", err=True)
    return getattr(err, "exit_code", 2)
