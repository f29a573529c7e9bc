"""Does averaging the probabilities of several seeds' classifiers beat one? A probe.

For each set and split seed, trains ``--members`` classifiers on the same split (only the
model seed differs), and prints each member's test accuracy and macro-F1, the ensemble's
(mean of the members' probabilities), and word+char TF-IDF + LinearSVC and the report's
TF-IDF + LinearSVC on the same rows. With several ``--split-seeds`` it also gives the
spread of the model seeds on each split apart from the spread between splits.

    .venv/bin/python benchmarks/text_ensemble_probe.py [--only cfpb ...] [--members 3]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import bench_text_suite as suite  # noqa: E402
import numpy as np  # noqa: E402

from rnnkit.classification import TextClassifier  # noqa: E402
from rnnkit.classification.metrics import classification_metrics  # noqa: E402
from rnnkit.core.persistence import write_json  # noqa: E402


class FixedSplit(TextClassifier):
    """A classifier whose split uses ``split_seed``, whatever its model seed."""

    split_seed = 0

    def _split(self, prepared, labels, test_data):
        seed = self.config.training.seed
        object.__setattr__(self.config.training, "seed", self.split_seed)
        try:
            return super()._split(prepared, labels, test_data)
        finally:
            object.__setattr__(self.config.training, "seed", seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--only", nargs="+", default=None)
    parser.add_argument("--split-seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(__file__).parent / "results" / "text_ensemble_probe.json",
    )
    args = parser.parse_args()
    results = []
    for name in args.only or [*suite.TUNING, *suite.CONFIRMATION]:
        for split_seed in args.split_seeds:
            spec = suite.load(name, args.data_dir, split_seed)
            FixedSplit.split_seed = split_seed
            probs, members = [], []
            for k in range(args.members):
                clf = FixedSplit(text_column=spec["text"], label_column=spec["label"], seed=100 + k)
                clf.fit(spec["rows"], test_data=spec["test"], verbose=0)
                split = suite.split_like_fit(
                    TextClassifier(
                        text_column=spec["text"], label_column=spec["label"], seed=split_seed
                    ),
                    spec,
                )
                p = clf._probabilities(split["test_texts"])
                probs.append(p)
                m = classification_metrics(split["test_labels"], p.argmax(axis=1))
                m["kept_start"] = bool(clf.kept_linear_)
                m["train_seconds"] = clf.training_seconds_
                members.append(m)
            ensemble = classification_metrics(
                split["test_labels"], np.mean(probs, axis=0).argmax(axis=1)
            )
            peers = suite.peers(split, split_seed)
            row = {
                "set": name,
                "split_seed": split_seed,
                "members": members,
                "ensemble": ensemble,
                "tfidf_char_svc": peers["tfidf_char_svc"],
                "tfidf_svc": peers["tfidf_svc"],
            }
            results.append(row)
            svc = peers["tfidf_char_svc"]
            each = " ".join(
                f"{m['accuracy']:.4f}/{m['macro_f1']:.4f}{'k' if m['kept_start'] else ''}"
                for m in members
            )
            print(
                f"{name} split {split_seed}: members {each}"
                f" | ensemble {ensemble['accuracy']:.4f}/{ensemble['macro_f1']:.4f}"
                f" | char_svc {svc['accuracy']:.4f}/{svc['macro_f1']:.4f}"
                f" | svc {peers['tfidf_svc']['accuracy']:.4f}/{peers['tfidf_svc']['macro_f1']:.4f}",
                flush=True,
            )
    write_json(args.output, {"results": results, "members": args.members})
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
