"""Text classification benchmark: rnnkit's defaults against the guide's network and baselines.

Two datasets, each scored on its test part:

1. CFPB complaint narratives (``Product_harmonized``, 10 classes): stratified 30% test,
   seed 42, as the guide splits it.
2. BANKING77 (77 intents): its own train and test files (``fit(train, test_data=test)``).

Rows: rnnkit defaults; the guide's configuration (max_tokens 5000, sequence_length 512,
Embedding 100, SpatialDropout1D 0.2, LSTM(100) with recurrent_dropout 0.2, batch 64, last
state, padding at the end, 5 epochs); the majority class; TF-IDF + LinearSVC. The guide's
``dropout=0.2`` is LSTM input dropout; rnnkit's ``dropout`` is a Dropout layer after the
LSTM, which is what the row uses. The guide's loss (categorical cross-entropy on integer
labels) is a bug; both rows use sparse categorical cross-entropy.

Usage:
    .venv/bin/python benchmarks/bench_classify.py [--data-dir /work/shared/data]
        [--guide-epochs 5] [--only cfpb|banking77]

Prints a table and writes ``benchmarks/results/classify.json``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import pandas as pd  # noqa: E402

from rnnkit.classification import (
    TextClassifier,  # noqa: E402
    baselines,  # noqa: E402
)
from rnnkit.core.persistence import write_json  # noqa: E402

GUIDE = dict(
    max_tokens=5000,
    sequence_length=512,
    embedding_dim=100,
    spatial_dropout=0.2,
    pooling="last",
    padding="end",
    truncation="end",
    remove_stopwords=False,
    cell="lstm",
    num_layers=1,
    units=100,
    bidirectional=False,
    dropout=0.2,
    recurrent_dropout=0.2,
    batch_size=64,
    learning_rate=1e-3,
    clipnorm=0.0,
    patience=3,
)


def datasets(data_dir: Path) -> dict[str, dict]:
    return {
        "cfpb": {
            "columns": dict(
                text_column="Consumer complaint narrative",
                label_column="Product_harmonized",
                test_size=0.3,
                seed=42,
            ),
            "train": pd.read_csv(
                data_dir / "cfpb" / "cfpb_narratives_combined.csv", dtype=str, keep_default_na=False
            ),
            "test": None,
        },
        "banking77": {
            "columns": dict(text_column="text", label_column="category", seed=42),
            "train": pd.read_csv(data_dir / "banking77" / "train.csv", dtype=str),
            "test": pd.read_csv(data_dir / "banking77" / "test.csv", dtype=str),
        },
    }


def run_network(name: str, spec: dict, **params) -> tuple[TextClassifier, dict]:
    classifier = TextClassifier(**spec["columns"], **params)
    started = time.perf_counter()
    classifier.fit(spec["train"], test_data=spec["test"], verbose=0)
    total = time.perf_counter() - started
    row = {
        **classifier.metrics_["model"],
        "train_seconds": classifier.training_seconds_,
        "fit_seconds_with_preparation_and_baselines": total,
        "epochs_run": len(classifier.history_["loss"]),
        "sequence_length": classifier.sequence_length_,
        "vocabulary_size": classifier.vocabulary_size_,
        "test_rows": classifier.split_["test"],
    }
    print(
        f"  {name}: acc {row['accuracy']:.4f}, {row['train_seconds']:.0f} s, "
        f"{row['epochs_run']} epochs",
        flush=True,
    )
    return classifier, row


def tfidf_seconds(classifier: TextClassifier, spec: dict) -> float:
    """Time of the TF-IDF baseline alone, refit on every row of the training file.

    For CFPB that is all 5,450 rows (the test part too), so it overstates the time of the
    baseline in the table, which is fit on the train and validation parts only.
    """
    cleaned = classifier.cleaner.clean_all(
        spec["train"][spec["columns"]["text_column"]].fillna("").astype(str)
    )
    labels = pd.Categorical(spec["train"][spec["columns"]["label_column"]]).codes
    started = time.perf_counter()
    baselines.tfidf_linear(cleaned, labels, cleaned[:100])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--guide-epochs", type=int, default=5)
    parser.add_argument("--only", choices=("cfpb", "banking77"), default=None)
    parser.add_argument(
        "--output", type=Path, default=Path(__file__).parent / "results" / "classify.json"
    )
    args = parser.parse_args()

    results: dict[str, dict] = {}
    for name, spec in datasets(args.data_dir).items():
        if args.only and name != args.only:
            continue
        print(f"{name}:", flush=True)
        classifier, default_row = run_network("rnnkit defaults", spec)
        _, guide_row = run_network("guide configuration", spec, **GUIDE, epochs=args.guide_epochs)
        metrics = classifier.metrics_
        results[name] = {
            "rnnkit defaults": default_row,
            "guide configuration": guide_row,
            "majority": {**metrics["majority"], "train_seconds": 0.0},
            "tfidf_linear": {
                **metrics["tfidf_linear"],
                "train_seconds": tfidf_seconds(classifier, spec),
            },
        }

    lines = [f"{'dataset':<10}  {'method':<20}  {'accuracy':>8}  {'macro_f1':>8}  {'train_s':>8}"]
    lines.append("-" * len(lines[0]))
    for name, rows in results.items():
        for method, row in rows.items():
            lines.append(
                f"{name:<10}  {method:<20}  {row['accuracy']:>8.4f}  "
                f"{row['macro_f1']:>8.4f}  {row['train_seconds']:>8.1f}"
            )
    print("\n" + "\n".join(lines))

    import keras

    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_json(
        args.output,
        {
            "results": results,
            "guide_configuration": {**GUIDE, "epochs": args.guide_epochs},
            "machine": {
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "keras": keras.__version__,
                "backend": keras.backend.backend(),
            },
        },
    )
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
