"""The database schema as typed SQLAlchemy 2 models.

Times are stored in UTC (timezone-aware columns); dates that come from the plan (due dates)
are plain calendar dates in the city's time zone. Enumerations are stored as short strings so
that adding a value never needs a migration of existing rows.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BigInteger primary keys are plain INTEGER on SQLite so that they autoincrement there.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Role(StrEnum):
    OFFICER = "officer"
    HEAD = "head"
    COMMITTEE = "committee"
    ADMIN = "admin"


class UnitKind(StrEnum):
    DEPARTMENT = "department"  # sở, ban, ngành of the city
    DISTRICT = "district"  # UBND quận, huyện
    OTHER = "other"  # police, press, telecom operators, …
    COLLECTIVE = "collective"  # "Các sở, ban, ngành": stands for all units of some kinds


class TaskStatus(StrEnum):
    """Stable status codes; the office's wording lives in the text catalogs."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    OVERDUE = "overdue"
    DONE_ON_TIME = "done_on_time"
    DONE_LATE = "done_late"
    DONE = "done"  # completed, the task has no deadline
    BLOCKED = "blocked"
    EXTENSION_REQUESTED = "extension_requested"
    PAUSED = "paused"
    # Derived, never stored: the task has no report yet (a cooperating unit's contribution
    # does not count as one).
    NOT_REPORTED = "not_reported"


class ExtensionState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # a duplicate of a request already pending (kept, never decided)


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


def _now_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False)


class Unit(Base):
    """A department, district or other body; collective units stand for several kinds."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20), default=UnitKind.DEPARTMENT)
    # For a collective unit: the kinds it covers, comma separated ("department,district").
    covers: Mapped[str] = mapped_column(String(80), default="")
    aliases: Mapped[list[UnitAlias]] = relationship(
        # Only matching needs the spellings; it asks for them (selectinload) explicitly.
        back_populates="unit",
        cascade="all, delete-orphan",
        lazy="raise_on_sql",
    )


class UnitAlias(Base):
    """A folded spelling of a unit's name (see storage.units.fold)."""

    __tablename__ = "unit_aliases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    unit: Mapped[Unit] = relationship(back_populates="aliases")


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(String(20), default=Role.OFFICER)
    language: Mapped[str] = mapped_column(String(5), default="vi")
    created_at: Mapped[datetime] = _now_column()
    # Set by /thuhoi: every chat of this person is refused from then on; reports stay.
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unit: Mapped[Unit | None] = relationship(lazy="selectin")
    identities: Mapped[list[ChannelIdentity]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin"
    )


class ChannelIdentity(Base):
    """How one person is known on one channel (a Telegram user id, a Zalo user id, …)."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(100))
    chat_id: Mapped[str | None] = mapped_column(String(100))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    person: Mapped[Person] = relationship(back_populates="identities")


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    role: Mapped[str] = mapped_column(String(20), default=Role.OFFICER)
    max_uses: Mapped[int] = mapped_column(Integer, default=1)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now_column()
    unit: Mapped[Unit | None] = relationship(lazy="selectin")


class InviteUse(Base):
    __tablename__ = "invite_uses"
    __table_args__ = (UniqueConstraint("invite_id", "person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    invite_id: Mapped[int] = mapped_column(ForeignKey("invites.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    used_at: Mapped[datetime] = _now_column()


class Plan(Base):
    """A document whose tasks are followed: the programme, a year's plan, a district's plan."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    # What chat shows before a task code: "CT 284", "KH 2023".
    short_name: Mapped[str] = mapped_column(String(40), unique=True)
    # The issuing decision as cited: "284/QĐ-UBND ngày 24/01/2022"; empty when unknown.
    decision: Mapped[str] = mapped_column(String(200), default="")
    period: Mapped[str] = mapped_column(String(60), default="")
    # False once closed: no reminders, hidden from choices; everything kept.
    followed: Mapped[bool] = mapped_column(Boolean, default=True)
    # True while an import writes a new plan's tasks (storage.import_steps): not followed,
    # not listed; a plan left so by a crash is dropped by a later import.
    importing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = _now_column()
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TaskGroup(Base):
    """A group of a plan's tasks (I … IX); numbers restart in each plan."""

    __tablename__ = "task_groups"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    roman: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(Text)


class Task(Base):
    """A task of a plan; its code ("I.3") is unique within the plan, not across plans."""

    __tablename__ = "tasks"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    group_id: Mapped[int] = mapped_column(ForeignKey("task_groups.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, default=0)  # order in the appendix
    title: Mapped[str] = mapped_column(Text)
    lead_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    deadline_text: Mapped[str] = mapped_column(String(200), default="")
    due_date: Mapped[date | None] = mapped_column(Date)
    ongoing: Mapped[bool] = mapped_column(Boolean, default=False)
    expected_output: Mapped[str] = mapped_column(Text, default="")
    budget: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(30), default=TaskStatus.NOT_STARTED)
    percent: Mapped[int] = mapped_column(Integer, default=0)
    last_report_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # False once a re-import no longer lists the task; it is kept, never silently deleted.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = _now_column()
    updated_at: Mapped[datetime] = _now_column()
    plan: Mapped[Plan] = relationship(lazy="joined")
    group: Mapped[TaskGroup] = relationship(lazy="selectin")
    lead_unit: Mapped[Unit] = relationship(lazy="selectin")
    units: Mapped[list[TaskUnit]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="TaskUnit.position"
    )


class TaskUnit(Base):
    """A unit named on a task: `lead` (the first is Task.lead_unit) or `cooperating`."""

    __tablename__ = "task_units"
    __table_args__ = (UniqueConstraint("task_id", "unit_id", "role"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, default=0)
    unit: Mapped[Unit] = relationship(lazy="selectin")


class ReportKind(StrEnum):
    REPORT = "report"  # the lead unit's: sets the task's status and percent
    CONTRIBUTION = "contribution"  # a cooperating unit's: results, difficulties, evidence only


class Report(Base):
    """One submission on a task (a report or a contribution); versions are numbered per task."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_task_time", "task_id", "created_at"),
        UniqueConstraint("task_id", "version"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    status: Mapped[str] = mapped_column(String(30))
    percent: Mapped[int] = mapped_column(Integer)
    results: Mapped[str] = mapped_column(Text, default="")
    difficulties: Mapped[str] = mapped_column(Text, default="")
    proposals: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20), default=ReportKind.REPORT)
    version: Mapped[int] = mapped_column(Integer, default=1)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    channel: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = _now_column()
    task: Mapped[Task] = relationship(lazy="selectin")
    unit: Mapped[Unit] = relationship(lazy="selectin")
    person: Mapped[Person] = relationship(lazy="selectin")
    files: Mapped[list[EvidenceFile]] = relationship(lazy="selectin")


class EvidenceFile(Base):
    """A file attached to a report, stored under DATA_DIR by its SHA-256."""

    __tablename__ = "evidence_files"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(120), default="")
    size: Mapped[int] = mapped_column(BigInteger)
    storage_path: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = _now_column()


class ExtensionRequest(Base):
    __tablename__ = "extension_requests"
    # One pending request per task: two officers sending at the same instant cannot both
    # get one in (the loser's step is retried and told of the first).
    __table_args__ = (
        Index(
            "ux_extension_requests_pending_task",
            "task_id",
            unique=True,
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    proposed_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default=ExtensionState.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = _now_column()
    task: Mapped[Task] = relationship(lazy="selectin")


class Conversation(Base):
    """Where one person's dialog in one chat stands; `version` guards against stale updates."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "chat_id", "person_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(100))
    person_key: Mapped[str] = mapped_column(String(100))  # the sender's external id
    dialog: Mapped[str | None] = mapped_column(String(40))
    step: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0)
    prompt_message_id: Mapped[str | None] = mapped_column(String(100))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = _now_column()

    # Every UPDATE checks the version read, so a stale update fails instead of overwriting.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (read once, by the mapper)


class ProcessedUpdate(Base):
    """An incoming update already handled, so a redelivery has its effect once.

    Its replies are outbox rows written in the same transaction (kind "reply"): a process killed
    between committing the step and sending them leaves them to whichever process is alive.
    """

    __tablename__ = "processed_updates"
    __table_args__ = (UniqueConstraint("channel", "update_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    update_key: Mapped[str] = mapped_column(String(120))
    handled_at: Mapped[datetime] = _now_column()


class InboxEvent(Base):
    """An event fetched from a channel that forgets what it delivered (Zalo polling)."""

    __tablename__ = "inbox_events"
    __table_args__ = (UniqueConstraint("channel", "event_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    event_key: Mapped[str] = mapped_column(String(120))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = _now_column()
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OutboxMessage(Base):
    """A message to deliver; `key` makes enqueueing idempotent across instances."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_due", "state", "not_before"),
        # A chat's messages, newest first: what a person last saw (outbox.last_sent_payload).
        Index("ix_outbox_chat", "channel", "chat_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = _now_column()
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = _now_column()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The platform's id of each message the row became, in the order sent (None where the
    # platform gives none, as Zalo): what a later row needs to edit them (a digest corrected).
    platform_ids: Mapped[list[str | None] | None] = mapped_column(JSON)


class BoundChat(Base):
    """A group chat bound to a purpose, e.g. the steering committee's group."""

    __tablename__ = "bound_chats"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(30), default="committee")
    title: Mapped[str] = mapped_column(String(200), default="")
    bound_at: Mapped[datetime] = _now_column()


class HolidayOverride(Base):
    """A day the year's government letter makes a day off, or a working Saturday."""

    __tablename__ = "holiday_overrides"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    is_working_day: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60), index=True)
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str] = mapped_column(String(60))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
