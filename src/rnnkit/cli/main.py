"""``rnnkit``: the command line entry point."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import typer  # noqa: E402

from rnnkit.cli import demo, forecast  # noqa: E402

app = typer.Typer(
    name="rnnkit",
    help="Recurrent neural networks from a CSV: forecasting and text classification.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(forecast.app, name="forecast")
app.command(name="demo")(demo.demo)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
