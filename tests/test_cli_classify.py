"""``rnnkit classify`` end to end with Typer's CliRunner, on small data."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import make_complaints
from typer.testing import CliRunner

from rnnkit.cli.main import app

runner = CliRunner()
TINY_FLAGS = [
    "--units",
    "8",
    "--embedding-dim",
    "8",
    "--epochs",
    "2",
    "--batch-size",
    "16",
    "--sequence-length",
    "12",
    "--no-refit",  # the refit trains every model twice; tests/test_classification.py tests it
]


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def train_args(data, out, *extra):
    return [
        "classify",
        "train",
        data,
        "--text-column",
        "complaint",
        "--label-column",
        "product",
        "--out",
        out,
        *TINY_FLAGS,
        *extra,
    ]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    data = folder / "complaints.csv"
    make_complaints().to_csv(data, index=False)
    out = folder / "run"
    result = run(*train_args(data, out))
    assert result.exit_code == 0, result.output
    return folder, data, out, result


def test_train_prints_distribution_metrics_and_report(trained):
    _, _, out, result = trained
    assert "tfidf_linear" in result.output and "majority" in result.output
    assert "sequence length 12" in result.output
    assert f"report: {out / 'report.html'}" in result.output
    assert (out / "model.keras").exists() and (out / "tokenizer.json").exists()


def test_predict_texts_as_csv(trained):
    _, _, out, _ = trained
    result = run("classify", "predict", out, "--text", "stolen card", "--text", "loan interest")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "complaint,label,probability"
    assert len(lines) == 3 and lines[1].split(",")[1] in {"card", "loan"}


def test_predict_json_with_top_k(trained):
    _, _, out, _ = trained
    result = run("classify", "predict", out, "--text", "stolen card", "--top-k", "2", "--json")
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.stdout)
    assert {p["label"] for p in record["top_k"]} == {"card", "loan"}
    assert record["label"] == record["top_k"][0]["label"]


def test_predict_input_file_to_output_file(trained):
    folder, data, out, _ = trained
    target = folder / "predictions.csv"
    result = run("classify", "predict", out, "--input", data, "--output", target, "--top-k", "2")
    assert result.exit_code == 0, result.output
    predictions = pd.read_csv(target)
    assert list(predictions.columns) == [
        "complaint",
        "label",
        "probability",
        "label_2",
        "probability_2",
    ]
    assert len(predictions) == 40


def test_evaluate_table_and_json(trained):
    folder, _, out, _ = trained
    new = folder / "new.csv"
    frame = make_complaints(5, seed=4)
    frame.loc[0, "product"] = "pension"
    frame.to_csv(new, index=False)
    table = run("classify", "evaluate", out, "--data", new)
    assert table.exit_code == 0, table.output
    assert "1 rows have labels the run does not know" in table.stderr
    assert "macro_f1" in table.stdout
    as_json = run("classify", "evaluate", out, "--data", new, "--json")
    metrics = json.loads(as_json.stdout)
    assert set(metrics) == {"model", "majority"} and "weighted_f1" in metrics["model"]


def test_train_refuses_an_existing_run_without_overwrite(trained):
    _, data, out, _ = trained
    result = run(*train_args(data, out))
    assert result.exit_code == 1
    assert "--overwrite" in result.stderr


# ----------------------------------------------------------------- bad input
def assert_user_error(result, pattern: str, out=None):
    """Exit 1, one line on stderr matching ``pattern``, no traceback, no run directory."""
    import re

    assert result.exit_code == 1, result.output
    assert re.search(pattern, result.stderr), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    if out is not None:
        assert not out.exists()
        assert not list(out.parent.glob(f".{out.name}.partial-*"))


def test_missing_label_column_suggests_the_closest(tmp_path):
    data = tmp_path / "d.csv"
    make_complaints(5).rename(columns={"product": "Product"}).to_csv(data, index=False)
    result = run(*train_args(data, tmp_path / "run"))
    assert_user_error(result, r"no column 'product'\. Did you mean 'Product'\?", tmp_path / "run")


def test_single_class_is_a_user_error(tmp_path):
    data = tmp_path / "d.csv"
    make_complaints(5).assign(product="card").to_csv(data, index=False)
    assert_user_error(
        run(*train_args(data, tmp_path / "run")), r"single class \('card'", tmp_path / "run"
    )


def test_class_with_too_few_rows_is_named(tmp_path):
    data = tmp_path / "d.csv"
    frame = pd.concat(
        [make_complaints(5), pd.DataFrame({"complaint": ["gold"], "product": ["coin"]})]
    )
    frame.to_csv(data, index=False)
    assert_user_error(run(*train_args(data, tmp_path / "run")), r"'coin' \(1\)", tmp_path / "run")


def test_texts_empty_after_cleaning_is_a_user_error(tmp_path):
    data = tmp_path / "d.csv"
    pd.DataFrame({"complaint": ["123", "XXXX"], "product": ["a", "b"]}).to_csv(data, index=False)
    assert_user_error(
        run(*train_args(data, tmp_path / "run")), "empty after cleaning", tmp_path / "run"
    )


def test_non_utf8_file_is_a_user_error(tmp_path):
    data = tmp_path / "d.csv"
    data.write_bytes("complaint,product\nd\xe9bit card,card\n".encode("latin-1"))
    assert_user_error(run(*train_args(data, tmp_path / "run")), "not UTF-8", tmp_path / "run")


def test_prediction_input_without_the_text_column(trained, tmp_path):
    _, _, out, _ = trained
    data = tmp_path / "texts.csv"
    pd.DataFrame({"body": ["stolen card"]}).to_csv(data, index=False)
    result = run("classify", "predict", out, "--input", data)
    assert_user_error(result, r"no column 'complaint'.*Pass --text-column")


def test_predict_with_a_forecast_run_directory(tmp_path):
    (tmp_path / "metadata.json").write_text(json.dumps({"job": "forecast", "format_version": 1}))
    result = run("classify", "predict", tmp_path, "--text", "hello")
    assert_user_error(result, r"is a 'forecast' run, not a 'classify' run")


def test_predict_needs_texts(trained):
    _, _, out, _ = trained
    assert_user_error(run("classify", "predict", out), "Give texts to classify")


def test_train_warns_of_a_class_it_cannot_tell_from_another(tmp_path):
    # Every 'card' and 'other' text is the same: the network predicts one class for it, so
    # at least one of the two is never predicted.
    rows = make_complaints()
    rows.loc[rows["product"] == "card", "complaint"] = "stolen card pin atm XXXX"
    same = rows[rows["product"] == "card"].head(10).assign(product="other")
    rows = pd.concat([rows, same], ignore_index=True)
    data = tmp_path / "complaints.csv"
    rows.to_csv(data, index=False)
    result = run(*train_args(data, tmp_path / "run"))
    assert result.exit_code == 0, result.output
    warning = [line for line in result.stderr.splitlines() if "never predicts" in line]
    assert warning and warning[0].startswith("warning: The network never predicts")
    assert "'other'" in warning[0] or "'card'" in warning[0]
