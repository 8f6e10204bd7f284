"""A newcomer with no token files a whole report from the terminal, through the real stdin."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.plan_factory import PDF


def test_chat_as_a_demo_officer_files_a_report_with_a_pdf(  # type: ignore[no-untyped-def]
    run_cli, tmp_path: Path, sqlite_url: str
) -> None:
    # The demo keeps to a database of its own unless told which: here the one chat uses.
    assert run_cli("demo", "--no-chat", "--database-url", sqlite_url).code == 0
    (tmp_path / "bao_cao.pdf").write_bytes(PDF)
    typed = [
        "/baocao",
        "1",
        "2",
        " 50% ",
        "Đã in 5.000 tờ rơi.",
        "Bỏ qua",
        "Thêm kinh phí.",
        f"@{tmp_path / 'bao_cao.pdf'}",
        "Xong",
        "Gửi",
        "/nhiemvu",
    ]

    result = run_cli("chat", "--unit", "Sở TT&TT", input="\n".join(typed) + "\n")

    assert result.code == 0, result.err
    assert "Cán bộ thử nghiệm (Sở TT&TT)" in result.out
    assert "  1. I.3 · " in result.out  # numbered options, overdue first
    assert "Đã nhận 1 tệp: bao_cao.pdf" in result.out
    assert "Tỷ lệ hoàn thành: 50%" in result.out
    assert "Đã gửi báo cáo số 1 cho nhiệm vụ I.3" in result.out
    assert "Đang thực hiện, đã quá hạn · 50%" in result.out
    digest = hashlib.sha256(PDF).hexdigest()
    assert (tmp_path / "data" / "evidence" / digest[:2] / digest).read_bytes() == PDF
    assert "Traceback" not in result.err


def test_chat_with_an_unknown_unit_says_so(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("chat", "--unit", "Sở Không Tồn Tại", input="")
    assert result.code == 1 and "Không nhận ra đơn vị" in result.err
    assert "Traceback" not in result.err


def test_demo_ends_cleanly_when_stdin_has_no_input(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("demo", input="")
    assert result.code == 0 and "Cán bộ thử nghiệm" in result.out


def test_invite_without_a_token_prints_the_code_only(run_cli, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("demo", "--no-chat", "--database-url", sqlite_url).code == 0
    result = run_cli("invite", "Sở Nội vụ", "--role", "head", "--uses", "3", "--expires", "7d")
    assert result.code == 0, result.err
    assert "vai trò: lãnh đạo đơn vị · số lần dùng: 3" in result.out
    assert "Mã mời: " in result.out and "t.me" not in result.out
    unknown = run_cli("invite", "Sở XYZ", "--role", "officer")
    assert unknown.code == 1 and "Không nhận ra đơn vị" in unknown.err
    assert "Traceback" not in unknown.err


def test_a_missing_file_is_named_and_log_lines_stay_out_of_the_chat(  # type: ignore[no-untyped-def]
    run_cli, tmp_path: Path, sqlite_url: str
) -> None:
    assert run_cli("demo", "--no-chat", "--database-url", sqlite_url).code == 0
    typed = ["/baocao I.3", "đang làm", "20", "Đã soạn đề cương", "Bỏ qua", "Bỏ qua"]
    typed += [f"@{tmp_path / 'khong_co.pdf'}", f"@{tmp_path}", "Xong", "Gửi"]

    result = run_cli(
        "chat", "--unit", "Sở TT&TT", input="\n".join(typed) + "\n", env={"LOG_LEVEL": "DEBUG"}
    )

    assert result.code == 0, result.err
    assert f"Không thấy tệp “{tmp_path / 'khong_co.pdf'}”" in result.out
    assert f"Không thấy tệp “{tmp_path}”" in result.out  # a folder is no file either
    assert "Hãy gửi tệp minh chứng" not in result.out  # not mistaken for an answer
    assert "Đã gửi báo cáo số 1 cho nhiệm vụ I.3" in result.out
    # DEBUG logging is on, and the statements of every step were logged, to the file only.
    chat_lines = result.out + result.err
    assert " DEBUG " not in result.out and "aiosqlite" not in chat_lines
    assert "INSERT INTO reports" in (tmp_path / "data" / "logs" / "chat.log").read_text("utf-8")
