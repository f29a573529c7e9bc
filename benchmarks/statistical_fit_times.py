"""Seconds of one fit of each statistical model the network may be averaged with.

For every series of the forecasting suite: AutoETS, AutoARIMA and AutoTheta fitted as a
forecast fits them (``combination.statistical_forecasts``: the last 500 periods, 20
seasons where that is more) at the series' last origin, and timed.

    .venv/bin/python benchmarks/statistical_fit_times.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import forecast_suite as suite

    from rnnkit.forecasting import combination

    for case in suite.CASES:
        values = case.load().to_numpy()
        origin = [len(values) - case.horizon]
        cells = []
        for name in ("auto_ets", "auto_arima", "auto_theta"):
            combination._remembered_forecast.cache_clear()  # time the fit, not the memory
            started = time.perf_counter()
            combination.statistical_forecasts(name, values, origin, case.horizon, case.season)
            cells.append(f"{name} {time.perf_counter() - started:.2f} s")
        print(f"{case.name:16s} {len(values):5d} periods  " + ", ".join(cells), flush=True)


if __name__ == "__main__":
    main()
