"""Quality scores: a dataset's domain and its relevance and judge thresholds; each candidate's relevance
to the domain and the judge's scores (instructions and instances).

Existing rows have no scores (NULL); existing datasets have no domain (empty) and no thresholds (NULL: the
server's settings apply).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

JUDGE_COLUMNS = ("judge_score", "judge_expected", "judge")


def upgrade() -> None:
    with op.batch_alter_table("dataset") as batch_op:
        batch_op.add_column(sa.Column("domain", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("relevance_threshold", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("judge_threshold", sa.Float(), nullable=True))
    with op.batch_alter_table("instruction") as batch_op:
        batch_op.add_column(sa.Column("relevance", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("judge_score", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("judge_expected", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("judge", sa.JSON(), nullable=True))
    with op.batch_alter_table("task_instance") as batch_op:
        batch_op.add_column(sa.Column("judge_score", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("judge_expected", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("judge", sa.JSON(), nullable=True))


def downgrade() -> None:
    # dropped in place (SQLite >= 3.35 has DROP COLUMN): rebuilding would break references to the rows
    for column in JUDGE_COLUMNS:
        op.drop_column("task_instance", column)
    for column in ("relevance", *JUDGE_COLUMNS):
        op.drop_column("instruction", column)
    for column in ("judge_threshold", "relevance_threshold", "domain"):
        op.drop_column("dataset", column)
