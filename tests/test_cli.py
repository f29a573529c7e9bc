"""What every command shares: the help's panels and choices, one error line for a bad
flag, the tables it prints, progress that --quiet silences."""

import re

import pytest
from typer.testing import CliRunner

from rnnkit.cli import tables
from rnnkit.cli.main import app
from rnnkit.cli.output import Progress, is_quiet, set_quiet, step

runner = CliRunner()
WIDE = {"COLUMNS": "200"}  # one help row per option, so each can be read whole


def _help(*command: str) -> str:
    result = runner.invoke(app, [*command, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(
    ("command", "panels"),
    [
        (
            ("forecast", "train"),
            ["Data", "Model", "Training", "Evaluation", "Distributed training", "Output"],
        ),
        (("forecast", "backtest"), ["Data", "Model", "Training", "Evaluation", "Output"]),
        (
            ("classify", "train"),
            ["Data", "Model", "Training", "Evaluation", "Distributed training", "Output"],
        ),
        (("classify", "lr-find"), ["Data", "Model", "Training", "Evaluation", "Output"]),
    ],
)
def test_help_groups_the_options_in_panels_in_order(command, panels):
    shown = re.findall(r"╭─ (.+?) ─", _help(*command))
    assert [p for p in shown if p not in ("Arguments", "Options")] == panels


@pytest.mark.parametrize(
    ("command", "option", "values"),
    [
        (("forecast", "train"), "--cell", "<lstm|gru|simple_rnn>"),
        (("forecast", "train"), "--freq", "<H|D|B|W|M|Q|Y>"),
        (("forecast", "train"), "--agg", "<sum|mean|count|last|min|max>"),
        (("forecast", "backtest"), "--strategy", "<direct|recursive|seq2seq>"),
        (("forecast", "lr-find"), "--window-norm", "<auto|none|level|standard>"),
        (("classify", "train"), "--ngram-features", "<none|word|char|word+char>"),
        (("classify", "train"), "--pooling", "<max|last>"),
        (("gradients",), "--cell", "<lstm|gru|simple_rnn>"),
    ],
)
def test_help_lists_the_choices_of_an_option(command, option, values):
    row = next(line for line in _help(*command).splitlines() if f" {option} " in line)
    assert values in row


@pytest.mark.parametrize(
    "command",
    [("forecast", "backtest"), ("forecast", "evaluate"), ("classify", "predict"),
     ("classify", "evaluate")],
)  # fmt: skip
def test_json_help_says_what_is_printed_without_it(command):
    text = " ".join(re.sub("[│╭╮╰╯─]", " ", _help(*command)).split())
    assert re.search(r"--json <bool> Print .+ instead of the default: ", text), text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["forecast", "train", "x.csv", "--cell", "lsm"],
            "error: Invalid value for '--cell': 'lsm' is not one of 'lstm', 'gru', "
            "'simple_rnn'. Did you mean 'lstm'? See 'rnnkit forecast train --help'.",
        ),
        (
            ["forecast", "backtest", "x.csv", "--epochs", "many"],
            "error: Invalid value for '--epochs': ",
        ),
        (["classify", "train", "x.csv", "--bogus"], "error: No such option: --bogus"),
        (["forecast", "train"], "error: Missing argument 'data'."),
        (["forecst"], "error: No such command 'forecst'. Did you mean 'forecast'?"),
    ],
)
def test_a_bad_flag_is_one_error_line_and_exit_code_2(args, message):
    result = runner.invoke(app, args, prog_name="rnnkit")
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(message), line
    assert "╭" not in result.stderr


def test_a_user_mistake_is_one_error_line_with_the_same_prefix(tmp_path):
    result = runner.invoke(app, ["forecast", "train", str(tmp_path / "missing.csv")])
    assert result.exit_code == 1
    assert [line for line in result.stderr.splitlines() if line.startswith("error: ")] == [
        f"error: File '{tmp_path / 'missing.csv'}' does not exist. Check the path and try again."
    ]


def _rendered(table) -> list[str]:
    import io

    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=200, highlight=False).print(table)
    return buffer.getvalue().splitlines()


def test_a_77_class_distribution_shows_the_top_classes_then_sums_the_rest():
    rows = [
        {"label": f"class {i:02d}", "train": 100 - i, "validation": 10, "test": 20}
        for i in range(77)
    ]
    lines = _rendered(tables.distribution_table(rows))
    assert len(lines) == 2 + 10 + 1  # header, rule, the top 10 classes, the rest
    assert lines[2].split() == ["class", "00", "100", "10", "20"]
    rest_train = sum(100 - i for i in range(10, 77))
    assert lines[-1].split() == ["and", "67", "more", str(rest_train), "670", "1340"]


def test_a_distribution_of_eleven_classes_shows_them_all():
    rows = [{"label": f"c{i}", "train": 5, "validation": 1, "test": 1} for i in range(11)]
    lines = _rendered(tables.distribution_table(rows))
    assert len(lines) == 2 + 11 and "more" not in lines[-1]


def test_a_label_holding_brackets_is_printed_as_it_is():
    rows = [{"label": "[bold]fees[/bold] (credit [card])", "train": 3, "validation": 1, "test": 1}]
    assert "[bold]fees[/bold] (credit [card])" in _rendered(tables.distribution_table(rows))[2]


def test_metrics_table_aligns_every_number_column_on_the_right():
    metrics = {"model": {"mae": 12.5, "mase": 0.81}, "seasonal_naive": {"mae": 3.0, "mase": 1.2}}
    lines = _rendered(tables.metrics_table(metrics, ["mae", "mase"]))
    ends = {len(line.rstrip()) for line in (lines[0], lines[2], lines[3])}
    assert len(ends) == 1  # header and rows end in the same column
    assert lines[2].startswith("model ") and lines[3].startswith("seasonal_naive ")


def test_progress_prints_each_step_done_off_a_terminal_and_nothing_when_quiet(capsys):
    try:
        with step("fitting TF-IDF"):
            pass
        set_quiet(True)
        assert is_quiet()
        progress = Progress()
        progress.start("compiling the model")
        progress.finish("compiled")
        with step("scoring"):
            pass
    finally:
        set_quiet(False)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1  # nothing once quiet
    assert re.fullmatch(r"fitting TF-IDF: \d+\.\d s", lines[0])


def test_a_step_that_fails_prints_nothing_so_the_error_stands_alone(capsys):
    with pytest.raises(ValueError), step("reading"):
        raise ValueError("bad")
    assert capsys.readouterr().err == ""
