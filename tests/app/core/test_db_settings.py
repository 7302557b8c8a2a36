from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.core.db import make_engine, postgres_url
from app.core.settings import Settings


def test_postgresql_urls_mean_psycopg_3():
    assert postgres_url("postgresql://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"
    assert postgres_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert postgres_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert make_engine("postgresql://u@h/db").dialect.driver == "psycopg"


def test_the_heartbeat_must_fit_twice_in_the_lease():
    assert Settings(job_lease_s=10, job_heartbeat_s=5, _env_file=None).job_lease_s == 10
    with pytest.raises(ValidationError, match="SI_JOB_HEARTBEAT_S must be at most half of SI_JOB_LEASE_S"):
        Settings(job_lease_s=10, job_heartbeat_s=6, _env_file=None)


def test_the_filter_chain_is_read_in_order_from_the_environment(monkeypatch):
    monkeypatch.setenv("SI_FILTER_CHAIN", "rouge, heuristics,exact")
    assert Settings(_env_file=None).filter_chain == ("rouge", "heuristics", "exact")


@pytest.mark.parametrize(("value", "named"), [("rouge,bleu", "bleu"), ("rouge,rouge", "distinct"), ("", "")])
def test_a_bad_filter_chain_is_refused_naming_the_problem(monkeypatch, value, named):
    monkeypatch.setenv("SI_FILTER_CHAIN", value)
    with pytest.raises(ValidationError, match="SI_FILTER_CHAIN") as raised:
        Settings(_env_file=None)
    assert named in str(raised.value)


def test_pools_decide_with_the_configured_chain(tmp_path, embedder):
    from sqlmodel import Session

    from app.datasets.service import get_dataset
    from app.services import build_services

    url = f"sqlite:///{tmp_path}/chain.db"
    settings = Settings(database_url=url, filter_chain=("rouge", "exact"), _env_file=None)
    services = build_services(settings, embedder, model=False, ensure_default=True)
    try:
        registry = services.pools.registry
        with Session(services.engine) as session:
            pool = registry.get(get_dataset(session, "default"))
        assert pool.chain.ids == ("rouge", "exact")
    finally:
        services.stop()
