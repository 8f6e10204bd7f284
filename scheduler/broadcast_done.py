"""When the last message of a broadcast is sent or failed, the admin who sent it is told how it
went: how many went out, how many failed, and why (the reasons grouped).

The outbox dispatcher calls `settled` for every row it marks, once the mark has committed, so
whichever row of a broadcast settles last sees all the others settled; two rows settling at once
on two instances may both see it, and the notice's key ("broadcast-done:ID") writes it once.
A crash between a row's mark and this check leaves the admin untold (the messages themselves
are unaffected).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import broadcast
from handlers.events import Reply
from handlers.i18n import number, t
from handlers.notices import notify
from handlers.wording import short
from storage.models import AuditLog, Person
from storage.repositories import audit, outbox
from storage.repositories.outbox import FAILED, SENT, Claimed

REASONS = 5  # reasons listed; the rest are counted together
REASON_CHARS = 150
PREVIEW = 80  # the start of the broadcast's text, to say which one


async def settled(claimed: Claimed, now: datetime, session: AsyncSession) -> None:
    """Tell the admin, if `claimed` was the last message of its broadcast to settle."""
    broadcast_id = claimed.payload.get(broadcast.ID_FIELD)
    if claimed.kind != broadcast.KIND or not isinstance(broadcast_id, str):
        return
    prefix = broadcast.key_prefix(broadcast_id)
    if await outbox.unsettled(session, prefix):
        return
    entry = await _entry(session, broadcast_id)
    admin_id = entry.details.get("admin") if entry is not None else None
    admin = await session.get(Person, admin_id) if isinstance(admin_id, int) else None
    if entry is None or admin is None:
        return
    found = await outbox.outcomes(session, prefix)
    sent = sum(count for state, _, count in found if state == SENT)
    reasons: dict[str, int] = {}
    for state, reason, count in found:
        if state == FAILED:
            reasons[reason or "?"] = reasons.get(reason or "?", 0) + count
    text = short(str(entry.details.get("text", "")), PREVIEW)
    await notify(
        session,
        admin,
        f"broadcast-done:{broadcast_id}",
        lambda lang: Reply(report(lang, text, sent, reasons)),
        now,
    )


def report(lang: str, text: str, sent: int, reasons: dict[str, int]) -> str:
    """How the broadcast starting with `text` went: messages delivered, failed, and why (the
    reasons most frequent first, a few of them)."""
    failed = sum(reasons.values())
    lines = [
        t(lang, "broadcast_done", text=text, sent=number(lang, sent), failed=number(lang, failed))
    ]
    ranked = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    for reason, count in ranked[:REASONS]:
        lines.append(
            t(lang, "broadcast_done_reason", reason=short(reason, REASON_CHARS), count=count)
        )
    rest = sum(count for _, count in ranked[REASONS:])
    if rest:
        lines.append(t(lang, "broadcast_done_more", count=number(lang, rest)))
    return "\n".join(lines)


async def _entry(session: AsyncSession, broadcast_id: str) -> AuditLog | None:
    """The broadcast's audit entry: its text and the admin who confirmed it."""
    return await audit.find(session, broadcast.ACTION, "broadcast", broadcast_id)
