"""ROUGE tokenization: rouge-score's tokens for English, per-character tokens for unspaced scripts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rouge_score import tokenize as rouge_tokenize

from filters.unicode_text import (
    count_words_multilingual,
    is_unspaced,
    rouge_score_tokens,
    rouge_tokens,
    unicode_tokens,
)

ascii_text = st.text(alphabet=st.characters(max_codepoint=127), max_size=200)


@given(ascii_text)
def test_ascii_text_gives_exactly_rouge_score_tokens(text):
    expected = rouge_tokenize.tokenize(text, None)
    assert rouge_tokens(text) == expected
    assert rouge_score_tokens(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Give three tips for staying healthy.",
        "What's the capital of France? It's Paris!",
        "Convert 72°F to Celsius, rounding to 2 decimals.",
        "Café crème, s'il vous plaît.",  # Latin with accents: rouge tokens still cover enough
    ],
)
def test_english_and_latin_sentences_use_rouge_score_tokens(text):
    assert rouge_tokens(text) == rouge_tokenize.tokenize(text, None)


def test_chinese_text_gives_one_token_per_character():
    text = "请写一首关于春天的诗"
    assert rouge_tokenize.tokenize(text, None) == []  # why the fallback exists
    assert rouge_tokens(text) == list(text)


def test_chinese_punctuation_separates_but_is_not_a_token():
    assert rouge_tokens("请写诗，谢谢。") == ["请", "写", "诗", "谢", "谢"]


def test_japanese_and_thai_letters_are_split_per_character():
    assert rouge_tokens("ひらがなカタカナ") == list("ひらがなカタカナ")
    assert rouge_tokens("กขค") == ["ก", "ข", "ค"]


def test_thai_vowel_signs_are_kept():
    assert rouge_tokens("ดี") != rouge_tokens("ดู")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # rouge tokens cover 10 of 12 letters: keep rouge-score's tokens (the CJK part is dropped)
        ("Hello world 世界", ["hello", "world"]),
        # exactly half covered (2 of 4): still rouge-score's tokens
        ("ab 世界", ["ab"]),
        # below half (1 of 3): the Unicode tokenizer, which keeps the Latin run as one token
        ("a 世界", ["a", "世", "界"]),
        ("Hi 世界世界世界", ["hi", "世", "界", "世", "界", "世", "界"]),
    ],
)
def test_mixed_text_follows_the_coverage_rule(text, expected):
    assert rouge_tokens(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "!!! ... ???", "，。！"])
def test_text_without_letters_or_digits_has_no_tokens(text):
    assert rouge_tokens(text) == []


def test_unicode_tokens_normalise_and_casefold():
    assert unicode_tokens("ＡＢＣ Straße") == ["abc", "strasse"]


def test_unicode_tokens_split_on_underscore_and_keep_digit_runs():
    assert unicode_tokens("foo_bar 2024年") == ["foo", "bar", "2024", "年"]


def test_is_unspaced():
    assert is_unspaced("中")
    assert is_unspaced("カ")
    assert is_unspaced("ก")
    assert not is_unspaced("a")
    assert not is_unspaced("é")
    assert not is_unspaced("한")  # Hangul uses spaces between words


@given(st.lists(st.text(alphabet="abcdefghij.,!-", min_size=1, max_size=8), max_size=30))
def test_multilingual_word_count_equals_whitespace_count_without_cjk(parts):
    text = " ".join(parts)
    assert count_words_multilingual(text) == len(text.split())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello 世界 ok", 4),
        ("请写一首关于春天的诗", 10),
        ("用 Python 写代码", 5),
        ("", 0),
    ],
)
def test_multilingual_word_count_counts_each_cjk_character(text, expected):
    assert count_words_multilingual(text) == expected


def test_latin_run_glued_to_cjk_counts_as_a_word():
    # "Python" + 写 + 代 + 码 = 4 words; actual 3
    assert count_words_multilingual("Python写代码") == 4


def test_trailing_cjk_punctuation_is_not_a_word():
    # 写 + 代 + 码 = 3 words; actual 4, so the multilingual too_short rule accepts "写代码。"
    assert count_words_multilingual("写代码。") == 3
