"""The learning-rate range test, done properly.

The guide trains with ``LearningRateScheduler(lambda epoch: 1e-7 * 10**(epoch/20))``: the
rate grows 10x every 20 epochs, so its 150-epoch run ends at a rate of about 0.03 after
passing through every rate on the way. That sweep is a *range test* (Smith 2017, "Cyclical
Learning Rates"): it finds a good rate, it is not a schedule to train with.

Here the sweep runs per batch on a throw-away copy of the model, from ``min_lr`` up to
``max_lr``, stops once the loss diverges, and suggests the rate where the smoothed loss
falls fastest. Training then starts again from fresh weights at that rate. (Its plot is
:func:`rnnkit.core.report.plot_range_test`.)
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import keras
import numpy as np

# The test is conclusive when the loss falls during the sweep: the median loss of the best
# tenth of the batches is below this fraction of the first tenth's. Measured: 0.19 on the
# loans series, 0.40 on CFPB narratives, 0.88 on the sparse daily complaints per product
# (there the loss is flat for 200 batches and the steepest-descent point is noise).
CONCLUSIVE_FALL = 0.75


@dataclasses.dataclass
class RangeTestResult:
    """Learning rates tried, the loss at each, its smoothed curve and the suggestion."""

    learning_rates: list[float]
    losses: list[float]
    smoothed: list[float]
    suggestion: float
    diverged: bool
    conclusive: bool = True

    def rate_to_use(self, fallback: float) -> float:
        """The suggestion, or ``fallback`` when the loss did not fall during the sweep."""
        return self.suggestion if self.conclusive else fallback

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class LearningRateRangeTest(keras.callbacks.Callback):
    """Raises the learning rate exponentially every batch and records the batch loss.

    Keras logs the running mean of the epoch's loss after each batch; the batch loss is
    recovered from consecutive means (equal batch sizes).
    """

    def __init__(
        self, min_lr: float, max_lr: float, steps: int, divergence: float = 4.0, beta: float = 0.95
    ) -> None:
        super().__init__()
        self.rates = np.geomspace(min_lr, max_lr, steps)
        self.divergence = divergence
        self.beta = beta
        self.learning_rates: list[float] = []
        self.losses: list[float] = []
        self.smoothed: list[float] = []
        self.diverged = False
        self._step = 0
        self._average = 0.0

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._batches, self._mean = 0, 0.0

    def on_train_batch_begin(self, batch, logs=None) -> None:
        self.model.optimizer.learning_rate = float(self.rates[self._step])

    def on_train_batch_end(self, batch, logs=None) -> None:
        mean = float((logs or {}).get("loss", float("nan")))
        self._batches += 1
        loss = self._batches * mean - (self._batches - 1) * self._mean
        self._mean = mean
        self.learning_rates.append(float(self.rates[self._step]))
        self.losses.append(loss)
        self._step += 1
        if not math.isfinite(loss):
            self.diverged = True
            self.model.stop_training = True
            return
        self._average = self.beta * self._average + (1 - self.beta) * loss
        smooth = self._average / (1 - self.beta**self._step)  # bias-corrected EMA
        self.smoothed.append(smooth)
        # Noisy batch losses early on would trip the test at tiny rates: compare only after
        # a warm-up, against the best smoothed loss seen since half of it.
        warmup = max(10, len(self.rates) // 10)
        best = min(self.smoothed[warmup // 2 :], default=smooth)
        if self._step > warmup and smooth > self.divergence * best:
            self.diverged = True
            self.model.stop_training = True
        if self._step >= len(self.rates):
            self.model.stop_training = True

    def result(self) -> RangeTestResult:
        n = len(self.smoothed)
        return RangeTestResult(
            learning_rates=self.learning_rates[:n],
            losses=self.losses[:n],
            smoothed=self.smoothed,
            suggestion=suggest(self.learning_rates[:n], self.smoothed),
            diverged=self.diverged,
            conclusive=loss_fall(self.losses[:n]) < CONCLUSIVE_FALL,
        )


def loss_fall(losses: list[float]) -> float:
    """Median loss of the best window of a tenth of the batches over the first one's.

    Medians, so that a few batches with extreme losses (sparse series) do not decide.

    Example:
        >>> round(loss_fall([4.0] * 10 + [1.0] * 10), 2)
        0.25
    """
    values = np.asarray(losses, dtype="float64")
    width = max(5, len(values) // 10)
    if len(values) < width:
        return 1.0
    first = float(np.median(values[:width]))
    best = min(float(np.median(values[i : i + width])) for i in range(len(values) - width + 1))
    return best / first if first > 0 else 1.0


def suggest(learning_rates: list[float], smoothed: list[float]) -> float:
    """The rate where the smoothed loss falls fastest (per log-rate), before its minimum."""
    if len(smoothed) < 3:
        raise ValueError("too few steps to suggest a learning rate")
    loss = np.asarray(smoothed)
    log_lr = np.log10(learning_rates)
    # The first points of a bias-corrected moving average still swing with single batches.
    skip = min(max(3, len(loss) // 20), len(loss) - 3)
    end = int(np.argmin(loss)) + 1
    if end - skip < 3:
        return float(learning_rates[max(0, end - 1)])
    slope = np.gradient(loss[skip:end], log_lr[skip:end])
    return float(learning_rates[skip + int(np.argmin(slope))])


def range_test(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    loss: Any,
    batch_size: int,
    clipnorm: float = 1.0,
    min_lr: float = 1e-6,
    max_lr: float = 1.0,
    steps: int = 200,
) -> RangeTestResult:
    """Runs the range test on ``model`` (its weights are changed: pass a fresh copy).

    Args:
        model: a freshly built model, not compiled.
        x, y: training data (``x`` one array or a list of the model's inputs); batches
            are drawn from it, several epochs if needed.
        loss: the training loss.
        batch_size: as in training.
        clipnorm: gradient clipping as in training (0 turns it off).
        min_lr, max_lr: the sweep's bounds.
        steps: batches in the sweep (fewer if the loss diverges first).

    Example:
        >>> result = range_test(build(), x, y, "mse", 32)  # doctest: +SKIP
        >>> result.suggestion  # doctest: +SKIP
    """
    optimizer = keras.optimizers.Adam(learning_rate=min_lr, clipnorm=clipnorm or None)
    model.compile(optimizer=optimizer, loss=loss)
    callback = LearningRateRangeTest(min_lr, max_lr, steps)
    per_epoch = max(1, math.ceil(len(y) / batch_size))
    model.fit(
        x,
        y,
        batch_size=batch_size,
        epochs=math.ceil(steps / per_epoch),
        shuffle=True,
        callbacks=[callback],
        verbose=0,
    )
    return callback.result()
