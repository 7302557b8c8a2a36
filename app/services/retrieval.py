"""Similarity search over a dataset's pool (seeds and accepted instructions)."""

from __future__ import annotations

from app.models import SimilarItem
from app.services.errors import InvalidInput, NotReady
from app.services.pool import DatasetPool, PoolRegistry

MAX_K = 100


def similar(registry: PoolRegistry, pool: DatasetPool, query: str, k: int) -> list[SimilarItem]:
    """The ``k`` pool items closest to ``query`` by cosine, best first."""
    if not query.strip():
        raise InvalidInput("query 'q' is empty")
    if not 1 <= k <= MAX_K:
        raise InvalidInput(f"'k' must be between 1 and {MAX_K}")
    if registry.embedder is None or pool.chain.vectors is None:
        raise NotReady("the embedding model is not loaded")
    vector = registry.embedder.embed([query])
    with pool.lock:
        scores, ids = pool.chain.vectors.search(vector, k)
        return [
            SimilarItem(
                id=int(i),
                instruction=pool.texts[int(i)],
                score=float(s),
                origin=pool.origins[int(i)],
            )
            for s, i in zip(scores[0], ids[0], strict=True)
            if i >= 0
        ]
