"""What both jobs' ``train`` and ``lr-find`` commands do alike once their options are
read: the lines printed after a training or a range test, and the training of a
multi-process run's processes other than 0."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rnnkit.cli.errors import echo, info


def print_training_warnings(estimator: Any, learning_rate: float | str) -> None:
    """The warnings of a fitted estimator's training (gradient health, a NaN loss) and,
    when ``learning_rate`` was ``auto``, the rate the range test chose."""
    health = estimator.gradient_health_
    for finding in health.findings if health is not None else ():
        info(f"warning: {finding.message}")
    if estimator.stopped_on_nan_:
        info("warning: training stopped on a NaN loss; the best weights before it are kept.")
    if learning_rate == "auto":
        if not estimator.learning_rate_range_test_.conclusive:
            info(
                "warning: the range test was inconclusive (the loss did not fall during the "
                "sweep); trained at the default learning rate instead."
            )
        echo(f"learning rate (range test): {estimator.learning_rate_:.3g}")


def print_range_test(result: Any, plot: Path) -> None:
    """Writes the plot of a learning-rate range test (``lr-find``) and prints its sweep,
    its suggestion and, when the loss did not fall, why the suggestion is noise."""
    from rnnkit.core.range_test import loss_fall
    from rnnkit.core.report import plot_range_test

    plot_range_test(result, plot)
    echo(
        f"swept {result.learning_rates[0]:.1e} .. {result.learning_rates[-1]:.1e} in "
        f"{len(result.learning_rates)} batches"
        + (" (stopped: the loss diverged)" if result.diverged else "")
    )
    echo(f"suggested learning rate: {result.suggestion:.3g}")
    if not result.conclusive:
        echo(
            "inconclusive: the loss did not fall during the sweep (its best median is "
            f"{loss_fall(result.losses):.0%} of its start), so the suggestion is noise; keep "
            "the default --learning-rate or look at the plot."
        )
    echo(f"plot: {plot}")


def train_other_process(out: Path, fit: Callable[[Path], object]) -> bool:
    """In a multi-process run, trains as a process other than 0 and returns True.

    Process 0 alone writes the run directory, the checkpoint and the training state; the
    others take their share of every training step (the steps are collective), write
    nothing, and then exit. ``fit`` trains given the training-state path, process 0's
    (with ``--resume`` they read its state).
    """
    from rnnkit.core import training
    from rnnkit.core.resume import state_path

    if not training.initialize_processes() or training.process_index()[0] == 0:
        return False
    fit(state_path(out))
    process, processes = training.process_index()
    info(f"process {process} of {processes}: trained; process 0 wrote the run to {out}")
    return True
