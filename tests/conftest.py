"""The suite's one fixture module: small generated data and tiny settings of both jobs, so
the suite stays fast. Test modules import what they need from here (``from conftest
import TINY, make_events``); none imports another test module."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np
import pandas as pd
import pytest
from hypothesis import settings

# CI replays the same examples every run (a red CI is then reproducible); locally each run
# explores new ones. Either way a failing example is reported with how to reproduce it.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# ----------------------------------------------------------------- forecasting
# Calendar features (on by default for one series) are off here: they make every window
# longer by the horizon; tests/test_calendar_features.py trains with them. So is the
# average with a statistical model, which a two-epoch network nearly always takes (every
# forecast then refits it); tests/test_forecast_combination.py trains with it.
TINY = dict(
    lookback=14,
    horizon=7,
    num_layers=1,
    units=8,
    epochs=2,
    batch_size=16,
    patience=2,
    calendar=False,
    combine_with="none",
)


# What a forecaster's metrics score: the model and every baseline (and "network" beside
# the model when it averages the network with a statistical model, which TINY leaves out).
SCORED_METHODS = {"model", "naive", "seasonal_naive", "auto_ets", "auto_theta", "auto_arima"}


def make_events(days: int = 120, seed: int = 0, start: str = "2024-01-01") -> pd.DataFrame:
    """Events (one row each) with a trend, a weekly cycle, a few empty days and duplicates."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=days, freq="D")
    rows = []
    for i, day in enumerate(dates):
        if i in (30, 31, 75):  # days with no events: must be filled, not skipped
            continue
        count = 1 + (i % 7 < 5) * 2 + i // 40
        for _ in range(count):
            stamp = day + pd.Timedelta(minutes=int(rng.integers(0, 1440)))
            rows.append((stamp.strftime("%Y-%m-%d %H:%M:%S"), float(rng.integers(1, 50) * 100)))
    frame = pd.DataFrame(rows, columns=["created_at", "amount"])
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # unsorted


# ----------------------------------------------------------------- classification
# No refit: it trains every model twice; its own tests turn it on.
TINY_CLASSIFIER = dict(
    text_column="text",
    label_column="label",
    units=8,
    embedding_dim=8,
    epochs=2,
    batch_size=16,
    sequence_length=12,
    seed=3,
    refit=False,
)
# For the streamed path: no fixed sequence length (it is learned from the file), no
# gradient probe.
SMALL_CLASSIFIER = dict(
    text_column="text",
    label_column="label",
    units=8,
    embedding_dim=8,
    batch_size=16,
    seed=3,
    gradient_health=False,
)

TEXT_WORDS = {
    "card": ["card", "stolen", "pin", "atm", "declined", "limit"],
    "loan": ["loan", "interest", "payment", "lender", "repay", "term"],
    "mortgage": ["mortgage", "escrow", "house", "servicer", "foreclosure", "appraisal"],
}
TEXT_FILLER = ["the", "my", "bank", "please", "help", "account", "XXXX", "on", "XX/XX/XXXX", "tax"]


def make_texts(rows_per_class: int = 30, seed: int = 0) -> pd.DataFrame:
    """Short synthetic complaints whose words depend on their label (``text``, ``label``)."""
    rng = np.random.default_rng(seed)
    records = []
    for label, words in TEXT_WORDS.items():
        for _ in range(rows_per_class):
            picked = list(rng.choice(words, 3)) + list(rng.choice(TEXT_FILLER, 4))
            rng.shuffle(picked)
            records.append({"text": " ".join(picked) + f" {rng.integers(100)}", "label": label})
    return pd.DataFrame(records).sample(frac=1.0, random_state=seed).reset_index(drop=True)


STREAMED_WORDS = {
    "card": ["card", "stolen", "pin", "atm"],
    "loan": ["loan", "interest", "repay", "lender"],
    "mortgage": ["mortgage", "escrow", "house", "appraisal"],
}
STREAMED_FILLER = ["the", "my", "bank", "please", "help", "account", "on", "tax", "XXXX", "2019"]


def make_streamed_texts(rows: int, seed: int = 0) -> pd.DataFrame:
    """An easy task of texts of varied lengths: each holds two words of its class among
    filler words; labels take turns, row by row (``text``, ``label``)."""
    rng = np.random.default_rng(seed)
    records = []
    for i in range(rows):
        label = list(STREAMED_WORDS)[i % len(STREAMED_WORDS)]
        words = list(rng.choice(STREAMED_WORDS[label], 2))
        words += list(rng.choice(STREAMED_FILLER, rng.integers(1, 12)))
        rng.shuffle(words)
        records.append({"text": " ".join(words), "label": label})
    return pd.DataFrame(records)


def make_complaints(rows_per_class: int = 20, seed: int = 0) -> pd.DataFrame:
    """Two products of complaints, columns named as a user's file might name them
    (``complaint``, ``product``), for the CLI's column options."""
    rng = np.random.default_rng(seed)
    words = {"card": ["card", "stolen", "pin", "atm"], "loan": ["loan", "interest", "repay"]}
    records = [
        {"complaint": " ".join(rng.choice(w, 4)) + " XXXX on XX/XX/XXXX", "product": label}
        for label, w in words.items()
        for _ in range(rows_per_class)
    ]
    return pd.DataFrame(records)


# ----------------------------------------------------------------- fixtures
@pytest.fixture
def events() -> pd.DataFrame:
    return make_events()


@pytest.fixture
def events_csv(tmp_path, events) -> str:
    path = tmp_path / "loans.csv"
    events.to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="module")
def trained_forecaster():
    from rnnkit import Forecaster

    return Forecaster(time_column="created_at", target_column="amount", **TINY).fit(
        make_events(), verbose=0
    )
