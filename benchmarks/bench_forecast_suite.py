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
    .venv/bin/python benchmarks/bench_forecast_suite.py --intervals --seeds 1

Prints one table and writes benchmarks/results/forecast_suite[_GROUP].json. Peers'
forecasts are deterministic and cached in benchmarks/results/.peer_cache/.

With ``--intervals``, a second table compares the 80 % prediction intervals over the same
origins: rnnkit's (split conformal, calibrated once on the validation windows of the one
training), statsforecast AutoETS's ``level=[80]`` (refit per origin) and seasonal naive
with the empirical per-step quantiles of its in-sample errors before each origin; per
series the coverage of the 80 % interval, its mean width and the mean pinball loss of
q0.1, q0.5 and q0.9 (AutoETS's q0.5 is its mean: its intervals are symmetric), both
scaled by the MASE scale so that series can be averaged (geometric mean). Written to
benchmarks/results/forecast_intervals[TAG].json and .txt.
"""

from __future__ import annotations

import argparse
import json
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
    # The defaults before calendar features (forecast_suite_v3.json).
    "no_calendar": dict(calendar=False),
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
    origins = case.origin_positions(len(series))
    params = dict(params)
    if "lookback_factor" in params:  # a candidate rule for the automatic lookback
        factor = params.pop("lookback_factor")
        params["lookback"] = max(round(factor * case.horizon), 2 * case.season, 8)
    if "lookback_seasons" in params:  # a candidate: that many seasons at least
        seasons = params.pop("lookback_seasons")
        params["lookback"] = max(2 * case.horizon, seasons * case.season, 8)
    started = time.perf_counter()
    forecaster = suite.train(case, series, seed, **params)
    seconds = time.perf_counter() - started
    frames = [forecaster.predict(series.iloc[:o]) for o in origins]
    forecasts = np.stack([frame["forecast"].to_numpy() for frame in frames])
    columns = [f"q{q:g}" for q in INTERVAL_QUANTILES]
    bands = None
    if all(c in frames[0].columns for c in columns):
        bands = np.stack([frame[columns].to_numpy().T for frame in frames])  # (origins, 3, h)
    calibration = getattr(forecaster, "calibration_", None)
    info = {"residuals_per_step": calibration.residuals_per_step if calibration else 0}
    return forecasts, seconds, len(forecaster.history_["loss"]), bands, info


# The interval table's quantiles: the 80 % interval and its median.
INTERVAL_QUANTILES = (0.1, 0.5, 0.9)


def ets_intervals(case: suite.Case, series) -> np.ndarray:
    """AutoETS's q0.1 (lo-80), mean and q0.9 (hi-80) from every origin, refit on the
    history before it: ``(origins, 3, horizon)``, cached."""
    cache = RESULTS / ".peer_cache" / f"{case.name}_ets80.json"
    if cache.exists():
        return np.array(json.loads(cache.read_text()))
    from statsforecast.models import AutoETS

    values = series.to_numpy()
    out = []
    for origin in case.origin_positions(len(values)):
        history = values[:origin]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = AutoETS(season_length=case.season).forecast(
                    y=history, h=case.horizon, level=[80]
                )
                band = [result["lo-80"], result["mean"], result["hi-80"]]
            except Exception:  # a failed fit: a zero-width naive band, as a user would get
                band = [np.full(case.horizon, history[-1])] * 3
        out.append(np.asarray(band, dtype="float64").tolist())
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(out))
    return np.array(out)


def seasonal_naive_intervals(case: suite.Case, series) -> np.ndarray:
    """Seasonal naive with rnnkit's empirical per-step error quantiles, from every origin
    (errors on the history before it): ``(origins, 3, horizon)``."""
    from rnnkit.data.scaling import base_forecast
    from rnnkit.forecasting.intervals import seasonal_naive_offsets

    values = series.to_numpy()
    out = []
    for origin in case.origin_positions(len(values)):
        history = values[:origin]
        point = base_forecast(history[None, :], "seasonal_naive", case.season, case.horizon)[0]
        offsets = seasonal_naive_offsets(history, case.season, case.horizon, INTERVAL_QUANTILES)
        out.append(point[None, :] + offsets)
    return np.stack(out)


def interval_scores(case: suite.Case, series, bands: np.ndarray) -> dict[str, float]:
    """Coverage of q0.1..q0.9, its mean width and the mean pinball loss of the three
    quantiles over every origin and step; width and pinball divided by the MASE scale."""
    values = series.to_numpy()
    origins = case.origin_positions(len(values))
    actual = np.stack([values[o : o + case.horizon] for o in origins])
    scale = suite.mase_scale(values[: origins[0]], case.season)
    losses = []
    for i, q in enumerate(INTERVAL_QUANTILES):
        error = actual - bands[:, i, :]
        losses.append(float(np.mean(np.maximum(q * error, (q - 1) * error))))
    low, high = bands[:, 0, :], bands[:, -1, :]
    return {
        "coverage_80": float(np.mean((actual >= low) & (actual <= high))),
        "width_80": float(np.mean(high - low) / scale),
        "pinball": float(np.mean(losses) / scale),
    }


def interval_report(rows: list[dict], variant: str) -> tuple[str, dict]:
    """The interval table (one line per series) and its summary."""
    methods = (variant, "auto_ets", "seasonal_naive")
    lines = [
        f"{'series':16s} {'res/step':>8s} "
        + " ".join(f"{m[:14] + ' cov':>18s} {'width':>7s} {'pinball':>8s}" for m in methods)
    ]
    for row in rows:
        cells = [f"{row['series']:16s} {row['residuals_per_step']:8d}"]
        best = min(row["intervals"][m]["pinball"] for m in methods)
        for m in methods:
            score = row["intervals"][m]
            mark = "*" if score["pinball"] == best else " "
            cells.append(
                f"{score['coverage_80'] * 100:17.0f}% {score['width_80']:7.3f} "
                f"{score['pinball']:7.4f}{mark}"
            )
        lines.append(" ".join(cells))
    summary = {}
    for m in methods:
        coverages = [row["intervals"][m]["coverage_80"] for row in rows]
        summary[m] = {
            "geometric_mean_pinball": suite.geometric_mean(
                [r["intervals"][m]["pinball"] for r in rows]
            ),
            "median_coverage_80": statistics.median(coverages),
            "series_with_coverage_75_to_85": sum(0.75 <= c <= 0.85 for c in coverages),
            "geometric_mean_width_80": suite.geometric_mean(
                [r["intervals"][m]["width_80"] for r in rows]
            ),
        }
    cells = {
        "geo-mean pinball": lambda m: f"{summary[m]['geometric_mean_pinball']:.4f}",
        "median coverage": lambda m: f"{summary[m]['median_coverage_80'] * 100:.0f}%",
        "coverage in 75-85%": lambda m: (
            f"{summary[m]['series_with_coverage_75_to_85']}/{len(rows)}"
        ),
        "geo-mean width": lambda m: f"{summary[m]['geometric_mean_width_80']:.3f}",
    }
    for label, cell in cells.items():
        # Under each method's block of 35 characters, beside its pinball column.
        lines.append(f"{label:25s} " + " ".join(f"{cell(m):>34s} " for m in methods))
    return "\n".join(lines), summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", choices=("tuning", "confirmation", "all"), default="all")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--variants", default="default")
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--set", action="append", default=[], help="VARIANT.key=value")
    parser.add_argument("--tag", default="")
    parser.add_argument(
        "--intervals",
        action="store_true",
        help="also compare the 80%% intervals with AutoETS's (first variant, first seed)",
    )
    args = parser.parse_args()
    os.environ.setdefault("KERAS_BACKEND", "jax")

    variants = {n: dict(VARIANTS.get(n, {})) for n in args.variants.split(",") if n}
    for assignment in args.set:  # ad-hoc candidates: --set wide.units=128
        key, value = assignment.split("=", 1)
        name, field = key.split(".", 1)
        try:  # numbers, lists, true/false/null and quoted strings; anything else as is
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
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
                forecast, took, ran, bands, info = network_forecasts(case, series, params, seed)
                if args.intervals and seed == seeds[0] and name == next(iter(variants)):
                    row["residuals_per_step"] = info["residuals_per_step"]
                    row["intervals"] = {
                        name: interval_scores(case, series, bands),
                        "auto_ets": interval_scores(case, series, ets_intervals(case, series)),
                        "seasonal_naive": interval_scores(
                            case, series, seasonal_naive_intervals(case, series)
                        ),
                    }
                    print(
                        f"  {case.name:16s} intervals "
                        + ", ".join(
                            f"{m} cov {v['coverage_80']:.2f} pinball {v['pinball']:.4f}"
                            for m, v in row["intervals"].items()
                        ),
                        flush=True,
                    )
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
            "geometric_mean_mase": suite.geometric_mean(values),
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
    if args.intervals:  # its accuracy table is of its own seeds: never the suite's file
        suffix += "_with_intervals"
    out = RESULTS / f"forecast_suite{suffix}{args.tag}.json"
    out.write_text(
        json.dumps(
            {"variants": variants, "seeds": seeds, "rows": rows, "summary": summary}, indent=1
        )
    )
    print(f"\nwrote {out}")
    if args.intervals:
        variant = next(iter(variants))
        table, interval_summary = interval_report(rows, variant)
        print()
        print(table)
        text = RESULTS / f"forecast_intervals{args.tag}.txt"
        text.write_text(table + "\n")
        (RESULTS / f"forecast_intervals{args.tag}.json").write_text(
            json.dumps(
                {
                    "variant": variant,
                    "variant_params": variants[variant],
                    "seed": seeds[0],
                    "quantiles": list(INTERVAL_QUANTILES),
                    "rows": [
                        {
                            "series": r["series"],
                            "residuals_per_step": r["residuals_per_step"],
                            **r["intervals"],
                        }
                        for r in rows
                    ],
                    "summary": interval_summary,
                },
                indent=1,
            )
        )
        print(f"wrote {text} and its .json")


if __name__ == "__main__":
    main()
