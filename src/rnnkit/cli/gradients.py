"""``rnnkit gradients``: measure vanishing and exploding gradients, write a report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from rnnkit.cli import tables
from rnnkit.cli.errors import echo, user_errors
from rnnkit.cli.options import Quiet
from rnnkit.cli.output import step
from rnnkit.config import CELLS

# Typer reads no list of choices: the values are listed here, and checked by the experiment.
Cells = Annotated[
    list[str] | None,
    typer.Option(
        "--cell",
        help="A cell to measure; repeat for several (default: all).",
        metavar="<" + "|".join(CELLS) + ">",
        show_default=False,
    ),
]
Length = Annotated[int, typer.Option(help="Sequence length T; the answer is at step 1.")]
Units = Annotated[int, typer.Option(help="Units of the one recurrent layer.")]
Seeds = Annotated[int, typer.Option(help="Fresh initialisations averaged per cell.")]
TrainSteps = Annotated[
    int, typer.Option(help="Adam steps of brief training per cell and seed (0: skip).")
]
ExplodingLength = Annotated[int, typer.Option(help="Sequence length of the exploding case.")]
Radius = Annotated[float, typer.Option(help="Spectral radius of the exploding recurrent kernel.")]
LR = Annotated[float, typer.Option(help="Adam learning rate of the brief training.")]
Clip = Annotated[float, typer.Option(help="clipnorm compared against no clipping.")]
Out = Annotated[Path, typer.Option(help="Directory to write.")]
Overwrite = Annotated[bool, typer.Option(help="Replace --out if it exists.")]


@user_errors
def gradients(
    cell: Cells = None,
    length: Length = 100,
    units: Units = 32,
    seeds: Seeds = 3,
    train_steps: TrainSteps = 300,
    exploding_length: ExplodingLength = 30,
    radius: Radius = 1.5,
    learning_rate: LR = 1e-2,
    clipnorm: Clip = 1.0,
    out: Out = Path("runs/gradients"),
    overwrite: Overwrite = False,
    quiet: Quiet = False,
) -> None:
    """Measure the gradient reaching each input step (vanishing) and an exploding case.

    Needs the JAX backend (the default).
    """
    from rnnkit.core import persistence
    from rnnkit.experiments import gradients as experiment
    from rnnkit.experiments import gradients_report as report

    started = time.perf_counter()
    settings = dict(
        length=length,
        units=units,
        seeds=seeds,
        train_steps=train_steps,
        exploding_length=exploding_length,
        radius=radius,
        clipnorm=clipnorm,
        learning_rate=learning_rate,
    )
    cells = experiment.check_settings(cell or CELLS, **settings)
    persistence.check_output_directory(out, overwrite)  # fail before minutes of work
    with step(
        f"measuring {', '.join(cells)}: length {length}, {seeds} seed(s), "
        f"{train_steps} training steps each"
    ):
        result = experiment.run_gradients_experiment(cells, **settings)
    with persistence.staged_directory(out, overwrite) as staging:
        report.write_gradients_run(result, staging)

    echo(
        f"Gradient of the loss at each input step, at initialisation (length {length}, "
        f"units {units}, mean of {seeds} seed(s)):"
    )
    tables.print_table(tables.frame_table(report.cells_frame(result["cells"], length)))
    echo(
        f"memory horizon: steps back from t={length} until the norm is below "
        f"{experiment.THRESHOLD:g} of its value there; the guide says simple RNNs fail "
        "to learn beyond about 5-10 steps."
    )
    if train_steps:
        echo(
            f"accuracy: held out, after {train_steps} Adam steps (learning rate "
            f"{learning_rate:g}) per seed; chance is 0.5."
        )
    echo()
    echo("Exploding gradients:")
    for line in report.exploding_lines(result["exploding"]):
        echo(line)
    tables.print_table(tables.frame_table(report.exploding_frame(result["exploding"])))
    echo()
    echo(f"report: {out / 'report.html'}  ({time.perf_counter() - started:.0f} s)")
