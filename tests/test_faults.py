"""Faults: killed training resumes, killed saves leave a whole run, NaN keeps the best."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import TINY, make_events, make_texts

from rnnkit import Forecaster, TextClassifier
from rnnkit.core import persistence
from rnnkit.core.resume import ResumableTraining, state_path
from rnnkit.errors import ConfigError

SRC = Path(__file__).resolve().parents[1] / "src"
# Resumed and uninterrupted runs repeat the same float32 arithmetic in the same order,
# so they agree exactly in practice; this tolerance only absorbs a different BLAS path.
RESUME_RTOL, RESUME_ATOL = 1e-5, 1e-6


# ----------------------------------------------------------------- resume
def _forecast_job(tmp_path: Path) -> tuple[list[str], Callable[[Path], np.ndarray]]:
    data = tmp_path / "events.csv"
    make_events().to_csv(data, index=False)
    command = [
        sys.executable, "-m", "rnnkit", "forecast", "train", str(data),
        "--time-column", "created_at", "--target-column", "amount",
        "--lookback", "14", "--horizon", "7", "--num-layers", "1", "--units", "8",
        "--dropout", "0.1", "--batch-size", "8", "--epochs", "6", "--patience", "20",
        "--seed", "7",
    ]  # fmt: skip
    return command, lambda run: Forecaster.load(run).predict()["forecast"].to_numpy()


def _classify_job(tmp_path: Path) -> tuple[list[str], Callable[[Path], np.ndarray]]:
    data = tmp_path / "texts.csv"
    make_texts(rows_per_class=120).to_csv(data, index=False)
    command = [
        sys.executable, "-m", "rnnkit", "classify", "train", str(data),
        "--text-column", "text", "--label-column", "label", "--units", "8",
        "--embedding-dim", "8", "--sequence-length", "12", "--dropout", "0.1",
        "--batch-size", "8", "--epochs", "6", "--patience", "20", "--seed", "7",
    ]  # fmt: skip
    texts = make_texts(rows_per_class=3, seed=1)["text"].tolist()
    return command, lambda run: TextClassifier.load(run).predict_proba(texts)


def _saved_epochs(path: Path) -> int | None:
    try:
        return ResumableTraining(path, {}, resume=True).saved_epochs()
    except Exception:  # the file is being renamed into place this instant
        return None


# Three real training processes per job: about a minute on 2 loaded cores, so marked slow
# (`make test` skips it; `make test-slow` and CI run it).
@pytest.mark.slow
@pytest.mark.parametrize("job", [_forecast_job, _classify_job], ids=["forecast", "classify"])
def test_training_killed_mid_run_resumes_to_the_uninterrupted_result(tmp_path, job):
    command, outputs = job(tmp_path)
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    reference_out, killed_out = tmp_path / "reference", tmp_path / "killed"
    # The reference runs alongside the run that gets killed: two cores, half the wall time.
    reference = subprocess.Popen(
        [*command, "--out", str(reference_out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    victim = subprocess.Popen(
        [*command, "--out", str(killed_out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    state = state_path(killed_out)
    try:
        deadline = time.monotonic() + 120
        while (_saved_epochs(state) or 0) < 2:
            assert victim.poll() is None, "training ended before it could be killed"
            assert time.monotonic() < deadline, "no epoch state appeared in 120 s"
            time.sleep(0.01)
        victim.send_signal(signal.SIGKILL)  # mid-epoch 3: no handler, no cleanup
        victim.wait(timeout=30)
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
    killed_at = _saved_epochs(state)
    assert 2 <= killed_at < 6 and not killed_out.exists()

    resumed = subprocess.run(
        [*command, "--out", str(killed_out), "--resume"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resuming after epoch {killed_at} from the saved training state" in resumed.stderr
    output, _ = reference.communicate(timeout=180)
    assert reference.returncode == 0, output[-2000:]

    ours = pd.read_csv(killed_out / "history.csv")
    theirs = pd.read_csv(reference_out / "history.csv")
    assert len(ours) == len(theirs) == 6
    np.testing.assert_allclose(
        ours["val_loss"], theirs["val_loss"], rtol=RESUME_RTOL, atol=RESUME_ATOL
    )
    np.testing.assert_allclose(
        outputs(killed_out), outputs(reference_out), rtol=RESUME_RTOL, atol=RESUME_ATOL
    )
    assert not state.exists(), "the state is removed once the run is written"


class _Interrupt(keras.callbacks.Callback):
    """Stands in for Ctrl-C at the start of ``epoch``."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_resume_refuses_a_state_saved_with_other_settings(tmp_path):
    state = tmp_path / ".run.training-state.npz"
    settings = dict(time_column="created_at", target_column="amount", **{**TINY, "epochs": 3})
    with pytest.raises(KeyboardInterrupt):
        Forecaster(**settings).fit(
            make_events(), verbose=0, state_path=state, callbacks=(_Interrupt(1),)
        )
    assert ResumableTraining(state, {}, resume=True).saved_epochs() == 1
    with pytest.raises(
        ConfigError,
        match=r"Cannot resume from .*other settings \(.*"
        r"model.units: saved 8, now 16.*drop --resume to start over",
    ):
        Forecaster(**{**settings, "units": 16}).fit(
            make_events(), verbose=0, state_path=state, resume=True
        )


# ----------------------------------------------------------------- atomic run directories
def _write_run(directory: Path, version: int) -> None:
    persistence.write_json(directory / "metadata.json", {"format_version": 1, "job": "forecast"})
    for name in ("a.txt", "b.txt", "c.txt"):
        (directory / name).write_text(str(version))


def _versions(run: Path) -> set[str]:
    persistence.open_run(run, "forecast", ("a.txt", "b.txt", "c.txt"))
    return {(run / name).read_text() for name in ("a.txt", "b.txt", "c.txt")}


def test_a_save_killed_between_the_two_renames_is_finished_on_next_load(tmp_path, monkeypatch):
    run = tmp_path / "run"
    with persistence.staged_directory(run) as staging:
        _write_run(staging, 1)
    real_replace = os.replace
    calls = []

    def replace_then_die(source, target):
        calls.append(target)
        if len(calls) == 2:
            raise SystemExit("killed")  # after `run` became `.run.old-*`, before the new one
        real_replace(source, target)

    monkeypatch.setattr(persistence.os, "replace", replace_then_die)
    with pytest.raises(SystemExit):
        with persistence.staged_directory(run, overwrite=True) as staging:
            _write_run(staging, 2)
    monkeypatch.setattr(persistence.os, "replace", real_replace)
    assert not run.exists()  # the window the fix is about
    assert _versions(run) == {"2"}  # open_run finished the swap: the new run, complete
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_the_old_run_is_put_back_when_the_new_one_is_gone(tmp_path):
    run = tmp_path / "run"
    retired = tmp_path / ".run.old-1234abcd"
    retired.mkdir()
    _write_run(retired, 1)
    assert _versions(run) == {"1"}
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


CHILD = textwrap.dedent(
    """
    import os, sys, time
    sys.path.insert(0, sys.argv[1])
    from rnnkit.core import persistence  # a fast start: `import rnnkit` loads no Keras

    class SlowOs:  # widens the window between the two renames, so kills land in it
        def __getattr__(self, name):
            return getattr(os, name)
        def replace(self, source, target):
            os.replace(source, target)
            time.sleep(0.02)

    persistence.os = SlowOs()
    run, version = sys.argv[2], int(sys.argv[3])
    while True:
        version += 1
        with persistence.staged_directory(run, overwrite=True) as staging:
            persistence.write_json(staging / "metadata.json",
                                   {"format_version": 1, "job": "forecast"})
            for name in ("a.txt", "b.txt", "c.txt"):
                (staging / name).write_text(str(version))
                time.sleep(0.005)
    """
)


def test_saves_killed_at_random_moments_leave_the_old_run_or_the_new_one(tmp_path):
    run, script = tmp_path / "run", tmp_path / "saver.py"
    script.write_text(CHILD)
    with persistence.staged_directory(run) as staging:
        _write_run(staging, 0)
    rng, last, missing = random.Random(0), 0, 0
    for _ in range(12):
        child = subprocess.Popen([sys.executable, str(script), str(SRC), str(run), str(last)])
        time.sleep(rng.uniform(0.15, 0.6))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        missing += not run.exists()
        versions = _versions(run)  # recovers, then checks that every file is there
        assert len(versions) == 1, f"a half-written run: {versions}"
        version = int(versions.pop())
        assert version >= last
        last = version
    assert last > 0
    print(f"12 kills, {missing} left the run directory missing until recovered")


# ----------------------------------------------------------------- NaN
class _Diverge(keras.callbacks.Callback):
    """Makes the loss overflow from ``epoch`` on: a learning rate no model survives."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            self.model.optimizer.learning_rate.assign(1e30)


def test_nan_loss_stops_training_and_keeps_a_usable_run(tmp_path):
    settings = dict(
        time_column="created_at",
        target_column="amount",
        # MSE squares the overflowing outputs into inf (MAE can stay finite at 1e30).
        **{**TINY, "epochs": 8, "patience": 20, "gradient_health": False, "loss": "mse"},
    )
    forecaster = Forecaster(**settings).fit(make_events(), verbose=0, callbacks=(_Diverge(3),))
    losses = forecaster.history_["loss"]
    assert forecaster.stopped_on_nan_
    assert len(losses) == 4 and np.isfinite(losses[:3]).all() and not np.isfinite(losses[3])
    assert all(np.isfinite(w).all() for w in forecaster.model_.get_weights())
    run = forecaster.save(tmp_path / "run")
    assert "Training stopped on a NaN loss" in (run / "report.html").read_text()
    forecast = Forecaster.load(run).predict()["forecast"].to_numpy()
    assert np.isfinite(forecast).all()
    np.testing.assert_allclose(forecast, forecaster.predict()["forecast"], rtol=1e-6)
