"""The rest of an officer's day: corrections, refusals mid-report, more time, English."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from handlers.dispatcher import Dispatcher
from handlers.events import IncomingFile
from storage.db import create_engine, session_factory
from storage.models import ExtensionRequest, Report
from tests.plan_factory import NOW, Officer, config, load_plan, make_invite, pdf_file


async def joined(tmp_path: Path, url: str, clock=lambda: NOW):  # type: ignore[no-untyped-def]
    engine = create_engine(url)
    sessions = session_factory(engine)
    await load_plan(sessions, tmp_path)
    an = Officer(Dispatcher(sessions, config(tmp_path / "data"), clock=clock), "1001")
    await an.command(f"/start {await make_invite(sessions, 'Sở TT&TT')}")
    return engine, sessions, an


def a_file(name: str, mime: str, size: int | None, content: bytes = b"x") -> IncomingFile:
    async def read() -> bytes:
        return content

    return IncomingFile(name, mime, size, read)


async def test_refusals_mid_report_then_a_correction(tmp_path: Path, sqlite_url: str) -> None:
    engine, sessions, an = await joined(tmp_path, sqlite_url)
    await an.command("/baocao")
    assert "Không tìm thấy nhiệm vụ “IX.9”" in await an.say("IX.9")
    assert "VII.3" in await an.say("VII.3")  # a typed code picks the task
    assert "Tình trạng" in await an.say("7")  # no 7th status: asked again
    assert "Tỷ lệ hoàn thành" in await an.say("2")  # typed "2" picks the second status
    tasks = await an.command("/nhiemvu")  # a command mid-dialog is answered...
    assert "VII.3" in tasks and "vẫn đang có thao tác dở" in tasks  # ...and the report stays
    assert "Kết quả thực hiện" in await an.say("50")
    assert "không để trống" in await an.say("   ")
    await an.say("Đã xong thiết kế.")
    await an.press("Bỏ qua")
    await an.press("Bỏ qua")
    assert "chỉ nhận pdf" in await an.upload(a_file("virus.exe", "application/x-msdownload", 10))
    assert "vượt quá 20 MB" in await an.upload(pdf_file(size=21 * 1024 * 1024))
    assert "vượt quá 20 MB" in await an.upload(pdf_file(content=b"%PDF" + b"0" * (20 << 20)))
    await an.upload(pdf_file("a.pdf"), a_file("anh.png", "image/png", 3, b"png"))
    summary = await an.press("Xong")
    assert "a.pdf" in summary and "anh.png" in summary
    assert "sửa phần nào" in await an.press("Sửa")
    await an.press("Tỷ lệ")
    summary = await an.say("75")  # back to the summary after the one edited step
    assert "Tỷ lệ hoàn thành: 75%" in summary and "Kiểm tra báo cáo" in summary
    await an.press("Gửi")

    await an.command("/baocao VII.3")
    await an.press("Hoàn thành")  # a completed status sets 100 and skips the question
    assert "Kết quả thực hiện" in an.text_of(an.last)
    for step in ("Nghiệm thu xong.", "Bỏ qua", "Bỏ qua", "Bỏ qua"):
        await (an.press(step) if step == "Bỏ qua" else an.say(step))
    await an.press("Gửi")
    async with sessions() as session:
        first, second = (await session.scalars(select(Report).order_by(Report.id))).all()
    assert (first.percent, second.percent, second.version) == (75, 100, 2)
    assert second.corrects_id == first.id
    await an.command("/baocao")
    assert "Đã huỷ" in await an.command("/huy")
    assert "Không có thao tác nào" in await an.command("/huy")
    await engine.dispose()


async def test_an_abandoned_dialog_ends_politely(tmp_path: Path, sqlite_url: str) -> None:
    now = [NOW]
    engine, _, an = await joined(tmp_path, sqlite_url, clock=lambda: now[0])
    await an.command("/baocao VII.3")
    now[0] = NOW + timedelta(hours=3)
    assert "đã hết hạn do lâu không trả lời" in await an.say("2")
    await engine.dispose()


async def test_asking_for_more_time(tmp_path: Path, sqlite_url: str) -> None:
    engine, sessions, an = await joined(tmp_path, sqlite_url)
    assert "gia hạn" in await an.command("/giahan")
    await an.press("VII.3")
    assert "không phải ngày theo dạng dd/mm/yyyy" in await an.say("cuối năm 2027")
    assert "không tồn tại" in await an.say("31/02/2027")
    assert "phải sau hôm nay (25/11/2026)" in await an.say("25/11/2026")
    assert "lý do" in await an.say("31/12/2027")
    assert "Gửi đề nghị?" in await an.say("Chờ vốn đầu tư công.")
    assert "đang chờ phê duyệt" in await an.press("Gửi")
    async with sessions() as session:
        request = await session.scalar(select(ExtensionRequest))
    assert request is not None and request.state == "pending"
    assert "Đang chờ duyệt đề nghị gia hạn đến 31/12/2027" in await an.command("/nhiemvu")
    await engine.dispose()


async def test_an_officer_reports_in_english(tmp_path: Path, sqlite_url: str) -> None:
    engine, _, an = await joined(tmp_path, sqlite_url)
    await an.command("/ngonngu")
    await an.press("English")
    status = await an.command("/baocao VII.3")
    assert "VII.3" in status and "Tình trạng" not in status
    await an.press("In progress, within deadline")
    assert "Results" in await an.say("50")
    await an.say("Server room installed.")
    await an.press("Skip")
    await an.press("Skip")
    summary = await an.press("Skip")
    assert "50%" in summary and "Server room installed." in summary
    sent = await an.press("Send")
    assert "Report no. 1 on task VII.3 sent: In progress, within deadline, 50%" in sent
    await engine.dispose()
