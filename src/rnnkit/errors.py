"""The rnnkit error family.

Every error a user can cause is an :class:`RnnkitError` with a message that says what is
wrong, where (file, column, lines) and how to fix it. The CLI prints the message on one line
and exits 1; anything else that escapes is a bug in rnnkit and keeps its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence


class RnnkitError(Exception):
    """Base class of every error rnnkit raises on purpose."""


class DataError(RnnkitError, ValueError):
    """The input data is missing, unreadable or not in the expected shape."""


class ConfigError(RnnkitError, ValueError):
    """A configuration value or a combination of values is invalid."""


class NotFittedError(RnnkitError, ValueError, AttributeError):
    """A method that needs a trained model was called before ``fit`` or ``load``."""


class RunDirectoryError(RnnkitError, ValueError):
    """A run directory is missing, incomplete, of the wrong job or would be overwritten."""


class TrainingError(RnnkitError, RuntimeError):
    """Training could not produce a usable model."""


def closest(name: str, choices: Iterable[str]) -> str | None:
    """Returns the choice closest to ``name`` (for "did you mean" hints), or None."""
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    if name.lower() in lowered:
        return lowered[name.lower()]
    match = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    if not match:
        match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.5)
        match = [lowered[m] for m in match]
    return match[0] if match else None


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A ``" Did you mean 'x'?"`` suffix, or an empty string when nothing is close."""
    match = closest(name, choices)
    return f" Did you mean '{match}'?" if match else ""


def format_examples(lines: Sequence[int], values: Sequence[object], limit: int = 3) -> str:
    """``"line 14: 'n/a', line 20: 'abc'"`` for the first ``limit`` bad lines."""
    shown = [f"line {line}: {str(value)[:40]!r}" for line, value in zip(lines, values)]
    text = ", ".join(shown[:limit])
    if len(shown) > limit:
        text += ", ..."
    return text
