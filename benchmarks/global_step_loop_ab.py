"""The default global model's training step with GRUs on Keras's fused JAX loop and on
the step loop, in one process: the ensemble ``GlobalForecaster`` builds for daily data
with horizon 28 (five GRU(32) members, window 56), batch 32 of random windows,
``train_on_batch`` timed 60 times each, the two interleaved, medians.

    .venv/bin/python benchmarks/global_step_loop_ab.py
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("KERAS_BACKEND", "jax")


def main() -> None:
    import keras
    import numpy as np

    import rnnkit.core.models as models
    from rnnkit import GlobalForecaster

    forecaster = GlobalForecaster(horizon=28, freq="D", id_column="store")

    def build(step_loop: bool):
        models.step_loop_gru = lambda: step_loop  # read when each GRU is built
        keras.utils.set_random_seed(0)
        model = forecaster._build_model()
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mae")
        return model

    built = {loop: build(loop) for loop in (False, True)}
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, *built[True].inputs[0].shape[1:])).astype("float32")
    y = rng.normal(size=(32, *built[True].output.shape[1:])).astype("float32")
    times: dict[bool, list[float]] = {loop: [] for loop in built}
    for model in built.values():
        model.train_on_batch(x, y)  # compile
    for _ in range(60):
        for loop, model in built.items():
            started = time.perf_counter()
            model.train_on_batch(x, y)
            times[loop].append(time.perf_counter() - started)
    for loop, seconds in times.items():
        name = "step loop" if loop else "fused"
        print(f"{name:9s} {1000 * float(np.median(seconds)):.2f} ms a training step")


if __name__ == "__main__":
    main()
