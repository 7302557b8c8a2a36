"""The dashboard: a job's requests in flight (``job.in_flight``, written by the worker running it); each
candidate's prompt recipe (``instruction.recipe``: the lineage keys naming how its prompt was built); and
the indexes ``GET …/stats`` and the review queue read instead of the rows (app/models/instructions.py
STATS_INDEXES).

Existing jobs have 0 requests in flight; existing candidates get their recipe from their stored lineage.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None

# generators/strategies/recipe.py as of this revision (a migration keeps the rule it was written with)
RECIPE_KEYS = {
    "self_instruct": ("example_choice",),
    "evol": ("operation", "direction"),
    "template": ("template",),
    "retrieval": ("source_dataset",),
}
SCORED_COLUMNS = ("relevance", "judge_score", "judge_expected", "max_cosine", "max_rouge_l")
INDEXES = {
    "ix_instruction_tally": ["dataset_id", "origin", "accepted", "rule", "job_id", "strategy", "recipe"],
    "ix_instruction_arrival": ["dataset_id", "id", "origin", "accepted"],
    "ix_instruction_job_arrival": ["job_id", "id", "origin", "accepted", "rule"],
    **{f"ix_instruction_{name}": ["dataset_id", "accepted", name, "origin"] for name in SCORED_COLUMNS},
    "ix_instruction_judge_expected": ["dataset_id", "accepted", "judge_expected", "origin", "judge_score"],
}


def recipe(strategy: str | None, lineage: object) -> str | None:
    if isinstance(lineage, str):
        lineage = json.loads(lineage)
    keys = RECIPE_KEYS.get(strategy or "", ())
    if not isinstance(lineage, dict) or not keys:
        return None
    picked = {k: str(lineage[k])[:64] for k in keys if lineage.get(k) is not None}
    return json.dumps(picked, separators=(",", ":"), ensure_ascii=False) if picked else None


def upgrade() -> None:
    with op.batch_alter_table("job") as batch_op:
        batch_op.add_column(sa.Column("in_flight", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("instruction") as batch_op:
        batch_op.add_column(sa.Column("recipe", sa.String(length=256), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, strategy, lineage FROM instruction WHERE lineage IS NOT NULL AND strategy IS NOT NULL"
        )
    ).all()
    updates = [{"id": i, "recipe": r} for i, strategy, lineage in rows if (r := recipe(strategy, lineage))]
    if updates:
        bind.execute(sa.text("UPDATE instruction SET recipe = :recipe WHERE id = :id"), updates)
    for name, columns in INDEXES.items():
        op.create_index(name, "instruction", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="instruction")
    op.drop_column("instruction", "recipe")  # in place (SQLite >= 3.35): a rebuild would break references
    op.drop_column("job", "in_flight")
