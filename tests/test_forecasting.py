import html
import json

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import SCORED_METHODS, TINY, make_events

from rnnkit import ConfigError, DataError, Forecaster, NotFittedError
from rnnkit.forecasting.backtesting import backtest


def test_fit_returns_self_with_fitted_attributes(trained_forecaster):
    f = trained_forecaster
    for name in ("model_", "scaler_", "series_", "history_", "metrics_"):
        assert hasattr(f, name)
    assert set(f.metrics_) == SCORED_METHODS
    point = {"mae", "rmse", "mape", "smape", "mase"}
    intervals = {"pinball_q0.1", "pinball_q0.5", "pinball_q0.9", "pinball_mean"}
    intervals |= {"coverage_80", "width_80"}
    for method, values in f.metrics_.items():
        # The model and seasonal naive (its empirical quantiles) have interval metrics too.
        assert set(values) == point | (
            intervals if method in ("model", "seasonal_naive") else set()
        )


def test_predict_before_fit_says_what_to_call():
    with pytest.raises(NotFittedError, match=r"call fit\(data\) or Forecaster.load"):
        Forecaster().predict()


def test_predict_returns_the_horizon_after_the_data_with_dates(trained_forecaster):
    forecast = trained_forecaster.predict()
    last = trained_forecaster.series_.index[-1]
    assert len(forecast) == TINY["horizon"]
    assert forecast["created_at"].iloc[0] == last + pd.Timedelta(days=1)
    assert np.all(np.isfinite(forecast["forecast"]))


def test_missing_days_are_filled_not_skipped(trained_forecaster):
    series = trained_forecaster.series_
    assert len(series) == 120  # every day, although three had no events
    assert trained_forecaster.preparation_["periods_filled"] == 3
    assert series.loc["2024-01-31"] == 0.0


@pytest.mark.slow  # a heavy training; covered by make test-slow
def test_scaler_sees_only_the_training_part():
    events = make_events()
    spiked = events.copy()
    late = pd.to_datetime(spiked["created_at"]) >= "2024-04-20"  # inside the test part
    spiked.loc[late, "amount"] = 1e9
    a = Forecaster(time_column="created_at", target_column="amount", **TINY).fit(events, verbose=0)
    b = Forecaster(time_column="created_at", target_column="amount", **TINY).fit(spiked, verbose=0)
    assert a.scaler_ == b.scaler_


def test_test_periods_are_never_trained_on(trained_forecaster):
    f = trained_forecaster
    split = f.split_
    assert split["train"] + split["validation"] + split["test"] == len(f.series_)
    origins = f.evaluation_["details"]["origins"]
    assert pd.Timestamp(origins[0]) == f.series_.index[split["train"] + split["validation"]]


@pytest.mark.slow  # a heavy training; covered by make test-slow
def test_same_seed_gives_the_same_forecast():
    a = Forecaster(time_column="created_at", target_column="amount", **TINY).fit(
        make_events(), verbose=0
    )
    b = Forecaster(time_column="created_at", target_column="amount", **TINY).fit(
        make_events(), verbose=0
    )
    np.testing.assert_array_equal(a.predict()["forecast"], b.predict()["forecast"])


def test_save_then_load_gives_identical_forecasts(trained_forecaster, tmp_path):
    run = trained_forecaster.save(tmp_path / "run")
    loaded = Forecaster.load(run)
    np.testing.assert_array_equal(
        loaded.predict()["forecast"], trained_forecaster.predict()["forecast"]
    )
    assert loaded.config == trained_forecaster.config


def test_run_directory_has_every_file(trained_forecaster, tmp_path):
    run = trained_forecaster.save(tmp_path / "run")
    names = {p.name for p in run.iterdir()}
    assert {
        "model.keras",
        "config.json",
        "preprocessing.json",
        "metrics.json",
        "metadata.json",
        "history.csv",
        "forecast.csv",
        "test_predictions.csv",
        "loss.png",
        "forecast.png",
        "errors_by_step.png",
        "report.html",
    } <= names
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics) == SCORED_METHODS
    html = (run / "report.html").read_text()
    assert "data:image/png;base64," in html and "seasonal_naive" in html
    assert '<h2>Error by forecast step (test)</h2>\n<img alt="error by forecast step"' in html
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_report_opens_with_the_verdict_on_the_test_part(trained_forecaster, tmp_path):
    from rnnkit.forecasting.metrics import evaluation_verdict

    run = trained_forecaster.save(tmp_path / "run")
    report = (run / "report.html").read_text()
    sentence = html.escape(evaluation_verdict(trained_forecaster.evaluation_, TINY["horizon"]))
    assert "on the test part" in sentence and "too small to judge" not in sentence
    assert report.index(sentence) < report.index("<table")
    assert "Test: 3 forecast origin(s), 21 points" in report  # the default: 3 horizons


def test_one_origin_test_is_called_too_small_to_judge(trained_forecaster):
    from rnnkit.forecasting.metrics import evaluation_verdict

    evaluation = trained_forecaster.evaluation_
    details = {**evaluation["details"], "origins": evaluation["details"]["origins"][:1]}
    sentence = evaluation_verdict({**evaluation, "details": details}, TINY["horizon"])
    assert "too small to judge" in sentence and "from 1 forecast origin " in sentence


def test_the_default_test_is_several_horizons_where_the_series_allows():
    def test(length, **settings):
        return Forecaster(**{**TINY, **settings}).test_periods(length)

    assert test(120) == 21  # 3 origins of 7 days: within a fifth of 120
    assert test(70) == 14  # a fifth of 70 holds 2 horizons
    assert test(40) == 7  # one horizon at least
    assert test(1000) == 21  # never more than 3 origins
    assert test(120, test_size=10) == 10  # given: as it is
    # 3 horizons would leave too little for one training window and the validation:
    short = Forecaster(**{**TINY, "lookback": 75, "validation_size": 20})
    assert short.test_periods(120) == 14 and short.split_sizes(120)["train"] == 86


def test_the_verdict_says_when_the_validation_windows_kept_less_of_the_network(
    trained_forecaster,
):
    from rnnkit.forecasting.metrics import evaluation_verdict

    choice = trained_forecaster.evaluation_["details"]["network"]
    assert choice["base"] == trained_forecaster.base_
    assert choice["correction_weight"] == trained_forecaster.correction_weight_
    assert (choice["combined_with"], choice["combination_weight"]) == ("none", 0.0)
    evaluation = trained_forecaster.evaluation_
    sentences = {}
    for weight in (1.0, 0.5, 0.0):
        details = {
            **evaluation["details"],
            "network": {"base": "seasonal_mean", "correction_weight": weight},
        }
        sentences[weight] = evaluation_verdict({**evaluation, "details": details}, TINY["horizon"])
    assert "correction" not in sentences[1.0]
    assert sentences[0.5].endswith("average the network's and the seasonal mean forecast.")
    assert sentences[0.0].endswith("the forecasts are the seasonal mean forecast alone.")


def test_report_shows_the_settings_used_beside_the_automatic_ones(trained_forecaster, tmp_path):
    report = (trained_forecaster.save(tmp_path / "run") / "report.html").read_text()
    split = trained_forecaster.split_
    assert (split["test"], split["validation"]) == (21, 18)  # 3 horizons, 15% of 120 days
    assert "<td>test_size</td><td>None \u2192 21 (auto)</td>" in report
    assert "<td>validation_size</td><td>None \u2192 18 (auto)</td>" in report
    assert "<td>lookback</td><td>14</td>" in report  # given, so shown as it is
    assert "<td>training.loss</td><td>auto \u2192 mae (auto)</td>" in report
    assert "<td>fill</td><td>auto \u2192 zero (auto)</td>" in report


def test_report_names_the_training_loss_and_its_best_epoch(trained_forecaster, tmp_path):
    report = (trained_forecaster.save(tmp_path / "run") / "report.html").read_text()
    validation = trained_forecaster.history_["val_loss"]
    best = int(np.nanargmin(validation)) + 1
    assert "Loss: MAE (window-normalised)." in report  # auto: MAE, with a base
    assert f"Best epoch {best} of {len(validation)}, by validation loss" in report


def test_evaluate_on_new_data_scores_its_last_periods(trained_forecaster):
    metrics = trained_forecaster.evaluate(make_events(days=100, seed=3, start="2024-03-01"))
    assert set(metrics) == SCORED_METHODS
    assert all(np.isfinite(m["mae"]) for m in metrics.values())


def test_predict_from_newer_data_starts_after_it(trained_forecaster):
    newer = make_events(days=40, seed=4, start="2024-06-01")
    forecast = trained_forecaster.predict(newer)
    assert forecast["created_at"].iloc[0] == pd.Timestamp("2024-07-11")


def test_recursive_strategy_returns_the_whole_horizon():
    # The guide's predictSteps printed each step and returned nothing.
    f = Forecaster(time_column="created_at", target_column="amount", strategy="recursive", **TINY)
    f.fit(make_events(), verbose=0)
    assert f.model_.output_shape == (None, 1)
    assert len(f.predict()) == TINY["horizon"]


def test_the_guides_network_is_expressible_without_its_defects():
    from rnnkit.config import ModelConfig
    from rnnkit.core.models import build_forecaster

    model = build_forecaster(60, 1, ModelConfig(num_layers=4, units=50, dropout=0.2))
    lstms = [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)]
    assert [layer.units for layer in lstms] == [50, 50, 50, 50]
    assert isinstance(model.layers[-1], keras.layers.Dense)  # no Dropout after the output
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in model.layers[-1:])


def test_too_short_series_says_how_many_periods_are_needed():
    with pytest.raises(
        DataError,
        match=r"has 30 periods \(freq D\) but needs at least 35: lookback 14 \+ 7 for one training window, validation 7, test 7",
    ):
        Forecaster(time_column="created_at", target_column="amount", **TINY).fit(
            make_events(days=30), verbose=0
        )


@pytest.mark.slow  # a heavy training; covered by make test-slow
def test_backtest_refits_per_fold_and_averages():
    result = backtest(
        make_events(), folds=2, time_column="created_at", target_column="amount", **TINY
    )
    assert [f["fold"] for f in result["folds"]] == [1, 2]
    assert result["folds"][0]["test_end"] < result["folds"][1]["test_start"]
    mean_mae = np.mean([f["metrics"]["naive"]["mae"] for f in result["folds"]])
    assert result["mean"]["naive"]["mae"] == pytest.approx(mean_mae)
    coverage = np.mean([f["metrics"]["model"]["coverage_80"] for f in result["folds"]])
    assert result["mean"]["model"]["coverage_80"] == pytest.approx(coverage)
    assert "coverage_80" not in result["mean"]["naive"]


@pytest.mark.parametrize("folds", [14, 1000])
def test_backtest_with_more_folds_than_the_series_holds_says_how_many_fit(folds):
    with pytest.raises(ConfigError) as caught:
        backtest(
            make_events(), folds=folds, time_column="created_at", target_column="amount", **TINY
        )
    message = str(caught.value)
    assert f"--folds {folds} needs more history than the series has" in message
    assert "trains on the 120 periods less" in message
    assert "At most 13 folds fit: lower --folds" in message


def test_backtest_without_refit_trains_once_and_forecasts_every_later_fold():
    started = []
    result = backtest(
        make_events(),
        folds=3,
        time_column="created_at",
        target_column="amount",
        refit=False,
        stride=3,
        fold_started=lambda fold, trains: started.append((fold, trains)),
        **TINY,
        test_size=7,  # one origin a fold
    )
    assert started == [(1, True), (2, False), (3, False)]
    assert [f["trained"] for f in result["folds"]] == [True, False, False]
    # Every fold forecasts with the model trained before fold 1's test part.
    assert {f["trained_until"] for f in result["folds"]} == {"2024-04-16 00:00:00"}
    # The folds end `stride` periods apart, the last at the end of the data.
    assert [f["test_end"][:10] for f in result["folds"]] == [
        "2024-04-23",
        "2024-04-26",
        "2024-04-29",
    ]
    assert result["stride"] == 3 and result["refit"] is False and result["origins"] == 3
    predictions = result["predictions"]
    assert list(predictions.columns[:2]) == ["fold", "created_at"]
    assert predictions.groupby("fold").size().tolist() == [7, 7, 7]
    # A fold's metrics are those of its own forecasts.
    fold_2 = predictions[predictions["fold"] == 2]
    mae = np.mean(np.abs(fold_2["actual"] - fold_2["model"]))
    assert result["folds"][1]["metrics"]["model"]["mae"] == pytest.approx(mae)


@pytest.mark.parametrize("stride", [0, -2, 1.5, True])
def test_backtest_refuses_a_stride_that_is_not_a_positive_whole_number(stride):
    with pytest.raises(ConfigError, match=r"stride must be a whole number of periods >= 1"):
        backtest(make_events(), folds=2, stride=stride, time_column="created_at",
                 target_column="amount", **TINY)  # fmt: skip


def test_backtest_with_a_stride_too_long_for_the_series_says_how_many_folds_fit():
    with pytest.raises(ConfigError, match=r"less 2 strides of 50 .* At most 2 folds fit"):
        backtest(make_events(), folds=3, stride=50, time_column="created_at",
                 target_column="amount", **TINY)  # fmt: skip


def test_seq2seq_strategy_is_an_encoder_decoder_that_saves_and_loads(tmp_path):
    f = Forecaster(time_column="created_at", target_column="amount", strategy="seq2seq", **TINY)
    f.fit(make_events(), verbose=0)
    names = [layer.name for layer in f.model_.layers]
    assert "encoder_1" in names and "decoder_1" in names
    loaded = Forecaster.load(f.save(tmp_path / "run"))
    np.testing.assert_array_equal(loaded.predict()["forecast"], f.predict()["forecast"])


# ----------------------------------------------------------------- pandas conventions
def test_a_frame_indexed_by_time_is_read_as_the_time_column(trained_forecaster, events):
    indexed = events.set_index(pd.to_datetime(events["created_at"]))[["amount"]]
    expected = trained_forecaster.prepare(events).values
    pd.testing.assert_series_equal(trained_forecaster.prepare(indexed).values, expected)
    # The forecasts come back indexed by time too, with the same values.
    pd.testing.assert_frame_equal(
        trained_forecaster.predict(indexed),
        trained_forecaster.predict(events).set_index("created_at"),
    )


def test_fit_on_a_frame_indexed_by_time_returns_the_estimator(events, tmp_path):
    indexed = events.set_index(pd.to_datetime(events["created_at"]))[["amount"]]
    f = Forecaster(time_column="created_at", target_column="amount", **{**TINY, "epochs": 1})
    assert f.fit(indexed, verbose=0) is f
    forecast = f.predict()
    assert forecast.index.name == "created_at"
    assert list(forecast.columns) == ["forecast", "q0.1", "q0.5", "q0.9"]
    # A loaded run remembers it: its forecasts come indexed by time too.
    run = f.save(tmp_path / "run")
    pd.testing.assert_frame_equal(Forecaster.load(run).predict(), forecast)
    assert "created_at" in pd.read_csv(run / "forecast.csv").columns


def test_a_numpy_array_is_refused_with_what_to_pass_instead():
    f = Forecaster(time_column="created_at", target_column="amount", **TINY)
    with pytest.raises(
        DataError,
        match=r"reads a DataFrame of rows with columns 'created_at' and 'amount'.*not ndarray",
    ) as caught:
        f.fit(np.arange(100.0))
    assert "\n" not in str(caught.value)


def test_predict_a_shorter_horizon_gives_the_first_periods(trained_forecaster):
    full = trained_forecaster.predict()
    pd.testing.assert_frame_equal(trained_forecaster.predict(horizon=2), full.iloc[:2])
    trained = trained_forecaster.config.horizon
    for wrong in (0, trained + 1):
        with pytest.raises(ConfigError, match=rf"horizon={wrong} is outside 1\.\.{trained}"):
            trained_forecaster.predict(horizon=wrong)
    with pytest.raises(ConfigError, match="whole number"):
        trained_forecaster.predict(horizon=1.5)
