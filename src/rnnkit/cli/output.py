"""Where a command writes: an ``--output`` file, checked first and written whole or not at
all, and a training's ``--out`` run directory."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from rnnkit.errors import ConfigError, RnnkitError


def write_output(output: Path, write: Callable[[Path], None]) -> None:
    """Checks ``output`` (a file in an existing folder), then ``write``s a hidden sibling
    and renames it into place, so a failed write leaves nothing behind.

    Raises:
        ConfigError: ``output`` is a folder, or its folder does not exist.
        RnnkitError: the file could not be written (disk full, no permission).
    """
    if output.is_dir():
        raise ConfigError(
            f"--output '{output}' is a folder; give a file path, e.g. "
            f"'{output / 'predictions.csv'}'."
        )
    folder = output.parent
    if not folder.is_dir():
        raise ConfigError(
            f"--output '{output}': the folder '{folder}' does not exist. Create it first "
            "or choose a file in an existing folder."
        )
    partial = folder / f".{output.name}.partial"
    try:
        write(partial)
        partial.replace(output)
    except OSError as err:
        partial.unlink(missing_ok=True)
        raise RnnkitError(
            f"Could not write --output '{output}': {err.strerror or err}. Check the free "
            "space and the folder's permissions."
        ) from err


@contextlib.contextmanager
def training_target(out: Path, overwrite: bool, resume: bool) -> Iterator[tuple[Path, Path]]:
    """The run directory of one ``train`` command, the same for both jobs.

    ``out`` is locked for the whole training, so a second training into it is refused at
    once instead of silently replacing this run (or being replaced); it is checked, and
    cleared of what killed writers left, before the resume announcement (a stale state is
    not resumed). Yields ``(staging, state)``: the staging directory that becomes ``out``
    when the block ends without an error, and the training-state path for ``--resume``,
    removed once the run is in place.
    """
    from rnnkit.cli.errors import info
    from rnnkit.core import persistence
    from rnnkit.core.resume import announce, state_path
    from rnnkit.core.run_lock import run_lock

    with run_lock(out):
        persistence.check_output_directory(out, overwrite)
        persistence.remove_leftovers(out)
        state = state_path(out)
        announce(state, resume, info)
        with persistence.staged_directory(out, overwrite) as staging:
            yield staging, state
        state.unlink(missing_ok=True)  # the run is in place: nothing left to resume
