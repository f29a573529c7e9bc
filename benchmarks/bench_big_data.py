"""Wall time and peak memory of a 10-million-row event CSV and a 1-million-row text CSV.

Generates (in a temporary directory, deleted afterwards; never committed) the files in
chunks, so that generation itself stays small, then measures, each in a fresh Python
process so that peak memory (``ru_maxrss``) belongs to that measurement alone.

Events (``--only events``): a CSV of events over about three years, aggregated per day:

- ``aggregate_file``: the streaming path :meth:`Forecaster.prepare` takes for a CSV;
- ``read_table + aggregate``: the whole file in memory, for comparison (``--skip-in-memory``
  leaves it out on a machine that cannot hold it);
- reading only, with pandas' chunked reader and with pyarrow's streaming reader, to pick
  the reader ``aggregate_file`` uses;
- ``import only``: the interpreter with rnnkit's data modules imported (no Keras: ``import
  rnnkit`` loads it on first use only), the floor of the others.

Texts (``--only text``): synthetic complaints of 10 classes of unequal size, each text a
template (300 per class, 6 to 40 words of a 4,000-word vocabulary) with a few words added,
digits and CFPB masks to clean, and 5% of labels flipped at random:

- ``text: vocabulary pass (streamed)``: what a streamed ``TextClassifier.fit`` does before
  training: the scan (check, clean, label every row), the split, the vocabulary and
  sequence length of the training rows, the baseline sample;
- ``text: streamed fit, 1 epoch``: ``TextClassifier(epochs=1, stream=True).fit``, the
  default classifier, a full epoch, the test scored chunk by chunk, TF-IDF fit on its
  200,000-text sample;
- ``text: in-memory read + clean + encode``: what the in-memory path holds before it
  trains (every text read, cleaned and encoded at once; no training, no TF-IDF, so a
  floor of its peak); ``--skip-in-memory`` leaves it out;
- ``text: import only``.

Results are merged into ``benchmarks/results/big_data.json``: events at the top level (as
before), texts under ``"text"``; a part not run keeps its previous figures.

Usage:
    .venv/bin/python benchmarks/bench_big_data.py [--only events|text] [--rows 10000000]
        [--text-rows 1000000] [--skip-in-memory]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).parent / "results" / "big_data.json"
GENERATE_ROWS = 1_000_000

# Each measurement runs as its own process; it prints one JSON line with its figures.
_MEASURE = """
import json, resource, sys, time
import rnnkit.data.streaming
path, what = sys.argv[1], sys.argv[2]
start = time.perf_counter()
if what == "aggregate_file":
    from rnnkit.data.streaming import aggregate_file
    result = aggregate_file(path, "created_at", "amount", "D", "sum", "zero")
    periods = len(result.values)
elif what == "read_table + aggregate":
    from rnnkit.data.reading import read_table
    from rnnkit.data.timeseries import aggregate
    frame = read_table(path, columns=["created_at", "amount"])
    result = aggregate(frame, "created_at", "amount", "D", "sum", "zero")
    periods = len(result.values)
elif what == "pandas chunked read only":
    import pandas as pd
    reader = pd.read_csv(path, usecols=[0, 1], dtype=str, keep_default_na=False,
                         chunksize=1_000_000)
    periods = sum(len(chunk) for chunk in reader)
elif what == "pyarrow streaming read only":
    import pyarrow as pa
    import pyarrow.csv as pacsv
    options = pacsv.ConvertOptions(
        column_types={"created_at": pa.string(), "amount": pa.string()},
        include_columns=["created_at", "amount"],
    )
    reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 25),
                            convert_options=options)
    # to_pandas: aggregate_file's parsing works on pandas objects.
    periods = sum(len(batch.to_pandas()) for batch in reader)
else:
    periods = 0
seconds = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "result_rows": periods}))
"""

_MEASURE_TEXT = """
import json, resource, sys, time
from rnnkit import TextClassifier
path, what = sys.argv[1], sys.argv[2]
start = time.perf_counter()
figures = {}
if what == "text: vocabulary pass (streamed)":
    from rnnkit.classification.streamed import prepare_streamed
    classifier = TextClassifier(text_column="text", label_column="label")
    prepared = prepare_streamed(classifier.config, classifier.cleaner, path)
    counts = prepared.counts(len(prepared.classes))
    figures = {
        "rows_used": prepared.summary["rows_used"],
        "split": {part: int(n.sum()) for part, n in counts.items()},
        "vocabulary_size": int(prepared.tokenizer.get_vocab_size()),
        "sequence_length": prepared.sequence_length,
        "baseline_sample_rows": len(prepared.sample_texts),
    }
elif what == "text: in-memory read + clean + encode":
    from rnnkit.data import text as text_prep
    classifier = TextClassifier(text_column="text", label_column="label")
    prepared = classifier.prepare(path)
    length = text_prep.choose_sequence_length(prepared.cleaned)
    tokenizer = text_prep.build_tokenizer(prepared.cleaned, 20000, length)
    ids = text_prep.encode(tokenizer, prepared.cleaned)
    figures = {"rows_used": len(ids), "encoded_mb": round(ids.nbytes / 2**20)}
elif what == "text: streamed fit, 1 epoch":
    classifier = TextClassifier(text_column="text", label_column="label", epochs=1, stream=True)
    classifier.fit(path, verbose=0)
    figures = {
        "training_seconds": classifier.training_seconds_,
        "split": classifier.split_,
        "sequence_length": classifier.sequence_length_,
        "vocabulary_size": classifier.vocabulary_size_,
        "accuracy": {m: v["accuracy"] for m, v in classifier.metrics_.items()},
        "tfidf_linear": classifier.evaluation_["details"]["tfidf_linear"],
    }
seconds = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, **figures}))
"""
TEXT_CLASSES = 10
TEMPLATES_PER_CLASS = 300
LABEL_NOISE = 0.05


def generate(path: Path, rows: int, seed: int = 0) -> None:
    """Writes ``rows`` unsorted events over three years, a million rows at a time."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2022-01-01T00:00:00")
    span = 3 * 365 * 24 * 3600
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id,created_at,amount\n")
        for first in range(0, rows, GENERATE_ROWS):
            n = min(GENERATE_ROWS, rows - first)
            times = start + rng.integers(0, span, size=n).astype("timedelta64[s]")
            frame = pd.DataFrame(
                {
                    "id": np.arange(first, first + n),
                    "created_at": np.datetime_as_string(times, unit="s"),
                    "amount": np.round(rng.gamma(2.0, 150.0, size=n), 2),
                }
            )
            frame.to_csv(handle, header=False, index=False, float_format="%.2f")


def _words(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` distinct made-up words of letters only (cleaning removes digits)."""
    syllables = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"]
    words: set[str] = set()
    while len(words) < count:
        words.add("".join(rng.choice(syllables, int(rng.integers(2, 4)))))
    return np.array(sorted(words))


def generate_texts(path: Path, rows: int, seed: int = 0) -> None:
    """Writes ``rows`` labelled texts (see the module docstring), 100,000 at a time."""
    rng = np.random.default_rng(seed)
    vocabulary = _words(rng, 4000)
    labels = np.array([f"product_{chr(97 + k)}" for k in range(TEXT_CLASSES)])
    # Class sizes from about 22% down to 3%, so that the majority class means something.
    weights = 1.0 / np.arange(1, TEXT_CLASSES + 1) ** 0.8
    weights /= weights.sum()
    # Each class draws a quarter of its template words from 40 words of its own.
    own = rng.choice(vocabulary, size=(TEXT_CLASSES, 40))
    templates = []
    for k in range(TEXT_CLASSES):
        for _ in range(TEMPLATES_PER_CLASS):
            n = int(rng.integers(6, 41))
            words = np.where(rng.random(n) < 0.25, rng.choice(own[k], n), rng.choice(vocabulary, n))
            templates.append(" ".join(words))
    extras = ["XXXX", "XX/XX/XXXX", "{$1,250.00}", "2019", "#4417", "(call)", "don't"]
    with path.open("w", encoding="utf-8") as handle:
        handle.write("text,label\n")
        for first in range(0, rows, 100_000):
            n = min(100_000, rows - first)
            classes = rng.choice(TEXT_CLASSES, size=n, p=weights)
            chosen = classes * TEMPLATES_PER_CLASS + rng.integers(0, TEMPLATES_PER_CLASS, n)
            noisy = rng.random(n) < LABEL_NOISE
            classes[noisy] = rng.integers(0, TEXT_CLASSES, int(noisy.sum()))
            added = rng.choice(vocabulary, size=(n, 3))
            marks = rng.choice(extras, size=n)
            texts = [
                f"{templates[t]} {a[0]} {a[1]} {a[2]} {m}"
                for t, a, m in zip(chosen.tolist(), added.tolist(), marks.tolist(), strict=True)
            ]
            frame = pd.DataFrame({"text": texts, "label": labels[classes]})
            frame.to_csv(handle, header=False, index=False)


def measure(path: Path, what: str) -> dict[str, object]:
    """Runs one measurement in a fresh process and returns its figures."""
    script = _MEASURE_TEXT if what.startswith("text: ") else _MEASURE
    done = subprocess.run(
        [sys.executable, "-c", script, str(path), what],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {"what": what, "error": done.stderr.strip().splitlines()[-1:]}
    return {"what": what, **json.loads(done.stdout.strip().splitlines()[-1])}


def _print(result: dict[str, object]) -> None:
    what = str(result["what"])
    if "error" in result:
        print(f"{what:36s} failed: {result['error']}")
        return
    extra = {k: v for k, v in result.items() if k not in ("what", "seconds", "peak_mb")}
    print(f"{what:36s} {result['seconds']:8.1f} s {result['peak_mb']:8.0f} MB peak  {extra}")


def run_events(rows: int, skip_in_memory: bool) -> dict[str, object]:
    names = ["import only", "aggregate_file", "pandas chunked read only"]
    names.append("pyarrow streaming read only")
    if not skip_in_memory:
        names.append("read_table + aggregate")
    return _measure_all("events.csv", generate, rows, "rows", names)


def run_texts(rows: int, skip_in_memory: bool) -> dict[str, object]:
    names = ["text: import only", "text: vocabulary pass (streamed)"]
    names.append("text: streamed fit, 1 epoch")
    if not skip_in_memory:
        names.append("text: in-memory read + clean + encode")
    return _measure_all("texts.csv", generate_texts, rows, "texts", names)


def _measure_all(
    name: str, generate_file, rows: int, unit: str, names: list[str]
) -> dict[str, object]:
    """Generates ``rows`` rows into a temporary ``name``, then runs each measurement."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        started = time.perf_counter()
        generate_file(path, rows)
        generate_seconds = time.perf_counter() - started
        size_mb = path.stat().st_size / 2**20
        print(f"{rows:,} {unit}, {size_mb:.0f} MB, generated in {generate_seconds:.0f} s")
        results = []
        for what in names:
            result = measure(path, what)
            results.append(result)
            _print(result)
    return {"rows": rows, "file_mb": round(size_mb), "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("events", "text"), help="run one part only")
    parser.add_argument("--rows", type=int, default=10_000_000, help="event rows")
    parser.add_argument("--text-rows", type=int, default=1_000_000, help="text rows")
    parser.add_argument(
        "--skip-in-memory",
        action="store_true",
        help="leave out the in-memory paths (read_table + aggregate, texts read at once)",
    )
    args = parser.parse_args()

    report = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if args.only in (None, "events"):
        report.update(run_events(args.rows, args.skip_in_memory))
    if args.only in (None, "text"):
        report["text"] = run_texts(args.text_rows, args.skip_in_memory)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
