"""The Typer options both jobs' commands share, written once: the model, the training,
the run directory. An option whose help differs per job (``--units``, ``--batch-size``)
stays with its job's commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnkit.cli.output import set_quiet


def learning_rate(value: str) -> float | str:
    """Parses ``--learning-rate``: a number, or ``auto`` for the range test's suggestion."""
    if value.strip().lower() == "auto":
        return "auto"
    try:
        return float(value)
    except ValueError:
        raise typer.BadParameter(f"expected a number or 'auto', got {value!r}") from None


Cell = Annotated[str, typer.Option(help="lstm, gru or simple_rnn.")]
Layers = Annotated[int, typer.Option(help="Stacked recurrent layers.")]
Dropout = Annotated[float, typer.Option(help="Dropout after each recurrent layer.")]
Bidir = Annotated[
    bool, typer.Option("--bidirectional/--unidirectional", help="Bidirectional layers.")
]
Epochs = Annotated[int, typer.Option(help="Most epochs; early stopping usually ends sooner.")]
LR = Annotated[
    str,
    typer.Option(
        help="Adam learning rate, or 'auto' (the range test's suggestion).",
        parser=learning_rate,
    ),
]
Patience = Annotated[int, typer.Option(help="Epochs without a better validation loss.")]
Clip = Annotated[float, typer.Option(help="Gradient norm clipping (0: off).")]
Seed = Annotated[int, typer.Option(help="Random seed: the same seed gives the same run.")]
Distribute = Annotated[
    bool,
    typer.Option(
        help="Data-parallel training on every local device (and every process named by "
        "RNNKIT_COORDINATOR, RNNKIT_NUM_PROCESSES, RNNKIT_PROCESS_ID); --batch-size is global."
    ),
]
Out = Annotated[Path, typer.Option(help="Run directory to write.")]
Overwrite = Annotated[bool, typer.Option(help="Replace --out if it exists.")]
Resume = Annotated[
    bool,
    typer.Option(
        help="Continue an interrupted run of this same command from its last completed epoch."
    ),
]
PlotPath = Annotated[Path, typer.Option(help="Where to write the loss-vs-rate plot.")]
Quiet = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        callback=set_quiet,
        help="No progress on stderr (long steps, Keras' bars); results and warnings still print.",
    ),
]
