"""Pools load a saved FAISS index, catch up newer rows from the database, and reject a stale file."""

from __future__ import annotations

import functools
import threading

import pytest
from sqlmodel import Session

import app.pipeline.pools as pool_module
import filters.novelty_pool as novelty_module
from app.core.db import create_tables, make_engine
from app.core.settings import Settings
from app.datasets.service import ensure_default_dataset, get_dataset
from app.pipeline.acceptor import CandidateIn, decide_and_store
from app.pipeline.pools import PoolRegistry
from filters.index import VectorIndex


@pytest.fixture
def small_saves(monkeypatch):
    monkeypatch.setattr(pool_module, "SAVE_AFTER_ADDING", 10)


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/pool.db")
    create_tables(engine)
    yield engine
    engine.dispose()


def test_saved_index_is_loaded_and_caught_up(tmp_path, engine, embedder, small_saves):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/pool.db", _env_file=None)
    index_dir = settings.resolved_index_dir()
    assert index_dir == tmp_path / "pool-indexes"
    first = PoolRegistry(engine, embedder, index_dir)
    with Session(engine, expire_on_commit=False) as session:
        ensure_default_dataset(session, first, settings)  # 129 seeds: large enough to be saved
        dataset = get_dataset(session, "default")
        seeds = len(first.get(dataset).novelty.vectors)
        first.invalidate(dataset.id)
        assert len(first.get(dataset).novelty.vectors) == seeds  # rebuilt from stored vectors, saved
        path = first.index_path(dataset.id)
        assert path.exists()
        text = "Plan a weekend of indoor activities for two bored teenagers."
        pool = first.get(dataset)
        outcome = decide_and_store(session, first, pool, [CandidateIn(text, "submitted")])[0]
        assert outcome.decision.accepted
    embedded_before = embedder.texts_embedded
    second = PoolRegistry(engine, embedder, index_dir)  # a new process: the saved file lacks the new row
    with Session(engine) as session:
        pool = second.get(get_dataset(session, "default"))
    assert len(pool.novelty.vectors) == seeds + 1
    assert pool.novelty.vectors.nearest(embedder.embed([text])[0])[1] == outcome.row.id
    assert embedder.texts_embedded == embedded_before + 1  # only the query above


def test_a_saved_index_that_disagrees_with_the_database_is_rebuilt(tmp_path, engine, embedder, small_saves):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/pool.db", _env_file=None)
    registry = PoolRegistry(engine, embedder, settings.resolved_index_dir())
    with Session(engine, expire_on_commit=False) as session:
        ensure_default_dataset(session, registry, settings)
        dataset = get_dataset(session, "default")
        pool = registry.get(dataset)
        seeds = len(pool.novelty.vectors)
        # a stale file claiming ids the database does not have
        import numpy as np

        pool.novelty.vectors.add([10**9], np.ones((1, pool.novelty.vectors.dimension), dtype=np.float32) / 20)
        registry.save_all()
        fresh = PoolRegistry(engine, embedder, settings.resolved_index_dir())
        rebuilt = fresh.get(dataset)
    assert len(rebuilt.novelty.vectors) == seeds


def test_a_cold_start_builds_the_graph_in_the_background_then_saves_it(
    tmp_path, engine, embedder, small_saves, monkeypatch
):
    monkeypatch.setattr(novelty_module, "VectorIndex", functools.partial(VectorIndex, ann_min_size=50))
    settings = Settings(database_url=f"sqlite:///{tmp_path}/pool.db", _env_file=None)
    registry = PoolRegistry(engine, embedder, settings.resolved_index_dir())
    with Session(engine, expire_on_commit=False) as session:
        ensure_default_dataset(session, registry, settings)  # 129 seeds
        dataset = get_dataset(session, "default")
    path = registry.index_path(dataset.id)
    registry.invalidate(dataset.id)
    path.unlink(missing_ok=True)
    pool = registry.get(dataset)  # nothing saved: the graph is built from the stored vectors
    assert pool.novelty.vectors.wait_built(30)
    assert pool.novelty.vectors.kind == "hnsw" and len(pool.novelty.vectors) == 129
    saved = VectorIndex.load(path)  # saved once built, even when it finished before get() returned
    assert saved.kind == "hnsw" and sorted(saved.ids().tolist()) == sorted(
        pool.novelty.vectors.ids().tolist()
    )
    written = path.stat().st_mtime_ns
    registry.save_all()  # unchanged since it was saved: not written again
    assert path.stat().st_mtime_ns == written
    with Session(engine, expire_on_commit=False) as session:
        text = "Plan a weekend of indoor activities for two bored teenagers."
        outcome = decide_and_store(session, registry, pool, [CandidateIn(text, "submitted")])[0]
        assert outcome.decision.accepted
    registry.save_all()
    assert len(VectorIndex.load(path)) == 130


def test_a_graph_built_for_a_dropped_pool_is_not_saved(tmp_path, engine, embedder, small_saves, monkeypatch):
    monkeypatch.setattr(novelty_module, "VectorIndex", functools.partial(VectorIndex, ann_min_size=50))
    settings = Settings(database_url=f"sqlite:///{tmp_path}/pool.db", _env_file=None)
    registry = PoolRegistry(engine, embedder, settings.resolved_index_dir())
    with Session(engine, expire_on_commit=False) as session:
        ensure_default_dataset(session, registry, settings)
        dataset = get_dataset(session, "default")
    release = threading.Event()
    original = VectorIndex._new_hnsw
    monkeypatch.setattr(VectorIndex, "_new_hnsw", lambda self: release.wait(10) and original(self))
    path = registry.index_path(dataset.id)
    registry.invalidate(dataset.id)
    path.unlink(missing_ok=True)
    pool = registry.get(dataset)
    assert pool.novelty.vectors.building and registry.building() == ["default"]
    registry.save_all()  # a graph still being built is not saved half-done (nor as the flat stand-in)
    assert not path.exists()
    registry.forget(dataset.id)  # the dataset is deleted before its graph is done
    release.set()
    assert pool.novelty.vectors.wait_built(30) and pool.novelty.vectors.kind == "hnsw"
    assert not path.exists() and registry.building() == []
