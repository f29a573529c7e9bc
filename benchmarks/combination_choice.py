"""The AutoETS average's choice, per series and per panel, beside what either choice scores.

For each series of the forecasting suite (``suite``) or one Tourism panel (``tourism``),
one seed: the default forecaster's validation errors with the network alone and with its
mean with AutoETS (their ratio is what ``combination.TOLERANCE`` is compared to), the
choice made, and the test score of both the network alone and the mean, whichever was
chosen. This is how the tolerance was set (README, "Averaged with AutoETS").

    .venv/bin/python benchmarks/combination_choice.py suite --seed 0
    .venv/bin/python benchmarks/combination_choice.py tourism --panel monthly --seed 0

Prints a table and writes benchmarks/results/combination_choice_{suite,PANEL}_SEED.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
RESULTS = Path(__file__).resolve().parent / "results"


def _mean(network: np.ndarray, ets: np.ndarray, nonnegative: bool) -> np.ndarray:
    mean = 0.5 * network + 0.5 * ets
    return np.maximum(mean, 0) if nonnegative else mean


def suite_rows(seed: int) -> dict:
    import forecast_suite as suite

    from rnnkit.forecasting import combination

    out = {}
    for case in suite.CASES:
        series = case.load()
        origins = case.origin_positions(len(series))
        forecaster = suite.train(case, series, seed)
        chosen = forecaster.combination_ or {}
        forecaster.combination_ = None  # from here on, the network alone
        network = np.stack(
            [forecaster.predict(series.iloc[:o])["forecast"].to_numpy() for o in origins]
        )
        values = series.to_numpy()
        ets = combination.statistical_forecasts(
            "auto_ets", values, origins, case.horizon, case.season
        )
        mean = _mean(network, ets, bool(np.all(values >= 0)))
        errors = chosen.get("errors", {})
        out[case.name] = {
            "group": case.group,
            "validation_errors": errors,
            "ratio": errors["0.5"] / errors["0.0"] if errors else None,
            "weight": chosen.get("weight", 0.0),
            "network_mase": suite.score(case, series, network)["mase"],
            "mean_mase": suite.score(case, series, mean)["mase"],
        }
    return out


def tourism_rows(panel: str, seed: int) -> dict:
    import bench_tourism as tourism

    from rnnkit.forecasting import combination

    series = tourism.load(panel)
    season = tourism.PANELS[panel][0]
    _, seconds, network, chosen = tourism.network(panel, series, seed, {})
    horizon = len(series[0][2])
    ets = [
        combination.statistical_forecasts("auto_ets", x, [len(x)], horizon, season)[0]
        for _, x, _ in series
    ]
    mean = [_mean(n, e, True) for n, e in zip(network, ets)]
    errors = chosen.get("errors", {})
    return {
        panel: {
            "validation_errors": errors,
            "ratio": errors["0.5"] / errors["0.0"] if errors else None,
            "weight": chosen.get("weight", 0.0),
            "network": tourism.scores(series, network, season),
            "mean": tourism.scores(series, mean, season),
            "seconds": seconds,
        }
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", choices=("suite", "tourism"))
    parser.add_argument("--panel", default="monthly", choices=("yearly", "quarterly", "monthly"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("KERAS_BACKEND", "jax")
    if args.data == "suite":
        from forecast_suite import geometric_mean

        rows = suite_rows(args.seed)
        header = ("series", "group", "ratio", "weight", "network", "mean")
        print("{:16s} {:13s} {:>6s} {:>6s} {:>8s} {:>8s}".format(*header))
        for name, row in rows.items():
            ratio = "-" if row["ratio"] is None else f"{row['ratio']:.3f}"
            print(
                f"{name:16s} {row['group']:13s} {ratio:>6s} {row['weight']:6g} "
                f"{row['network_mase']:8.3f} {row['mean_mase']:8.3f}"
            )
        for group in ("tuning", "confirmation", None):
            chosen = [r for r in rows.values() if group is None or r["group"] == group]
            as_chosen = [r["mean_mase" if r["weight"] else "network_mase"] for r in chosen]
            print(
                f"geometric mean, {group or 'all'}: network alone "
                f"{geometric_mean([r['network_mase'] for r in chosen]):.3f}, mean everywhere "
                f"{geometric_mean([r['mean_mase'] for r in chosen]):.3f}, as chosen "
                f"{geometric_mean(as_chosen):.3f}"
            )
        name = f"suite_{args.seed}"
    else:
        rows = tourism_rows(args.panel, args.seed)
        row = rows[args.panel]
        print(
            f"{args.panel}: ratio {row['ratio']:.4f}, weight {row['weight']:g}; network alone "
            f"MAPE {row['network']['mape']:.2f} MASE {row['network']['mase']:.3f}; mean "
            f"MAPE {row['mean']['mape']:.2f} MASE {row['mean']['mase']:.3f}"
        )
        name = f"{args.panel}_{args.seed}"
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"combination_choice_{name}.json"
    out.write_text(json.dumps(rows, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
