"""Tokenization for ROUGE-L that matches rouge-score and still works for unspaced scripts.

rouge-score's default tokenizer lowercases, replaces every character outside ``[a-z0-9]`` by a space and
splits on whitespace, so Chinese, Japanese or Thai text becomes an empty token list and every such
candidate would look novel. The rule used here:

* Text where rouge-score's tokens cover at least half of the letters and digits (``str.isalnum``) is
  tokenized exactly as rouge-score does, so decisions on English (and most Latin-script) text are the
  brute-force decisions bit for bit.
* Any other text is NFKC-normalised and case-folded, then each character of an unspaced script (CJK
  ideographs, kana, Thai, Lao, Khmer, Myanmar, Tibetan; its vowel signs included) becomes one token and
  every other run of letters, digits and combining marks becomes one token; everything else (spaces,
  punctuation) separates tokens.
"""

from __future__ import annotations

import unicodedata

from rouge_score import tokenize as rouge_tokenize

UNSPACED_RANGES: tuple[tuple[int, int], ...] = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3134F),  # CJK extensions B-G
)
MIN_ROUGE_COVERAGE = 0.5


def is_unspaced(char: str) -> bool:
    code = ord(char)
    return any(lo <= code <= hi for lo, hi in UNSPACED_RANGES)


# after lower-casing, every ASCII character but [a-z0-9] separates tokens (a table: faster than a regex)
_ASCII_SEPARATORS = str.maketrans(
    {chr(c): " " for c in range(128) if not chr(c).isdigit() and not chr(c).islower()}
)


def rouge_score_tokens(text: str) -> list[str]:
    """Exactly the tokens ``RougeScorer(["rougeL"], use_stemmer=False)`` compares.

    For ASCII text this is rouge-score's own recipe (lowercase, non-``[a-z0-9]`` runs to spaces,
    split) without its per-token regex check, which cannot fail there; other text goes through
    rouge-score itself (``str.lower`` of non-ASCII characters can produce ASCII letters).
    """
    if text.isascii():
        return text.lower().translate(_ASCII_SEPARATORS).split()
    return rouge_tokenize.tokenize(text, None)


def _is_word_char(char: str) -> bool:
    """Letters, digits and combining marks (Thai vowel signs, Devanagari matras …) form words."""
    return char.isalnum() or unicodedata.category(char).startswith("M")


def unicode_tokens(text: str) -> list[str]:
    """Unicode-aware tokens: one per unspaced-script character, one per other letter/digit run."""
    tokens: list[str] = []
    word: list[str] = []
    for char in unicodedata.normalize("NFKC", text).casefold():
        if is_unspaced(char):
            if word:
                tokens.append("".join(word))
                word = []
            if _is_word_char(char):
                tokens.append(char)
        elif _is_word_char(char):
            word.append(char)
        elif word:
            tokens.append("".join(word))
            word = []
    if word:
        tokens.append("".join(word))
    return tokens


def rouge_tokens(text: str) -> list[str]:
    """Tokens used by the novelty gate (see the module docstring for the rule)."""
    tokens = rouge_score_tokens(text)
    if text.isascii():  # every ASCII letter and digit survives rouge-score's tokenizer
        return tokens
    alnum = sum(1 for char in text if char.isalnum())
    if alnum == 0 or sum(len(t) for t in tokens) >= MIN_ROUGE_COVERAGE * alnum:
        return tokens
    return unicode_tokens(text)


def count_words_multilingual(text: str) -> int:
    """Whitespace words, except that in a word holding unspaced-script characters each such character
    counts as one word, and so does each run of other letters or digits (punctuation does not count)."""
    count = 0
    for word in text.split():
        unspaced = sum(1 for char in word if is_unspaced(char))
        if not unspaced:
            count += 1
            continue
        runs, in_run = 0, False
        for char in word:
            inside = _is_word_char(char) and not is_unspaced(char)
            runs += inside and not in_run
            in_run = inside
        count += unspaced + runs
    return count
