"""Saved runs with code or pickles in them are refused before anything is deserialised."""

from __future__ import annotations

import json
import pickle
import shutil
import zipfile

import keras
import pytest

from rnnkit import Forecaster, RunDirectoryError
from rnnkit.core import persistence


@pytest.fixture(scope="module")
def saved_run(trained_forecaster, tmp_path_factory):
    return trained_forecaster.save(tmp_path_factory.mktemp("safety") / "run")


@pytest.fixture
def run(saved_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(saved_run, copy)
    return copy


def _lambda_model(function) -> keras.Model:
    """A model of the forecaster's shape with a Lambda layer in it."""
    inputs = keras.Input(shape=(14, 1), name="window")
    x = keras.layers.Lambda(function, name="sneaky")(inputs)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(7, name="forecast")(x))


def test_an_untouched_run_loads(run):
    Forecaster.load(run)


@pytest.mark.parametrize(
    "function", [lambda x: x * 2, keras.ops.relu], ids=["python-lambda", "named-function"]
)
def test_a_model_with_a_lambda_layer_is_refused(run, function):
    # Keras's safe mode alone refuses the Python lambda but loads the named function.
    _lambda_model(function).save(run / "model.keras")
    with pytest.raises(
        RunDirectoryError,
        match=r"Refusing to load .*'model.keras' holds a Lambda layer "
        r"\('sneaky'\), which runs arbitrary Python code",
    ):
        Forecaster.load(run)


def test_a_model_with_an_object_from_another_module_is_refused(run):
    with zipfile.ZipFile(run / "model.keras") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    config["config"]["layers"][-1]["module"] = "mypackage.layers"
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(run / "model.keras", "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    with pytest.raises(RunDirectoryError, match=r"from module 'mypackage.layers'.*only Keras"):
        Forecaster.load(run)


@pytest.mark.parametrize("name", ["scaler.pkl", "model.joblib", "extra/state.pickle"])
def test_a_pickle_file_anywhere_in_the_run_is_refused(run, name):
    path = run / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"harmless bytes, refused by name")
    with pytest.raises(RunDirectoryError, match=rf"it holds a pickle file, '{name}'"):
        Forecaster.load(run)


def test_pickle_bytes_under_any_name_are_refused(run):
    (run / "notes.txt").write_bytes(pickle.dumps({"looks": "innocent"}))
    with pytest.raises(RunDirectoryError, match=r"'notes.txt' is a pickle"):
        Forecaster.load(run)


def test_a_pickle_inside_the_keras_archive_is_refused(run):
    with zipfile.ZipFile(run / "model.keras", "a") as archive:
        archive.writestr("assets/extra.bin", pickle.dumps([1, 2, 3]))
    with pytest.raises(RunDirectoryError, match=r"member 'assets/extra.bin' is a pickle"):
        persistence.check_run_safety(run)
