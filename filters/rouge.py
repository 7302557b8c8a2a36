"""Exact ROUGE-L novelty index: max ROUGE-L F of a candidate against a pool, without visiting the pool.

The decision it serves is the brute-force loop's: reject when ``max over pool of
RougeScorer(["rougeL"], use_stemmer=False).score(candidate, item).fmeasure > threshold``. Three facts make
it fast and keep it exact:

* ROUGE-L F = 2·LCS/(m+n) in exact arithmetic, so F ≥ t needs LCS ≥ t(m+n)/2. As LCS ≤ min(m, n), only
  items with t·n/(2−t) ≤ m ≤ n(2−t)/t can qualify (length filter).
* LCS ≤ the multiset overlap of the two token lists. Each item's k-th occurrence of a token is one element;
  elements are ranked rarest first. Two lists whose overlap is at least α share an element within their
  first ``len − α + 1`` elements (prefix filtering), and α ≥ t·len/(2−t) for any qualifying partner, so
  only the prefixes are indexed and probed.
* Survivors get an exact LCS (rapidfuzz's LCSseq on token-id sequences, in C) and then rouge-score's own
  float formula ``2·P·R/(P+R)`` with ``P = LCS/len(item)``, ``R = LCS/len(candidate)``, compared with ``>``,
  best bound first (filters/rouge_buckets.py): once the bound is below the best F, the rest need no LCS.

The filters use ``≥`` with a small slack, so pairs whose exact F equals the threshold (where the float
formula may land one ulp above it) are always scored. Ties keep the earliest item added, as the loop does.
The element ranking is fixed between rebuilds (a token first seen after a rebuild ranks rarest); it is
recomputed from document frequencies whenever the pool has doubled, which keeps prefixes short.

:meth:`RougeNoveltyIndex.max_score` is exact whenever the max reaches ``floor`` (the threshold the
index was built for, by default); below it the best score among the probed items is returned with
``exact=False``, which is all a novelty decision needs. ``floor=0`` gives the exact max by a full scan.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rapidfuzz.distance import LCSseq
from rapidfuzz.process import cdist

from filters.rouge_bounds import (
    SLACK,
    encode,
    encode_many,
    length_bounds,
    min_overlap,
    min_overlap_many,
    needed_overlap,
    rouge_l_f_many,
)
from filters.rouge_buckets import TokenBuckets, best_in_bound_order
from filters.rouge_postings import PrefixPostings, pack
from filters.unicode_text import rouge_tokens

DEFAULT_THRESHOLD = 0.7
_OCCURRENCE_BITS = 20
_RANK_OFFSET = 1 << 40  # ranks of tokens first seen after a rebuild are negative
_MIN_REBUILD_SIZE = 256


def _order_by(*columns: tuple[np.ndarray, int]) -> np.ndarray:
    """The stable order of rows by ``columns`` (major first; each ``(values, bound)`` with ``0 ≤ values <
    bound``): one argsort of a combined key when the bounds' product fits in int64 (several times faster
    than ``np.lexsort`` on millions of rows), else ``np.lexsort``."""
    if math.prod(bound for _, bound in columns) < 1 << 62:
        key = np.zeros(len(columns[0][0]), dtype=np.int64)
        for values, bound in columns:
            key = key * bound + values
        return np.argsort(key, kind="stable")
    return np.lexsort([values for values, _ in reversed(columns)])


class _Vocab(dict[str, int]):
    """Token → id; looking up a new token (``vocab[token]``) gives it the next id."""

    def __missing__(self, token: str) -> int:
        token_id = self[token] = len(self)
        return token_id


@dataclass(frozen=True)
class RougeMatch:
    score: float
    item_id: int | None
    exact: bool = True


class RougeNoveltyIndex:
    """Pool of tokenized texts keyed by integer ids, answering max ROUGE-L F queries."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        if not 0 <= threshold < 1:
            raise ValueError("threshold must be in [0, 1)")
        self.threshold = threshold
        self._vocab = _Vocab()
        self._order: list[int] = []  # token id -> rank (lower = rarer = earlier in prefixes)
        self._next_new_rank = -1
        self._ids: list[int] = []
        self._seqs: list[list[int]] = []
        self._encoded: list[str | list[int]] = []  # the same sequences as rapidfuzz reads them fastest
        self._postings = PrefixPostings()  # each sorted by item length (filters/rouge_postings.py)
        self._lens = np.zeros(1024, dtype=np.int64)
        self._longest = 0  # the most tokens of any item
        self._buckets = TokenBuckets()  # bounds that order and stop the exact scoring (rouge_buckets.py)
        self._ranked_at = 0

    def __len__(self) -> int:
        return len(self._ids)

    @staticmethod
    def tokenize(text: str) -> list[str]:
        return rouge_tokens(text)

    # ------------------------------------------------------------------ building
    def add(self, item_id: int, tokens: Sequence[str]) -> None:
        """Append one item (it counts as later than every item already in the pool)."""
        seq = [self._token_id(token) for token in tokens]
        self._ids.append(item_id)
        self._seqs.append(seq)
        self._encoded.append(encode(seq))
        self._buckets.extend([seq])
        self._index_prefix(len(self._seqs) - 1)
        if len(self._ids) >= max(_MIN_REBUILD_SIZE, 2 * self._ranked_at):
            self._rerank()

    def add_many(self, items: Iterable[tuple[int, Sequence[str]]]) -> None:
        """Bulk load (start-up): rank elements once from the whole pool, then index every prefix."""
        vocab = self._vocab
        intern = vocab.__getitem__  # a new token gets the next id (_Vocab.__missing__)
        start = len(self._seqs)
        for item_id, tokens in items:
            self._ids.append(item_id)
            self._seqs.append(list(map(intern, tokens)))
        self._order.extend(range(-len(self._order) - 1, -len(vocab) - 1, -1))  # reranked below
        self._encoded.extend(encode_many(self._seqs[start:]))
        self._buckets.extend(self._seqs[start:])
        self._rerank()

    def _token_id(self, token: str) -> int:
        token_id = self._vocab.get(token)
        if token_id is None:
            token_id = self._vocab[token] = len(self._vocab)
            self._order.append(self._next_new_rank)
            self._next_new_rank -= 1
        return token_id

    def _rerank(self) -> None:
        """Rank tokens by document frequency (rarest first, ties by id) and index every prefix afresh.

        The same ranks and postings as :meth:`_index_prefix` item by item, computed with array operations
        (a 100K-item pool in well under a second)."""
        seqs = self._seqs
        self._postings, self._next_new_rank = PrefixPostings(), -1
        if not seqs:
            return
        lens = np.fromiter(map(len, seqs), dtype=np.int64, count=len(seqs))
        self._longest = int(lens.max())
        self._lens = np.zeros(max(1024, len(seqs)), dtype=np.int64)
        self._lens[: len(seqs)] = lens
        tokens = np.fromiter(itertools.chain.from_iterable(seqs), dtype=np.int64, count=int(lens.sum()))
        item = np.repeat(np.arange(len(seqs), dtype=np.int64), lens)
        # occurrence number of each token within its item (0 for the first, 1 for the second …)
        by_pair = _order_by((item, len(seqs)), (tokens, len(self._vocab)))
        pair_item, pair_token = item[by_pair], tokens[by_pair]
        new_pair = np.ones(len(tokens), dtype=bool)
        new_pair[1:] = (pair_item[1:] != pair_item[:-1]) | (pair_token[1:] != pair_token[:-1])
        pair_start = np.maximum.accumulate(np.where(new_pair, np.arange(len(tokens)), 0))
        occurrence = np.empty(len(tokens), dtype=np.int64)
        occurrence[by_pair] = np.arange(len(tokens)) - pair_start
        # document frequency = items holding the token at least once; rank = place in (df, id) order
        df = np.bincount(tokens[occurrence == 0], minlength=len(self._vocab))
        ranked = np.lexsort((np.arange(len(self._vocab)), df))
        order = np.empty(len(self._vocab), dtype=np.int64)
        order[ranked] = np.arange(len(self._vocab))
        self._order = order.tolist()
        # each item's elements rarest first, and the place of each in its item
        ranks = (order[tokens], len(order))
        by_key = _order_by((item, len(seqs)), ranks, (occurrence, int(occurrence.max(initial=0)) + 1))
        element = ((tokens << _OCCURRENCE_BITS) | occurrence)[by_key]
        item_start = np.concatenate(([0], np.cumsum(lens)[:-1]))
        place = np.arange(len(tokens)) - np.repeat(item_start, lens)
        prefix = lens - min_overlap_many(lens, self.threshold) + 1
        kept = place < np.repeat(prefix, lens)
        owner = item[kept]
        # entries shortest item first, then by position: their order in every posting (a stable radix sort
        # of the lengths when they fit 16 bits)
        owner_lens = lens[owner]
        narrow = np.uint16 if self._longest < 1 << 16 else np.int64
        by_length = np.argsort(owner_lens.astype(narrow), kind="stable")
        entries = pack(owner, place[kept], owner_lens)
        self._postings.build(element[kept][by_length], entries[by_length])
        self._ranked_at = len(seqs)

    def _elements(self, seq: Sequence[int]) -> list[int]:
        """Occurrence-indexed elements of a token-id list, rarest first."""
        order = self._order
        seen: dict[int, int] = {}
        keyed = []
        for token_id in seq:
            occurrence = seen.get(token_id, 0)
            seen[token_id] = occurrence + 1
            keyed.append(
                (
                    ((order[token_id] + _RANK_OFFSET) << _OCCURRENCE_BITS) | occurrence,
                    (token_id << _OCCURRENCE_BITS) | occurrence,
                )
            )
        keyed.sort()
        return [element for _, element in keyed]

    def _index_prefix(self, position: int) -> None:
        seq = self._seqs[position]
        if position >= len(self._lens):
            self._lens = np.concatenate([self._lens, np.zeros(len(self._lens), dtype=np.int64)])
        self._lens[position] = len(seq)
        self._longest = max(self._longest, len(seq))
        if not seq:
            return
        prefix = len(seq) - min_overlap(len(seq), self.threshold) + 1
        self._postings.add(self._elements(seq)[:prefix], position, len(seq))

    # ------------------------------------------------------------------ queries
    def max_score(self, tokens: Sequence[str], floor: float | None = None) -> RougeMatch:
        """Best ROUGE-L F of ``tokens`` against the pool and the earliest item reaching it.

        Exact when the best score is at least ``floor`` (default: the index threshold); otherwise the best
        among the probed items, flagged ``exact=False``.
        """
        if not self._ids:
            return RougeMatch(0.0, None)
        floor = self.threshold if floor is None else floor
        vocab = self._vocab
        query = [vocab.get(token, -1) for token in tokens]
        n = len(query)
        if n == 0:
            return RougeMatch(0.0, self._ids[0])  # F is 0 against everything; the loop keeps the first
        if floor < self.threshold:
            return self._scan(query, range(len(self._seqs)), floor, exact_below_floor=True)
        return self._scan_bounded(query, *self._probe(query), floor)

    def _probe(self, query: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Positions of items that can reach the threshold, in pool order, and their lengths (saturated:
        at most the true length).

        Candidates come from the postings of the query's prefix; the first shared element (at place i
        in the query, j in the item, both rarest-first) bounds the overlap by min(n − i, m − j), which
        must reach t(m+n)/2 — the positional filter — along with the length filter. A later hit has
        larger places in both lists, so a smaller bound: filtering every hit keeps the same items. The
        postings are sorted by item length, so each element reads only the lengths its place allows.
        """
        known = [token for token in query if token >= 0]
        n = len(query)
        unknown = n - len(known)
        prefix = n - min_overlap(n, self.threshold) + 1 - unknown  # unknown tokens rank first
        if not known or prefix <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        need = needed_overlap(n, self.threshold, self._longest)
        ranked = enumerate(self._elements(known)[:prefix], start=unknown)
        return self._postings.candidates(ranked, n, need, length_bounds(n, self.threshold)[0])

    def _scan(
        self, query: list[int], positions: Sequence[int] | np.ndarray, floor: float, exact_below_floor: bool
    ) -> RougeMatch:
        if len(positions) == 0:
            return RougeMatch(0.0, self._ids[0], exact=False)
        scores = self._scores([encode(query)], len(query), np.asarray(positions, dtype=np.int64))
        best_at = int(np.argmax(scores))  # positions ascend, so the first maximum is the earliest item
        best, exact = float(scores[best_at]), exact_below_floor or float(scores[best_at]) >= floor
        return RougeMatch(best, self._ids[int(positions[best_at])], exact=exact)

    def _scores(self, probe: list[Any], n: int, positions: np.ndarray) -> np.ndarray:
        """rouge-score's F of the encoded query ``probe`` (``n`` tokens) against the items at ``positions``:
        their exact LCS (rapidfuzz, in C), then the float formula."""
        choices = operator.itemgetter(*positions.tolist(), -1)(self._encoded)[:-1]  # always a tuple
        lcs = cdist(probe, choices, scorer=LCSseq.similarity, dtype=np.int64)[0]
        return rouge_l_f_many(lcs, n, self._lens[positions])

    def _scan_bounded(
        self, query: list[int], positions: np.ndarray, lengths: np.ndarray, floor: float
    ) -> RougeMatch:
        """:meth:`_scan`, best bound on F first (filters/rouge_buckets.py): the same result, fewer LCS.
        ``lengths`` are the items' lengths or less (a smaller one only raises the bound)."""
        known = [token for token in query if token >= 0]
        counts = self._buckets.query(known) if len(positions) > 64 else None  # a few: faster all at once
        if counts is None:
            return self._scan(query, positions, floor, exact_below_floor=False)
        n, probe = len(query), [encode(query)]
        limit = 2.0 * self._buckets.overlap_bounds(positions, counts) / (lengths + n) + SLACK
        best, best_at = best_in_bound_order(limit, lambda picked: self._scores(probe, n, positions[picked]))
        return RougeMatch(best, self._ids[int(positions[best_at])], exact=best >= floor)
