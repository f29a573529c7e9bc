"""Which statistical model to average the network with: AutoETS, AutoARIMA or AutoTheta.

For each series of the forecasting suite and each seed: the default forecaster trained as
``bench_forecast_suite.py`` trains it, then, on its validation origins (as
``combination`` chooses), the error of the network alone and of its mean with each of
AutoETS, AutoARIMA and AutoTheta; and on the suite's test origins, the MASE of the network
alone and of each mean. Rules are then compared on the tuning half and checked on the
confirmation half: the current one (AutoETS, kept unless the network alone is better by
more than ``combination.TOLERANCE``), and choosing the partner whose mean had the lowest
validation error before applying the same tolerance.

    .venv/bin/python benchmarks/partner_choice.py --seeds 0 1 2

Also scored: the mean of the three statistical models as one partner, that mean and
AutoARIMA without the validation's veto, the equal mean of all four forecasts, and the
three statistical models' mean alone.

Prints a table and writes benchmarks/results/partner_choice.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
RESULTS = Path(__file__).resolve().parent / "results"
PARTNERS = ("auto_ets", "auto_arima", "auto_theta")
#: The mean of the three statistical models' forecasts as one partner (the M4
#: competition's "Comb" benchmark averages exponential smoothing models the same way).
MEAN_OF_THREE = "mean_of_three"


def run(case, series, seed: int) -> dict:
    import forecast_suite as suite

    from rnnkit import Forecaster
    from rnnkit.forecasting import combination

    validation: dict[str, dict] = {}
    original = Forecaster._choose_combination
    one_model = combination.statistical_forecasts

    def mean_of_three(name, values, origins, horizon, season, history=None):
        return np.mean(
            [one_model(p, values, origins, horizon, season, history) for p in PARTNERS], axis=0
        )

    def every_partner(self, data_):
        for name in PARTNERS:
            self.config = self.config.replace(combine_with=name)
            validation[name] = (original(self, data_) or {}).get("errors", {})
        combination.statistical_forecasts = mean_of_three
        try:
            validation[MEAN_OF_THREE] = (original(self, data_) or {}).get("errors", {})
        finally:
            combination.statistical_forecasts = one_model
        self.config = self.config.replace(combine_with="none")
        return None  # the network alone from here on

    origins = case.origin_positions(len(series))
    Forecaster._choose_combination = every_partner
    try:
        forecaster = suite.train(case, series, seed)
    finally:
        Forecaster._choose_combination = original
    network = np.stack(
        [forecaster.predict(series.iloc[:o])["forecast"].to_numpy() for o in origins]
    )
    values = series.to_numpy()
    nonnegative = bool(np.all(values >= 0))
    test = {"network": suite.score(case, series, network)["mase"]}
    statistical = {
        name: combination.statistical_forecasts(name, values, origins, case.horizon, case.season)
        for name in PARTNERS
    }
    statistical[MEAN_OF_THREE] = np.mean([statistical[p] for p in PARTNERS], axis=0)

    def scored(forecast):
        floored = np.maximum(forecast, 0) if nonnegative else forecast
        return suite.score(case, series, floored)["mase"]

    for name, forecast in statistical.items():
        test[name] = scored(0.5 * network + 0.5 * forecast)
    # The equal mean of all four, and the statistical models' mean without the network.
    test["all_four"] = scored(0.25 * network + 0.75 * statistical[MEAN_OF_THREE])
    test["three_alone"] = scored(statistical[MEAN_OF_THREE])
    return {"validation": validation, "test": test}


def choose(row: dict, partners: tuple[str, ...], tolerance: float) -> str:
    """The test column a rule picks: the partner of lowest validation mean error among
    ``partners``, kept unless the network alone was better by more than ``tolerance``."""
    errors = {p: row["validation"][p] for p in partners if row["validation"].get(p)}
    if not errors:
        return "network"
    best = min(errors, key=lambda p: errors[p]["0.5"])
    alone = errors[best]["0.0"]
    return best if errors[best]["0.5"] <= (1 + tolerance) * alone else "network"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--only", default="")
    parser.add_argument("--tag", default="", help="suffix of the results file")
    args = parser.parse_args()
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import forecast_suite as suite

    from rnnkit.forecasting.combination import TOLERANCE

    rows = {}
    for case in suite.CASES:
        if args.only and case.name not in args.only.split(","):
            continue
        series = case.load()
        rows[case.name] = {"group": case.group, "seeds": {}}
        for seed in args.seeds:
            result = run(case, series, seed)
            rows[case.name]["seeds"][seed] = result
            ratios = {
                p: round(v["0.5"] / v["0.0"], 3) for p, v in result["validation"].items() if v
            }
            print(
                f"{case.name:16s} seed {seed} validation ratios {ratios} test "
                f"{ {k: round(v, 3) for k, v in result['test'].items()} }",
                flush=True,
            )
    rules = {
        "network alone": lambda r: "network",
        "AutoETS (the default before)": lambda r: choose(r, ("auto_ets",), TOLERANCE),
        "AutoARIMA (the default)": lambda r: choose(r, ("auto_arima",), TOLERANCE),
        "best of three": lambda r: choose(r, PARTNERS, TOLERANCE),
        "best of ETS, ARIMA": lambda r: choose(r, ("auto_ets", "auto_arima"), TOLERANCE),
        "mean of the three": lambda r: choose(r, (MEAN_OF_THREE,), TOLERANCE),
        "mean of three, always": lambda r: MEAN_OF_THREE,
        "AutoARIMA, always": lambda r: "auto_arima",
        "all four equal, always": lambda r: "all_four",
        "the three alone": lambda r: "three_alone",
    }
    summary: dict = {}
    print(
        f"\n{'rule':28s} {'tuning':>8s} {'confirm':>8s} {'all':>8s}"
        "   (geometric-mean MASE, median over seeds)"
    )
    for label, rule in rules.items():
        per_series = {}
        for name, row in rows.items():
            scores = [res["test"][rule(res)] for res in row["seeds"].values()]
            per_series[name] = statistics.median(scores)
        cells = {}
        for group in ("tuning", "confirmation", None):
            chosen = [
                v for n, v in per_series.items() if group is None or rows[n]["group"] == group
            ]
            cells[group or "all"] = suite.geometric_mean(chosen) if chosen else float("nan")
        summary[label] = {"per_series": per_series, **cells}
        print(
            f"{label:28s} {cells['tuning']:8.3f} {cells['confirmation']:8.3f} {cells['all']:8.3f}"
        )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"partner_choice{args.tag}.json"
    out.write_text(json.dumps({"seeds": args.seeds, "rows": rows, "summary": summary}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
