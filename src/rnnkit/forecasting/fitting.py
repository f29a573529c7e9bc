"""What a forecaster's ``fit`` decides around the one training recipe: the loss, how
much of the trained correction to keep, and refusing test errors that are not finite."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.config import ForecastConfig
from rnnkit.errors import TrainingError
from rnnkit.forecasting.prediction import padded_output

# The training losses as the loss plot names them.
LOSS_NAMES = {"mae": "MAE", "mse": "MSE", "huber": "Huber"}
# The weights of the trained correction the validation windows choose from (1: the
# network as trained, 0: its base forecast alone).
CORRECTION_WEIGHTS = (1.0, 0.5, 0.0)
# Defined whenever the forecasts are numbers: MAPE (all actuals zero) and MASE (a flat
# history) may be undefined on good data, these never are.
ALWAYS_FINITE = ("mae", "rmse", "smape")


def training_loss(config: ForecastConfig) -> str:
    """The training loss. ``auto`` is MAE (what MASE measures) when the network
    corrects a base forecast; without one, MSE for one series and Huber for many."""
    loss = config.training.loss
    if loss != "auto":
        return loss
    if config.base != "none" and config.strategy == "direct":
        return "mae"
    return "huber" if config.id_column is not None else "mse"


def loss_name(loss: str, window_norm: str) -> str:
    """The training loss as the loss plot names it: on scaled values, each window
    normalised by its own level or spread unless ``window_norm`` is ``none``."""
    where = "scaled" if window_norm == "none" else "window-normalised"
    return f"{LOSS_NAMES.get(loss, loss)} ({where})"


def weigh_correction(model: Any, x_val: np.ndarray, y_val: np.ndarray, loss: str) -> float:
    """Scales ``model``'s trained correction by whichever of CORRECTION_WEIGHTS gives the
    lowest validation loss: 1 keeps the network as trained, 0 the base forecast alone
    (so the model is never worse than its base on the held-out windows), 0.5 the
    average of the two (a combination, more robust than either when they are close).
    The correction is linear in the output layers' weights, so scaling them scales it
    exactly. Returns the weight."""
    import keras

    loss_function = keras.losses.get(loss)
    trained = padded_output(model, x_val)
    losses = {w: float(np.mean(loss_function(y_val, w * trained))) for w in CORRECTION_WEIGHTS}
    weight = min(losses, key=losses.get)
    if weight != 1.0:
        for layer in model.layers:
            if layer.name.endswith(("_out", "_linear")):
                layer.set_weights([weight * w for w in layer.get_weights()])
    return weight


def check_model_metrics(metrics: dict[str, dict[str, float]]) -> None:
    """Refuses a fit whose model test errors are not finite numbers (overflowing
    forecasts), rather than writing a run whose metrics are null.

    Raises:
        TrainingError: naming the metrics that are not finite.
    """
    model = metrics.get("model", {})
    bad = {k: model[k] for k in ALWAYS_FINITE if k in model and not np.isfinite(model[k])}
    if bad:
        shown = ", ".join(f"{k} {v}" for k, v in bad.items())
        raise TrainingError(
            f"The model's test errors are not finite numbers ({shown}): its forecasts "
            "overflowed or are not numbers. Rescale the target (e.g. divide it by 1e6), "
            "check the data for extreme values, or lower --learning-rate."
        )
