"""A benchmark's dataset stored in bulk: accepted rows with their embedding bytes, in a fresh SQLite file."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def store_pool(
    path: Path, name: str, description: str, texts: Sequence[str], vectors: np.ndarray, origin: str
) -> float:
    """One dataset ``name`` holding ``texts`` (accepted, as ``origin``) with ``vectors``, inserted by Core
    in batches of 20,000 rows in one transaction; returns the seconds the inserts took."""
    from sqlalchemy import insert

    from app.core.db import create_tables, make_engine
    from app.models import Dataset, Instruction

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    create_tables(engine)
    started = time.perf_counter()
    with engine.begin() as connection:
        key = connection.execute(
            insert(Dataset).values(name=name, description=description, disabled_rules=[])
        ).inserted_primary_key
        assert key is not None
        for start in range(0, len(texts), 20_000):
            rows = range(start, min(len(texts), start + 20_000))
            connection.execute(
                insert(Instruction),
                [
                    {
                        "dataset_id": key[0],
                        "origin": origin,
                        "instruction": texts[i],
                        "accepted": True,
                        "embedding": np.asarray(vectors[i], dtype=np.float32).tobytes(),
                    }
                    for i in rows
                ],
            )
    engine.dispose()
    return time.perf_counter() - started
