"""Shared fixtures: small generated data and tiny models, so the suite stays fast."""

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

TINY = dict(lookback=14, horizon=7, num_layers=1, units=8, epochs=2, batch_size=16, patience=2)


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
