"""The contract every estimator keeps, checked over all three (as scikit-learn's
``check_estimator`` does): fit returns self, predict before fit says what to call, the
scikit-learn protocol (clone, get_params/set_params, repr, check_is_fitted), and
save/load and config JSON round trips."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import TINY, TINY_CLASSIFIER, make_events, make_texts
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils.validation import check_is_fitted

from rnnkit import ConfigError, Forecaster, GlobalForecaster, NotFittedError, TextClassifier

FORECAST = {**TINY, "time_column": "created_at", "target_column": "amount"}
TEXTS = ["my card was stolen at the atm", "the interest on my loan", "escrow on the house"]


def _panel() -> pd.DataFrame:
    frames = []
    for i in range(2):
        events = make_events(seed=i)
        events["branch"] = f"b{i}"
        frames.append(events)
    return pd.concat(frames, ignore_index=True)


# name -> (class, constructor parameters, training data, predict)
CASES = {
    "Forecaster": (
        Forecaster,
        {**FORECAST, "gradient_health": False},
        make_events,
        lambda est: est.predict()["forecast"].to_numpy(),
    ),
    "GlobalForecaster": (
        GlobalForecaster,
        {**FORECAST, "id_column": "branch", "gradient_health": False},
        _panel,
        lambda est: est.predict()["forecast"].to_numpy(),
    ),
    "TextClassifier": (
        TextClassifier,
        {**TINY_CLASSIFIER, "gradient_health": False},
        make_texts,
        lambda est: est.predict_proba(TEXTS),
    ),
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    return request.param, *CASES[request.param]


@pytest.fixture(scope="module")
def fitted(case):
    """(estimator, what fit returned), one tiny fit per estimator."""
    _, cls, params, data, _ = case
    estimator = cls(**params)
    return estimator, estimator.fit(data(), verbose=0)


def test_fit_returns_self(fitted):
    estimator, returned = fitted
    assert returned is estimator
    assert hasattr(estimator, "model_")


def test_predict_before_fit_says_what_to_call(case):
    name, cls, params, _, predict = case
    with pytest.raises(NotFittedError, match=rf"This {name} is not trained yet: call fit"):
        predict(cls(**params))


def test_not_fitted_error_is_a_value_error_and_an_attribute_error(case):
    _, cls, params, _, predict = case
    with pytest.raises(ValueError):
        predict(cls(**params))
    with pytest.raises(AttributeError):
        predict(cls(**params))


def test_check_is_fitted_refuses_an_unfitted_estimator_and_passes_a_fitted_one(case, fitted):
    _, cls, params, _, _ = case
    unfitted = cls(**params)
    assert [name for name in vars(unfitted) if name.endswith("_")] == []
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(unfitted)
    check_is_fitted(fitted[0])  # raises if not


def test_get_params_gives_every_parameter_by_its_flat_name(case):
    _, cls, params, _, _ = case
    got = cls(**params).get_params()
    assert {k: got[k] for k in params} == params
    assert {"cell", "units", "epochs", "learning_rate", "seed"} <= set(got)
    assert "model" not in got and "training" not in got


def test_clone_gives_an_unfitted_estimator_with_equal_params(case, fitted):
    _, cls, _, _, _ = case
    estimator = fitted[0]
    copy = clone(estimator)
    assert type(copy) is cls
    assert copy is not estimator
    assert copy.get_params() == estimator.get_params()
    assert copy.config == estimator.config
    assert not hasattr(copy, "model_")


def test_set_params_round_trips_and_returns_self(case):
    _, cls, params, _, _ = case
    estimator = cls(**params)
    assert estimator.set_params(units=12, epochs=3) is estimator
    assert estimator.get_params()["units"] == 12
    assert estimator.config.model.units == 12
    assert estimator.config.training.epochs == 3
    rebuilt = cls(**estimator.get_params())
    assert rebuilt.config == estimator.config


def test_set_params_rejects_an_unknown_name_with_the_closest_one(case):
    _, cls, params, _, _ = case
    estimator = cls(**params)
    with pytest.raises(ConfigError, match=r"Unknown \w+ parameter 'unitz'. Did you mean 'units'"):
        estimator.set_params(unitz=4)
    assert estimator.config == cls(**params).config


def test_repr_shows_only_the_parameters_that_differ_from_the_defaults(case):
    name, cls, _, _, _ = case
    extra = {"id_column": "branch"} if cls is GlobalForecaster else {}
    assert repr(cls(**extra, units=8, epochs=2)) == (
        f"{name}(epochs=2, {''.join(f'{k}={v!r}, ' for k, v in extra.items())}units=8)"
    )
    assert repr(cls(**extra)) == f"{name}({', '.join(f'{k}={v!r}' for k, v in extra.items())})"


def test_save_then_load_gives_identical_predictions(case, fitted, tmp_path):
    _, cls, _, _, predict = case
    estimator = fitted[0]
    loaded = cls.load(estimator.save(tmp_path / "run"))
    assert type(loaded) is cls
    assert loaded.get_params() == estimator.get_params()
    np.testing.assert_array_equal(predict(loaded), predict(estimator))


def test_config_json_round_trips(case):
    _, cls, params, _, _ = case
    config = cls(**params).config
    assert type(config).from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_grid_search_fits_and_scores_a_text_classifier():
    from sklearn.model_selection import GridSearchCV

    frame = make_texts(rows_per_class=12)
    estimator = TextClassifier(**{**TINY_CLASSIFIER, "gradient_health": False, "epochs": 1})
    search = GridSearchCV(estimator, {"units": [4]}, cv=2)
    search.fit(frame["text"].tolist(), frame["label"].tolist(), verbose=0)
    assert search.best_params_ == {"units": 4}
    assert search.best_estimator_.get_params()["units"] == 4
    assert 0.0 <= search.best_score_ <= 1.0
    assert not hasattr(estimator, "model_")  # the search trained clones, not the original
