"""Migration 0011: existing jobs have nothing in flight, existing candidates get their prompt recipe from
their lineage, the stats indexes exist; going back restores 0010's schema."""

from __future__ import annotations

import json

import pytest
from alembic import command
from sqlalchemy import inspect, text

from app.core.db import create_tables, make_engine
from app.core.migrations import alembic_config
from tests.app.migrations.test_0007_ids_never_reused import add_dataset
from tests.app.migrations.test_migrations import describe, schema_diff

pytestmark = pytest.mark.both_databases

LINEAGES = [
    ("self_instruct", {"strategy": "self_instruct", "example_choice": "diverse", "example_ids": [1, 2]}),
    ("evol", {"strategy": "evol", "operation": "deepen", "direction": "depth", "parent_id": 1}),
    ("magpie", {"strategy": "magpie", "chat_prefix": "<|user|>"}),
    (None, None),
]


def test_0011_adds_in_flight_recipes_and_indexes_and_goes_back(database_url):
    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0010")
    before = describe(engine)
    dataset_id = add_dataset(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO job (dataset_id, status, target, max_requests, instances_per_task, strategy,"
                " strategy_settings, requests, generated, accepted, rejected, counts, prompt_tokens,"
                " completion_tokens, cancel_requested, created_at, attempts) VALUES (:d, 'running', 5, 10,"
                " 0, 'self_instruct', '{}', 0, 0, 0, 0, '{}', 0, 0, false, CURRENT_TIMESTAMP, 1)"
            ),
            {"d": dataset_id},
        )
        for i, (strategy, lineage) in enumerate(LINEAGES):
            connection.execute(
                text(
                    "INSERT INTO instruction (dataset_id, origin, instruction, accepted, strategy, lineage,"
                    " created_at) VALUES (:d, 'generated', :t, true, :s, :l, CURRENT_TIMESTAMP)"
                ),
                {
                    "d": dataset_id,
                    "t": f"task {i}",
                    "s": strategy,
                    "l": json.dumps(lineage) if lineage else None,
                },
            )
    create_tables(engine)  # 0010 → head
    assert schema_diff(engine) == []
    with engine.connect() as connection:
        assert connection.execute(text("SELECT in_flight FROM job")).scalar_one() == 0
        recipes = connection.execute(text("SELECT recipe FROM instruction ORDER BY id")).scalars().all()
    assert recipes == [
        '{"example_choice":"diverse"}',
        '{"operation":"deepen","direction":"depth"}',
        None,
        None,
    ]
    names = {i["name"] for i in inspect(engine).get_indexes("instruction")}
    assert {"ix_instruction_tally", "ix_instruction_arrival", "ix_instruction_max_cosine"} <= names
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0010")
    assert describe(engine) == before
    engine.dispose()
