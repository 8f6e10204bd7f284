"""Updates arrive twice, at once, or after a restart: each step happens exactly once."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy import func, select

from handlers.dispatcher import Dispatcher
from storage.db import create_engine, session_factory
from storage.models import OutboxMessage, Report, Task
from tests.plan_factory import NOW, Officer, config, load_plan, make_invite


async def joined(tmp_path: Path, url: str):  # type: ignore[no-untyped-def]
    engine = create_engine(url)
    sessions = session_factory(engine)
    await load_plan(sessions, tmp_path)
    an = Officer(Dispatcher(sessions, config(tmp_path / "data"), clock=lambda: NOW), "1001")
    await an.command(f"/start {await make_invite(sessions, 'Sở TT&TT')}")
    return engine, sessions, an


async def reports(sessions) -> int:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Report)) or 0)


async def test_the_same_update_twice_has_one_effect(tmp_path: Path, sqlite_url: str) -> None:
    engine, sessions, an = await joined(tmp_path, sqlite_url)
    await an.command("/baocao VII.3")
    await an.press("Đang thực hiện")
    await an.say("100")
    await an.say("Xong phần việc.")
    await an.press("Bỏ qua")
    await an.press("Bỏ qua")
    summary_step = await an.press("Bỏ qua")
    assert "Kiểm tra báo cáo" in summary_step
    send = an.event(option_id=an.option("Gửi").id, message_id="7")

    first = await an.dispatcher.handle(send)
    again = await an.dispatcher.handle(send)  # a webhook retry before the answer went out
    assert "Đã gửi báo cáo số" in first.replies[0].text
    assert again.replies == [] and again.rows == []  # its answer is in the outbox already
    async with sessions() as session:
        kept = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    answer = [row for row in kept if row.key.startswith(f"reply:telegram:{send.update_key}:")]
    assert [row.payload["text"] for row in answer] == [r.text for r in first.replies]
    assert [row.id for row in answer] == [row.id for row in first.rows]
    late = await Dispatcher(sessions, an.dispatcher.config, clock=lambda: NOW).handle(send)
    assert late.replies == [] and await reports(sessions) == 1
    await engine.dispose()


async def test_a_restart_mid_dialog_continues_it(tmp_path: Path, sqlite_url: str) -> None:
    engine, sessions, an = await joined(tmp_path, sqlite_url)
    await an.command("/baocao VII.3")
    await an.press("Đang thực hiện")
    await engine.dispose()

    engine = create_engine(sqlite_url)  # a new process on the same database
    sessions = session_factory(engine)
    an.dispatcher = Dispatcher(sessions, config(tmp_path / "data"), clock=lambda: NOW)
    assert "Kết quả thực hiện" in await an.say("75")
    await engine.dispose()


async def test_two_updates_of_one_person_at_once_lose_no_step(tmp_path: Path, db_url: str) -> None:
    engine, sessions, an = await joined(tmp_path, db_url)
    await an.command("/baocao VII.3")
    await an.press("Đang thực hiện")
    await an.say("25")
    other = Dispatcher(sessions, config(tmp_path / "data"), clock=lambda: NOW)
    results = an.event(text="Đã khảo sát hiện trạng.")
    difficulties = an.event(text="Thiếu nhân lực.")

    await asyncio.gather(an.dispatcher.handle(results), other.handle(difficulties))

    # Whichever came first is the results, the other the difficulties: neither step is lost.
    assert "tệp minh chứng" in await an.say("Tăng biên chế.")
    text = await an.press("Bỏ qua")
    assert "Đã khảo sát hiện trạng." in text and "Thiếu nhân lực." in text
    assert "Tăng biên chế." in text
    await engine.dispose()


async def test_a_forged_option_for_another_units_task_is_refused(
    tmp_path: Path, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine, sessions, an = await joined(tmp_path, sqlite_url)
    async with sessions() as session:
        foreign = await session.scalar(select(Task.id).where(Task.code == "VII.1"))
    await an.command("/baocao")
    with caplog.at_level(logging.WARNING):
        refused = an.text_of(await an.send(an.event(option_id=f"t:{foreign}", message_id="3")))
    assert "không thuộc đơn vị của bạn" in refused
    assert any("refused task option" in r.message for r in caplog.records)
    assert "Không tìm thấy nhiệm vụ “VII.1”" in await an.command("/baocao VII.1")
    await engine.dispose()
