"""Migration 0012: snapshots gain ``marks``; the ones taken before keep their id lists (marks NULL) and go
back untouched; a snapshot taken with marks cannot go back (it has no id lists)."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from app.core.db import create_tables, make_engine
from app.core.migrations import alembic_config
from tests.app.migrations.test_0007_ids_never_reused import add_dataset
from tests.app.migrations.test_migrations import describe, schema_diff

pytestmark = pytest.mark.both_databases

BEFORE = "0011"  # the revision 0012 comes after
OLD_SNAPSHOT = (
    "INSERT INTO snapshot (dataset_id, note, include_seeds, instance_ids, seed_instruction_ids, review_ids,"
    " created_at) VALUES (:id, 'v1', false, '[1, 2]', '[3]', '[4]', CURRENT_TIMESTAMP)"
)


def test_0012_keeps_id_list_snapshots_and_goes_back(database_url):
    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), BEFORE)
    before = describe(engine)
    dataset_id = add_dataset(engine)
    with engine.begin() as connection:
        connection.execute(text(OLD_SNAPSHOT), {"id": dataset_id})
    create_tables(engine)  # → head
    assert schema_diff(engine) == []
    query = "SELECT note, instance_ids, seed_instruction_ids, review_ids, marks FROM snapshot"
    with engine.connect() as connection:
        note, instances, seeds, reviews, marks = connection.execute(text(query)).one()
    assert (note, marks) == ("v1", None)
    assert [str(v).replace(" ", "") for v in (instances, seeds, reviews)] == ["[1,2]", "[3]", "[4]"]
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), BEFORE)
    assert describe(engine) == before
    with engine.connect() as connection:
        assert connection.execute(text("SELECT note FROM snapshot")).scalar_one() == "v1"

    create_tables(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE snapshot SET marks = '{}'"))
    with pytest.raises(RuntimeError, match="high-water marks"), engine.begin() as connection:
        command.downgrade(alembic_config(connection), BEFORE)
    engine.dispose()
