"""Every deadline wording of real appendices reads as the date an office would expect."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from storage.deadlines import DeadlineError, parse_deadline

READABLE = [
    ("Quý IV/2022", date(2022, 12, 31)),
    ("Quý 4/2022", date(2022, 12, 31)),
    ("quý IV năm 2022", date(2022, 12, 31)),
    ("QIV/2022", date(2022, 12, 31)),
    ("Quý I/2023", date(2023, 3, 31)),
    ("Quý I, Quý II/2022", date(2022, 6, 30)),
    ("Quý I và II/2023", date(2023, 6, 30)),
    ("Quý IV/2022 - Quý II/2023", date(2023, 6, 30)),
    ("Năm 2022", date(2022, 12, 31)),
    ("2022", date(2022, 12, 31)),
    ("Tháng 6/2022", date(2022, 6, 30)),
    ("tháng 02 năm 2024", date(2024, 2, 29)),
    ("T6/2022", date(2022, 6, 30)),
    ("6/2022", date(2022, 6, 30)),
    ("Tháng 3, 4/2023", date(2023, 4, 30)),
    ("Trước 30/6/2022", date(2022, 6, 30)),
    ("trước ngày 30/6/2022", date(2022, 6, 30)),
    ("30/6/2022", date(2022, 6, 30)),
    ("30/06/2022", date(2022, 6, 30)),
    ("30-6-2022", date(2022, 6, 30)),
    ("30.6.2022", date(2022, 6, 30)),
    ("6 tháng đầu năm 2022", date(2022, 6, 30)),
    ("6 tháng cuối năm 2022", date(2022, 12, 31)),
    ("2022–2025", date(2025, 12, 31)),
    ("2022 - 2025", date(2025, 12, 31)),
    ("Giai đoạn 2022-2025", date(2025, 12, 31)),
    ("Năm 2022-2025", date(2025, 12, 31)),
    ("Đến năm 2025", date(2025, 12, 31)),
    (datetime(2022, 5, 1, 0, 0), date(2022, 5, 1)),
    (date(2023, 1, 15), date(2023, 1, 15)),
    (2023, date(2023, 12, 31)),
    # A span of months is no day: "3-6/2023" was once read as the 3rd of June.
    ("Tháng 3-6/2023", date(2023, 6, 30)),
    ("Tháng 6 – 12/2023", date(2023, 12, 31)),
    ("Trước ngày 15 tháng 12 năm 2023", date(2023, 12, 15)),
    ("Quý II/2023 (đợt 1); Quý IV/2023 (đợt 2)", date(2023, 12, 31)),
    ("Năm 2025\n(giai đoạn 1: năm 2023)", date(2025, 12, 31)),
    ("Năm 2023 (trước 30/9)", date(2023, 12, 31)),
    ("Quý I-II/2023", date(2023, 6, 30)),
    (45107, date(2023, 6, 30)),  # a date cell that lost its date format: Excel's day count
]


@pytest.mark.parametrize("value, due", READABLE, ids=[str(v) for v, _ in READABLE])
def test_a_wording_gives_its_due_date(value: object, due: date) -> None:
    deadline = parse_deadline(value)
    assert deadline.due_date == due and not deadline.ongoing


@pytest.mark.parametrize(
    "value",
    [
        "Thường xuyên",
        "Hằng năm",
        "Hàng năm",
        "HẰNG NĂM",
        "Liên tục",
        "Định kỳ hằng năm",
        "Hằng năm (trước 15/12)",
    ],
)
def test_ongoing_tasks_have_no_final_deadline(value: str) -> None:
    deadline = parse_deadline(value)
    assert deadline.ongoing and deadline.due_date is None and deadline.text == value


def test_a_blank_cell_is_no_deadline() -> None:
    assert parse_deadline("  ") == parse_deadline(None)
    assert parse_deadline(None).due_date is None and not parse_deadline(None).ongoing


@pytest.mark.parametrize(
    "value, reason",
    [
        ("31/2/2022", "không tồn tại"),
        ("Quý V/2022", "quý"),
        ("Tháng 13/2022", "tháng 13"),
        ("sớm nhất có thể", "không đọc được"),
        ("Năm 1990", "1990"),
        ("32/13/2022", "không tồn tại"),
        ("Quý 5/2022", "quý"),
        ("Tuần 3", "không"),
        ("Trước 31/12", "không ghi năm"),
        (123456789, "không đọc được thời hạn từ số"),
    ],
)
def test_an_unreadable_deadline_says_why(value: object, reason: str) -> None:
    with pytest.raises(DeadlineError, match=reason):
        parse_deadline(value)
