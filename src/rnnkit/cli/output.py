"""Writing a command's ``--output`` file: checked first, written whole or not at all."""

from __future__ import annotations

from collections.abc import Callable
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
