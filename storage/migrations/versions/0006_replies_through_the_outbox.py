"""a dialog's replies leave through the outbox: the processed-update row keeps only the fact

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 13:00:00

Replies used to wait as JSON on the processed-update row until the adapter marked them
delivered; they are now outbox rows written in the step's own transaction, so both columns go.
An update handled before the upgrade and never answered keeps its once-only record: it is not
handled again (its unsent answer, if any, is lost with the column; it was at most one turn).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("processed_updates") as batch:
        batch.drop_column("replies")
        batch.drop_column("delivered_at")


def downgrade() -> None:
    with op.batch_alter_table("processed_updates") as batch:
        batch.add_column(sa.Column("replies", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
