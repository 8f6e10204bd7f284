"""An invite admits exactly as many people as it allows, and guessing codes is slowed down.

Ten people who hold one code for three press /start at the same moment; someone tries codes at
random; someone posts a code in a group. On SQLite and PostgreSQL, through the fake Bot API.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.dispatcher import Dispatcher
from storage.db import create_engine, session_factory
from storage.models import AuditLog, ChannelIdentity, Invite, InviteUse
from storage.repositories import invites, people
from tests.fake_telegram import FakeTelegram
from tests.plan_factory import NOW, Officer, config, load_plan, make_invite, unit_id
from tests.test_telegram import count_rows, running_bot

PEOPLE = [5551000 + n for n in range(10)]


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on this test's database, SQLite and PostgreSQL in turn."""
    engine = create_engine(db_url)
    yield session_factory(engine)
    await engine.dispose()


async def invite_row(sessions: async_sessionmaker[AsyncSession]) -> Invite:
    async with sessions() as session:
        invite = await session.scalar(select(Invite))
        assert invite is not None
        return invite


async def test_ten_people_at_once_on_a_code_for_three_let_in_three(
    fake: FakeTelegram, tmp_path: Path, db_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await load_plan(sessions, tmp_path)
    code = await make_invite(sessions, "Sở TT&TT", uses=3)
    for user in PEOPLE:  # all waiting before the bot starts: one polling batch
        await fake.push_text(user, f"/start {code}")

    async with running_bot(fake, db_url, tmp_path / "data"):
        answers = [(await fake.wait_sent(user, 1, timeout=30))[0].text for user in PEOPLE]

    joined = [a for a in answers if "Sở Thông tin và Truyền thông" in a]
    refused = [a for a in answers if "đã được dùng hết" in a]
    assert (len(joined), len(refused)) == (3, 7), answers
    assert await count_rows(sessions, ChannelIdentity) == 3
    assert await count_rows(sessions, InviteUse) == 3
    assert (await invite_row(sessions)).uses == 3
    assert fake.confirmed_all()


async def test_claims_racing_in_the_repository_never_pass_the_limit(
    tmp_path: Path, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await load_plan(sessions, tmp_path)
    code = await make_invite(sessions, "Sở TT&TT", uses=3)
    unit = await unit_id(sessions, "Sở Thông tin và Truyền thông")
    everyone_checked = asyncio.Barrier(10)

    async def join(n: int) -> bool:
        async with sessions() as session:
            invite = await invites.find(session, code)
            assert invite is not None
            assert await invites.check(session, invite, None, NOW) == "ok"
            await everyone_checked.wait()  # all ten saw a use left before anyone claims
            if not await invites.claim(session, invite, NOW):
                await session.rollback()
                return False
            person = await people.create(
                session,
                channel="telegram",
                external_id=str(n),
                chat_id=str(n),
                name=f"Cán bộ {n}",
                role="officer",
                unit_id=unit,
                language="vi",
                now=NOW,
            )
            await invites.redeem(session, invite, person, NOW)
            await session.commit()
            return True

    results = await asyncio.gather(*(join(n) for n in range(10)))

    assert results.count(True) == 3
    assert (await invite_row(sessions)).uses == 3
    assert await count_rows(sessions, InviteUse) == 3


async def test_an_expired_code_is_not_claimed(
    tmp_path: Path, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await load_plan(sessions, tmp_path)
    await make_invite(sessions, "Sở TT&TT", uses=5, expires=timedelta(minutes=5))
    invite = await invite_row(sessions)
    async with sessions() as session:
        assert not await invites.claim(session, invite, NOW + timedelta(minutes=6))
        assert await invites.claim(session, invite, NOW + timedelta(minutes=4))
        await session.commit()
    assert (await invite_row(sessions)).uses == 1


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


async def test_wrong_codes_are_slowed_down_even_across_a_restart(
    tmp_path: Path, sessions: async_sessionmaker[AsyncSession]
) -> None:
    clock = Clock()
    await load_plan(sessions, tmp_path)
    good = await make_invite(sessions, "Sở TT&TT", uses=2, expires=timedelta(days=30))
    guesser = Officer(Dispatcher(sessions, config(tmp_path), clock), "777")
    for n in range(4):
        clock.now = NOW + timedelta(minutes=n)
        assert "Mã mời không đúng" in await guesser.command(f"/start WRONG{n}XX")

    clock.now = NOW + timedelta(minutes=5)
    fifth = await guesser.command("/start WRONG5XX")
    # 09:05 in Hai Phong, locked for ten minutes: back at 09:15.
    assert "sai mã mời quá nhiều lần" in fifth and "09:15" in fifth and "10 phút" in fifth

    # A restart (a new dispatcher, as another instance would be) changes nothing, and
    # even the right code is refused while the chat is locked.
    clock.now = NOW + timedelta(minutes=9)
    again = Officer(Dispatcher(sessions, config(tmp_path), clock), "777")
    assert "thử lại sau 09:15" in await again.command(f"/start {good}")
    assert await count_rows(sessions, ChannelIdentity) == 0
    async with sessions() as session:  # the guesses are on record, the codes are not
        rows = (await session.scalars(select(AuditLog).where(AuditLog.entity == "chat"))).all()
    assert [r.action for r in rows] == ["invite.wrong_code"] * 5
    assert all("WRONG" not in str(r.details) + r.entity_id for r in rows)

    # Another chat is not affected, and the lock ends when it said.
    assert "Chào" in await Officer(guesser.dispatcher, "778").command(f"/start {good}")
    clock.now = NOW + timedelta(minutes=15, seconds=1)
    assert "Chào" in await again.command(f"/start {good}")


async def test_a_code_posted_in_a_group_is_not_redeemed_there(
    fake: FakeTelegram, tmp_path: Path, db_url: str
) -> None:
    group = -100200300
    async with running_bot(fake, db_url, tmp_path / "data") as bot:
        await load_plan(bot.sessions, tmp_path)  # type: ignore[arg-type]
        code = await make_invite(bot.sessions, "Sở TT&TT")  # type: ignore[arg-type]

        await fake.push_text(PEOPLE[0], f"/start {code}", group=group)
        await fake.push_text(PEOPLE[0], code, group=group)  # a bare code, as on Zalo

        answers = [s.text for s in await fake.wait_sent(group, 2)]
        assert all("chỉ dùng trong cuộc trò chuyện riêng" in a for a in answers)
        assert all(code not in s.text for s in fake.sent)
        assert await count_rows(bot.sessions, ChannelIdentity) == 0
        async with bot.sessions() as session:  # type: ignore[attr-defined]
            assert await session.scalar(select(func.sum(Invite.uses))) == 0

        await fake.push_text(PEOPLE[0], f"/start {code}")  # in private, it still works
        assert "Sở Thông tin và Truyền thông" in (await fake.wait_sent(PEOPLE[0], 1))[0].text
