"""Compiled inference: a Keras model's prediction as one jitted function, for many small
requests."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.data.array_batches import bucket, padded

# Largest batch compiled as one shape; bigger batches are split into chunks of this size.
LARGEST_BUCKET = 256


class CompiledModel:
    """A Keras model's inference as one compiled function, for many small requests.

    ``model.predict`` builds a data pipeline on every call (about 0.5 ms before any
    arithmetic); ``predict_on_batch`` still converts the model state each time. On the
    JAX backend this jits ``model.stateless_call`` once, with the weights as device arrays,
    and pads each batch to a power of two so that at most nine shapes are ever compiled.
    Other backends fall back to ``predict_on_batch``.

    It offers the two methods the estimators call on their ``model_`` (``predict_on_batch``
    and ``predict``), so a loaded estimator serves through it unchanged.

    Example:
        >>> forecaster.model_ = CompiledModel(forecaster.model_)  # doctest: +SKIP
    """

    def __init__(self, model: Any) -> None:
        import keras

        self.model = model
        self._function = None
        if keras.backend.backend() == "jax":
            import jax

            # Copies: Keras may donate or replace its own buffers later.
            self._trainable = [jax.device_put(np.asarray(v)) for v in model.trainable_variables]
            self._non_trainable = [
                jax.device_put(np.asarray(v)) for v in model.non_trainable_variables
            ]

            def call(trainable, non_trainable, inputs):
                return model.stateless_call(trainable, non_trainable, inputs, training=False)[0]

            self._function = jax.jit(call)

    def predict_on_batch(self, inputs: np.ndarray | list[np.ndarray]) -> np.ndarray:
        """Outputs for one batch of at most ``LARGEST_BUCKET`` rows (``inputs`` one array,
        or a list of arrays for a model of several inputs)."""
        several = isinstance(inputs, (list, tuple))
        arrays = [np.asarray(a) for a in inputs] if several else [np.asarray(inputs)]
        if self._function is None:
            return np.asarray(self.model.predict_on_batch(arrays if several else arrays[0]))
        rows = len(arrays[0])
        arrays = [padded(a, bucket(rows)) for a in arrays]
        outputs = self._function(
            self._trainable, self._non_trainable, arrays if several else arrays[0]
        )
        return np.asarray(outputs)[:rows]

    def predict(
        self,
        inputs: np.ndarray | list[np.ndarray],
        batch_size: int = LARGEST_BUCKET,
        verbose: int = 0,
    ):
        """Outputs for any number of rows, in chunks (same signature as ``keras.Model``)."""
        del verbose  # nothing to report: one compiled call per chunk
        size = max(1, min(int(batch_size), LARGEST_BUCKET))
        several = isinstance(inputs, (list, tuple))
        arrays = [np.asarray(a) for a in inputs] if several else [np.asarray(inputs)]
        chunks = [
            self.predict_on_batch(
                [a[i : i + size] for a in arrays] if several else arrays[0][i : i + size]
            )
            for i in range(0, len(arrays[0]), size)
        ]
        return np.concatenate(chunks) if chunks else np.zeros((0,), dtype="float32")
