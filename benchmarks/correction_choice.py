"""How much of the network's trained correction to keep: rules compared on the suite.

For each series of the forecasting suite and each seed, the default forecaster is trained
once as ``bench_forecast_suite.py`` trains it. Then, for every correction weight the fit
may choose (``fitting.CORRECTION_WEIGHTS``: 1, 0.5, 0), with the output layers scaled to
it: the weight's loss on the validation windows (what the fit chooses on), the AutoARIMA
average's choice on the validation origins (as ``combination`` makes it for that
weight), and the MASE on the suite's test origins of the whole model (network, then the
average where chosen). Rules for the weight are then scored on the tuning half and
checked on the confirmation half:

- ``lowest``: the weight of lowest validation loss (the rule of the fit so far);
- ``half unless T``: 0.5 unless the whole (or none) of the correction is better on the
  validation windows by more than the share T (the combination's rule for the average,
  applied to the correction).

    .venv/bin/python benchmarks/correction_choice.py --seeds 0 1 2

Prints a table and writes benchmarks/results/correction_choice.json.
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
WEIGHTS = (1.0, 0.5, 0.0)
TOLERANCES = (0.0, 0.01, 0.02, 0.03, 0.05)


def run(case, series, seed: int) -> dict:
    import keras

    from rnnkit import Forecaster
    from rnnkit.forecasting.prediction import padded_output

    captured: dict = {}
    original_weigh = Forecaster._weigh_correction

    def record_losses(self, x_val, y_val, loss):
        loss_function = keras.losses.get(loss)
        trained = padded_output(self.model_, x_val)
        captured["losses"] = {
            str(w): float(np.mean(loss_function(y_val, w * trained))) for w in WEIGHTS
        }
        return 1.0  # keep the trained correction; the weights are applied below

    Forecaster._weigh_correction = record_losses
    try:
        forecaster, data_ = suite.train_keeping_data(case, series, seed)
    finally:
        Forecaster._weigh_correction = original_weigh
    if forecaster.base_ == "none":
        raise SystemExit(f"{case.name}: no base forecast, nothing to weigh")
    outputs = [
        layer for layer in forecaster.model_.layers if layer.name.endswith(("_out", "_linear"))
    ]
    trained = [layer.get_weights() for layer in outputs]
    origins = case.origin_positions(len(series))
    out = {"losses": captured["losses"], "test": {}, "combination": {}, "test_network": {}}
    for w in WEIGHTS:
        for layer, weights in zip(outputs, trained):
            layer.set_weights([w * v for v in weights])
        chosen = forecaster._choose_combination(data_)
        forecaster.combination_ = chosen
        out["combination"][str(w)] = (chosen or {}).get("weight", 0.0)
        forecasts = np.stack(
            [forecaster.predict(series.iloc[:o])["forecast"].to_numpy() for o in origins]
        )
        out["test"][str(w)] = suite.score(case, series, forecasts)["mase"]
        forecaster.combination_ = None
        network = np.stack(
            [forecaster.predict(series.iloc[:o])["forecast"].to_numpy() for o in origins]
        )
        out["test_network"][str(w)] = suite.score(case, series, network)["mase"]
    return out


def lowest(losses: dict) -> str:
    return min(losses, key=losses.get)


def half_unless(losses: dict, tolerance: float) -> str:
    """0.5 unless another weight's validation loss is lower by more than ``tolerance``."""
    best = lowest(losses)
    if losses[best] < losses["0.5"] / (1 + tolerance):
        return best
    return "0.5"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--output", default=str(RESULTS / "correction_choice.json"))
    args = parser.parse_args()
    rows = []
    for case in suite.selected(args.only):
        series = case.load()
        for seed in args.seeds:
            row = {"series": case.name, "group": case.group, "seed": seed}
            row.update(run(case, series, seed))
            rows.append(row)
            print(
                f"{case.name:16s} seed {seed} losses "
                f"{ {k: round(v, 4) for k, v in row['losses'].items()} } "
                f"combined {row['combination']} test "
                f"{ {k: round(v, 3) for k, v in row['test'].items()} }",
                flush=True,
            )
    rules = {"lowest (so far)": lowest}
    for t in TOLERANCES[1:]:
        rules[f"half unless {t:.0%}"] = lambda losses, t=t: half_unless(losses, t)
    for w in WEIGHTS:
        rules[f"always {w:g}"] = lambda losses, w=w: str(w)
    table = {}
    for rule, pick in rules.items():
        table[rule] = {}
        for group in ("tuning", "confirmation", None):
            per_series: dict[str, list[float]] = {}
            for row in rows:
                if group and row["group"] != group:
                    continue
                per_series.setdefault(row["series"], []).append(row["test"][pick(row["losses"])])
            table[rule][group or "all"] = suite.geometric_mean(
                [statistics.median(v) for v in per_series.values()]
            )
    print(f"\n{'rule':22s} {'tuning':>8s} {'confirm':>8s} {'all':>8s}   (geometric-mean MASE)")
    for rule, scores in table.items():
        print(
            f"{rule:22s} {scores['tuning']:8.3f} {scores['confirmation']:8.3f} {scores['all']:8.3f}"
        )
    Path(args.output).write_text(json.dumps({"rows": rows, "table": table}, indent=1))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
