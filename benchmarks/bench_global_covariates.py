"""Covariates in a global model on a real panel: MASE with and without them, side by side.

statsmodels' US macroeconomic data (``macrodata``: quarterly, 1959 Q1 to 2009 Q3, 203
quarters): five real activity series (``realgdp``, ``realcons``, ``realinv``,
``realgovt``, ``realdpi``) as one panel of one :class:`~rnnkit.GlobalForecaster`, with the
3-month T-bill rate, unemployment and inflation (``tbilrate``, ``unemp``, ``infl``) as
**past** columns: observed up to the forecast origin, the same values beside every series.
Horizon 4 quarters, otherwise the global model's defaults.

Rolling origins: the model is trained again at each of ``--origins`` origins, a horizon
apart, ending at the last quarter, and scored on the horizon after it (every series' own
MASE against its own naive, seasonal naive, AutoETS, AutoARIMA and AutoTheta on the same
origin, as the model's metrics give them); ``--seeds`` seeds. Per method: the mean MASE
over series and origins (median over seeds for the networks, and their spread).

    .venv/bin/python benchmarks/bench_global_covariates.py [--seeds 3] [--origins 5]

Prints a table and writes benchmarks/results/global_covariates.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "global_covariates.json"
SERIES = ("realgdp", "realcons", "realinv", "realgovt", "realdpi")
DRIVERS = ("tbilrate", "unemp", "infl")
HORIZON = 4
BASELINES = ("naive", "seasonal_naive", "auto_ets", "auto_arima", "auto_theta")
VARIANTS = {"no covariates": {}, "past: tbilrate, unemp, infl": {"past_columns": list(DRIVERS)}}


def panel_rows() -> pd.DataFrame:
    """One row per series and quarter: id, quarter start, value and the drivers."""
    import statsmodels.api as sm

    macro = sm.datasets.macrodata.load_pandas().data
    quarters = pd.PeriodIndex.from_fields(
        year=macro["year"].astype(int), quarter=macro["quarter"].astype(int), freq="Q"
    ).to_timestamp()
    frames = [
        pd.DataFrame(
            {
                "series": name,
                "quarter": quarters,
                "value": macro[name].to_numpy(),
                **{d: macro[d].to_numpy() for d in DRIVERS},
            }
        )
        for name in SERIES
    ]
    return pd.concat(frames, ignore_index=True)


def fit_once(rows: pd.DataFrame, seed: int, params: dict) -> dict:
    from rnnkit import GlobalForecaster

    model = GlobalForecaster(
        time_column="quarter",
        target_column="value",
        id_column="series",
        freq="Q",
        agg="mean",
        fill="interpolate",
        horizon=HORIZON,
        seed=seed,
        gradient_health=False,
        **params,
    )
    started = time.perf_counter()
    model.fit(rows, verbose=0)
    seconds = time.perf_counter() - started
    by_series = model.metrics_by_series_
    return {
        "mase": {
            method: {key: by_series[key][method]["mase"] for key in by_series}
            for method in ("model", *BASELINES)
        },
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--origins", type=int, default=5)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    rows = panel_rows()
    quarters = np.sort(rows["quarter"].unique())
    runs: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    baselines: dict[str, list[float]] = {m: [] for m in BASELINES}
    for origin in range(args.origins):
        cut = quarters[len(quarters) - origin * HORIZON - 1]
        part = rows[rows["quarter"] <= cut]
        for seed in range(args.seeds):
            for name, params in VARIANTS.items():  # interleaved, the same split
                result = fit_once(part, seed, params)
                runs[name].append({"origin": origin, "seed": seed, **result})
                if seed == 0 and name == "no covariates":
                    for method in BASELINES:
                        baselines[method].extend(result["mase"][method].values())
                mean = np.mean(list(result["mase"]["model"].values()))
                print(
                    f"origin {origin} (to {str(cut)[:10]}) seed {seed} {name}: mean MASE "
                    f"{mean:.3f} ({result['seconds']:.0f} s)",
                    flush=True,
                )
    table = {}
    for name, results in runs.items():
        per_seed = [
            float(
                np.mean([v for r in results if r["seed"] == s for v in r["mase"]["model"].values()])
            )
            for s in range(args.seeds)
        ]
        table[name] = {
            "mean_mase_median": float(np.median(per_seed)),
            "mean_mase_seeds": per_seed,
            "spread": float(max(per_seed) - min(per_seed)),
            "fit_seconds_median": float(np.median([r["seconds"] for r in results])),
        }
    for method, values in baselines.items():
        table[method] = {"mean_mase_median": float(np.mean(values))}
    print(f"\n{'method':<30} {'mean MASE':>9} {'seeds':>24} {'fit s':>6}")
    for name, row in table.items():
        seeds = " ".join(f"{v:.3f}" for v in row.get("mean_mase_seeds", []))
        fit = f"{row['fit_seconds_median']:.1f}" if "fit_seconds_median" in row else ""
        print(f"{name:<30} {row['mean_mase_median']:>9.3f} {seeds:>24} {fit:>6}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "seeds": args.seeds,
                "origins": args.origins,
                "horizon": HORIZON,
                "table": table,
                "runs": runs,
            },
            indent=2,
        )
    )
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
