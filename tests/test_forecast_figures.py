"""The forecasting reports' pictures, read back from the matplotlib figures they draw."""

import numpy as np
import pandas as pd
import pytest
from matplotlib import pyplot as plt
from matplotlib.collections import PolyCollection

from rnnkit.forecasting import make_config
from rnnkit.forecasting.figures import (
    METHOD_STYLES,
    PLOTTED_METHODS,
    forecast_figure,
    panel_forecast_figure,
    step_errors_figure,
)
from rnnkit.forecasting.global_report import panel_errors_by_step

HORIZON, TEST = 7, 21  # three origins
CONFIG = make_config(time_column="day", target_column="amount", horizon=HORIZON, test_size=TEST)
METHODS = ("model", "network", "naive", "seasonal_naive", "auto_ets", "auto_theta", "auto_arima")


def make_series(days=120, level=2e6, start="2024-01-01"):
    rng = np.random.default_rng(0)
    values = level * (1 + 0.2 * np.sin(np.arange(days) * 2 * np.pi / 7)) + rng.normal(0, 1e4, days)
    return pd.Series(values, index=pd.date_range(start, periods=days, freq="D"), name="amount")


def make_predictions(series, quantiles=True, flat_baselines=False):
    tail = series.iloc[-TEST:]
    table = pd.DataFrame(
        {
            "day": tail.index,
            "origin": np.repeat([str(d.date()) for d in tail.index[::HORIZON]], HORIZON),
            "step": np.tile(np.arange(1, HORIZON + 1), TEST // HORIZON),
            "actual": tail.to_numpy(),
        }
    )
    for i, method in enumerate(METHODS):
        same = flat_baselines and method != "model"
        table[method] = tail.to_numpy() * (1.0 if same else 1 + 0.01 * i) + (0 if same else 5e3)
    if quantiles:
        table["q0.1"], table["q0.5"], table["q0.9"] = (
            table["model"] * 0.9,
            table["model"],
            table["model"] * 1.1,
        )
    return table


def make_future(series, quantiles=True):
    days = pd.date_range(series.index[-1] + pd.Timedelta(days=1), periods=HORIZON, freq="D")
    future = pd.DataFrame({"day": days, "forecast": np.full(HORIZON, series.iloc[-1])})
    if quantiles:
        future["q0.1"], future["q0.5"], future["q0.9"] = (
            future["forecast"] * 0.9,
            future["forecast"],
            future["forecast"] * 1.1,
        )
    return future


def single_figure(**options):
    series = make_series()
    split = {"train": 120 - TEST - 20, "validation": 20, "test": TEST}
    predictions = make_predictions(series, **options)
    figure = forecast_figure(CONFIG, series, split, predictions, make_future(series))
    figure.canvas.draw()
    return figure


@pytest.fixture
def figure():
    figure = single_figure()
    yield figure
    plt.close(figure)


def test_no_axis_of_the_forecast_plot_has_an_offset_or_a_multiplier(figure):
    for axis in figure.axes:
        assert axis.yaxis.get_offset_text().get_text() == ""
        labels = [t.get_text() for t in axis.get_yticklabels() if t.get_text()]
        assert labels and all("e" not in label for label in labels)
        assert any(label.endswith("M") for label in labels)  # 2 million as "2M"


def test_the_lower_title_clears_the_upper_panels_tick_labels(figure):
    whole, close = figure.axes
    renderer = figure.canvas.get_renderer()
    title = close.title.get_window_extent(renderer)
    for label in whole.get_xticklabels():
        if label.get_text():
            assert not label.get_window_extent(renderer).overlaps(title), label.get_text()


def test_the_close_up_spans_the_test_with_one_horizon_before_and_the_forecast_after(figure):
    close = figure.axes[1]
    series = make_series()
    low, high = (
        pd.Timestamp(plt.matplotlib.dates.num2date(x)).tz_localize(None) for x in close.get_xlim()
    )
    first_test = series.index[-TEST]
    assert (
        first_test - pd.Timedelta(days=HORIZON + 2)
        < low
        <= first_test - pd.Timedelta(days=HORIZON - 1)
    )
    assert high >= series.index[-1] + pd.Timedelta(days=HORIZON)
    # Test and future take most of the width; the context is short.
    assert (high - first_test) / (high - low) > 0.75
    origins = [line for line in close.get_lines() if line.get_label() == "forecast origin"]
    assert (
        len(origins) == 1
        and len(
            [x for x in close.get_lines() if x.get_linestyle() == ":" and x.get_color() == "#999"]
        )
        == TEST // HORIZON
    )


def test_each_method_has_its_own_look_and_the_model_is_drawn_on_top():
    figure = single_figure(flat_baselines=True)  # the baselines' lines coincide
    lines = {line.get_label(): line for line in figure.axes[1].get_lines()}
    looks = {
        (lines[m].get_linestyle(), lines[m].get_marker(), lines[m].get_color())
        for m in PLOTTED_METHODS
    }
    assert len(looks) == len(PLOTTED_METHODS)
    assert lines["model"].get_zorder() == max(lines[m].get_zorder() for m in PLOTTED_METHODS)
    assert all(lines[m].get_marker() not in ("", "None") for m in PLOTTED_METHODS if m != "model")
    # The other baselines are left out of the forecast plot, never drawn unstyled.
    assert set(lines) & set(METHODS) == set(PLOTTED_METHODS)
    every_look = {(v["ls"], v["marker"], v["color"]) for v in METHOD_STYLES.values()}
    assert len(every_look) == len(METHOD_STYLES) and set(METHOD_STYLES) == set(METHODS)
    plt.close(figure)


def test_the_model_interval_is_a_band_per_origin_and_absent_without_quantiles(figure):
    def bands(axis):
        return [c for c in axis.collections if isinstance(c, PolyCollection) and len(c.get_paths())]

    # Three origins and the forecast after the data.
    assert len(bands(figure.axes[1])) == TEST // HORIZON + 1
    plain = single_figure(quantiles=False)
    assert len(bands(plain.axes[1])) == 1  # the future's only
    plt.close(plain)


def test_the_panel_figure_shows_the_largest_series_close_up():
    series = {"small": make_series(level=10), "large": make_series(level=1e6)}
    tables = [make_predictions(s).assign(shop=key) for key, s in series.items()]
    futures = [make_future(s).assign(shop=key) for key, s in series.items()]
    config = make_config(
        time_column="day", target_column="amount", id_column="shop", horizon=HORIZON
    )
    figure = panel_forecast_figure(config, series, pd.concat(tables), pd.concat(futures))
    figure.canvas.draw()
    visible = [a for a in figure.axes if a.get_visible()]
    assert [a.get_title() for a in visible] == ["large", "small"]
    for axis in visible:
        assert axis.yaxis.get_offset_text().get_text() == ""
        assert set(PLOTTED_METHODS) <= {line.get_label() for line in axis.get_lines()}
    plt.close(figure)


def test_the_step_errors_figure_draws_each_methods_error_at_each_step():
    by_step = {
        "model": {"mae": [1.0, 2.0, 3.0]},
        "naive": {"mae": [2.0, 2.5, 4.0]},
        "seasonal_naive": {"mae": [1.5, 2.0, 2.5]},
    }
    figure = step_errors_figure(by_step, "mae", "MAE (amount)")
    axis = figure.axes[0]
    lines = {line.get_label(): line for line in axis.get_lines()}
    assert set(lines) == set(by_step)
    for method, errors in by_step.items():
        assert list(lines[method].get_xdata()) == [1, 2, 3]
        assert list(lines[method].get_ydata()) == errors["mae"]
        assert lines[method].get_linestyle() == METHOD_STYLES[method]["ls"]
    assert axis.get_ylabel() == "MAE (amount)" and "step" in axis.get_xlabel()
    plt.close(figure)


def test_panel_errors_by_step_average_each_series_scaled_error():
    table = pd.DataFrame(
        {
            "shop": ["a", "a", "b", "b"],
            "step": [1, 2, 1, 2],
            "actual": [10.0, 10.0, 100.0, 100.0],
            "model": [11.0, 12.0, 110.0, 100.0],
            "naive": [10.0, 14.0, 90.0, 120.0],
        }
    )
    details = {"by_series": {"a": {"mase_scale": 1.0}, "b": {"mase_scale": 10.0}}}
    errors = panel_errors_by_step(table, details, "shop")
    assert errors["model"] == {"mase": [1.0, 1.0], "mae": [5.5, 1.0]}
    assert errors["naive"] == {"mase": [0.5, 3.0], "mae": [5.0, 12.0]}
