"""The second job: a text classifier trained from a CSV of texts and labels."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.classification import baselines, streamed
from rnnkit.classification.metrics import classification_metrics, confusion, per_class_metrics
from rnnkit.classification.preparation import (
    MIN_CLASS_ROWS,
    DataLike,
    LabelledTexts,
    check_classes,
    class_weight,
    no_known_labels_error,
    read_columns,
    source_of,
    stratified_split,
)
from rnnkit.classification.report import write_classification_report
from rnnkit.config import ClassifierConfig, with_params
from rnnkit.core import models, persistence, recipe, run_files
from rnnkit.core import resume as resume_
from rnnkit.core.estimator import EstimatorParams
from rnnkit.core.range_test import RangeTestResult
from rnnkit.core.report import TrainingRecord, write_training_record
from rnnkit.data import text as text_prep
from rnnkit.data import text_stream
from rnnkit.data.ngrams import NgramFeatures
from rnnkit.data.reading import line_numbers
from rnnkit.data.text_stream import TRAIN, VALIDATION
from rnnkit.errors import ConfigError, DataError, NotFittedError, RunDirectoryError

METHODS = ("model", "majority", "tfidf_linear")
RUN_FILES = (
    "model.keras",
    "config.json",
    "preprocessing.json",
    "tokenizer.json",
    "metadata.json",
)
#: Written when the model has an n-gram (wide) part.
NGRAM_FILE = "ngrams.json"
#: Temperatures tried on the linear SVM's scores to turn them into probabilities.
TEMPERATURES = (0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 20.0)

Texts = str | Iterable[str]


def make_config(config: ClassifierConfig | None = None, **params: Any) -> ClassifierConfig:
    """A ClassifierConfig from a base config and flat keyword overrides.

    Keywords may name fields of ``ClassifierConfig``, ``ModelConfig`` or
    ``TrainingConfig`` (``TextClassifier(label_column="category", cell="gru", epochs=5)``).
    """
    return with_params(config or ClassifierConfig(), "classifier", **params)


class TextClassifier(EstimatorParams):
    """Classifies texts with an embedding and a recurrent network, against baselines.

    Texts are cleaned (CFPB masks, digits and symbols removed, lower case), turned into
    word ids with a vocabulary learned on the training part, padded at the start and cut
    at the end to ``sequence_length`` and fed to an Embedding + bidirectional GRU + max
    pooling over time + softmax. The rows are split into stratified train, validation
    (early stopping) and test parts; the test is scored against the majority class and
    TF-IDF + a linear SVM on the same rows. A file larger than memory is read, cleaned
    and encoded in chunks at every epoch instead (``stream``, on its own above 100 MB; see
    :mod:`rnnkit.classification.streamed`).

    Args:
        config: a :class:`~rnnkit.config.ClassifierConfig`; defaults otherwise.
        **params: overrides of any config field by name (``label_column="category"``).

    Example:
        >>> clf = TextClassifier(text_column="text", label_column="category", epochs=5)
        >>> clf.fit("train.csv").metrics_["model"]["accuracy"]  # doctest: +SKIP
        >>> clf.predict(["I lost my card"])  # doctest: +SKIP
        array(['lost_or_stolen_card'], dtype=object)
    """

    _make_config = staticmethod(make_config)
    _estimator_type = "classifier"

    def __init__(self, config: ClassifierConfig | None = None, **params: Any) -> None:
        self.config = make_config(config, **params)
        self._configured()

    def _configured(self) -> None:
        self.cleaner = text_prep.TextCleaner(remove_stopwords=self.config.remove_stopwords)

    # ----------------------------------------------------------------- data
    def prepare(self, data: DataLike) -> LabelledTexts:
        """Reads (if a path) and cleans ``data``; drops rows without a text or a label.

        Rows whose text is empty once cleaned (only digits, symbols or masks) are dropped
        too. Every drop is counted in the returned summary.
        """
        c = self.config
        frame = read_columns(
            data,
            [c.text_column, c.label_column],
            "Set --text-column and --label-column (text_column, label_column) to the "
            "columns of texts and labels",
        )
        no_text = text_stream.is_blank(frame[c.text_column])
        no_label = text_stream.is_blank(frame[c.label_column])
        keep = ~(no_text | no_label)
        if not keep.any():
            raise text_stream.no_usable_rows_error(
                source_of(frame),
                c.text_column,
                c.label_column,
                int(no_text.sum()),
                int(no_label.sum()),
            )
        texts = frame[c.text_column][keep].astype(str).tolist()
        cleaned = self.cleaner.clean_all(texts)
        empty = np.array([not t for t in cleaned])
        if empty.all():
            raise self._all_empty_error(frame, keep)
        labels = frame[c.label_column][keep].astype(str).str.strip().tolist()
        cleaned = [t for t, e in zip(cleaned, empty, strict=True) if not e]
        labels = [label for label, e in zip(labels, empty, strict=True) if not e]
        summary = {
            "source": source_of(frame),
            "rows_read": int(len(frame)),
            "rows_without_text": int(no_text.sum()),
            "rows_without_label": int((no_label & ~no_text).sum()),
            "rows_empty_after_cleaning": int(empty.sum()),
            "rows_used": len(cleaned),
        }
        return LabelledTexts(cleaned, labels, summary)

    def _all_empty_error(self, frame: pd.DataFrame, keep: pd.Series) -> DataError:
        c = self.config
        kept = np.flatnonzero(keep.to_numpy())
        lines = line_numbers(frame, kept[:3].tolist())
        values = frame[c.text_column].iloc[kept[:3]].tolist()
        word = frame.attrs.get("line_word", "line")
        return text_stream.all_empty_error(
            source_of(frame), c.text_column, len(kept), lines, values, word, c.remove_stopwords
        )

    def _choose_classes(self, prepared: LabelledTexts, min_rows: int) -> LabelledTexts:
        """Checks there are two classes or more, each with ``min_rows`` rows (or drops it)."""
        counts = pd.Series(prepared.labels).value_counts()
        c = self.config
        dropped = check_classes(
            counts, prepared.summary["source"], min_rows, c.label_column, c.drop_rare_classes
        )
        if dropped:
            keep = [label not in dropped for label in prepared.labels]
            prepared = LabelledTexts(
                [t for t, k in zip(prepared.cleaned, keep, strict=True) if k],
                [label for label, k in zip(prepared.labels, keep, strict=True) if k],
                {**prepared.summary, "rows_used": int(sum(keep))},
            )
        prepared.summary["dropped_classes"] = dropped
        return prepared

    def _known_labels(self, prepared: LabelledTexts) -> tuple[LabelledTexts, np.ndarray]:
        """Rows whose label the model knows, with class ids; unknown ones are counted."""
        index = {label: i for i, label in enumerate(self.classes_)}
        known = [label in index for label in prepared.labels]
        unknown = pd.Series([lab for lab, k in zip(prepared.labels, known, strict=True) if not k])
        summary = {
            **prepared.summary,
            "rows_with_unknown_label": int(len(unknown)),
            "unknown_labels": {str(k): int(v) for k, v in unknown.value_counts().items()},
            "rows_used": int(sum(known)),
        }
        if not any(known):
            raise no_known_labels_error(
                summary["source"], self.config.label_column, self.classes_, unknown.iloc[0]
            )
        kept = LabelledTexts(
            [t for t, k in zip(prepared.cleaned, known, strict=True) if k],
            [lab for lab, k in zip(prepared.labels, known, strict=True) if k],
            summary,
        )
        return kept, np.array([index[label] for label in kept.labels], dtype="int64")

    # ----------------------------------------------------------------- training
    def fit(
        self,
        data: DataLike | Texts,
        y: Iterable[Any] | None = None,
        *,
        test_data: DataLike | None = None,
        checkpoint_path: str | os.PathLike[str] | None = None,
        callbacks: tuple = (),
        verbose: int | None = None,
        state_path: str | os.PathLike[str] | None = None,
        resume: bool = False,
    ) -> TextClassifier:
        """Trains on ``data`` (a path or a DataFrame) and scores the held-out test part.

        A file larger than memory is read in chunks at every epoch instead (see
        ``ClassifierConfig.stream`` and :mod:`rnnkit.classification.streamed`): the same
        split, vocabulary and sequence length, and the same run directory.

        Args:
            data: rows with a text and a label (a path or a DataFrame), or with ``y``
                the texts alone (a list, array or Series), as scikit-learn's ``fit(X, y)``.
            y: the label of each text in ``data``; leave it out when ``data`` holds rows.
            test_data: a fixed test set (e.g. a dataset's official test split). When given,
                ``data`` is split only into train and validation; test rows whose label
                was not seen in training are counted and left out.
            checkpoint_path: where the best model so far is written during training.
            callbacks: extra Keras callbacks.
            verbose: Keras verbosity (default: a progress bar on a terminal).
            state_path: save the training state here at every epoch end (see
                :mod:`rnnkit.core.resume`), so that an interrupted fit can be resumed.
            resume: continue from the state in ``state_path`` if there is one; a state
                saved with another configuration or other data is refused.

        Returns:
            self, with ``model_``, ``tokenizer_``, ``classes_``, ``sequence_length_``,
            ``history_``, ``metrics_`` and ``evaluation_`` set.
        """
        run = {
            "checkpoint_path": checkpoint_path,
            "callbacks": callbacks,
            "verbose": verbose,
            "state_path": state_path,
            "resume": resume,
        }
        return self._fit(self._as_rows(data, y), test_data, run)

    def _as_rows(self, data: DataLike | Texts, y: Iterable[Any] | None) -> DataLike:
        """``data`` as rows: a path or DataFrame as it is, texts and labels ``y`` as a
        DataFrame of the configured text and label columns."""
        c = self.config
        if y is None:
            if isinstance(data, (pd.DataFrame, str, os.PathLike)):
                return data
            raise DataError(
                f"fit got {type(data).__name__} without labels: pass the labels too, "
                "fit(texts, labels), or a DataFrame or file of rows with "
                f"'{c.text_column}' and '{c.label_column}' columns."
            )
        texts, labels = _as_texts(data), _as_labels(y)
        if len(texts) != len(labels):
            raise DataError(
                f"fit got {len(texts)} texts but {len(labels)} labels: give one label per text."
            )
        frame = pd.DataFrame({c.text_column: texts, c.label_column: labels})
        frame.attrs["source"] = "the texts given to fit"
        return frame

    def find_learning_rate(self, data: DataLike) -> RangeTestResult:
        """Runs the learning-rate range test on this configuration's model and ``data``.

        The data is prepared exactly as ``fit`` prepares it (cleaning, split, vocabulary
        from the training part); the sweep runs on a fresh model and nothing is trained.

        Example:
            >>> c = TextClassifier(text_column="text", label_column="label")
            >>> c.find_learning_rate("complaints.csv").suggestion  # doctest: +SKIP
        """
        config = self.config
        probe = TextClassifier(
            config.replace(training=config.training.replace(learning_rate="auto"))
        )
        run = {
            "checkpoint_path": None,
            "callbacks": (),
            "verbose": 0,
            "state_path": None,
            "resume": False,
        }
        probe._fit(data, None, run, range_test_only=True)
        return probe.learning_rate_range_test_

    def _fit(
        self,
        data: DataLike,
        test_data: DataLike | None,
        run: dict[str, Any],
        range_test_only: bool = False,
    ) -> TextClassifier:
        """``fit``, or with ``range_test_only`` the data prepared as ``fit`` prepares it
        and the range test run on it, nothing trained (:meth:`find_learning_rate`)."""
        run = {**run, "range_test_only": range_test_only}
        if text_stream.should_stream(data, self.config.stream):
            return self._fit_streamed(data, test_data, run)

        c = self.config
        prepared = self._choose_classes(
            self.prepare(data), 2 if test_data is not None else MIN_CLASS_ROWS
        )
        self.classes_ = sorted(set(prepared.labels))
        labels = np.asarray(
            pd.Categorical(prepared.labels, categories=self.classes_).codes, dtype="int64"
        )
        rng = np.random.default_rng(c.training.seed)
        everything = np.arange(len(labels))
        if test_data is None:
            rest, test = stratified_split(labels, c.test_size, rng)
            test_texts = [prepared.cleaned[i] for i in test]
            test_labels = labels[test]
            test_summary = None
        else:
            rest = everything
            fixed, test_labels = self._known_labels(self.prepare(test_data))
            test_texts, test_summary = fixed.cleaned, fixed.summary
        train_pos, val_pos = stratified_split(labels[rest], c.validation_size, rng)
        train, val = rest[train_pos], rest[val_pos]
        train_texts = [prepared.cleaned[i] for i in train]
        val_texts = [prepared.cleaned[i] for i in val]

        self.sequence_length_ = c.sequence_length or text_prep.choose_sequence_length(train_texts)
        self._warn_if_unspaced(train_texts)
        # The vocabulary comes from the training part only: validation and test words the
        # model never trained on must look unknown, as they will in production.
        self.tokenizer_ = text_prep.build_tokenizer(
            train_texts, c.max_tokens, self.sequence_length_, c.padding, c.truncation
        )
        self.vocabulary_size_ = int(self.tokenizer_.get_vocab_size())
        self.majority_class_ = baselines.majority_class(labels[train])
        self.ngrams_ = None
        self._linear_start = None
        if c.ngram_features != "none":
            self.ngrams_ = NgramFeatures(c.ngram_features).fit(train_texts)
            self._linear_start = self._fit_linear_start(
                train_texts, labels[train], val_texts, labels[val]
            )

        train_part = (self._encode(train_texts), labels[train])
        validation_part = (self._encode(val_texts), labels[val])
        trained = self._train(
            train_part,
            validation_part,
            sample=train_part,
            fingerprint_arrays=[*_arrays(train_part), *_arrays(validation_part)],
            class_weight=self._class_weight(
                np.bincount(labels[train], minlength=len(self.classes_))
            ),
            **run,
        )
        if not trained:
            return self
        self.kept_linear_ = self._keep_linear_if_better(*validation_part)
        if self.kept_linear_:
            self._refit_kept_start(
                train_texts + val_texts, np.concatenate([labels[train], labels[val]])
            )

        self._record_preparation(
            prepared.summary,
            test_summary,
            {
                "train": np.bincount(labels[train], minlength=len(self.classes_)),
                "validation": np.bincount(labels[val], minlength=len(self.classes_)),
                "test": np.bincount(test_labels, minlength=len(self.classes_)),
            },
            int((text_prep.token_counts(train_texts) > self.sequence_length_).sum()),
        )
        baseline_texts = train_texts + val_texts
        baseline_labels = np.concatenate([labels[train], labels[val]])
        self.evaluation_ = self._score(
            test_texts, test_labels, tfidf=(baseline_texts, baseline_labels)
        )
        self.metrics_ = self.evaluation_["metrics"]
        return self

    def _fit_streamed(
        self, data: DataLike, test_data: DataLike | None, run: dict[str, Any]
    ) -> TextClassifier:
        """``fit`` on a file read in chunks at every epoch (see
        :mod:`rnnkit.classification.streamed`); ``run`` holds ``fit``'s keywords."""
        c = self.config
        if c.training.distribute:
            raise ConfigError(
                "--distribute does not work with a streamed file yet. Pass --no-stream (the "
                "file is then read into memory) or train on one device."
            )
        prepared = streamed.prepare_streamed(c, self.cleaner, data, test_data)
        self.classes_ = prepared.classes
        self.sequence_length_ = prepared.sequence_length
        self.tokenizer_ = prepared.tokenizer
        self.vocabulary_size_ = int(prepared.tokenizer.get_vocab_size())
        self.majority_class_ = prepared.majority_class
        # A streamed corpus is never in memory at once: the recurrent network alone.
        self.ngrams_ = None
        self._linear_start = None
        self.kept_linear_ = False
        probe_rows = min(prepared.sample_training_rows, streamed.PROBE_ROWS)
        probe = (
            self._encode(prepared.sample_texts[:probe_rows]),
            prepared.sample_labels[:probe_rows],
        )
        counts = prepared.counts(len(self.classes_))
        tokenizer_json = text_prep.tokenizer_to_json(self.tokenizer_).encode("utf-8")
        trained = self._train(
            streamed.training_batches(prepared, c, self.cleaner, TRAIN, text_stream.SHUFFLE_ROWS),
            streamed.training_batches(prepared, c, self.cleaner, VALIDATION),
            sample=probe,
            # The labels and the split of every row, and the vocabulary, identify the data.
            fingerprint_arrays=[
                prepared.row_labels,
                prepared.parts,
                np.frombuffer(tokenizer_json, dtype="uint8"),
            ],
            class_weight=self._class_weight(counts["train"]),
            **run,
        )
        if not trained:
            return self

        sampled = len(prepared.sample_texts)
        prepared.summary["streamed"] = {
            "chunk_rows": c.chunk_rows,
            "shuffle_rows": text_stream.SHUFFLE_ROWS,
            "baseline_sample_rows": sampled,
        }
        longer = int(prepared.histogram[self.sequence_length_ + 1 :].sum())
        self._record_preparation(prepared.summary, prepared.test_summary, counts, longer)

        weight = "balanced" if c.class_weight == "balanced" else None
        predict_tfidf = baselines.fit_tfidf_linear(
            prepared.sample_texts, prepared.sample_labels, class_weight=weight, seed=c.training.seed
        )
        prepared.sample_texts = []  # the vectorizer keeps what it needs
        truth, predicted = streamed.predict_in_chunks(
            streamed.test_chunks(prepared, c, self.cleaner),
            self._probabilities,
            predict_tfidf,
            self.majority_class_,
        )
        train_and_validation = int(counts["train"].sum() + counts["validation"].sum())
        fit_on = (
            "fit on the train and validation parts"
            if sampled == train_and_validation
            else f"fit on a random sample of {sampled} of the {train_and_validation} train and "
            "validation texts (streamed training)"
        )
        self.evaluation_ = self._evaluation(truth, predicted, fit_on)
        self.metrics_ = self.evaluation_["metrics"]
        return self

    def _class_weight(self, train_counts: np.ndarray) -> dict[int, float] | None:
        return class_weight(train_counts, self.config.class_weight)

    def _warn_if_unspaced(self, texts: list[str]) -> None:
        """Warns when most texts are one long word: a language written without spaces
        (Chinese, Japanese, Thai), whose word vocabulary would hold whole texts."""
        if not texts:
            return
        words = float(np.median(text_prep.token_counts(texts)))
        characters = float(np.median([len(t) for t in texts]))
        if words > 1 or characters < 8:
            return
        if self.config.ngram_features in ("char", "word+char"):
            what = (
                "the character n-grams of the linear part read them; the recurrent network "
                "sees one token per text"
            )
        else:
            what = "pass --ngram-features char (ngram_features='char') to read characters"
        warnings.warn(
            f"Most training texts are a single word of {characters:.0f} characters or more "
            f"(median): a language written without spaces? {what}.",
            stacklevel=3,
        )

    def _linear_svm(self, texts: list[str], labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(coef, intercept)`` of a linear SVM on the texts' n-gram TF-IDF, one row of
        scores per class (a two-class SVM's single score split in two)."""
        from sklearn.svm import LinearSVC

        c = self.config
        weight = "balanced" if c.class_weight == "balanced" else None
        svm = LinearSVC(C=1.0, class_weight=weight, random_state=c.training.seed)
        svm.fit(self.ngrams_.matrix(texts), labels)
        coef, intercept = svm.coef_, svm.intercept_
        if len(self.classes_) == 2:
            coef = np.concatenate([-coef / 2, coef / 2])
            intercept = np.concatenate([-intercept / 2, intercept / 2])
        return coef, intercept

    def _linear_table(
        self, coef: np.ndarray, intercept: np.ndarray, temperature: float
    ) -> np.ndarray:
        """The n-gram table whose linear scores are the SVM's times ``temperature``."""
        table = np.zeros((self.ngrams_.input_dim, len(self.classes_)), dtype="float32")
        table[1 : self.ngrams_.n_features + 1] = coef.T * temperature / models.NGRAM_SCALE
        table[self.ngrams_.bias_id] = intercept * temperature / models.NGRAM_SCALE
        return table

    def _fit_linear_start(
        self,
        train_texts: list[str],
        train_labels: np.ndarray,
        val_texts: list[str],
        val_labels: np.ndarray,
    ) -> dict[str, Any]:
        """The n-gram table's starting rows: a linear SVM fit on the training part, its
        scores times the temperature that gives the validation part the lowest
        cross-entropy (an SVM's scores are not probabilities)."""
        coef, intercept = self._linear_svm(train_texts, train_labels)
        scores = self.ngrams_.matrix(val_texts) @ coef.T + intercept

        def cross_entropy(temperature: float) -> float:
            z = temperature * scores
            z = z - z.max(axis=1, keepdims=True)
            log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            return float(-log_p[np.arange(len(val_labels)), val_labels].mean())

        temperature = min(TEMPERATURES, key=cross_entropy)
        return {
            "table": self._linear_table(coef, intercept, temperature),
            "temperature": temperature,
            "validation_accuracy": float(np.mean(scores.argmax(axis=1) == val_labels)),
        }

    def _refit_kept_start(self, texts: list[str], labels: np.ndarray) -> None:
        """When the start was kept (the recurrent network did not help on the validation
        part), the model is the linear SVM alone: refit it on the train and validation
        parts together, as a linear baseline is, with the temperature already chosen."""
        coef, intercept = self._linear_svm(texts, labels)
        table = self._linear_table(coef, intercept, self._linear_start["temperature"])
        self.model_.get_layer("ngram_table").set_weights([table])

    def _keep_linear_if_better(self, x_val: Any, y_val: np.ndarray) -> bool:
        """Goes back to the starting weights (the calibrated linear SVM, recurrent scores
        zero) when they have a lower validation loss than the trained model, so the
        network is never worse than its start on held-out texts. Returns whether it did."""
        start = getattr(self, "_start_weights", None)
        if start is None or len(y_val) == 0:
            return False
        import keras

        loss = keras.losses.SparseCategoricalCrossentropy()
        trained_weights = self.model_.get_weights()
        trained = float(loss(y_val, self.model_.predict(x_val, batch_size=256, verbose=0)))
        self.model_.set_weights(start)
        started = float(loss(y_val, self.model_.predict(x_val, batch_size=256, verbose=0)))
        if started < trained:
            return True
        self.model_.set_weights(trained_weights)
        return False

    def _build_model(self):  # -> keras.Model
        c = self.config
        ngrams = getattr(self, "ngrams_", None)
        model = models.build_text_classifier(
            self.sequence_length_,
            self.vocabulary_size_,
            len(self.classes_),
            c.model,
            embedding_dim=c.embedding_dim,
            spatial_dropout=c.spatial_dropout,
            pooling=c.pooling,
            ngram_features=0 if ngrams is None else ngrams.input_dim,
            ngram_width=0 if ngrams is None else ngrams.width + 1,
        )
        start = getattr(self, "_linear_start", None)
        if start is not None:
            model.get_layer("ngram_table").set_weights([start["table"]])
        return model

    def _train(
        self,
        train_part: Any,
        validation_part: Any,
        *,
        sample: tuple[np.ndarray, np.ndarray],
        fingerprint_arrays: list[np.ndarray],
        class_weight: dict[int, float] | None,
        checkpoint_path: str | os.PathLike[str] | None,
        callbacks: tuple,
        verbose: int | None,
        state_path: str | os.PathLike[str] | None,
        resume: bool,
        range_test_only: bool,
    ) -> bool:
        """Builds, compiles and trains ``model_``; False when only the range test ran.

        The parts are ``(ids, labels)`` arrays or datasets (streamed); the range test and
        the gradient probe draw their batches from ``sample``; ``fingerprint_arrays``
        identify the data of a resumable run.
        """
        c = self.config

        def keep_start(model) -> None:
            linear = getattr(self, "_linear_start", None)
            self._start_weights = model.get_weights() if linear else None

        run = recipe.train(
            self._build_model,
            train_part,
            validation_part,
            c.training,
            loss="sparse_categorical_crossentropy",
            sample=sample,
            default_learning_rate=float(ClassifierConfig().training.learning_rate),
            # The configured rate ("auto" too) identifies a classifier's run, not the one
            # the range test chose: states saved before keep resuming.
            fingerprint=lambda _rate: resume_.fingerprint(
                "classify", c.to_dict(), c.training.learning_rate, fingerprint_arrays
            ),
            metrics=["accuracy"],
            class_weight=class_weight,
            built=keep_start,
            checkpoint_path=checkpoint_path,
            callbacks=callbacks,
            verbose=verbose,
            state_path=state_path,
            resume=resume,
            range_test_only=range_test_only,
        )
        self.learning_rate_range_test_ = run.range_test
        if run.model is None:
            return False
        self.learning_rate_ = run.learning_rate
        self.model_, self.history_ = run.model, run.history
        self.training_seconds_ = run.seconds
        self.gradient_health_ = run.gradient_health
        self.stopped_on_nan_ = run.stopped_on_nan
        return True

    def _record_preparation(
        self,
        summary: dict[str, Any],
        test_summary: dict[str, Any] | None,
        counts: dict[str, np.ndarray],
        longer: int,
    ) -> None:
        """Sets ``preparation_`` and ``split_`` from rows per class in each part."""
        c = self.config
        self.preparation_ = {
            **summary,
            "test_source": "split" if test_summary is None else "test_data",
            "test_data": test_summary,
            "sequence_length": self.sequence_length_,
            "sequence_length_chosen": c.sequence_length is None,
            "texts_longer_than_sequence_length": longer,
            "vocabulary_size": self.vocabulary_size_,
            "ngram_features": self._ngram_summary(),
            "class_weight": self._class_weight(counts["train"]),
            "label_distribution": [
                {"label": name, **{part: int(n[i]) for part, n in counts.items()}}
                for i, name in enumerate(self.classes_)
            ],
        }
        self.split_ = {part: int(n.sum()) for part, n in counts.items()}

    def _ngram_summary(self) -> dict[str, Any] | None:
        """What the n-gram (wide) part is and how it started, for the run's records."""
        if getattr(self, "ngrams_", None) is None:
            return None
        start = getattr(self, "_linear_start", None) or {}
        return {
            "kinds": self.ngrams_.kinds,
            "features": self.ngrams_.n_features,
            "per_text": self.ngrams_.width,
            "start_temperature": start.get("temperature"),
            "start_validation_accuracy": start.get("validation_accuracy"),
            "kept_start": bool(getattr(self, "kept_linear_", False)),
        }

    def _encode(self, cleaned: list[str]) -> np.ndarray | list[np.ndarray]:
        """The model's input: token ids, and with an n-gram part ``[ids, n-gram ids,
        n-gram weights]``."""
        ids = text_prep.encode(self.tokenizer_, cleaned)
        if getattr(self, "ngrams_", None) is None:
            return ids
        return [ids, *self.ngrams_.transform(cleaned)]

    # ----------------------------------------------------------------- prediction
    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError(
                "This TextClassifier is not trained yet: call fit(data) or "
                "TextClassifier.load(run_dir) first."
            )

    def _probabilities(self, cleaned: list[str]) -> np.ndarray:
        if not cleaned:
            return np.zeros((0, len(self.classes_)), dtype="float32")
        ids = self._encode(cleaned)
        return np.asarray(self.model_.predict(ids, batch_size=256, verbose=0), dtype="float32")

    def predict_proba(self, texts: Texts) -> np.ndarray:
        """Class probabilities ``(len(texts), len(classes_))``, columns in ``classes_`` order.

        A single string is one text. Texts are cleaned exactly as in training.

        Example:
            >>> clf.predict_proba(["my card was stolen"]).round(2)  # doctest: +SKIP
            array([[0.01, 0.97, 0.02]], dtype=float32)
        """
        self._check_fitted()
        return self._probabilities(self.cleaner.clean_all(_as_texts(texts)))

    def predict(self, texts: Texts) -> np.ndarray:
        """The most probable label of each text, as an array of label names."""
        probabilities = self.predict_proba(texts)
        return np.array(self.classes_, dtype=object)[probabilities.argmax(axis=1)]

    def predict_top_k(self, texts: Texts, k: int = 1) -> list[list[tuple[str, float]]]:
        """The ``k`` most probable ``(label, probability)`` pairs of each text, best first."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ConfigError(f"top_k must be an integer >= 1, got {k!r}.")
        probabilities = self.predict_proba(texts)
        k = min(k, len(self.classes_))
        order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
        return [
            [(self.classes_[j], float(row[j])) for j in best]
            for row, best in zip(probabilities, order, strict=True)
        ]

    # ----------------------------------------------------------------- evaluation
    def score(self, X: Texts, y: Iterable[Any]) -> float:
        """The accuracy of :meth:`predict` on texts ``X`` with true labels ``y``
        (scikit-learn's classifier convention, so ``GridSearchCV`` can rank models).

        Example:
            >>> clf.score(["my card was stolen"], ["card"])  # doctest: +SKIP
            1.0
        """
        labels = _as_labels(y)
        texts = _as_texts(X)
        if len(texts) != len(labels) or not labels:
            raise DataError(
                f"score got {len(texts)} texts and {len(labels)} labels: give one label per "
                "text, and at least one."
            )
        return float(np.mean(self.predict(texts) == np.array(labels, dtype=object)))

    def evaluate(self, data: DataLike | None = None) -> dict[str, dict[str, float]]:
        """Accuracy, macro-F1 and weighted-F1 of the model and the baselines.

        Args:
            data: labelled rows (path or DataFrame) to score on. Rows whose label the
                model does not know are counted (``last_evaluation_["details"]``) and left
                out. By default: the test part held out by ``fit``.

        Returns:
            ``{"model": {...}, "majority": {...}}`` on new data (the majority class of the
            training part); after ``fit``, also ``"tfidf_linear"``. TF-IDF is not refit on
            new data: that needs the training texts, which a run does not keep.
        """
        self._check_fitted()
        if data is None:
            if not hasattr(self, "evaluation_"):
                raise NotFittedError("No test part kept after load: pass data to evaluate.")
            return self.evaluation_["metrics"]
        prepared, labels = self._known_labels(self.prepare(data))
        self.last_evaluation_ = self._score(prepared.cleaned, labels)
        self.last_evaluation_["details"]["data"] = prepared.summary
        return self.last_evaluation_["metrics"]

    def _score(
        self,
        cleaned: list[str],
        labels: np.ndarray,
        tfidf: tuple[list[str], np.ndarray] | None = None,
    ) -> dict[str, Any]:
        probabilities = self._probabilities(cleaned)
        predicted = {
            "model": probabilities.argmax(axis=1),
            "majority": np.full(len(labels), self.majority_class_),
        }
        detail = None
        if tfidf is not None:
            weight = "balanced" if self.config.class_weight == "balanced" else None
            predicted["tfidf_linear"] = baselines.tfidf_linear(
                tfidf[0], tfidf[1], cleaned, class_weight=weight, seed=self.config.training.seed
            )
            detail = "fit on the train and validation parts"
        return self._evaluation(labels, predicted, detail)

    def _evaluation(
        self, labels: np.ndarray, predicted: dict[str, np.ndarray], tfidf: str | None
    ) -> dict[str, Any]:
        """Metrics of each method's predicted class ids; ``tfidf`` says what TF-IDF was fit
        on (``None``: not fit)."""
        return {
            "metrics": {m: classification_metrics(labels, p) for m, p in predicted.items()},
            "per_class": per_class_metrics(labels, predicted["model"], self.classes_),
            "confusion": confusion(labels, predicted["model"], len(self.classes_)),
            "details": {
                "rows": int(len(labels)),
                "majority_class": self.classes_[self.majority_class_],
                "tfidf_linear": "TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True) + "
                f"LinearSVC(C=1), {tfidf}"
                if tfidf is not None
                else "not refit: needs the training texts",
            },
        }

    # ----------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
        """Writes the run directory (complete or not at all) and returns its path.

        Example:
            >>> clf.save("runs/complaints")  # doctest: +SKIP
            >>> TextClassifier.load("runs/complaints").predict(["..."])  # doctest: +SKIP
        """
        self._check_fitted()
        with persistence.staged_directory(path, overwrite) as staging:
            self.write_run(staging)
        return Path(path)

    def write_run(self, directory: Path) -> None:
        """Writes every run file into an existing (staging) directory."""
        self.model_.save(directory / "model.keras")
        persistence.write_json(directory / "config.json", self.config.to_dict())
        persistence.write_json(
            directory / "preprocessing.json",
            {
                "cleaning": self.cleaner.to_dict(),
                "sequence_length": self.sequence_length_,
                "padding": self.config.padding,
                "truncation": self.config.truncation,
                "vocabulary_size": self.vocabulary_size_,
                "classes": list(self.classes_),
                "majority_class": self.classes_[self.majority_class_],
                "data": getattr(self, "preparation_", None),
                "split": getattr(self, "split_", None),
            },
        )
        (directory / "tokenizer.json").write_text(
            text_prep.tokenizer_to_json(self.tokenizer_), encoding="utf-8"
        )
        if getattr(self, "ngrams_", None) is not None:
            persistence.write_json(directory / NGRAM_FILE, self.ngrams_.to_dict())
        persistence.write_json(directory / "metadata.json", persistence.metadata("classify"))
        if hasattr(self, "evaluation_"):
            evaluation = self.evaluation_
            persistence.write_json(directory / "metrics.json", evaluation["metrics"])
            persistence.write_json(
                directory / "evaluation.json",
                {
                    **evaluation["details"],
                    "confusion_matrix": evaluation["confusion"].tolist(),
                    "training_seconds": getattr(self, "training_seconds_", None),
                },
            )
            evaluation["per_class"].to_csv(directory / "per_class.csv", index=False)
        record = TrainingRecord(
            history=getattr(self, "history_", None),
            seconds=getattr(self, "training_seconds_", float("nan")),
            stopped_on_nan=getattr(self, "stopped_on_nan_", False),
            gradient_health=getattr(self, "gradient_health_", None),
            range_test=getattr(self, "learning_rate_range_test_", None),
            loss_name="cross-entropy",
        )
        write_training_record(directory, record)
        if hasattr(self, "evaluation_"):
            write_classification_report(
                directory,
                self.config,
                classes=self.classes_,
                preparation=self.preparation_,
                split=self.split_,
                evaluation=self.evaluation_,
                training=record,
                settings_used=self._settings_used(),
            )

    def _settings_used(self) -> dict[str, Any]:
        """The values this fit used for the automatic settings and the shares of the
        split, by the configuration table's keys (see
        :func:`~rnnkit.core.report.config_html`)."""
        c, prep = self.config, self.preparation_
        used = {
            "sequence_length": self.sequence_length_,
            "test_size": f"{self.split_['test']} texts",
            "validation_size": f"{self.split_['validation']} texts",
            "stream": "streamed" in prep,
            "training.loss": "sparse categorical cross-entropy",
            "training.learning_rate": getattr(self, "learning_rate_", c.training.learning_rate),
        }
        if prep.get("test_data"):
            used["test_size"] = f"{self.split_['test']} texts of '{prep['test_data']['source']}'"
        if c.ngram_features != "none" and not prep.get("ngram_features"):
            used["ngram_features"] = "none"
        return used

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TextClassifier:
        """Loads a run directory written by :meth:`save` or ``rnnkit classify train``."""
        run = persistence.open_run(path, "classify", RUN_FILES)
        config = run_files.read_run_config(run, ClassifierConfig.from_dict)
        pre = run_files.read_run_file(run, "preprocessing.json", run_files.ClassifierPreprocessing)
        self = cls(config)
        self.cleaner = text_prep.TextCleaner.from_dict(pre["cleaning"])
        try:
            self.tokenizer_ = text_prep.tokenizer_from_json(
                (run / "tokenizer.json").read_text(encoding="utf-8")
            )
        except Exception as err:  # the tokenizers library raises its own exception types
            raise RunDirectoryError(
                f"'{run / 'tokenizer.json'}' could not be read ({type(err).__name__}: {err}). "
                "Train again to recreate it."
            ) from err
        self.model_ = persistence.load_keras_model(run / "model.keras")
        self.ngrams_ = None
        if (run / NGRAM_FILE).exists():
            try:
                self.ngrams_ = NgramFeatures.from_dict(persistence.read_json(run / NGRAM_FILE))
            except (KeyError, TypeError, ValueError, AttributeError) as err:
                raise RunDirectoryError(
                    f"'{run / NGRAM_FILE}' could not be read ({type(err).__name__}: {err}). "
                    "Train again to recreate it."
                ) from err
        expected_inputs = 1 if self.ngrams_ is None else 3
        if len(self.model_.inputs) != expected_inputs:
            raise RunDirectoryError(
                f"'{run / 'model.keras'}' takes {len(self.model_.inputs)} inputs but the run "
                f"{'has' if self.ngrams_ else 'has no'} {NGRAM_FILE}: the files come from "
                "different runs. Train again."
            )
        self.classes_ = list(pre["classes"])
        self.majority_class_ = self.classes_.index(pre["majority_class"])
        self.sequence_length_ = pre["sequence_length"]
        self.vocabulary_size_ = pre["vocabulary_size"]
        _check_run_agrees(run, self.model_, self.tokenizer_, pre)
        self.preparation_ = pre.get("data")
        self.split_ = pre.get("split")
        if (run / "metrics.json").exists():
            self.metrics_ = run_files.read_run_json(run, "metrics.json")
        return self


def _arrays(part: tuple[Any, np.ndarray]) -> list[np.ndarray]:
    """The arrays of an ``(inputs, labels)`` part, inputs being one array or a list."""
    inputs, labels = part
    return [*(inputs if isinstance(inputs, list) else [inputs]), labels]


def _check_run_agrees(run: Path, model: Any, tokenizer: Any, pre: dict[str, Any]) -> None:
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
    tokens = tokenizer.get_vocab_size()
    rows = [layer.input_dim for layer in model.layers if layer.name == "embedding"]
    if rows and tokens > rows[0]:
        raise run_files.damaged(
            run,
            f"tokenizer.json has {tokens} tokens but model.keras embeds only {rows[0]}",
        )


def _as_texts(texts: Texts) -> list[str]:
    """A list of texts; one string is one text (not a sequence of characters)."""
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, pd.DataFrame):
        raise DataError("Give a list or Series of texts, not a DataFrame (pick its column).")
    return ["" if _missing(t) else str(t) for t in texts]


def _as_labels(labels: Iterable[Any]) -> list[str]:
    """Labels as the classifier keeps them: text, without surrounding spaces."""
    if isinstance(labels, str):
        raise DataError("Give one label per text (a list, array or Series), not one string.")
    return ["" if _missing(label) else str(label).strip() for label in labels]


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def find_learning_rate(classifier: TextClassifier, data: DataLike) -> RangeTestResult:
    """Runs the learning-rate range test on ``classifier``'s model and ``data`` (see
    :meth:`TextClassifier.find_learning_rate`).

    Example:
        >>> c = TextClassifier(text_column="text", label_column="label")
        >>> find_learning_rate(c, "complaints.csv").suggestion  # doctest: +SKIP
    """
    return classifier.find_learning_rate(data)
