"""The train commands' process flags: several processes (or hosts) training one model.

``--coordinator``, ``--num-processes`` and ``--process-id`` stand for the
``RNNKIT_COORDINATOR``, ``RNNKIT_NUM_PROCESSES`` and ``RNNKIT_PROCESS_ID`` variables (a
flag wins over its variable); see :func:`rnnkit.core.training.process_group`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from rnnkit.cli.options import DISTRIBUTED
from rnnkit.errors import ConfigError

Coordinator = Annotated[
    str | None,
    typer.Option(
        help="Multi-process run (with --distribute): process 0's host:port, the same for "
        "every process (or RNNKIT_COORDINATOR).",
        show_default=False,
        rich_help_panel=DISTRIBUTED,
    ),
]
NumProcesses = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Multi-process run: how many processes train together (or RNNKIT_NUM_PROCESSES).",
        show_default=False,
        rich_help_panel=DISTRIBUTED,
    ),
]
ProcessId = Annotated[
    int | None,
    typer.Option(
        min=0,
        help="Multi-process run: this process's id, 0 to --num-processes - 1; process 0 "
        "writes the run (or RNNKIT_PROCESS_ID).",
        show_default=False,
        rich_help_panel=DISTRIBUTED,
    ),
]


def join_processes(
    distribute: bool,
    coordinator: str | None,
    num_processes: int | None,
    process_id: int | None,
) -> None:
    """Checks the process flags and, with ``--distribute``, joins the run they name.

    Runs before the data are read, so a mistake stops every process at once, and before
    anything touches JAX devices, as joining requires.

    Raises:
        typer.BadParameter: the flags (or variables) are incomplete or malformed, or
            given without ``--distribute`` (exit code 2).
    """
    from rnnkit.core import training

    flags = {
        "--coordinator": coordinator,
        "--num-processes": num_processes,
        "--process-id": process_id,
    }
    given = [flag for flag, value in flags.items() if value is not None]
    if not distribute:
        if given:
            raise typer.BadParameter(
                f"{', '.join(given)} name the processes of a distributed run: add --distribute."
            )
        return
    try:
        training.process_group(coordinator, num_processes, process_id)
    except ConfigError as error:
        raise typer.BadParameter(str(error)) from None
    training.initialize_processes(coordinator, num_processes, process_id)
