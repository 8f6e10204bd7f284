"""a plan being imported stays out of sight until its last task is written

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 19:20:00

A new plan's tasks are written in short transactions (SQLite has one writer, and thousands of
tasks in one transaction held every dialog step up); until the last one commits, the plan is
marked as being imported and is neither followed nor listed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.add_column(
            sa.Column("importing", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("importing")
