"""Text cleaning and word-level tokenization, saved with a run and applied identically later.

Cleaning does what the guide's ``clean_text`` means to do, without its two bugs
(``str.replace('\\d+', '')`` looks for the literal text ``\\d+`` and removes nothing;
``replace('x', '')`` deletes the letter x from every word, so "tax" becomes "ta"):

1. CFPB redaction masks are dropped: runs of two or more capital X standing alone
   (``XXXX``, ``XX/XX/XXXX``, ``XXXX1234``) and masked amounts in braces (``{$0.00}``).
   Words that merely contain an x ("tax", "xbox", "Xerox") are kept.
2. The text is lower-cased.
3. Digits are removed; apostrophes are removed ("don't" becomes "dont"); every other
   symbol becomes a space.
4. Optionally, English stop words (NLTK's list, shipped with rnnkit) are removed.

Tokenization is a ``tokenizers`` ``WordLevel`` model trained on the cleaned training
texts, with padding and truncation to a fixed ``sequence_length`` stored in its JSON.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np

from rnnkit import datasets

PAD = "[PAD]"
UNK = "[UNK]"
PAD_ID = 0

# CFPB masks are capital X runs that are not part of a word: "XXXX", "XX/XX/XXXX",
# "XXXX1234" (the digits go later). Lower-case x and x inside words are never touched.
_MASK = re.compile(r"(?<![A-Za-z])X{2,}(?![A-Za-z])")
# CFPB wraps every amount in braces, "{$1500.00}"; the number carries no product signal.
_AMOUNT = re.compile(r"\{\$?[\d,.\s]*\}")
# Digits and apostrophes are deleted ("don't" becomes "dont").
_DELETED = re.compile(r"[\d'\u2019`]+")
# Runs of symbols and white space become one space: anything that is not a letter
# (underscore is a \w character, so named; the digits are gone by then).
_SEPARATORS = re.compile(r"[\W_]+")


def load_stopwords() -> frozenset[str]:
    """NLTK's English stop-word list shipped with rnnkit, normalised like the texts.

    Example:
        >>> "the" in load_stopwords() and "dont" in load_stopwords()
        True
    """
    words = datasets.path(datasets.STOPWORDS).read_text(encoding="utf-8").split()
    return frozenset(_normalise(word) for word in words if _normalise(word))


def _normalise(text: str) -> str:
    """Steps 2 and 3 of the cleaning (no masks, no stop words)."""
    text = _DELETED.sub("", text.lower())
    return _SEPARATORS.sub(" ", text).strip()


@dataclasses.dataclass(frozen=True)
class TextCleaner:
    """Cleans texts the same way at training and at prediction time.

    Args:
        remove_stopwords: drop English stop words (NLTK's list).
        stopwords: the stop words used; saved with the run so that a later change to the
            shipped list cannot change what a saved model sees. Loaded from the shipped
            list when ``remove_stopwords`` is true and none are given.

    Example:
        >>> TextCleaner().clean("On XX/XX/XXXX I paid {$30.00} in TAX for my Xbox 360!")
        'on i paid in tax for my xbox'
        >>> TextCleaner(remove_stopwords=True).clean("I paid the tax")
        'paid tax'
    """

    remove_stopwords: bool = False
    stopwords: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.remove_stopwords and not self.stopwords:
            object.__setattr__(self, "stopwords", tuple(sorted(load_stopwords())))
        object.__setattr__(self, "_stopword_set", frozenset(self.stopwords))

    def clean(self, text: str) -> str:
        """The cleaned text: words separated by single spaces, possibly empty."""
        text = _MASK.sub(" ", text)
        text = _AMOUNT.sub(" ", text)
        text = _normalise(text)
        if self.remove_stopwords:
            stop = self._stopword_set  # type: ignore[attr-defined]
            text = " ".join(word for word in text.split(" ") if word not in stop)
        return text

    def clean_all(self, texts: Iterable[str]) -> list[str]:
        return [self.clean(text) for text in texts]

    def to_dict(self) -> dict[str, Any]:
        return {
            "lowercase": True,
            "remove_masks": True,
            "remove_digits": True,
            "symbols_to_spaces": True,
            "remove_stopwords": self.remove_stopwords,
            "stopwords": list(self.stopwords) if self.remove_stopwords else [],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TextCleaner:
        remove = bool(data.get("remove_stopwords", False))
        return cls(remove_stopwords=remove, stopwords=tuple(data.get("stopwords", ())))


def token_counts(cleaned: Sequence[str]) -> np.ndarray:
    """Words per cleaned text (the text is split on single spaces)."""
    return np.array([len(text.split()) for text in cleaned], dtype="int64")


def choose_sequence_length(
    cleaned: Sequence[str], quantile: float = 0.95, minimum: int = 8, maximum: int = 128
) -> int:
    """Tokens per text that cover ``quantile`` of the texts, within [minimum, maximum].

    Capped because each step of a recurrent layer is sequential work: the longest few
    texts would otherwise set the cost of every batch.
    """
    counts = token_counts(cleaned)
    if counts.size == 0:
        return minimum
    return int(np.clip(np.ceil(np.quantile(counts, quantile)), minimum, maximum))


def length_histogram(cleaned: Sequence[str]) -> np.ndarray:
    """How many of ``cleaned`` have each word count: ``histogram[n]`` texts of ``n`` words.

    Histograms of parts of a corpus add up (pad the shorter with zeros), so the lengths of
    a corpus read in chunks take memory for the longest text only, not one per text.
    """
    return np.bincount(token_counts(cleaned), minlength=1)


def add_histograms(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The element-wise sum of two length histograms of different sizes."""
    size = max(len(first), len(second))
    return np.pad(first, (0, size - len(first))) + np.pad(second, (0, size - len(second)))


def choose_sequence_length_from_histogram(
    histogram: np.ndarray, quantile: float = 0.95, minimum: int = 8, maximum: int = 128
) -> int:
    """:func:`choose_sequence_length` of the texts a :func:`length_histogram` counts.

    Exactly the same value: NumPy's default (linear) quantile reads the two sorted
    lengths around position ``quantile * (n - 1)``, and the histogram's cumulative counts
    give them without the texts.

    Example:
        >>> texts = ["a b", "a b c", "a " * 40]
        >>> histogram = length_histogram(texts)
        >>> histogram[[2, 3, 40]].tolist()
        [1, 1, 1]
        >>> choose_sequence_length_from_histogram(histogram, 0.5, 1)
        3
    """
    total = int(histogram.sum())
    if total == 0:
        return minimum
    position = quantile * (total - 1)
    below = int(np.floor(position))
    ends = np.cumsum(histogram)
    # The k-th smallest length (from 0) is the first length whose cumulative count passes k.
    low, high = np.searchsorted(ends, [below, min(below + 1, total - 1)], side="right")
    # np.quantile's own interpolation on the two lengths, so the results agree to the bit.
    value = np.quantile(np.array([low, high], dtype="float64"), position - below)
    return int(np.clip(np.ceil(value), minimum, maximum))


def build_tokenizer(
    cleaned: Sequence[str],
    max_tokens: int,
    sequence_length: int,
    padding: Literal["start", "end"] = "start",
    truncation: Literal["start", "end"] = "end",
):  # -> tokenizers.Tokenizer
    """Trains a word-level vocabulary of at most ``max_tokens`` entries on ``cleaned``.

    The two special tokens come first (``[PAD]`` = 0, ``[UNK]`` = 1) and count towards
    ``max_tokens``; the rest are the most frequent words. Every encoding is exactly
    ``sequence_length`` ids long.

    Args:
        cleaned: texts already cleaned by a :class:`TextCleaner`.
        max_tokens: the largest vocabulary, special tokens included.
        sequence_length: ids per encoded text.
        padding: where pad ids go in a short text. ``"start"`` keeps the words next to
            the end of the sequence, where a recurrent layer's final state is read.
        truncation: which end of a long text is cut. ``"end"`` keeps its beginning.

    Example:
        >>> tok = build_tokenizer(["pay the bill", "the bill is late"], 100, 5)
        >>> encode(tok, ["the bill", "a late bill"]).tolist()
        [[0, 0, 0, 3, 2], [0, 0, 1, 5, 2]]
    """
    tokenizer = train_vocabulary(cleaned, max_tokens)
    set_sequence_length(tokenizer, sequence_length, padding, truncation)
    return tokenizer


def train_vocabulary(cleaned: Iterable[str], max_tokens: int):  # -> tokenizers.Tokenizer
    """A word-level tokenizer whose vocabulary is the ``max_tokens`` most frequent words.

    ``cleaned`` may be any iterable, a generator reading a file chunk by chunk included:
    the trainer keeps a count per distinct word, not the texts. Ties in frequency are
    ordered by the word, so the vocabulary does not depend on the order of the texts.
    No padding or truncation is set yet (see :func:`set_sequence_length`).
    """
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace
    from tokenizers.trainers import WordLevelTrainer

    tokenizer = Tokenizer(WordLevel(unk_token=UNK))
    tokenizer.pre_tokenizer = Whitespace()
    trainer = WordLevelTrainer(
        vocab_size=max_tokens, min_frequency=1, special_tokens=[PAD, UNK], show_progress=False
    )
    tokenizer.train_from_iterator(cleaned, trainer=trainer)
    return tokenizer


def set_sequence_length(
    tokenizer,
    sequence_length: int,
    padding: Literal["start", "end"] = "start",
    truncation: Literal["start", "end"] = "end",
) -> None:
    """Makes every encoding of ``tokenizer`` exactly ``sequence_length`` ids long."""
    tokenizer.enable_padding(
        direction="left" if padding == "start" else "right",
        pad_id=PAD_ID,
        pad_token=PAD,
        length=sequence_length,
    )
    tokenizer.enable_truncation(
        max_length=sequence_length, direction="right" if truncation == "end" else "left"
    )


# An Encoding keeps tokens, offsets and masks besides the ids, about 6 KB for a text of
# 40 words: a million texts encoded at once held 6 GB. A slice at a time holds 60 MB.
ENCODE_SLICE = 10_000


def encode(tokenizer, cleaned: Sequence[str]) -> np.ndarray:
    """Token ids ``(len(cleaned), sequence_length)`` as int32."""
    texts = list(cleaned)
    if not texts:
        padding = tokenizer.padding or {}
        return np.zeros((0, padding.get("length") or 0), dtype="int32")
    texts = _kept_words(tokenizer, texts)
    slices = []
    for start in range(0, len(texts), ENCODE_SLICE):
        encodings = tokenizer.encode_batch(texts[start : start + ENCODE_SLICE])
        ids = np.asarray([e.ids for e in encodings], dtype="int32")
        slices.append(ids.reshape(len(encodings), -1))
    return slices[0] if len(slices) == 1 else np.concatenate(slices)


def _kept_words(tokenizer, texts: list[str]) -> list[str]:
    """Each text cut to the words its truncation keeps (the first or last
    ``max_length``), before the tokenizer reads it: a complaint narrative of 200 words
    encodes in two thirds of the time. Every word of a cleaned text is one token or more,
    so the cut texts hold every token the truncation keeps and encode to the same ids."""
    truncation = tokenizer.truncation
    if not truncation:
        return texts
    limit = truncation["max_length"]
    if truncation["direction"] == "right":
        return [" ".join(t.split(None, limit)[:limit]) for t in texts]
    return [" ".join(t.rsplit(None, limit)[-limit:]) for t in texts]


def tokenizer_to_json(tokenizer) -> str:
    return tokenizer.to_str(pretty=True)


def tokenizer_from_json(text: str):  # -> tokenizers.Tokenizer
    """Restores a tokenizer (vocabulary, padding and truncation) saved by ``to_json``."""
    from tokenizers import Tokenizer

    json.loads(text)  # a clear JSONDecodeError before the tokenizers library's own message
    return Tokenizer.from_str(text)
