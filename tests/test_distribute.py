"""Data-parallel training (``distribute=True``) matches single-device training.

JAX fixes its device count when it initialises, so each check runs in a subprocess with
``XLA_FLAGS=--xla_force_host_platform_device_count=2`` (two CPU devices) or, for the
multi-process check, with the ``RNNKIT_*`` process-group variables.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from rnnkit.config import TrainingConfig
from rnnkit.errors import ConfigError

TESTS = Path(__file__).parent
# Data parallelism all-reduces the same gradient a single device computes; only the order
# of float sums differs. Measured: relative differences below 1e-6 over 3 epochs.
RTOL = 1e-4

# Trains the tiny forecaster with and without distribute on the same seed and global batch.
# 121 days give 76 training and 12 validation windows: both split evenly over 2 devices and
# the batch of 16 does too, so the distributed run trains on exactly the same rows.
SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    os.environ["KERAS_BACKEND"] = "jax"
    sys.path.insert(0, {tests!r})
    import jax, keras
    from conftest import TINY, make_events
    from rnnkit import Forecaster, training

    distribute = sys.argv[1] == "1"
    shown = {{}}

    class Mesh(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            d = keras.distribution.distribution()
            shown["mesh"] = None if d is None else d.device_mesh.devices.tolist()

    training.initialize_processes()
    f = Forecaster(
        time_column="created_at", target_column="amount", distribute=distribute,
        gradient_health=False, **{{**TINY, "epochs": 3}}
    ).fit(make_events(days=121), verbose=0, callbacks=(Mesh(),))
    result = {{
        "devices": len(jax.devices()),
        "processes": jax.process_count(),
        "mesh": shown["mesh"],
        "history": {{k: f.history_[k] for k in ("loss", "val_loss")}},
    }}
    print("RESULT " + json.dumps(result))
    """
)


def _train(tmp_path: Path, distribute: bool, env: dict[str, str]) -> subprocess.Popen:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT.format(tests=str(TESTS)))
    return subprocess.Popen(
        [sys.executable, str(script), "1" if distribute else "0"],
        env={**os.environ, "KERAS_BACKEND": "jax", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _result(process: subprocess.Popen) -> dict:
    output, _ = process.communicate(timeout=240)
    assert process.returncode == 0, output[-3000:]
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def _assert_same_curves(single: dict, parallel: dict) -> None:
    for key in ("loss", "val_loss"):
        a, b = np.array(single["history"][key]), np.array(parallel["history"][key])
        print(f"{key}: single {a}, distributed {b}, max rel diff {np.max(np.abs(a - b) / a):.2e}")
        np.testing.assert_allclose(b, a, rtol=RTOL)


def test_two_devices_match_one(tmp_path):
    two_devices = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    single = _result(_train(tmp_path, False, two_devices))
    parallel = _result(_train(tmp_path, True, two_devices))
    print("devices", parallel["devices"], "mesh", parallel["mesh"])
    assert parallel["devices"] == 2
    assert parallel["mesh"] == ["cpu:0", "cpu:1"]
    assert single["mesh"] is None
    _assert_same_curves(single, parallel)


def test_distribute_is_validated():
    with pytest.raises(ConfigError, match="distribute"):
        TrainingConfig(distribute="yes")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_match_one(tmp_path):
    coordinator = f"127.0.0.1:{_free_port()}"
    workers = [
        _train(
            tmp_path,
            True,
            {
                "RNNKIT_COORDINATOR": coordinator,
                "RNNKIT_NUM_PROCESSES": "2",
                "RNNKIT_PROCESS_ID": str(process),
                "XLA_FLAGS": "--xla_force_host_platform_device_count=1",
            },
        )
        for process in range(2)
    ]
    results = [_result(worker) for worker in workers]
    single = _result(_train(tmp_path, False, {}))
    print("processes", results[0]["processes"], "mesh", results[0]["mesh"])
    assert results[0]["processes"] == 2 and results[0]["devices"] == 2
    assert results[0]["history"] == results[1]["history"]  # one model, one history
    for key in ("loss", "val_loss"):
        a, b = np.array(single["history"][key]), np.array(results[0]["history"][key])
        print(f"{key}: single {a}, two processes {b}, max rel diff {np.max(np.abs(a - b) / a):.2e}")
        # Each process shuffles its own half, so batches differ: measured 2.5e-3 relative.
        np.testing.assert_allclose(b, a, rtol=1e-2)
