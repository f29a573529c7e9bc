"""Would a day-of-month feature help daily series? The suite's daily and business-daily
series with the default forecaster, its calendar features extended by the day of the
month (sine, cosine of the day over the month's length), against the defaults as they
are (``forecast_suite_v9.json``, the same seeds: the suite is deterministic per seed).

    .venv/bin/python benchmarks/calendar_day_of_month_probe.py

Prints per series the median MASE over 3 seeds with and without the feature and writes
benchmarks/results/calendar_day_of_month.json.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
RESULTS = Path(__file__).resolve().parent / "results"
DAILY = ("loans", "seattle_weather", "msft", "cfpb_daily")


def with_day_of_month() -> None:
    """Adds ``day_of_month_sin/cos`` to the D and B calendar features, for this process."""
    from rnnkit.data import calendar_features as cf

    original = cf._features

    def features(index, freq):
        out = original(index, freq)
        if freq in ("D", "B"):
            day = index.day.to_numpy() - 1
            length = index.days_in_month.to_numpy() if len(index) else np.ones(0)
            out.update(cf._cycle("day_of_month", day, length))
        return out

    cf._features = features


def main() -> None:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import bench_forecast_suite as bench
    import forecast_suite as suite

    with_day_of_month()
    before = {
        r["series"]: r for r in json.loads((RESULTS / "forecast_suite_v9.json").read_text())["rows"]
    }
    rows = {}
    for case in suite.CASES:
        if case.name not in DAILY:
            continue
        series = case.load()
        scores = []
        for seed in range(3):
            forecast = bench.network_forecasts(case, series, {}, seed)[0]
            scores.append(suite.score(case, series, forecast)["mase"])
        rows[case.name] = {
            "group": case.group,
            "day_of_month": {"mase": statistics.median(scores), "seeds": scores},
            "default": {
                "mase": before[case.name]["default"]["mase"],
                "seeds": before[case.name]["default"]["seeds"],
            },
        }
        print(
            f"{case.name:16s} {case.group:13s} default {rows[case.name]['default']['mase']:.3f} "
            f"with day of month {rows[case.name]['day_of_month']['mase']:.3f} "
            f"seeds {[round(s, 3) for s in scores]}",
            flush=True,
        )
    (RESULTS / "calendar_day_of_month.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
