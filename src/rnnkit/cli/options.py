"""The Typer options both jobs' commands share, written once: the model, the training,
the run directory, and the help panels every command groups its options under. An option
whose help differs per job (``--units``, ``--batch-size``) stays with its job's commands.

An option with a fixed set of values is typed with :func:`choice`, so that ``--help``
lists the values (``<lstm|gru|simple_rnn>``) and a value outside them is a bad flag
(exit code 2) before any data are read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from rnnkit.cli.output import set_quiet
from rnnkit.config import CELLS

# The help panels, in the order `--help` shows them.
DATA = "Data"
MODEL = "Model"
TRAINING = "Training"
EVALUATION = "Evaluation"
DISTRIBUTED = "Distributed training"
OUTPUT = "Output"


def choice(values: tuple[str, ...]) -> Any:
    """The type of an option taking one of ``values`` (a configuration's tuple of
    choices, such as :data:`rnnkit.config.CELLS`), as Typer reads a ``Literal``."""
    return Literal[values]  # Literal[("a", "b")] is Literal["a", "b"]


def learning_rate(value: str) -> float | str:
    """Parses ``--learning-rate``: a number, or ``auto`` for the range test's suggestion."""
    if value.strip().lower() == "auto":
        return "auto"
    try:
        return float(value)
    except ValueError:
        raise typer.BadParameter(f"expected a number or 'auto', got {value!r}") from None


Cell = Annotated[
    choice(CELLS),
    typer.Option(help="Recurrent cell.", case_sensitive=False, rich_help_panel=MODEL),
]
Layers = Annotated[int, typer.Option(help="Stacked recurrent layers.", rich_help_panel=MODEL)]
Dropout = Annotated[
    float, typer.Option(help="Dropout after each recurrent layer.", rich_help_panel=MODEL)
]
Bidir = Annotated[
    bool,
    typer.Option(
        "--bidirectional/--unidirectional", help="Bidirectional layers.", rich_help_panel=MODEL
    ),
]
Epochs = Annotated[
    int,
    typer.Option(help="Most epochs; early stopping usually ends sooner.", rich_help_panel=TRAINING),
]
LR = Annotated[
    str,
    typer.Option(
        help="Adam learning rate, or 'auto' (the range test's suggestion).",
        parser=learning_rate,
        metavar="[RATE|auto]",
        rich_help_panel=TRAINING,
    ),
]
Patience = Annotated[
    int, typer.Option(help="Epochs without a better validation loss.", rich_help_panel=TRAINING)
]
Clip = Annotated[
    float, typer.Option(help="Gradient norm clipping (0: off).", rich_help_panel=TRAINING)
]
Seed = Annotated[
    int,
    typer.Option(help="Random seed: the same seed gives the same run.", rich_help_panel=TRAINING),
]
Distribute = Annotated[
    bool,
    typer.Option(
        help="Data-parallel training on every local device (and every process named by "
        "RNNKIT_COORDINATOR, RNNKIT_NUM_PROCESSES, RNNKIT_PROCESS_ID); --batch-size is global.",
        rich_help_panel=DISTRIBUTED,
    ),
]
Out = Annotated[Path, typer.Option(help="Run directory to write.", rich_help_panel=OUTPUT)]
Overwrite = Annotated[
    bool, typer.Option(help="Replace --out if it exists.", rich_help_panel=OUTPUT)
]
Resume = Annotated[
    bool,
    typer.Option(
        help="Continue an interrupted run of this same command from its last completed epoch.",
        rich_help_panel=TRAINING,
    ),
]
PlotPath = Annotated[
    Path, typer.Option(help="Where to write the loss-vs-rate plot.", rich_help_panel=OUTPUT)
]
Quiet = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        callback=set_quiet,
        help="No progress on stderr (long steps, Keras' bars); results and warnings still print.",
        rich_help_panel=OUTPUT,
    ),
]


def json_flag(prints: str, default: str) -> Any:
    """The ``--json`` option of a command: its help says what it prints and what the
    command prints without it."""
    return Annotated[
        bool,
        typer.Option(
            "--json", help=f"Print {prints} instead of {default}.", rich_help_panel=OUTPUT
        ),
    ]
