"""What the learning-rate range test suggests, and training with it (``--learning-rate auto``).

For the loans series (forecasting, horizon 30) and the CFPB narratives (classification,
test 0.3, seed 42): the suggested rate, then the test metric of rnnkit's defaults trained
at their fixed default rate and at the suggestion.

    .venv/bin/python benchmarks/bench_lr_find.py

Writes benchmarks/results/lr_find.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd

from rnnkit import Forecaster, TextClassifier
from rnnkit.persistence import _clean

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main() -> None:
    rows = []
    loans = pd.read_csv(SHARED / "loans" / "loans.csv")
    loans = loans[(loans.created_at >= "2016-03-01") & (loans.created_at < "2017-07-01")]
    columns = dict(time_column="created_at", target_column="amount", horizon=30)
    for rate in (None, "auto"):
        started = time.perf_counter()
        params = {} if rate is None else {"learning_rate": rate}
        model = Forecaster(**columns, **params).fit(loans, verbose=0)
        rows.append({
            "benchmark": "loans (MASE)", "learning_rate": "default" if rate is None else "auto",
            "rate_used": model.learning_rate_, "metric": model.metrics_["model"]["mase"],
            "seconds": time.perf_counter() - started,
        })
        print(rows[-1], flush=True)
    cfpb = pd.read_csv(SHARED / "cfpb" / "cfpb_narratives_combined.csv")
    text = dict(text_column="Consumer complaint narrative", label_column="Product_harmonized",
                seed=42)
    for rate in (None, "auto"):
        started = time.perf_counter()
        params = {} if rate is None else {"learning_rate": rate}
        model = TextClassifier(**text, **params).fit(cfpb, verbose=0)
        rows.append({
            "benchmark": "cfpb (accuracy)", "learning_rate": "default" if rate is None else "auto",
            "rate_used": model.learning_rate_, "metric": model.metrics_["model"]["accuracy"],
            "seconds": time.perf_counter() - started,
        })
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    out = Path(__file__).parent / "results" / "lr_find.json"
    out.write_text(json.dumps(_clean(rows), indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
