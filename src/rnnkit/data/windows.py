"""Lookback windows: the network's inputs and targets, cut from one scaled series."""

from __future__ import annotations

import numpy as np


def make_windows(
    values: np.ndarray, lookback: int, steps: int, target_start: int, target_end: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every window whose ``steps`` targets lie in ``[target_start, target_end)``.

    The inputs of a window are the ``lookback`` values just before its first target, and
    may reach back before ``target_start`` (earlier data is not leakage).

    Returns:
        ``(inputs, targets)`` of shapes ``(n, lookback)`` and ``(n, steps)``.

    Example:
        >>> x, y = make_windows(np.arange(10.0), lookback=3, steps=2, target_start=3, target_end=10)
        >>> x[0].tolist(), y[0].tolist(), len(x)
        ([0.0, 1.0, 2.0], [3.0, 4.0], 6)
    """
    starts = window_starts(lookback, steps, target_start, target_end)
    if len(starts) == 0:
        return np.empty((0, lookback)), np.empty((0, steps))
    values = np.asarray(values, dtype="float64")
    inputs = np.stack([values[s - lookback : s] for s in starts])
    targets = np.stack([values[s : s + steps] for s in starts])
    return inputs, targets


def window_starts(lookback: int, steps: int, target_start: int, target_end: int) -> np.ndarray:
    """The positions of the first targets of :func:`make_windows`' windows, in its order.

    Example:
        >>> window_starts(lookback=3, steps=2, target_start=3, target_end=10).tolist()
        [3, 4, 5, 6, 7, 8]
    """
    return np.arange(max(target_start, lookback), target_end - steps + 1)


def evaluation_origins(length: int, test_size: int, horizon: int) -> list[int]:
    """Forecast origins that tile the last ``test_size`` periods with whole horizons."""
    return list(range(length - test_size, length - horizon + 1, horizon))


def last_windows(values: np.ndarray, ends: list[int], lookback: int) -> np.ndarray:
    """The ``lookback`` values before each of ``ends``, ``(len(ends), lookback)``; a
    history shorter than ``lookback`` is padded on the left with its first value.

    Example:
        >>> last_windows(np.array([1.0, 2.0, 3.0]), [2, 3], 4).tolist()
        [[1.0, 1.0, 1.0, 2.0], [1.0, 1.0, 2.0, 3.0]]
    """
    values = np.asarray(values, dtype="float64")
    rows = []
    for end in ends:
        window = values[max(0, end - lookback) : end]
        if len(window) < lookback:
            window = np.concatenate([np.full(lookback - len(window), values[0]), window])
        rows.append(window)
    return np.stack(rows)
