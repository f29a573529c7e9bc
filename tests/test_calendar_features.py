"""Calendar features (`calendar=True`, `--calendar`, `--country`): what they are, how the
network reads them, and that they reach every place a forecast is made."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import TINY
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from rnnkit import ConfigError, Forecaster, GlobalForecaster, forecasting
from rnnkit.cli.main import app
from rnnkit.config import ForecastConfig
from rnnkit.data.calendar_features import DAY_OF_MONTH, Calendar
from rnnkit.errors import RunDirectoryError
from rnnkit.serving import ServeLimits, create_app, load_runs

# TINY turns calendar features off; each test here says whether it wants them.
BASE = {k: v for k, v in TINY.items() if k != "calendar"}
SETTINGS = {**BASE, "gradient_health": False, "ensemble_size": 2}
runner = CliRunner()


def weekly(days: int = 150, start: str = "2024-01-01") -> pd.Series:
    rng = np.random.default_rng(0)
    index = pd.date_range(start, periods=days, freq="D")
    values = 50 + 10 * (index.dayofweek < 5) + rng.normal(0, 1, days)
    return pd.Series(values, index=index, name="value")


@pytest.fixture(scope="module")
def trained() -> Forecaster:
    forecaster = Forecaster(**SETTINGS, calendar=True, country="US")
    return forecaster.fit(weekly(), verbose=0)


# ----------------------------------------------------------------- the features
def test_calendar_features_are_on_by_default_for_one_series_with_the_direct_strategy():
    assert ForecastConfig().uses_calendar
    assert not ForecastConfig(id_column="store").uses_calendar  # a global model: asked only
    assert not ForecastConfig(strategy="recursive").uses_calendar
    assert ForecastConfig(id_column="store", calendar=True).uses_calendar
    assert not ForecastConfig(calendar=False).uses_calendar


def test_a_run_saved_before_calendar_features_reads_none(tmp_path):
    run = Forecaster(**SETTINGS, calendar=False).fit(weekly(), verbose=0).save(tmp_path / "old")
    config = json.loads((run / "config.json").read_text())
    del config["calendar"], config["country"]  # as written before calendar features existed
    (run / "config.json").write_text(json.dumps(config))
    loaded = forecasting.load(run)
    assert loaded.config.calendar is False and loaded.calendar_ is None
    assert len(loaded.predict()) == TINY["horizon"]


@pytest.mark.parametrize(
    ("freq", "names"),
    [
        (
            "H",
            ("hour_sin", "hour_cos", *(f"dow_{d}" for d in "mon tue wed thu fri sat sun".split())),
        ),
        (
            "D",
            (
                *(f"dow_{d}" for d in "mon tue wed thu fri sat sun".split()),
                "day_of_year_sin",
                "day_of_year_cos",
                "day_of_month_sin",
                "day_of_month_cos",
            ),
        ),
        ("W", ("week_of_year_sin", "week_of_year_cos")),
        ("M", ("month_sin", "month_cos")),
        ("Q", ("quarter_sin", "quarter_cos")),
        ("Y", ()),
    ],
)
def test_each_frequency_has_its_own_features(freq, names):
    assert Calendar(freq).names == names


def test_the_day_of_month_turns_once_a_month_whatever_its_length():
    index = pd.DatetimeIndex(["2024-02-01", "2024-02-15", "2024-03-01", "2024-03-16"])
    features = Calendar("D").at(index)
    names = Calendar("D").names
    angle = np.arctan2(
        features[:, names.index("day_of_month_sin")], features[:, names.index("day_of_month_cos")]
    )
    # The 1st is at 0; the 15th of a 29-day February and the 16th of March at half a turn.
    np.testing.assert_allclose(np.abs(angle), [0, 2 * np.pi * 14 / 29, 0, 2 * np.pi * 15 / 31])
    assert Calendar("D", without=DAY_OF_MONTH).names == names[:-2]


def test_a_run_saved_before_the_day_of_month_loads_and_forecasts_without_it(tmp_path, monkeypatch):
    from rnnkit.data import calendar_features

    everything = calendar_features._features

    def before_day_of_month(index, freq):
        features = everything(index, freq)
        return {k: v for k, v in features.items() if k not in DAY_OF_MONTH}

    monkeypatch.setattr(calendar_features, "_features", before_day_of_month)
    old = Forecaster(**SETTINGS, calendar=True).fit(weekly(), verbose=0)
    expected = old.predict()["forecast"].to_numpy()
    run = old.save(tmp_path / "old")
    monkeypatch.undo()

    loaded = forecasting.load(run)
    assert loaded.calendar_.names == Calendar("D", without=DAY_OF_MONTH).names
    np.testing.assert_allclose(loaded.predict()["forecast"], expected, rtol=1e-6)
    assert (
        "day_of_month_sin"
        in Forecaster(**SETTINGS, calendar=True).fit(weekly(), verbose=0).calendar_.names
    )  # a new fit has them


def test_day_of_week_is_one_hot_and_cycles_are_on_the_unit_circle():
    index = pd.date_range("2024-01-01", periods=10, freq="D")  # a Monday
    features = Calendar("D").at(index)
    np.testing.assert_array_equal(features[:, :7].argmax(axis=1), index.dayofweek)
    np.testing.assert_array_equal(features[:, :7].sum(axis=1), 1.0)
    np.testing.assert_allclose(features[:, 7] ** 2 + features[:, 8] ** 2, 1.0)
    hours = Calendar("H").at(pd.date_range("2024-01-01", periods=24, freq="h"))
    np.testing.assert_allclose(hours[6, :2], [1.0, 0.0], atol=1e-12)  # 06:00: a quarter turn


def test_holidays_are_flagged_by_day_and_as_a_share_of_each_week():
    days = pd.date_range("2024-07-03", periods=3, freq="D")
    np.testing.assert_array_equal(Calendar("D", "US").at(days)[:, -1], [0.0, 1.0, 0.0])
    assert Calendar("D", "US").names[-1] == "holiday"
    weeks = pd.date_range("2024-07-01", periods=2, freq="W-MON")  # July 4th in the first
    np.testing.assert_allclose(Calendar("W", "US").at(weeks)[:, -1], [1 / 7, 0.0])
    assert "holiday" not in Calendar("M", "US").names  # monthly data: no holiday flag


def test_window_features_cover_the_lookback_then_the_horizon():
    calendar = Calendar("D", "US")
    starts = pd.DatetimeIndex(["2024-07-04", "2024-07-10"])
    features = calendar.window_features(starts, lookback=5, horizon=3)
    assert features.shape == (2, 8, len(calendar))
    for row, start in enumerate(starts):
        periods = pd.date_range(end=start, periods=6, freq="D")[:-1].append(
            pd.date_range(start, periods=3, freq="D")
        )
        np.testing.assert_array_equal(features[row], calendar.at(periods))
    assert features[0, 5, -1] == 1.0  # the first period forecast is July 4th


def test_windows_keep_the_series_own_dates_off_rnnkits_period_starts():
    # Weeks that start on Saturdays and months labelled by their last day, as a Series
    # given by its user may have them: each window steps one period from its own date.
    saturdays = pd.DatetimeIndex(["1985-01-26"])
    weeks = Calendar("W").window_features(saturdays, lookback=2, horizon=2)[0]
    expected = pd.date_range(end="1985-02-02", periods=4, freq="W-SAT")
    np.testing.assert_array_equal(weeks, Calendar("W").at(expected))
    month_ends = Calendar("M").window_features(pd.DatetimeIndex(["2020-03-31"]), 2, 1)[0]
    np.testing.assert_array_equal(
        month_ends, Calendar("M").at(pd.DatetimeIndex(["2020-01-31", "2020-02-29", "2020-03-31"]))
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"country": "US", "calendar": False}, r"which are off here: turn them on"),
        ({"country": "US", "id_column": "store"}, r"which are off here: turn them on"),
        ({"calendar": True, "strategy": "recursive"}, "need the direct strategy"),
        ({"calendar": "yes"}, "calendar must be true, false or null"),
    ],
)
def test_bad_calendar_settings_are_one_clear_config_error(params, message):
    with pytest.raises(ConfigError, match=message):
        ForecastConfig(**params)


def test_an_unknown_country_stops_before_training():
    forecaster = Forecaster(**SETTINGS, calendar=True, country="XX")
    with pytest.raises(ConfigError, match="'XX' is not a country the holidays package knows"):
        forecaster.fit(weekly(), verbose=0)


# ----------------------------------------------------------------- the network
def test_the_network_reads_the_window_and_the_horizon_with_their_features(trained):
    lookback, horizon = TINY["lookback"], TINY["horizon"]
    channels = 2 + len(Calendar("D", "US"))  # value, forecast-period flag, features
    assert trained.model_.input_shape == (None, lookback + horizon, channels)


def test_forecasts_depend_on_the_dates_only_with_calendar_features():
    # No base forecast: the network's own forecast, never replaced by a base that the
    # validation windows may prefer to a two-epoch network (and that ignores the dates).
    dated = Forecaster(**SETTINGS, calendar=True, base="none").fit(weekly(), verbose=0)
    window = weekly().to_numpy()[-TINY["lookback"] :][None, :]
    monday = dated.forecast_windows(window, pd.DatetimeIndex(["2024-06-03"]))
    thursday = dated.forecast_windows(window, pd.DatetimeIndex(["2024-06-06"]))
    assert not np.allclose(monday, thursday)
    with pytest.raises(ConfigError, match="reads calendar features: give the date"):
        dated.forecast_windows(window)
    plain = Forecaster(**SETTINGS, calendar=False, base="none").fit(weekly(), verbose=0)
    np.testing.assert_array_equal(
        plain.forecast_windows(window, pd.DatetimeIndex(["2024-06-03"])),
        plain.forecast_windows(window, pd.DatetimeIndex(["2024-06-06"])),
    )


def test_a_saved_calendar_run_forecasts_the_same_and_names_its_features(trained, tmp_path):
    trained.save(tmp_path / "run")
    pre = json.loads((tmp_path / "run" / "preprocessing.json").read_text())
    assert pre["calendar"] == list(Calendar("D", "US").names)
    loaded = forecasting.load(tmp_path / "run")
    pd.testing.assert_frame_equal(loaded.predict(), trained.predict())
    np.testing.assert_allclose(
        loaded.evaluate(weekly())["model"]["mae"],
        trained.evaluate(weekly())["model"]["mae"],
        rtol=1e-6,
    )


def test_a_run_whose_features_disagree_with_its_config_is_refused(trained, tmp_path):
    trained.save(tmp_path / "run")
    path = tmp_path / "run" / "preprocessing.json"
    pre = json.loads(path.read_text())
    pre["calendar"] = pre["calendar"][:-1]  # as if saved without the holiday flag
    path.write_text(json.dumps(pre))
    with pytest.raises(RunDirectoryError, match="calendar features"):
        forecasting.load(tmp_path / "run")


@pytest.mark.slow  # two trainings of 40 epochs on 2.5 years of days: about 30 s
def test_holiday_flags_let_the_network_forecast_holidays_the_base_cannot():
    """A weekly pattern with US public holidays at a fifth of the usual level: seasonal
    naive and a network without holidays miss them; with ``--country US`` the network
    learns them from the training part's holidays."""
    import holidays

    index = pd.date_range("2021-01-01", "2023-07-10", freq="D")
    dates = pd.DatetimeIndex(sorted(holidays.country_holidays("US", years=range(2021, 2024))))
    rng = np.random.default_rng(0)
    values = 100 + 10 * (index.dayofweek < 5) + rng.normal(0, 1, len(index))
    values[index.isin(dates)] = 20
    series = pd.Series(values, index=index)
    settings = dict(
        horizon=14,
        test_size=42,  # three origins: the test holds July 4th and Memorial Day
        lookback=21,
        ensemble_size=1,
        num_layers=1,
        units=8,
        epochs=40,
        patience=5,
        gradient_health=False,
        quantiles=(),
    )
    errors = {}
    for name, extra in (("plain", {"calendar": False}), ("holidays", {"country": "US"})):
        forecaster = Forecaster(**settings, **extra).fit(series, verbose=0)
        table = forecaster.evaluation_["predictions"]
        on_holidays = table["date"].isin(dates)
        assert on_holidays.sum() == 2
        errors[name] = (table["model"] - table["actual"])[on_holidays].abs().mean()
        errors[f"{name}_mase"] = forecaster.metrics_["model"]["mase"]
    assert errors["holidays"] < 0.6 * errors["plain"]
    assert errors["holidays_mase"] < 0.7 * errors["plain_mase"]


# ----------------------------------------------------------------- everywhere else
@pytest.mark.slow  # a global model trained, saved and loaded: about 15 s
def test_a_global_model_reads_each_series_own_dates(tmp_path):
    frames = []
    for key, (start, days) in {"a": ("2024-01-01", 150), "b": ("2024-03-01", 30)}.items():
        series = weekly(days, start)
        frames.append(pd.DataFrame({"date": series.index, "value": series.values, "id": key}))
    rows = pd.concat(frames, ignore_index=True)
    # Each window over its mean and spread: with the global default (over its level) the
    # validation windows of these series keep the plain base (correction weight 0), and a
    # forecast that ignores the network cannot show what the network reads.
    forecaster = GlobalForecaster(
        **SETTINGS,
        id_column="id",
        agg="mean",
        calendar=True,
        scaler="minmax",
        window_norm="standard",
    )
    forecaster.fit(rows, verbose=0)  # "b" is shorter than one window: padded
    assert forecaster.correction_weight_ > 0
    assert forecaster.padded_ and "b" in forecaster.padded_
    forecaster.save(tmp_path / "global")
    loaded = forecasting.load(tmp_path / "global")
    pd.testing.assert_frame_equal(loaded.predict(), forecaster.predict())
    start = pd.Timestamp("2024-06-03")
    values = rows.loc[rows["id"] == "a", "value"].to_numpy()
    assert not np.allclose(
        forecaster.forecast_series("a", values, start),
        forecaster.forecast_series("a", values, start + pd.Timedelta(days=1)),
    )


def test_serve_forecasts_a_calendar_run_as_predict_does(trained, tmp_path):
    trained.save(tmp_path / "calendar")
    runs = load_runs([str(tmp_path / "calendar")])
    client = TestClient(create_app(runs, ServeLimits(max_history=60)))
    history = weekly().iloc[-30:]
    body = {"history": [{"time": str(t.date()), "value": float(v)} for t, v in history.items()]}
    answer = client.post("/models/calendar/forecast", json=body).json()
    expected = trained.predict(history)
    np.testing.assert_allclose(answer["forecast"], expected["forecast"], rtol=1e-5)
    assert answer["dates"][0] == expected["date"].iloc[0].isoformat()


def test_the_cli_trains_with_calendar_features_and_holidays(tmp_path):
    series = weekly()
    path = tmp_path / "daily.csv"
    pd.DataFrame({"date": series.index, "value": series.values}).to_csv(path, index=False)
    out = tmp_path / "run"
    args = ["forecast", "train", str(path), "--out", str(out), "--calendar", "--country", "US"]
    for key in ("lookback", "horizon", "units", "epochs"):
        args += [f"--{key}", str(TINY[key])]
    result = runner.invoke(app, [*args, "--ensemble-size", "2"])
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert config["calendar"] is True and config["country"] == "US"
    assert "holiday" in json.loads((out / "preprocessing.json").read_text())["calendar"]
