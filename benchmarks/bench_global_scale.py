"""A global model over thousands of series: time and memory at each stage.

Generates (in a temporary directory, never committed) a CSV of daily sales of
``--series`` stores over ``--days`` days, one row per store and day with some days
missing: each store has its own level (log-uniform over three orders of magnitude), trend
and weekly pattern, with Poisson noise. Then, in this one process:

- aggregation: ``aggregate_file_by_id`` (chunked), the path ``forecast train
  --id-column`` takes;
- training: ``GlobalForecaster.fit`` for ``--epochs`` epochs (no early stop before), with
  the seconds per epoch;
- scoring: every series on its last 28 days (naive and seasonal naive per series; ARIMA is
  left out above 100 series) and ``predict`` for every series;

and reports wall times, peak memory (``ru_maxrss``) and the mean MASE of the model
against seasonal naive.

Usage:
    .venv/bin/python benchmarks/bench_global_scale.py [--series 1000] [--days 200] [--epochs 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).parent / "results" / "global_scale.json"


def generate(path: Path, series: int, days: int, seed: int = 0) -> int:
    """Writes the CSV store by store (small memory); returns its row count."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-01", periods=days, freq="D")
    weekday = dates.day_of_week.to_numpy()
    rows = 0
    with path.open("w") as handle:
        handle.write("store,day,sales\n")
        for store in range(series):
            level = 10 ** rng.uniform(0, 3)
            trend = 1 + rng.uniform(-0.5, 1.5) * np.arange(days) / days
            weekly = 1 + rng.uniform(0, 0.6) * np.isin(weekday, rng.choice(7, 2, replace=False))
            sales = rng.poisson(level * trend * weekly)
            keep = rng.random(days) > 0.03  # about 3% of days have no row
            frame = pd.DataFrame(
                {
                    "store": f"s{store:05d}",
                    "day": dates[keep].strftime("%Y-%m-%d"),
                    "sales": sales[keep],
                }
            )
            frame.to_csv(handle, header=False, index=False)
            rows += len(frame)
    return rows


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--days", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    from rnnkit import GlobalForecaster

    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stores.csv"
        started = time.perf_counter()
        rows = generate(path, args.series, args.days)
        figures["generate_s"] = time.perf_counter() - started
        figures["rows"] = rows
        figures["csv_mb"] = path.stat().st_size / 1e6
        forecaster = GlobalForecaster(
            time_column="day",
            target_column="sales",
            id_column="store",
            lookback=28,
            horizon=7,
            test_size=28,
            epochs=args.epochs,
            patience=args.epochs,
            batch_size=args.batch_size,
            gradient_health=False,
        )
        started = time.perf_counter()
        panel = forecaster.prepare(path)
        figures["aggregate_s"] = time.perf_counter() - started
        figures["peak_mb_after_aggregate"] = peak_mb()

    started = time.perf_counter()
    forecaster.fit(panel, verbose=0)
    figures["fit_and_score_s"] = time.perf_counter() - started
    figures["training_s"] = forecaster.training_seconds_
    figures["epochs"] = len(forecaster.history_["loss"])
    figures["s_per_epoch"] = figures["training_s"] / figures["epochs"]
    figures["training_windows"] = int(
        sum(
            s["train"] - forecaster.config.lookback - forecaster.config.horizon + 1
            for s in forecaster.split_.values()
        )
    )
    started = time.perf_counter()
    forecast = forecaster.predict()
    figures["predict_all_s"] = time.perf_counter() - started
    figures["forecast_rows"] = len(forecast)
    figures["peak_mb"] = peak_mb()
    details = forecaster.evaluation_["details"]
    figures["series_scored"] = details["series_scored"]
    figures["model_beats_seasonal_naive"] = details["model_beats_seasonal_naive"]
    for method, metrics in forecaster.metrics_.items():
        figures[f"mase_{method}"] = metrics["mase"]

    width = max(len(k) for k in figures)
    for key, value in figures.items():
        shown = f"{value:,.3f}" if isinstance(value, float) else f"{value:,}"
        print(f"{key:<{width}}  {shown:>14}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"args": vars(args), "figures": figures}, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
