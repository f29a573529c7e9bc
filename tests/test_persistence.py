import pytest

from rnnkit import RunDirectoryError
from rnnkit.core.persistence import open_run, staged_directory, write_json


def test_failed_write_leaves_nothing_behind(tmp_path):
    with pytest.raises(RuntimeError):
        with staged_directory(tmp_path / "run") as staging:
            (staging / "model.keras").write_text("half")
            raise RuntimeError("crash while saving")
    assert list(tmp_path.iterdir()) == []


def test_existing_run_is_kept_unless_overwrite(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "old.txt").write_text("old")
    with pytest.raises(RunDirectoryError, match="exists and is not empty. Pass --overwrite"):
        with staged_directory(run):
            pass
    with staged_directory(run, overwrite=True) as staging:
        (staging / "new.txt").write_text("new")
    assert [p.name for p in run.iterdir()] == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_open_run_refuses_a_run_of_the_other_job(tmp_path):
    write_json(tmp_path / "metadata.json", {"format_version": 1, "job": "classify"})
    with pytest.raises(RunDirectoryError, match="is a 'classify' run.*rnnkit classify"):
        open_run(tmp_path, "forecast", ())


def test_open_run_refuses_newer_formats_and_non_runs(tmp_path):
    with pytest.raises(RunDirectoryError, match="not an rnnkit run"):
        open_run(tmp_path, "forecast", ())
    write_json(tmp_path / "metadata.json", {"format_version": 99, "job": "forecast"})
    with pytest.raises(RunDirectoryError, match="Upgrade rnnkit"):
        open_run(tmp_path, "forecast", ())


def test_open_run_names_missing_files(tmp_path):
    write_json(tmp_path / "metadata.json", {"format_version": 1, "job": "forecast"})
    with pytest.raises(RunDirectoryError, match="incomplete: missing model.keras"):
        open_run(tmp_path, "forecast", ("model.keras",))
