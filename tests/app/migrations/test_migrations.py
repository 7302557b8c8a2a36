"""Migrations: an empty database and those releases 0.1.0 and 0.2 created all reach the models' schema, with
their data converted (job counters into groups, the instance-stage state from ``instances``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from app.core.db import create_tables, make_engine
from app.core.migrations import alembic_config
from app.jobs.counters import as_job_counts
from app.jobs.leases import claim
from app.models import Dataset, Instruction, Job, JobCounts
from app.pipeline.instance_stage import pending_tasks
from tests.postgres import fresh_schema

VERSIONS = Path(__file__).resolve().parents[3] / "app" / "migrations" / "versions"

pytestmark = pytest.mark.both_databases
HERE = Path(__file__).parent


def schema_diff(engine: Engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)


def describe(engine: Engine) -> dict:
    """Tables, columns, keys and indexes as reflected: what two schemas must share to be the same."""
    inspector = inspect(engine)
    tables = {}
    for table in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
        tables[table] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                for f in inspector.get_foreign_keys(table)
            ),
            "unique": sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(table)
            ),
        }
    return tables


def create_previous_release_database(engine: Engine) -> None:
    """Run the DDL release 0.1.0's ``create_all`` emitted (captured in previous_release_<dialect>.sql)."""
    lines = (HERE / f"previous_release_{engine.dialect.name}.sql").read_text().splitlines()
    script = "\n".join(line for line in lines if not line.startswith("--"))
    with engine.begin() as connection:
        for statement in filter(None, (s.strip() for s in script.split(";"))):
            connection.exec_driver_sql(statement)


@pytest.fixture
def second_database_url(database_url: str, tmp_path: Path, request: pytest.FixtureRequest):
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/second.db"
    else:
        yield from fresh_schema(request.getfixturevalue("postgres_server"))


def test_an_empty_database_upgrades_to_the_models_schema(database_url):
    engine = make_engine(database_url)
    create_tables(engine)
    assert schema_diff(engine) == []
    with engine.connect() as connection:
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert head == sorted(p.name[:4] for p in VERSIONS.glob("0*.py"))[-1]  # the newest file is head
        assert MigrationContext.configure(connection).get_current_revision() == head
    create_tables(engine)  # a second start-up finds nothing to do
    assert schema_diff(engine) == []
    engine.dispose()


def test_the_first_migration_creates_the_previous_release_schema(database_url, second_database_url):
    migrated, previous = make_engine(database_url), make_engine(second_database_url)
    with migrated.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
    create_previous_release_database(previous)
    assert describe(migrated) == describe(previous)
    assert set(describe(previous)) == {"dataset", "instruction", "generation", "job"}
    migrated.dispose()
    previous.dispose()


# job counters as releases 0.1.0 and 0.2 wrote them (flat, prefixed keys) and as 0004 converts them
FLAT_COUNTS = {
    "accepted": 4,
    "rouge_l": 6,
    "exact": 1,
    "parse:truncated": 2,
    "parse:target_reached": 1,
    "classification:yes": 1,
    "classification:unclear": 1,
    "instance:accepted": 3,
    "instance:copied_from_prompt": 2,
    "instance_parse:extra_pair": 1,
}
TYPED_COUNTS = {
    "decisions": {"accepted": 4, "rouge_l": 6, "exact": 1},
    "parse_dropped": {"truncated": 2, "target_reached": 1},
    "classification": {"yes": 1, "unclear": 1},
    "instance_decisions": {"accepted": 3, "copied_from_prompt": 2},
    "instance_parse_dropped": {"extra_pair": 1},
}
# (text, origin, accepted, instances as an SQL literal or NULL) → the instance_stage 0004 gives it
OLD_TASKS = [
    ("Explain tides to a child.", "generated", "true", "NULL", "pending"),
    ("Name the capital of France.", "seed", "true", """'[{"input": "", "output": "Paris"}]'""", None),
    ("Describe a storm at sea.", "generated", "true", "'null'", "pending"),
    ("Add two numbers.", "submitted", "true", """'[{"input": "2 2", "output": "4"}]'""", "done"),
    ("List three colours.", "ingested", "true", "'[]'", "done"),
    ("Draw a cat.", "generated", "false", "NULL", None),
]


def insert_old_data(engine: Engine) -> None:
    """Rows valid in the schemas of 0.1.0 and 0.2: a dataset, a running job with flat counters, an empty
    finished one, and tasks in every state the instance stage knew through ``instances``."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO dataset (name, description, rouge_threshold, embedding_threshold, "
                "heuristics_preset, disabled_rules, num_human_examples, num_machine_examples, created_at) "
                "VALUES ('old', '', 0.7, 0.85, 'self_instruct', '[]', 6, 2, '2026-01-01 00:00:00')"
            )
        )
        for status, counts in (("running", json.dumps(FLAT_COUNTS)), ("succeeded", "{}")):
            connection.execute(
                text(
                    "INSERT INTO job (dataset_id, status, target, max_requests, requests, generated, "
                    "accepted, rejected, counts, prompt_tokens, completion_tokens, cancel_requested, "
                    f"created_at) VALUES (1, '{status}', 10, 200, 3, 12, 4, 8, '{counts}', 0, 0, false, "
                    "'2026-01-01 00:00:00')"
                )
            )
        for instruction, origin, accepted, instances, _ in OLD_TASKS:
            connection.execute(
                text(
                    "INSERT INTO instruction (dataset_id, origin, instruction, accepted, instances, job_id, "
                    f"created_at) VALUES (1, '{origin}', '{instruction}', {accepted}, {instances}, 1, "
                    "'2026-01-01 00:00:00')"
                )
            )


def assert_old_data_converted(engine: Engine) -> None:
    with Session(engine) as session:
        assert session.exec(select(Dataset.name)).all() == ["old"]
        rows = session.exec(select(Instruction).order_by(col(Instruction.id))).all()
        assert [r.instruction for r in rows] == [t[0] for t in OLD_TASKS]
        assert [r.instance_stage for r in rows] == [t[-1] for t in OLD_TASKS]
        assert pending_tasks(session, 1) == [rows[0].id, rows[2].id]
        running, finished = session.exec(select(Job).order_by(col(Job.id))).all()
        assert running.counts == JobCounts.model_validate(TYPED_COUNTS)
        assert finished.counts == JobCounts()
        assert (running.status, running.accepted, running.attempts, running.lease_owner) == (
            "running",
            4,
            0,
            None,
        )


def stored_counts(engine: Engine) -> list[dict]:
    with engine.connect() as connection:
        values = connection.execute(text("SELECT counts FROM job ORDER BY id")).scalars().all()
    return [json.loads(v) if isinstance(v, str) else v for v in values]


def test_a_previous_release_database_upgrades_and_keeps_its_data(database_url):
    engine = make_engine(database_url)
    create_previous_release_database(engine)
    insert_old_data(engine)
    create_tables(engine)
    assert schema_diff(engine) == []
    assert_old_data_converted(engine)
    # groups added after 0004 (``requests``) read as empty from the rows it wrote
    read = [as_job_counts(c) for c in stored_counts(engine)]
    assert read == [as_job_counts(TYPED_COUNTS), JobCounts()]
    assert stored_counts(engine)[0] == TYPED_COUNTS
    # a job the old release left running has no lease: a worker takes it over and resumes it
    lease = claim(engine, "new-worker", 30.0)
    assert lease is not None and (lease.job_id, lease.attempt) == (1, 1)
    engine.dispose()


def test_a_0_2_database_gets_typed_counts_and_stage_states_and_can_go_back(database_url):
    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0003")  # head of release 0.2
    insert_old_data(engine)
    create_tables(engine)
    assert schema_diff(engine) == []
    assert_old_data_converted(engine)
    create_tables(engine)  # converted counters are left as they are by a second start-up
    assert_old_data_converted(engine)

    command.downgrade(alembic_config(url=database_url), "0003")  # as the ``alembic`` command runs it
    assert stored_counts(engine) == [FLAT_COUNTS, {}]
    columns = {c["name"] for c in inspect(engine).get_columns("instruction")}
    assert "instance_stage" not in columns
    engine.dispose()
