"""A contact officer joins with an invite and files a whole report in under a minute."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from handlers.dispatcher import Dispatcher
from storage.db import create_engine, session_factory
from storage.models import EvidenceFile, Report, Task
from tests.plan_factory import NOW, Officer, config, load_plan, make_invite, pdf_file


async def test_invite_then_a_whole_report_with_a_pdf(tmp_path: Path, db_url: str) -> None:
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    await load_plan(sessions, tmp_path)
    code = await make_invite(sessions, "Sở TT&TT")
    an = Officer(Dispatcher(sessions, config(tmp_path / "data"), clock=lambda: NOW), "1001")

    welcome = await an.command(f"/start {code}")
    assert "Nguyễn Văn An" in welcome and "Sở Thông tin và Truyền thông" in welcome
    assert "/baocao" in welcome

    choose = await an.command("/baocao")
    assert "Chọn nhiệm vụ" in choose
    labels = an.labels()
    assert labels[0].startswith("I.3")  # overdue first
    assert not any(label.startswith("VII.1") for label in labels)  # VP UBND TP's task
    assert any(label.startswith("VII.4") for label in labels) is False  # districts' task
    assert "Hội nghị chuyên đề" in " ".join(labels)  # cooperating unit sees it too

    status = await an.press("VII.3")
    assert "VII.3" in status and "30/06/2027" in status
    assert "Đang thực hiện, trong hạn" in an.labels()
    await an.press("Đang thực hiện")
    assert "từ 0 đến 100" in await an.say("150")
    assert "không phải là số" in await an.say("năm mươi")
    assert "số nguyên" in await an.say("50,5")
    assert "từ 0 đến 100" in await an.say("-5")
    assert "Kết quả thực hiện" in await an.say(" 50% ")
    assert "Khó khăn" in await an.say("Đã lắp đặt xong phòng máy chủ.")
    assert "Đề xuất" in await an.press("Bỏ qua")
    assert "tệp minh chứng" in await an.say("Bổ sung kinh phí năm 2027.")
    assert "Đã nhận 1 tệp: bao_cao.pdf" in await an.upload(pdf_file())
    summary = await an.press("Xong")
    assert "Tỷ lệ hoàn thành: 50%" in summary and "bao_cao.pdf" in summary

    sent = await an.press("Gửi")

    assert "Đã gửi báo cáo số" in sent
    async with sessions() as session:
        report = await session.scalar(select(Report))
        task = await session.scalar(select(Task).where(Task.code == "VII.3"))
        files = (await session.scalars(select(EvidenceFile))).all()
    assert report is not None and task is not None
    assert (report.percent, report.status, report.results) == (
        50,
        "in_progress",
        "Đã lắp đặt xong phòng máy chủ.",
    )
    assert report.difficulties == "" and report.proposals == "Bổ sung kinh phí năm 2027."
    assert (task.status, task.percent) == ("in_progress", 50) and task.last_report_at is not None
    assert [f.file_name for f in files] == ["bao_cao.pdf"] and files[0].report_id == report.id
    assert (tmp_path / "data" / files[0].storage_path).read_bytes().startswith(b"%PDF")

    tasks = await an.command("/nhiemvu")
    assert "VII.3" in tasks and "50%" in tasks and "còn 217 ngày" in tasks
    assert "I.3" in tasks and "quá hạn" in tasks
    history = await an.command("/lichsu")
    assert "VII.3" in history and "Nguyễn Văn An" in history
    await engine.dispose()
