"""The ROUGE-L index's prefix postings, each sorted by item length, so a query reads only lengths that can
qualify.

For every element (a token's k-th occurrence) the postings list the items whose indexed prefix holds it,
each entry one int64: ``length << 44 | position << 12 | place`` (the item's token count, saturated at
``2**19 - 1``; its position in the pool, below ``2**32``; the element's place in the item's prefix,
saturated at 4095). Sorted entries are therefore ordered by length first. The filters of
:meth:`PrefixPostings.candidates` (filters/rouge.py explains them) need, for a query element at place
``i`` of a query of ``n`` tokens, ``n − i ≥ need[m]`` and ``m − j ≥ need[m]``, where ``need[m]`` (the
overlap a partner of length ``m`` needs) never decreases over the lengths that can qualify: the first
condition holds for one range of lengths, read as a slice of the sorted entries, and only the entries in
it are tested for the second. An element deep in a query's prefix (a common token, with long postings)
usually keeps only the short items, or none. Saturation only ever keeps more entries (a saturated length
passes the second test), never fewer.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

PLACE_BITS = 12
PLACE_MAX = (1 << PLACE_BITS) - 1
_LENGTH_SHIFT = 44
_LENGTH_BITS = 63 - _LENGTH_SHIFT
_LENGTH_MAX = (1 << _LENGTH_BITS) - 1
_POSITION_MASK = (1 << (_LENGTH_SHIFT - PLACE_BITS)) - 1
_EMPTY = np.zeros(0, dtype=np.int64)


def pack(positions: np.ndarray, places: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Entries for items at ``positions`` holding an element at ``places`` of their prefix."""
    if len(positions) and int(positions.max()) > _POSITION_MASK:
        raise ValueError("a ROUGE-L index holds fewer than 2**32 items")
    return (
        (np.minimum(lengths, _LENGTH_MAX) << _LENGTH_SHIFT)
        | (positions << PLACE_BITS)
        | np.minimum(places, PLACE_MAX)
    )


class PrefixPostings:
    """Element → its entries, one sorted array each (an added entry is inserted in its place)."""

    def __init__(self) -> None:
        self._sorted: dict[int, np.ndarray] = {}

    def build(self, elements: np.ndarray, entries: np.ndarray) -> None:
        """Replace every posting with ``entries`` grouped by ``elements``; the entries of each element
        must come in ascending order (their items shortest first, then by position), as they stay."""
        if not len(elements):
            self._sorted = {}
            return
        order = np.argsort(elements, kind="stable")
        elements, entries = elements[order], entries[order]
        bounds = np.flatnonzero(np.diff(elements)) + 1
        starts = np.concatenate(([0], bounds))
        self._sorted = dict(zip(elements[starts].tolist(), np.split(entries, bounds), strict=True))

    def add(self, elements: Iterable[int], position: int, length: int) -> None:
        """Index one item: ``elements`` are its prefix, in place order. Each insertion copies its posting
        once (the longest at 1M real items holds ~13K entries: ~0.1 MB)."""
        elements = list(elements)
        count = len(elements)
        entries = pack(np.full(count, position), np.arange(count), np.full(count, length))
        postings = self._sorted
        for element, entry in zip(elements, entries.reshape(-1, 1), strict=True):
            array = postings.get(element)
            if array is None:
                postings[element] = entry
            else:
                at = int(array.searchsorted(entry[0]))
                postings[element] = np.concatenate((array[:at], entry, array[at:]))

    def candidates(
        self, ranked: Iterable[tuple[int, int]], n: int, need: np.ndarray, low: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Positions (ascending, each once) of items sharing an element of ``ranked`` (``(place, element)``
        pairs of a query of ``n`` tokens) that pass both filters, and their stored (saturated) lengths.
        ``need[m]`` is the overlap a partner of length ``m`` needs (lengths past the table take its last
        entry), never met below ``low`` and never decreasing from there."""
        tail = need[low:]
        first = min(low, _LENGTH_MAX) << _LENGTH_SHIFT  # a saturated length may stand for one past low
        ranked = list(ranked)
        places = np.fromiter((place for place, _ in ranked), dtype=np.int64, count=len(ranked))
        passing = tail.searchsorted(n - places, side="right")  # lengths low … low+k-1 pass n − i ≥ need
        pieces = []
        for (_, element), k in zip(ranked, passing.tolist(), strict=True):
            array = self._sorted.get(element) if k else None
            if array is None:
                continue
            last = low + k  # the first length that no longer passes
            if k == len(tail) or last > _LENGTH_MAX:
                start, stop = int(array.searchsorted(first)), len(array)
            else:
                start, stop = array.searchsorted((first, last << _LENGTH_SHIFT)).tolist()
            if stop > start:
                pieces.append(array[start:stop])
        if not pieces:
            return _EMPTY, _EMPTY
        entry = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
        length = entry >> _LENGTH_SHIFT
        required = need[np.minimum(length, len(need) - 1)]
        kept = (length - (entry & PLACE_MAX) >= required) | (length == _LENGTH_MAX)
        # one key per (position, length): an item's entries share its length
        keys = sorted_unique((((entry[kept] >> PLACE_BITS) & _POSITION_MASK) << _LENGTH_BITS) | length[kept])
        return keys >> _LENGTH_BITS, keys & _LENGTH_MAX


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)``: a sort and a neighbour comparison (3-4x faster here than numpy 2's hash)."""
    values = np.sort(values)
    if len(values) < 2:
        return values
    first = np.empty(len(values), dtype=bool)
    first[0] = True
    np.not_equal(values[1:], values[:-1], out=first[1:])
    return values[first]
