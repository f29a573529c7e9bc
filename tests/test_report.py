"""The report parts both jobs share: the loss plot and its notes, the configuration table."""

from matplotlib import pyplot as plt

from rnnkit.core.report import config_html, loss_figure, loss_gap_note

HISTORY = {"loss": [3.0, 2.0, 1.5, 1.2], "val_loss": [2.5, 1.4, 1.6, 1.7]}


def test_loss_plot_names_the_loss_and_marks_the_best_epoch():
    figure = loss_figure(HISTORY, loss_name="MAE (window-normalised)")
    axis = figure.axes[0]
    assert axis.get_ylabel() == "MAE (window-normalised)"
    (marker,) = [line for line in axis.get_lines() if line.get_label().startswith("best epoch")]
    assert marker.get_label() == "best epoch 2" and list(marker.get_xdata()) == [2, 2]
    plt.close(figure)


def test_loss_plot_without_validation_marks_no_epoch():
    figure = loss_figure({"loss": [3.0, 2.0]})
    assert not [line for line in figure.axes[0].get_lines() if "best" in line.get_label()]
    plt.close(figure)


def test_a_final_validation_loss_far_below_the_training_loss_gets_a_note():
    note = loss_gap_note({"loss": [2.0, 1.0], "val_loss": [1.0, 0.6]})
    assert note.startswith("Validation loss below training loss (0.6 against 1 at the last")
    assert "dropout, or a small or easy validation part" in note
    assert loss_gap_note({"loss": [2.0, 1.0], "val_loss": [1.0, 0.75]}) is None
    assert loss_gap_note({"loss": [2.0, 1.0]}) is None


def test_configuration_rows_flatten_nested_settings_and_show_values_used():
    table = config_html(
        {"lookback": None, "horizon": 7, "training": {"loss": "auto", "epochs": 5}},
        {"lookback": 21, "training.loss": "mae", "horizon": 7},
    )
    assert table.startswith("<table class='config'>")
    assert "<td>lookback</td><td>None \u2192 21 (auto)</td>" in table
    assert "<td>horizon</td><td>7</td>" in table
    assert "<td>training.loss</td><td>auto \u2192 mae (auto)</td>" in table
    assert "<td>training.epochs</td><td>5</td>" in table


def test_log_axes_are_labelled_with_plain_numbers():
    from rnnkit.core.report import number_tick

    figure = loss_figure({"loss": [0.9, 0.7, 0.62], "val_loss": [0.8, 0.66, 0.6]})
    figure.canvas.draw()
    axis = figure.axes[0]
    labels = [t.get_text() for t in axis.get_yticklabels(which="both") if t.get_text()]
    # Less than a decade: each minor tick labelled, as 0.6, never 6 x 10^-1.
    assert "0.6" in labels and "0.8" in labels
    assert not [label for label in labels if "$" in label or "\u00d7" in label or "e" in label]
    assert (number_tick(2.5e6), number_tick(1200.0), number_tick(5.6e-17)) == ("2.5M", "1.2k", "0")
    plt.close(figure)


def test_report_parts_escape_names_and_values():
    from rnnkit.core.report import metrics_table_html

    script = "<script>alert(1)</script>"
    table = metrics_table_html({script: {"mae": 1.0}, "naive": {"mae": 2.0}}, ["mae"])
    assert "<script>" not in table and "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in table
    assert '<td class="best">1</td>' in table and "<td>2</td>" in table
    config = config_html({"label_column": script})
    assert "<script>" not in config
    assert "<td>label_column</td><td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in config


def test_a_class_named_like_a_script_is_escaped_in_the_confusion_section():
    import numpy as np

    from rnnkit.classification.report import confusion_html

    section = confusion_html("AAAA", np.array([[5, 3], [1, 4]]), ["<script>x</script>", "b"])
    assert "<script>" not in section and "&lt;script&gt;x&lt;/script&gt;" in section


def test_every_template_is_package_data():
    import tomllib
    from importlib.resources import files
    from pathlib import Path

    folder = files("rnnkit") / "templates"
    names = sorted(p.name for p in folder.iterdir())
    assert "page.html.j2" in names and all(name.endswith(".html.j2") for name in names)
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert "templates/*.html.j2" in pyproject["tool"]["setuptools"]["package-data"]["rnnkit"]
