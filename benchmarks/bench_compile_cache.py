"""The persistent compilation cache: one default training, cold cache then warm.

Each run is a fresh process that trains the default Forecaster on the same generated
daily series (500 days, weekly cycle) with ``RNNKIT_COMPILATION_CACHE`` pointing at a new
empty folder; the second process finds the first one's compiled programs there.

    .venv/bin/python benchmarks/bench_compile_cache.py

Prints the fit time of each run and writes benchmarks/results/compile_cache.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import time, numpy as np, pandas as pd
from rnnkit import Forecaster
days = pd.date_range("2024-01-01", periods=500, freq="D", name="date")
rng = np.random.default_rng(0)
values = 100 + 20 * (np.arange(500) % 7 < 5) + rng.normal(0, 5, 500)
series = pd.Series(values, index=days, name="value")
started = time.perf_counter()
f = Forecaster(horizon=28, gradient_health=False).fit(series, verbose=0)
print(time.perf_counter() - started, len(f.history_["loss"]))
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "RNNKIT_COMPILATION_CACHE": cache, "KERAS_BACKEND": "jax"}
        runs = {}
        for name in ("cold", "warm"):
            out = subprocess.run(
                [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True
            ).stdout.split()
            runs[name] = {"fit_seconds": float(out[0]), "epochs": int(out[1])}
            print(f"{name}: fit {runs[name]['fit_seconds']:.1f} s ({runs[name]['epochs']} epochs)")
    path = Path(__file__).resolve().parent / "results" / "compile_cache.json"
    path.write_text(json.dumps(runs, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
