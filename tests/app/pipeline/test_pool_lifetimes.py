"""Pools loaded at first use, dropped when idle or over the process's budget of items; a pool an
acceptor is using is never dropped, and a dropped pool comes back from the database at its next use."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from sqlmodel import Session

from app.core.db import create_tables, make_engine
from app.core.settings import Settings
from app.datasets.service import create_dataset, ensure_default_dataset, get_dataset
from app.models import DatasetCreate
from app.pipeline.acceptor import CandidateIn, decide_and_store
from app.pipeline.pool_lifetimes import PoolLifetimes
from app.pipeline.pools import PoolRegistry


@dataclass
class _Pool:
    dataset_id: int
    items: int
    last_used: float

    def __len__(self) -> int:
        return self.items


def test_idle_pools_and_the_least_recently_used_over_the_budget_are_dropped() -> None:
    a, b, c = _Pool(1, 100, last_used=0.0), _Pool(2, 50, last_used=50.0), _Pool(3, 70, last_used=90.0)
    assert PoolLifetimes().to_drop([a, b, c], now=1000.0) == []  # both rules off
    assert PoolLifetimes(idle_s=60).to_drop([c, b, a], now=100.0) == [a]
    assert PoolLifetimes(idle_s=60).to_drop([a, b, c], keep=1, now=100.0) == []
    assert PoolLifetimes(budget_items=130).to_drop([c, a, b], now=100.0) == [a]  # 220 → 120
    assert PoolLifetimes(budget_items=60).to_drop([a, b, c], keep=3, now=100.0) == [a, b]
    assert PoolLifetimes(idle_s=60, budget_items=70).to_drop([a, b, c], now=100.0) == [a, b]
    assert PoolLifetimes(budget_items=10).to_drop([a, b, c], now=100.0) == [a, b, c]


@pytest.fixture
def registry_for(tmp_path, embedder):
    url = f"sqlite:///{tmp_path}/pools.db"
    engine = make_engine(url)
    create_tables(engine)
    settings = Settings(database_url=url, _env_file=None)

    def build(lifetimes: PoolLifetimes) -> tuple[PoolRegistry, Session]:
        registry = PoolRegistry(engine, embedder, None, lifetimes=lifetimes)
        session = Session(engine, expire_on_commit=False)
        ensure_default_dataset(session, registry, settings)  # 129 seeds
        create_dataset(session, DatasetCreate(name="small"), settings)
        session.commit()
        return registry, session

    yield build
    engine.dispose()


def test_a_pool_over_the_budget_goes_and_comes_back_with_what_was_stored(registry_for) -> None:
    registry, session = registry_for(PoolLifetimes(budget_items=131))
    default = registry.get(get_dataset(session, "default"))
    text = "Plan a weekend of indoor activities for two bored teenagers in a small flat."
    decide_and_store(session, registry, default, [CandidateIn(text, "submitted")])
    assert len(default) == 130
    registry.get(get_dataset(session, "small"))  # 130 + 0 items: within the budget
    assert registry.cached("default") is default
    decide_and_store(
        session, registry, registry.get(get_dataset(session, "small")), [CandidateIn(text, "submitted")]
    )
    other = create_dataset(session, DatasetCreate(name="other"), Settings(_env_file=None))
    session.commit()
    poem = "Write a short poem about the smell of rain on hot pavement."
    decide_and_store(session, registry, registry.get(other), [CandidateIn(poem, "submitted")])
    assert registry.trim() == ["default"]  # 132 items: the least recently used pool makes room
    assert registry.cached("default") is None and registry.cached("other") is not None
    again = registry.get(get_dataset(session, "default"))
    assert again is not default and len(again) == 130 and again.novelty.exact_twin(text) is not None
    session.close()


def test_idle_pools_are_dropped_but_not_one_an_acceptor_holds(registry_for) -> None:
    registry, session = registry_for(PoolLifetimes(idle_s=60))
    default = registry.get(get_dataset(session, "default"))
    small = registry.get(get_dataset(session, "small"))
    default.last_used -= 61
    small.last_used -= 61
    held, release = threading.Event(), threading.Event()

    def acceptor() -> None:  # deciding in this pool
        with default.lock:
            held.set()
            release.wait(10)

    thread = threading.Thread(target=acceptor)
    thread.start()
    held.wait(10)
    assert registry.trim() == ["small"]
    release.set()
    thread.join()
    assert registry.cached("default") is default
    default.last_used -= 61
    assert registry.trim() == ["default"]
    assert registry.cached("default") is None
    session.close()


async def test_without_warming_the_service_is_ready_and_builds_a_pool_at_first_use(
    client_for, settings
) -> None:
    async with client_for():
        pass  # the first start creates the default dataset
    lazy = settings.model_copy(update={"warm_pools": False})
    async with client_for(settings_=lazy) as client:  # ready: the embedder is loaded
        registry = client.app_state.pools.registry  # type: ignore[attr-defined]
        assert registry.cached("default") is None
        response = await client.get("/v1/datasets/default/similar", params={"q": "write a poem"})
        assert response.status_code == 200 and len(response.json()["items"]) == 10
        assert registry.cached("default") is not None
