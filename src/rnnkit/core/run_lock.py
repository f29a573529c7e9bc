"""One writer per run directory: an exclusive lock file beside the target.

Two trainings into the same ``--out`` would both write a complete run, and the one that
renames last silently replaces the other. :func:`run_lock` holds ``.NAME.lock`` (an
``flock`` lock, released by the kernel when its process dies, so a killed training never
leaves a stale lock) for the whole training and save; a second writer is refused at once
with the first one's process id.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from rnnkit.errors import RunDirectoryError

try:
    import fcntl
except ImportError:  # Windows: no flock; runs are then not locked
    fcntl = None  # type: ignore[assignment]

# Locks this process holds, by lock path: [file descriptor, depth, owning thread]. A
# training holds its target's lock and then saves into it, so a lock is re-entrant in its
# thread; another thread of the process is refused as another process is.
_HELD: dict[str, list[int]] = {}
_GUARD = threading.Lock()


def lock_path(out: str | os.PathLike[str]) -> Path:
    """The lock file of the run directory ``out``: ``.NAME.lock`` beside it.

    Example:
        >>> lock_path("runs/forecast").as_posix()
        'runs/.forecast.lock'
    """
    out = Path(out)
    return out.parent / f".{out.name}.lock"


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        text = ""
    return f"process {text}" if text.isdigit() else "another process"


def _refused(out: Path, holder: str) -> RunDirectoryError:
    return RunDirectoryError(
        f"--out '{out}' is being written by another rnnkit training ({holder}). Wait for "
        "it to finish, or choose another --out."
    )


def _acquire(path: Path, out: Path) -> int:
    """Opens and locks ``path``; retries when the file it locked was removed meanwhile
    (by the holder releasing it), so that two processes never lock two different files."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _refused(out, _holder(path)) from None
        except BaseException:
            os.close(fd)
            raise
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)


@contextlib.contextmanager
def run_lock(out: str | os.PathLike[str]) -> Iterator[None]:
    """Holds the exclusive lock of the run directory ``out`` while the block runs.

    Raises:
        RunDirectoryError: another process (or thread) holds it; the message names the
            process.

    Example:
        >>> with run_lock("runs/forecast"):  # doctest: +SKIP
        ...     train_and_save()
    """
    out = Path(out)
    if fcntl is None:
        yield
        return
    path = lock_path(out)
    key = os.path.abspath(path)
    me = threading.get_ident()
    with _GUARD:
        held = _HELD.get(key)
        if held is not None and held[2] != me:
            raise _refused(out, f"process {os.getpid()}, another thread")
        if held is None:
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
                fd = _acquire(path, out)
            except OSError as err:  # a read-only or full disk, a folder without permission
                raise RunDirectoryError(
                    f"Could not create the run '{out}': {err.strerror or err} ({path}). "
                    "Choose a writable --out, or free some space."
                ) from err
            _HELD[key] = held = [fd, 0, me]
        held[1] += 1
    try:
        yield
    finally:
        with _GUARD:
            held[1] -= 1
            if held[1] == 0:
                del _HELD[key]
                # Removed while still locked: a process that opened it meanwhile finds
                # it gone after locking and retries with a new file (see _acquire).
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                os.close(held[0])
