"""A text classification run directory: the files :meth:`TextClassifier.save` writes and
:meth:`TextClassifier.load` reads back, checked to come from one run."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from rnnkit.classification.report import write_classification_report
from rnnkit.config import ClassifierConfig
from rnnkit.core import persistence, run_files
from rnnkit.core.report import TrainingRecord, write_training_record
from rnnkit.data import text as text_prep
from rnnkit.data.ngrams import NgramFeatures
from rnnkit.errors import RunDirectoryError

RUN_FILES = (
    "model.keras",
    "config.json",
    "preprocessing.json",
    "tokenizer.json",
    "metadata.json",
)
#: Written when the model has an n-gram (wide) part.
NGRAM_FILE = "ngrams.json"


def write_run(directory: Path, classifier: Any) -> None:
    """Writes every run file of a fitted ``classifier`` (a
    :class:`~rnnkit.classification.TextClassifier`, read through its public attributes)
    into an existing (staging) directory."""
    clf = classifier
    clf.model_.save(directory / "model.keras")
    persistence.write_json(directory / "config.json", clf.config.to_dict())
    persistence.write_json(
        directory / "preprocessing.json",
        {
            "cleaning": clf.cleaner.to_dict(),
            "sequence_length": clf.sequence_length_,
            "padding": clf.config.padding,
            "truncation": clf.config.truncation,
            "vocabulary_size": clf.vocabulary_size_,
            "classes": list(clf.classes_),
            "majority_class": clf.classes_[clf.majority_class_],
            "data": getattr(clf, "preparation_", None),
            "split": getattr(clf, "split_", None),
        },
    )
    (directory / "tokenizer.json").write_text(
        text_prep.tokenizer_to_json(clf.tokenizer_), encoding="utf-8"
    )
    if getattr(clf, "ngrams_", None) is not None:
        persistence.write_json(directory / NGRAM_FILE, clf.ngrams_.to_dict())
    persistence.write_json(directory / "metadata.json", persistence.metadata("classify"))
    if hasattr(clf, "evaluation_"):
        _write_evaluation(directory, clf.evaluation_, getattr(clf, "training_seconds_", None))
    record = TrainingRecord(
        history=getattr(clf, "history_", None),
        seconds=getattr(clf, "training_seconds_", float("nan")),
        stopped_on_nan=getattr(clf, "stopped_on_nan_", False),
        gradient_health=getattr(clf, "gradient_health_", None),
        range_test=getattr(clf, "learning_rate_range_test_", None),
        loss_name="cross-entropy",
    )
    write_training_record(directory, record)
    if hasattr(clf, "evaluation_"):
        write_classification_report(
            directory,
            clf.config,
            classes=clf.classes_,
            preparation=clf.preparation_,
            split=clf.split_,
            evaluation=clf.evaluation_,
            training=record,
            settings_used=settings_used(clf),
        )


def _write_evaluation(
    directory: Path, evaluation: dict[str, Any], training_seconds: float | None
) -> None:
    """``metrics.json``, ``evaluation.json`` and ``per_class.csv`` of the test part."""
    persistence.write_json(directory / "metrics.json", evaluation["metrics"])
    persistence.write_json(
        directory / "evaluation.json",
        {
            **evaluation["details"],
            "confusion_matrix": evaluation["confusion"].tolist(),
            "training_seconds": training_seconds,
        },
    )
    evaluation["per_class"].to_csv(directory / "per_class.csv", index=False)


def settings_used(classifier: Any) -> dict[str, Any]:
    """The values a fit used for the automatic settings and the shares of the split, by
    the configuration table's keys (see :func:`~rnnkit.core.report.config_html`)."""
    clf = classifier
    c, prep = clf.config, clf.preparation_
    used = {
        "sequence_length": clf.sequence_length_,
        "test_size": f"{clf.split_['test']} texts",
        "validation_size": f"{clf.split_['validation']} texts",
        "stream": "streamed" in prep,
        "training.loss": "sparse categorical cross-entropy",
        "training.learning_rate": getattr(clf, "learning_rate_", c.training.learning_rate),
    }
    if prep.get("test_data"):
        used["test_size"] = f"{clf.split_['test']} texts of '{prep['test_data']['source']}'"
    if c.ngram_features != "none" and not prep.get("ngram_features"):
        used["ngram_features"] = "none"
    return used


@dataclasses.dataclass
class SavedRun:
    """What a run directory holds, checked: the fitted state of a TextClassifier."""

    config: ClassifierConfig
    cleaner: text_prep.TextCleaner
    tokenizer: Any
    model: Any  # keras.Model
    ngrams: NgramFeatures | None
    classes: list[str]
    majority_class: int
    sequence_length: int
    vocabulary_size: int
    preparation: dict[str, Any] | None
    split: dict[str, int] | None
    metrics: dict[str, Any] | None


def read_run(path: str | os.PathLike[str]) -> SavedRun:
    """Reads and checks a run directory written by :func:`write_run`.

    Raises:
        RunDirectoryError: a file is missing, damaged, or from another run.
    """
    run = persistence.open_run(path, "classify", RUN_FILES)
    config = run_files.read_run_config(run, ClassifierConfig.from_dict)
    pre = run_files.read_run_file(run, "preprocessing.json", run_files.ClassifierPreprocessing)
    cleaner = text_prep.TextCleaner.from_dict(pre["cleaning"])
    tokenizer = _read_tokenizer(run)
    model = persistence.load_keras_model(run / "model.keras")
    ngrams = _read_ngrams(run)
    expected_inputs = 1 if ngrams is None else 3
    if len(model.inputs) != expected_inputs:
        raise RunDirectoryError(
            f"'{run / 'model.keras'}' takes {len(model.inputs)} inputs but the run "
            f"{'has' if ngrams else 'has no'} {NGRAM_FILE}: the files come from "
            "different runs. Train again."
        )
    classes = list(pre["classes"])
    majority_class = classes.index(pre["majority_class"])
    check_run_agrees(run, model, tokenizer, pre)
    metrics = None
    if (run / "metrics.json").exists():
        metrics = run_files.read_run_json(run, "metrics.json")
    return SavedRun(
        config=config,
        cleaner=cleaner,
        tokenizer=tokenizer,
        model=model,
        ngrams=ngrams,
        classes=classes,
        majority_class=majority_class,
        sequence_length=pre["sequence_length"],
        vocabulary_size=pre["vocabulary_size"],
        preparation=pre.get("data"),
        split=pre.get("split"),
        metrics=metrics,
    )


def _read_tokenizer(run: Path) -> Any:
    try:
        return text_prep.tokenizer_from_json((run / "tokenizer.json").read_text(encoding="utf-8"))
    except Exception as err:  # the tokenizers library raises its own exception types
        raise RunDirectoryError(
            f"'{run / 'tokenizer.json'}' could not be read ({type(err).__name__}: {err}). "
            "Train again to recreate it."
        ) from err


def _read_ngrams(run: Path) -> NgramFeatures | None:
    """The n-gram features of a run with a wide part; None without one."""
    if not (run / NGRAM_FILE).exists():
        return None
    try:
        return NgramFeatures.from_dict(persistence.read_json(run / NGRAM_FILE))
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise RunDirectoryError(
            f"'{run / NGRAM_FILE}' could not be read ({type(err).__name__}: {err}). "
            "Train again to recreate it."
        ) from err


def check_run_agrees(run: Path, model: Any, tokenizer: Any, pre: dict[str, Any]) -> None:
    """Refuses a run whose model, tokenizer and ``preprocessing.json`` disagree: a
    ``classes`` list shorter than the model's outputs would name the wrong labels."""
    length = pre["sequence_length"]
    run_files.check_model_shape(
        run,
        model,
        (length, "the sequence_length in preprocessing.json"),
        (len(pre["classes"]), "the number of classes in preprocessing.json"),
    )
    padding = (tokenizer.padding or {}).get("length")
    truncation = (tokenizer.truncation or {}).get("max_length")
    if padding != length or truncation != length:
        raise run_files.damaged(
            run,
            f"tokenizer.json pads to {padding} and truncates to {truncation} tokens but "
            f"preprocessing.json's sequence_length is {length}",
        )
    unknown = getattr(tokenizer.model, "unk_token", None)
    if unknown and tokenizer.model.token_to_id(unknown) is None:
        # Every word outside the vocabulary becomes this token: without it, encoding fails.
        raise run_files.damaged(
            run, f"tokenizer.json's vocabulary lacks its unknown token {unknown!r}"
        )
    tokens = tokenizer.get_vocab_size()
    rows = [layer.input_dim for layer in model.layers if layer.name == "embedding"]
    if rows and tokens > rows[0]:
        raise run_files.damaged(
            run,
            f"tokenizer.json has {tokens} tokens but model.keras embeds only {rows[0]}",
        )
