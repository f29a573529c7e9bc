"""Whether a log transform before the scaler helps the default forecaster on the suite.

Multiplicative seasonality (a season's swing growing with the level, as in airpassengers)
is what a log transform turns additive. This probe trains the default forecaster on every
suite series twice per seed, as ``bench_forecast_suite.py`` does: once as it is, once with
the series' values logged before the scaler (and exponentiated after), on every series
whose training part is strictly positive (the others are trained as they are in both
runs). Point forecasts only: the intervals of the logged run are not meaningful, since
they are calibrated in the scaler's units.

    .venv/bin/python benchmarks/log_transform_probe.py --seeds 0

Prints per series MASE and the geometric means of the tuning and confirmation halves;
writes benchmarks/results/log_transform.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_forecast_suite as bench  # noqa: E402
import forecast_suite as suite  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def _patch_scaler() -> type:
    """Replaces the forecaster's ``Scaler`` by one that logs positive series when its
    ``enabled`` flag is set; returns that class."""
    from rnnkit.data import scaling
    from rnnkit.forecasting import forecaster

    class LogScaler(scaling.Scaler):
        def transform(self, values):
            logged = np.log(np.maximum(np.asarray(values, dtype="float64"), 1e-9))
            return super().transform(logged)

        def inverse_transform(self, values):
            return np.exp(np.clip(super().inverse_transform(values), -50, 50))

    class Chooser:
        enabled = False
        from_dict = scaling.Scaler.from_dict

        @classmethod
        def fit(cls, values, kind):
            values = np.asarray(values, dtype="float64")
            if cls.enabled and values.min() > 0:
                fitted = scaling.Scaler.fit(np.log(values), kind)
                return LogScaler(fitted.kind, fitted.offset, fitted.scale)
            return scaling.Scaler.fit(values, kind)

    forecaster.Scaler = Chooser
    return Chooser


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--only", default="", help="comma-separated case names")
    args = parser.parse_args()
    chooser = _patch_scaler()
    rows = []
    for case in suite.selected([n for n in args.only.split(",") if n]):
        series = case.load()
        for seed in args.seeds:
            for variant in ("as_is", "log"):
                chooser.enabled = variant == "log"
                forecasts, *_ = bench.network_forecasts(case, series, {}, seed)
                mase = suite.score(case, series, forecasts)["mase"]
                rows.append(
                    {
                        "case": case.name,
                        "group": case.group,
                        "seed": seed,
                        "variant": variant,
                        "positive": bool(series.min() > 0),
                        "mase": mase,
                    }
                )
                print(f"{case.name:16s} seed {seed} {variant:6s} MASE {mase:.4f}", flush=True)
    summary = {}
    for group in ("tuning", "confirmation"):
        for variant in ("as_is", "log"):
            per_case: dict[str, list[float]] = {}
            for row in rows:
                if row["group"] == group and row["variant"] == variant:
                    per_case.setdefault(row["case"], []).append(row["mase"])
            if per_case:
                medians = [statistics.median(v) for v in per_case.values()]
                summary[f"{group} {variant}"] = suite.geometric_mean(medians)
    for name, value in summary.items():
        print(f"geometric-mean MASE, {name}: {value:.4f}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "log_transform.json"
    out.write_text(json.dumps({"seeds": args.seeds, "rows": rows, "summary": summary}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
