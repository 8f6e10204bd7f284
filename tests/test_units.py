"""However an office spells a unit, tiendo knows which one it is."""

from __future__ import annotations

import pytest

from storage.db import create_engine, session_factory, session_scope
from storage.unit_names import group_spellings
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
        ("Sở Lao động - Thương binh và Xã hội", ["Sở Lao động - Thương binh và Xã hội"]),
        (
            "Sở Lao động – Thương binh & Xã hội, Sở Y tế",
            ["Sở Lao động - Thương binh và Xã hội", "Sở Y tế"],
        ),
        ("- Sở TT&TT\n- Sở Nội vụ", ["Sở Thông tin và Truyền thông", "Sở Nội vụ"]),
        ("(Sở TT&TT)", ["Sở Thông tin và Truyền thông"]),
        ("UBND các xã, thị trấn", ["UBND các xã, phường, thị trấn"]),
        (
            "Các sở, ban, ngành và UBND các quận, huyện",
            ["Các sở, ban, ngành và UBND các quận, huyện"],
        ),
        (
            "Sở TT&TT chủ trì, phối hợp với các sở, ngành",
            ["Sở Thông tin và Truyền thông", "Các sở, ban, ngành"],
        ),
        ("Chủ trì: Sở TT&TT\nPhối hợp: Sở Nội vụ", ["Sở Thông tin và Truyền thông", "Sở Nội vụ"]),
        (
            "Các sở, ngành, địa phương theo chức năng, nhiệm vụ được giao",
            ["Các sở, ban, ngành và UBND các quận, huyện"],
        ),
    ],
)
async def test_a_cell_naming_several_units(index: UnitIndex, cell: str, names: list[str]) -> None:
    match = index.match_cell(cell)
    assert [unit.name for unit in match.units] == names and match.unknown == []


async def test_an_unknown_unit_comes_with_the_closest_names(index: UnitIndex) -> None:
    match = index.match_cell("Sở Tài nguyen, Sở Hải Sản")
    assert match.unknown == ["Sở Tài nguyen", "Sở Hải Sản"]
    assert "Sở Tài nguyên và Môi trường" in index.closest("Sở Tài nguyen")


@pytest.mark.parametrize(
    "cell, pieces",
    [
        ("Phòng Tài chính - Kế hoạch", ["Phòng Tài chính - Kế hoạch"]),
        ("Phòng Văn hoá - Thông tin, Phòng Nội vụ", ["Phòng Văn hoá - Thông tin", "Phòng Nội vụ"]),
        (
            "Trung tâm Văn hoá, Thông tin và Thể thao huyện",
            ["Trung tâm Văn hoá, Thông tin và Thể thao huyện"],
        ),
        ("Văn phòng HĐND và UBND quận", ["Văn phòng HĐND và UBND quận"]),
        ("Phòng Lao động - Thương binh và Xã hội", ["Phòng Lao động - Thương binh và Xã hội"]),
        ("UBND xã An Thái, xã An Thắng", ["UBND xã An Thái", "xã An Thắng"]),
        ("Công an huyện, Phòng Tư pháp", ["Công an huyện", "Phòng Tư pháp"]),
    ],
)
async def test_names_the_catalog_lacks_stay_whole(
    index: UnitIndex, cell: str, pieces: list[str]
) -> None:
    assert index.match_cell(cell).unknown == pieces


async def test_a_cut_off_part_of_a_known_name_is_a_fragment(index: UnitIndex) -> None:
    labour = "Sở Lao động - Thương binh và Xã hội"
    assert index.fragment_of("Sở Lao động") == labour
    assert index.fragment_of("Thương binh và Xã hội") == labour
    assert index.fragment_of("Sở Kế hoạch") == "Sở Kế hoạch và Đầu tư"
    assert index.fragment_of("Phòng Nội vụ") is None
    assert index.fragment_of("UBND huyện") is None


async def test_typos_are_told_apart_from_other_units(index: UnitIndex) -> None:
    assert index.typo_of("Sở Thông tin và Truyền thôg") == ["Sở Thông tin và Truyền thông"]
    assert index.typo_of("Sở Tài chín") == ["Sở Tài chính"]
    # Another kind of body, or another place, is not a typo however alike the words are.
    assert index.typo_of("Phòng Nông nghiệp và Phát triển nông thôn") == []
    assert index.typo_of("Kho bạc Nhà nước huyện") == []
    assert index.typo_of("UBND huyện An Lão mới") == []


def test_spellings_of_one_new_unit_are_grouped() -> None:
    groups = group_spellings(
        [
            "Phòng TN&MT",
            "Phòng Tài nguyên và Môi trường",
            "Phòng TN-MT",
            "VP HĐND-UBND quận",
            "Văn phòng HĐND và UBND quận",
            "Phòng Nội vụ",
            "Phòng Ngoại vụ",
            "Phòng Văn hoá - Thông tin",
            "Phòng Văn hóa và Thông tin",
        ]
    )
    assert [(g.name, g.others) for g in groups] == [
        ("Phòng Tài nguyên và Môi trường", ["Phòng TN&MT", "Phòng TN-MT"]),
        ("Văn phòng HĐND và UBND quận", ["VP HĐND-UBND quận"]),
        ("Phòng Nội vụ", []),  # the same initials as "Phòng Ngoại vụ", yet another unit
        ("Phòng Ngoại vụ", []),
        ("Phòng Văn hoá - Thông tin", ["Phòng Văn hóa và Thông tin"]),
    ]


def test_folding_ignores_case_marks_and_punctuation() -> None:
    assert fold("Sở TT&TT") == fold("sở tt - tt") == fold("SO TTTT")
    assert fold("Thủy") == fold("Thuỷ") == fold("Thụy") == fold("thuy")
    assert fold("Vĩ") == fold("Vỹ")


ROLES = [
    ("Sở TT&TT (chủ trì); Sở Nội vụ", ["Sở TT&TT"], ["Sở Nội vụ"]),
    ("Sở Nội vụ, Sở TT&TT (chủ trì)", ["Sở TT&TT"], ["Sở Nội vụ"]),
    ("Sở TT&TT chủ trì, phối hợp với Sở Nội vụ", ["Sở TT&TT"], ["Sở Nội vụ"]),
    ("Sở TT&TT chủ trì; Công an TP, Sở Y tế phối hợp", ["Sở TT&TT"], ["Công an TP", "Sở Y tế"]),
    ("Chủ trì: Sở Y tế\nPhối hợp: Sở Tư pháp, Sở Nội vụ", ["Sở Y tế"], ["Sở Tư pháp", "Sở Nội vụ"]),
    ("Sở Y tế, Sở Nội vụ (phối hợp)", ["Sở Y tế"], ["Sở Nội vụ"]),
    ("Sở Lao động - Thương binh và Xã hội, Sở Y tế", ["Sở LĐTBXH", "Sở Y tế"], []),
    ("Sở Nội vụ (phối hợp)", [], ["Sở Nội vụ"]),
    # A remark in brackets that only mentions a role is a remark, not a marker.
    ("UBND các quận, huyện (chủ trì thực hiện tại địa phương)", ["UBND các quận, huyện"], []),
]


@pytest.mark.parametrize("cell, leads, helps", ROLES, ids=[c for c, _, _ in ROLES])
async def test_who_leads_as_the_cell_says(
    index: UnitIndex, cell: str, leads: list[str], helps: list[str]
) -> None:
    match = index.match_roles(cell)
    named = [index.find(name) for name in leads], [index.find(name) for name in helps]
    assert (match.lead, match.coop) == named and match.unknown == []


@pytest.mark.parametrize(
    "cell, names",
    [
        ("Các sở: Nội vụ, Tài chính, Kế hoạch và Đầu tư", ["SNV", "STC", "Sở KH&ĐT"]),
        ("Sở: Y tế, Giáo dục và Đào tạo", ["SYT", "Sở GD&ĐT"]),
        ("UBND các huyện: An Dương, An Lão", ["UBND huyện An Dương", "UBND huyện An Lão"]),
        ("Sở TT&TT, các sở: Nội vụ, Tư pháp", ["Sở TT&TT", "SNV", "STP"]),
        ("Sở Nội vụ/Sở TT&TT", ["SNV", "Sở TT&TT"]),
    ],
)
async def test_lists_sharing_one_word(index: UnitIndex, cell: str, names: list[str]) -> None:
    match = index.match_cell(cell)
    assert match.units == [index.find(name) for name in names] and match.unknown == []


async def test_a_new_name_in_a_shared_list_keeps_its_word(index: UnitIndex) -> None:
    assert index.match_cell("Các phòng: Nội vụ, Tư pháp").unknown == [
        "Phòng Nội vụ",
        "Phòng Tư pháp",
    ]
