"""One person on both messengers, served by one `tiendo run` that polls Telegram and Zalo.

An officer joins on Telegram and reports there; the admin makes a code for that person
(`tiendo invite --for`); the officer sends it to the bot on Zalo and is the same person there:
the same unit, the same history, a report from either messenger counted as theirs.
"""

from __future__ import annotations

import asyncio
import re
import signal
from pathlib import Path

from sqlalchemy import select

from storage.db import create_engine, session_factory
from storage.models import ChannelIdentity, Person, Report
from tests.fake_telegram import TOKEN as TELEGRAM_TOKEN
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import TOKEN as ZALO_TOKEN
from tests.plan_factory import load_plan, make_invite
from tests.test_telegram import button
from tests.test_telegram_crash import start_bot
from tests.test_zalo_journey import cli, env_for, fake_zalo, free_port, number_of, said

TELEGRAM_USER = 5550077
ZALO_USER = "a1b2c3d4e5f6a7b8c9d0"


async def test_one_person_reports_on_telegram_and_on_zalo(
    fake: FakeTelegram, tmp_path: Path, db_url: str
) -> None:
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    await load_plan(sessions, tmp_path)
    invite = await make_invite(sessions, "Sở TT&TT")
    async with fake_zalo() as zalo:
        env = env_for(
            db_url,
            tmp_path,
            TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
            TELEGRAM_API_BASE_URL=fake.url,
            ZALO_BOT_TOKEN=ZALO_TOKEN,
            ZALO_API_BASE_URL=zalo.url,
            HTTP_PORT=str(free_port()),
        )
        bot = await start_bot(env)
        try:
            await fake.push_text(TELEGRAM_USER, f"/start {invite}")
            assert "Sở Thông tin" in (await fake.wait_sent(TELEGRAM_USER, 1, timeout=30))[0].text
            await fake.push_text(TELEGRAM_USER, "/baocao VII.3")
            status = (await fake.wait_sent(TELEGRAM_USER, 2))[-1]
            await fake.press(TELEGRAM_USER, button(status, "Đang thực hiện"), status.message_id)
            await fake.wait_sent(TELEGRAM_USER, 3)
            await fake.push_text(TELEGRAM_USER, "30")
            await fake.wait_sent(TELEGRAM_USER, 4)
            await fake.push_text(TELEGRAM_USER, "/huy")  # leaves it there for now
            await fake.wait_sent(TELEGRAM_USER, 5)

            async with sessions() as session:
                person_id = await session.scalar(select(Person.id))
            code, out, err = await cli(env, "invite", "--for", str(person_id))
            assert code == 0, err
            link = re.search(r"Mã nối tài khoản cho .+: (\w+)", out)
            assert link is not None

            await zalo.push_text(ZALO_USER, "/start")  # not yet known on Zalo
            assert "mã mời" in (await said(zalo, 1, ZALO_USER)).lower()
            await zalo.push_text(ZALO_USER, link.group(1))  # the code alone
            linked = await said(zalo, 2, ZALO_USER)
            assert "Zalo của bạn đã được nối" in linked and "Sở Thông tin" in linked
            await zalo.push_text(ZALO_USER, "/baocao VII.3")
            status_z = await said(zalo, 3, ZALO_USER)
            await zalo.push_text(ZALO_USER, number_of(status_z, "Đang thực hiện"))
            await said(zalo, 4, ZALO_USER)
            await zalo.push_text(ZALO_USER, "60")
            await said(zalo, 5, ZALO_USER)
            await zalo.push_text(ZALO_USER, "Đã lắp đặt xong phần cứng")
            for step in (6, 7, 8):  # difficulties, proposals, files: each skipped or done
                options = await said(zalo, step, ZALO_USER)
                await zalo.push_text(ZALO_USER, number_of(options, "Bỏ qua"))
            summary = await said(zalo, 9, ZALO_USER)
            await zalo.push_text(ZALO_USER, number_of(summary, "Gửi"))
            assert "Đã gửi báo cáo số 1" in await said(zalo, 10, ZALO_USER)

            # Back on Telegram: the same person sees what they reported on Zalo.
            await fake.push_text(TELEGRAM_USER, "/nhiemvu")
            listing = (await fake.wait_sent(TELEGRAM_USER, 6))[-1].text
            assert "60%" in listing

            # The same invite again on Zalo, or on a third account: refused.
            await zalo.push_text("ffff0000ffff0000ffff", f"/start {link.group(1)}")
            assert "đã được dùng hết" in await said(zalo, 1, "ffff0000ffff0000ffff")
        finally:
            if bot.returncode is None:
                bot.send_signal(signal.SIGTERM)
            _, err_bytes = await asyncio.wait_for(bot.communicate(), 30)
            print(err_bytes.decode()[-3000:])
    assert bot.returncode == 0, err_bytes.decode()[-2000:]
    assert ZALO_TOKEN not in err_bytes.decode() and TELEGRAM_TOKEN not in err_bytes.decode()
    async with sessions() as session:
        identities = (await session.scalars(select(ChannelIdentity))).all()
        reports = (await session.scalars(select(Report))).all()
        people = (await session.scalars(select(Person))).all()
    await engine.dispose()
    assert len(people) == 1  # one person (the stranger of the last try did not join)
    assert sorted((i.channel, i.external_id, i.person_id) for i in identities) == [
        ("telegram", str(TELEGRAM_USER), people[0].id),
        ("zalo", ZALO_USER, people[0].id),
    ]
    assert [(r.person_id, r.channel, r.percent) for r in reports] == [(people[0].id, "zalo", 60)]
