"""The Tourism series where the network's MAPE is worst, beside naive's.

One global model per panel (as ``bench_tourism.py`` trains it, one seed); prints the
overall MAPE / MASE, the worst series with their history, test part and forecast, and
the mean MAPE difference to naive by series length.

    .venv/bin/python benchmarks/tourism_worst_series.py --panel yearly --show 3
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_tourism as bt  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--panel", choices=tuple(bt.PANELS), default="yearly")
    parser.add_argument("--params", default="{}", help="JSON of forecaster parameters")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=3, help="series printed in full")
    args = parser.parse_args()
    series = bt.load(args.panel)
    season = bt.PANELS[args.panel][0]
    forecasts, seconds, *_ = bt.network(args.panel, series, args.seed, json.loads(args.params))
    naive = [np.full(len(xx), x[-1]) for _, x, xx in series]
    print(f"rnnkit {bt.scores(series, forecasts, season)} ({seconds:.1f} s)")
    print(f"naive  {bt.scores(series, naive, season)}")
    rows = sorted(
        (
            (100 * np.mean(np.abs(xx - f) / np.abs(xx)), 100 * np.mean(np.abs(xx - n) / np.abs(xx)))
            + (key, x, xx, f)
            for (key, x, xx), f, n in zip(series, forecasts, naive)
        ),
        key=lambda row: -row[0],
    )
    for mape, naive_mape, key, x, _, _ in rows[:10]:
        print(f"{key:>6s} {len(x):3d} periods  MAPE network {mape:7.1f}  naive {naive_mape:7.1f}")
    for _, _, key, x, xx, f in rows[: args.show]:
        print(
            f"{key}: last {np.round(x[-8:]).tolist()} test {np.round(xx).tolist()} "
            f"forecast {np.round(f).tolist()}"
        )
    lengths = np.array([len(row[3]) for row in rows])
    gaps = np.array([row[0] - row[1] for row in rows])
    for low, high in ((0, 12), (12, 16), (16, 25), (25, 1000)):
        chosen = (lengths >= low) & (lengths < high)
        if chosen.any():
            print(
                f"length {low}-{high}: {chosen.sum()} series, mean MAPE network - naive "
                f"{gaps[chosen].mean():+.2f}"
            )


if __name__ == "__main__":
    main()
