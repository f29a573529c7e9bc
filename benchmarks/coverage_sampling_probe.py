"""How often a perfectly calibrated 80 % interval lands in 75-85 % coverage on the suite.

The forecasting suite scores intervals from five rolling origins ``stride`` periods apart,
each forecasting ``horizon`` periods: the origins overlap, so a series' coverage is
counted on only ``horizon + 4 * stride`` distinct periods (8 for lynx, 16 for woolyrnq).
This probe asks how far such a coverage strays by chance alone. For each suite series'
layout (its horizon, stride and origins) it simulates a Gaussian AR(1) series
``y[t] = phi * y[t-1] + e[t]`` and a forecaster that knows the process exactly: its point
forecast from an origin is ``phi**s * y[origin]`` and its 80 % interval the exact 10 % and
90 % quantiles of the ``s``-step error. The interval is calibrated by construction;
whatever spread the coverage shows is sampling noise of the test layout.

    .venv/bin/python benchmarks/coverage_sampling_probe.py

Prints, per series and for phi in 0, 0.5, 0.9, the chance that the coverage falls in
75-85 % (and in 70-90 %), and the expected number of the 14 series in each; writes
benchmarks/results/coverage_sampling.json. No data is read beyond the suite's layout.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import forecast_suite as suite  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
PHIS = (0.0, 0.5, 0.9)
SIMULATIONS = 4000
Z90 = 1.2815515655446004  # the standard normal's 90 % quantile


def coverages(case: suite.Case, phi: float, rng: np.random.Generator) -> np.ndarray:
    """Empirical coverage of the exact 80 % interval in each of ``SIMULATIONS`` runs."""
    span = case.horizon + (case.origins - 1) * case.stride
    burn = 200
    noise = rng.standard_normal((SIMULATIONS, burn + span))
    y = np.zeros_like(noise)
    for t in range(1, y.shape[1]):
        y[:, t] = phi * y[:, t - 1] + noise[:, t]
    steps = np.arange(1, case.horizon + 1)
    # The s-step error's standard deviation: sqrt(sum_{j<s} phi^(2j)).
    sd = np.sqrt(np.cumsum(phi ** (2 * np.arange(case.horizon))))
    inside = []
    for k in range(case.origins):
        origin = burn + k * case.stride  # forecasts y[origin .. origin + h - 1]
        last = y[:, origin - 1 : origin]
        forecast = last * phi**steps
        actual = y[:, origin : origin + case.horizon]
        inside.append(np.abs(actual - forecast) <= Z90 * sd)
    return np.concatenate(inside, axis=1).mean(axis=1)


def main() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for case in suite.CASES:
        row = {"series": case.name, "horizon": case.horizon, "stride": case.stride}
        row["distinct_periods"] = case.horizon + (case.origins - 1) * case.stride
        for phi in PHIS:
            cov = coverages(case, phi, rng)
            row[f"in_75_85 phi={phi}"] = float(np.mean((cov >= 0.75) & (cov <= 0.85)))
            row[f"in_70_90 phi={phi}"] = float(np.mean((cov >= 0.70) & (cov <= 0.90)))
        rows.append(row)
    header = f"{'series':16s} {'h':>3s} {'stride':>6s} {'periods':>7s}"
    header += "".join(f"  75-85 phi={phi:<4}" for phi in PHIS)
    print(header)
    for row in rows:
        line = f"{row['series']:16s} {row['horizon']:3d} {row['stride']:6d} "
        line += f"{row['distinct_periods']:7d}"
        line += "".join(f"  {row[f'in_75_85 phi={phi}']:14.0%}" for phi in PHIS)
        print(line)
    expected = {}
    for phi in PHIS:
        for band in ("75_85", "70_90"):
            expected[f"{band} phi={phi}"] = sum(row[f"in_{band} phi={phi}"] for row in rows)
        print(
            f"phi={phi}: expected series in 75-85 %: {expected[f'75_85 phi={phi}']:.1f} of "
            f"{len(rows)}; in 70-90 %: {expected[f'70_90 phi={phi}']:.1f}"
        )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "coverage_sampling.json"
    out.write_text(json.dumps({"simulations": SIMULATIONS, "rows": rows, "expected": expected}))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
