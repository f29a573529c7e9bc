"""Cleaning and tokenization of texts (rnnkit.data.text)."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.data import text


def test_cleaning_keeps_words_with_the_letter_x():
    cleaned = text.TextCleaner().clean("The TAX on my Xbox, Xerox and extra fax")
    assert cleaned == "the tax on my xbox xerox and extra fax"


def test_cleaning_removes_cfpb_masks():
    cleaned = text.TextCleaner().clean("On XX/XX/XXXX I called XXXX XXXX at XXXX1234.")
    assert cleaned == "on i called at"


def test_cleaning_removes_masked_amounts_in_braces():
    assert text.TextCleaner().clean("a fee of {$30.00} and {$1,500.00}") == "a fee of and"


def test_cleaning_removes_digits_which_the_guide_left_in():
    # The guide's text.replace('\d+', '') looks for the literal characters "\d+".
    assert text.TextCleaner().clean("paid 250 dollars on 3rd try") == "paid dollars on rd try"


def test_cleaning_turns_symbols_into_spaces_and_joins_apostrophes():
    cleaned = text.TextCleaner().clean("re-pay/refund (now)! I don't; co_op")
    assert cleaned == "re pay refund now i dont co op"


def test_cleaning_lower_cases():
    assert text.TextCleaner().clean("Credit CARD") == "credit card"


def test_stopword_removal_uses_the_shipped_nltk_list():
    cleaner = text.TextCleaner(remove_stopwords=True)
    assert cleaner.clean("I did not pay the bill, don't you see") == "pay bill see"
    assert len(cleaner.stopwords) > 150


def test_stopwords_are_kept_unless_asked():
    assert text.TextCleaner().clean("I did not pay the bill") == "i did not pay the bill"


def test_cleaner_settings_round_trip_with_their_word_list():
    cleaner = text.TextCleaner(remove_stopwords=True, stopwords=("the", "a"))
    restored = text.TextCleaner.from_dict(cleaner.to_dict())
    assert restored == cleaner
    assert restored.clean("the bill a fee") == "bill fee"


def test_text_of_only_masks_and_digits_cleans_to_empty():
    assert text.TextCleaner().clean("XXXX 1234 {$0.00} !!") == ""


def test_tokenizer_vocabulary_is_capped_at_max_tokens_with_special_tokens_first():
    cleaned = [f"word{chr(97 + i)} common" for i in range(20)]
    tokenizer = text.build_tokenizer(cleaned, max_tokens=5, sequence_length=4)
    vocabulary = tokenizer.get_vocab()
    assert tokenizer.get_vocab_size() == 5
    assert vocabulary[text.PAD] == 0 and vocabulary[text.UNK] == 1
    assert vocabulary["common"] == 2


def test_tokenizer_vocabulary_is_smaller_than_max_tokens_on_few_words():
    tokenizer = text.build_tokenizer(["pay the bill", "the bill"], 1000, 4)
    assert tokenizer.get_vocab_size() == 5  # [PAD], [UNK], the, bill, pay


def test_encoding_pads_at_the_start_by_default():
    tokenizer = text.build_tokenizer(["pay the bill"], 100, 5)
    ids = text.encode(tokenizer, ["pay bill"])
    assert ids.shape == (1, 5)
    assert ids[0, :3].tolist() == [0, 0, 0] and 0 not in ids[0, 3:]


def test_encoding_pads_at_the_end_when_asked():
    tokenizer = text.build_tokenizer(["pay the bill"], 100, 5, padding="end")
    assert text.encode(tokenizer, ["pay bill"])[0, 2:].tolist() == [0, 0, 0]


def test_truncation_keeps_the_start_of_long_texts_by_default():
    tokenizer = text.build_tokenizer(["a b c d e f"], 100, 3)
    vocabulary = tokenizer.get_vocab()
    ids = text.encode(tokenizer, ["a b c d e f"])[0].tolist()
    assert ids == [vocabulary[w] for w in "a b c".split()]


def test_truncation_keeps_the_end_when_asked():
    tokenizer = text.build_tokenizer(["a b c d e f"], 100, 3, truncation="start")
    vocabulary = tokenizer.get_vocab()
    ids = text.encode(tokenizer, ["a b c d e f"])[0].tolist()
    assert ids == [vocabulary[w] for w in "d e f".split()]


def test_unknown_words_encode_as_unk():
    tokenizer = text.build_tokenizer(["pay the bill"], 100, 3)
    assert text.encode(tokenizer, ["zebra"])[0].tolist() == [0, 0, 1]


def test_tokenizer_json_round_trip_keeps_padding_and_truncation():
    tokenizer = text.build_tokenizer(["a b c d e f", "b c"], 100, 4, truncation="start")
    restored = text.tokenizer_from_json(text.tokenizer_to_json(tokenizer))
    texts = ["a b c d e f", "c", "zzz b"]
    np.testing.assert_array_equal(text.encode(restored, texts), text.encode(tokenizer, texts))


def test_chosen_sequence_length_is_the_95th_percentile_within_bounds():
    cleaned = [" ".join(["w"] * n) for n in range(1, 101)]
    assert text.choose_sequence_length(cleaned) == 96
    assert text.choose_sequence_length(cleaned, maximum=50) == 50
    assert text.choose_sequence_length(["a", "b"]) == 8


@pytest.mark.parametrize("value", ["tax", "xbox", "max", "exxon", "box"])
def test_single_words_with_x_survive_cleaning(value):
    assert text.TextCleaner().clean(value) == value


def test_normalisation_is_the_documented_steps_one_after_the_other():
    """Two passes (deletions, then runs of separators) give what lower-casing, deleting
    digits, deleting apostrophes, turning each symbol into a space and collapsing white
    space give one after the other, on random strings of the awkward characters."""
    import random
    import re

    from rnnkit.data.text import _normalise

    def step_by_step(text: str) -> str:
        text = re.sub(r"\d+", "", text.lower())
        text = re.sub(r"['\u2019`]", "", text)
        text = re.sub(r"[^\w\s]|_", " ", text)
        return re.sub(r"\s+", " ", text).strip()

    alphabet = "abXZ _-'`\u2019\t\n\x1c\u00a0\u2003e\u0301\u00df\u00b2\u0663 09{}$.,!\u65e5\u200b"
    rng = random.Random(0)
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        assert _normalise(text) == step_by_step(text), repr(text)


@pytest.mark.parametrize("truncation", ["end", "start"])
def test_long_texts_cut_to_their_kept_words_encode_to_the_same_ids(truncation):
    """``encode`` cuts each text to the words the truncation keeps before the tokenizer
    reads it: the ids are the tokenizer's own on the whole text, for texts longer and
    shorter than the sequence, with runs of spaces and words of several tokens."""
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(30)] + ["naïve", "日本語"]
    texts = [" ".join(rng.choice(words, size=n)) for n in (0, 1, 5, 6, 7, 40, 300)]
    texts += ["  w1   w2\tw3  " * 5, "ab²cd " * 10]  # "ab²cd" is three tokens
    tokenizer = text.build_tokenizer(texts, 100, 6, truncation=truncation)
    whole = np.asarray([e.ids for e in tokenizer.encode_batch(texts)], dtype="int32")
    np.testing.assert_array_equal(text.encode(tokenizer, texts), whole)
