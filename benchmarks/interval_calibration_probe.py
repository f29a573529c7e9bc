"""Which errors should the 80 % interval be calibrated on, when the forecast is the
network's averaged with a statistical model's?

The forecaster calibrates its intervals on the network's errors over the validation
windows (split conformal), but the band is centred on the forecast it gives, which is the
mean of the network's and AutoARIMA's where the validation chose it. This probe trains
each suite series once per seed (as ``bench_forecast_suite.py`` does) and, on the same
forecasts, scores bands calibrated four ways over the suite's test origins:

- ``network``: the network's errors on every validation window (rnnkit before this probe);
- ``scaled``: those offsets times the ratio of the chosen forecast's mean absolute error
  to the network's on the combination's validation origins (1 where the network is
  used alone);
- ``origins``: the chosen forecast's own errors on the combination's validation origins
  only (up to 5 whole horizons, pooled over steps);
- ``windows``: the chosen forecast's own errors on up to ``--windows`` validation windows
  evenly spaced (a statistical fit each: the costly way).

    .venv/bin/python benchmarks/interval_calibration_probe.py --seeds 0 1 2

Prints a table and writes benchmarks/results/interval_calibration.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_forecast_suite as bench  # noqa: E402
import forecast_suite as suite  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
VARIANTS = ("network", "scaled", "origins", "windows")


def _bands(forecaster, series, origins, calibration) -> np.ndarray:
    forecaster.calibration_ = calibration
    frames = [forecaster.predict(series.iloc[:o]) for o in origins]
    columns = [f"q{q:g}" for q in bench.INTERVAL_QUANTILES]
    return np.stack([frame[columns].to_numpy().T for frame in frames])


def _normalised_errors(forecaster, series, positions) -> np.ndarray:
    """The given forecast's errors from ``positions`` in units of each window's spread."""
    values = series.to_numpy()
    window, horizon = forecaster.config.window, forecaster.config.horizon
    rows = []
    for o in positions:
        forecast = forecaster.predict(series.iloc[:o])["forecast"].to_numpy()
        scaled = forecaster.scaler_.transform(values[o - window : o][None, :])
        spread = forecaster._spread(scaled, forecaster.epsilon_)[0, 0] * forecaster.scaler_.scale
        rows.append((values[o : o + horizon] - forecast) / spread)
    return np.stack(rows)


def probe(case: suite.Case, series, seed: int, windows: int, dense_origins: int = 0) -> dict:
    from rnnkit.forecasting.intervals import calibrate

    started = time.perf_counter()
    forecaster = suite.train(case, series, seed)
    seconds = time.perf_counter() - started
    origins = case.origin_positions(len(series))
    network = forecaster.calibration_
    quantiles = network.quantiles
    chosen = forecaster.combination_ or {}
    weight = float(chosen.get("weight", 0.0))
    errors = chosen.get("errors", {})
    ratio = errors["0.5"] / errors["0.0"] if weight and errors.get("0.0") else 1.0

    fitted = series.iloc[: origins[0] + case.horizon]
    split = forecaster.split_
    start, end = split["train"], split["train"] + split["validation"]
    c = forecaster.config
    from rnnkit.forecasting import combination

    val_origins = combination.validation_origins(start, end, c.horizon, c.window)
    first, last = max(start, c.window), end - c.horizon
    spaced = sorted(
        {int(round(v)) for v in np.linspace(first, last, min(windows, last - first + 1))}
    )

    calibrations = {"network": network}
    calibrations["scaled"] = type(network)(
        network.quantiles, network.offsets * ratio, network.residuals_per_step, network.pooled
    )
    calibrations["origins"] = calibrate(
        _normalised_errors(forecaster, fitted, val_origins), quantiles
    )
    calibrations["windows"] = calibrate(_normalised_errors(forecaster, fitted, spaced), quantiles)
    scores = {}
    for name, calibration in calibrations.items():
        bands = _bands(forecaster, series, origins, calibration)
        scores[name] = bench.interval_scores(case, series, bands)
    dense = None
    if dense_origins:
        # The same calibration over many origins from the first to the last: how far the
        # five origins' coverage is from the coverage the band has over that stretch.
        last = origins[-1]
        positions = sorted(
            {
                int(round(v))
                for v in np.linspace(origins[0], last, min(dense_origins, last - origins[0] + 1))
            }
        )
        bands = _bands(forecaster, series, positions, network)
        values = series.to_numpy()
        actual = np.stack([values[o : o + case.horizon] for o in positions])
        covered = (actual >= bands[:, 0, :]) & (actual <= bands[:, -1, :])
        dense = {"origins": len(positions), "coverage_80": float(covered.mean())}
    return {
        "series": case.name,
        "group": case.group,
        "seed": seed,
        "weight": weight,
        "ratio": ratio,
        "validation_windows": network.residuals_per_step,
        "seconds": seconds,
        "scores": scores,
        "dense": dense,
    }


def coverage_summary(rows: list[dict], variant: str) -> dict:
    """Over series (each the median of its seeds): the geometric-mean pinball loss, the
    median coverage of the 80 % interval and how many series have it in 75-85 % (also
    per half) and in 70-90 %; printed on one line."""
    per_series: dict[str, list[dict]] = {}
    for row in rows:
        per_series.setdefault(row["series"], []).append(row["scores"][variant])
    coverages = {
        name: statistics.median(s["coverage_80"] for s in runs) for name, runs in per_series.items()
    }
    pinballs = [statistics.median(s["pinball"] for s in runs) for runs in per_series.values()]
    groups = {row["series"]: row["group"] for row in rows}
    summary = {
        "geometric_mean_pinball": suite.geometric_mean(pinballs),
        "median_coverage_80": statistics.median(coverages.values()),
        "series_with_coverage_75_to_85": sum(0.75 <= x <= 0.85 for x in coverages.values()),
        "series_with_coverage_70_to_90": sum(0.70 <= x <= 0.90 for x in coverages.values()),
        "by_group_75_to_85": {
            g: sum(0.75 <= c <= 0.85 for name, c in coverages.items() if groups[name] == g)
            for g in ("tuning", "confirmation")
        },
        "series": len(coverages),
    }
    n = len(coverages)
    print(
        f"{variant:9s} geo-mean pinball {summary['geometric_mean_pinball']:.4f}  median "
        f"coverage {summary['median_coverage_80'] * 100:.0f}%  in 75-85% "
        f"{summary['series_with_coverage_75_to_85']}/{n} {summary['by_group_75_to_85']}  "
        f"in 70-90% {summary['series_with_coverage_70_to_90']}/{n}"
    )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--windows", type=int, default=20)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument(
        "--dense",
        type=int,
        default=0,
        help="also the network calibration's coverage over up to "
        "this many origins evenly spaced from the first test origin to the last",
    )
    args = parser.parse_args()
    rows = []
    for case in suite.selected(args.only):
        series = case.load()
        for seed in args.seeds:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                row = probe(case, series, seed, args.windows, args.dense)
            rows.append(row)
            scores = row["scores"]
            cells = " ".join(
                f"{v}={scores[v]['coverage_80'] * 100:3.0f}%/{scores[v]['pinball']:.4f}"
                for v in VARIANTS
            )
            if row["dense"]:
                cells += (
                    f" dense({row['dense']['origins']})={row['dense']['coverage_80'] * 100:3.0f}%"
                )
            print(
                f"{case.name:16s} s{seed} w={row['weight']} r={row['ratio']:.3f} {cells}",
                flush=True,
            )
    summary = {v: coverage_summary(rows, v) for v in VARIANTS}
    out = RESULTS / "interval_calibration.json"
    out.write_text(json.dumps({"seeds": args.seeds, "rows": rows, "summary": summary}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
