"""Two checks of the word+char linear SVM that the text classifier's wide part starts from.

- ``fraction``: its test accuracy fit on all of the fit rows (train + validation) and on
  90% of them, as the network's start sees (a stratified 10% left out, seed 5).
- ``width``: its test accuracy when each text keeps only its heaviest n-grams (the bag
  width of :class:`rnnkit.data.ngrams.NgramFeatures`), against the whole vector.

Split seed 0, as ``bench_text_suite.py`` splits.

    .venv/bin/python benchmarks/text_svm_checks.py fraction banking77 banking77_small
    .venv/bin/python benchmarks/text_svm_checks.py width cfpb
"""

from __future__ import annotations

import sys
from pathlib import Path

import bench_text_suite as suite
import numpy as np
from sklearn.svm import LinearSVC

from rnnkit.classification import TextClassifier
from rnnkit.classification.preparation import stratified_split
from rnnkit.data.ngrams import NgramFeatures

DATA = Path("/work/shared/data")


def split_of(name: str) -> dict:
    spec = suite.load(name, DATA, 0)
    clf = TextClassifier(text_column=spec["text"], label_column=spec["label"], seed=0)
    return suite.split_like_fit(clf, spec)


def fraction(name: str) -> None:
    split = split_of(name)
    full = suite.peers(split, 0)["tfidf_char_svc"]["accuracy"]
    kept, _ = stratified_split(split["fit_labels"], 0.1, np.random.default_rng(5))
    part = dict(
        split,
        fit_texts=[split["fit_texts"][i] for i in kept],
        fit_labels=split["fit_labels"][kept],
    )
    less = suite.peers(part, 0)["tfidf_char_svc"]["accuracy"]
    print(f"{name}: all fit rows {full:.4f}, 90% of them {less:.4f}")


def width(name: str) -> None:
    split = split_of(name)
    x, y = split["fit_texts"], split["fit_labels"]
    test, labels = split["test_texts"], split["test_labels"]
    features = NgramFeatures("word+char").fit(x)
    svm = LinearSVC(C=1.0, random_state=0).fit(features.matrix(x), y)
    matrix = features.matrix(test)
    counts = np.diff(matrix.indptr)
    print(f"{name}: {int((counts > 4096).sum())} of {len(test)} test texts over 4096 n-grams")
    print(f"  whole vectors {np.mean(svm.predict(matrix) == labels):.4f}")
    table = np.vstack([np.zeros((1, svm.coef_.shape[0])), svm.coef_.T, svm.intercept_[None, :]])
    for kept in (2048, 4096, 8192):
        features.width = kept
        ids, weights = features.transform(test)
        scores = np.einsum("nw,nwc->nc", weights, table[ids])
        print(f"  heaviest {kept} kept {np.mean(scores.argmax(axis=1) == labels):.4f}")


if __name__ == "__main__":
    check = {"fraction": fraction, "width": width}[sys.argv[1]]
    for set_name in sys.argv[2:]:
        check(set_name)
