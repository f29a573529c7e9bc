"""Classification metrics: accuracy, macro-F1 and weighted-F1, per-class metrics and the
confusion matrix (scikit-learn, imported on first use); the verdict and the warning of the
classes the network fails on, as the report and ``rnnkit classify train`` give them."""

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


def largest_confusions(matrix: np.ndarray, class_names: list[str], limit: int = 20) -> pd.DataFrame:
    """The ``limit`` largest off-diagonal cells of a confusion matrix, by count then by
    share of the true class: what a matrix of many classes shows too small to read.

    Example:
        >>> largest_confusions(np.array([[8, 2], [0, 5]]), ["card", "loan"])
           true predicted  count  share_of_true
        0  card      loan      2            0.2
    """
    matrix = np.asarray(matrix)
    totals = matrix.sum(axis=1)
    true, predicted = np.nonzero(matrix * (1 - np.eye(len(matrix), dtype=matrix.dtype)))
    counts = matrix[true, predicted]
    table = pd.DataFrame(
        {
            "true": [class_names[i] for i in true],
            "predicted": [class_names[j] for j in predicted],
            "count": counts.astype("int64"),
            "share_of_true": counts / totals[true],
        }
    )
    ranked = table.sort_values(["count", "share_of_true"], ascending=False, kind="stable")
    return ranked.head(limit).reset_index(drop=True)


def failing_classes(per_class: pd.DataFrame, matrix: np.ndarray) -> dict[str, list[str]]:
    """The test classes the network fails on: those it never predicts, and those it
    predicts but never rightly (F1 0). Classes with no test text are left out.

    Args:
        per_class: :func:`per_class_metrics` of the network.
        matrix: its :func:`confusion` matrix, in the same class order.

    Example:
        >>> table = per_class_metrics(np.array([0, 1, 2]), np.array([0, 0, 1]), ["a", "b", "c"])
        >>> failing_classes(table, confusion(np.array([0, 1, 2]), np.array([0, 0, 1]), 3))
        {'never_predicted': ['c'], 'zero_f1': ['b']}
    """
    labels = per_class["label"].astype(str).to_numpy()
    present = per_class["support"].to_numpy() > 0
    predicted = np.asarray(matrix).sum(axis=0) > 0
    zero = per_class["f1"].to_numpy() == 0
    return {
        "never_predicted": list(labels[present & ~predicted]),
        "zero_f1": list(labels[present & predicted & zero]),
    }


#: A warning names at most this many classes of each kind (all are in per_class.csv).
NAMED_CLASSES = 20


def _named(labels: list[str]) -> str:
    shown = ", ".join(f"'{label}'" for label in labels[:NAMED_CLASSES])
    more = len(labels) - NAMED_CLASSES
    return shown + (f" and {more} more (per_class.csv)" if more > 0 else "")


def failing_classes_warning(per_class: pd.DataFrame, matrix: np.ndarray) -> str | None:
    """One sentence naming the classes of :func:`failing_classes`; ``None`` when none.

    Example:
        >>> table = per_class_metrics(np.array([0, 1]), np.array([0, 0]), ["card", "loan"])
        >>> failing_classes_warning(table, confusion(np.array([0, 1]), np.array([0, 0]), 2))
        "The network never predicts 1 of the 2 test classes: 'loan'. Give it more rows, or try --class-weight balanced."
    """  # noqa: E501
    failing = failing_classes(per_class, matrix)
    never, zero = failing["never_predicted"], failing["zero_f1"]
    if not never and not zero:
        return None
    tested = int((per_class["support"] > 0).sum())
    sentences = []
    if never:
        sentences.append(
            f"The network never predicts {len(never)} of the {tested} test classes: "
            f"{_named(never)}."
        )
    if zero:
        kind = "class" if len(zero) == 1 else "classes"
        sentences.append(
            f"{'It' if never else 'The network'} predicts {len(zero)} {kind} but never "
            f"rightly (F1 0): {_named(zero)}."
        )
    which = "it" if len(never) + len(zero) == 1 else "them"
    sentences.append(f"Give {which} more rows, or try --class-weight balanced.")
    return " ".join(sentences)


#: Names of the methods in a verdict.
METHOD_NAMES = {
    "model": "the network",
    "majority": "the majority class",
    "tfidf_linear": "TF-IDF + linear SVM",
}
#: Below this many test texts a difference of a few points is mostly chance.
SMALL_TEST = 200


def verdict(metrics: dict[str, dict[str, float]], test_rows: int, kept_start: bool = False) -> str:
    """One sentence: which method wins on the test part, by how much, and whether the test
    is large enough to tell; with ``kept_start`` (the wide model's trained weights were no
    better on the validation part than their linear start) it says that the model is the
    linear SVM on n-grams, so a win is not read as the recurrent network's.

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
    # A kept linear start is rnnkit's model but not a recurrent network's work.
    ours = "model" if kept_start else "network"
    if model["accuracy"] >= rival["accuracy"] and model["macro_f1"] >= rival["macro_f1"]:
        sentence = f"The {ours} wins on the test part: {scores}."
    elif model["accuracy"] >= rival["accuracy"] or model["macro_f1"] >= rival["macro_f1"]:
        sentence = f"The {ours} and {name} split the test part: {scores}."
    else:
        sentence = f"{name[0].upper() + name[1:]} beats the {ours} on the test part: {scores}."
    if kept_start:
        sentence += (
            " The recurrent part was no better on the validation part than its start, so the"
            " model is the linear SVM on word and character n-grams."
        )
    if test_rows < SMALL_TEST:
        sentence += (
            f" The test has only {test_rows} texts: a difference of a few points is mostly chance."
        )
    return sentence
