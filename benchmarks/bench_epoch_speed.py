"""Seconds per training epoch of the guide's network: rnnkit against a plain Keras script.

Both train the guide's forecaster (4 x LSTM(50), dropout 0.2, lookback 60, batch 32) on
the same windows of the loans series, in the same run. rnnkit runs in this interpreter
(Keras on JAX); the plain script runs under ``--tf-python``, an interpreter with
TensorFlow installed (e.g. ``python3 -m venv .venv-tf && .venv-tf/bin/pip install
tensorflow-cpu==2.21.0 keras==3.15.1``), with KERAS_BACKEND=tensorflow.

    .venv/bin/python benchmarks/bench_epoch_speed.py --tf-python .venv-tf/bin/python

Reports the median epoch time after the first (which compiles) and the ratio; writes
benchmarks/results/epoch_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")  # before Keras is imported

import keras
import numpy as np
import pandas as pd

from rnnkit.config import ModelConfig, TrainingConfig
from rnnkit.core import training
from rnnkit.core.models import build_forecaster
from rnnkit.data.windows import make_windows

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


class EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def windows() -> tuple[np.ndarray, np.ndarray]:
    rows = pd.read_csv(SHARED / "loans" / "loans.csv", parse_dates=["created_at"])
    daily = rows.set_index("created_at")["amount"].resample("D").sum().to_numpy()
    scaled = (daily - daily.min()) / (daily.max() - daily.min())
    x, y = make_windows(scaled, lookback=60, steps=1, target_start=60, target_end=len(scaled))
    return x[..., None].astype("float32"), y.astype("float32")


def rnnkit_epochs(x: np.ndarray, y: np.ndarray, epochs: int) -> list[float]:
    training.seed_everything(0)
    config = TrainingConfig(epochs=epochs, batch_size=32, patience=epochs + 1)
    model = build_forecaster(60, 1, ModelConfig(num_layers=4, units=50, dropout=0.2))
    training.compile_model(model, config, "mse")
    timer = EpochTimer()
    # Validation on a copy of a few windows only to satisfy early stopping's monitor.
    training.fit(model, (x, y), (x[:32], y[:32]), config, callbacks=[timer], verbose=0)
    return timer.seconds


def script_epochs(python: str, backend: str, x: np.ndarray, y: np.ndarray, epochs: int) -> list:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "windows.npz"
        np.savez(path, x=x, y=y)
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
        script = Path(__file__).with_name("guide_keras_script.py")
        output = subprocess.run(
            [python, str(script), str(path), str(epochs)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return json.loads(output.strip().splitlines()[-1])["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tf-python", default=".venv-tf/bin/python")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "epoch_speed.json"
    )
    args = parser.parse_args()
    x, y = windows()
    print(f"{len(x)} windows of 60 days, batch 32, {args.epochs} epochs each")
    results = {
        "rnnkit (Keras/JAX)": rnnkit_epochs(x, y, args.epochs),
        "plain Keras script, TensorFlow backend": script_epochs(
            args.tf_python, "tensorflow", x, y, args.epochs
        ),
        "plain Keras script, JAX backend": script_epochs(args.tf_python, "jax", x, y, args.epochs)
        if _has_jax(args.tf_python)
        else None,
    }
    results = {k: v for k, v in results.items() if v is not None}
    base = statistics.median(results["plain Keras script, TensorFlow backend"][1:])
    print(f"{'setup':42s} {'first epoch s':>14s} {'median epoch s':>15s} {'vs TF':>7s}")
    rows = {}
    for name, seconds in results.items():
        median = statistics.median(seconds[1:])
        rows[name] = {
            "first_epoch_s": seconds[0],
            "median_epoch_s": median,
            "speedup_vs_tensorflow": base / median,
            "epochs_s": seconds,
        }
        print(f"{name:42s} {seconds[0]:14.2f} {median:15.3f} {base / median:6.2f}x")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"windows": len(x), "results": rows}, indent=2))
    print(f"wrote {args.out}")


def _has_jax(python: str) -> bool:
    return subprocess.run([python, "-c", "import jax"], capture_output=True).returncode == 0


if __name__ == "__main__":
    main()
