"""Migration 0008: the quality-score columns come up empty on existing rows and go back to 0007's schema."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from app.core.db import create_tables, make_engine
from app.core.migrations import alembic_config
from tests.app.migrations.test_0007_ids_never_reused import add_dataset
from tests.app.migrations.test_migrations import describe, schema_diff

pytestmark = pytest.mark.both_databases


def test_0008_leaves_existing_datasets_without_domain_or_scores_and_goes_back(database_url):
    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0007")
    before = describe(engine)
    dataset_id = add_dataset(engine)
    create_tables(engine)  # 0007 → head
    assert schema_diff(engine) == []
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT domain, relevance_threshold, judge_threshold FROM dataset WHERE id = :id"),
            {"id": dataset_id},
        ).one()
    assert tuple(row) == ("", None, None)
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0007")
    assert describe(engine) == before
    engine.dispose()
