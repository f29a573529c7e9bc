"""Baselines every text classifier is shown against: the majority class (what accuracy
means with no model at all on imbalanced labels) and TF-IDF + a linear SVM (the strong
classic)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def majority_class(train_labels: np.ndarray) -> int:
    """The most frequent class id in the training labels (the smallest id on a tie)."""
    return int(np.bincount(np.asarray(train_labels, dtype="int64")).argmax())


def tfidf_linear(
    train_texts: list[str],
    train_labels: np.ndarray,
    test_texts: list[str],
    class_weight: str | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Class ids predicted by TF-IDF (words and word pairs, sublinear tf) + LinearSVC.

    Example:
        >>> tfidf_linear(["good loan", "bad card"], np.array([0, 1]), ["loan"]).tolist()
        [0]
    """
    return fit_tfidf_linear(train_texts, train_labels, class_weight, seed)(test_texts)


def fit_tfidf_linear(
    train_texts: list[str],
    train_labels: np.ndarray,
    class_weight: str | None = None,
    seed: int = 0,
) -> Callable[[list[str]], np.ndarray]:
    """:func:`tfidf_linear` fit once, as a function from texts to class ids, so that a
    test read in chunks is scored chunk by chunk.

    Example:
        >>> predict = fit_tfidf_linear(["good loan", "bad card"], np.array([0, 1]))
        >>> predict(["card"]).tolist()
        [1]
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    # The texts come cleaned (lower case, no digits or masks), as the network sees them;
    # the token pattern keeps one-letter words, as the network's vocabulary does.
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+")
    features = vectorizer.fit_transform(train_texts)
    model = LinearSVC(C=1.0, class_weight=class_weight, random_state=seed)
    model.fit(features, train_labels)

    def predict(texts: list[str]) -> np.ndarray:
        return model.predict(vectorizer.transform(texts)).astype("int64")

    return predict
