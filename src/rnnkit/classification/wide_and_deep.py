"""The wide (n-gram) part of the wide-and-deep classifier.

With ``ngram_features`` set, the model reads each text twice: token ids for the recurrent
network (the deep part) and n-gram ids with weights for a linear table (the wide part).
Here: the model's inputs, the table's start (a linear SVM on the n-grams, calibrated by a
temperature on the validation part), going back to that start when training did not beat
it, and the summary a run records.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.config import ClassifierConfig
from rnnkit.core import models
from rnnkit.data import text as text_prep
from rnnkit.data.array_batches import bucket, padded
from rnnkit.data.ngrams import NgramFeatures

#: Temperatures tried on the linear SVM's scores to turn them into probabilities.
TEMPERATURES = (0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 20.0)


def model_inputs(
    tokenizer: Any, ngrams: NgramFeatures | None, cleaned: list[str]
) -> np.ndarray | list[np.ndarray]:
    """The model's input: token ids, and with an n-gram part ``[ids, n-gram ids,
    n-gram weights]``."""
    ids = text_prep.encode(tokenizer, cleaned)
    if ngrams is None:
        return ids
    return [ids, *ngrams.transform(cleaned)]


#: Texts predicted in one compiled call; a batch is padded to a power of two up to it,
#: so that at most nine shapes are ever compiled (as ``serving.inference`` does).
PREDICT_CHUNK = 256


class SplitPrediction:
    """A wide-and-deep model's probabilities with the recurrent part started first.

    The model's two parts are independent until their scores are added: the recurrent
    network reads only the token ids, the n-gram table only the bags. On the JAX backend
    a compiled call returns at once and computes in XLA's threads, so the network is
    started on the token ids and the bags are computed in Python while it runs; then a
    second compiled call adds the table's scores and takes the softmax. Both calls are
    the model's own layers (two ``keras.Model`` views sharing its weights), so the
    probabilities are the model's. On 32 CFPB narratives this takes the time of the
    longer of the two instead of their sum (``benchmarks/text_predict_profile.py``).

    Built by :func:`split_prediction`, which gives ``None`` where it does not apply
    (another backend, an ensemble, a model without n-grams).
    """

    def __init__(self, model: Any) -> None:
        import jax
        import keras

        by_name = {t.name: t for t in model.inputs}
        classes = model.output_shape[-1]
        self.model = model
        self.deep = keras.Model(by_name["tokens"], model.get_layer("recurrent_scores").output)
        ids = keras.Input(shape=by_name["ngram_ids"].shape[1:], dtype="int32", name="ngram_ids")
        weights = keras.Input(
            shape=by_name["ngram_weights"].shape[1:], dtype="float32", name="ngram_weights"
        )
        recurrent = keras.Input(shape=(classes,), name="recurrent_scores")
        rows = model.get_layer("ngram_table")(ids)
        linear = model.get_layer("ngram_scale")(model.get_layer("ngram_scores")([weights, rows]))
        scores = model.get_layer("scores")([linear, recurrent])
        self.wide = keras.Model([ids, weights, recurrent], model.get_layer("probabilities")(scores))
        self._calls = [jax.jit(_stateless(part)) for part in (self.deep, self.wide)]

    def __call__(self, tokenizer: Any, ngrams: NgramFeatures, cleaned: list[str]) -> np.ndarray:
        """Probabilities ``(len(cleaned), classes)`` of cleaned texts, float32."""
        chunks = [
            self._chunk(tokenizer, ngrams, cleaned[start : start + PREDICT_CHUNK])
            for start in range(0, len(cleaned), PREDICT_CHUNK)
        ]
        return np.concatenate(chunks)

    def _chunk(self, tokenizer: Any, ngrams: NgramFeatures, cleaned: list[str]) -> np.ndarray:
        deep, wide = self._calls
        rows = len(cleaned)
        size = bucket(rows)
        recurrent = deep(*_state(self.deep), padded(text_prep.encode(tokenizer, cleaned), size))
        ids, weights = (padded(a, size) for a in ngrams.transform(cleaned))  # while it runs
        outputs = wide(*_state(self.wide), [ids, weights, recurrent])
        return np.asarray(outputs, dtype="float32")[:rows]


def split_prediction(model: Any) -> SplitPrediction | None:
    """A :class:`SplitPrediction` of ``model`` (a ``keras.Model``, or a wrapper holding
    one as ``.model``), or ``None`` where it does not apply."""
    import keras

    if keras.backend.backend() != "jax":
        return None
    model = model if isinstance(model, keras.Model) else getattr(model, "model", None)
    if not isinstance(model, keras.Model):
        return None
    names = {layer.name for layer in model.layers}
    inputs = {t.name for t in model.inputs}
    if not (SPLIT_LAYERS <= names and SPLIT_INPUTS == inputs):  # no n-grams, an ensemble
        return None
    return SplitPrediction(model)


#: The layers and inputs :class:`SplitPrediction` reads (those of
#: :func:`rnnkit.core.models.build_text_classifier` with n-gram features).
SPLIT_LAYERS = {
    "recurrent_scores",
    "ngram_table",
    "ngram_scores",
    "ngram_scale",
    "scores",
    "probabilities",
}
SPLIT_INPUTS = {"tokens", "ngram_ids", "ngram_weights"}


def _stateless(model: Any):
    def call(trainable, non_trainable, inputs):
        return model.stateless_call(trainable, non_trainable, inputs, training=False)[0]

    return call


def _state(model: Any) -> tuple[list, list]:
    """The model's current weights (read at every call: training or ``set_weights``
    replaces them)."""
    return (
        [v.value for v in model.trainable_variables],
        [v.value for v in model.non_trainable_variables],
    )


def linear_svm(
    ngrams: NgramFeatures,
    texts: list[str],
    labels: np.ndarray,
    classes: int,
    config: ClassifierConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """``(coef, intercept)`` of a linear SVM on the texts' n-gram TF-IDF, one row of
    scores per class (a two-class SVM's single score split in two)."""
    from sklearn.svm import LinearSVC

    weight = "balanced" if config.class_weight == "balanced" else None
    svm = LinearSVC(C=1.0, class_weight=weight, random_state=config.training.seed)
    svm.fit(ngrams.matrix(texts), labels)
    coef, intercept = svm.coef_, svm.intercept_
    if classes == 2:
        coef = np.concatenate([-coef / 2, coef / 2])
        intercept = np.concatenate([-intercept / 2, intercept / 2])
    return coef, intercept


def linear_table(
    ngrams: NgramFeatures,
    coef: np.ndarray,
    intercept: np.ndarray,
    temperature: float,
    classes: int,
) -> np.ndarray:
    """The n-gram table whose linear scores are the SVM's times ``temperature``."""
    table = np.zeros((ngrams.input_dim, classes), dtype="float32")
    table[1 : ngrams.n_features + 1] = coef.T * temperature / models.NGRAM_SCALE
    table[ngrams.bias_id] = intercept * temperature / models.NGRAM_SCALE
    return table


def fit_linear_start(
    ngrams: NgramFeatures,
    classes: int,
    config: ClassifierConfig,
    train: tuple[list[str], np.ndarray],
    validation: tuple[list[str], np.ndarray],
) -> dict[str, Any]:
    """The n-gram table's starting rows: a linear SVM fit on the training part
    ``(texts, labels)``, its scores times the temperature that gives the validation part
    the lowest cross-entropy (an SVM's scores are not probabilities)."""
    coef, intercept = linear_svm(ngrams, *train, classes, config)
    val_texts, val_labels = validation
    scores = ngrams.matrix(val_texts) @ coef.T + intercept

    def cross_entropy(temperature: float) -> float:
        z = temperature * scores
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-log_p[np.arange(len(val_labels)), val_labels].mean())

    temperature = min(TEMPERATURES, key=cross_entropy)
    return {
        "table": linear_table(ngrams, coef, intercept, temperature, classes),
        "temperature": temperature,
        "validation_accuracy": float(np.mean(scores.argmax(axis=1) == val_labels)),
    }


def refit_table(
    ngrams: NgramFeatures,
    classes: int,
    config: ClassifierConfig,
    texts: list[str],
    labels: np.ndarray,
    temperature: float,
) -> np.ndarray:
    """The n-gram table of a linear SVM fit on ``texts`` (the train and validation parts
    together, as a linear baseline is), at the temperature already chosen on the
    validation part."""
    coef, intercept = linear_svm(ngrams, texts, labels, classes, config)
    return linear_table(ngrams, coef, intercept, temperature, classes)


def refit_kept_start(
    model: Any,
    ngrams: NgramFeatures,
    classes: int,
    config: ClassifierConfig,
    texts: list[str],
    labels: np.ndarray,
    temperature: float,
) -> None:
    """When the start was kept (the recurrent network did not help on the validation
    part), the model is the linear SVM alone: its table refit on ``texts``
    (:func:`refit_table`)."""
    table = refit_table(ngrams, classes, config, texts, labels, temperature)
    model.get_layer("ngram_table").set_weights([table])


def best_epoch(history: dict[str, list[float]]) -> int:
    """The epoch (from 1) of the lowest validation loss: the weights early stopping kept.

    Example:
        >>> best_epoch({"val_loss": [0.9, 0.7, 0.8, 0.75]})
        2
    """
    losses = np.asarray(history["val_loss"], dtype="float64")
    return int(np.nanargmin(losses)) + 1


def keep_start_if_better(
    model: Any, start_weights: list[np.ndarray] | None, x_val: Any, y_val: np.ndarray
) -> bool:
    """Goes back to the starting weights (the calibrated linear SVM, recurrent scores
    zero) when they have a lower validation loss than the trained model, so the
    network is never worse than its start on held-out texts. Returns whether it did."""
    if start_weights is None or len(y_val) == 0:
        return False
    import keras

    loss = keras.losses.SparseCategoricalCrossentropy()
    trained_weights = model.get_weights()
    trained = float(loss(y_val, model.predict(x_val, batch_size=256, verbose=0)))
    model.set_weights(start_weights)
    started = float(loss(y_val, model.predict(x_val, batch_size=256, verbose=0)))
    if started < trained:
        return True
    model.set_weights(trained_weights)
    return False


def ngram_summary(
    ngrams: NgramFeatures | None, start: dict[str, Any] | None, kept_start: bool
) -> dict[str, Any] | None:
    """What the n-gram (wide) part is and how it started, for the run's records."""
    if ngrams is None:
        return None
    start = start or {}
    return {
        "kinds": ngrams.kinds,
        "features": ngrams.n_features,
        "per_text": ngrams.width,
        "start_temperature": start.get("temperature"),
        "start_validation_accuracy": start.get("validation_accuracy"),
        "kept_start": bool(kept_start),
    }
