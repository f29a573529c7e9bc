"""How long a global model takes to prepare a panel with covariate columns.

Generates 1,000 stores of 200 days (one row a store and day: sales, a promotion flag and a
temperature), writes the CSV to a temporary folder, and times ``GlobalForecaster.prepare``
from the CSV and from the DataFrame, without covariates and with ``promo`` as a future and
``temp`` as a past column.

    .venv/bin/python benchmarks/global_covariates_prepare.py

Prints the seconds and writes benchmarks/results/global_covariates_prepare.json.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
RESULTS = Path(__file__).parent / "results" / "global_covariates_prepare.json"


def main() -> None:
    import numpy as np
    import pandas as pd

    from rnnkit import GlobalForecaster

    rng = np.random.default_rng(0)
    stores, days = 1000, 200
    frame = pd.DataFrame(
        {
            "store": np.repeat([f"s{i}" for i in range(stores)], days),
            "date": np.tile(pd.date_range("2023-01-01", periods=days), stores),
            "value": rng.poisson(20, stores * days).astype(float),
            "promo": (rng.random(stores * days) < 0.2).astype(float),
            "temp": rng.normal(10, 3, stores * days),
        }
    )
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stores.csv"
        frame.to_csv(path, index=False)
        for name, params in {
            "no covariates": {},
            "promo (future), temp (past)": {"future_columns": ["promo"], "past_columns": ["temp"]},
        }.items():
            model = GlobalForecaster(
                time_column="date", target_column="value", id_column="store", horizon=7, **params
            )
            for source, data in (("csv", str(path)), ("DataFrame", frame)):
                started = time.perf_counter()
                model.prepare(data)
                seconds = time.perf_counter() - started
                results[f"{name}, {source}"] = seconds
                print(f"{name:30s} {source:9s} {seconds:6.2f} s")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"stores": stores, "days": days, "seconds": results}, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
