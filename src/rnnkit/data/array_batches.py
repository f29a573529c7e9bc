"""Training batches of in-memory arrays, every batch of the same shape.

When Keras batches arrays itself, the last batch of an epoch is smaller than the others
whenever the batch size does not divide the rows, and a batch of a new shape compiles
the training step a second time (seconds on a CPU, before the first epoch ends). Here
the last batch is filled up to the batch size with rows of weight zero, and its own rows
are weighed by ``batch_size / rows``: Keras divides a batch's weighted loss by the batch
size, so the batch's loss is the mean over its own rows, as the smaller batch's was. One
shape, one compilation, the same gradient.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np


def bucket(rows: int, smallest: int = 1) -> int:
    """The rows a batch of ``rows`` is padded to for prediction: the next power of two,
    at least ``smallest``, so that a model compiles a handful of shapes however many rows
    come.

    Example:
        >>> bucket(5), bucket(32), bucket(3, smallest=16)
        (8, 32, 16)
    """
    return max(smallest, 1 << max(rows - 1, 0).bit_length())


def padded(array: np.ndarray, rows: int) -> np.ndarray:
    """``array`` with rows of zeros (of its dtype) appended up to ``rows`` rows."""
    if len(array) >= rows:
        return array
    return np.concatenate([array, np.zeros((rows - len(array), *array.shape[1:]), array.dtype)])


def class_weights(targets: np.ndarray, class_weight: dict[int, float]) -> np.ndarray:
    """The weight of each row's class ``(rows,)``; targets are class ids ``(rows,)``, or
    ``(rows, members)`` repeated over an ensemble's members.

    Example:
        >>> class_weights(np.array([0, 1, 1]), {0: 2.0, 1: 0.5}).tolist()
        [2.0, 0.5, 0.5]
    """
    targets = np.asarray(targets)
    classes = targets if targets.ndim == 1 else targets[:, 0]
    return np.array([class_weight[int(c)] for c in classes], dtype="float32")


class FullBatches(keras.utils.PyDataset):
    """``(inputs, targets, weights)`` batches of ``batch_size`` rows for ``model.fit``;
    the weights are a column ``(batch_size, 1)``.

    Each epoch's order is ``np.random.permutation(rows)`` drawn as the epoch starts, the
    very draw Keras makes when it shuffles arrays, from NumPy's global generator that
    :class:`rnnkit.core.training.EpochSeed` seeds from ``seed + epoch``: the batches hold
    the rows Keras's would, and a resumed run repeats them. The last batch is completed
    with the first rows of the order at weight zero (see the module's docstring). With
    fewer rows than ``batch_size``, the one batch is all the rows.

    Args:
        inputs: an array, or a list of arrays (a model of several inputs), rows first.
        targets: the targets, rows first.
        batch_size: rows per batch.
        sample_weight: a weight per row; 1 by default.

    Example:
        >>> batches = FullBatches(np.zeros((5, 3)), np.arange(5.0), batch_size=2)
        >>> len(batches), [len(part) for part in batches[2]]
        (3, [2, 2, 2])
        >>> batches[2][2].ravel().tolist()  # the last row, weighed 2, and a row of weight 0
        [2.0, 0.0]
    """

    def __init__(
        self,
        inputs: np.ndarray | list[np.ndarray],
        targets: np.ndarray,
        batch_size: int,
        sample_weight: np.ndarray | None = None,
    ) -> None:
        super().__init__()  # one worker, no multiprocessing: batches are made in order
        self.inputs = inputs
        self.targets = np.asarray(targets)
        self.rows = len(self.targets)
        self.batch_size = max(1, min(int(batch_size), self.rows))
        self.weights = (
            np.ones(self.rows, dtype="float32")
            if sample_weight is None
            else np.asarray(sample_weight, dtype="float32")
        )
        self.order = np.arange(self.rows)

    def __len__(self) -> int:
        return math.ceil(self.rows / self.batch_size)

    def on_epoch_begin(self) -> None:
        self.order = np.random.permutation(self.rows)

    def __getitem__(self, index: int) -> tuple[Any, np.ndarray, np.ndarray]:
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        weights = self.weights[rows]
        short = self.batch_size - len(rows)
        if short:
            weights = np.concatenate(
                [weights * (self.batch_size / len(rows)), np.zeros(short, dtype="float32")]
            )
            rows = np.concatenate([rows, self.order[:short]])
        if isinstance(self.inputs, (list, tuple)):
            x: Any = [a[rows] for a in self.inputs]
        else:
            x = self.inputs[rows]
        # (rows, 1): Keras broadcasts it over a loss per row and per ensemble member;
        # a weight of shape (rows,) it only matches to a loss of one value per row.
        return x, self.targets[rows], weights[:, None]
