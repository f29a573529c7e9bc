"""Covariates on real series: MASE with and without them, side by side.

Cases (the forecasting suite's origins, horizons and MASE; 3 seeds each):

- Seattle daily maximum temperature (vega_datasets) with the day's minimum temperature,
  precipitation and wind as **past** columns (observed up to the origin);
- the suite's daily series with public-holiday flags (``--country``): CFPB complaints and
  the Seattle series (US), loans (NG); Taylor's hourly electricity demand (GB).

Run::

    .venv/bin/python benchmarks/bench_covariates.py [--seeds 3]

Prints a table and writes benchmarks/results/covariates.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import forecast_suite as suite  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def seattle_frame() -> pd.DataFrame:
    from vega_datasets import local_data

    frame = local_data.seattle_weather()
    return frame[["date", "temp_max", "temp_min", "precipitation", "wind"]]


# name -> (suite case, variants: {label: forecaster parameters})
CASES = {
    "seattle_weather": (
        "seattle_weather",
        {
            "no covariates": {},
            "past: temp_min, precipitation, wind": {
                "past_columns": ["temp_min", "precipitation", "wind"]
            },
            "holidays (US)": {"country": "US"},
        },
    ),
    "cfpb_daily": ("cfpb_daily", {"no covariates": {}, "holidays (US)": {"country": "US"}}),
    "seattle_temps": ("seattle_temps", {"no covariates": {}, "holidays (US)": {"country": "US"}}),
    "loans": ("loans", {"no covariates": {}, "holidays (NG)": {"country": "NG"}}),
    "taylor": ("taylor", {"no covariates": {}, "holidays (GB)": {"country": "GB"}}),
}


def forecasts(case: suite.Case, data, params: dict, seed: int) -> tuple[np.ndarray, float]:
    """Trains once on the history before the first origin; forecasts every origin."""
    from rnnkit import Forecaster

    length = len(data)
    origins = case.origin_positions(length)
    forecaster = Forecaster(
        horizon=case.horizon,
        freq=case.freq,
        seed=seed,
        gradient_health=False,
        test_size=case.horizon,  # train on everything before the first origin
        time_column="date",
        target_column="value" if isinstance(data, pd.Series) else "temp_max",
        **params,
    )
    started = time.perf_counter()
    forecaster.fit(data.iloc[: origins[0] + case.horizon], verbose=0)
    seconds = time.perf_counter() - started
    frames = [forecaster.predict(data.iloc[:o]) for o in origins]
    return np.stack([frame["forecast"].to_numpy() for frame in frames]), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated case names")
    args = parser.parse_args()
    os.environ.setdefault("KERAS_BACKEND", "jax")
    warnings.simplefilter("ignore")
    rows = []
    for name, (case_name, variants) in CASES.items():
        if args.only and name not in args.only.split(","):
            continue
        case = next(c for c in suite.CASES if c.name == case_name)
        series = case.load()
        frame = None
        if any("past_columns" in p for p in variants.values()):
            frame = seattle_frame()
            frame = frame.set_index(pd.DatetimeIndex(frame["date"]))
            frame = frame.loc[series.index].reset_index(drop=True)
        for label, params in variants.items():
            data = frame if "past_columns" in params else series.rename("value")
            scores, seconds = [], []
            for seed in range(args.seeds):
                forecast, took = forecasts(case, data, params, seed)
                scores.append(suite.score(case, series, forecast)["mase"])
                seconds.append(took)
            row = {
                "series": name,
                "variant": label,
                "params": params,
                "mase": statistics.median(scores),
                "seeds": scores,
                "seconds": statistics.median(seconds),
            }
            rows.append(row)
            print(
                f"  {name:16s} {label:38s} mase {row['mase']:.3f} "
                f"seeds {[round(s, 3) for s in scores]} {row['seconds']:.1f}s",
                flush=True,
            )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "covariates.json"
    out.write_text(json.dumps({"seeds": args.seeds, "rows": rows}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
