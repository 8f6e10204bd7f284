"""Officers answer in their own words: "xong", "đang làm", "vướng", "on hold"; and a file sent
twice is kept once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.dispatcher import Dispatcher
from storage.db import create_engine, session_factory
from storage.models import Conversation, EvidenceFile
from tests.plan_factory import NOW, PDF, Officer, config, load_plan, make_invite, pdf_file

WORDS = {
    "done_on_time": ["xong", "hoàn thành", "đã xong", "Đã hoàn thành.", "done", "Finished"],
    "in_progress": ["đang làm", "đang thực hiện", "dang lam", "in progress", "doing"],
    "blocked": ["vướng", "vướng mắc", "khó khăn", "blocked", "stuck"],
    "not_started": ["chưa làm", "chưa triển khai", "not started"],
    "paused": ["tạm dừng", "dừng", "paused", "on hold"],
}


@dataclass
class Reporter(Officer):
    sessions: async_sessionmaker[AsyncSession] | None = None


@pytest.fixture
async def officer(tmp_path: Path, sqlite_url: str) -> AsyncIterator[Reporter]:
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    await load_plan(sessions, tmp_path)
    dispatcher = Dispatcher(sessions, config(tmp_path / "data"), clock=lambda: NOW)
    an = Reporter(dispatcher, "6001", sessions=sessions)
    await an.command(f"/start {await make_invite(sessions, 'Sở TT&TT')}")
    yield an
    await engine.dispose()


async def chosen_status(officer: Reporter) -> str | None:
    assert officer.sessions is not None
    async with officer.sessions() as session:
        state = await session.scalar(select(Conversation))
        assert state is not None
        return state.data.get("status")


async def test_the_status_step_understands_the_office_words(officer: Reporter) -> None:
    for expected, words in WORDS.items():
        for typed in words:
            await officer.command("/baocao VII.3")
            answer = await officer.say(typed)
            assert "Tình trạng thực hiện" not in answer, typed  # understood, moved on
            assert await chosen_status(officer) == expected, typed
            await officer.command("/huy")


async def test_words_it_cannot_place_are_asked_again_with_examples(officer: Reporter) -> None:
    await officer.command("/baocao VII.3")
    answer = await officer.say("có lẽ sắp")
    assert "Chưa rõ tình trạng “có lẽ sắp”" in answer and "đang làm" in answer
    assert "Tình trạng thực hiện" in answer  # the question again
    assert "Tỷ lệ hoàn thành" in await officer.say("đang làm")


async def test_the_same_file_twice_is_kept_once(officer: Reporter, tmp_path: Path) -> None:
    await officer.command("/baocao VII.3")
    await officer.say("xong")
    await officer.say("Đã nghiệm thu.")
    await officer.press("Bỏ qua")
    await officer.press("Bỏ qua")
    assert "Đã nhận 1 tệp: bien_ban.pdf" in await officer.upload(pdf_file("bien_ban.pdf"))

    again = await officer.upload(pdf_file("bien_ban (1).pdf"), pdf_file("anh.pdf", PDF + b"%"))

    assert "“bien_ban (1).pdf” có nội dung trùng với tệp “bien_ban.pdf”" in again
    assert "chỉ giữ một bản" in again and "Đã nhận 2 tệp: bien_ban.pdf, anh.pdf" in again
    twice_at_once = await officer.upload(pdf_file("x.pdf", b"%PDF-2"), pdf_file("y.pdf", b"%PDF-2"))
    assert "“y.pdf” có nội dung trùng với tệp “x.pdf”" in twice_at_once
    summary = await officer.press("Xong")
    assert "Tệp minh chứng: bien_ban.pdf, anh.pdf, x.pdf" in summary
    await officer.press("Gửi")
    assert officer.sessions is not None
    async with officer.sessions() as session:
        names = (await session.scalars(select(EvidenceFile.file_name))).all()
    assert sorted(names) == ["anh.pdf", "bien_ban.pdf", "x.pdf"]
