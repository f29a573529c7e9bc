"""Does a larger batch make the default global model's epoch faster? Time per window.

The ensemble ``GlobalForecaster`` builds for daily data with horizon 28 (five GRU(32)
members, window 56), compiled with Adam and the MAE, ``train_on_batch`` on random windows
at batch 32, 64, 128 and 256: the median of 30 steps each (after one to compile), and
the time per window. An epoch's time is its windows times the time per window, so a
larger batch pays only where the time per window falls.

    .venv/bin/python benchmarks/global_batch_scan.py

Prints a table and writes benchmarks/results/global_batch_scan.json.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
RESULTS = Path(__file__).parent / "results" / "global_batch_scan.json"


def main() -> None:
    import keras
    import numpy as np

    from rnnkit import GlobalForecaster

    forecaster = GlobalForecaster(horizon=28, freq="D", id_column="store")
    keras.utils.set_random_seed(0)
    model = forecaster._build_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mae")
    rng = np.random.default_rng(0)
    rows = {}
    for batch in (32, 64, 128, 256):
        x = rng.normal(size=(batch, *model.inputs[0].shape[1:])).astype("float32")
        y = rng.normal(size=(batch, *model.output.shape[1:])).astype("float32")
        model.train_on_batch(x, y)  # compile
        times = []
        for _ in range(30):
            started = time.perf_counter()
            model.train_on_batch(x, y)
            times.append(time.perf_counter() - started)
        step = 1000 * float(np.median(times))
        rows[batch] = {"ms_per_step": step, "us_per_window": 1000 * step / batch}
        print(f"batch {batch:4d}: {step:7.2f} ms a step, {1000 * step / batch:6.1f} us a window")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(rows, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
