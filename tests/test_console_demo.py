"""The quick start's demo ends in a console chat where a newcomer files a report."""

from __future__ import annotations

from pathlib import Path

from bot.channels.console import render
from handlers.events import Option, Reply
from tests.plan_factory import PDF


def test_a_newcomer_files_a_report_from_the_demo(tmp_path: Path, run_cli) -> None:
    evidence = tmp_path / "bien_ban.pdf"
    evidence.write_bytes(PDF)
    typed = [
        "/baocao",
        "IX.1",
        "2",
        "60",
        "Đã thử nghiệm ứng dụng công dân số",
        "1",
        "1",
        f"@{evidence}",
        "1",
        "1",
        "/nhiemvu",
    ]

    result = run_cli("demo", input="\n".join(typed) + "\n")

    assert result.code == 0, result.err
    out = result.out
    assert "44 nhiệm vụ" in out and "Chọn nhiệm vụ của Sở Thông tin và Truyền thông" in out
    assert "  1. " in out  # options are numbered lines
    assert "Đã nhận 1 tệp: bien_ban.pdf" in out
    assert "Đã gửi báo cáo số 1 cho nhiệm vụ IX.1" in out
    assert "60%" in out.split("Đã gửi báo cáo số 1")[1]


def test_percent_options_are_not_numbered() -> None:
    reply = Reply("Tỷ lệ?", (Option("p:0", "0%"), Option("p:50", "50%")), extras={"numbered": "0"})
    assert render(reply) == "Tỷ lệ?\n  0% · 50%"
