"""The n-gram (wide) features and the part of the text classifier that reads them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnkit.config import ModelConfig
from rnnkit.data.ngrams import NgramFeatures

TEXTS = [
    "my card was lost",
    "lost my card yesterday",
    "where is my money",
    "money transfer failed",
    "card declined at the shop",
    "the transfer is pending",
] * 2


def test_bags_hold_a_unit_tfidf_vector_and_the_bias():
    features = NgramFeatures("word+char").fit(TEXTS)
    ids, weights = features.transform(["my card was declined", "zzzz"])
    matrix = features.matrix(["my card was declined"]).toarray()[0]
    # The bag of the first text is its whole TF-IDF vector (it fits in the width).
    dense = np.zeros(features.n_features)
    dense[ids[0, :-1][ids[0, :-1] > 0] - 1] = weights[0, :-1][ids[0, :-1] > 0]
    np.testing.assert_allclose(dense, matrix, rtol=1e-6)
    assert np.isclose((weights[0, :-1] ** 2).sum(), 1.0, atol=1e-5)
    # An unknown text has only the bias.
    assert (ids[1, :-1] == 0).all() and (weights[1, :-1] == 0).all()
    assert ids[0, -1] == ids[1, -1] == features.bias_id and weights[0, -1] == 1.0


def test_a_text_wider_than_the_bag_keeps_its_heaviest_features():
    features = NgramFeatures("char").fit(TEXTS)
    features.width = 5
    ids, weights = features.transform(["lost card transfer money"])
    full = features.matrix(["lost card transfer money"]).toarray()[0]
    heaviest = np.sort(full)[-5:]
    np.testing.assert_allclose(np.sort(weights[0, :-1]), heaviest, rtol=1e-6)


def test_features_round_trip_through_json_to_the_same_bags():
    features = NgramFeatures("word+char").fit(TEXTS)
    loaded = NgramFeatures.from_dict(json.loads(json.dumps(features.to_dict())))
    for a, b in zip(features.transform(TEXTS), loaded.transform(TEXTS), strict=True):
        np.testing.assert_array_equal(a, b)


def test_damaged_features_are_refused():
    saved = NgramFeatures("word").fit(TEXTS).to_dict()
    saved["vocabularies"][0]["idf"] = saved["vocabularies"][0]["idf"][:-1]
    with pytest.raises(ValueError, match="do not match"):
        NgramFeatures.from_dict(saved)
    with pytest.raises(ValueError, match="kinds"):
        NgramFeatures("words")


def test_the_wide_part_is_the_sparse_linear_model():
    """Bags through the Embedding and the Dot give the TF-IDF matrix times the table."""
    from rnnkit.core import models

    features = NgramFeatures("word+char").fit(TEXTS)
    model = models.build_text_classifier(
        4,
        20,
        3,
        ModelConfig(num_layers=1, units=4),
        embedding_dim=4,
        ngram_features=features.input_dim,
        ngram_width=features.width + 1,
    )
    rng = np.random.default_rng(0)
    table = rng.normal(size=(features.input_dim, 3)).astype("float32")
    model.get_layer("ngram_table").set_weights([table])
    ids, weights = features.transform(TEXTS)
    tokens = np.ones((len(TEXTS), 4), dtype="int32")
    probabilities = model.predict([tokens, ids, weights], verbose=0)
    # The recurrent scores start at zero: the output is the linear model's alone.
    scores = features.matrix(TEXTS) @ table[1 : features.n_features + 1] + table[features.bias_id]
    expected = np.exp(models.NGRAM_SCALE * scores)
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probabilities, expected, rtol=1e-4, atol=1e-6)


def test_character_ngrams_word_by_word_are_scikit_learns():
    """The word-by-word path gives the matrix scikit-learn's own ``transform`` gives:
    short words (shorter than an n-gram), repeated letters, capitals, runs of spaces,
    tabs, unknown n-grams and an empty text."""
    texts = [
        *TEXTS,
        "a I ox aaaa aaaaaaa card card   card",
        "Tab\tseparated  AND Capitals",
        "",
        "qqqq zzzz",
        "éclair naïve café",
    ]
    features = NgramFeatures("char").fit(texts * 2)
    vectorizer = features._vectorizers[0]
    assert features.matrix([]).shape == (0, features.n_features)
    for batch in (texts, texts[::-1], ["card"]):
        ours = features.matrix(batch).toarray()
        theirs = vectorizer.transform(batch).toarray()
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)
    assert features._word_ngrams.words  # the words seen were kept


def test_words_and_word_pairs_are_scikit_learns():
    """The dictionary path gives the matrix scikit-learn's own ``transform`` gives: one-
    word and empty texts, repeated words and pairs, capitals, tabs and runs of spaces,
    unknown words beside known ones."""
    texts = [
        *TEXTS,
        "card",
        "",
        "card card card lost lost",
        "My  CARD\twas Lost",
        "unknownword my card unknownword",
    ]
    features = NgramFeatures("word").fit(texts * 2)
    vectorizer = features._vectorizers[0]
    for batch in (texts, texts[::-1], ["my card"], []):
        ours = features.matrix(batch).toarray()
        theirs = vectorizer.transform(batch).toarray() if batch else ours
        assert ours.shape == (len(batch), features.n_features)
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)
    assert features._word_pairs.vectorizer is vectorizer
