"""an outbox row keeps the platform's ids of the messages it became

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 15:00:00

A weekly digest already in a group is edited when a late report drops a unit from its list of
units that did not report: the edit needs the id Telegram gave each message of the digest.
Rows sent before the upgrade have none (NULL); only a digest sent afterwards can be edited.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("platform_ids", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("platform_ids")
