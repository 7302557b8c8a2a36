"""The arithmetic of the exact ROUGE-L gate (filters/rouge.py): F from LCS lengths with rouge-score's float
operations, the length and overlap bounds that prune candidates, and token ids encoded for rapidfuzz."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence

import numpy as np

SLACK = 1e-9  # the bounds use >= with this slack, so pairs exactly at the threshold are always scored


def encode(seq: Sequence[int]) -> str | list[int]:
    """Token ids as a string of code points (unknown tokens, id -1, become U+0000, never an item's).

    rapidfuzz compares strings far faster than lists; ids past the Unicode range stay a list of ints,
    which rapidfuzz compares with strings by code point, so both forms mix freely.
    """
    codes = [t + 1 if t + 1 < 0xD800 else t + 0x801 for t in seq]  # skip the surrogate block
    if codes and max(codes) > 0x10FFFF:
        return codes
    return "".join(map(chr, codes))


def rouge_l_f_many(lcs: np.ndarray, candidate_len: int, item_lens: np.ndarray) -> np.ndarray:
    """rouge-score's ``_score_lcs(candidate, item).fmeasure`` for each item, from LCS lengths.

    ``P = LCS/len(item)``, ``R = LCS/len(candidate)``, ``2·P·R/(P+R)`` (0 when either list is empty):
    the same IEEE operations in the same order as rouge-score, so the same bits."""
    lcs = lcs.astype(np.float64)
    item_lens = item_lens.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = lcs / item_lens
        recall = lcs / float(candidate_len)
        total = precision + recall
        scores = 2 * precision * recall / total
    valid = (item_lens > 0) & (candidate_len > 0) & (total > 0)
    return np.where(valid, scores, 0.0)


def encode_many(seqs: Sequence[Sequence[int]]) -> list[str | list[int]]:
    """:func:`encode` of every sequence, decoding one UTF-32 buffer instead of joining per item."""
    lens = [len(seq) for seq in seqs]
    codes = np.fromiter(itertools.chain.from_iterable(seqs), dtype=np.int64, count=sum(lens)) + 1
    codes = np.where(codes < 0xD800, codes, codes + 0x800)
    if len(codes) and codes.max() > 0x10FFFF:
        return [encode(seq) for seq in seqs]
    text = codes.astype("<u4").tobytes().decode("utf-32-le")
    ends = itertools.accumulate(lens)
    return [text[end - n : end] for n, end in zip(lens, ends, strict=True)]


def min_overlap_many(lengths: np.ndarray, threshold: float) -> np.ndarray:
    """:func:`min_overlap` of each length, with the same float operations."""
    return np.maximum(0, np.ceil(threshold * lengths.astype(np.float64) / (2 - threshold) - SLACK)).astype(
        np.int64
    )


def min_overlap(length: int, threshold: float) -> int:
    """The least multiset overlap any partner needs with a list of ``length`` tokens to reach F ≥ t."""
    return max(0, math.ceil(threshold * length / (2 - threshold) - SLACK))


def length_bounds(length: int, threshold: float) -> tuple[int, int]:
    """Partner lengths that can reach F ≥ threshold with a list of ``length`` tokens."""
    if threshold <= 0:
        return 0, 1 << 62
    low = math.ceil(threshold * length / (2 - threshold) - SLACK)
    high = math.floor(length * (2 - threshold) / threshold + SLACK)
    return max(low, 1), high


@functools.lru_cache(maxsize=4096)
def needed_overlap(length: int, threshold: float, size: int) -> np.ndarray:
    """For each partner length m (index), the overlap it needs with a list of ``length`` tokens to reach
    F ≥ t: ``ceil(t(m+n)/2)``, or ``length + 1`` (never met) outside :func:`length_bounds`. ``size`` is the
    longest partner there is: the table covers every length up to ``min(high, size) + 1``, so a partner
    past it is longer than ``high`` and takes the last entry, never met. From the low bound on, the needs
    never decrease. Cached: the same array is returned for the same arguments, never to be written to."""
    low, high = length_bounds(length, threshold)
    lengths = np.arange(min(high, size) + 2, dtype=np.int64)
    need = np.ceil(threshold * (lengths + length) / 2 - SLACK).astype(np.int64)
    need[(lengths < low) | (lengths > high)] = length + 1
    need.flags.writeable = False
    return need
