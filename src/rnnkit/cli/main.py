"""``rnnkit``: the command line entry point."""

from __future__ import annotations

import os
from typing import Annotated

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import typer  # noqa: E402

from rnnkit import __version__  # noqa: E402
from rnnkit.cli import classify, demo, forecast, gradients, serve  # noqa: E402
from rnnkit.cli.errors import CommandLine  # noqa: E402
from rnnkit.cli.output import set_quiet  # noqa: E402

app = typer.Typer(
    name="rnnkit",
    cls=CommandLine,
    help="Recurrent neural networks from a CSV: forecasting and text classification.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"rnnkit {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Recurrent neural networks from a CSV: forecasting and text classification."""
    set_quiet(False)  # a command's --quiet sets it again, for that command only


app.add_typer(forecast.app, name="forecast")
app.add_typer(classify.app, name="classify")
app.command(name="demo")(demo.demo)

# `rnnkit lr-find forecast|classify DATA ...`: the same commands as `rnnkit forecast lr-find`.
lr_find = typer.Typer(
    help="Learning-rate range test on either job's data and model.", no_args_is_help=True
)
lr_find.command(name="forecast")(forecast.lr_find)
lr_find.command(name="classify")(classify.lr_find)
app.add_typer(lr_find, name="lr-find")
app.command(name="gradients")(gradients.gradients)
app.command(name="serve")(serve.serve)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
