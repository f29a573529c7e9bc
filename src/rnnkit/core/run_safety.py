"""Load-time safety checks of run directories: no pickles, no code in model files.

:func:`rnnkit.core.persistence.open_run` runs :func:`check_run_safety` on every run it
opens, and :func:`rnnkit.core.persistence.load_keras_model` runs :func:`check_keras_file`
before Keras reads a model.
"""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path
from typing import Any

from rnnkit.errors import RunDirectoryError

# Files a run never holds and that unpickle (run code) when loaded by the usual tools.
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
# Layers that wrap arbitrary Python, JAX, TensorFlow or PyTorch code.
CODE_LAYERS = frozenset(
    {"Lambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer", "__lambda__"}
)
# config.json of an rnnkit model is a few hundred kB; a bigger one is not ours.
MAX_MODEL_CONFIG_BYTES = 20 * 1024 * 1024


def _is_pickle(head: bytes) -> bool:
    """Pickle protocols 2 to 5 start with PROTO (0x80) and the protocol number.

    Protocols 0 and 1 have no signature; the file-name check catches their usual names.
    """
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def _unsafe(run_dir: Path, problem: str) -> RunDirectoryError:
    return RunDirectoryError(
        f"Refusing to load '{run_dir}': {problem}. rnnkit runs hold no pickles and no code, "
        "and loading one could run arbitrary code; a run written by rnnkit never has this. "
        "Train again, or remove the file if you know where it came from."
    )


def check_regular_file(path: str | os.PathLike[str]) -> None:
    """Refuses a path that is not a regular file (a FIFO, a socket, a device, a
    directory) without opening it: opening a FIFO blocks until something writes to it.

    Raises:
        FileNotFoundError: nothing is there (a broken link included).
        RunDirectoryError: something other than a regular file is there.
    """
    path = Path(path)
    mode = os.stat(path).st_mode  # follows links: what a reader would open
    if not stat.S_ISREG(mode):
        kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
        raise RunDirectoryError(
            f"'{path}' is {kind}, not a regular file: a run directory holds only the files "
            "rnnkit wrote. Remove it, or train again."
        )


_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a directory",
}


def check_run_safety(run_dir: str | os.PathLike[str]) -> None:
    """Refuses a run directory holding a pickle, or a model file with code in it.

    Every file (subdirectories included, symbolic links not followed) is checked by name
    (``*.pkl``, ``*.pickle``, ``*.joblib``) and by its first bytes (a pickle signature);
    the members of ``.keras`` archives too, and their model config is checked by
    :func:`check_keras_file`.

    Raises:
        RunDirectoryError: naming the file and why it is refused.

    Example:
        >>> check_run_safety("runs/forecast")  # doctest: +SKIP
    """
    run_dir = Path(run_dir)
    for folder, _, names in os.walk(run_dir):
        for name in names:
            path = Path(folder) / name
            shown = path.relative_to(run_dir)
            if name.lower().endswith(PICKLE_SUFFIXES):
                raise _unsafe(run_dir, f"it holds a pickle file, '{shown}'")
            try:
                check_regular_file(path)  # before opening: a FIFO would block forever
                with path.open("rb") as handle:
                    head = handle.read(4)
            except OSError:
                continue  # unreadable (a broken link...): the loaders report what they need
            if _is_pickle(head):
                raise _unsafe(run_dir, f"'{shown}' is a pickle")
            if head == b"PK\x03\x04" and name.endswith(".keras"):
                check_keras_file(path)


def check_keras_file(path: str | os.PathLike[str]) -> None:
    """Refuses a ``.keras`` file whose model is not made of Keras's own built-in objects.

    Keras's safe mode refuses Python lambdas, but it still loads a ``Lambda`` layer that
    names a function (any importable one, ``builtins`` included) and registered custom
    objects. This reads the archive's ``config.json`` without deserialising anything and
    refuses code-carrying layers, objects from modules outside ``keras``, custom
    (registered) objects, and pickles among the archive's members.

    Raises:
        RunDirectoryError: naming what was found.
    """
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile):
        return  # not an archive: Keras's own loader reports that clearly
    with archive:
        for member in archive.infolist():
            if member.filename.lower().endswith(PICKLE_SUFFIXES):
                raise _unsafe(path.parent, f"'{path.name}' holds a pickle, '{member.filename}'")
            with archive.open(member) as handle:
                if _is_pickle(handle.read(2)):
                    raise _unsafe(
                        path.parent, f"'{path.name}' member '{member.filename}' is a pickle"
                    )
        try:
            info = archive.getinfo("config.json")
        except KeyError:
            return  # Keras reports the missing config
        if info.file_size > MAX_MODEL_CONFIG_BYTES:
            raise _unsafe(
                path.parent,
                f"'{path.name}' has a {info.file_size}-byte model "
                "config, far larger than any rnnkit model's",
            )
        try:
            config = json.loads(archive.read(info))
        except (ValueError, UnicodeDecodeError):
            return  # Keras reports the unreadable config
    problem = _code_in_config(config)
    if problem:
        raise _unsafe(path.parent, f"'{path.name}' {problem}")


def _code_in_config(node: Any, depth: int = 0) -> str | None:
    """What in a Keras model config could run code, or None."""
    if depth > 200:
        return "has a model config nested too deeply to check"
    if isinstance(node, list):
        for item in node:
            if problem := _code_in_config(item, depth + 1):
                return problem
        return None
    if not isinstance(node, dict):
        return None
    if "class_name" in node:
        class_name = str(node.get("class_name"))
        module = node.get("module")
        registered = node.get("registered_name")
        name = node.get("config", {}).get("name") if isinstance(node.get("config"), dict) else None
        where = f" ('{name}')" if name else ""
        if class_name in CODE_LAYERS:
            return f"holds a {class_name} layer{where}, which runs arbitrary Python code"
        if module is not None and not (module == "keras" or str(module).startswith("keras.")):
            return (
                f"holds {class_name!r} from module {module!r}{where}; only Keras's own "
                "objects are allowed"
            )
        if registered not in (None, class_name):
            return f"holds the custom object {registered!r}{where}"
    for value in node.values():
        if problem := _code_in_config(value, depth + 1):
            return problem
    return None
