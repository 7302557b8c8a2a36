"""The generation ledger stores a request's prompt once: in the request's first row; its other rows have
no prompt and name that row (``generation.prompt_in``).

Existing rows: within a job, the first row holding a given prompt keeps it, and every later row with
the same prompt points at it (the samples of one request, and any later request sent the very same
prompt); going back writes each prompt into every row again.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

from app.migrations.sqlite_rebuild import references_checked_at_the_end

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with references_checked_at_the_end(), op.batch_alter_table("generation") as batch_op:
        batch_op.alter_column("prompt", existing_type=sa.Text(), nullable=True)
        batch_op.add_column(sa.Column("prompt_in", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_generation_prompt_in", "generation", ["prompt_in"], ["id"])
        batch_op.create_index("ix_generation_prompt_in", ["prompt_in"])
    bind = op.get_bind()
    holders: dict[tuple[int | None, bytes], int] = {}
    moved = []
    for row_id, job_id, prompt in bind.execute(
        sa.text("SELECT id, job_id, prompt FROM generation ORDER BY id")
    ):
        holder = holders.setdefault((job_id, hashlib.sha256(prompt.encode()).digest()), row_id)
        if holder != row_id:
            moved.append({"id": row_id, "holder": holder})
    if moved:
        bind.execute(
            sa.text("UPDATE generation SET prompt = NULL, prompt_in = :holder WHERE id = :id"), moved
        )


def downgrade() -> None:
    op.get_bind().execute(
        sa.text(
            "UPDATE generation SET prompt ="
            " (SELECT h.prompt FROM generation AS h WHERE h.id = generation.prompt_in)"
            " WHERE prompt_in IS NOT NULL"
        )
    )
    with references_checked_at_the_end(), op.batch_alter_table("generation") as batch_op:
        batch_op.drop_index("ix_generation_prompt_in")
        batch_op.drop_constraint("fk_generation_prompt_in", type_="foreignkey")
        batch_op.drop_column("prompt_in")
        batch_op.alter_column("prompt", existing_type=sa.Text(), nullable=False)
