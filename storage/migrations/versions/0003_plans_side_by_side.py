"""plans side by side

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 08:56:09.136502

Until this revision a database held one plan, its tasks and groups identified by code and
number alone. Those rows become the first plan ("Kế hoạch 1", short "KH 1": the file they came
from was never recorded), and codes and group numbers become unique within a plan only.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIRST_PLAN = {"name": "Kế hoạch 1", "short_name": "KH 1"}
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    plans = op.create_table(
        "plans",
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("short_name", sa.String(length=40), nullable=False),
        sa.Column("decision", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=60), nullable=False),
        sa.Column("followed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("name", name=op.f("uq_plans_name")),
        sa.UniqueConstraint("short_name", name=op.f("uq_plans_short_name")),
    )
    first = _first_plan_id(plans)
    for table in ("task_groups", "tasks"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("plan_id", BigId, nullable=True))
        if first is not None:
            op.execute(sa.text(f"UPDATE {table} SET plan_id = :plan").bindparams(plan=first))
    _key_by_plan("task_groups", "number")
    _key_by_plan("tasks", "code")


def _first_plan_id(plans: sa.Table) -> int | None:
    """The plan the existing rows go to, created only when there are rows."""
    bind = op.get_bind()
    has_rows = bind.execute(sa.text("SELECT 1 FROM task_groups UNION SELECT 1 FROM tasks")).first()
    if has_rows is None:
        return None
    now = datetime.now(UTC)
    bind.execute(
        plans.insert().values(
            **FIRST_PLAN, decision="", period="", followed=True, created_at=now, closed_at=None
        )
    )
    return int(bind.execute(sa.select(plans.c.id)).scalar_one())


def _key_by_plan(table: str, key: str) -> None:
    with op.batch_alter_table(table) as batch_op:
        batch_op.alter_column("plan_id", existing_type=BigId, nullable=False)
        batch_op.drop_constraint(batch_op.f(f"uq_{table}_{key}"), type_="unique")
        batch_op.create_index(batch_op.f(f"ix_{table}_plan_id"), ["plan_id"], unique=False)
        batch_op.create_unique_constraint(batch_op.f(f"uq_{table}_plan_id"), ["plan_id", key])
        batch_op.create_foreign_key(
            batch_op.f(f"fk_{table}_plan_id_plans"), "plans", ["plan_id"], ["id"]
        )


def downgrade() -> None:
    # Only a database with at most one plan can go back: codes were unique across the database.
    for table, key in (("tasks", "code"), ("task_groups", "number")):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_plan_id_plans"), type_="foreignkey")
            batch_op.drop_constraint(batch_op.f(f"uq_{table}_plan_id"), type_="unique")
            batch_op.drop_index(batch_op.f(f"ix_{table}_plan_id"))
            batch_op.create_unique_constraint(batch_op.f(f"uq_{table}_{key}"), [key])
            batch_op.drop_column("plan_id")
    op.drop_table("plans")
