"""Where the time of ``predict_proba`` on 32 CFPB narratives goes, for a saved run.

Loads a classifier run (or, without one, trains the default classifier on the CFPB
narratives' products with ``--seed`` and saves it in a temporary folder first), then
times (median of 15, after one warm-up call) the whole ``predict_proba`` of the first 32
narratives of ``../shared/data/cfpb`` and each part: cleaning, tokenizing, the n-gram
bags, ``model.predict`` and a jitted stateless call.
A wide-and-deep model's ``predict_proba`` runs its recurrent part while the bags are
computed (``rnnkit.classification.wide_and_deep.SplitPrediction``), so it takes less
than the sum of the parts.

    .venv/bin/python benchmarks/text_predict_profile.py [RUN_DIR] [--seed 1]

Prints the table and writes benchmarks/results/text_predict_profile.json.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cfpb"


def median_ms(call, repeats: int = 15) -> float:
    import numpy as np

    call()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return 1000 * float(np.median(times))


def trained_run(seed: int, folder: Path) -> Path:
    """The default classifier of the CFPB narratives' products, saved in ``folder``."""
    from rnnkit import TextClassifier

    clf = TextClassifier(
        text_column="Consumer complaint narrative", label_column="Product_harmonized", seed=seed
    )
    clf.fit(str(DATA / "cfpb_narratives_combined.csv"), verbose=0)
    return clf.save(folder / "run")


def main() -> None:
    import argparse
    import json
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", nargs="?", type=Path, help="a saved classifier run")
    parser.add_argument("--seed", type=int, default=1, help="without a run: the seed trained")
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(__file__).parent / "results" / "text_predict_profile.json",
    )
    args = parser.parse_args()
    if args.run is None:
        with tempfile.TemporaryDirectory() as folder:
            timings = profile(trained_run(args.seed, Path(folder)))
    else:
        timings = profile(args.run)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    run = str(args.run) if args.run else f"default classifier, CFPB products, seed {args.seed}"
    args.output.write_text(json.dumps({"run": run, "median_ms": timings}, indent=2))
    print(f"wrote {args.output}")


def profile(run: Path) -> dict[str, float]:
    import jax
    import numpy as np
    import pandas as pd

    from rnnkit import TextClassifier
    from rnnkit.data import text as text_prep

    clf = TextClassifier.load(run)
    rows = pd.read_csv(DATA / "cfpb_narratives_combined.csv", dtype=str, keep_default_na=False)
    texts = rows["Consumer complaint narrative"].head(32).tolist()
    cleaned = clf.cleaner.clean_all(texts)
    inputs = clf._encode(cleaned)
    model = clf.model_
    # Copies: Keras's own calls may donate the variables' buffers.
    trainable = [jax.device_put(np.asarray(v)) for v in model.trainable_variables]
    other = [jax.device_put(np.asarray(v)) for v in model.non_trainable_variables]
    stateless = jax.jit(lambda t, n, x: model.stateless_call(t, n, x, training=False)[0])
    parts = {
        "predict_proba": lambda: clf.predict_proba(texts),
        "cleaning": lambda: clf.cleaner.clean_all(texts),
        "tokenizing": lambda: text_prep.encode(clf.tokenizer_, cleaned),
        "n-gram bags": lambda: clf.ngrams_.transform(cleaned) if clf.ngrams_ else None,
        "model.predict": lambda: model.predict(inputs, batch_size=256, verbose=0),
        "jitted stateless call": lambda: np.asarray(stateless(trainable, other, inputs)),
    }
    timings = {}
    for name, call in parts.items():
        timings[name] = median_ms(call)
        print(f"{name:22s} {timings[name]:7.1f} ms")
    return timings


if __name__ == "__main__":
    main()
