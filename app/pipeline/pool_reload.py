"""A pool whose dataset was re-decided elsewhere (a replay applied by another process) is reloaded.

Every applied replay bumps the dataset's ``decisions_version``; a pool remembers the version it was built
at. An acceptor's catch-up (under the dataset's lock, so no replay runs meanwhile) compares the two and,
when the stored one is newer, rebuilds the pool's contents in place from the caller's transaction — seeds
and accepted rows with their stored vectors — so acceptors already holding the pool see the new one.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlmodel import Session, col, or_, select

from app.models import Dataset, Instruction, id_col
from filters.embedding import vectors_from_bytes
from filters.novelty_pool import NoveltyPool

if TYPE_CHECKING:
    from app.pipeline.pools import DatasetPool, PoolRegistry

logger = logging.getLogger(__name__)


def stored_version(session: Session, dataset_id: int) -> int:
    query = select(Dataset.decisions_version).where(col(Dataset.id) == dataset_id)
    return int(session.exec(query).one())


def reload_in_place(session: Session, registry: PoolRegistry, pool: DatasetPool) -> int:
    """Rebuild ``pool``'s items and chain from the database (in ``session``'s transaction); its size."""
    from app.pipeline.stored_vectors import embed_missing

    dataset = session.exec(select(Dataset).where(col(Dataset.id) == pool.dataset_id)).one()
    rows = session.exec(
        select(id_col(Instruction.id), Instruction.origin, Instruction.instruction, Instruction.embedding)
        .where(col(Instruction.dataset_id) == pool.dataset_id)
        .where(or_(col(Instruction.origin) == "seed", col(Instruction.accepted)))
        .order_by(col(Instruction.id))
    ).all()
    ids, texts = [row[0] for row in rows], [row[2] for row in rows]
    embedder = registry.embedder
    dimension = embedder.dimension if embedder else None
    novelty = NoveltyPool(
        dataset.rouge_threshold, dimension, codec=registry.vector_codec, vectors_dir=registry.index_dir
    )
    vectors = None
    if embedder is not None and rows:
        blobs = embed_missing(session, embedder, ids, texts, [row[3] for row in rows], commit=False)
        vectors = vectors_from_bytes(blobs, embedder.dimension)
    novelty.add_many(ids, [row[1] for row in rows], texts, vectors)
    pool.novelty = novelty
    pool.chain = registry.chain_for(session, dataset)
    pool.decisions_version = dataset.decisions_version
    logger.info("dataset %s was re-decided elsewhere: pool reloaded (%d items)", pool.name, len(rows))
    return len(rows)
