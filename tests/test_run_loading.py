"""Damaged run directories: every run file checked when a run is loaded, by the library,
the CLI and the server alike, with one error naming the file and the key."""

from __future__ import annotations

import json
import os
import re
import shutil
import threading

import pytest
from conftest import TINY, TINY_CLASSIFIER, make_events, make_texts
from typer.testing import CliRunner

from rnnkit import Forecaster, TextClassifier, forecasting
from rnnkit.cli.main import app
from rnnkit.errors import RunDirectoryError
from rnnkit.serving import load_runs

runner = CliRunner()


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    forecaster = Forecaster(time_column="created_at", target_column="amount", **TINY)
    forecaster.fit(make_events(), verbose=0).save(root / "forecast")
    TextClassifier(**TINY_CLASSIFIER).fit(make_texts(), verbose=0).save(root / "classify")
    return root


def _damaged_copy(run_dirs, tmp_path, job: str, name: str, change) -> str:
    """A copy of the ``job`` run whose JSON file ``name`` is changed by ``change``."""
    run = tmp_path / f"damaged-{job}"
    shutil.copytree(run_dirs / job, run)
    path = run / name
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return str(run)


def _cli(job: str, run: str):
    if job == "forecast":
        return runner.invoke(app, ["forecast", "predict", run])
    return runner.invoke(app, ["classify", "predict", run, "--text", "stolen card"])


def _one_error_line(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def _set(path: str, value):
    """A change that sets the dotted key ``path`` to ``value``."""

    def change(data):
        *parents, key = path.split(".")
        for parent in parents:
            data = data[parent]
        data[key] = value

    return change


def _drop(key: str):
    return lambda data: data.pop(key)


DAMAGES = [
    ("forecast", "preprocessing.json", _drop("scaler"), r"preprocessing.json: scaler is missing"),
    (
        "forecast",
        "preprocessing.json",
        _set("scaler.scale", "abc"),
        r"preprocessing.json: scaler.scale must be a valid number, got 'abc'",
    ),
    (
        "forecast",
        "preprocessing.json",
        _set("tail.index", ["zzz"] * 14),
        r"preprocessing.json: tail 'index' holds a value that is not a date",
    ),
    (
        "forecast",
        "config.json",
        _set("model.units", "abc"),
        r"config.json: model.units must be an integer >= 1, got 'abc'",
    ),
    (
        "forecast",
        "config.json",
        _set("horizon", 3),
        r"model.keras has 7 outputs but the horizon in config.json is 3",
    ),
    (
        "forecast",
        "metadata.json",
        _set("format_version", "1"),
        r"metadata.json: format_version must be an integer >= 1, got '1'",
    ),
    (
        "classify",
        "preprocessing.json",
        _drop("cleaning"),
        r"preprocessing.json: cleaning is missing",
    ),
    (
        "classify",
        "preprocessing.json",
        _set("majority_class", "zzz"),
        r"preprocessing.json: 'majority_class' 'zzz' is not in 'classes'",
    ),
    (
        "classify",
        "preprocessing.json",
        _set("sequence_length", -5),
        r"preprocessing.json: sequence_length must be greater than or equal to 1, got -5",
    ),
    (
        "classify",
        "preprocessing.json",
        _set("vocabulary_size", "many"),
        r"preprocessing.json: vocabulary_size must be a valid integer, got 'many'",
    ),
]


@pytest.mark.parametrize(("job", "name", "change", "message"), DAMAGES)
def test_a_damaged_run_is_one_error_naming_file_and_key(
    run_dirs, tmp_path, job, name, change, message
):
    run = _damaged_copy(run_dirs, tmp_path, job, name, change)
    line = _one_error_line(_cli(job, run))
    assert re.search(message, line), line
    assert "is damaged" in line and "Train again" in line
    load = forecasting.load if job == "forecast" else TextClassifier.load
    with pytest.raises(RunDirectoryError, match=message):
        load(run)
    with pytest.raises(RunDirectoryError, match=message):
        load_runs([run])


def _two_classes(data):
    data["classes"] = data["classes"][:2]
    data["majority_class"] = data["classes"][0]


def test_a_classes_list_shorter_than_the_model_outputs_is_refused_everywhere(run_dirs, tmp_path):
    run = _damaged_copy(run_dirs, tmp_path, "classify", "preprocessing.json", _two_classes)
    message = "model.keras has 3 outputs but the number of classes in preprocessing.json is 2"
    assert message in _one_error_line(_cli("classify", run))
    result = runner.invoke(app, ["classify", "predict", run, "--text", "card", "--top-k", "4"])
    assert message in _one_error_line(result)
    with pytest.raises(RunDirectoryError, match=message):
        TextClassifier.load(run)
    with pytest.raises(RunDirectoryError, match=message):
        load_runs([run])


def test_a_tokenizer_of_another_sequence_length_is_refused(run_dirs, tmp_path):
    run = _damaged_copy(
        run_dirs, tmp_path, "classify", "tokenizer.json", _set("padding.strategy", {"Fixed": 5})
    )
    with pytest.raises(RunDirectoryError, match="tokenizer.json pads to 5 and truncates to 12"):
        TextClassifier.load(run)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("name", ["preprocessing.json", "notes"])
def test_a_fifo_in_a_run_directory_is_refused_without_blocking(run_dirs, tmp_path, name):
    run = tmp_path / "with-fifo"
    shutil.copytree(run_dirs / "forecast", run)
    (run / name).unlink(missing_ok=True)
    os.mkfifo(run / name)
    outcome: list[BaseException] = []

    def load():
        try:
            forecasting.load(run)
        except BaseException as err:  # noqa: BLE001 - handed to the test thread
            outcome.append(err)

    # Opening a FIFO blocks until a writer comes; a daemon thread keeps a regression
    # from hanging the suite.
    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "loading a run with a FIFO in it blocked"
    assert len(outcome) == 1 and isinstance(outcome[0], RunDirectoryError), outcome
    assert re.search(rf"{name}' is a FIFO \(named pipe\), not a regular file", str(outcome[0]))
