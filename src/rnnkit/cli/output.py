"""Where a command writes: an ``--output`` file, checked first and written whole or not at
all, a training's ``--out`` run directory, and the progress of long steps on stderr."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from rnnkit.cli.errors import info
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


# ----------------------------------------------------------------- progress
# --quiet turns off the progress of long steps (and Keras' bars); results, warnings and
# errors still print. The app's callback resets it for every command line.
_quiet = False


def set_quiet(quiet: bool) -> bool:
    """Sets ``--quiet`` for this command (a Typer option callback: returns the value)."""
    global _quiet
    _quiet = bool(quiet)
    return quiet


def is_quiet() -> bool:
    return _quiet


def keras_verbosity() -> int | None:
    """Keras' ``verbose`` for a fit: silent under ``--quiet``, else Keras' own default."""
    return 0 if _quiet else None


def _stderr_console():
    # rich is imported here, not at the top: `rnnkit --help` need not import it for this.
    from rich.console import Console

    return Console(stderr=True, highlight=False)


class Progress:
    """One long step at a time, on stderr: a spinner, its description and the time spent
    on a terminal, replaced by a summary line when the step is done (off a terminal, the
    summary line alone); nothing under ``--quiet``.

    Example:
        >>> progress = Progress()
        >>> progress.start("fitting TF-IDF")  # doctest: +SKIP
        >>> progress.finish("fitted TF-IDF in 2.1 s")  # doctest: +SKIP
    """

    def __init__(self) -> None:
        self._live = None
        self._listening = contextlib.ExitStack()
        self.started = time.perf_counter()

    def start(self, description: str) -> None:
        """Shows ``description`` until :meth:`finish` (ending a step still shown)."""
        self.finish()
        self.started = time.perf_counter()
        if _quiet:
            return
        console = _stderr_console()
        if console.is_terminal:
            from rich.progress import Progress as Bar
            from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

            from rnnkit.core.progress import listening

            self._live = Bar(
                SpinnerColumn(),
                TextColumn("{task.description}", markup=False),
                TextColumn("{task.fields[count]}", markup=False),  # "45/100 series"
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self._task = self._live.add_task(description, total=None, count="")
            self._live.start()
            # The library's loops over many items (core.progress.track) count in this line.
            self._listening.enter_context(listening(self.count))
        # Off a terminal (a log, a pipe, a test) only the summary line is printed, once the
        # step is done: a failing step then leaves the error alone on stderr.

    def finish(self, summary: str | None = None) -> None:
        """Ends the step shown, then prints ``summary`` (if any) as a line of its own."""
        self._listening.close()
        if self._live is not None:
            self._live.stop()
            self._live = None
        if summary and not _quiet:
            info(summary)

    def count(self, done: int, total: int, unit: str) -> None:
        """Shows how many of the step's items are done (a library loop reports them)."""
        if self._live is not None:
            self._live.update(self._task, count=f"{done}/{total} {unit}")

    def seconds(self) -> float:
        return time.perf_counter() - self.started


def training_steps(progress: Progress, before: str, after: str):  # -> keras Callback
    """A Keras callback that shows the steps around ``model.fit`` a library fit runs:
    ``before`` (reading the data, TF-IDF...) until training begins, then "compiling the
    model" until the first step is done (with JAX the first step compiles), and ``after``
    (scoring, baselines) once training ends. Keras' own bar shows the epochs between."""
    import keras

    class TrainingSteps(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.compiling = False

        def on_train_begin(self, logs=None) -> None:
            progress.finish(f"{before}: {progress.seconds():.1f} s")
            progress.start("compiling the model (the first training step)")
            self.compiling = True

        def on_train_batch_end(self, batch, logs=None) -> None:
            if self.compiling:
                self.compiling = False
                progress.finish(f"compiled the model: {progress.seconds():.1f} s")

        def on_train_end(self, logs=None) -> None:
            progress.start(after)

    progress.start(before)
    return TrainingSteps()


@contextlib.contextmanager
def step(description: str) -> Iterator[None]:
    """A long step inside the block: shown while it runs, with its time once it ends.

    Example:
        >>> with step("scoring the baselines"):  # doctest: +SKIP
        ...     score()
    """
    progress = Progress()
    progress.start(description)
    try:
        yield
    except BaseException:
        progress.finish()
        raise
    progress.finish(f"{description}: {progress.seconds():.1f} s")
