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
from rnnkit.core.persistence import json_safe as _clean

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def run(name: str, estimator, params: dict, data: pd.DataFrame, metric) -> list[dict]:
    """Trains at the default rate and at the range test's suggestion; one row each."""
    rows = []
    for rate in ("default", "auto"):
        started = time.perf_counter()
        extra = {} if rate == "default" else {"learning_rate": "auto"}
        model = estimator(**params, **extra).fit(data, verbose=0)
        rows.append(
            {
                "benchmark": name,
                "learning_rate": rate,
                "rate_used": model.learning_rate_,
                "metric": metric(model.metrics_["model"]),
                "seconds": time.perf_counter() - started,
            }
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    loans = pd.read_csv(SHARED / "loans" / "loans.csv")
    loans = loans[(loans.created_at >= "2016-03-01") & (loans.created_at < "2017-07-01")]
    cfpb = pd.read_csv(SHARED / "cfpb" / "cfpb_narratives_combined.csv")
    rows = run(
        "loans (MASE)",
        Forecaster,
        dict(time_column="created_at", target_column="amount", horizon=30),
        loans,
        lambda m: m["mase"],
    )
    rows += run(
        "cfpb (accuracy)",
        TextClassifier,
        dict(
            text_column="Consumer complaint narrative", label_column="Product_harmonized", seed=42
        ),
        cfpb,
        lambda m: m["accuracy"],
    )
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    out = Path(__file__).parent / "results" / "lr_find.json"
    out.write_text(json.dumps(_clean(rows), indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
