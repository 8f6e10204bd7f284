"""one pending extension request per task

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 09:40:00

Before this revision a second request could be filed while one was pending. Where a task holds
several pending requests, the first stays pending and the later ones are marked 'superseded'
(kept, with a note), so that the partial unique index can be built.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("state = 'pending'")
SUPERSEDE_LATER = sa.text(
    """
    UPDATE extension_requests
    SET state = 'superseded',
        decision_note = 'Trùng với đề nghị gửi trước đó, còn đang chờ (nâng cấp 0004).'
    WHERE state = 'pending'
      AND EXISTS (
        SELECT 1 FROM extension_requests AS earlier
        WHERE earlier.task_id = extension_requests.task_id
          AND earlier.state = 'pending'
          AND (earlier.created_at < extension_requests.created_at
               OR (earlier.created_at = extension_requests.created_at
                   AND earlier.id < extension_requests.id))
      )
    """
)


def upgrade() -> None:
    op.execute(SUPERSEDE_LATER)
    op.create_index(
        "ux_extension_requests_pending_task",
        "extension_requests",
        ["task_id"],
        unique=True,
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("ux_extension_requests_pending_task", table_name="extension_requests")
