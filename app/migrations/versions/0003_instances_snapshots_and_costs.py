"""Task instances with their filter decisions, dataset snapshots, and costs of generations and jobs.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

INSTANCE_INDEXES = ("accepted", "dataset_id", "instruction_id", "job_id", "rule")


def upgrade() -> None:
    op.create_table(
        "snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("include_seeds", sa.Boolean(), nullable=False),
        sa.Column("instance_ids", sa.JSON(), nullable=False),
        sa.Column("seed_instruction_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("snapshot") as batch_op:
        batch_op.create_index("ix_snapshot_dataset_id", ["dataset_id"], unique=False)

    op.create_table(
        "task_instance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("instruction_id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("input", sa.Text(), nullable=False),
        sa.Column("output", sa.Text(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.String(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("generation_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"]),
        sa.ForeignKeyConstraint(["generation_id"], ["generation.id"]),
        sa.ForeignKeyConstraint(["instruction_id"], ["instruction.id"]),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("task_instance") as batch_op:
        for column in INSTANCE_INDEXES:
            batch_op.create_index(f"ix_task_instance_{column}", [column], unique=False)

    with op.batch_alter_table("generation") as batch_op:
        batch_op.add_column(sa.Column("cost", sa.Float(), nullable=True))
    with op.batch_alter_table("job") as batch_op:
        batch_op.add_column(sa.Column("instances_per_task", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("cost", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job") as batch_op:
        batch_op.drop_column("cost")
        batch_op.drop_column("instances_per_task")
    with op.batch_alter_table("generation") as batch_op:
        batch_op.drop_column("cost")
    with op.batch_alter_table("task_instance") as batch_op:
        for column in INSTANCE_INDEXES:
            batch_op.drop_index(f"ix_task_instance_{column}")
    op.drop_table("task_instance")
    with op.batch_alter_table("snapshot") as batch_op:
        batch_op.drop_index("ix_snapshot_dataset_id")
    op.drop_table("snapshot")
