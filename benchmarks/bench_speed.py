"""Training speed, side by side: rnnkit, a plain Keras/TensorFlow script, a PyTorch loop.

Three cases, each trained on the same windows and batches by every implementation:

- ``guide``: the guide's forecaster (4 x LSTM(50), dropout 0.2, lookback 60, batch 32)
  on the loans series (``/work/shared/data/loans/loans.csv``, summed per day), the last
  fifth of the windows for validation;
- ``default_forecaster``: ``Forecaster``'s default network (an ensemble of GRU members
  with a linear part and calendar features) on the same loans rows;
- ``default_classifier``: ``TextClassifier``'s default recurrent network (embedding,
  spatial dropout, bidirectional GRU, max over time; ``ngram_features="none"``) on the
  shipped CFPB narratives.

The estimator cases' arrays are the very ones the estimators hand to
``rnnkit.core.training.fit`` (captured once in this process). Every run is a fresh
process: rnnkit (this interpreter) with an empty compilation cache (cold) and then with
the cache the cold run filled (warm); for the estimator cases the rnnkit run is the
estimator's own ``fit`` on the rows, data preparation and gradient-health probe included.
The peers run ``speed_peers.py`` under their own interpreters, skipped when not given:

    python3 -m venv /work/venv-tf
    /work/venv-tf/bin/pip install tensorflow-cpu==2.21.0 keras==3.15.1
    python3 -m venv /work/venv-torch
    /work/venv-torch/bin/pip install torch==2.13.0 numpy
    .venv/bin/python benchmarks/bench_speed.py --tf-python /work/venv-tf/bin/python \
        --torch-python /work/venv-torch/bin/python

(torch 2.13.0 here is the CPU wheel; a plain ``pip install torch`` pulls the CUDA build.)
These are benchmark extras, never rnnkit dependencies. The PyTorch loop runs with
``torch.set_num_threads(2)`` and OpenMP's own waiting (see ``command_for``).

Per case and implementation: the seconds from process start to the end of the first
epoch (import, data, build and compile included), the median epoch time after the first,
the peak resident memory of the process (VmHWM), and the share of the machine's matmul peak the
epoch reaches (achieved FLOP/s of a large float32 matmul, NumPy or JAX, whichever is
faster; the epoch's FLOPs counted analytically from the network's matmuls: forward, and
twice that for the backward pass, over the training windows, plus the validation
forward). The repetitions are interleaved (every implementation once, then again) and
the medians over them reported, with ratios to rnnkit. Writes
benchmarks/results/speed.json and speed.txt (the table).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")  # before Keras is imported

HERE = Path(__file__).resolve().parent
LOANS = HERE.parents[1] / "shared" / "data" / "loans" / "loans.csv"
CASES = ("guide", "default_forecaster", "default_classifier")
LOANS_COLUMNS = {"time_column": "created_at", "target_column": "amount"}
NARRATIVE_COLUMNS = {
    "text_column": "Consumer complaint narrative",
    "label_column": "Product_harmonized",
}


# ------------------------------------------------------------------------ the cases' data
class _Captured(Exception):
    """Raised in place of training once the estimator's arrays are captured."""


def _capture_training(fit_estimator):
    """The model, data and settings an estimator passes to ``training.fit``."""
    from rnnkit.core import training

    seen = {}
    original = training.fit

    def capture(model, train, validation, settings, **kwargs):
        seen.update(model=model, train=train, validation=validation, settings=settings)
        raise _Captured

    training.fit = capture
    try:
        fit_estimator()
    except _Captured:
        pass
    finally:
        training.fit = original
    return seen


def _trainable(model) -> int:
    return int(sum(math.prod(w.shape) for w in model.trainable_weights))


def guide_case() -> tuple[dict, dict]:
    import pandas as pd

    from rnnkit.config import TrainingConfig
    from rnnkit.data.windows import make_windows

    rows = pd.read_csv(LOANS, parse_dates=["created_at"])
    daily = rows.set_index("created_at")["amount"].resample("D").sum().to_numpy()
    scaled = (daily - daily.min()) / (daily.max() - daily.min())
    x, y = make_windows(scaled, lookback=60, steps=1, target_start=60, target_end=len(scaled))
    x, y = x[..., None].astype("float32"), y.astype("float32")
    cut = int(len(x) * 0.8)
    training = TrainingConfig()
    spec = {
        "kind": "stack",
        "cell": "lstm",
        "num_layers": 4,
        "units": 50,
        "dropout": 0.2,
        "input_shape": [60, 1],
        "outputs": 1,
        "loss": "mse",
        "batch_size": 32,
        "learning_rate": training.learning_rate,
        "clipnorm": training.clipnorm,
    }
    arrays = {"x_train": x[:cut], "y_train": y[:cut], "x_val": x[cut:], "y_val": y[cut:]}
    return arrays, spec


def forecaster_case(epochs: int) -> tuple[dict, dict]:
    from rnnkit import Forecaster
    from rnnkit.core.models import member_lookbacks

    forecaster = Forecaster(**LOANS_COLUMNS, epochs=epochs, patience=epochs)
    seen = _capture_training(lambda: forecaster.fit(LOANS, verbose=0))
    c, model, settings = forecaster.config, seen["model"], seen["settings"]
    steps, channels = model.input_shape[1:]
    spec = {
        "kind": "ensemble",
        "cell": c.model.cell,
        "num_layers": c.model.num_layers,
        "units": c.model.units,
        "window": c.window,
        "future_steps": steps - c.window,
        "channels": channels,
        "horizon": c.horizon,
        "member_lookbacks": member_lookbacks(c.window, c.ensemble_size),
        "linear": c.linear,
        "loss": model.loss,
        "batch_size": settings.batch_size,
        "learning_rate": settings.learning_rate,
        "clipnorm": settings.clipnorm,
        "rnnkit_trainable_weights": _trainable(model),
    }
    return _arrays(seen), spec


def classifier_case(epochs: int) -> tuple[dict, dict]:
    from rnnkit import TextClassifier, datasets

    classifier = TextClassifier(
        **NARRATIVE_COLUMNS, ngram_features="none", epochs=epochs, patience=epochs
    )
    path = datasets.path(datasets.COMPLAINT_NARRATIVES)
    seen = _capture_training(lambda: classifier.fit(path, verbose=0))
    c, model, settings = classifier.config, seen["model"], seen["settings"]
    spec = {
        "kind": "text",
        "cell": c.model.cell,
        "num_layers": c.model.num_layers,
        "units": c.model.units,
        "bidirectional": c.model.bidirectional,
        "sequence_length": classifier.sequence_length_,
        "vocabulary_size": classifier.vocabulary_size_,
        "embedding_dim": c.embedding_dim,
        "spatial_dropout": c.spatial_dropout,
        "classes": len(classifier.classes_),
        "loss": "cross_entropy",
        "batch_size": settings.batch_size,
        "learning_rate": settings.learning_rate,
        "clipnorm": settings.clipnorm,
        "rnnkit_trainable_weights": _trainable(model),
    }
    return _arrays(seen), spec


def _arrays(seen: dict) -> dict:
    import numpy as np

    (x_train, y_train), (x_val, y_val) = seen["train"], seen["validation"]
    return {
        "x_train": np.asarray(x_train),
        "y_train": np.asarray(y_train),
        "x_val": np.asarray(x_val),
        "y_val": np.asarray(y_val),
    }


# ---------------------------------------------------------------------------------- FLOPs
def _recurrent_flops(cell: str, steps: int, inputs: int, units: int) -> int:
    """Multiply-adds (x2) of one layer's gate matmuls over a sequence, one sample."""
    gates = {"lstm": 4, "gru": 3}[cell]
    return 2 * steps * gates * units * (inputs + units)


def forward_flops(spec: dict) -> int:
    """FLOPs of one sample's forward pass: the matmuls only (gates, dense layers)."""
    cell, units, layers = spec["cell"], spec["units"], spec["num_layers"]
    if spec["kind"] == "stack":
        steps, inputs = spec["input_shape"]
        total = 0
        for index in range(layers):
            total += _recurrent_flops(cell, steps, inputs if index == 0 else units, units)
        return total + 2 * units * spec["outputs"]
    if spec["kind"] == "ensemble":
        total = 0
        for lookback in spec["member_lookbacks"]:
            steps = lookback + spec["future_steps"]
            for index in range(layers):
                inputs = spec["channels"] if index == 0 else units
                total += _recurrent_flops(cell, steps, inputs, units)
            total += 2 * units * spec["horizon"]
            if spec["linear"]:
                total += 2 * lookback * spec["horizon"]
            total += 2 * spec["channels"] * spec["future_steps"]
        return total
    directions = 2 if spec["bidirectional"] else 1
    total, inputs = 0, spec["embedding_dim"]
    for _ in range(layers):
        total += directions * _recurrent_flops(cell, spec["sequence_length"], inputs, units)
        inputs = directions * units
    return total + 2 * inputs * spec["classes"]


def epoch_flops(spec: dict, train_rows: int, validation_rows: int) -> int:
    # The backward pass costs about twice the forward (gradients of inputs and weights).
    return forward_flops(spec) * (3 * train_rows + validation_rows)


def matmul_peak(size: int = 2048, repeats: int = 5) -> dict:
    """Achieved float32 FLOP/s of a ``size`` x ``size`` matmul: NumPy and JAX, best of
    ``repeats`` each."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    flops = 2 * size**3

    def best(run) -> float:
        run()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return flops / min(times)

    ja, jb = jnp.asarray(a), jnp.asarray(b)
    product = jax.jit(jnp.matmul)
    return {
        "numpy_flops": best(lambda: a @ b),
        "jax_flops": best(lambda: product(ja, jb).block_until_ready()),
        "size": size,
    }


# ---------------------------------------------------------------------------------- runs
def _child_rnnkit(case: str, data_path: str, spec_path: str, epochs: int) -> None:
    """One rnnkit run, in a fresh process: prints the child's JSON line."""
    t0 = float(os.environ["SPEED_T0"])
    import keras
    from speed_peers import peak_memory_mb

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []
            self.first_end: float | None = None

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.start)
            if self.first_end is None:
                self.first_end = time.time() - t0

    timer = EpochTimer()
    if case == "guide":
        import numpy as np

        from rnnkit.config import ModelConfig, TrainingConfig
        from rnnkit.core import training
        from rnnkit.core.models import build_forecaster

        data = np.load(data_path)
        spec = json.loads(Path(spec_path).read_text())
        training.seed_everything(0)
        config = TrainingConfig(epochs=epochs, batch_size=spec["batch_size"], patience=epochs)
        model = build_forecaster(60, 1, ModelConfig(num_layers=4, units=50, dropout=0.2))
        training.compile_model(model, config, "mse")
        training.fit(
            model,
            (data["x_train"], data["y_train"]),
            (data["x_val"], data["y_val"]),
            config,
            callbacks=[timer],
            verbose=0,
        )
        weights = _trainable(model)
    elif case == "default_forecaster":
        from rnnkit import Forecaster

        forecaster = Forecaster(**LOANS_COLUMNS, epochs=epochs, patience=epochs)
        forecaster.fit(LOANS, callbacks=(timer,), verbose=0)
        weights = _trainable(forecaster.model_)
    else:
        from rnnkit import TextClassifier, datasets

        classifier = TextClassifier(
            **NARRATIVE_COLUMNS, ngram_features="none", epochs=epochs, patience=epochs
        )
        classifier.fit(datasets.path(datasets.COMPLAINT_NARRATIVES), callbacks=(timer,), verbose=0)
        weights = _trainable(classifier.model_)
    print(
        json.dumps(
            {
                "first_epoch_end_s": timer.first_end,
                "epochs_s": timer.seconds,
                "peak_memory_mb": peak_memory_mb(),
                "trainable_weights": weights,
            }
        )
    )


def run_once(command: list[str], env: dict) -> dict:
    env = {**env, "SPEED_T0": repr(time.time())}
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def implementations(args: argparse.Namespace) -> list[str]:
    names = ["rnnkit_cold", "rnnkit_warm"]
    for name, python in (("keras_tensorflow", args.tf_python), ("torch", args.torch_python)):
        if python is None:
            print(f"skipping {name}: no interpreter given")
        elif not Path(python).exists():
            print(f"skipping {name}: {python} does not exist")
        else:
            names.append(name)
    return names


def command_for(name: str, case: str, files: dict, epochs: int, args) -> tuple[list, dict]:
    env = dict(os.environ)
    if name.startswith("rnnkit"):
        env["KERAS_BACKEND"] = "jax"
        command = [sys.executable, __file__, "--child", case]
        return [*command, files["data"], files["spec"], str(epochs)], env
    if name == "keras_tensorflow":
        env.update(KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
        python = args.tf_python
    else:
        # OpenMP's default waiting, as a user's loop gets it. On an idle machine the guide's
        # network took 34 ms a step so and 128 ms with OMP_WAIT_POLICY=PASSIVE; on a
        # loaded one, spinning threads took 0.2-4 s a step: set OMP_WAIT_POLICY=PASSIVE in
        # the environment there, and say so beside the figures.
        python = args.torch_python
    framework = "keras" if name == "keras_tensorflow" else "torch"
    script = str(HERE / "speed_peers.py")
    return [python, script, framework, files["data"], files["spec"], str(epochs)], env


LABELS = {
    "rnnkit_cold": "rnnkit, cold cache",
    "rnnkit_warm": "rnnkit, warm cache",
    "keras_tensorflow": "Keras script, TensorFlow",
    "torch": "PyTorch loop",
}


def summarise(runs: list[dict], spec: dict, arrays_rows: tuple[int, int], peak: float) -> dict:
    later = [statistics.median(r["epochs_s"][1:]) for r in runs]
    median_epoch = statistics.median(later)
    steps = math.ceil(arrays_rows[0] / spec["batch_size"])
    flops = epoch_flops(spec, *arrays_rows)
    return {
        "first_epoch_end_s": statistics.median(r["first_epoch_end_s"] for r in runs),
        "first_epoch_end_s_runs": [r["first_epoch_end_s"] for r in runs],
        "median_epoch_s": median_epoch,
        "median_epoch_s_runs": later,
        "ms_per_training_step": 1000 * median_epoch / steps,
        "peak_memory_mb": statistics.median(r["peak_memory_mb"] for r in runs),
        "share_of_matmul_peak": flops / median_epoch / peak,
        "trainable_weights": runs[0]["trainable_weights"],
    }


def table(results: dict) -> str:
    header = (
        f"{'case':19s} {'implementation':25s} {'1st epoch end s':>15s} {'epoch s':>8s} "
        f"{'ms/step':>8s} {'peak MB':>8s} {'of peak':>8s} {'epoch / rnnkit':>14s}"
    )
    lines = [header, "-" * len(header)]
    for case, rows in results.items():
        base = rows["rnnkit_warm"]["median_epoch_s"]
        for name, row in rows.items():
            lines.append(
                f"{case:19s} {LABELS[name]:25s} {row['first_epoch_end_s']:15.2f} "
                f"{row['median_epoch_s']:8.3f} {row['ms_per_training_step']:8.1f} "
                f"{row['peak_memory_mb']:8.0f} {100 * row['share_of_matmul_peak']:7.2f}% "
                f"{row['median_epoch_s'] / base:13.2f}x"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tf-python", help="an interpreter with tensorflow and keras")
    parser.add_argument("--torch-python", help="an interpreter with torch (CPU) and numpy")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=6, help="epochs per forecasting run")
    parser.add_argument("--classifier-epochs", type=int, default=3)
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "speed.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("child_args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child_rnnkit(args.child, *args.child_args[:2], int(args.child_args[2]))
        return

    import numpy as np

    names = implementations(args)
    peak = matmul_peak()
    best = max(peak["numpy_flops"], peak["jax_flops"])
    print(
        f"matmul peak ({peak['size']}^2 float32): NumPy {peak['numpy_flops'] / 1e9:.1f} "
        f"GFLOP/s, JAX {peak['jax_flops'] / 1e9:.1f} GFLOP/s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        files, specs, rows = {}, {}, {}
        for case in args.cases:
            epochs = args.classifier_epochs if case == "default_classifier" else args.epochs
            if case == "guide":
                arrays, spec = guide_case()
            elif case == "default_forecaster":
                arrays, spec = forecaster_case(epochs)
            else:
                arrays, spec = classifier_case(epochs)
            files[case] = {"data": f"{tmp}/{case}.npz", "spec": f"{tmp}/{case}.json"}
            np.savez(files[case]["data"], **arrays)
            Path(files[case]["spec"]).write_text(json.dumps(spec))
            specs[case] = {**spec, "epochs": epochs}
            rows[case] = (len(arrays["y_train"]), len(arrays["y_val"]))
            print(f"{case}: {rows[case][0]} training and {rows[case][1]} validation rows")
        runs = {case: {name: [] for name in names} for case in args.cases}
        for repeat in range(args.repeats):
            peers = names[2:]
            # Each repetition starts with another peer, so no one always runs first.
            order = ["rnnkit"] + peers
            order = order[repeat % len(order) :] + order[: repeat % len(order)]
            for case in args.cases:
                epochs = specs[case]["epochs"]
                for name in order:
                    if name == "rnnkit":
                        cache = tempfile.mkdtemp(dir=tmp)
                        for kind in ("rnnkit_cold", "rnnkit_warm"):
                            command, env = command_for(kind, case, files[case], epochs, args)
                            env["RNNKIT_COMPILATION_CACHE"] = cache
                            runs[case][kind].append(run_once(command, env))
                            _progress(repeat, case, kind, runs[case][kind][-1])
                    else:
                        command, env = command_for(name, case, files[case], epochs, args)
                        runs[case][name].append(run_once(command, env))
                        _progress(repeat, case, name, runs[case][name][-1])
    results = {
        case: {name: summarise(runs[case][name], specs[case], rows[case], best) for name in names}
        for case in args.cases
    }
    text = table(results)
    command = "benchmarks/bench_speed.py " + " ".join(sys.argv[1:])
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "command": command,
                "repeats": args.repeats,
                "matmul_peak": peak,
                "cases": {
                    case: {
                        "spec": specs[case],
                        "training_rows": rows[case][0],
                        "validation_rows": rows[case][1],
                        "epoch_gflop": epoch_flops(specs[case], *rows[case]) / 1e9,
                        "results": results[case],
                        "ratios_to_rnnkit_warm": {
                            name: results[case][name]["median_epoch_s"]
                            / results[case]["rnnkit_warm"]["median_epoch_s"]
                            for name in names
                        },
                    }
                    for case in args.cases
                },
            },
            indent=1,
        )
    )
    args.out.with_suffix(".txt").write_text(f"{command}\n\n{text}\n")
    print(f"wrote {args.out} and {args.out.with_suffix('.txt')}")


def _progress(repeat: int, case: str, name: str, run: dict) -> None:
    later = statistics.median(run["epochs_s"][1:]) if len(run["epochs_s"]) > 1 else float("nan")
    print(
        f"  [{repeat + 1}] {case:19s} {LABELS[name]:25s} first epoch done at "
        f"{run['first_epoch_end_s']:6.2f} s, then {later:.3f} s an epoch",
        flush=True,
    )


if __name__ == "__main__":
    main()
