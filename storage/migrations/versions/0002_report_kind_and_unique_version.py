"""report kind, and report versions unique per task

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 09:00:00

Before this revision a report's version was counted per (task, unit), so two units reporting on
one task could both hold version 1. Versions are renumbered per task in the order the reports
were saved (created_at, then id) before the constraint is added; every existing row is a lead
unit's report, hence kind 'report'.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Portable (SQLite and PostgreSQL): a row's new version is the number of the task's rows saved
# before it or with it. Only task_id, created_at and id are read, none of which change.
RENUMBER = sa.text(
    """
    UPDATE reports SET version = (
        SELECT COUNT(*) FROM reports AS earlier
        WHERE earlier.task_id = reports.task_id
          AND (earlier.created_at < reports.created_at
               OR (earlier.created_at = reports.created_at AND earlier.id <= reports.id))
    )
    """
)


def upgrade() -> None:
    op.execute(RENUMBER)
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), nullable=False, server_default="report")
        )
        batch_op.create_unique_constraint(batch_op.f("uq_reports_task_id"), ["task_id", "version"])


def downgrade() -> None:
    # The per-task numbering stays: it is also unique per (task, unit), which is all 0001 needs.
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_reports_task_id"), type_="unique")
        batch_op.drop_column("kind")
