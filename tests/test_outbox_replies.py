"""A dialog's answers leave through the outbox, sent at once by the process that handled the
step: no transaction is open while they travel, and a chat the platform told to wait holds
only its own answers, in order, while the other chats' dialogs go on."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select, text

from storage.db import create_engine
from storage.models import OutboxMessage
from tests.fake_telegram import FakeTelegram
from tests.plan_factory import load_plan, make_invite
from tests.test_telegram import USER, button, join, reply_to, running_bot
from tests.test_zalo_journey import USER as ZALO_USER
from tests.test_zalo_journey import fake_zalo, running_zalo, said

# Every table a step writes on its way to an answer (the step, its record, its answer rows,
# Zalo's inbox): a second connection must be able to write each while the answer travels.
STEP_TABLES = ("outbox", "processed_updates", "conversations", "inbox_events")


async def write_without_waiting(db_url: str) -> None:
    """Write to every table a step touches from a second connection that will not wait: it
    fails if a transaction that wrote there is still open."""
    sqlite = db_url.startswith("sqlite")
    engine = create_engine(db_url + ("?timeout=0.5" if sqlite else ""))
    try:
        async with engine.begin() as connection:
            if not sqlite:
                await connection.execute(text("SET LOCAL lock_timeout = '500ms'"))
            for table in STEP_TABLES:
                await connection.execute(text(f"UPDATE {table} SET id = id"))
    finally:
        await engine.dispose()


async def test_no_transaction_is_open_while_a_telegram_answer_travels(
    fake: FakeTelegram, tmp_path: Path, db_url: str
) -> None:
    async with running_bot(fake, db_url, tmp_path / "data") as bot:
        await join(bot, tmp_path)
        await reply_to(fake, 1)
        fake.hold_sends.clear()
        fake.send_started.clear()
        await fake.push_text(USER, "/baocao VII.3")
        await asyncio.wait_for(fake.send_started.wait(), 10)  # the answer is on its way
        await write_without_waiting(db_url)
        fake.hold_sends.set()
        status = await reply_to(fake, 2)
        assert button(status, "Đang thực hiện")


async def test_no_transaction_is_open_while_a_zalo_answer_travels(
    tmp_path: Path, db_url: str
) -> None:
    async with fake_zalo() as fake, running_zalo(fake, db_url, tmp_path / "data") as bot:
        await load_plan(bot.sessions, tmp_path)
        invite = await make_invite(bot.sessions, "Sở TT&TT")
        fake.hold_sends.clear()
        await fake.push_text(ZALO_USER, f"/start {invite}")
        await asyncio.wait_for(fake.send_started.wait(), 10)
        await write_without_waiting(db_url)
        fake.hold_sends.set()
        assert "Chào" in await said(fake, 1)


async def test_a_429_during_a_dialog_holds_that_chat_alone(
    fake: FakeTelegram, tmp_path: Path, sqlite_url: str
) -> None:
    other = USER + 7
    async with running_bot(fake, sqlite_url, tmp_path / "data") as bot:
        await join(bot, tmp_path)
        await reply_to(fake, 1)
        await fake.push_text(other, f"/start {await make_invite(bot.sessions, 'Sở TT&TT')}")
        await fake.wait_sent(other, 1)

        fake.fail_next_to(USER, "sendMessage", 429, "Too Many Requests: retry after 5",
                          retry_after=5)  # fmt: skip
        began = asyncio.get_running_loop().time()
        await fake.push_text(USER, "/baocao VII.3")  # its answer is refused: wait 5 s
        await fake.push_text(USER, "/trogiup")  # queued behind it, in order
        await fake.push_text(other, "/baocao VII.3")
        status = (await fake.wait_sent(other, 2))[-1]
        await fake.press(other, button(status, "Đang thực hiện"), status.message_id)
        assert "%" in (await fake.wait_sent(other, 3))[-1].text  # the other dialog went on
        assert len(fake.to(USER)) == 1  # while this chat waited: only its welcome

        sent = await fake.wait_sent(USER, 4, timeout=20)  # /trogiup mid-dialog: two answers
        assert asyncio.get_running_loop().time() - began >= 5
        assert button(sent[1], "Đang thực hiện") and "/baocao" in sent[2].text
        await asyncio.sleep(0.3)  # anything sent twice would be here by now
        assert len(fake.to(USER)) == 4
        async with bot.sessions() as session:
            rows = (
                await session.scalars(
                    select(OutboxMessage).where(OutboxMessage.chat_id == str(USER))
                )
            ).all()
        assert {(row.kind, row.state) for row in rows} == {("reply", "sent")}
