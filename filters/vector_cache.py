"""Vectors already computed, by the model input that made them: an exact cache for the text encoder.

A sentence vector is a function of the tokenizer's output alone (input ids; the attention mask is all
ones and the token types all zero for one sentence), so two texts with the same ids get the same vector:
all-MiniLM-L6-v2's tokenizer lower-cases and strips accents, so "Write a poem." and "write a poem." are
one model input. The key is the ids themselves (no hash: no collision can hand out a wrong vector), the
value the vector the encoder computed for them. The least recently used entries go first once
``capacity`` is reached; ``capacity`` 0 keeps nothing. Measured on the acceptor benchmark's stream
(``benchmarks/acceptor_ceiling.py``): 18% of the texts the chain embeds repeat an earlier input.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np


def ids_key(ids: Sequence[int]) -> bytes:
    """The cache key of one model input: its token ids as bytes (ids fit in 32 bits)."""
    return np.asarray(ids, dtype=np.int32).tobytes()


class VectorCache:
    """Thread-safe LRU map from an input's ids to its vector, the vectors kept in one preallocated array."""

    def __init__(self, capacity: int, dimension: int) -> None:
        self.capacity = capacity
        self.dimension = dimension
        self.hits = 0
        self.misses = 0
        self._slots: OrderedDict[bytes, int] = OrderedDict()  # key → row of _vectors, oldest use first
        self._vectors = np.empty((capacity, dimension), dtype=np.float32)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._slots)

    def lookup(self, keys: Sequence[bytes], out: np.ndarray) -> list[int]:
        """Copy the cached vectors of ``keys`` into the same rows of ``out``; the positions not cached."""
        missing = []
        with self._lock:
            for position, key in enumerate(keys):
                slot = self._slots.get(key)
                if slot is None:
                    missing.append(position)
                    continue
                self._slots.move_to_end(key)
                out[position] = self._vectors[slot]
            self.hits += len(keys) - len(missing)
            self.misses += len(missing)
        return missing

    def count_repeats(self, repeats: int) -> None:
        """Count as hits ``repeats`` texts that missed but repeat another text of the same call (the model
        runs once for both), so ``hits`` is every text served without a model run of its own."""
        with self._lock:
            self.hits += repeats
            self.misses -= repeats

    def store(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Remember ``vectors[i]`` as the vector of ``keys[i]``, dropping the least recently used."""
        if self.capacity == 0:
            return
        with self._lock:
            for key, vector in zip(keys, vectors, strict=True):
                slot = self._slots.get(key)
                if slot is None:
                    if len(self._slots) < self.capacity:
                        slot = len(self._slots)
                    else:
                        _, slot = self._slots.popitem(last=False)
                    self._slots[key] = slot
                else:
                    self._slots.move_to_end(key)
                self._vectors[slot] = vector
