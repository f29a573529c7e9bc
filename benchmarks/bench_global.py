"""One global model across many series against one model per series, and baselines.

Daily CFPB complaints per product (``../shared/data/cfpb/complaints_full_schema_sample.csv``,
``Date received`` counted per ``Product``), 2018-12-01 to 2019-07-31: the part of the
sample with complaints every day (before and after it the sample has a few a month).
Every series is scored on its own last ``--test-size`` days (whole 7-day horizons) against
its own naive, seasonal-naive, AutoETS, AutoTheta and AutoARIMA forecasts. Three ways to
forecast them:

- ``global``: one :class:`~rnnkit.GlobalForecaster` trained on the windows of every series;
- ``local``: one :class:`~rnnkit.Forecaster` per series, the same configuration, trained on
  exactly the same (aggregated) series;
- the baselines, per series.

Overall MASE is the mean of the per-series MASE; "wins" counts the series on which the
method beats seasonal naive. Seeds repeat the neural models; medians are reported.

Usage:
    .venv/bin/python benchmarks/bench_global.py [--seeds 3] [--epochs 100] [--tag _NAME]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).parents[1] / ".." / "shared" / "data" / "cfpb"
SOURCE = DATA / "complaints_full_schema_sample.csv"
RESULTS = Path(__file__).parent / "results" / "global.json"
START, END = "2018-12-01", "2019-07-31"


def load_rows() -> pd.DataFrame:
    frame = pd.read_csv(SOURCE, usecols=["Date received", "Product", "Complaint ID"], dtype=str)
    times = pd.to_datetime(frame["Date received"])
    return frame[(times >= START) & (times <= END)]


def per_series_mase(by_series: dict, method: str) -> dict[str, float]:
    return {key: metrics[method]["mase"] for key, metrics in by_series.items()}


def summarise(mases: dict[str, float], reference: dict[str, float]) -> dict[str, float]:
    finite = [v for v in mases.values() if np.isfinite(v)]
    wins = sum(mases[k] < reference[k] for k in mases if np.isfinite(mases[k]))
    return {"mase": float(np.mean(finite)), "wins": int(wins), "series": len(mases)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--test-size", type=int, default=28)
    parser.add_argument("--skip-local", action="store_true")
    parser.add_argument("--tag", default="", help="appended to the results file's name")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra config overrides, e.g. --set window_norm=standard",
    )
    args = parser.parse_args()

    from rnnkit import Forecaster, GlobalForecaster

    overrides = {}
    for item in args.set:
        key, value = item.split("=", 1)
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    config = dict(
        time_column="Date received",
        target_column="Complaint ID",
        id_column="Product",
        agg="count",
        lookback=28,
        horizon=7,
        test_size=args.test_size,
        epochs=args.epochs,
        gradient_health=False,
        **overrides,
    )
    rows = load_rows()
    panel = GlobalForecaster(**config).prepare(rows)
    print(f"{len(rows)} complaints, {len(panel)} products, {START} .. {END}")

    runs: dict[str, list] = {"global": [], "local": []}
    baselines = None
    for seed in range(args.seeds):
        started = time.perf_counter()
        model = GlobalForecaster(**config, seed=seed).fit(panel, verbose=0)
        seconds = time.perf_counter() - started
        by_series = model.metrics_by_series_
        if baselines is None:
            methods = [m for m in next(iter(by_series.values())) if m not in ("model", "network")]
            baselines = {m: per_series_mase(by_series, m) for m in methods}
        # The network alone, where the model averages it with AutoETS (combination_).
        alone = "network" if "network" in model.metrics_ else "model"
        runs["global"].append(
            {
                "seed": seed,
                "seconds": seconds,
                "mase": per_series_mase(by_series, "model"),
                "combination_weight": model.combination_weight_,
                "network_mase": model.metrics_[alone]["mase"],
            }
        )
        print(
            f"global seed {seed}: {seconds:.1f} s, MASE {model.metrics_['model']['mase']:.3f} "
            f"(combination weight {model.combination_weight_:g}, network alone "
            f"{model.metrics_[alone]['mase']:.3f})"
        )
        if args.skip_local:
            continue
        local = {"seed": seed, "seconds": 0.0, "mase": {}}
        single = {k: v for k, v in config.items() if k != "id_column"}
        for key in by_series:
            started = time.perf_counter()
            fitted = Forecaster(**single, seed=seed).fit(panel.series[key].values, verbose=0)
            local["seconds"] += time.perf_counter() - started
            local["mase"][key] = fitted.metrics_["model"]["mase"]
        runs["local"].append(local)
        print(
            f"local seed {seed}: {local['seconds']:.1f} s, MASE "
            f"{np.mean([v for v in local['mase'].values() if np.isfinite(v)]):.3f}"
        )

    reference = baselines["seasonal_naive"]
    table = []
    for name, seeds in runs.items():
        if not seeds:
            continue
        keys = list(seeds[0]["mase"])
        median = {k: statistics.median(s["mase"][k] for s in seeds) for k in keys}
        row = {
            "method": name,
            **summarise(median, reference),
            "seconds": statistics.median(s["seconds"] for s in seeds),
        }
        row["by_series"] = median
        table.append(row)
    for name, mases in baselines.items():
        table.append(
            {"method": name, **summarise(mases, reference), "seconds": 0.0, "by_series": mases}
        )

    print(f"\n{'method':<16}{'mean MASE':>10}{'wins':>7}{'train s':>9}")
    for row in table:
        print(
            f"{row['method']:<16}{row['mase']:>10.3f}{row['wins']:>4}/{row['series']:<2}"
            f"{row['seconds']:>9.1f}"
        )
    print("\nper series (median MASE over seeds):")
    keys = list(table[0]["by_series"])
    print("  ".join(f"{r['method'][:8]:>8}" for r in table), " series")
    for key in keys:
        print("  ".join(f"{r['by_series'][key]:>8.3f}" for r in table), "", key[:60])
    out = RESULTS.with_name(f"{RESULTS.stem}{args.tag}.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "config": {k: v for k, v in config.items()},
                "seeds": args.seeds,
                "table": table,
                "runs": runs,
            },
            indent=2,
            default=float,
        )
        + "\n"
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
