"""Job leases (worker, expiry, attempts) and schedules (cron, zone) with one job per tick.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "schedule",
        sa.Column("cron", sa.String(length=128), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.Column("max_requests", sa.Integer(), nullable=True),
        sa.Column("seed", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("next_fire_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_fire_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("schedule") as batch_op:
        batch_op.create_index("ix_schedule_dataset_id", ["dataset_id"], unique=False)
        batch_op.create_index("ix_schedule_next_fire_at", ["next_fire_at"], unique=False)

    with op.batch_alter_table("job") as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("schedule_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("fire_time", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_job_schedule_id", ["schedule_id"], unique=False)
        batch_op.create_index("uq_job_schedule_fire_time", ["schedule_id", "fire_time"], unique=True)
        batch_op.create_foreign_key("fk_job_schedule_id_schedule", "schedule", ["schedule_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("job") as batch_op:
        batch_op.drop_constraint("fk_job_schedule_id_schedule", type_="foreignkey")
        batch_op.drop_index("uq_job_schedule_fire_time")
        batch_op.drop_index("ix_job_schedule_id")
        for column in ("fire_time", "schedule_id", "attempts", "lease_expires_at", "lease_owner"):
            batch_op.drop_column(column)
    with op.batch_alter_table("schedule") as batch_op:
        batch_op.drop_index("ix_schedule_next_fire_at")
        batch_op.drop_index("ix_schedule_dataset_id")
    op.drop_table("schedule")
