"""ROUGE-L novelty index: the max ROUGE-L F of a candidate against a pool, with rouge-score semantics.

Scores are computed by rouge-score's own LCS scoring on pre-tokenized text, so each value is exactly what
``RougeScorer(["rougeL"], use_stemmer=False).score(candidate, item)`` returns for text that rouge-score
tokenizes (see :mod:`filters.unicode_text` for the rule on other scripts). This version compares the
candidate with every pool item (brute force); ties keep the earliest item added.
"""

from __future__ import annotations

from dataclasses import dataclass

from rouge_score.rouge_scorer import _score_lcs

from filters.unicode_text import rouge_tokens


@dataclass(frozen=True)
class RougeMatch:
    score: float
    item_id: int | None


class RougeNoveltyIndex:
    """Pool of tokenized texts keyed by integer ids."""

    def __init__(self) -> None:
        self._ids: list[int] = []
        self._tokens: list[list[str]] = []

    def __len__(self) -> int:
        return len(self._ids)

    @staticmethod
    def tokenize(text: str) -> list[str]:
        return rouge_tokens(text)

    def add(self, item_id: int, tokens: list[str]) -> None:
        self._ids.append(item_id)
        self._tokens.append(tokens)

    def max_score(self, tokens: list[str]) -> RougeMatch:
        """Best ROUGE-L F of ``tokens`` against the pool and the id that reached it."""
        best, best_id = 0.0, None
        for item_id, other in zip(self._ids, self._tokens, strict=True):
            score = _score_lcs(tokens, other).fmeasure
            if best_id is None or score > best:
                best, best_id = score, item_id
        return RougeMatch(best, best_id)
