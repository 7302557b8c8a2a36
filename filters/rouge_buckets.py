"""Token-bucket counts: an upper bound on the ROUGE-L F of a candidate against an item, 32 bytes an item.

Each token id falls into one of 32 buckets (a multiplicative hash); an item keeps how many of its tokens
fall into each, saturated at 255. With ``q_b`` the query's count in bucket ``b`` (each at most 255) and
``c_b`` the item's, the multiset overlap of the two token lists is ``Σ_t min(q_t, c_t) ≤ Σ_b min(q_b,
c_b)`` (a sum of minimums is at most the minimum of the sums, bucket by bucket; a saturated ``c_b``
stands for a true count ≥ 255 ≥ ``q_b``, so its minimum is ``q_b`` either way). LCS ≤ that overlap and
ROUGE-L F = 2·LCS/(m+n), so ``2·bound/(m+n)`` (plus float slack) bounds F: ``filters/rouge.py`` scores
the items it probed highest bound first and stops when every bound left is below the best F found,
which gives the same best score and the same earliest item as scoring them all.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np

BUCKETS = 32
_CHUNK = 65_536  # items counted per bincount when many are added at once


def buckets_of(tokens: np.ndarray) -> np.ndarray:
    """The bucket of each token id (ids are non-negative and below 2**31)."""
    return ((tokens * 0x9E3779B1) >> 16) & (BUCKETS - 1)


class TokenBuckets:
    """Per-item bucket counts of a growing list of token-id sequences, in the order they were added."""

    def __init__(self) -> None:
        self._counts = np.zeros((1024, BUCKETS), dtype=np.uint8)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def _reserve(self, size: int) -> None:
        if size > len(self._counts):
            grown = np.zeros((max(size, 2 * len(self._counts)), BUCKETS), dtype=np.uint8)
            grown[: self._size] = self._counts[: self._size]
            self._counts = grown

    def extend(self, seqs: Sequence[Sequence[int]]) -> None:
        """Append the counts of ``seqs`` (array operations, a chunk of items at a time)."""
        self._reserve(self._size + len(seqs))
        for start in range(0, len(seqs), _CHUNK):
            chunk = seqs[start : start + _CHUNK]
            lens = np.fromiter(map(len, chunk), dtype=np.int64, count=len(chunk))
            flat = itertools.chain.from_iterable(chunk)
            tokens = np.fromiter(flat, dtype=np.int64, count=int(lens.sum()))
            item = np.repeat(np.arange(len(chunk), dtype=np.int64), lens)
            counts = np.bincount(item * BUCKETS + buckets_of(tokens), minlength=len(chunk) * BUCKETS)
            stop = self._size + len(chunk)
            self._counts[self._size : stop] = np.minimum(counts, 255).reshape(len(chunk), BUCKETS)
            self._size = stop

    def query(self, tokens: Sequence[int]) -> np.ndarray | None:
        """A query's counts (its known token ids), or None when a bucket holds more than 255 of them."""
        counts = np.bincount(buckets_of(np.asarray(tokens, dtype=np.int64)), minlength=BUCKETS)
        return counts.astype(np.uint8) if counts.max(initial=0) <= 255 else None

    def overlap_bounds(self, positions: np.ndarray, query: np.ndarray) -> np.ndarray:
        """An upper bound on the multiset overlap of the query with each item at ``positions``."""
        counts = self._counts.take(positions, axis=0)
        np.minimum(counts, query, out=counts)
        return counts.sum(axis=1, dtype=np.uint16)  # at most 32 * 255


def best_in_bound_order(limit: np.ndarray, score: Callable[[np.ndarray], np.ndarray]) -> tuple[float, int]:
    """The best score and the smallest index reaching it, where ``limit[i]`` bounds index i's score.

    ``score(indexes)`` scores some indexes; the highest limits are scored first, in growing chunks (each
    picked by a partial sort), until every limit left is below the best score found: none can reach it."""
    best, best_at, chunk = -1.0, 0, 32
    left, highest_left = np.arange(len(limit)), float(limit.max(initial=-np.inf))
    while len(left) and highest_left >= best:
        if len(left) > chunk:
            # the chunk highest first, then the highest of the rest at place ``chunk``
            top = np.argpartition(-limit[left], (chunk - 1, chunk))
            picked, left = left[top[:chunk]], left[top[chunk:]]
            highest_left = float(limit[left[0]])
        else:
            picked, left = left, left[:0]
        chunk *= 2
        for value, at in zip(score(picked).tolist(), picked.tolist(), strict=True):
            if value > best or (value == best and at < best_at):
                best, best_at = value, at
    return best, best_at
