"""Time of the character n-gram features of 32 texts: scikit-learn's ``transform`` against
rnnkit's word-by-word path (:class:`rnnkit.data.ngrams.WordNgrams`), with its word cache
cold (every word new) and warm (as fitting on 3,000 texts left it; new texts' words
mostly seen), on CFPB complaint narratives
(long) and BANKING77 queries (short); then the word and word-pair features, scikit-learn's
``transform`` against :class:`rnnkit.data.ngrams.WordPairs`. Medians of 15 repetitions,
interleaved.

    .venv/bin/python benchmarks/bench_ngram_speed.py [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit.core.persistence import write_json
from rnnkit.data import text as text_prep
from rnnkit.data.ngrams import NgramFeatures, WordNgrams


def texts_of(name: str, data_dir: Path) -> list[str]:
    if name == "cfpb":
        rows = pd.read_csv(data_dir / "cfpb" / "cfpb_narratives_combined.csv", dtype=str)
        return rows["Consumer complaint narrative"].dropna().tolist()
    return pd.read_csv(data_dir / "banking77" / "train.csv", dtype=str)["text"].tolist()


def time_batches(features: NgramFeatures, batches: list[list[str]]) -> dict[str, list[float]]:
    """Milliseconds of each method on each batch, the methods interleaved."""
    word, char = features._vectorizers
    runs = {
        "sklearn": char.transform,
        "cold": lambda b: WordNgrams(char).transform(b),
        # The cache as fit left it: the words of the 3,000 training texts.
        "warm": lambda b: features._transform(char, b),
        "bags": features.transform,  # words and characters, the cache warm
        "words_sklearn": word.transform,
        "words": lambda b: features._transform(word, b),
    }
    times: dict[str, list[float]] = {method: [] for method in runs}
    for batch in batches:
        for method, run in runs.items():
            started = time.perf_counter()
            run(batch)
            times[method].append(1000 * (time.perf_counter() - started))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument(
        "--output", type=Path, default=Path(__file__).parent / "results" / "ngram_speed.json"
    )
    args = parser.parse_args()
    cleaner = text_prep.TextCleaner()
    table = {}
    for name in ("cfpb", "banking77"):
        texts = cleaner.clean_all(texts_of(name, args.data_dir))
        features = NgramFeatures("word+char").fit(texts[:3000])
        batches = [texts[3000 + 32 * k : 3000 + 32 * (k + 1)] for k in range(args.repeats)]
        times = time_batches(features, batches)
        table[name] = {m: float(np.median(t)) for m, t in times.items()}
        row = table[name]
        print(
            f"{name:<10} char n-grams of 32 texts: scikit-learn {row['sklearn']:.1f} ms, "
            f"word by word cold {row['cold']:.1f} ms, warm {row['warm']:.1f} ms "
            f"({row['sklearn'] / row['warm']:.1f}x); whole bags (words and characters) "
            f"{row['bags']:.1f} ms; words and pairs: scikit-learn {row['words_sklearn']:.1f} ms, "
            f"rnnkit {row['words']:.1f} ms",
            flush=True,
        )
    write_json(args.output, {"milliseconds": table, "machine": platform.platform()})
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
