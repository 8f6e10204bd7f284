"""An operator looks at the outbox with `tiendo outbox` and sends failed messages again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from storage.db import create_engine, session_factory, session_scope
from storage.models import AuditLog, OutboxMessage
from storage.repositories import outbox
from tests.plan_factory import NOW
from tests.test_outbox_dispatcher import decide

BLOCKED = "Forbidden: bot was blocked by the user"
LEASE = timedelta(minutes=1)


async def seed(url: str, rows: list[tuple[str, str, str]]) -> list[int]:
    """Messages as a dispatcher left them: (channel, chat, state) each, decided a minute apart
    from NOW (09:00 in Hai Phong)."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    ids = []
    try:
        for n, (channel, chat, state) in enumerate(rows):
            at = NOW + timedelta(minutes=n)
            async with session_scope(sessions) as session:
                await decide(session, channel, chat, f"Thông báo {n}", f"notice:{n}", at)
            async with session_scope(sessions) as session:
                [claimed] = await outbox.claim(session, "cli-test", at, LEASE, 1)
                ids.append(claimed.id)
                if state == "sent":
                    await outbox.mark_sent(session, claimed.id, "cli-test", at)
                elif state == "failed":
                    await outbox.mark_failed(session, claimed.id, "cli-test", BLOCKED, 1)
                else:
                    await outbox.release(session, "cli-test", [claimed.id], at)
    finally:
        await engine.dispose()
    return ids


async def stored(url: str) -> tuple[list[tuple[int, str, int]], list[AuditLog]]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            rows = (await session.scalars(select(OutboxMessage).order_by("id"))).all()
            entries = (await session.scalars(select(AuditLog))).all()
            return [(r.id, r.state, r.attempts) for r in rows], list(entries)
    finally:
        await engine.dispose()


async def test_the_operator_sees_counts_by_channel_the_oldest_and_the_failures(
    run_cli: Any, sqlite_url: str
) -> None:
    await seed(
        sqlite_url,
        [
            ("telegram", "5550001", "sent"),
            ("telegram", "5550002", "failed"),
            ("telegram", "5550003", "pending"),
            ("zalo", "e4ea2cd5189df1c3a88c", "pending"),
        ],
    )
    done = run_cli("outbox")
    assert done.code == 0, done.err
    lines = done.out.splitlines()
    assert lines == [
        "telegram: chờ gửi 1, đang gửi 0, đã gửi 1, lỗi 1",
        "  tin chờ lâu nhất: từ 25/11/2026 09:02",
        "zalo: chờ gửi 1, đang gửi 0, đã gửi 0, lỗi 0",
        "  tin chờ lâu nhất: từ 25/11/2026 09:03",
        "Tin gửi lỗi (1):",
        f"  #2 telegram 5550002 (notice, 1 lần thử, 25/11/2026 09:01): {BLOCKED}",
    ]


async def test_an_empty_outbox_says_so_in_the_operators_language(
    run_cli: Any, sqlite_url: str
) -> None:
    english = run_cli("outbox", env={"DEFAULT_LANGUAGE": "en"})
    assert english.out.splitlines() == ["The outbox holds no message yet.", "No message failed."]


async def test_failed_messages_are_sent_again_one_or_all(run_cli: Any, sqlite_url: str) -> None:
    first, second, _ = await seed(
        sqlite_url,
        [
            ("telegram", "5550001", "failed"),
            ("zalo", "e4ea2cd5189df1c3a88c", "failed"),
            ("telegram", "5550003", "sent"),
        ],
    )
    listed = run_cli("outbox", "--failed", env={"DEFAULT_LANGUAGE": "en"})
    assert listed.out.splitlines()[0] == "Failed messages (2):"
    assert f"#{second} zalo e4ea2cd5189df1c3a88c (notice, 1 attempts" in listed.out

    again = run_cli("outbox", "--retry", str(first))
    assert again.code == 0, again.err
    assert again.out.strip() == f"Đã đưa tin #{first} về hàng chờ; tiendo run sẽ gửi lại."
    rows, entries = await stored(sqlite_url)
    assert rows[0] == (first, "pending", 0)
    assert [(e.action, e.entity_id, e.actor) for e in entries] == [
        ("outbox_retry", str(first), "cli")
    ]

    twice = run_cli("outbox", "--retry", str(first))  # no longer failed
    assert twice.code == 1
    assert f"Không có tin lỗi số {first}" in twice.err

    everything = run_cli("outbox", "--retry-failed")
    assert everything.out.strip() == "Đã đưa 1 tin lỗi về hàng chờ; tiendo run sẽ gửi lại."
    rows, _ = await stored(sqlite_url)
    assert [state for _, state, _ in rows] == ["pending", "pending", "sent"]


async def test_one_retry_at_a_time(run_cli: Any, sqlite_url: str) -> None:
    both = run_cli("outbox", "--retry", "1", "--retry-failed")
    assert both.code == 2 and "--retry-failed" in both.err
