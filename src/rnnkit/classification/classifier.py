"""The second job: a text classifier trained from a CSV of texts and labels."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.classification import baselines, evaluation, saving, streamed, wide_and_deep
from rnnkit.classification.preparation import (
    MIN_CLASS_ROWS,
    DataLike,
    LabelledTexts,
    Texts,
    as_labels,
    as_rows,
    as_texts,
    choose_classes,
    class_weight,
    known_labels,
    label_distribution,
    prepare_texts,
    stratified_split,
    warn_if_unspaced,
)

# Defined with the run directory and the wide part; importable from here as before.
from rnnkit.classification.saving import NGRAM_FILE as NGRAM_FILE
from rnnkit.classification.saving import RUN_FILES as RUN_FILES
from rnnkit.classification.wide_and_deep import TEMPERATURES as TEMPERATURES
from rnnkit.config import ClassifierConfig, with_params
from rnnkit.core import models, persistence, recipe, training
from rnnkit.core import resume as resume_
from rnnkit.core.estimator import EstimatorParams
from rnnkit.core.range_test import RangeTestResult
from rnnkit.data import text as text_prep
from rnnkit.data import text_stream
from rnnkit.data.ngrams import NgramFeatures
from rnnkit.data.text_stream import TRAIN, VALIDATION
from rnnkit.errors import ConfigError, DataError, NotFittedError

METHODS = ("model", "majority", "tfidf_linear")


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
        return prepare_texts(data, self.config, self.cleaner)

    def _known_labels(self, prepared: LabelledTexts) -> tuple[LabelledTexts, np.ndarray]:
        """Rows whose label the model knows, with class ids; unknown ones are counted."""
        return known_labels(prepared, self.classes_, self.config.label_column)

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
        return self._fit(as_rows(data, y, self.config), test_data, run)

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
        prepared = choose_classes(
            self.prepare(data), 2 if test_data is not None else MIN_CLASS_ROWS, c
        )
        self.classes_ = sorted(set(prepared.labels))
        labels = np.asarray(
            pd.Categorical(prepared.labels, categories=self.classes_).codes, dtype="int64"
        )
        train, validation, test, test_summary = self._split(prepared, labels, test_data)

        self.sequence_length_ = c.sequence_length or text_prep.choose_sequence_length(train[0])
        warn_if_unspaced(train[0], c.ngram_features)
        self._learn_inputs(train, validation)
        train_part = (self._encode(train[0]), train[1])
        validation_part = (self._encode(validation[0]), validation[1])
        trained = self._train(
            train_part,
            validation_part,
            sample=train_part,
            fingerprint_arrays=[*_arrays(train_part), *_arrays(validation_part)],
            class_weight=self._class_weight(np.bincount(train[1], minlength=len(self.classes_))),
            **run,
        )
        if not trained:
            return self
        baseline = (train[0] + validation[0], np.concatenate([train[1], validation[1]]))
        self.kept_linear_ = self._keep_linear_if_better(*validation_part)
        self.refit_ = None
        if self.kept_linear_:
            self._refit_kept_start(*baseline)
        else:
            self.refit_ = self._refit_on_all(*baseline)

        self._record_preparation(
            prepared.summary,
            test_summary,
            {
                name: np.bincount(part[1], minlength=len(self.classes_))
                for name, part in (("train", train), ("validation", validation), ("test", test))
            },
            int((text_prep.token_counts(train[0]) > self.sequence_length_).sum()),
        )
        self.evaluation_ = self._score(*test, tfidf=baseline)
        self.metrics_ = self.evaluation_["metrics"]
        return self

    def _split(
        self, prepared: LabelledTexts, labels: np.ndarray, test_data: DataLike | None
    ) -> tuple[_Part, _Part, _Part, dict[str, Any] | None]:
        """The train, validation and test parts as ``(cleaned texts, class ids)``, and the
        summary of ``test_data`` (None: the test part is split off ``prepared``)."""
        c = self.config
        rng = np.random.default_rng(c.training.seed)
        if test_data is None:
            rest, test = stratified_split(labels, c.test_size, rng)
            test_part = ([prepared.cleaned[i] for i in test], labels[test])
            test_summary = None
        else:
            rest = np.arange(len(labels))
            fixed, test_labels = self._known_labels(self.prepare(test_data))
            test_part, test_summary = (fixed.cleaned, test_labels), fixed.summary
        train_pos, val_pos = stratified_split(labels[rest], c.validation_size, rng)
        train, val = rest[train_pos], rest[val_pos]
        return (
            ([prepared.cleaned[i] for i in train], labels[train]),
            ([prepared.cleaned[i] for i in val], labels[val]),
            test_part,
            test_summary,
        )

    def _learn_inputs(self, train: _Part, validation: _Part) -> None:
        """The vocabulary, the majority class and the n-gram part with its linear start,
        learned from the training part (the start's temperature from the validation part)."""
        c = self.config
        # The vocabulary comes from the training part only: validation and test words the
        # model never trained on must look unknown, as they will in production.
        self.tokenizer_ = text_prep.build_tokenizer(
            train[0], c.max_tokens, self.sequence_length_, c.padding, c.truncation
        )
        self.vocabulary_size_ = int(self.tokenizer_.get_vocab_size())
        self.majority_class_ = baselines.majority_class(train[1])
        self.ngrams_ = None
        self._linear_start = None
        if c.ngram_features != "none":
            self.ngrams_ = NgramFeatures(c.ngram_features).fit(train[0])
            self._linear_start = wide_and_deep.fit_linear_start(
                self.ngrams_, len(self.classes_), c, train, validation
            )

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
        self._learn_streamed_inputs(prepared)
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

        prepared.summary["streamed"] = {
            "chunk_rows": c.chunk_rows,
            "shuffle_rows": text_stream.SHUFFLE_ROWS,
            "baseline_sample_rows": len(prepared.sample_texts),
        }
        longer = int(prepared.histogram[self.sequence_length_ + 1 :].sum())
        self._record_preparation(prepared.summary, prepared.test_summary, counts, longer)
        self.evaluation_ = self._score_streamed(prepared, counts)
        self.metrics_ = self.evaluation_["metrics"]
        return self

    def _learn_streamed_inputs(self, prepared: streamed.StreamedData) -> None:
        """The classes, vocabulary and majority class the streamed passes learned."""
        self.classes_ = prepared.classes
        self.sequence_length_ = prepared.sequence_length
        self.tokenizer_ = prepared.tokenizer
        self.vocabulary_size_ = int(prepared.tokenizer.get_vocab_size())
        self.majority_class_ = prepared.majority_class
        # A streamed corpus is never in memory at once: the recurrent network alone.
        self.ngrams_ = None
        self._linear_start = None
        self.kept_linear_ = False
        self.refit_ = None

    def _score_streamed(
        self, prepared: streamed.StreamedData, counts: dict[str, np.ndarray]
    ) -> dict[str, Any]:
        """The test part scored chunk by chunk, TF-IDF fit on the baseline sample."""
        c = self.config
        sampled = len(prepared.sample_texts)
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
        fit_on = evaluation.sampled_fit_on(sampled, train_and_validation)
        return self._evaluation(truth, predicted, fit_on)

    def _class_weight(self, train_counts: np.ndarray) -> dict[int, float] | None:
        return class_weight(train_counts, self.config.class_weight)

    def _keep_linear_if_better(self, x_val: Any, y_val: np.ndarray) -> bool:
        """Goes back to the starting weights when they beat the trained model on the
        validation part (see
        :func:`rnnkit.classification.wide_and_deep.keep_start_if_better`)."""
        start = getattr(self, "_start_weights", None)
        return wide_and_deep.keep_start_if_better(self.model_, start, x_val, y_val)

    def _refit_kept_start(self, texts: list[str], labels: np.ndarray) -> None:
        """The kept start refit on ``texts`` (the train and validation parts), see
        :func:`rnnkit.classification.wide_and_deep.refit_kept_start`."""
        temperature = self._linear_start["temperature"]
        wide_and_deep.refit_kept_start(
            self.model_, self.ngrams_, len(self.classes_), self.config, texts, labels, temperature
        )

    def _refit_on_all(self, texts: list[str], labels: np.ndarray) -> dict[str, Any] | None:
        """With ``refit``: the model trained again from its seed on ``texts`` (the train
        and validation parts) for the epochs early stopping chose, its n-gram table
        starting from a linear SVM refit on them (see ``ClassifierConfig.refit``).
        Returns what was done, or None when it was not (off, or a distributed run)."""
        c = self.config
        if not c.refit or c.training.distribute:
            return None
        epochs = wide_and_deep.best_epoch(self.history_)
        started = time.perf_counter()
        linear = getattr(self, "_linear_start", None)
        previous_start = linear
        if linear is not None:
            table = wide_and_deep.refit_table(
                self.ngrams_, len(self.classes_), c, texts, labels, linear["temperature"]
            )
            self._linear_start = {**linear, "table": table}
        settings = c.training.replace(learning_rate=self.learning_rate_)
        counts = np.bincount(labels, minlength=len(self.classes_))
        members = c.ensemble_size
        training.seed_everything(settings.seed)
        if members == 1:
            model = trained = self._build_model()
            targets = labels
        else:
            # Members drawn one after another from the seed: each its own initial weights.
            built = [self._build_model(name=f"member_{k + 1}") for k in range(members)]
            trained, model = models.text_classifier_ensemble(built)
            targets = np.repeat(labels[:, None], members, axis=1)
        # Compiled as the first training was (its metric too), so the refit's training
        # step is the same program and comes from the compilation cache.
        training.compile_model(
            trained, settings, "sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        logs = training.fit_epochs(
            trained, (self._encode(texts), targets), settings, epochs, self._class_weight(counts)
        )
        seconds = time.perf_counter() - started
        self.training_seconds_ += seconds
        done = {"epochs": epochs, "rows": len(labels), "members": members, "seconds": seconds}
        if logs is None:  # diverged: keep the model early stopping chose
            self._linear_start = previous_start
            return {**done, "used": False}
        self.model_ = model
        return {**done, "used": True}

    def _validation_batch_size(self, validation_part: Any) -> int | None:
        """Every validation text in one batch, so that the validation step compiles for
        one shape instead of two (full batches and the last, partial one), while its
        largest array (the n-gram table's rows of every text, or the recurrent layer's
        outputs) stays under :data:`ONE_BATCH_VALUES` numbers; ``None`` (the training
        batch size) above that, and for a streamed corpus."""
        if not isinstance(validation_part, tuple):
            return None
        rows = len(validation_part[1])
        ngrams = getattr(self, "ngrams_", None)
        per_text = max(
            (ngrams.width + 1) * len(self.classes_) if ngrams is not None else 0,
            self.sequence_length_ * max(self.config.embedding_dim, 2 * self.config.model.units),
        )
        return rows if 0 < rows * per_text <= ONE_BATCH_VALUES else None

    def _build_model(self, name: str | None = None):  # -> keras.Model
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
            name=name,
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
            validation_batch_size=self._validation_batch_size(validation_part),
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
            "ngram_features": wide_and_deep.ngram_summary(
                getattr(self, "ngrams_", None),
                getattr(self, "_linear_start", None),
                getattr(self, "kept_linear_", False),
            ),
            "class_weight": self._class_weight(counts["train"]),
            "refit": getattr(self, "refit_", None),
            "label_distribution": label_distribution(self.classes_, counts),
        }
        self.split_ = {part: int(n.sum()) for part, n in counts.items()}

    def _encode(self, cleaned: list[str]) -> np.ndarray | list[np.ndarray]:
        """The model's input: token ids, and with an n-gram part ``[ids, n-gram ids,
        n-gram weights]``."""
        return wide_and_deep.model_inputs(self.tokenizer_, getattr(self, "ngrams_", None), cleaned)

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
        split = self._split_prediction()
        if split is not None:
            return split(self.tokenizer_, self.ngrams_, cleaned)
        ids = self._encode(cleaned)
        return np.asarray(self.model_.predict(ids, batch_size=256, verbose=0), dtype="float32")

    def _split_prediction(self) -> wide_and_deep.SplitPrediction | None:
        """The model's :class:`~rnnkit.classification.wide_and_deep.SplitPrediction`
        (built once per model), or ``None`` where it does not apply."""
        cached = getattr(self, "_split_cache", None)
        if cached is None or cached[0] is not self.model_:
            split = None
            if getattr(self, "ngrams_", None) is not None:
                split = wide_and_deep.split_prediction(self.model_)
            cached = self._split_cache = (self.model_, split)
        return cached[1]

    def predict_proba(self, texts: Texts) -> np.ndarray:
        """Class probabilities ``(len(texts), len(classes_))``, columns in ``classes_`` order.

        A single string is one text. Texts are cleaned exactly as in training.

        Example:
            >>> clf.predict_proba(["my card was stolen"]).round(2)  # doctest: +SKIP
            array([[0.01, 0.97, 0.02]], dtype=float32)
        """
        self._check_fitted()
        return self._probabilities(self.cleaner.clean_all(as_texts(texts)))

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
        labels = as_labels(y)
        texts = as_texts(X)
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
        predicted, fit_on = evaluation.predictions(
            self._probabilities(cleaned), self.majority_class_, cleaned, tfidf, self.config
        )
        return self._evaluation(labels, predicted, fit_on)

    def _evaluation(
        self, labels: np.ndarray, predicted: dict[str, np.ndarray], tfidf: str | None
    ) -> dict[str, Any]:
        """Metrics of each method's predicted class ids; ``tfidf`` says what TF-IDF was fit
        on (``None``: not fit)."""
        return evaluation.evaluation(labels, predicted, self.classes_, self.majority_class_, tfidf)

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
        saving.write_run(directory, self)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TextClassifier:
        """Loads a run directory written by :meth:`save` or ``rnnkit classify train``."""
        saved = saving.read_run(path)
        self = cls(saved.config)
        self.cleaner = saved.cleaner
        self.tokenizer_ = saved.tokenizer
        self.model_ = saved.model
        self.ngrams_ = saved.ngrams
        self.classes_ = saved.classes
        self.majority_class_ = saved.majority_class
        self.sequence_length_ = saved.sequence_length
        self.vocabulary_size_ = saved.vocabulary_size
        self.preparation_ = saved.preparation
        self.split_ = saved.split
        if saved.metrics is not None:
            self.metrics_ = saved.metrics
        return self


_Part = tuple[list[str], np.ndarray]  # cleaned texts and their class ids

#: The most numbers one array of the validation step may hold for the validation part to
#: be evaluated in one batch (32M float32 numbers: 128 MB).
ONE_BATCH_VALUES = 1 << 25


def _arrays(part: tuple[Any, np.ndarray]) -> list[np.ndarray]:
    """The arrays of an ``(inputs, labels)`` part, inputs being one array or a list."""
    inputs, labels = part
    return [*(inputs if isinstance(inputs, list) else [inputs]), labels]


def find_learning_rate(classifier: TextClassifier, data: DataLike) -> RangeTestResult:
    """Runs the learning-rate range test on ``classifier``'s model and ``data`` (see
    :meth:`TextClassifier.find_learning_rate`).

    Example:
        >>> c = TextClassifier(text_column="text", label_column="label")
        >>> find_learning_rate(c, "complaints.csv").suggestion  # doctest: +SKIP
    """
    return classifier.find_learning_rate(data)
