"""Forecasting benchmarks: rnnkit's defaults and the guide's network against baselines.

Benchmark 1: the guide's loans (one row per loan, summed per day), horizon 30.
Benchmark 2: three more real daily series that PyPI packages bundle offline
(vega_datasets: seattle-weather, seattle-temps; pmdarima: MSFT).

Every row of one series is scored on the same test periods (the last ``horizon``); the
networks are trained with several seeds and the median is reported.

    .venv/bin/pip install vega_datasets==0.9.0 pmdarima==2.1.1
    .venv/bin/python benchmarks/bench_forecast.py [--seeds 3] [--only loans]

Prints a table and writes benchmarks/results/forecast.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import pandas as pd

from rnnkit import Forecaster
from rnnkit.core.persistence import json_safe as _clean

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"

# The guide's network, without its defects (no Dropout after the output, no learning-rate
# sweep as a schedule, scaler fit on the training part, test on held-out periods).
GUIDE = dict(
    num_layers=4,
    units=50,
    dropout=0.2,
    lookback=60,
    batch_size=32,
    strategy="recursive",
    scaler="minmax",
    window_norm="none",
)


def loans() -> tuple[pd.DataFrame, dict]:
    rows = pd.read_csv(SHARED / "loans" / "loans.csv")
    # 2016-03-01..2017-06-30 is the steady part (data README): Jan-Feb 2016 are nearly
    # empty and July 2017 is a partial export that falls to zero.
    rows = rows[(rows.created_at >= "2016-03-01") & (rows.created_at < "2017-07-01")]
    return rows, dict(time_column="created_at", target_column="amount", agg="sum", freq="D")


def seattle_weather() -> tuple[pd.DataFrame, dict]:
    from vega_datasets import local_data

    frame = local_data.seattle_weather()[["date", "temp_max"]]
    return frame, dict(time_column="date", target_column="temp_max", agg="mean", freq="D")


def seattle_temps() -> tuple[pd.DataFrame, dict]:
    from vega_datasets import local_data

    frame = local_data.seattle_temps()  # hourly, one year
    return frame, dict(time_column="date", target_column="temp", agg="mean", freq="D")


def msft() -> tuple[pd.DataFrame, dict]:
    from pmdarima.datasets import load_msft

    frame = load_msft()[["Date", "Close"]]
    # The last ~8 years (about 1,950 trading days) keep the run time comparable to the others.
    frame = frame[frame["Date"] >= "2010-01-01"]
    return frame, dict(time_column="Date", target_column="Close", agg="last", freq="B")


SERIES = {
    "loans": loans,
    "seattle_weather": seattle_weather,
    "seattle_temps": seattle_temps,
    "msft": msft,
}
CONFIGS = {"rnnkit defaults": {}, "rnnkit seq2seq": {"strategy": "seq2seq"}, "guide network": GUIDE}


def run(name: str, seeds: int, horizon: int, configs: dict) -> list[dict]:
    frame, columns = SERIES[name]()
    rows = []
    baselines = None
    for label, params in configs.items():
        runs = []
        for seed in range(seeds):
            started = time.perf_counter()
            # One origin of one horizon: this benchmark's protocol from its first version.
            params = {"test_size": horizon, **params}
            model = Forecaster(horizon=horizon, seed=seed, **columns, **params).fit(
                frame, verbose=0
            )
            runs.append(
                {
                    "seed": seed,
                    "seconds": time.perf_counter() - started,
                    "epochs": len(model.history_["loss"]),
                    **model.metrics_["model"],
                }
            )
            baselines = model.metrics_
        median = {
            k: statistics.median(r[k] for r in runs)
            for k in ("mae", "mape", "mase", "seconds", "epochs")
        }
        rows.append({"series": name, "method": label, **median, "runs": runs})
        print(
            f"  {name:16s} {label:18s} MASE {median['mase']:.3f}  ({median['seconds']:.0f} s)",
            flush=True,
        )
    for method in ("naive", "seasonal_naive", "arima"):
        metrics = baselines[method]
        rows.append(
            {
                "series": name,
                "method": method,
                "mae": metrics["mae"],
                "mape": metrics["mape"],
                "mase": metrics["mase"],
                "seconds": None,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--horizon", type=int, default=30)
    parser.add_argument("--only", nargs="*", choices=list(SERIES), default=list(SERIES))
    parser.add_argument("--configs", nargs="*", choices=list(CONFIGS), default=list(CONFIGS))
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "forecast.json"
    )
    args = parser.parse_args()
    configs = {k: CONFIGS[k] for k in args.configs}
    rows = []
    for name in args.only:
        rows.extend(run(name, args.seeds, args.horizon, configs))
    table = pd.DataFrame(rows)[["series", "method", "mae", "mape", "mase", "seconds"]]
    print()
    print(f"test = last {args.horizon} periods; networks: median of {args.seeds} seeds")
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    beats = {
        s: bool(
            table[(table.series == s) & (table.method == "rnnkit defaults")].mase.iloc[0]
            < table[(table.series == s) & (table.method == "seasonal_naive")].mase.iloc[0]
        )
        for s in args.only
        if "rnnkit defaults" in configs
    }
    print("rnnkit defaults beat seasonal naive on MASE:", beats)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            _clean(
                {
                    "horizon": args.horizon,
                    "seeds": args.seeds,
                    "rows": rows,
                    "beats_seasonal_naive": beats,
                }
            ),
            indent=2,
        )
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
