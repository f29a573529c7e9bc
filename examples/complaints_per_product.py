"""Forecast daily CFPB complaints for every product with one global model.

Reads the full-schema sample of the CFPB complaint database (one row per complaint),
keeps 2018-12-01..2019-07-31 (the part of the sample with complaints every day), counts
complaints per product and day, trains one GlobalForecaster across all products, and
prints the overall and per-product MASE against the baselines and next week's forecast.

Usage:
    .venv/bin/python examples/complaints_per_product.py [--out runs/complaints-per-product]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from rnnkit import GlobalForecaster
from rnnkit.core.report import metrics_table
from rnnkit.forecasting.report import FORECAST_COLUMNS

SOURCE = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "data"
    / "cfpb"
    / "complaints_full_schema_sample.csv"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/complaints-per-product"))
    args = parser.parse_args()

    rows = pd.read_csv(SOURCE, usecols=["Date received", "Product", "Complaint ID"], dtype=str)
    received = pd.to_datetime(rows["Date received"])
    rows = rows[(received >= "2018-12-01") & (received <= "2019-07-31")]

    forecaster = GlobalForecaster(
        time_column="Date received",
        target_column="Complaint ID",
        id_column="Product",
        agg="count",  # complaints per day: a row is an event
        lookback=28,
        horizon=7,
        test_size=28,  # each product scored on its last four weeks
    ).fit(rows, verbose=0)

    print(metrics_table(forecaster.metrics_, FORECAST_COLUMNS))
    by_series = forecaster.metrics_frame().pivot(index="Product", columns="method", values="mase")
    print("\nMASE per product:")
    print(by_series.round(3).to_string())
    forecaster.save(args.out, overwrite=True)
    print(f"\nrun written to {args.out} (report.html, metrics_by_series.csv, forecast.csv)")
    print(forecaster.predict(ids=["Mortgage", "Student loan"]).to_string(index=False))


if __name__ == "__main__":
    main()
