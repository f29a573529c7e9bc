"""How an ensemble's members are averaged into one forecast: median, mean or trimmed mean.

For each series of the forecasting suite and each seed, the default forecaster is trained
once as ``bench_forecast_suite.py`` trains it; then for each way of averaging the members'
forecasts (``median``, the default so far; ``mean``; ``trimmed``, the mean without the
lowest and the highest member) the AutoARIMA average is chosen again on the validation
origins and the model scored on the suite's test origins. Per series: the median MASE over
seeds and the seed spread ((max - min) / median), which averaging is meant to shrink.

    .venv/bin/python benchmarks/member_average.py --seeds 0 1 2

Prints a table and writes benchmarks/results/member_average.json.
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
import forecast_suite as suite  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def _trimmed(output: np.ndarray) -> np.ndarray:
    ordered = np.sort(output, axis=1)
    return ordered[:, 1:-1].mean(axis=1) if output.shape[1] > 2 else ordered.mean(axis=1)


AVERAGES = {
    "median": lambda output: np.median(output, axis=1),
    "mean": lambda output: output.mean(axis=1),
    "trimmed": _trimmed,
}


def run(case, series, seed: int) -> dict[str, float]:
    from rnnkit.forecasting import prediction

    original_batch = prediction.predict_batch
    forecaster, data_ = suite.train_keeping_data(case, series, seed)
    origins = case.origin_positions(len(series))
    scores = {}
    for name, average in AVERAGES.items():

        def predict_batch(model, inputs, average=average):
            output = np.asarray(prediction.padded_output(model, inputs), dtype="float64")
            return average(output) if output.ndim == 3 else output

        prediction.predict_batch = predict_batch
        try:
            forecaster.combination_ = forecaster._choose_combination(data_)
            forecasts = np.stack(
                [forecaster.predict(series.iloc[:o])["forecast"].to_numpy() for o in origins]
            )
        finally:
            prediction.predict_batch = original_batch
        scores[name] = suite.score(case, series, forecasts)["mase"]
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--output", default=str(RESULTS / "member_average.json"))
    args = parser.parse_args()
    rows = []
    for case in suite.selected(args.only):
        series = case.load()
        seeds = {}
        for seed in args.seeds:
            seeds[seed] = run(case, series, seed)
            print(
                f"{case.name:16s} seed {seed} "
                + " ".join(f"{k} {v:.4f}" for k, v in seeds[seed].items()),
                flush=True,
            )
        row = {"series": case.name, "group": case.group, "seeds": seeds}
        for name in AVERAGES:
            values = [s[name] for s in seeds.values()]
            middle = statistics.median(values)
            row[name] = {"mase": middle, "spread": (max(values) - min(values)) / middle}
        rows.append(row)
    print(f"\n{'series':16s} " + " ".join(f"{n:>16s}" for n in AVERAGES))
    for row in rows:
        print(
            f"{row['series']:16s} "
            + " ".join(f"{row[n]['mase']:9.3f} ({row[n]['spread']:4.0%})" for n in AVERAGES)
        )
    summary = {}
    for name in AVERAGES:
        summary[name] = {
            group or "all": suite.geometric_mean(
                [r[name]["mase"] for r in rows if group in (None, r["group"])]
            )
            for group in ("tuning", "confirmation", None)
            if any(group in (None, r["group"]) for r in rows)
        } | {"max_spread": max(r[name]["spread"] for r in rows)}
    for name, s in summary.items():
        means = " ".join(f"{k} {v:.3f}" for k, v in s.items() if k != "max_spread")
        print(f"{name:10s} geometric mean {means}; largest spread {s['max_spread']:.1%}")
    Path(args.output).write_text(json.dumps({"rows": rows, "summary": summary}, indent=1))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
