"""Which base forecast a global model chooses on a panel (no training).

Runs ``GlobalForecaster``'s data preparation only, on a Tourism panel or the CFPB
products of ``bench_global.py``, and prints the base chosen on the validation windows
(each series' windows over its own level). Used to check that a change to the choice
keeps the base of the recorded benchmark runs.

    .venv/bin/python benchmarks/global_base_choice.py --panel quarterly
    .venv/bin/python benchmarks/global_base_choice.py --panel cfpb
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))


def tourism_forecaster(panel: str):
    import bench_tourism as bt

    from rnnkit import GlobalForecaster
    from rnnkit.data.timeseries import Panel, PreparedSeries

    series = bt.load(panel)
    _, freq, rule = bt.PANELS[panel]
    prepared = {}
    for key, x, xx in series:
        values = np.concatenate([x, xx])
        index = pd.date_range(end="2000-01-01", periods=len(values), freq=rule, name="date")
        prepared[key] = PreparedSeries(
            pd.Series(values, index=index, name="value"), len(values), 0, 0
        )
    horizon = len(series[0][2])
    forecaster = GlobalForecaster(id_column="id", freq=freq, horizon=horizon)
    return forecaster, Panel(prepared)


def cfpb_forecaster():
    import bench_global as bg

    from rnnkit import GlobalForecaster

    forecaster = GlobalForecaster(
        time_column="Date received",
        target_column="Complaint ID",
        id_column="Product",
        agg="count",
        lookback=28,
        horizon=7,
        test_size=28,
    )
    return forecaster, bg.load_rows()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--panel", choices=("yearly", "quarterly", "monthly", "cfpb"))
    args = parser.parse_args()
    forecaster, data = cfpb_forecaster() if args.panel == "cfpb" else tourism_forecaster(args.panel)
    forecaster._training_data(data)
    print(f"{args.panel}: base {forecaster.base_} (smoothing {forecaster.base_smoothing_})")


if __name__ == "__main__":
    main()
