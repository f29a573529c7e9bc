"""Overhead of the gradient-health callback on the loans benchmark.

Trains rnnkit's default forecaster on the loans series for a fixed number of epochs (no
early stopping) with the callback on and off, interleaved, several times; reports the
median training time of each and the overhead in percent.

    .venv/bin/python benchmarks/bench_gradient_health.py [--repeats 3] [--epochs 30]

Writes benchmarks/results/gradient_health.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import pandas as pd

from rnnkit import Forecaster

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "gradient_health.json"
    )
    args = parser.parse_args()
    rows = pd.read_csv(SHARED / "loans" / "loans.csv")
    rows = rows[(rows.created_at >= "2016-03-01") & (rows.created_at < "2017-07-01")]
    seconds: dict[str, list[float]] = {"off": [], "on": []}
    records = None
    for _ in range(args.repeats):
        for label in ("off", "on"):
            model = Forecaster(
                time_column="created_at",
                target_column="amount",
                horizon=30,
                epochs=args.epochs,
                patience=args.epochs + 1,
                gradient_health=label == "on",
            ).fit(rows, verbose=0)
            seconds[label].append(model.training_seconds_)
            if label == "on":
                records = model.gradient_health_.summary()
    off, on = statistics.median(seconds["off"]), statistics.median(seconds["on"])
    overhead = 100 * (on / off - 1)
    print(f"{args.epochs} epochs, {args.repeats} repeats each, interleaved")
    print(f"callback off: median {off:.2f} s  {[round(s, 2) for s in seconds['off']]}")
    print(f"callback on:  median {on:.2f} s  {[round(s, 2) for s in seconds['on']]}")
    print(
        f"overhead: {overhead:+.1f}%  ({records['records']} records, every "
        f"{records['every_steps']} steps)"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "epochs": args.epochs,
                "seconds": seconds,
                "overhead_percent": overhead,
                "health": records,
            },
            indent=2,
        )
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
