"""Where a pool's vectors come from when it is built: a saved FAISS index on disk, and the embeddings
stored with the rows (a row stored without one is embedded once and written back)."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session, col

from app.models import Instruction
from filters.embedding import Embedder, to_bytes
from filters.index import VectorIndex

logger = logging.getLogger(__name__)


def load_saved_index(path: Path, dimension: int, codec: str) -> VectorIndex | None:
    """The saved index at ``path``, if it is readable and has the embedder's ``dimension`` and ``codec``."""
    if not path.exists():
        return None
    try:
        index = VectorIndex.load(path)
    except (RuntimeError, ValueError) as exc:
        logger.warning("ignoring unreadable saved index %s: %s", path, exc)
        return None
    if index.dimension != dimension:
        logger.warning("ignoring saved index %s: %d dims, embedder has %d", path, index.dimension, dimension)
        return None
    if index.codec != codec:
        logger.info("ignoring saved index %s: codec %s, %s configured", path, index.codec, codec)
        return None
    return index


def embed_missing(
    session: Session,
    embedder: Embedder,
    ids: list[int],
    texts: list[str],
    blobs: list[bytes | None],
    commit: bool = True,
) -> list[bytes]:
    """Every row's vector: the stored one, else embedded now (once: it is stored)."""
    missing = [i for i, blob in enumerate(blobs) if blob is None]
    embedded: dict[int, bytes] = {}
    if missing:
        vectors = embedder.embed([texts[i] for i in missing])
        for i, vector in zip(missing, vectors, strict=True):
            embedded[i] = to_bytes(vector)
            session.exec(
                update(Instruction).where(col(Instruction.id) == ids[i]).values(embedding=embedded[i])
            )
        if commit:
            session.commit()
        logger.info("embedded %d stored rows that had no vector", len(missing))
    return [blob if blob is not None else embedded[i] for i, blob in enumerate(blobs)]
