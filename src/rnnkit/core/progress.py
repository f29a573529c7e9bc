"""Progress of a library loop over many items (series to score, say), for whoever shows it.

The library never prints: a long loop goes through :func:`track`, which tells the listener
a caller set with :func:`listening` (the CLI's progress display) how many items are done,
and does nothing else when none is set.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sized
from typing import TypeVar

T = TypeVar("T")

# Called as listener(done, total, unit) after each item; None: nobody is listening.
Listener = Callable[[int, int, str], None]
_listener: Listener | None = None


def track(items: Sized, unit: str) -> Iterator[T]:
    """Yields ``items``, reporting to the listener each one done (``"series"``: its unit).

    Example:
        >>> seen = []
        >>> with listening(lambda done, total, unit: seen.append(f"{done}/{total} {unit}")):
        ...     for _ in track(["a", "b"], "series"):
        ...         pass
        >>> seen
        ['0/2 series', '1/2 series', '2/2 series']
    """
    total = len(items)
    if _listener is not None:
        _listener(0, total, unit)
    for done, item in enumerate(items, 1):  # type: ignore[call-overload]
        yield item
        if _listener is not None:
            _listener(done, total, unit)


@contextlib.contextmanager
def listening(listener: Listener | None) -> Iterator[None]:
    """Sends the counts of every :func:`track` inside the block to ``listener``."""
    global _listener
    previous, _listener = _listener, listener
    try:
        yield
    finally:
        _listener = previous
