"""One writer per run directory, and what killed writers leave behind removed."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import make_events
from typer.testing import CliRunner

from rnnkit.cli.main import app
from rnnkit.core import persistence
from rnnkit.core.run_lock import run_lock
from rnnkit.errors import RunDirectoryError

runner = CliRunner()
FLAGS = [
    "--time-column", "created_at", "--target-column", "amount", "--lookback", "14",
    "--horizon", "7", "--num-layers", "1", "--units", "8", "--epochs", "1",
]  # fmt: skip


@contextlib.contextmanager
def _held_by_another_training(out, pid: int):
    """The lock file of ``out`` locked as a running training holds it."""
    fd = os.open(out.parent / f".{out.name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, f"{pid}\n".encode())
        yield
    finally:
        os.close(fd)


def test_a_second_training_into_the_same_out_is_refused_naming_the_first(tmp_path):
    data, out = tmp_path / "events.csv", tmp_path / "run"
    make_events().to_csv(data, index=False)
    with _held_by_another_training(out, 4242):
        result = runner.invoke(app, ["forecast", "train", str(data), *FLAGS, "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert (
        f"error: --out '{out}' is being written by another rnnkit training (process 4242)"
        in result.stderr
    )
    assert not out.exists()


def test_a_save_is_refused_while_a_training_holds_the_lock(tmp_path):
    out = tmp_path / "run"
    with _held_by_another_training(out, 4243):
        with pytest.raises(RunDirectoryError, match=r"\(process 4243\)\. Wait for it"):
            with persistence.staged_directory(out):
                pass
    assert not out.exists()


def test_the_lock_is_reentrant_in_its_thread_and_removed_when_released(tmp_path):
    out = tmp_path / "run"
    with run_lock(out):
        assert (tmp_path / ".run.lock").read_text() == f"{os.getpid()}\n"
        with persistence.staged_directory(out) as staging:  # a training saving its run
            (staging / "a.txt").write_text("a")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_save_removes_the_staging_folders_and_states_killed_writers_left(tmp_path):
    out = tmp_path / "run"
    killed = tmp_path / ".run.partial-0badc0de"
    killed.mkdir()
    (killed / "model.keras").write_bytes(b"half")
    (tmp_path / ".run.training-state.npz.4242.tmp").write_bytes(b"half")
    kept = {
        ".run.training-state.npz",  # what --resume continues from
        ".run.partial-notours",  # not our name
        ".other.partial-0badc0de",  # another run's
        ".run.partial-12345678",  # holds a folder: not what rnnkit writes
    }
    for name in kept - {".run.training-state.npz"}:
        (tmp_path / name).mkdir()
    (tmp_path / ".run.partial-12345678" / "inner").mkdir()
    (tmp_path / ".run.training-state.npz").write_bytes(b"state")
    with persistence.staged_directory(out) as staging:
        (staging / "a.txt").write_text("a")
    assert {p.name for p in tmp_path.iterdir()} == kept | {"run"}


def test_a_training_state_older_than_the_run_is_removed_and_a_newer_one_kept(tmp_path):
    out = tmp_path / "run"
    with persistence.staged_directory(out) as staging:
        (staging / "a.txt").write_text("a")
    state = tmp_path / ".run.training-state.npz"
    np.savez(state, epoch=np.array(3))
    os.utime(state, (time.time() + 60, time.time() + 60))  # written after the run: resumable
    with persistence.staged_directory(out, overwrite=True) as staging:
        (staging / "a.txt").write_text("b")
    assert state.exists()
    # Its training finished (the run was saved after its last epoch), but a kill came
    # before the state was removed: stale.
    os.utime(state, (time.time() - 3600, time.time() - 3600))
    with persistence.staged_directory(out, overwrite=True) as staging:
        (staging / "a.txt").write_text("c")
    assert not state.exists()


def test_a_full_disk_during_a_save_is_one_error_and_leaves_nothing(tmp_path, monkeypatch):
    data, out = tmp_path / "events.csv", tmp_path / "runs" / "run"
    make_events().to_csv(data, index=False)

    def full(path, content):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(persistence, "write_json", full)
    result = runner.invoke(app, ["forecast", "train", str(data), *FLAGS, "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1
    assert f"error: Could not write the run '{out}': No space left on device" in lines[0]
    assert "Nothing was written" in lines[0]
    # No run, no staging folder, no lock; the training state is kept for --resume.
    assert [p.name for p in out.parent.iterdir()] == [".run.training-state.npz"]


def test_a_read_only_place_for_the_run_is_one_error(tmp_path, monkeypatch):
    real_mkdir = Path.mkdir

    def read_only(self, *args, **kwargs):
        if self.name.startswith(".run.partial-"):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    with pytest.raises(
        RunDirectoryError, match=r"Could not create the run .*Read-only file system"
    ):
        with persistence.staged_directory(tmp_path / "run"):
            pass
    assert list(tmp_path.iterdir()) == []
