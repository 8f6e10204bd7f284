"""An officer types unit commands in a group chat: the bot never shows the unit's data there.

The group's members are not all of the officer's unit, so /nhiemvu, /lichsu, /baocao and
/giahan answer only in a private chat; in a group the bot says so briefly, starts no dialog,
and stays out of the group's own talk. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from handlers.dispatcher import Dispatcher
from storage.db import create_engine, session_factory
from storage.models import Conversation
from tests.plan_factory import NOW, Officer, config, load_plan, make_invite

GROUP = "-100777"


class InGroup(Officer):
    """The same person, writing in the group chat instead of the private one."""

    def event(self, **kwargs: object):  # type: ignore[no-untyped-def]
        return replace(super().event(**kwargs), chat_id=GROUP, chat_type="group")


async def test_unit_commands_in_a_group_point_to_the_private_chat(
    tmp_path: Path, db_url: str
) -> None:
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    await load_plan(sessions, tmp_path)
    dispatcher = Dispatcher(sessions, config(tmp_path / "data"), clock=lambda: NOW)
    code = await make_invite(sessions, "Sở TT&TT")
    an = Officer(dispatcher, "1001")
    await an.command(f"/start {code}")
    in_private = await an.command("/nhiemvu")
    assert "VII.3" in in_private

    in_group = InGroup(dispatcher, "1001")
    for command in ("/nhiemvu", "/lichsu", "/baocao", "/baocao VII.3", "/giahan"):
        answer = await in_group.command(command)
        assert "chỉ dùng trong cuộc trò chuyện riêng" in answer, command
        assert "VII.3" not in answer and "Sở Thông tin" not in answer
        assert in_group.labels() == []  # no task to choose from, nothing to press

    assert await in_group.say("Mọi người họp lúc 14h nhé") == ""  # the group's own talk
    assert "Các lệnh bạn có thể dùng" in await in_group.command("/trogiup")
    async with sessions() as session:
        open_dialogs = await session.scalars(
            select(Conversation).where(Conversation.chat_id == GROUP)
        )
        assert all(state.dialog is None for state in open_dialogs)

    assert "Chọn nhiệm vụ" in await an.command("/baocao")  # the private chat still works
    await engine.dispose()
