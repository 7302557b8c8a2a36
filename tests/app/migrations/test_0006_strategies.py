"""Migration 0006: jobs gain a strategy (existing ones: self_instruct), candidates a lineage; templates."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import inspect

from app.core.db import make_engine
from app.core.migrations import alembic_config
from tests.app.migrations.test_migrations import schema_diff

pytestmark = pytest.mark.both_databases

DATASET_ROW = (
    "INSERT INTO dataset (name, description, rouge_threshold, embedding_threshold, heuristics_preset,"
    " disabled_rules, num_human_examples, num_machine_examples, created_at)"
    " VALUES ('d', '', 0.7, 0.85, 'self_instruct', '[]', 6, 2, CURRENT_TIMESTAMP)"
)
JOB_ROW = (
    "INSERT INTO job (dataset_id, status, target, max_requests, instances_per_task, requests, generated,"
    " accepted, rejected, counts, prompt_tokens, completion_tokens, cancel_requested, created_at, attempts)"
    " VALUES (1, 'succeeded', 1, 1, 0, 0, 0, 0, 0, '{}', 0, 0, false, CURRENT_TIMESTAMP, 0)"
)


def test_0006_upgrades_old_jobs_to_self_instruct_and_goes_back(database_url):
    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0004")
        connection.execute(sa.text(DATASET_ROW))
        connection.execute(sa.text(JOB_ROW))
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
    assert schema_diff(engine) == []
    with engine.connect() as connection:
        row = connection.execute(sa.text("SELECT strategy, strategy_settings, stop_reason FROM job")).one()
    assert row[0] == "self_instruct" and row[1] in ({}, "{}") and row[2] is None
    assert "template" in inspect(engine).get_table_names()
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0004")
    inspector = inspect(engine)
    assert "template" not in inspector.get_table_names()
    assert {"strategy", "lineage"}.isdisjoint(c["name"] for c in inspector.get_columns("instruction"))
    assert {"strategy", "auto_stop", "stop_reason"}.isdisjoint(
        c["name"] for c in inspector.get_columns("job")
    )
    engine.dispose()
