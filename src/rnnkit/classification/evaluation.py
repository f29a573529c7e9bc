"""Scoring a classifier's predicted class ids against the true ones, with its baselines:
the metrics of each method, the model's per-class metrics and confusion matrix, and what
each baseline was fit on."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.classification import baselines
from rnnkit.classification.metrics import classification_metrics, confusion, per_class_metrics
from rnnkit.config import ClassifierConfig

#: What the TF-IDF baseline is fit on when the train and validation texts are all there.
FIT_ON_TRAIN_AND_VALIDATION = "fit on the train and validation parts"


def predictions(
    probabilities: np.ndarray,
    majority_class: int,
    cleaned: list[str],
    tfidf: tuple[list[str], np.ndarray] | None,
    config: ClassifierConfig,
) -> tuple[dict[str, np.ndarray], str | None]:
    """Each method's predicted class ids of ``cleaned`` texts, and what TF-IDF was fit on
    (``None``: not fit, when ``tfidf``, the baseline's training texts and labels, is
    ``None``)."""
    predicted = {
        "model": probabilities.argmax(axis=1),
        "majority": np.full(len(probabilities), majority_class),
    }
    if tfidf is None:
        return predicted, None
    weight = "balanced" if config.class_weight == "balanced" else None
    predicted["tfidf_linear"] = baselines.tfidf_linear(
        tfidf[0], tfidf[1], cleaned, class_weight=weight, seed=config.training.seed
    )
    return predicted, FIT_ON_TRAIN_AND_VALIDATION


def sampled_fit_on(sampled: int, train_and_validation: int) -> str:
    """What a streamed run's TF-IDF baseline was fit on: every train and validation text,
    or a random sample of ``sampled`` of them."""
    if sampled == train_and_validation:
        return FIT_ON_TRAIN_AND_VALIDATION
    return (
        f"fit on a random sample of {sampled} of the {train_and_validation} train and "
        "validation texts (streamed training)"
    )


def evaluation(
    labels: np.ndarray,
    predicted: dict[str, np.ndarray],
    classes: list[str],
    majority_class: int,
    tfidf: str | None,
) -> dict[str, Any]:
    """Metrics of each method's predicted class ids; ``tfidf`` says what TF-IDF was fit
    on (``None``: not fit)."""
    return {
        "metrics": {m: classification_metrics(labels, p) for m, p in predicted.items()},
        "per_class": per_class_metrics(labels, predicted["model"], classes),
        "confusion": confusion(labels, predicted["model"], len(classes)),
        "details": {
            "rows": int(len(labels)),
            "majority_class": classes[majority_class],
            "tfidf_linear": "TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True) + "
            f"LinearSVC(C=1), {tfidf}"
            if tfidf is not None
            else "not refit: needs the training texts",
        },
    }
