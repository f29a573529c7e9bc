"""Gradient health during training: the guide's signs of exploding and vanishing gradients.

:class:`GradientHealth` is a Keras callback that, every ``every`` optimizer steps,
computes the loss and the gradient of a fixed probe batch (a sample of the training data)
and records, per layer, the gradient norm and the weight norm. It then checks the guide's
signs:

exploding: the loss reaches NaN; the loss jumps by a large factor between records; the
weights grow fast; the weights reach NaN; the gradient norms stay above a threshold.
vanishing: the gradient norm of the first recurrent layer collapses relative to the last.

Gradients come from the JAX backend (``jax.value_and_grad`` over the model's stateless
call). On other backends only weights and the loss are recorded.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import keras
import numpy as np
import pandas as pd

REMEDIES = {
    "loss_nan": "lower --learning-rate (e.g. 10x) and keep gradient clipping on (--clipnorm 1)",
    "loss_jump": "lower --learning-rate or use gradient clipping (--clipnorm 1)",
    "weights_growing": "lower --learning-rate, use gradient clipping, or add dropout",
    "weights_nan": "lower --learning-rate and keep gradient clipping on (--clipnorm 1)",
    "gradients_large": "use gradient clipping (--clipnorm 1) or a lower --learning-rate",
    "vanishing": "use --cell lstm or gru instead of simple_rnn, fewer --num-layers, or a "
    "shorter --lookback/--sequence-length",
}
SIGNS = {
    "loss_nan": "exploding gradients: the loss reached NaN",
    "loss_jump": "exploding gradients: the loss jumped by a large factor between updates",
    "weights_growing": "exploding gradients: weights growing fast",
    "weights_nan": "exploding gradients: weights reached NaN",
    "gradients_large": "exploding gradients: gradient norm persistently above the threshold",
    "vanishing": "vanishing gradients: the first recurrent layer's gradient collapsed "
    "relative to the last",
}


@dataclasses.dataclass(frozen=True)
class Finding:
    """One sign seen during training, with the layer, when, and what to do."""

    sign: str
    layer: str
    step: int
    detail: str

    @property
    def message(self) -> str:
        return (
            f"{SIGNS[self.sign]} (layer '{self.layer}', step {self.step}: {self.detail}). "
            f"Remedy: {REMEDIES[self.sign]}."
        )

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "message": self.message}


def _is_recurrent(layer: keras.layers.Layer) -> bool:
    return isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional))


class GradientHealth(keras.callbacks.Callback):
    """Records per-layer gradient and weight norms every ``every`` steps and flags trouble.

    Args:
        probe: ``(x, y)``, a fixed batch of training data to measure on.
        loss: the loss the model is trained with (a Keras loss name).
        every: optimizer steps between records (the cost is one forward and backward
            pass of the probe batch per record).
        gradient_threshold: a layer whose gradient norm stays above this is flagged.
        jump_factor: the loss rising by more than this factor between records is flagged.
        growth_factor: a layer's weight norm growing by more than this factor between
            records is flagged, once the norm has reached ``growth_floor``.
        growth_floor: weight norms below this are too small for growth to mean anything:
            a layer that starts at zero (the forecaster's output layers) grows by a huge
            factor while it learns, without exploding.
        vanishing_ratio: the first recurrent layer's gradient norm below this fraction of
            the last one's (median over records) is flagged.
        background_compile: compile the gradient function on a thread while training
            goes on, from the end of the first epoch, and record from the first step
            after it is ready (the cost of the callback is then a few percent);
            otherwise compile before the first step and record exactly at step 1 and
            every ``every`` steps.

    Example:
        >>> health = GradientHealth((x[:32], y[:32]), loss="mse")  # doctest: +SKIP
        >>> model.fit(x, y, callbacks=[health]); health.findings  # doctest: +SKIP
    """

    def __init__(
        self,
        probe: tuple[np.ndarray, np.ndarray],
        loss: str,
        every: int = 20,
        gradient_threshold: float = 10.0,
        jump_factor: float = 10.0,
        growth_factor: float = 2.0,
        growth_floor: float = 1.0,
        vanishing_ratio: float = 1e-3,
        background_compile: bool = True,
    ) -> None:
        super().__init__()
        x, y = probe
        self.probe = (
            [_as_array(a) for a in x] if isinstance(x, (list, tuple)) else _as_array(x),
            _as_array(y),
        )
        self.loss_name = loss
        self.every = every
        self.gradient_threshold = gradient_threshold
        self.jump_factor = jump_factor
        self.growth_factor = growth_factor
        self.growth_floor = growth_floor
        self.vanishing_ratio = vanishing_ratio
        self.background_compile = background_compile
        self.records: list[dict[str, Any]] = []
        self.findings: list[Finding] = []
        self._step = 0
        self._epoch = 0
        self._value_and_grad = None
        self._compile_pending = False

    # -------------------------------------------------------------- setup
    def on_train_begin(self, logs=None) -> None:
        model = self.model
        position = {id(v): i for i, v in enumerate(model.trainable_variables)}
        self._layers: list[tuple[str, list[int], bool]] = []
        for layer in model.layers:
            indices = [position[id(v)] for v in layer.trainable_variables if id(v) in position]
            if indices:
                self._layers.append((layer.name, indices, _is_recurrent(layer)))
        # Set when the background compilation is still to start (see on_epoch_end).
        self._compile_pending = False
        if keras.backend.backend() == "jax":
            if self.background_compile:
                self._compile_pending = True
            else:
                self._value_and_grad = self._jax_value_and_grad()

    def _compile_in_background(self) -> None:
        """Compiles the probe's gradient function on a thread, overlapping training.

        Compiling costs about as much as a dozen epochs of a small model; done inline it
        would dominate the callback's cost. Records start once it is ready.
        """
        self._compile_pending = False
        import threading

        function = self._jax_value_and_grad()
        trainable = [v.value for v in self.model.trainable_variables]
        non_trainable = [v.value for v in self.model.non_trainable_variables]

        def compile_() -> None:
            self._compiled = function.lower(trainable, non_trainable, *self.probe).compile()

        self._compiled = None
        self._thread = threading.Thread(target=compile_, daemon=True)
        self._thread.start()

    def _jax_value_and_grad(self):
        import jax

        model = self.model
        loss_fn = keras.losses.get(self.loss_name)

        def probe_loss(trainable, non_trainable, x, y):
            y_pred, _ = model.stateless_call(trainable, non_trainable, x, training=False)
            return keras.ops.mean(loss_fn(y, y_pred))

        return jax.jit(jax.value_and_grad(probe_loss))

    # -------------------------------------------------------------- recording
    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._epoch = epoch

    def on_epoch_end(self, epoch, logs=None) -> None:
        # Not from the first step: the first epoch compiles the training and validation
        # steps, and a second compilation beside them on two cores made them several
        # times slower (the default forecaster's training step: 22 s instead of 5.5 s).
        if self._compile_pending:
            self._compile_in_background()

    def on_train_batch_end(self, batch, logs=None) -> None:
        self._step += 1
        if self._compile_pending:
            return  # gradients not compiled yet: compiling starts when the epoch ends
        if self._value_and_grad is None and getattr(self, "_thread", None) is not None:
            if self._thread.is_alive():
                return  # gradients not compiled yet: record from the first step after
            self._value_and_grad, self._thread = self._compiled, None
            self._next = self._step
        if self._step >= getattr(self, "_next", 1):
            self.record(logs or {})
            self._next = (self._step // self.every + 1) * self.every

    def record(self, logs: dict[str, Any]) -> None:
        with np.errstate(over="ignore", invalid="ignore"):  # exploding runs overflow: flagged
            self._record(logs)

    def _record(self, logs: dict[str, Any]) -> None:
        weights = [np.asarray(v.value) for v in self.model.trainable_variables]
        if self._value_and_grad is not None:
            trainable = [v.value for v in self.model.trainable_variables]
            non_trainable = [v.value for v in self.model.non_trainable_variables]
            loss, grads = self._value_and_grad(trainable, non_trainable, *self.probe)
            loss = float(loss)
            grads = [np.asarray(g) for g in grads]
        else:
            loss, grads = float(logs.get("loss", float("nan"))), None
        for name, indices, recurrent in self._layers:
            weight_norm = math.sqrt(sum(float(np.sum(np.square(weights[i]))) for i in indices))
            grad_norm = (
                math.sqrt(sum(float(np.sum(np.square(grads[i]))) for i in indices))
                if grads is not None
                else float("nan")
            )
            self.records.append(
                {
                    "step": self._step,
                    "epoch": self._epoch + 1,
                    "layer": name,
                    "recurrent": recurrent,
                    "gradient_norm": grad_norm,
                    "weight_norm": weight_norm,
                    "loss": loss,
                }
            )
        self._check_latest()

    # -------------------------------------------------------------- the guide's signs
    def _flag(self, sign: str, layer: str, detail: str) -> None:
        if not any(f.sign == sign and f.layer == layer for f in self.findings):
            self.findings.append(Finding(sign, layer, self._step, detail))

    def _check_latest(self) -> None:
        frame = self.frame()
        steps = frame["step"].unique()
        latest = frame[frame["step"] == steps[-1]]
        loss = float(latest["loss"].iloc[0])
        if not math.isfinite(loss):
            self._flag("loss_nan", "model", f"loss {loss}")
        for _, row in latest.iterrows():
            if not math.isfinite(row["weight_norm"]):
                self._flag("weights_nan", row["layer"], "a weight is NaN or infinite")
        if len(steps) < 2:
            return
        previous = frame[frame["step"] == steps[-2]]
        before = float(previous["loss"].iloc[0])
        if math.isfinite(loss) and before > 0 and loss > self.jump_factor * before:
            self._flag("loss_jump", "model", f"loss {before:.4g} -> {loss:.4g}")
        for (_, now), (_, then) in zip(latest.iterrows(), previous.iterrows()):
            if (
                then["weight_norm"] > 0
                and then["weight_norm"] >= self.growth_floor
                and now["weight_norm"] > self.growth_factor * then["weight_norm"]
            ):
                self._flag(
                    "weights_growing",
                    now["layer"],
                    f"weight norm {then['weight_norm']:.3g} -> {now['weight_norm']:.3g} "
                    f"in {steps[-1] - steps[-2]} steps",
                )

    def on_train_end(self, logs=None) -> None:
        if self._compile_pending:  # stopped within its first epoch
            self._compile_in_background()
        if getattr(self, "_thread", None) is not None:
            # A run shorter than the compilation still gets one record, at its end.
            self._thread.join()
            self._value_and_grad, self._thread = self._compiled, None
            self.record(logs or {})
        frame = self.frame()
        if frame.empty or frame["gradient_norm"].isna().all():
            return
        recent = frame[frame["step"].isin(frame["step"].unique()[-5:])]
        for layer, rows in recent.groupby("layer", sort=False):
            norms = rows["gradient_norm"].to_numpy()
            if len(norms) >= 3 and np.all(norms > self.gradient_threshold):
                self._flag(
                    "gradients_large",
                    str(layer),
                    f"gradient norm above {self.gradient_threshold} in the last {len(norms)} "
                    f"records (median {np.median(norms):.3g})",
                )
        recurrent = [name for name, _, is_rnn in self._layers if is_rnn]
        if len(recurrent) >= 2:
            first = frame[frame["layer"] == recurrent[0]]["gradient_norm"].to_numpy()
            last = frame[frame["layer"] == recurrent[-1]]["gradient_norm"].to_numpy()
            ratio = np.median(first / np.maximum(last, 1e-30))
            if ratio < self.vanishing_ratio:
                self._flag(
                    "vanishing",
                    recurrent[0],
                    f"its gradient norm is {ratio:.2g} of '{recurrent[-1]}''s (median)",
                )

    # -------------------------------------------------------------- results
    def frame(self) -> pd.DataFrame:
        """Every record: step, epoch, layer, recurrent, gradient_norm, weight_norm, loss."""
        return pd.DataFrame(
            self.records,
            columns=[
                "step",
                "epoch",
                "layer",
                "recurrent",
                "gradient_norm",
                "weight_norm",
                "loss",
            ],
        )

    def summary(self) -> dict[str, Any]:
        return {
            "every_steps": self.every,
            "records": int(self.frame()["step"].nunique()),
            "gradients_measured": self._value_and_grad is not None,
            "findings": [f.to_dict() for f in self.findings],
        }


def probe_batch(
    x: np.ndarray | list[np.ndarray], y: np.ndarray, size: int, seed: int
) -> tuple[np.ndarray | list[np.ndarray], np.ndarray]:
    """A fixed random sample of the training data to measure gradients on (``x`` one
    array or a list of the model's inputs)."""
    rng = np.random.default_rng(seed)
    index = rng.choice(len(y), size=min(size, len(y)), replace=False)
    if isinstance(x, (list, tuple)):
        return [a[index] for a in x], y[index]
    return x[index], y[index]


def _as_array(a: Any) -> np.ndarray:
    """Floats as float32 (the model's dtype), anything else as it is."""
    a = np.asarray(a)
    return a.astype("float32") if np.issubdtype(a.dtype, np.floating) else a
