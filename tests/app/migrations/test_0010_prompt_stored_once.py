"""Migration 0010: existing ledger rows keep every prompt, stored once per job and prompt, and go back to
one copy per row."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from app.core.db import create_tables, make_engine
from app.core.migrations import alembic_config
from tests.app.migrations.test_0007_ids_never_reused import add_dataset
from tests.app.migrations.test_migrations import describe, schema_diff

pytestmark = pytest.mark.both_databases

BEFORE = "0009"  # the revision 0010 comes after (re-chained when another lands in between)
GENERATION_ROW = (
    "INSERT INTO generation (dataset_id, job_id, model_id, prompt, params, sample_index, completion,"
    " finish_reason, prompt_tokens, completion_tokens, seconds, parse_dropped, created_at)"
    " VALUES (:dataset, NULL, 'm', :prompt, '{}', :sample, 'c', 'stop', 3, 1, 0.1, '[]', CURRENT_TIMESTAMP)"
)


def _rows(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(sa.text("SELECT id, prompt, prompt_in FROM generation ORDER BY id"))
        ]


def test_0010_stores_each_prompt_once_keeps_them_all_and_goes_back(database_url):
    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), BEFORE)
    before = describe(engine)
    dataset = add_dataset(engine)
    prompts = [
        "Come up with tasks: A",
        "Come up with tasks: A",
        "Come up with tasks: B",
        "Come up with tasks: A",
    ]
    with engine.begin() as connection:
        for sample, prompt in enumerate(prompts):
            connection.execute(
                sa.text(GENERATION_ROW), {"dataset": dataset, "prompt": prompt, "sample": sample}
            )
    with engine.connect() as connection:
        ids = [i for (i,) in connection.execute(sa.text("SELECT id FROM generation ORDER BY id"))]
    create_tables(engine)  # BEFORE → head
    assert schema_diff(engine) == []
    assert _rows(engine) == [
        (ids[0], prompts[0], None),
        (ids[1], None, ids[0]),
        (ids[2], prompts[2], None),
        (ids[3], None, ids[0]),
    ]
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), BEFORE)
    assert describe(engine) == before
    with engine.connect() as connection:
        restored = [p for (p,) in connection.execute(sa.text("SELECT prompt FROM generation ORDER BY id"))]
    assert restored == prompts
    engine.dispose()
