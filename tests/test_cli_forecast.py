"""End-to-end CLI tests of `rnnkit forecast` on small generated data."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rnnkit.cli.main import app
from rnnkit.forecasting.metrics import model_name, network_choice_sentence, verdict

runner = CliRunner()
TINY_FLAGS = [
    "--time-column",
    "created_at",
    "--target-column",
    "amount",
    "--lookback",
    "14",
    "--horizon",
    "7",
    "--num-layers",
    "1",
    "--units",
    "8",
    "--epochs",
    "2",
    "--no-calendar",  # as TINY: tests/test_calendar_features.py trains with them
]


def _train(data, out, *extra):
    return runner.invoke(
        app, ["forecast", "train", str(data), *TINY_FLAGS, "--out", str(out), *extra]
    )


def test_train_predict_evaluate_end_to_end(events_csv, tmp_path):
    out = tmp_path / "run"
    result = _train(events_csv, out)
    assert result.exit_code == 0, result.output
    assert "seasonal_naive" in result.stdout and "report.html" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    details = json.loads((out / "evaluation.json").read_text())
    sentence = verdict(
        metrics,
        horizon=7,
        test_points=details["test_points"],
        origins=len(details["origins"]),
        model_name=model_name(details["network"]),
    ) + network_choice_sentence(details["network"])
    assert result.stdout.splitlines()[-2] == sentence
    # Each long step is named with its time on stderr, off a terminal once it is done.
    for done in ("reading ", "compiled the model: ", "scored the test part: ", "writing the run"):
        assert re.search(rf"^{done}.*\d s$", result.stderr, re.M), result.stderr
    # Errors per horizon step: one per step for every method, averaging to the overall MAE.
    for method in ("model", "naive", "seasonal_naive", "auto_ets", "auto_theta", "auto_arima"):
        by_step = details["by_step"][method]
        assert len(by_step["mae"]) == len(by_step["mase"]) == 7
        assert np.mean(by_step["mae"]) == pytest.approx(metrics[method]["mae"])

    predicted = runner.invoke(app, ["forecast", "predict", str(out)])
    assert predicted.exit_code == 0, predicted.output
    lines = predicted.stdout.strip().splitlines()
    assert lines[0] == "created_at,forecast,q0.1,q0.5,q0.9" and len(lines) == 8
    shorter = runner.invoke(app, ["forecast", "predict", str(out), "--horizon", "3"])
    assert shorter.exit_code == 0, shorter.output
    assert shorter.stdout.strip().splitlines() == lines[:4]
    too_long = runner.invoke(app, ["forecast", "predict", str(out), "--horizon", "8"])
    assert too_long.exit_code != 0 and "horizon=8 is outside 1..7" in too_long.output

    target = tmp_path / "forecast.csv"
    runner.invoke(
        app, ["forecast", "predict", str(out), "--data", events_csv, "--output", str(target)]
    )
    assert len(pd.read_csv(target)) == 7

    evaluated = runner.invoke(
        app, ["forecast", "evaluate", str(out), "--data", events_csv, "--json"]
    )
    assert evaluated.exit_code == 0, evaluated.output
    metrics = json.loads(evaluated.stdout)
    assert metrics == json.loads((out / "metrics.json").read_text())


def test_backtest_prints_each_fold_and_writes_a_report_directory(events_csv, tmp_path):
    out = tmp_path / "backtest"
    result = runner.invoke(
        app, ["forecast", "backtest", events_csv, *TINY_FLAGS, "--folds", "2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    # The default test part, the same for both folds: the 2 horizons (2 origins) that the
    # earliest fold's 99 days hold within a fifth.
    assert "fold 1: test 2024-04-02 .. 2024-04-15 (trained)" in result.stdout
    assert "fold 2: test 2024-04-16 .. 2024-04-29 (trained)" in result.stdout
    assert "mean over 2 folds" in result.stdout
    assert re.search(r"^model\s+\d", result.stdout, re.M)  # an aligned table row
    assert result.stdout.splitlines()[-1] == f"report: {out / 'report.html'}"
    # Progress per fold on stderr, so stdout stays the results.
    assert re.search(
        r"^fold 1/2: tested 2024-04-02 \.\. 2024-04-15 in .* s; MASE", result.stderr, re.M
    )
    assert re.search(
        r"^fold 2/2: tested 2024-04-16 \.\. 2024-04-29 in .* s; MASE", result.stderr, re.M
    )
    files = {p.name for p in out.iterdir()}
    assert files == {
        "backtest.json", "metrics.json", "metrics_by_fold.csv", "predictions.csv",
        "backtest.png", "report.html", "config.json", "metadata.json",
    }  # fmt: skip
    by_fold = pd.read_csv(out / "metrics_by_fold.csv")
    # "network" (the network alone) follows the model in a fold that averaged it.
    for methods in by_fold.groupby("fold")["method"].apply(list):
        assert [m for m in methods if m != "network"] == [
            "model", "naive", "seasonal_naive", "auto_ets", "auto_theta", "auto_arima"
        ]  # fmt: skip
    summary = json.loads((out / "backtest.json").read_text())
    assert [f["test_end"] for f in summary["folds"]] == [
        "2024-04-15 00:00:00",
        "2024-04-29 00:00:00",
    ]
    assert [(f["test_points"], f["origins"]) for f in summary["folds"]] == [(14, 2)] * 2
    assert summary["test_size"] == 14
    assert json.loads((out / "metrics.json").read_text()) == summary["mean"]
    assert pd.read_csv(out / "predictions.csv")["fold"].tolist() == [1] * 14 + [2] * 14
    page = (out / "report.html").read_text()
    assert "Mean over 2 folds: " in page and "data:image/png;base64," in page


def test_backtest_no_refit_json_and_quiet(events_csv, tmp_path):
    out = tmp_path / "backtest"
    flags = ["--folds", "3", "--stride", "2", "--no-refit", "--json", "--quiet"]
    result = runner.invoke(
        app, ["forecast", "backtest", events_csv, *TINY_FLAGS, *flags, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)  # stdout is the JSON alone
    assert printed == json.loads((out / "backtest.json").read_text())
    assert [f["trained"] for f in printed["folds"]] == [True, False, False]
    assert printed["stride"] == 2 and printed["refit"] is False
    assert "fold 1/3" not in result.stderr  # --quiet: no progress


def test_backtest_into_a_non_empty_out_is_refused_before_any_training(events_csv, tmp_path):
    out = tmp_path / "backtest"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = runner.invoke(
        app, ["forecast", "backtest", events_csv, *TINY_FLAGS, "--out", str(out)]
    )
    _fails(result, "--out .* exists and is not empty. Pass --overwrite")
    assert "fold 1/" not in result.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_backtest_with_too_many_folds_writes_nothing(events_csv, tmp_path):
    out = tmp_path / "backtest"
    result = runner.invoke(
        app, ["forecast", "backtest", events_csv, *TINY_FLAGS, "--folds", "40", "--out", str(out)]
    )
    _fails(result, r"--folds 40 needs more history .* At most \d+ folds fit", out=out)


def test_backtest_refuses_a_stride_of_zero_as_a_bad_flag(events_csv, tmp_path):
    result = runner.invoke(
        app,
        [
            "forecast",
            "backtest",
            events_csv,
            *TINY_FLAGS,
            "--stride",
            "0",
            "--out",
            str(tmp_path / "b"),
        ],
    )
    assert result.exit_code == 2 and "--stride" in result.output
    assert not (tmp_path / "b").exists()


def _fails(result, pattern, out=None):
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1
    assert re.search(pattern, error_lines[0]), error_lines[0]
    if out is not None:
        assert not out.exists()
        assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]


@pytest.mark.parametrize(
    ("content", "extra", "pattern"),
    [
        (None, [], "does not exist"),
        ("", [], "is empty"),
        ("created_at,amount\n", [], "header but no data rows"),
        ("created_at,amout\n2024-01-01,1\n", [], "no column 'amount'. Did you mean 'amout'"),
        ("created_at,amount\n2024-01-01,1\nlater,2\n", [], r"not dates or times \(line 3: 'later'"),
        (
            "created_at,amount\n2024-01-01,1\n2024-01-02,abc\n",
            [],
            r"not finite numbers \(line 3: 'abc'",
        ),
        ("created_at,amount\n2024-01-01,\n2024-01-02,\n", [], "every value is missing"),
        (
            "created_at,amount\n2024-01-01,1\n2024-01-05,2\n",
            [],
            r"has 5 periods .* needs at least 35",
        ),
        (
            "created_at,amount\n2024-01-01,1\n",
            ["--freq", "fortnight"],
            "freq='FORTNIGHT' is not one of",
        ),
    ],
)
def test_bad_input_gets_one_line_and_exit_1(tmp_path, content, extra, pattern):
    data = tmp_path / "data.csv"
    if content is not None:
        data.write_text(content)
    out = tmp_path / "run"
    _fails(_train(data, out, *extra), pattern, out)


def test_not_utf8_file_is_refused(tmp_path):
    data = tmp_path / "data.csv"
    data.write_bytes("created_at,amount\n2024-01-01,1\n2024-01-02,caf\xe9\n".encode("latin-1"))
    _fails(_train(data, tmp_path / "run"), r"not UTF-8 text \(line 3", tmp_path / "run")


def test_out_not_empty_without_overwrite_is_refused_before_training(events_csv, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    _fails(_train(events_csv, out), "exists and is not empty. Pass --overwrite")
    assert (out / "keep.txt").read_text() == "mine"


def test_bad_flag_exits_2(events_csv):
    result = runner.invoke(app, ["forecast", "train", events_csv, "--lookback", "many"])
    assert result.exit_code == 2


def test_predict_refuses_a_directory_that_is_not_a_run(tmp_path):
    _fails(runner.invoke(app, ["forecast", "predict", str(tmp_path)]), "is not an rnnkit run")


def test_train_takes_the_ensemble_flags_and_an_automatic_lookback(events_csv, tmp_path):
    out = tmp_path / "run"
    flags = [f for f in TINY_FLAGS]
    flags[flags.index("--lookback") + 1] = "auto"
    result = runner.invoke(
        app,
        [
            "forecast",
            "train",
            str(events_csv),
            *flags,
            "--out",
            str(out),
            "--base",
            "naive",
            "--ensemble-size",
            "2",
            "--no-linear",
        ],
    )
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert (config["lookback"], config["base"], config["ensemble_size"], config["linear"]) == (
        None,
        "naive",
        2,
        False,
    )
    assert json.loads((out / "preprocessing.json").read_text())["base"] == "naive"
    # The report shows the lookback used: three weekly seasons, beside the key.
    assert "<td>lookback</td><td>None \u2192 21 (auto)</td>" in (out / "report.html").read_text()


def test_a_lookback_that_is_neither_a_number_nor_auto_is_a_usage_error(events_csv, tmp_path):
    result = _train(events_csv, tmp_path / "run", "--lookback", "long")
    assert result.exit_code == 2
    assert "expected a whole number or 'auto'" in result.output


def test_predict_output_into_a_folder_or_a_missing_folder_is_one_clear_error(events_csv, tmp_path):
    out = tmp_path / "run"
    quiet = _train(events_csv, out, "--quiet")
    assert quiet.exit_code == 0, quiet.output
    # --quiet: neither the steps' progress nor Keras' epoch lines, the results only.
    assert "Epoch 1/" not in quiet.output and "compiled the model" not in quiet.stderr
    assert quiet.stdout.splitlines()[-1] == f"report: {out / 'report.html'}"
    into_folder = runner.invoke(app, ["forecast", "predict", str(out), "--output", str(tmp_path)])
    assert into_folder.exit_code == 1
    assert "is a folder; give a file path" in into_folder.output
    missing = tmp_path / "nope" / "forecast.csv"
    result = runner.invoke(app, ["forecast", "predict", str(out), "--output", str(missing)])
    assert result.exit_code == 1
    assert "the folder" in result.output and "does not exist" in result.output
    assert not list(tmp_path.glob(".*.partial")) and not missing.parent.exists()


def test_a_failed_output_write_leaves_nothing_behind(tmp_path):
    from rnnkit.cli.output import write_output
    from rnnkit.errors import RnnkitError

    def full_disk(path):
        path.write_text("half")
        raise OSError(28, "No space left on device")

    target = tmp_path / "forecast.csv"
    with pytest.raises(RnnkitError, match="No space left on device"):
        write_output(target, full_disk)
    assert list(tmp_path.iterdir()) == []


def test_quantiles_flag_chooses_the_interval_columns(events_csv, tmp_path):
    out = tmp_path / "run"
    result = _train(events_csv, out, "--quantiles", "0.05,0.5,0.95")
    assert result.exit_code == 0, result.output
    assert "90% interval on the test: coverage" in result.stdout
    evaluated = runner.invoke(app, ["forecast", "evaluate", str(out), "--data", events_csv])
    assert evaluated.exit_code == 0, evaluated.output
    assert "90% interval on the test: coverage" in evaluated.stdout
    assert list(pd.read_csv(out / "forecast.csv").columns) == [
        "created_at",
        "forecast",
        "q0.05",
        "q0.5",
        "q0.95",
    ]
    assert json.loads((out / "config.json").read_text())["quantiles"] == [0.05, 0.5, 0.95]


def test_empty_quantiles_flag_turns_intervals_off(events_csv, tmp_path):
    out = tmp_path / "run"
    result = _train(events_csv, out, "--quantiles", "")
    assert result.exit_code == 0, result.output
    predicted = runner.invoke(app, ["forecast", "predict", str(out)])
    assert predicted.stdout.splitlines()[0] == "created_at,forecast"


def test_quantiles_that_are_not_numbers_are_a_usage_error(events_csv, tmp_path):
    result = _train(events_csv, tmp_path / "run", "--quantiles", "0.1,high")
    assert result.exit_code == 2
    assert "expected numbers in (0, 1)" in result.output and "'0.1,high'" in result.output


def test_quantiles_out_of_order_are_one_line_and_nothing_written(events_csv, tmp_path):
    out = tmp_path / "run"
    result = _train(events_csv, out, "--quantiles", "0.9,0.1")
    _fails(result, r"quantiles must be increasing with none repeated, got \[0.9, 0.1\]", out)
