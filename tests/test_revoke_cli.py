"""`tiendo revoke PERSON`: the operator takes a person's access away from the command line, and
gives it back with --restore; the person's chats follow at once, the audit log says "cli"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.dispatcher import Dispatcher
from storage.db import create_engine, session_factory
from storage.models import AuditLog, Person
from tests.plan_factory import NOW, Officer, config, load_plan, make_invite


@pytest.fixture
async def sessions(
    sqlite_url: str, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The database `tiendo` is run against (cli_env points at the same file), with the plan."""
    engine = create_engine(sqlite_url)
    factory = session_factory(engine)
    await load_plan(factory, tmp_path)
    yield factory
    await engine.dispose()


async def joined(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, user: str, name: str, unit: str
) -> Officer:
    person = Officer(Dispatcher(sessions, config(tmp_path / "data"), clock=lambda: NOW), user, name)
    await person.command(f"/start {await make_invite(sessions, unit)}")
    return person


async def person_id(sessions: async_sessionmaker[AsyncSession], name: str) -> int:
    async with sessions() as session:
        found = await session.scalar(select(Person.id).where(Person.full_name == name))
        assert found is not None
        return int(found)


async def test_revoke_and_restore_from_the_command_line(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, run_cli
) -> None:  # type: ignore[no-untyped-def]
    an = await joined(sessions, tmp_path, "2001", "Nguyễn Văn An", "Sở TT&TT")
    await joined(sessions, tmp_path, "2002", "Nguyễn Thị Anh", "Sở Nội vụ")
    an_id = await person_id(sessions, "Nguyễn Văn An")

    several = run_cli("revoke", "nguyen")
    assert several.code == 1 and "khớp 2 người" in several.err
    assert f"#{an_id} Nguyễn Văn An (cán bộ đầu mối, Sở Thông tin và Truyền thông)" in several.err

    done = run_cli("revoke", "van an")
    assert done.code == 0, done.err
    assert f"Đã thu hồi quyền của #{an_id} Nguyễn Văn An" in done.out
    assert "đã bị thu hồi" in await an.command("/baocao")
    again = run_cli("revoke", f"#{an_id}")
    assert again.code == 0 and "không có gì thay đổi" in again.out

    restored = run_cli("revoke", str(an_id), "--restore")
    assert restored.code == 0 and "dùng lại tiendo" in restored.out
    assert "Chọn nhiệm vụ" in await an.command("/baocao")

    async with sessions() as session:
        entries = (
            await session.scalars(
                select(AuditLog)
                .where(AuditLog.action.in_(("person.revoked", "person.restored")))
                .order_by(AuditLog.id)
            )
        ).all()
    assert [(e.action, e.actor, e.entity_id) for e in entries] == [
        ("person.revoked", "cli", str(an_id)),
        ("person.restored", "cli", str(an_id)),
    ]
    assert entries[1].details["before"]["revoked_at"] is not None
    assert entries[1].details["after"] == {"revoked_at": None}


def test_revoke_speaks_english_when_asked(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("revoke", "#1", env={"DEFAULT_LANGUAGE": "en"})
    assert result.code == 1 and "Nobody has the name or number “#1”" in result.err
