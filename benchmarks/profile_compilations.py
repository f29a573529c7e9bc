"""Every XLA compilation of one estimator fit, in order, with its seconds.

Fits the default Forecaster on the loans rows (``forecaster``) or the default
TextClassifier's recurrent network on the shipped CFPB narratives (``classifier``) for a
few epochs, logging JAX's compilations, and prints when training began, when each epoch
ended (seconds from process start) and the compilations of the training, validation,
prediction and gradient-health steps. Point ``RNNKIT_COMPILATION_CACHE`` at an empty
folder for a cold run and run again for a warm one:

    RNNKIT_COMPILATION_CACHE=/tmp/xla .venv/bin/python benchmarks/profile_compilations.py \
        forecaster
"""

from __future__ import annotations

import time

STARTED = time.time()

import argparse  # noqa: E402  (the clock starts before anything is imported)
import logging  # noqa: E402
import os  # noqa: E402

os.environ.setdefault("KERAS_BACKEND", "jax")
LOANS = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "loans", "loans.csv")
STEPS = ("train_step", "test_step", "predict_step", "probe_loss")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=("forecaster", "classifier"))
    parser.add_argument("--no-gradient-health", action="store_true")
    args = parser.parse_args()

    import jax
    import keras

    compilations: list[tuple[float, str]] = []

    class Compilations(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            if "Finished XLA compilation" in message:
                compilations.append((time.time() - STARTED, message))

    jax.config.update("jax_log_compiles", True)
    logger = logging.getLogger("jax")
    logger.addHandler(Compilations())
    logger.setLevel(logging.DEBUG)
    logger.propagate = False

    class Epochs(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            print(f"training began at {time.time() - STARTED:.2f} s", flush=True)

        def on_epoch_end(self, epoch, logs=None):
            print(f"epoch {epoch + 1} ended at {time.time() - STARTED:.2f} s", flush=True)

    health = not args.no_gradient_health
    if args.case == "forecaster":
        from rnnkit import Forecaster

        estimator = Forecaster(
            time_column="created_at",
            target_column="amount",
            epochs=3,
            patience=3,
            gradient_health=health,
        )
        estimator.fit(LOANS, callbacks=(Epochs(),), verbose=0)
    else:
        from rnnkit import TextClassifier, datasets

        estimator = TextClassifier(
            text_column="Consumer complaint narrative",
            label_column="Product_harmonized",
            ngram_features="none",
            epochs=2,
            patience=2,
            gradient_health=health,
        )
        estimator.fit(
            datasets.path(datasets.COMPLAINT_NARRATIVES), callbacks=(Epochs(),), verbose=0
        )
    print(f"fit returned at {time.time() - STARTED:.2f} s")
    for at, message in compilations:
        if any(f"jit({step})" in message for step in STEPS):
            print(f"  {at:7.2f} s  {message}")
    print(f"{len(compilations)} compilations in all")


if __name__ == "__main__":
    main()
