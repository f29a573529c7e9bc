"""Fuzzing run directories: every JSON file of a tiny saved run mutated at random. Loading
either refuses with an rnnkit error or gives a run that predicts; never a traceback."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import TINY, TINY_CLASSIFIER, make_events, make_texts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnkit import Forecaster, TextClassifier, forecasting
from rnnkit.errors import RnnkitError

FILES = {
    "forecast": ("config.json", "preprocessing.json", "metadata.json", "metrics.json"),
    "classify": (
        "config.json",
        "preprocessing.json",
        "metadata.json",
        "metrics.json",
        "tokenizer.json",
    ),
}
REPLACEMENTS = st.sampled_from(
    [None, "abc", "", "1", -5, 0, 1e308, True, [], {}, [1, 2], {"x": 1}, "2106-01-01"]
)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    forecaster = Forecaster(time_column="created_at", target_column="amount", **TINY)
    forecaster.fit(make_events(), verbose=0).save(root / "forecast")
    TextClassifier(**TINY_CLASSIFIER).fit(make_texts(), verbose=0).save(root / "classify")
    return root


def _paths(node, prefix=()):
    """Every key or index path in a JSON tree, the root's children first."""
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in items:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key))


def _mutate(data, path, replacement, delete):
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement


def _use(job, run):
    if job == "forecast":
        forecasting.load(run).predict()
    else:
        TextClassifier.load(run).predict_top_k(["stolen card", ""], 4)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    job=st.sampled_from(sorted(FILES)),
    data=st.data(),
    replacement=REPLACEMENTS,
    delete=st.booleans(),
)
def test_a_mutated_run_file_is_refused_or_loads_never_a_traceback(
    saved, tmp_path_factory, job, data, replacement, delete
):
    name = data.draw(st.sampled_from(FILES[job]), label="file")
    run = tmp_path_factory.mktemp("mutated") / job
    shutil.copytree(saved / job, run)
    content = json.loads((run / name).read_text())
    paths = list(_paths(content))[:400]  # a tokenizer's vocabulary is long: its start
    if paths:
        path = data.draw(st.sampled_from(paths), label="path")
        _mutate(content, path, replacement, delete)
    else:
        content = replacement
    (run / name).write_text(json.dumps(content))
    try:
        _use(job, run)
    except RnnkitError:
        pass


def test_a_tokenizer_without_its_unknown_token_is_refused_on_load(saved, tmp_path):
    # Found by the fuzzer above: an emptied vocabulary loaded, then failed to encode.
    run = tmp_path / "classify"
    shutil.copytree(saved / "classify", run)
    content = json.loads((run / "tokenizer.json").read_text())
    content["model"]["vocab"] = {}
    (run / "tokenizer.json").write_text(json.dumps(content))
    with pytest.raises(RnnkitError, match="lacks its unknown token"):
        TextClassifier.load(run)
