"""Keras's ``unroll=True`` on the guide's network: compile time and step time.

The guide's forecasting network (4 x LSTM(50), dropout 0.2, windows of 60, batch 32) on
random data, as a plain Keras model on JAX, with the recurrent layers looped (Keras's
default, a ``lax.scan``) or unrolled. Prints the first epoch (compilation included) and
the median step of 4 more epochs of 40 steps.

    .venv/bin/python benchmarks/unroll_probe.py 0   # looped
    .venv/bin/python benchmarks/unroll_probe.py 1   # unrolled
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")


def main() -> None:
    import keras
    import numpy as np

    unroll = sys.argv[1:2] == ["1"]
    steps, batch, units, layers = 60, 32, 50, 4
    rng = np.random.default_rng(0)
    x = rng.random((batch * 40, steps, 1), dtype="float32")
    y = rng.random((batch * 40, 1), dtype="float32")
    inputs = keras.Input((steps, 1))
    hidden = inputs
    for k in range(layers):
        hidden = keras.layers.LSTM(units, return_sequences=k < layers - 1, unroll=unroll)(hidden)
        hidden = keras.layers.Dropout(0.2)(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    model.compile("adam", "mse")
    started = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)
    first = time.perf_counter() - started
    epochs = []
    for _ in range(4):
        started = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)
        epochs.append(time.perf_counter() - started)
    step_ms = 1000 * float(np.median(epochs)) / 40
    print(f"unroll={unroll}: first epoch {first:.2f} s, then {step_ms:.1f} ms a step")


if __name__ == "__main__":
    main()
