"""An admin feeds the importer something wrong: a clear message, exit 1, nothing stored."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from storage.models import Task, TaskGroup
from storage.samples.builder import AppendixGroup, AppendixTask, write_appendix
from tests.test_import import count

T = AppendixTask
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def plan_with(*tasks: AppendixTask) -> list[AppendixGroup]:
    good = T(1, "Nhiệm vụ hợp lệ", "Sở TT&TT", "", "Năm 2022")
    return [AppendixGroup("I", "Công tác tuyên truyền", [good, *tasks])]


def assert_refused(result, sqlite_url: str, *phrases: str) -> None:  # type: ignore[no-untyped-def]
    assert result.code == 1, result.out + result.err
    assert "Traceback" not in result.err
    for phrase in phrases:
        assert phrase in result.err, result.err
    assert count(sqlite_url, Task) == 0
    assert count(sqlite_url, TaskGroup) == 0


def test_a_text_file_named_xlsx(tmp_path: Path, run_cli, sqlite_url: str) -> None:
    path = tmp_path / "ke_hoach.xlsx"
    path.write_text("STT;Nhiệm vụ\n1;abc\n", encoding="utf-8")
    assert_refused(run_cli("import", str(path)), sqlite_url, "không phải là tệp Excel .xlsx")


def test_a_corrupt_zip(tmp_path: Path, run_cli, sqlite_url: str) -> None:
    good = write_appendix(tmp_path / "good.xlsx", plan_with())
    data = bytearray(good.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 200] = b"\x00" * 200
    path = tmp_path / "hong.xlsx"
    path.write_bytes(bytes(data))
    assert_refused(run_cli("import", str(path)), sqlite_url, "bị hỏng")


def test_a_zip_that_is_not_a_workbook(tmp_path: Path, run_cli, sqlite_url: str) -> None:
    path = tmp_path / "tai_lieu.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "không phải bảng tính")
    assert_refused(run_cli("import", str(path)), sqlite_url, "không phải là tệp Excel .xlsx")


def test_a_password_protected_workbook(tmp_path: Path, run_cli, sqlite_url: str) -> None:
    # Excel saves an encrypted workbook as an OLE container holding an "EncryptedPackage" stream.
    path = tmp_path / "mat_khau.xlsx"
    path.write_bytes(OLE + b"\x00" * 504 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 512)
    assert_refused(run_cli("import", str(path)), sqlite_url, "mật khẩu")


def test_an_old_xls_workbook(tmp_path: Path, run_cli, sqlite_url: str) -> None:
    path = tmp_path / "cu.xls"
    path.write_bytes(OLE + b"\x00" * 504 + "Workbook".encode("utf-16-le") + b"\x00" * 512)
    assert_refused(run_cli("import", str(path)), sqlite_url, ".xls", "lưu lại dưới dạng .xlsx")


def test_an_empty_sheet(tmp_path: Path, run_cli, sqlite_url: str) -> None:
    path = tmp_path / "trong.xlsx"
    Workbook().save(path)
    assert_refused(run_cli("import", str(path)), sqlite_url, "trống")


def test_no_header_row(tmp_path: Path, run_cli, sqlite_url: str) -> None:
    workbook = Workbook()
    workbook.active.append(["Danh sách", "cán bộ"])
    workbook.active.append(["Nguyễn Văn A", "0912"])
    path = tmp_path / "khong_tieu_de.xlsx"
    workbook.save(path)
    assert_refused(run_cli("import", str(path)), sqlite_url, "Không tìm thấy dòng tiêu đề")


def test_every_bad_row_is_listed_and_nothing_is_stored(
    tmp_path: Path, run_cli, sqlite_url: str
) -> None:
    path = write_appendix(
        tmp_path / "loi.xlsx",
        plan_with(
            T(2, "Không có cơ quan chủ trì", "", "Sở Nội vụ", "Năm 2022"),
            T(3, "Đơn vị lạ", "Sở Thông tin và Truyền thôn", "", "Năm 2022"),
            T(4, "Thời hạn lạ", "Sở TT&TT", "", "sớm nhất có thể"),
            T(1, "Trùng số thứ tự", "Sở TT&TT", "", "Năm 2022"),
            T(5, "Ngày không có thật", "Sở TT&TT", "", "31/2/2022"),
        ),
    )

    result = run_cli("import", str(path))

    assert_refused(result, sqlite_url, "có 5 lỗi")
    lines = result.err.splitlines()
    assert any("cột Cơ quan chủ trì" in line and "thiếu cơ quan chủ trì" in line for line in lines)
    unknown = next(line for line in lines if "Sở Thông tin và Truyền thôn" in line)
    assert "không nhận ra đơn vị" in unknown and "Sở Thông tin và Truyền thông" in unknown
    assert any("Thời gian thực hiện" in line and "sớm nhất có thể" in line for line in lines)
    assert any("trùng mã nhiệm vụ I.1" in line for line in lines)
    assert any("31/02/2022 không tồn tại" in line for line in lines)
    assert all(line.strip().startswith(("-", "Không nhập")) for line in lines)
    assert any(line.strip().startswith("- Dòng 1") for line in lines)


def test_a_workbook_over_the_size_limit(tmp_path: Path, run_cli, sqlite_url: str) -> None:
    path = write_appendix(tmp_path / "lon.xlsx", plan_with())
    result = run_cli("import", str(path), env={"IMPORT_MAX_BYTES": "1000"})
    assert_refused(result, sqlite_url, "quá lớn", "IMPORT_MAX_BYTES")


def test_a_sheet_over_the_row_limit(tmp_path: Path, run_cli, sqlite_url: str) -> None:
    many = [T(n, f"Nhiệm vụ {n}", "Sở TT&TT", "", "Năm 2022") for n in range(2, 40)]
    path = write_appendix(tmp_path / "dai.xlsx", plan_with(*many))
    result = run_cli("import", str(path), env={"IMPORT_MAX_ROWS": "20"})
    assert_refused(result, sqlite_url, "vượt giới hạn", "IMPORT_MAX_ROWS")


def test_a_missing_file(tmp_path: Path, run_cli, sqlite_url: str) -> None:
    assert_refused(
        run_cli("import", str(tmp_path / "khong_co.xlsx")), sqlite_url, "Không tìm thấy tệp"
    )


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://postgres@127.0.0.1:1/test",
        "sqlite+aiosqlite:////proc/khong_the/tiendo.db",
    ],
)
def test_a_database_that_cannot_be_reached(tmp_path: Path, run_cli, url: str) -> None:
    path = write_appendix(tmp_path / "p.xlsx", plan_with())

    result = run_cli("import", str(path), env={"DATABASE_URL": url})

    assert result.code == 1
    assert "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert "cơ sở dữ liệu" in result.err.lower() or "DATABASE_URL" in result.err
