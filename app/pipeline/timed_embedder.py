"""The pools' embedder, timed: each call's latency per batch and per text, for ``/metrics``."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from filters.embedding import Embedder
from generators.backends.timings import Latency


class TimedEmbedder:
    """Wraps an :class:`~filters.embedding.Embedder`; anything else it has (``wait_loaded`` …) passes
    through. ``per_batch`` times each call, ``per_text`` the same time divided over its texts."""

    def __init__(self, embedder: Embedder) -> None:
        self.inner = embedder
        self.per_batch = Latency()
        self.per_text = Latency()

    @property  # the wrapped embedder's (it may learn them only once loaded)
    def dimension(self) -> int:
        return self.inner.dimension

    @dimension.setter
    def dimension(self, value: int) -> None:
        self.inner.dimension = value

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @model_id.setter
    def model_id(self, value: str) -> None:
        self.inner.model_id = value

    def embed(self, texts: list[str]) -> np.ndarray:
        return self._timed(self.inner.embed, texts)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._timed(self.inner.embed_queries, texts)

    def _timed(self, embed: Any, texts: list[str]) -> np.ndarray:
        started = time.perf_counter()
        vectors: np.ndarray = embed(texts)
        seconds = time.perf_counter() - started
        if texts:
            self.per_batch.observe(seconds)
            self.per_text.observe(seconds / len(texts), len(texts))
        return vectors

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
