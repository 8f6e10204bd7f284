"""However an office spells a unit, tiendo knows which one it is."""

from __future__ import annotations

import pytest

from storage.db import create_engine, session_factory, session_scope
from storage.units import UnitIndex, fold, seed_units

SAME_UNIT = [
    ("Sở TT&TT", "Sở Thông tin và Truyền thông"),
    ("Sở TTTT", "Sở Thông tin và Truyền thông"),
    ("STTTT", "Sở Thông tin và Truyền thông"),
    ("sở thông tin - truyền thông", "Sở Thông tin và Truyền thông"),
    ("Sở KH&ĐT", "Sở Kế hoạch và Đầu tư"),
    ("Sở Kế hoạch và Đầu tư", "Sở Kế hoạch và Đầu tư"),
    ("SKHĐT", "Sở Kế hoạch và Đầu tư"),
    ("Sở NN&PTNT", "Sở Nông nghiệp và Phát triển nông thôn"),
    ("Sở LĐ-TB&XH", "Sở Lao động - Thương binh và Xã hội"),
    ("SNV", "Sở Nội vụ"),
    ("VP UBND TP", "Văn phòng UBND thành phố"),
    ("Văn phòng UBND thành phố", "Văn phòng UBND thành phố"),
    ("UBND huyện Thuỷ Nguyên", "UBND huyện Thủy Nguyên"),
    ("Thủy Nguyên", "UBND huyện Thủy Nguyên"),
    ("huyện Kiến Thuỵ", "UBND huyện Kiến Thụy"),
    ("Bạch Long Vỹ", "UBND huyện Bạch Long Vĩ"),
    ("Q. Hồng Bàng", "UBND quận Hồng Bàng"),
    ("Công an TP", "Công an thành phố"),
    ("Đài PT&TH Hải Phòng", "Đài Phát thanh và Truyền hình Hải Phòng"),
    ("UBND các quận, huyện", "UBND các quận, huyện"),
    ("Các sở, ngành", "Các sở, ban, ngành"),
]


@pytest.fixture
async def index(sqlite_url: str) -> UnitIndex:
    engine = create_engine(sqlite_url)
    async with session_scope(session_factory(engine)) as session:
        await seed_units(session)
        assert await seed_units(session) == 0  # seeding twice adds nothing
        loaded = await UnitIndex.load(session)
    await engine.dispose()
    return loaded


@pytest.mark.parametrize("spelling, name", SAME_UNIT, ids=[s for s, _ in SAME_UNIT])
async def test_spellings_fold_to_one_unit(index: UnitIndex, spelling: str, name: str) -> None:
    unit = index.find(spelling)
    assert unit is not None and unit.name == name


@pytest.mark.parametrize(
    "cell, names",
    [
        ("Sở TT&TT; Sở Nội vụ", ["Sở Thông tin và Truyền thông", "Sở Nội vụ"]),
        (
            "Sở KH&ĐT, Sở Tài chính và Sở Nội vụ",
            ["Sở Kế hoạch và Đầu tư", "Sở Tài chính", "Sở Nội vụ"],
        ),
        ("Sở Kế hoạch và Đầu tư", ["Sở Kế hoạch và Đầu tư"]),
        (
            "Các sở, ban, ngành; UBND các quận, huyện",
            ["Các sở, ban, ngành", "UBND các quận, huyện"],
        ),
        ("Sở Lao động, Thương binh và Xã hội", ["Sở Lao động - Thương binh và Xã hội"]),
        ("Sở TT&TT (chủ trì)\nCông an TP", ["Sở Thông tin và Truyền thông", "Công an thành phố"]),
        ("Sở Y tế và các đơn vị liên quan", ["Sở Y tế", "Các cơ quan, đơn vị liên quan"]),
    ],
)
async def test_a_cell_naming_several_units(index: UnitIndex, cell: str, names: list[str]) -> None:
    match = index.match_cell(cell)
    assert [unit.name for unit in match.units] == names and match.unknown == []


async def test_an_unknown_unit_comes_with_the_closest_names(index: UnitIndex) -> None:
    match = index.match_cell("Sở Tài nguyen, Sở Hải Sản")
    assert match.unknown == ["Sở Tài nguyen", "Sở Hải Sản"]
    assert "Sở Tài nguyên và Môi trường" in index.closest("Sở Tài nguyen")


def test_folding_ignores_case_marks_and_punctuation() -> None:
    assert fold("Sở TT&TT") == fold("sở tt - tt") == fold("SO TTTT")
    assert fold("Thủy") == fold("Thuỷ") == fold("Thụy") == fold("thuy")
    assert fold("Vĩ") == fold("Vỹ")
