"""Word and character n-gram TF-IDF features, the text classifier's linear ("wide") input.

A TF-IDF vector of a text has a few hundred to a few thousand non-zero entries out of
tens of thousands. The classifier reads it as two fixed-width arrays, the ids of the
non-zero entries and their weights (a "bag"), which an ``Embedding`` of one row per
feature turns into exactly the product of the sparse vector with a weight matrix: a
linear model inside the Keras model, with fixed shapes (no recompilation) and no sparse
tensor support needed from the backend.

The features are the strong classic baseline's, plus character n-grams, which catch
typos and word forms in short queries:

- words and word pairs, sublinear tf, on the cleaned text (scikit-learn's
  ``TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)``), pairs seen in two texts
  or more;
- character 2- to 5-grams inside word boundaries (``analyzer="char_wb"``), seen in two
  texts or more.

Each kind is L2-normalised and scaled by ``1/sqrt(kinds)``, so a text's whole vector has
length 1. The last slot of every bag is a constant feature of weight 1: the linear
model's bias. A text with more non-zero features than the bag is wide keeps its
heaviest ones; the width is the 99th percentile of the training texts' counts, at most
``MAX_WIDTH``. Vocabularies and idf weights are saved as JSON (no pickle) and give the
same bags after loading.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

KINDS = ("none", "word", "char", "word+char")
MAX_WIDTH = 4096
#: Digits kept of every idf weight, so that the JSON is small and the features computed
#: at training time are the ones a loaded run computes.
IDF_DIGITS = 5


def _vectorizer(kind: str, vocabulary: dict[str, int] | None = None):
    from sklearn.feature_extraction.text import TfidfVectorizer

    common = dict(sublinear_tf=True, dtype=np.float32, vocabulary=vocabulary)
    if kind == "word":
        # The texts come cleaned (lower case, no digits or symbols); the token pattern
        # keeps one-letter words, as the recurrent network's vocabulary does.
        return TfidfVectorizer(
            ngram_range=(1, 2), token_pattern=r"\S+", min_df=1 if vocabulary else 2, **common
        )
    return TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), min_df=1 if vocabulary else 2, **common
    )


class NgramFeatures:
    """Fixed-width bags of TF-IDF n-gram features (see the module docstring).

    Args:
        kinds: ``"word"``, ``"char"`` or ``"word+char"``.

    Example:
        >>> features = NgramFeatures("word").fit(["my card", "my card was lost", "lost"])
        >>> ids, weights = features.transform(["lost card"])
        >>> ids.shape == weights.shape == (1, features.width + 1)
        True
        >>> float(np.round((weights[0, :-1] ** 2).sum(), 4)), float(weights[0, -1])
        (1.0, 1.0)
    """

    def __init__(self, kinds: str = "word+char") -> None:
        if kinds not in KINDS or kinds == "none":
            raise ValueError(f"kinds must be one of {KINDS[1:]}, got {kinds!r}")
        self.kinds = kinds
        self._vectorizers: list[Any] = []
        self.width = 0

    @property
    def n_features(self) -> int:
        """Features of all kinds together, the bias not included."""
        return sum(len(v.vocabulary_) for v in self._vectorizers)

    @property
    def bias_id(self) -> int:
        """The id of the constant feature; 0 is padding, features are 1..n_features."""
        return self.n_features + 1

    @property
    def input_dim(self) -> int:
        """Rows of the Embedding that reads the bags: padding, features and bias."""
        return self.n_features + 2

    def fit(self, texts: Sequence[str]) -> NgramFeatures:
        """Learns the vocabularies and idf weights of the (cleaned) training texts."""
        self._vectorizers = []
        for kind in self.kinds.split("+"):
            vectorizer = _vectorizer(kind)
            try:
                vectorizer.fit(texts)
            except ValueError:  # no n-gram seen twice (a handful of texts): keep all
                vectorizer = _vectorizer(kind).set_params(min_df=1).fit(texts)
            vectorizer.idf_ = np.round(vectorizer.idf_, IDF_DIGITS).astype(np.float32)
            self._vectorizers.append(vectorizer)
        counts = np.diff(self.matrix(texts).indptr)
        self.width = int(min(MAX_WIDTH, max(1, math.ceil(np.percentile(counts, 99)))))
        return self

    def matrix(self, texts: Sequence[str]):  # -> scipy.sparse.csr_matrix
        """The whole TF-IDF matrix ``(len(texts), n_features)``, no feature left out."""
        from scipy.sparse import hstack

        scale = np.float32(1.0 / math.sqrt(len(self._vectorizers)))
        parts = [self._transform(v, texts) for v in self._vectorizers]
        matrix = hstack(parts, format="csr")
        matrix.data *= scale
        return matrix

    def _transform(self, vectorizer: Any, texts: Sequence[str]):  # -> csr_matrix
        """``vectorizer.transform(texts)``, through :class:`WordNgrams` (character
        n-grams) or :class:`WordPairs` (words and word pairs)."""
        kind, fast = {"char_wb": ("_word_ngrams", WordNgrams), "word": ("_word_pairs", WordPairs)}[
            vectorizer.analyzer
        ]
        cache = getattr(self, kind, None)
        if cache is None or cache.vectorizer is not vectorizer:
            cache = fast(vectorizer)
            setattr(self, kind, cache)
        return cache.transform(texts)

    def transform(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, weights)``, both ``(len(texts), width + 1)``: ids int32, weights float32."""
        n = len(texts)
        ids = np.zeros((n, self.width + 1), dtype="int32")
        weights = np.zeros((n, self.width + 1), dtype="float32")
        ids[:, -1] = self.bias_id
        weights[:, -1] = 1.0
        if n == 0:
            return ids, weights
        matrix = self.matrix(texts)
        # The stacked matrix numbers the kinds one after the other; id 0 is padding.
        indptr, columns, values = matrix.indptr, matrix.indices, matrix.data
        counts = np.diff(indptr)
        fits = counts <= self.width
        rows = np.repeat(np.arange(n), counts)
        slots = np.arange(len(columns)) - np.repeat(indptr[:-1], counts)
        kept = fits[rows]
        ids[rows[kept], slots[kept]] = columns[kept] + 1
        weights[rows[kept], slots[kept]] = values[kept]
        for row in np.flatnonzero(~fits):  # wider than the bag: its heaviest features
            start, end = indptr[row], indptr[row + 1]
            heaviest = np.argpartition(-values[start:end], self.width)[: self.width]
            ids[row, : self.width] = columns[start:end][heaviest] + 1
            weights[row, : self.width] = values[start:end][heaviest]
        return ids, weights

    # ----------------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        return {
            "kinds": self.kinds,
            "width": self.width,
            "vocabularies": [
                {"vocabulary": {k: int(i) for k, i in v.vocabulary_.items()}, "idf": _floats(v)}
                for v in self._vectorizers
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NgramFeatures:
        self = cls(data["kinds"])
        self.width = int(data["width"])
        kinds = self.kinds.split("+")
        if len(kinds) != len(data["vocabularies"]):
            raise ValueError(
                f"{len(kinds)} kinds of features but {len(data['vocabularies'])} vocabularies"
            )
        for kind, saved in zip(kinds, data["vocabularies"], strict=True):
            vocabulary = {str(k): int(i) for k, i in saved["vocabulary"].items()}
            idf = np.asarray(saved["idf"], dtype=np.float32)
            if len(idf) != len(vocabulary) or sorted(vocabulary.values()) != list(range(len(idf))):
                raise ValueError(f"the {kind} vocabulary and its idf weights do not match")
            vectorizer = _vectorizer(kind, vocabulary)
            vectorizer.idf_ = idf
            self._vectorizers.append(vectorizer)
        return self


class WordNgrams:
    """A fitted ``char_wb`` ``TfidfVectorizer``'s ``transform``, computed word by word.

    Character n-grams "within word boundaries" never cross a space, so a text's counts
    are the sum of its words' (each word padded with a space on either side, as
    scikit-learn pads it). The n-gram ids of every word seen are kept (up to
    :attr:`MAX_WORDS` words), so a text costs a lookup per word instead of a dictionary
    lookup per n-gram: about ten times faster on long complaint narratives, with the
    same matrix (``tests/test_ngrams.py`` checks it against scikit-learn's).
    """

    MAX_WORDS = 200_000

    def __init__(self, vectorizer: Any) -> None:
        self.vectorizer = vectorizer
        self.low, self.high = vectorizer.ngram_range
        self.vocabulary = vectorizer.vocabulary_
        self.idf = np.asarray(vectorizer.idf_, dtype=np.float32)
        self.words: dict[str, np.ndarray] = {}

    def word_ids(self, word: str) -> np.ndarray:
        """The ids of the known n-grams of ``word``, repeated as often as they occur."""
        ids = self.words.get(word)
        if ids is None:
            padded, found = f" {word} ", []
            for n in range(self.low, self.high + 1):
                # scikit-learn's _char_wb_ngrams: a word shorter than n counts once.
                stop = max(len(padded) - n, 0)
                for start in range(stop + 1):
                    index = self.vocabulary.get(padded[start : start + n])
                    if index is not None:
                        found.append(index)
                if stop == 0:
                    break
            ids = np.asarray(found, dtype=np.int64)
            if len(self.words) >= self.MAX_WORDS:
                self.words.clear()
            self.words[word] = ids
        return ids

    def transform(self, texts: Sequence[str]):  # -> scipy.sparse.csr_matrix
        def ids(text: str) -> np.ndarray:
            words = text.lower().split()
            return np.concatenate([self.word_ids(w) for w in words]) if words else np.empty(0)

        return _tfidf([ids(text) for text in texts], self.idf, self.vectorizer.sublinear_tf)


class WordPairs:
    """A fitted word ``TfidfVectorizer``'s ``transform`` (lower case, tokens split on
    white space, words and word pairs), computed with one dictionary lookup per word and
    per pair: about three times faster than scikit-learn's on complaint narratives, with
    the same matrix (``tests/test_ngrams.py`` checks it against scikit-learn's)."""

    def __init__(self, vectorizer: Any) -> None:
        if vectorizer.ngram_range != (1, 2) or vectorizer.token_pattern != r"\S+":
            raise ValueError("WordPairs reads words and word pairs split on white space")
        self.vectorizer = vectorizer
        self.vocabulary = vectorizer.vocabulary_
        self.idf = np.asarray(vectorizer.idf_, dtype=np.float32)

    def text_ids(self, text: str) -> np.ndarray:
        """The ids of the known words and word pairs of ``text``, once per occurrence."""
        words = text.lower().split()
        pairs = [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
        get = self.vocabulary.get
        found = [i for i in map(get, words) if i is not None]
        found += [i for i in map(get, pairs) if i is not None]
        return np.asarray(found, dtype=np.int64)

    def transform(self, texts: Sequence[str]):  # -> scipy.sparse.csr_matrix
        return _tfidf([self.text_ids(t) for t in texts], self.idf, self.vectorizer.sublinear_tf)


def _tfidf(ids: list[np.ndarray], idf: np.ndarray, sublinear: bool):  # -> csr_matrix
    """The L2-normalised TF-IDF rows of texts given each text's feature ids (one per
    occurrence), as scikit-learn's ``TfidfVectorizer`` computes them."""
    from scipy.sparse import csr_matrix

    indptr, indices, counts = [0], [], []
    for text_ids in ids:
        unique, times = np.unique(text_ids.astype(np.int64), return_counts=True)
        indices.append(unique)
        counts.append(times)
        indptr.append(indptr[-1] + len(unique))
    columns = np.concatenate(indices) if indices else np.empty(0, dtype=np.int64)
    data = np.concatenate(counts).astype(np.float32) if counts else np.empty(0, np.float32)
    if sublinear:
        data = np.log(data) + np.float32(1.0)
    data = data * idf[columns]
    rows = np.repeat(np.arange(len(ids)), np.diff(indptr))
    norms = np.sqrt(np.bincount(rows, weights=data.astype(np.float64) ** 2, minlength=len(ids)))
    data = (data / np.where(norms == 0, 1.0, norms)[rows]).astype(np.float32)
    return csr_matrix((data, columns, np.asarray(indptr)), shape=(len(ids), len(idf)))


def _floats(vectorizer) -> list[float]:
    return [round(float(x), IDF_DIGITS) for x in vectorizer.idf_]
