"""Classification metrics: accuracy, macro-F1 and weighted-F1, per-class metrics and the
confusion matrix (scikit-learn, imported on first use)."""

from __future__ import annotations

import numpy as np
import pandas as pd

CLASSIFICATION_METRICS = ("accuracy", "macro_f1", "weighted_f1")


def classification_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Accuracy, macro-F1 and weighted-F1 of predicted class ids against actual ones.

    F1 averages over the classes present in ``actual`` or ``predicted``; a class never
    predicted counts as F1 0 (not a warning).

    Example:
        >>> classification_metrics(np.array([0, 0, 1, 1]), np.array([0, 0, 1, 0]))["accuracy"]
        0.75
    """
    from sklearn.metrics import accuracy_score, f1_score

    return {
        "accuracy": float(accuracy_score(actual, predicted)),
        "macro_f1": float(f1_score(actual, predicted, average="macro", zero_division=0)),
        "weighted_f1": float(f1_score(actual, predicted, average="weighted", zero_division=0)),
    }


def per_class_metrics(
    actual: np.ndarray, predicted: np.ndarray, class_names: list[str]
) -> pd.DataFrame:
    """Precision, recall, F1 and support (test rows) of every class, by class id order."""
    from sklearn.metrics import precision_recall_fscore_support

    labels = list(range(len(class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        actual, predicted, labels=labels, zero_division=0
    )
    return pd.DataFrame(
        {
            "label": class_names,
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": support.astype("int64"),
        }
    )


def confusion(actual: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts ``[actual, predicted]`` over every class id, present in the data or not."""
    from sklearn.metrics import confusion_matrix

    return confusion_matrix(actual, predicted, labels=list(range(num_classes)))


#: Names of the methods in a verdict.
METHOD_NAMES = {
    "model": "the network",
    "majority": "the majority class",
    "tfidf_linear": "TF-IDF + linear SVM",
}
#: Below this many test texts a difference of a few points is mostly chance.
SMALL_TEST = 200


def verdict(metrics: dict[str, dict[str, float]], test_rows: int) -> str:
    """One sentence: which method wins on the test part, by how much, and whether the test
    is large enough to tell.

    Example:
        >>> verdict({"model": {"accuracy": 0.91, "macro_f1": 0.90},
        ...          "tfidf_linear": {"accuracy": 0.89, "macro_f1": 0.88},
        ...          "majority": {"accuracy": 0.1, "macro_f1": 0.01}}, 3080)[:60]
        'The network wins on the test part: accuracy 0.910 against 0.'
    """
    model = metrics["model"]
    others = {k: v for k, v in metrics.items() if k != "model"}
    best = max(others, key=lambda k: (others[k]["accuracy"], others[k]["macro_f1"]))
    rival = others[best]
    name = METHOD_NAMES.get(best, best)
    gap = 100 * (model["accuracy"] - rival["accuracy"])
    scores = (
        f"accuracy {model['accuracy']:.3f} against {rival['accuracy']:.3f} for {name} "
        f"({gap:+.1f} points), macro-F1 {model['macro_f1']:.3f} against {rival['macro_f1']:.3f}"
    )
    if model["accuracy"] >= rival["accuracy"] and model["macro_f1"] >= rival["macro_f1"]:
        sentence = f"The network wins on the test part: {scores}."
    elif model["accuracy"] >= rival["accuracy"] or model["macro_f1"] >= rival["macro_f1"]:
        sentence = f"The network and {name} split the test part: {scores}."
    else:
        sentence = f"{name[0].upper() + name[1:]} beats the network on the test part: {scores}."
    if test_rows < SMALL_TEST:
        sentence += (
            f" The test has only {test_rows} texts: a difference of a few points is mostly chance."
        )
    return sentence
