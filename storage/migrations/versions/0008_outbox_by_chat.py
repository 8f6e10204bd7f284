"""the outbox is read by chat: what a person last saw

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 16:00:00

A number typed outside any dialog answers the last message the chat was sent (a reminder's
"1. Báo cáo ngay" on Zalo, which has no buttons): that message is found by chat, newest first.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.create_index("ix_outbox_chat", ["channel", "chat_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_chat")
