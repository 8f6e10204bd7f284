"""Joining: every wrong way to use an invite gets its own clear message."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from handlers.dispatcher import Dispatcher
from storage.db import create_engine, session_factory
from tests.plan_factory import NOW, Officer, config, load_plan, make_invite


async def test_every_way_to_join_wrongly_is_told_apart(tmp_path: Path, sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    await load_plan(sessions, tmp_path)
    dispatcher = Dispatcher(sessions, config(tmp_path / "data"), clock=lambda: NOW)
    stranger = Officer(dispatcher, "2001", name="Trần Thị Bình")

    assert "Bạn chưa đăng ký" in await stranger.say("xin chào")
    assert "Bạn chưa đăng ký" in await stranger.command("/baocao")
    assert "hãy gửi /start kèm mã mời" in await stranger.command("/start")
    assert "Mã mời không đúng" in await stranger.command("/start KHONGCO99")
    expired = await make_invite(sessions, "Sở Nội vụ", expires=timedelta(days=-1))
    assert "đã hết hạn" in await stranger.command(f"/start {expired}")

    once = await make_invite(sessions, "Sở Nội vụ", uses=1)
    welcome = await stranger.command(f"/start {once}")
    assert "Chào Trần Thị Bình" in welcome and "cán bộ đầu mối của Sở Nội vụ" in welcome
    assert "đã dùng mã mời này rồi" in await stranger.command(f"/start {once}")
    late = Officer(dispatcher, "2002", name="Lê Văn Cường")
    assert "đã được dùng hết" in await late.command(f"/start {once}")
    assert "Bạn chưa đăng ký" in await late.say("1")
    await engine.dispose()


async def test_admins_need_no_invite_and_help_follows_the_role(
    tmp_path: Path, sqlite_url: str
) -> None:
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    await load_plan(sessions, tmp_path)
    admins = frozenset({("telegram", "9000")})
    dispatcher = Dispatcher(sessions, config(tmp_path / "data", admins), clock=lambda: NOW)
    admin = Officer(dispatcher, "9000", name="Phạm Quản Trị")
    assert "Bạn chưa đăng ký" not in await admin.command("/trogiup")

    officer = Officer(dispatcher, "1001")
    await officer.command(f"/start {await make_invite(sessions, 'Sở TT&TT')}")
    help_text = await officer.command("/trogiup")
    assert all(c in help_text for c in ("/baocao", "/nhiemvu", "/lichsu", "/giahan", "/ngonngu"))
    await engine.dispose()
