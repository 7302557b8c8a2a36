"""Migration 0009: the replay, decision-history and review tables come up empty beside existing data, an
existing snapshot recorded no reviews, and going back restores 0008's schema."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from app.core.db import create_tables, make_engine
from app.core.migrations import alembic_config
from tests.app.migrations.test_0007_ids_never_reused import add_dataset
from tests.app.migrations.test_migrations import describe, schema_diff

pytestmark = pytest.mark.both_databases


def test_0009_adds_empty_history_and_reviews_and_goes_back(database_url):
    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0008")
    before = describe(engine)
    dataset_id = add_dataset(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO snapshot (dataset_id, note, include_seeds, instance_ids, seed_instruction_ids,"
                " created_at) VALUES (:id, 'v1', false, '[1, 2]', '[]', CURRENT_TIMESTAMP)"
            ),
            {"id": dataset_id},
        )
    create_tables(engine)  # 0008 → head
    assert schema_diff(engine) == []
    with engine.connect() as connection:
        snapshot = connection.execute(text("SELECT note, instance_ids, review_ids FROM snapshot")).one()
        assert (snapshot[0], snapshot[2]) == ("v1", None)
        for table in ("replay", "decision_change", "review"):
            assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0008")
    assert describe(engine) == before
    with engine.connect() as connection:
        assert connection.execute(text("SELECT note FROM snapshot")).scalar_one() == "v1"
    engine.dispose()
