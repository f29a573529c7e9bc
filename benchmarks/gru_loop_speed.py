"""Keras's two GRU loops on JAX: the fused one (``use_cudnn="auto"``, every step's input
projected in one matmul before the loop) against the generic step loop
(``use_cudnn=False``), forwards and forwards plus gradient, on the shapes rnnkit's
defaults run: the classifier's bidirectional GRU(64) over 128 tokens of 100 dimensions
(batch 32 as a prediction, batch 64 as training) and the forecaster's GRU(32) over a
window of 56 periods of 8 inputs (value and calendar features).

    .venv/bin/python benchmarks/gru_loop_speed.py

Jitted stateless calls, median of 30 after a warm-up, the two loops interleaved. Prints a
table and writes benchmarks/results/gru_loop_speed.json.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

RESULTS = Path(__file__).resolve().parent / "results" / "gru_loop_speed.json"
SHAPES = [  # (label, batch, steps, features, units, bidirectional)
    ("classifier, predict 32", 32, 128, 100, 64, True),
    ("classifier, train batch 64", 64, 128, 100, 64, True),
    ("forecaster, batch 32", 32, 56, 8, 32, False),
]
LOOPS = ("auto", False)


def main() -> None:
    import jax
    import jax.numpy as jnp
    import keras
    import numpy as np

    def functions(batch, steps, features, units, bidirectional, loop):
        inputs = keras.Input((steps, features))
        layer = keras.layers.GRU(units, return_sequences=bidirectional, use_cudnn=loop)
        outputs = keras.layers.Bidirectional(layer)(inputs) if bidirectional else layer(inputs)
        model = keras.Model(inputs, outputs)
        trainable = [v.value for v in model.trainable_variables]
        other = [v.value for v in model.non_trainable_variables]
        forward = jax.jit(lambda t, n, x: model.stateless_call(t, n, x)[0])

        def loss(t, n, x):
            return jnp.sum(model.stateless_call(t, n, x, training=True)[0] ** 2)

        gradient = jax.jit(jax.grad(loss))
        return {
            "forward": lambda x: forward(trainable, other, x).block_until_ready(),
            "gradient": lambda x: gradient(trainable, other, x)[0].block_until_ready(),
        }

    rows = []
    print(f"jax {jax.__version__} on {jax.default_backend()}, keras {keras.__version__}")
    print(f"{'shape':28s} {'pass':9s} {'fused ms':>9s} {'step ms':>9s} {'ratio':>6s}")
    for label, batch, steps, features, units, bidirectional in SHAPES:
        x = jnp.asarray(
            np.random.default_rng(0).normal(size=(batch, steps, features)).astype("float32")
        )
        calls = {
            loop: functions(batch, steps, features, units, bidirectional, loop) for loop in LOOPS
        }
        for kind in ("forward", "gradient"):
            times: dict = {loop: [] for loop in LOOPS}
            for loop in LOOPS:
                calls[loop][kind](x)  # compile
            for _ in range(30):
                for loop in LOOPS:
                    started = time.perf_counter()
                    calls[loop][kind](x)
                    times[loop].append(time.perf_counter() - started)
            fused, step = (1000 * float(np.median(times[loop])) for loop in LOOPS)
            rows.append({"shape": label, "pass": kind, "fused_ms": fused, "step_ms": step})
            print(f"{label:28s} {kind:9s} {fused:9.2f} {step:9.2f} {step / fused:6.2f}")
    RESULTS.write_text(json.dumps({"jax": jax.__version__, "rows": rows}, indent=1))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
