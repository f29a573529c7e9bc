"""Which quantile of the validation errors should an interval's edge be? A probe.

rnnkit calibrates its intervals by split conformal prediction: of ``n`` validation
errors per horizon step, the upper edge of the 80 % interval is the ``ceil((n + 1) 0.9)``-th
smallest and the lower the ``floor((n + 1) 0.1)``-th. That guarantees at least 80 % for
exchangeable errors, and with few errors much more: of 15 errors, the largest and the
smallest (a nominal 88 %). The other rule scored here targets 80 % on average instead:
the empirical quantile at plotting position ``q (n + 1)``, interpolated between order
statistics (``numpy.quantile(method="weibull")``), whose expected coverage of a new
exchangeable error is ``q`` exactly.

Each suite series is trained once per seed as ``bench_forecast_suite.py`` trains it; the
validation errors the forecaster calibrates on are captured and calibrated both ways, and
both bands are scored over the suite's test origins (coverage of the 80 % interval, its
width and the mean pinball loss of q0.1, q0.5, q0.9, both over the MASE scale).

    .venv/bin/python benchmarks/interval_quantile_rule_probe.py --seeds 0 1 2

Prints a table and writes benchmarks/results/interval_quantile_rule.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_forecast_suite as bench  # noqa: E402
import forecast_suite as suite  # noqa: E402
from interval_calibration_probe import _bands, coverage_summary  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "interval_quantile_rule.json"
RULES = ("conformal", "weibull")


def weibull_calibration(residuals: np.ndarray, quantiles):
    """As :func:`rnnkit.forecasting.intervals.calibrate`, with the plotting-position
    quantile instead of the conformal order statistic."""
    from rnnkit.forecasting.intervals import MIN_RESIDUALS_PER_STEP, Calibration

    residuals = np.asarray(residuals, dtype="float64")
    n, horizon = residuals.shape
    pooled = n < MIN_RESIDUALS_PER_STEP

    def quantile(values: np.ndarray, q: float) -> np.ndarray:
        if q == 0.5:
            return np.median(values, axis=0)
        return np.quantile(values, q, axis=0, method="weibull")

    if pooled:
        growth = np.sqrt(np.arange(1, horizon + 1))
        flat = (residuals / growth).ravel()
        offsets = np.stack([quantile(flat, q) * growth for q in quantiles])
    else:
        offsets = np.stack([quantile(residuals, q) for q in quantiles])
    return Calibration(tuple(float(q) for q in quantiles), np.sort(offsets, axis=0), n, pooled)


def probe(case: suite.Case, series, seed: int) -> dict:
    import rnnkit.forecasting.forecaster as module
    from rnnkit.forecasting.intervals import calibrate

    captured = []

    def capturing(residuals, quantiles):
        captured.append(np.asarray(residuals, dtype="float64"))
        return calibrate(residuals, quantiles)

    module.calibrate = capturing
    try:
        forecaster = suite.train(case, series, seed)
    finally:
        module.calibrate = calibrate
    residuals = captured[-1]
    quantiles = forecaster.calibration_.quantiles
    calibrations = {
        "conformal": forecaster.calibration_,
        "weibull": weibull_calibration(residuals, quantiles),
    }
    origins = case.origin_positions(len(series))
    scores = {
        rule: bench.interval_scores(case, series, _bands(forecaster, series, origins, calibration))
        for rule, calibration in calibrations.items()
    }
    return {
        "series": case.name,
        "group": case.group,
        "seed": seed,
        "validation_windows": int(residuals.shape[0]),
        "scores": scores,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    rows = []
    for case in suite.selected(args.only):
        series = case.load()
        for seed in args.seeds:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                row = probe(case, series, seed)
            rows.append(row)
            cells = " ".join(
                f"{r}={row['scores'][r]['coverage_80'] * 100:3.0f}%/"
                f"{row['scores'][r]['width_80']:.3f}/{row['scores'][r]['pinball']:.4f}"
                for r in RULES
            )
            print(f"{case.name:16s} s{seed} n={row['validation_windows']:4d} {cells}", flush=True)
    summary = {rule: coverage_summary(rows, rule) for rule in RULES}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps({"seeds": args.seeds, "rows": rows, "summary": summary}, indent=1)
    )
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
