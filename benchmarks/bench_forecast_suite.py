"""rnnkit's forecaster against the statistical peers on the benchmark suite.

Per series (``forecast_suite.CASES``): five rolling origins; the network is trained once
on the history before the first origin (``fit`` on the data up to the first origin's
horizon end: the last ``horizon`` periods are its own held-out test, never trained on),
then forecasts from every origin with ``predict(history)``. The statistical peers
(statsforecast Naive, SeasonalNaive, AutoETS, AutoARIMA, AutoTheta) are refit at every
origin, which favours them. Networks run with several seeds; per series the median
MASE over seeds is reported with its spread (max - min).

    .venv/bin/pip install --no-deps -r benchmarks/requirements.txt
    .venv/bin/python benchmarks/bench_forecast_suite.py --group tuning --seeds 3
    .venv/bin/python benchmarks/bench_forecast_suite.py --variants default,previous

Prints one table and writes benchmarks/results/forecast_suite[_GROUP].json. Peers'
forecasts are deterministic and cached in benchmarks/results/.peer_cache/.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import forecast_suite as suite  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
PEERS = ("naive", "seasonal_naive", "auto_ets", "auto_arima", "auto_theta")

# Named configurations of the network. "default" is whatever rnnkit's defaults are;
# the others pin earlier or candidate settings explicitly.
VARIANTS: dict[str, dict] = {
    "default": {},
    # The defaults before the suite existed (chosen on the loans series alone).
    "previous": dict(
        lookback=60,
        cell="lstm",
        num_layers=2,
        units=64,
        ensemble_size=1,
        base="none",
        linear=False,
        loss="mse",
        window_norm="level",
        batch_size=32,
        learning_rate=3e-3,
        patience=20,
        epochs=100,
    ),
}


def peer_forecasts(case: suite.Case, series) -> dict[str, np.ndarray]:
    """Each peer's forecasts from every origin, refit on the history before it."""
    cache = RESULTS / ".peer_cache" / f"{case.name}.json"
    if cache.exists():
        loaded = json.loads(cache.read_text())
        return {k: np.array(v) for k, v in loaded.items() if not k.startswith("_")}
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, Naive, SeasonalNaive

    values = series.to_numpy()
    m = case.season
    models = {
        "naive": lambda: Naive(),
        "seasonal_naive": lambda: SeasonalNaive(season_length=m),
        "auto_ets": lambda: AutoETS(season_length=m),
        # R's auto.arima approximates the likelihood for long or highly seasonal series
        # (statsforecast's default does not, and takes many minutes on 3,000 hours).
        "auto_arima": lambda: AutoARIMA(season_length=m, approximation=len(values) > 150 or m > 12),
        "auto_theta": lambda: AutoTheta(season_length=m),
    }
    out: dict[str, list] = {name: [] for name in models}
    seconds: dict[str, float] = dict.fromkeys(models, 0.0)
    for origin in case.origin_positions(len(values)):
        history = values[:origin]
        for name, make in models.items():
            started = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    forecast = make().forecast(y=history, h=case.horizon)["mean"]
                except Exception:  # a failed fit falls back to naive, as a user would
                    forecast = np.full(case.horizon, history[-1])
            seconds[name] += time.perf_counter() - started
            out[name].append(np.asarray(forecast, dtype="float64").tolist())
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({**out, "_seconds": [seconds[n] for n in models]}))
    return {k: np.array(v) for k, v in out.items()}


def network_forecasts(case: suite.Case, series, params: dict, seed: int):
    """Trains once on the history before the first origin; forecasts every origin."""
    from rnnkit import Forecaster

    origins = case.origin_positions(len(series))
    params = dict(params)
    if "lookback_factor" in params:  # a candidate rule for the automatic lookback
        factor = params.pop("lookback_factor")
        params["lookback"] = max(round(factor * case.horizon), 2 * case.season, 8)
    started = time.perf_counter()
    forecaster = Forecaster(
        horizon=case.horizon, freq=case.freq, seed=seed, gradient_health=False, **params
    )
    forecaster.fit(series.iloc[: origins[0] + case.horizon], verbose=0)
    seconds = time.perf_counter() - started
    forecasts = np.stack(
        [forecaster.predict(series.iloc[:o])["forecast"].to_numpy() for o in origins]
    )
    return forecasts, seconds, len(forecaster.history_["loss"])


def geometric_mean(values: list[float]) -> float:
    return float(math.exp(statistics.fmean(math.log(max(v, 1e-12)) for v in values)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", choices=("tuning", "confirmation", "all"), default="all")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--variants", default="default")
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--set", action="append", default=[], help="VARIANT.key=value")
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    os.environ.setdefault("KERAS_BACKEND", "jax")

    variants = {n: dict(VARIANTS.get(n, {})) for n in args.variants.split(",") if n}
    for assignment in args.set:  # ad-hoc candidates: --set wide.units=128
        key, value = assignment.split("=", 1)
        name, field = key.split(".", 1)
        parsed = json.loads(value) if value[0] in "0123456789-[{tfn" else value
        variants.setdefault(name, {})[field] = parsed
    cases = [
        c
        for c in suite.CASES
        if (args.group == "all" or c.group == args.group)
        and (not args.only or c.name in args.only.split(","))
    ]
    seeds = list(range(args.seeds))
    rows = []
    for case in cases:
        series = case.load()
        row: dict = {"series": case.name, "group": case.group, "freq": case.freq}
        for name, forecast in peer_forecasts(case, series).items():
            row[name] = {"mase": suite.score(case, series, forecast)["mase"]}
        for name, params in variants.items():
            scores, seconds, epochs = [], [], []
            for seed in seeds:
                forecast, took, ran = network_forecasts(case, series, params, seed)
                scores.append(suite.score(case, series, forecast)["mase"])
                seconds.append(took)
                epochs.append(ran)
            row[name] = {
                "mase": statistics.median(scores),
                "seeds": scores,
                "spread": (max(scores) - min(scores)) / statistics.median(scores),
                "seconds": statistics.median(seconds),
                "epochs": epochs,
            }
            print(
                f"  {case.name:16s} {name:12s} mase {row[name]['mase']:.3f} "
                f"seeds {[round(s, 3) for s in scores]} {row[name]['seconds']:.1f}s "
                f"epochs {epochs}",
                flush=True,
            )
        rows.append(row)
    methods = [*PEERS, *variants]
    print()
    header = f"{'series':16s} " + " ".join(f"{m[:12]:>12s}" for m in methods)
    print(header)
    for row in rows:
        best = min(row[m]["mase"] for m in methods)
        cells = []
        for m in methods:
            mark = "*" if row[m]["mase"] == best else " "
            extra = f"±{row[m]['spread'] * 100:.0f}%" if "spread" in row[m] else ""
            cells.append(f"{row[m]['mase']:.3f}{mark}{extra}".rjust(12))
        print(f"{row['series']:16s} " + " ".join(cells))
    summary = {}
    for m in methods:
        values = [row[m]["mase"] for row in rows]
        wins = sum(row[m]["mase"] == min(row[k]["mase"] for k in methods) for row in rows)
        beats_simple = sum(
            row[m]["mase"] < min(row["naive"]["mase"], row["seasonal_naive"]["mase"])
            for row in rows
        )
        summary[m] = {
            "geometric_mean_mase": geometric_mean(values),
            "wins": wins,
            "beats_naive_and_seasonal_naive": beats_simple,
            "max_seed_spread": max((row[m].get("spread", 0.0) for row in rows), default=0.0),
            "median_seconds": statistics.median(row[m].get("seconds", 0.0) for row in rows),
        }
    print(
        f"{'geo-mean MASE':16s} "
        + " ".join(f"{summary[m]['geometric_mean_mase']:12.3f}" for m in methods)
    )
    print(f"{'wins':16s} " + " ".join(f"{summary[m]['wins']:12d}" for m in methods))
    print(
        f"{'beats (s)naive':16s} "
        + " ".join(
            f"{summary[m]['beats_naive_and_seasonal_naive']:9d}/{len(rows):<2d}" for m in methods
        )
    )
    print(
        f"{'max seed spread':16s} "
        + " ".join(f"{summary[m]['max_seed_spread'] * 100:11.0f}%" for m in methods)
    )
    print(
        f"{'median train s':16s} "
        + " ".join(f"{summary[m]['median_seconds']:12.1f}" for m in methods)
    )
    RESULTS.mkdir(exist_ok=True)
    suffix = f"_{args.group}" if args.group != "all" else ""
    out = RESULTS / f"forecast_suite{suffix}{args.tag}.json"
    out.write_text(
        json.dumps(
            {"variants": variants, "seeds": seeds, "rows": rows, "summary": summary}, indent=1
        )
    )
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
