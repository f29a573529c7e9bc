"""Why the network loses to seasonal naive on one suite series: its correction's loss on
the validation windows (at several weights, and on each half of them) against its MASE
per test origin beside seasonal naive's, one seed, the suite's protocol.

    KERAS_BACKEND=jax .venv/bin/python benchmarks/diagnose_correction.py sf_temps
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")  # before Keras is imported

import forecast_suite as suite
import keras
import numpy as np

from rnnkit import Forecaster
from rnnkit.data.scaling import base_forecast
from rnnkit.forecasting import forecaster as forecaster_module


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "sf_temps"
    weigh = forecaster_module.Forecaster._weigh_correction

    def report_then_weigh(self, x_val, y_val, loss):
        loss_function = keras.losses.get(loss)
        trained = self.model_.predict_on_batch(x_val)
        half = len(y_val) // 2
        for w in (1.0, 0.5, 0.0):
            whole = float(np.mean(loss_function(y_val, w * trained)))
            first = float(np.mean(loss_function(y_val[:half], w * trained[:half])))
            second = float(np.mean(loss_function(y_val[half:], w * trained[half:])))
            print(f"validation loss, weight {w}: {whole:.4f} (halves {first:.4f}, {second:.4f})")
        return weigh(self, x_val, y_val, loss)

    forecaster_module.Forecaster._weigh_correction = report_then_weigh
    case = next(c for c in suite.CASES if c.name == name)
    series = case.load()
    values = series.to_numpy()
    origins = case.origin_positions(len(series))
    history = values[: origins[0]]
    scale = np.mean(np.abs(history[case.season :] - history[: -case.season]))
    actual = np.stack([values[o : o + case.horizon] for o in origins])
    model = Forecaster(
        horizon=case.horizon, freq=case.freq, seed=0, gradient_health=False, test_size=case.horizon
    ).fit(series.iloc[: origins[0] + case.horizon], verbose=0)
    forecasts = np.stack([model.predict(series.iloc[:o])["forecast"].to_numpy() for o in origins])
    windows = np.stack([values[o - model.config.window : o] for o in origins])
    naive = base_forecast(windows, "seasonal_naive", case.season, case.horizon)

    def per_origin(f):
        return [round(float(np.mean(np.abs(f[i] - actual[i])) / scale), 3) for i in range(len(f))]

    print(f"base {model.base_}, correction weight {model.correction_weight_}")
    print("MASE per origin, network:       ", per_origin(forecasts))
    print("MASE per origin, seasonal naive:", per_origin(naive))


if __name__ == "__main__":
    main()
