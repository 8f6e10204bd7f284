"""The operator reads the audit log with `tiendo audit`: from a day on (typed as the office
writes it or as ISO, counted from midnight in the city), the latest few, as text or JSON; each
entry with its time in the city's time zone, who by name, the action, what it touched, and the
before and after. A wrong date, number or format is refused in plain Vietnamese."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.commands.audit import detail_lines, parse_format, parse_limit, parse_since
from bot.errors import UserError
from storage.db import create_engine, session_factory
from storage.models import AuditLog
from storage.repositories import audit, people


async def write_log(url: str) -> int:
    """Three entries: a plan renamed in January, then an officer's refused /ganhom on the
    morning of 24/11/2026 and an admin binding a group 30 minutes after midnight on 25/11/2026
    in Hai Phong (still the 24th in UTC)."""
    engine = create_engine(url)
    async with session_factory(engine)() as session:
        moment = datetime(2026, 1, 1, tzinfo=UTC)
        officer = await people.create(
            session,
            channel="telegram",
            external_id="1001",
            chat_id="1001",
            name="Nguyễn Văn An",
            role="officer",
            unit_id=None,
            language="vi",
            now=moment,
        )
        entries: list[tuple[datetime, str, str, str, object, dict[str, Any]]] = [
            (datetime(2026, 1, 5, 3, 0), "cli", "plan.renamed", "plan", 1,
             {"name": ["Kế hoạch năm 2026", "Kế hoạch chuyển đổi số năm 2026"]}),
            (datetime(2026, 11, 24, 1, 30), f"person:{officer.id} telegram:1001",
             "command.refused", "command", "ganhom",
             {"reason": "permission_denied", "role": "officer", "chat": "group"}),
            (datetime(2026, 11, 24, 17, 30), "telegram:7000", "group.bound", "bound_chat",
             "telegram:-100777",
             {"before": None, "after": {"chat_id": "-100777", "title": "Ban Chỉ đạo CĐS"}}),
        ]  # fmt: skip
        for at, actor, action, entity, entity_id, details in entries:
            audit.record(
                session,
                now=at.replace(tzinfo=UTC),
                actor=actor,
                action=action,
                entity=entity,
                entity_id=entity_id,
                details=details,
            )
        await session.commit()
    await engine.dispose()
    return officer.id


def test_the_operator_reads_the_log_since_a_day(run_cli, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    officer = asyncio.run(write_log(sqlite_url))

    since = run_cli("audit", "--since", "24/11/2026")
    latest = run_cli("audit", "--since", "2026-11-25", "--format", "json", "--limit", "5")

    assert since.code == 0, since.err
    assert since.out.splitlines() == [
        f"24/11/2026 08:30 · Nguyễn Văn An (person:{officer} telegram:1001) · command.refused · "
        "command ganhom",
        "    reason: permission_denied",
        "    role: officer",
        "    chat: group",
        "25/11/2026 00:30 · telegram:7000 · group.bound · bound_chat telegram:-100777",
        "    trước: —",
        '    sau: {"chat_id": "-100777", "title": "Ban Chỉ đạo CĐS"}',
    ]
    entries = json.loads(latest.out)
    assert [(e["at"], e["action"], e["details"]["before"]) for e in entries] == [
        ("2026-11-25T00:30:00+07:00", "group.bound", None)
    ]


def test_a_bad_date_is_refused_in_vietnamese(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("audit", "--since", "31/02/2026")

    assert result.code == 1 and result.out == ""
    assert "Ngày “31/02/2026” không đúng" in result.err and "dd/mm/yyyy" in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("24/11/2026", date(2026, 11, 24)),
        ("1/2/2026", date(2026, 2, 1)),
        (" 2026-11-24 ", date(2026, 11, 24)),
    ],
)
def test_dates_are_read_as_the_office_or_iso_writes_them(typed: str, day: date) -> None:
    assert parse_since(typed, "vi") == day


@pytest.mark.parametrize(
    "typed", ["24-11-2026", "2026/11/24", "hôm qua", "24/11/26", "2026-13-01", "٢٤/١١/٢٠٢٦"]
)
def test_anything_else_is_not_a_date(typed: str) -> None:
    with pytest.raises(UserError, match="không đúng"):
        parse_since(typed, "vi")


def test_limits_and_formats_are_checked() -> None:
    assert parse_limit("20", "vi") == 20 and parse_format("JSON", "vi") == "json"
    for typed in ("0", "-3", "mười", "2.5", "²", "99999999"):
        with pytest.raises(UserError, match="cần một số nguyên từ 1 đến"):
            parse_limit(typed, "vi")
    with pytest.raises(UserError, match="Định dạng “xml” không đúng: chọn một trong text, json"):
        parse_format("xml", "vi")


def test_a_change_reads_before_and_after() -> None:
    renamed = AuditLog(
        action="plan.renamed",
        details={"name": ["Kế hoạch năm 2026", "Kế hoạch chuyển đổi số năm 2026"], "by": "cli"},
    )
    created = AuditLog(action="unit.created", details={"aliases": ["Phòng TN&MT", "Phòng TN-MT"]})

    assert detail_lines(renamed, "vi") == [
        "name: Kế hoạch năm 2026 → Kế hoạch chuyển đổi số năm 2026",
        "by: cli",
    ]
    # A list of two in an entry that is not a change stays a list.
    assert detail_lines(created, "vi") == ['aliases: ["Phòng TN&MT", "Phòng TN-MT"]']
