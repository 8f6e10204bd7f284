"""The outbox: every message decided by the bot (not a reply) is a row here before it is sent.

`enqueue` is idempotent on the row's key, so deciding a message twice, or on two instances,
writes it once. A dispatcher `claim`s due rows with a lease and commits at once: no
transaction is open while the message travels; it then marks each row in a short transaction
of its own (`mark_sent` only after the platform confirmed it). Every mark is fenced by the
claimer's id and the state `sending`: an instance whose lease ran out (another one took the
row) changes nothing. A lease that expires (a crashed instance) makes the row claimable again,
so a crash repeats at most what was in flight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage, OutboxState

PENDING, SENDING = OutboxState.PENDING.value, OutboxState.SENDING.value
SENT, FAILED = OutboxState.SENT.value, OutboxState.FAILED.value
# Kept in the payload of a message split into several: how many pieces already went out.
SENT_PARTS = "sent_parts"
# A payload field naming (by key) the row whose messages this row rewrites in place: when it
# is sent, the dispatcher adds the platform's ids of that row's messages (EDIT_IDS) and how many
# files it carried (EDIT_FILES: they were its last messages), read then, since the row it edits
# may not have been sent yet when the edit was decided.
EDITS = "edits"
EDIT_IDS = "edit_ids"
EDIT_FILES = "edit_files"
MAX_ERROR = 500


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    channel: str,
    chat_id: str,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    not_before: datetime | None = None,
) -> bool:
    """Writes the message unless one with `key` exists; True when this call wrote it."""
    values = {
        "key": key[:200],
        "channel": channel,
        "chat_id": chat_id,
        "kind": kind,
        "payload": payload,
        "state": PENDING,
        "attempts": 0,
        "not_before": not_before or now,
        "last_error": "",
        "created_at": now,
    }
    insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
    statement = (
        insert(OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["key"])
    )
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


@dataclass(frozen=True)
class Holder:
    """Who writes rows already claimed (the process that will send them at once), and for
    how long before whichever process is alive may take them over."""

    instance: str
    lease: timedelta


@dataclass(frozen=True)
class Draft:
    """A row to write: where it goes and what it says (a reply, or one message of a fan-out)."""

    key: str
    channel: str
    chat_id: str
    kind: str
    payload: dict[str, Any]


async def enqueue_many(session: AsyncSession, messages: Sequence[Draft], now: datetime) -> int:
    """Writes each message whose key is new, as `enqueue` does, in one statement executed for
    all of them (a thousand recipients are not a thousand round trips); how many were new."""
    if not messages:
        return 0
    rows = [
        {
            "key": m.key[:200],
            "channel": m.channel,
            "chat_id": m.chat_id,
            "kind": m.kind,
            "payload": m.payload,
            "state": PENDING,
            "attempts": 0,
            "not_before": now,
            "last_error": "",
            "created_at": now,
        }
        for m in messages
    ]
    insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
    statement = (
        insert(OutboxMessage)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(OutboxMessage.id)
    )
    # With RETURNING, SQLAlchemy sends the rows as multi-row VALUES batches ("insertmanyvalues"),
    # and only the rows written come back: the count of new messages on both engines.
    result = await session.execute(statement, rows)
    return len(result.all())


async def unsettled(session: AsyncSession, key_prefix: str) -> bool:
    """Whether any message whose key starts with `key_prefix` is still pending or sending."""
    found = await session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.state.in_([PENDING, SENDING]),
            OutboxMessage.key.startswith(key_prefix, autoescape=True),
        )
        .limit(1)
    )
    return found is not None


async def outcomes(session: AsyncSession, key_prefix: str) -> list[tuple[str, str, int]]:
    """The messages whose key starts with `key_prefix`, counted by state and reason."""
    rows = await session.execute(
        select(OutboxMessage.state, OutboxMessage.last_error, func.count())
        .where(OutboxMessage.key.startswith(key_prefix, autoescape=True))
        .group_by(OutboxMessage.state, OutboxMessage.last_error)
    )
    return [(state, reason, int(count)) for state, reason, count in rows.all()]


@dataclass(frozen=True)
class Claimed:
    """A row this instance now holds: send it, then mark it."""

    id: int
    key: str
    channel: str
    chat_id: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    # The platform's ids of the pieces already sent (a split message given back half-way).
    platform_ids: tuple[str | None, ...] = ()


async def add_claimed(
    session: AsyncSession, drafts: Sequence[Draft], holder: Holder | None, now: datetime
) -> list[Claimed]:
    """Write `drafts` in the caller's transaction, held by `holder` (state sending, leased) so
    that it sends them right after the commit with no claim of its own; pending without a
    holder. Their keys are new (a reply's key names its update, handled once): a repeat is an
    IntegrityError, as for the update itself."""
    rows = [
        OutboxMessage(
            key=draft.key[:200],
            channel=draft.channel,
            chat_id=draft.chat_id,
            kind=draft.kind,
            payload=draft.payload,
            state=SENDING if holder else PENDING,
            attempts=0,
            not_before=now,
            claimed_by=holder.instance if holder else None,
            lease_until=now + holder.lease if holder else None,
            last_error="",
            created_at=now,
        )
        for draft in drafts
    ]
    if not rows:
        return []
    session.add_all(rows)
    await session.flush()
    return [Claimed(r.id, r.key, r.channel, r.chat_id, r.kind, r.payload, 0, now) for r in rows]


async def claim(
    session: AsyncSession,
    instance: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    channels: Sequence[str] | None = None,
) -> list[Claimed]:
    """Take up to `limit` due rows (pending and due, or held under an expired lease), oldest
    first, for `instance` until `now + lease`; the caller commits at once.

    PostgreSQL: the rows are picked `FOR UPDATE SKIP LOCKED`, so instances claiming at the same
    moment each get other rows. SQLite: one conditional UPDATE, and SQLite has one writer.
    """
    due = or_(
        and_(OutboxMessage.state == PENDING, OutboxMessage.not_before <= now),
        and_(OutboxMessage.state == SENDING, OutboxMessage.lease_until < now),
    )
    picked = select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(limit)
    if channels is not None:
        picked = picked.where(OutboxMessage.channel.in_(list(channels)))
    if _dialect(session) == "postgresql":
        picked = picked.with_for_update(skip_locked=True)
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(picked.scalar_subquery()))
        .values(state=SENDING, claimed_by=instance, lease_until=now + lease)
        .returning(
            OutboxMessage.id,
            OutboxMessage.key,
            OutboxMessage.channel,
            OutboxMessage.chat_id,
            OutboxMessage.kind,
            OutboxMessage.payload,
            OutboxMessage.attempts,
            OutboxMessage.created_at,
            OutboxMessage.platform_ids,
        )
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(statement)).all()
    claimed = [
        Claimed(row_id, key, channel, chat_id, kind, payload, attempts, created, tuple(ids or ()))
        for row_id, key, channel, chat_id, kind, payload, attempts, created, ids in rows
    ]
    return sorted(claimed, key=lambda row: row.id)


async def renew(
    session: AsyncSession, instance: str, ids: Sequence[int], lease_until: datetime
) -> int:
    """Extend this instance's lease on `ids` (rows waiting for their turn are not abandoned);
    how many it still held."""
    return await _change_held(session, instance, ids, lease_until=lease_until)


async def mark_sent(
    session: AsyncSession,
    row_id: int,
    instance: str,
    now: datetime,
    attempts: int = 0,
    platform_ids: Sequence[str | None] = (),
) -> bool:
    """The platform confirmed the message (its pieces got `platform_ids`); False when this
    instance no longer held it."""
    mark = SentMark(row_id, attempts, platform_ids)
    return not await mark_sent_many(session, instance, now, [mark])


@dataclass(frozen=True)
class SentMark:
    """One row the platform confirmed: after `attempts` tries, its pieces got `platform_ids`."""

    row_id: int
    attempts: int = 0
    platform_ids: Sequence[str | None] = ()


# One statement for any number of rows (executemany): built once, compiled once. On the table,
# not the entity: the ORM would take a list of parameters as its own bulk UPDATE by key.
_TABLE = cast(Table, OutboxMessage.__table__)
_MARK_SENT = (
    update(_TABLE)
    .where(
        _TABLE.c.id == bindparam("row_id"),
        _TABLE.c.claimed_by == bindparam("instance"),
        _TABLE.c.state == SENDING,
    )
    .values(
        state=SENT,
        sent_at=bindparam("now"),
        attempts=bindparam("tries"),
        lease_until=None,
        platform_ids=bindparam("pieces", type_=_TABLE.c.platform_ids.type),
    )
)


async def mark_sent_many(
    session: AsyncSession, instance: str, now: datetime, marks: Sequence[SentMark]
) -> list[int]:
    """`mark_sent` for many rows in one statement; the ids this instance no longer held."""
    if not marks:
        return []
    params = [
        {
            "row_id": mark.row_id,
            "instance": instance,
            "now": now,
            "tries": mark.attempts,
            "pieces": list(mark.platform_ids) or None,
        }
        for mark in marks
    ]
    result = await session.execute(_MARK_SENT, params)
    if session.get_bind().dialect.supports_sane_multi_rowcount and _count(result) == len(marks):
        return []
    # Some were not held any more, or the driver cannot count an executemany (asyncpg): ask.
    ids = [mark.row_id for mark in marks]
    lost = await session.scalars(
        select(OutboxMessage.id).where(
            OutboxMessage.id.in_(ids),
            or_(
                OutboxMessage.state != SENT,
                OutboxMessage.claimed_by.is_(None),
                OutboxMessage.claimed_by != instance,
            ),
        )
    )
    return sorted(lost)


async def mark_failed(
    session: AsyncSession, row_id: int, instance: str, reason: str, attempts: int = 1
) -> bool:
    """Refused for good (blocked, chat not found, a message the platform will never take)."""
    done = await _change_held(
        session,
        instance,
        [row_id],
        state=FAILED,
        last_error=reason[:MAX_ERROR],
        attempts=attempts,
        lease_until=None,
    )
    return done == 1


async def retry_later(
    session: AsyncSession,
    row_id: int,
    instance: str,
    not_before: datetime,
    error: str,
    attempts: int,
    sent_parts: int = 0,
    payload: dict[str, Any] | None = None,
    platform_ids: Sequence[str | None] = (),
) -> bool:
    """Back to pending until `not_before` (a passing fault, or a wait the platform asked for),
    with `attempts` tries so far; never dropped, however many. `sent_parts` (with the row's
    `payload`) keeps the pieces of a split message that already went out from going again, and
    `platform_ids` their ids."""
    values: dict[str, Any] = {"attempts": attempts, "last_error": error[:MAX_ERROR]}
    if sent_parts and payload is not None:
        values["payload"] = {**payload, SENT_PARTS: sent_parts}
        values["platform_ids"] = list(platform_ids)[:sent_parts] or None
    done = await _change_held(session, instance, [row_id], **_waiting(not_before), **values)
    return done == 1


async def release(
    session: AsyncSession, instance: str, ids: Sequence[int], not_before: datetime
) -> int:
    """Give rows back untouched (a shutdown, or a chat told to wait long): pending again from
    `not_before`, for whichever instance is alive then."""
    return await _change_held(session, instance, ids, **_waiting(not_before))


@dataclass(frozen=True)
class ChannelCounts:
    """Where one channel's messages stand, for operators."""

    channel: str
    pending: int
    sending: int
    sent: int
    failed: int
    oldest_pending: datetime | None


@dataclass(frozen=True)
class Failure:
    id: int
    channel: str
    chat_id: str
    kind: str
    key: str
    attempts: int
    reason: str
    created_at: datetime


async def counts(session: AsyncSession) -> list[ChannelCounts]:
    """Pending, sending, sent and failed messages by channel, and each one's oldest pending."""
    rows = (
        await session.execute(
            select(
                OutboxMessage.channel,
                OutboxMessage.state,
                func.count(),
                func.min(OutboxMessage.created_at),
            ).group_by(OutboxMessage.channel, OutboxMessage.state)
        )
    ).all()
    found: dict[str, dict[str, Any]] = {}
    for channel, state, count, oldest in rows:
        entry = found.setdefault(channel, {"oldest_pending": None})
        entry[state] = int(count)
        if state == PENDING:
            entry["oldest_pending"] = oldest
    return [
        ChannelCounts(
            channel,
            entry.get(PENDING, 0),
            entry.get(SENDING, 0),
            entry.get(SENT, 0),
            entry.get(FAILED, 0),
            entry["oldest_pending"],
        )
        for channel, entry in sorted(found.items())
    ]


async def failures(session: AsyncSession, limit: int | None = None) -> list[Failure]:
    """The failed messages with their reasons, latest first."""
    query = (
        select(
            OutboxMessage.id,
            OutboxMessage.channel,
            OutboxMessage.chat_id,
            OutboxMessage.kind,
            OutboxMessage.key,
            OutboxMessage.attempts,
            OutboxMessage.last_error,
            OutboxMessage.created_at,
        )
        .where(OutboxMessage.state == FAILED)
        .order_by(OutboxMessage.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return [Failure(*row) for row in (await session.execute(query)).all()]


async def retry(session: AsyncSession, row_id: int, now: datetime) -> bool:
    """A failed message sent again (from the first try's pace); False unless it had failed."""
    result = await session.execute(
        _failed().where(OutboxMessage.id == row_id).values(**_again(now)),
        execution_options={"synchronize_session": False},
    )
    return _count(result) == 1


async def retry_failed(session: AsyncSession, now: datetime) -> int:
    """Every failed message sent again; how many."""
    result = await session.execute(
        _failed().values(**_again(now)), execution_options={"synchronize_session": False}
    )
    return _count(result)


async def _change_held(
    session: AsyncSession, instance: str, ids: Sequence[int], **values: Any
) -> int:
    """Change the rows of `ids` that `instance` still holds (claimed, not marked); how many."""
    if not ids:
        return 0
    statement = (
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(list(ids)),
            OutboxMessage.claimed_by == instance,
            OutboxMessage.state == SENDING,
        )
        .values(**values)
    )
    result = await session.execute(statement, execution_options={"synchronize_session": False})
    return _count(result)


def _waiting(not_before: datetime) -> dict[str, Any]:
    return {"state": PENDING, "not_before": not_before, "claimed_by": None, "lease_until": None}


def _failed() -> Any:
    return update(OutboxMessage).where(OutboxMessage.state == FAILED)


def _again(now: datetime) -> dict[str, Any]:
    return {"state": PENDING, "not_before": now, "attempts": 0, "claimed_by": None}


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def states_of(
    session: AsyncSession, keys: Sequence[str]
) -> list[tuple[str, str, datetime, datetime, datetime | None]]:
    """(key, state, created, not before, sent) of the rows with these keys."""
    rows = await session.execute(
        select(
            OutboxMessage.key,
            OutboxMessage.state,
            OutboxMessage.created_at,
            OutboxMessage.not_before,
            OutboxMessage.sent_at,
        ).where(OutboxMessage.key.in_(keys))
    )
    return [
        (key, state, created, not_before, sent) for key, state, created, not_before, sent in rows
    ]


@dataclass(frozen=True)
class Sent:
    """Where a row stands and what it became: the platform's ids of its messages (empty until
    sent, or where the platform gives none) and how many files its payload carried."""

    state: str
    platform_ids: tuple[str | None, ...]
    files: int


async def sent_as(session: AsyncSession, key: str) -> Sent | None:
    """The row with `key` as a row editing it needs it; None when there is none."""
    row = (
        await session.execute(
            select(OutboxMessage.state, OutboxMessage.platform_ids, OutboxMessage.payload).where(
                OutboxMessage.key == key
            )
        )
    ).first()
    if row is None:
        return None
    state, ids, payload = row
    return Sent(state, tuple(ids or ()), len((payload or {}).get("files") or []))


@dataclass(frozen=True)
class Row:
    """A row as a later decision about it needs it."""

    key: str
    channel: str
    chat_id: str
    state: str
    not_before: datetime
    payload: dict[str, Any]


async def rows_of(
    session: AsyncSession, keys: Sequence[str], *, for_update: bool = False
) -> list[Row]:
    """The rows with these keys; `for_update`: locked until the caller's transaction ends
    (PostgreSQL: FOR UPDATE; SQLite's one writer already holds the database once a transaction
    has written), so that decisions taken from them one after another each see the one
    before."""
    if not keys:
        return []
    query = (
        select(
            OutboxMessage.key,
            OutboxMessage.channel,
            OutboxMessage.chat_id,
            OutboxMessage.state,
            OutboxMessage.not_before,
            OutboxMessage.payload,
        )
        .where(OutboxMessage.key.in_(list(keys)))
        .order_by(OutboxMessage.key)  # always in the same order: two lockers never deadlock
    )
    if for_update and _dialect(session) == "postgresql":
        query = query.with_for_update()
    return [Row(*row) for row in (await session.execute(query)).all()]


async def last_sent_payload(
    session: AsyncSession, channel: str, chat_id: str
) -> dict[str, Any] | None:
    """The payload of the last message that went out to a chat (None before the first): what
    the person last saw, e.g. a reminder whose options a platform without buttons showed as
    numbered lines, answered afterwards by their number (handlers.router)."""
    query = (
        select(OutboxMessage.payload)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.state == SENT,
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    payload = await session.scalar(query)
    return payload if isinstance(payload, dict) else None
