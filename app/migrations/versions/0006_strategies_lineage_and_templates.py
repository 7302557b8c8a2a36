"""Generation strategies: a job's strategy, its settings and auto-stop; each candidate's strategy and
lineage; a dataset's prompt templates.

Existing jobs become ``self_instruct`` jobs with no settings (what they were); existing candidates have
no recorded strategy or lineage (NULL).

Revision ID: 0006
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("slots", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dataset_id", "name"),
    )
    with op.batch_alter_table("template") as batch_op:
        batch_op.create_index("ix_template_dataset_id", ["dataset_id"], unique=False)
    with op.batch_alter_table("job") as batch_op:
        # the server defaults fill existing rows (they were self_instruct jobs with no settings)
        batch_op.add_column(
            sa.Column("strategy", sa.String(length=32), nullable=False, server_default="self_instruct")
        )
        batch_op.add_column(sa.Column("strategy_settings", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("auto_stop", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("stop_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("instruction") as batch_op:
        batch_op.add_column(sa.Column("strategy", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("lineage", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("instruction") as batch_op:
        batch_op.drop_column("lineage")
        batch_op.drop_column("strategy")
    # dropped in place (SQLite >= 3.35 has DROP COLUMN): rebuilding ``job`` would break the references
    # of stored instructions and generations to it
    for column in ("stop_reason", "auto_stop", "strategy_settings", "strategy"):
        op.drop_column("job", column)
    with op.batch_alter_table("template") as batch_op:
        batch_op.drop_index("ix_template_dataset_id")
    op.drop_table("template")
