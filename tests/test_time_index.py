"""Data indexed by time (a DatetimeIndex) in, forecasts indexed by time out."""

import pandas as pd
import pytest
from conftest import TINY, make_events

from rnnkit import Forecaster, GlobalForecaster

SETTINGS = {**TINY, "time_column": "created_at", "target_column": "amount"}
SETTINGS["gradient_health"] = False


def by_time(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` indexed by their (parsed) time column, as pandas users keep series."""
    return rows.assign(created_at=pd.to_datetime(rows["created_at"])).set_index("created_at")


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return make_events(days=100)


@pytest.fixture(scope="module")
def fitted_by_time(rows) -> Forecaster:
    return Forecaster(**SETTINGS).fit(by_time(rows), verbose=0)


def test_fit_on_a_time_index_forecasts_with_a_time_index(fitted_by_time):
    forecast = fitted_by_time.predict()
    assert isinstance(forecast.index, pd.DatetimeIndex)
    assert forecast.index.name == "created_at"
    assert list(forecast.columns) == ["forecast", "q0.1", "q0.5", "q0.9"]
    assert len(forecast) == TINY["horizon"]


def test_predict_follows_the_form_of_the_data_it_is_given(fitted_by_time, rows):
    indexed = fitted_by_time.predict(by_time(rows))
    columns = fitted_by_time.predict(rows)
    assert isinstance(indexed.index, pd.DatetimeIndex)
    assert isinstance(columns.index, pd.RangeIndex)  # as before: the time is a column
    assert list(columns.columns[:2]) == ["created_at", "forecast"]
    pd.testing.assert_frame_equal(indexed.reset_index(), columns)


def test_a_time_index_gives_the_same_forecasts_as_a_time_column(fitted_by_time, rows):
    from_column = Forecaster(**SETTINGS).fit(rows, verbose=0)
    pd.testing.assert_frame_equal(from_column.predict(), fitted_by_time.predict().reset_index())


def test_forecast_csv_keeps_the_time_column(fitted_by_time, tmp_path):
    fitted_by_time.save(tmp_path / "run")
    saved = pd.read_csv(tmp_path / "run" / "forecast.csv")
    assert list(saved.columns[:2]) == ["created_at", "forecast"]


def test_global_model_forecasts_a_time_indexed_panel_by_time(rows):
    panel = pd.concat([rows.assign(branch="a"), rows.assign(branch="b")], ignore_index=True)
    model = GlobalForecaster(**SETTINGS, id_column="branch").fit(by_time(panel), verbose=0)
    forecast = model.predict()
    assert isinstance(forecast.index, pd.DatetimeIndex)
    assert list(forecast.columns[:2]) == ["branch", "forecast"]
    assert len(forecast) == 2 * TINY["horizon"]
    columns = model.predict(panel)
    assert list(columns.columns[:3]) == ["branch", "created_at", "forecast"]
    pd.testing.assert_frame_equal(forecast.reset_index()[columns.columns], columns)
