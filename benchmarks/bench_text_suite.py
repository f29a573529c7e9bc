"""Text classification suite: rnnkit's classifier against the TF-IDF family, several seeds.

Four labelled English sets from ``../shared/data``; the defaults were chosen on the
tuning two and checked on the confirmation two:

- tuning: ``cfpb`` (complaint narratives, ``Product_harmonized``, 10 classes, stratified
  30% test) and ``banking77`` (77 intents, its own train and test files);
- confirmation: ``cfpb_issue`` (the full-schema CFPB sample: the narratives it has,
  labelled with their ``Issue``, issues with 10 rows or more, stratified 30% test) and
  ``banking77_small`` (20 training texts per intent drawn from the train file with the
  seed, the official test file).

For every set and seed each method sees the same split, made as ``TextClassifier.fit``
makes it (the seed moves the split of the split sets and the draw of ``banking77_small``):

- ``rnnkit``: the defaults (a wide-and-deep model: word and character n-gram TF-IDF
  scores started from a linear SVM, plus the bidirectional GRU);
- ``rnnkit_recurrent_only``: ``ngram_features="none"``, the recurrent network alone
  (the previous default);
- ``tfidf_svc``: TF-IDF words and word pairs + LinearSVC, the baseline in rnnkit's report
  (its figure is checked against the report's own);
- ``tfidf_lr``: the same features + logistic regression (C=10);
- ``tfidf_char_svc``: word and character n-grams + LinearSVC, the wide part's features
  alone in a linear model: what the recurrent network adds shows against this row;
- ``majority``.

Usage:
    .venv/bin/python benchmarks/bench_text_suite.py [--seeds 0 1 2] [--only cfpb ...]
        [--data-dir ../shared/data] [--set ngram_features=word]

Prints medians, means and (max - min) over seeds and writes
``benchmarks/results/text_suite.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from rnnkit.classification import TextClassifier  # noqa: E402
from rnnkit.classification.metrics import classification_metrics  # noqa: E402
from rnnkit.classification.preparation import stratified_split  # noqa: E402
from rnnkit.core.persistence import write_json  # noqa: E402

TUNING = ("cfpb", "banking77")
CONFIRMATION = ("cfpb_issue", "banking77_small")


def load(name: str, data_dir: Path, seed: int) -> dict:
    """Rows (and a fixed test file) of one set, with its text and label columns."""
    if name == "cfpb":
        rows = pd.read_csv(
            data_dir / "cfpb" / "cfpb_narratives_combined.csv", dtype=str, keep_default_na=False
        )
        return dict(
            rows=rows, test=None, text="Consumer complaint narrative", label="Product_harmonized"
        )
    if name == "cfpb_issue":
        rows = pd.read_csv(data_dir / "cfpb" / "complaints_full_schema_sample.csv", dtype=str)
        rows = rows[rows["Consumer complaint narrative"].notna()]
        counts = rows["Issue"].value_counts()
        rows = rows[rows["Issue"].isin(counts[counts >= 10].index)].reset_index(drop=True)
        return dict(rows=rows, test=None, text="Consumer complaint narrative", label="Issue")
    train = pd.read_csv(data_dir / "banking77" / "train.csv", dtype=str)
    test = pd.read_csv(data_dir / "banking77" / "test.csv", dtype=str)
    if name == "banking77_small":
        shuffled = train.sample(frac=1.0, random_state=seed)
        train = shuffled.groupby("category").head(20).reset_index(drop=True)
    return dict(rows=train, test=test, text="text", label="category")


def split_like_fit(clf: TextClassifier, spec: dict) -> dict:
    """Train, validation and test texts (cleaned) and class ids, split as ``fit`` splits."""
    prepared = clf.prepare(spec["rows"])
    classes = sorted(set(prepared.labels))
    labels = np.asarray(pd.Categorical(prepared.labels, categories=classes).codes, dtype="int64")
    rng = np.random.default_rng(clf.config.training.seed)
    if spec["test"] is None:
        rest, test = stratified_split(labels, clf.config.test_size, rng)
        test_texts, test_labels = [prepared.cleaned[i] for i in test], labels[test]
    else:
        rest = np.arange(len(labels))
        fixed = clf.prepare(spec["test"])
        index = {c: i for i, c in enumerate(classes)}
        pairs = [(t, index[y]) for t, y in zip(fixed.cleaned, fixed.labels) if y in index]
        test_texts = [t for t, _ in pairs]
        test_labels = np.array([y for _, y in pairs], dtype="int64")
    train_pos, val_pos = stratified_split(labels[rest], clf.config.validation_size, rng)
    fit_rows = np.sort(np.concatenate([rest[train_pos], rest[val_pos]]))
    return dict(
        fit_texts=[prepared.cleaned[i] for i in fit_rows],
        fit_labels=labels[fit_rows],
        test_texts=test_texts,
        test_labels=test_labels,
    )


def peers(split: dict, seed: int) -> dict[str, dict]:
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    x, y, x_test, y_test = (
        split["fit_texts"],
        split["fit_labels"],
        split["test_texts"],
        split["test_labels"],
    )
    rows = {}

    def score(name: str, predict, started: float) -> None:
        rows[name] = {
            **classification_metrics(y_test, predict),
            "train_seconds": time.perf_counter() - started,
        }

    started = time.perf_counter()
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+")
    features, test_features = words.fit_transform(x), None
    test_features = words.transform(x_test)
    svc = LinearSVC(C=1.0, random_state=seed).fit(features, y)
    score("tfidf_svc", svc.predict(test_features), started)
    started = time.perf_counter()
    lr = LogisticRegression(C=10.0, max_iter=1000).fit(features, y)
    score("tfidf_lr", lr.predict(test_features), started)
    started = time.perf_counter()
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    both = hstack([words.transform(x), chars.fit_transform(x)]).tocsr()
    both_test = hstack([test_features, chars.transform(x_test)]).tocsr()
    svc = LinearSVC(C=1.0, random_state=seed).fit(both, y)
    score("tfidf_char_svc", svc.predict(both_test), started)
    majority = np.bincount(y).argmax()
    rows["majority"] = {
        **classification_metrics(y_test, np.full(len(y_test), majority)),
        "train_seconds": 0.0,
    }
    return rows


def network(spec: dict, seed: int, **params) -> tuple[TextClassifier, dict]:
    clf = TextClassifier(text_column=spec["text"], label_column=spec["label"], seed=seed, **params)
    started = time.perf_counter()
    clf.fit(spec["rows"], test_data=spec["test"], verbose=0)
    total = time.perf_counter() - started
    texts = spec["rows"][spec["text"]].astype(str).head(32).tolist()
    clf.predict_proba(texts)  # compiled once
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        clf.predict_proba(texts)
        times.append(time.perf_counter() - t0)
    row = {
        **clf.metrics_["model"],
        "train_seconds": clf.training_seconds_,
        "fit_seconds": total,
        "epochs_run": len(clf.history_["loss"]),
        "predict_32_ms": 1000 * float(np.median(times)),
        "ngram_features": clf.preparation_.get("ngram_features"),
    }
    return clf, row


def summary(values: list[float]) -> tuple[float, float]:
    return float(np.median(values)), float(np.max(values) - np.min(values))


def summarize(results: dict[str, dict[str, list[dict]]]) -> tuple[dict, str]:
    """Median, mean and (max - min) over seeds of every set and method, and the table."""
    header = (
        f"{'set':<16} {'part':<12} {'method':<22} {'acc_med':>7} {'acc_mean':>8} {'spread':>6} "
        f"{'f1_med':>6} {'f1_mean':>7} {'spread':>6} {'train_s':>7}"
    )
    lines = [header, "-" * len(header)]
    table: dict[str, dict] = {}
    for name, methods in results.items():
        part = "tuning" if name in TUNING else "confirmation"
        for method, runs in methods.items():
            acc, acc_spread = summary([r["accuracy"] for r in runs])
            f1, f1_spread = summary([r["macro_f1"] for r in runs])
            acc_mean = float(np.mean([r["accuracy"] for r in runs]))
            f1_mean = float(np.mean([r["macro_f1"] for r in runs]))
            seconds, _ = summary([r["train_seconds"] for r in runs])
            table.setdefault(name, {})[method] = {
                "accuracy_median": acc,
                "accuracy_mean": acc_mean,
                "accuracy_spread": acc_spread,
                "macro_f1_median": f1,
                "macro_f1_mean": f1_mean,
                "macro_f1_spread": f1_spread,
                "train_seconds_median": seconds,
            }
            lines.append(
                f"{name:<16} {part:<12} {method:<22} {acc:>7.4f} {acc_mean:>8.4f} "
                f"{acc_spread:>6.4f} {f1:>6.4f} {f1_mean:>7.4f} {f1_spread:>6.4f} {seconds:>7.1f}"
            )
    return table, "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="+", default=None)
    parser.add_argument("--no-recurrent-only", action="store_true")
    parser.add_argument("--set", action="append", default=[], help="KEY=VALUE for rnnkit")
    parser.add_argument(
        "--output", type=Path, default=Path(__file__).parent / "results" / "text_suite.json"
    )
    parser.add_argument("--summarize", type=Path, help="reprint the table of a saved JSON")
    args = parser.parse_args()
    if args.summarize:
        print(summarize(json.loads(args.summarize.read_text())["runs"])[1])
        return
    overrides = {}
    for item in args.set:
        key, value = item.split("=", 1)
        overrides[key] = json.loads(value) if value[:1] in "0123456789[{tf-" else value

    results: dict[str, dict[str, list[dict]]] = {}
    for name in args.only or [*TUNING, *CONFIRMATION]:
        results[name] = {}
        for seed in args.seeds:
            spec = load(name, args.data_dir, seed)
            clf, row = network(spec, seed, **overrides)
            split = split_like_fit(clf, spec)
            rows = {"rnnkit": row, **peers(split, seed)}
            # The report's own baseline, fit on the same rows, must agree with ours.
            reported = clf.metrics_["tfidf_linear"]["accuracy"]
            if abs(reported - rows["tfidf_svc"]["accuracy"]) > 1e-9:
                raise SystemExit(f"{name} seed {seed}: split differs from fit's ({reported})")
            if not args.no_recurrent_only:
                _, rows["rnnkit_recurrent_only"] = network(
                    spec, seed, **{**overrides, "ngram_features": "none"}
                )
            for method, r in rows.items():
                results[name].setdefault(method, []).append({"seed": seed, **r})
            print(
                f"{name} seed {seed}: "
                + ", ".join(
                    f"{m} {r['accuracy']:.4f}/{r['macro_f1']:.4f}" for m, r in rows.items()
                ),
                flush=True,
            )

    table, text = summarize(results)
    print("\n" + text)

    import keras

    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_json(
        args.output,
        {
            "summary": table,
            "runs": results,
            "seeds": args.seeds,
            "overrides": overrides,
            "tuning": list(TUNING),
            "confirmation": list(CONFIRMATION),
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
