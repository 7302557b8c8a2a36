"""Migration 0007: job and schedule ids are never handed out twice, on SQLite as on PostgreSQL, and
the migration goes back to the schema before it (0006's)."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete

from app.core.db import create_tables, make_engine
from app.core.migrations import alembic_config
from app.models import Dataset, Job
from tests.app.migrations.test_migrations import describe, schema_diff

pytestmark = pytest.mark.both_databases

DATASET_COLUMNS_0006 = (
    "name",
    "description",
    "rouge_threshold",
    "embedding_threshold",
    "heuristics_preset",
    "disabled_rules",
    "num_human_examples",
    "num_machine_examples",
    "created_at",
)


JOB_COLUMNS_AFTER_0006 = ("in_flight",)  # added by later revisions, with a server default


def new_job_id(engine: Engine, dataset_id: int) -> int:
    """A job row with the columns every revision since 0006 has; its id."""
    job = Job(dataset_id=dataset_id, target=1, max_requests=1)
    table = Job.__table__  # type: ignore[attr-defined]
    row = {
        c.name: getattr(job, c.name) for c in table.columns if c.name not in ("id", *JOB_COLUMNS_AFTER_0006)
    }
    with engine.begin() as connection:
        return int(connection.execute(table.insert().values(row).returning(table.c.id)).scalar_one())


def delete_jobs(engine: Engine) -> None:
    with Session(engine) as session:
        session.exec(delete(Job).where(col(Job.id) > 0))  # type: ignore[call-overload]
        session.commit()


def add_dataset(engine: Engine) -> int:
    """A dataset row with the columns every revision since 0006 has (later ones add defaulted columns)."""
    dataset = Dataset(name="ids")
    row = {key: getattr(dataset, key) for key in DATASET_COLUMNS_0006}
    with engine.begin() as connection:
        connection.execute(Dataset.__table__.insert().values(row))  # type: ignore[attr-defined]
        return int(connection.execute(text("SELECT id FROM dataset WHERE name = 'ids'")).scalar_one())


def test_a_deleted_jobs_id_is_not_given_to_the_next_job(database_url):
    engine = make_engine(database_url)
    create_tables(engine)
    assert schema_diff(engine) == []
    dataset_id = add_dataset(engine)
    first, second = new_job_id(engine, dataset_id), new_job_id(engine, dataset_id)
    delete_jobs(engine)
    assert new_job_id(engine, dataset_id) > second > first
    engine.dispose()


def test_0007_keeps_rows_and_ids_and_goes_back_to_0006(database_url):
    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0006")
    before = describe(engine)
    dataset_id = add_dataset(engine)
    kept = [new_job_id(engine, dataset_id) for _ in range(3)]
    create_tables(engine)  # 0006 → head
    assert schema_diff(engine) == []
    with Session(engine) as session:
        assert [j.id for j in session.exec(Job.__table__.select()).all()] == kept  # type: ignore[attr-defined]
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            ddl = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = 'job'")).scalar_one()
        assert "AUTOINCREMENT" in ddl
    delete_jobs(engine)
    assert new_job_id(engine, dataset_id) > kept[-1]

    with engine.begin() as connection:  # with foreign keys enforced, as an operator would run it
        command.downgrade(alembic_config(connection), "0006")
    assert describe(engine) == before
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            ddl = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = 'job'")).scalar_one()
        assert "AUTOINCREMENT" not in ddl
    create_tables(engine)
    assert schema_diff(engine) == []
    engine.dispose()
