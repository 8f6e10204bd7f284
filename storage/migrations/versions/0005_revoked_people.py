"""people can be revoked; the audit log is read by time

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 12:00:00

A revoked person's chats stop working at once; the person, their identities and their
reports are kept (the audit log says who revoked them and when).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    with op.batch_alter_table("people") as batch:
        batch.drop_column("revoked_at")
