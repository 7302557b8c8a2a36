"""Replays and reviews: the decision history a replay keeps (``replay``, ``decision_change``), reviewers'
verdicts on instructions and instances (``review``), the reviews a snapshot's edits come from, and a
dataset's ``decisions_version`` (bumped by every applied replay, so other processes reload their pools).

Existing databases have no replays and no reviews (every item is unreviewed); existing snapshots recorded
no reviews (NULL: their exports use the original texts); existing datasets are at version 0.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def _indexes(table: str, columns: tuple[str, ...]) -> None:
    with op.batch_alter_table(table) as batch_op:
        for column in columns:
            batch_op.create_index(f"ix_{table}_{column}", [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "replay",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("decided", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _indexes("replay", ("dataset_id",))
    op.create_table(
        "decision_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("replay_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("instruction_id", sa.Integer(), nullable=False),
        sa.Column("old_accepted", sa.Boolean(), nullable=False),
        sa.Column("new_accepted", sa.Boolean(), nullable=False),
        sa.Column("old_rule", sa.String(length=64), nullable=True),
        sa.Column("new_rule", sa.String(length=64), nullable=True),
        sa.Column("old", sa.JSON(), nullable=False),
        sa.Column("new", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(["replay_id"], ["replay.id"]),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"]),
        sa.ForeignKeyConstraint(["instruction_id"], ["instruction.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _indexes("decision_change", ("replay_id", "dataset_id", "instruction_id"))
    op.create_table(
        "review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("instruction_id", sa.Integer(), nullable=True),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("edited_text", sa.Text(), nullable=True),
        sa.Column("edited_input", sa.Text(), nullable=True),
        _created_at(),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"]),
        sa.ForeignKeyConstraint(["instruction_id"], ["instruction.id"]),
        sa.ForeignKeyConstraint(["instance_id"], ["task_instance.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _indexes("review", ("dataset_id", "instruction_id", "instance_id"))
    with op.batch_alter_table("snapshot") as batch_op:
        batch_op.add_column(sa.Column("review_ids", sa.JSON(), nullable=True))
    with op.batch_alter_table("dataset") as batch_op:
        batch_op.add_column(sa.Column("decisions_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    # dropped in place (SQLite >= 3.35 has DROP COLUMN): rebuilding would break references to the rows
    op.drop_column("dataset", "decisions_version")
    op.drop_column("snapshot", "review_ids")
    for table in ("review", "decision_change", "replay"):
        op.drop_table(table)  # their indexes go with them
