"""The units tiendo knows from the start: Hai Phong's departments, districts and other bodies.

Each entry gives the full name, the short form officials write, the kind, and spellings that the
automatic aliases of storage.units would not guess. More units can be added with `tiendo units add`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CatalogUnit:
    name: str
    short_name: str
    kind: str
    aliases: tuple[str, ...] = ()
    covers: str = ""


def _dept(name: str, short: str, *aliases: str) -> CatalogUnit:
    return CatalogUnit(name, short, "department", aliases)


def _district(name: str) -> CatalogUnit:
    level, _, place = name.partition(" ")
    return CatalogUnit(f"UBND {name}", f"UBND {level} {place}", "district", (place,))


def _other(name: str, short: str, *aliases: str) -> CatalogUnit:
    return CatalogUnit(name, short, "other", aliases)


DEPARTMENTS = [
    _dept(
        "Văn phòng UBND thành phố",
        "VP UBND TP",
        "Văn phòng Ủy ban nhân dân thành phố",
        "VP UBND",
        "Văn phòng UBND",
        "VPUBND TP",
        "VPUBND",
    ),
    _dept("Sở Nội vụ", "SNV"),
    _dept("Sở Tư pháp", "STP"),
    _dept("Sở Kế hoạch và Đầu tư", "Sở KH&ĐT", "SKHĐT", "Sở KHĐT"),
    _dept("Sở Tài chính", "STC"),
    _dept("Sở Công Thương", "SCT", "Sở Công thương"),
    _dept("Sở Nông nghiệp và Phát triển nông thôn", "Sở NN&PTNT", "Sở Nông nghiệp và PTNT"),
    _dept("Sở Giao thông vận tải", "Sở GTVT"),
    _dept("Sở Xây dựng", "SXD"),
    _dept("Sở Tài nguyên và Môi trường", "Sở TN&MT"),
    _dept("Sở Thông tin và Truyền thông", "Sở TT&TT", "Sở Thông tin - Truyền thông"),
    _dept(
        "Sở Lao động - Thương binh và Xã hội",
        "Sở LĐ-TB&XH",
        "Sở Lao động, Thương binh và Xã hội",
        "Sở LĐTBXH",
    ),
    _dept("Sở Văn hóa và Thể thao", "Sở VH&TT", "Sở Văn hóa, Thể thao"),
    _dept("Sở Du lịch", "SDL"),
    _dept("Sở Khoa học và Công nghệ", "Sở KH&CN"),
    _dept("Sở Giáo dục và Đào tạo", "Sở GD&ĐT"),
    _dept("Sở Y tế", "SYT"),
    _dept("Sở Ngoại vụ", "SNgV"),
    _dept("Thanh tra thành phố", "Thanh tra TP", "Thanh tra"),
    _dept(
        "Ban Quản lý Khu kinh tế Hải Phòng",
        "BQL KKT",
        "Ban Quản lý Khu kinh tế",
        "BQL Khu kinh tế",
        "Ban QL KKT",
        "BQLKKT",
    ),
]

DISTRICTS = [
    _district(name)
    for name in (
        "quận Hồng Bàng",
        "quận Ngô Quyền",
        "quận Lê Chân",
        "quận Hải An",
        "quận Kiến An",
        "quận Đồ Sơn",
        "quận Dương Kinh",
        "huyện Thủy Nguyên",
        "huyện An Dương",
        "huyện An Lão",
        "huyện Kiến Thụy",
        "huyện Tiên Lãng",
        "huyện Vĩnh Bảo",
        "huyện Cát Hải",
        "huyện Bạch Long Vĩ",
    )
]

OTHERS = [
    _other("Công an thành phố", "Công an TP", "CATP", "Công an"),
    _other("Bộ Chỉ huy Quân sự thành phố", "Bộ CHQS TP", "Bộ CHQS", "BCHQS TP"),
    _other("Báo Hải Phòng", "Báo HP"),
    _other(
        "Đài Phát thanh và Truyền hình Hải Phòng",
        "Đài PT&TH Hải Phòng",
        "Đài PT&TH HP",
        "Đài PTTH",
        "Đài PT&TH",
    ),
    _other("Viettel Hải Phòng", "Viettel", "Viettel HP"),
    _other("VNPT Hải Phòng", "VNPT", "VNPT HP"),
    _other("MobiFone Hải Phòng", "MobiFone", "Mobifone"),
    _other("Văn phòng Thành ủy", "VP Thành ủy"),
    _other("Ban Tuyên giáo Thành ủy", "BTG Thành ủy"),
    _other("Ban Tổ chức Thành ủy", "BTC Thành ủy"),
    _other(
        "Văn phòng Đoàn ĐBQH và HĐND thành phố",
        "VP Đoàn ĐBQH và HĐND TP",
        "Văn phòng HĐND thành phố",
    ),
    _other("Ủy ban Mặt trận Tổ quốc Việt Nam thành phố", "UBMTTQ VN TP", "UB MTTQ TP"),
    _other("Cục Thuế thành phố", "Cục Thuế TP", "Cục Thuế"),
    _other("Cục Hải quan thành phố", "Cục Hải quan TP", "Cục Hải quan"),
    _other("Kho bạc Nhà nước Hải Phòng", "KBNN HP", "Kho bạc Nhà nước thành phố", "KBNN"),
    _other("Bảo hiểm xã hội thành phố", "BHXH TP", "BHXH"),
    _other("Ngân hàng Nhà nước chi nhánh Hải Phòng", "NHNN HP", "Ngân hàng Nhà nước"),
    _other("Liên đoàn Lao động thành phố", "LĐLĐ TP"),
    _other("Thành đoàn Hải Phòng", "Thành đoàn"),
    _other("Hội Liên hiệp Phụ nữ thành phố", "Hội LHPN TP"),
    _other("Trường Đại học Hải Phòng", "ĐH Hải Phòng"),
    _other("Bưu điện thành phố Hải Phòng", "Bưu điện TP", "Bưu điện Hải Phòng"),
]

COLLECTIVES = [
    CatalogUnit(
        "Các sở, ban, ngành",
        "Các sở, ban, ngành",
        "collective",
        (
            "Các sở, ngành",
            "Các sở ban ngành",
            "Các sở, ban, ngành thành phố",
            "Sở, ban, ngành",
            "Các cơ quan, đơn vị thuộc UBND thành phố",
            "Các sở",
            "Các sở, ban, ngành liên quan",
            "Các sở, ngành liên quan",
        ),
        covers="department",
    ),
    CatalogUnit(
        "UBND các quận, huyện",
        "UBND các quận, huyện",
        "collective",
        (
            "Các quận, huyện",
            "UBND các quận huyện",
            "UBND quận, huyện",
            "Các địa phương",
            "UBND các quận, huyện liên quan",
            "Các quận huyện",
            "Các quận, huyện liên quan",
            "Các địa phương liên quan",
        ),
        covers="district",
    ),
    CatalogUnit(
        "Các sở, ban, ngành và UBND các quận, huyện",
        "Các sở, ngành, địa phương",
        "collective",
        (
            "Các sở, ngành, địa phương",
            "Các sở, ban, ngành, địa phương",
            "Các sở, ngành, địa phương liên quan",
            "Các cơ quan, đơn vị, địa phương",
            "Các sở, ban, ngành, UBND các quận, huyện",
        ),
        covers="department,district",
    ),
    CatalogUnit(
        "UBND các xã, phường, thị trấn",
        "UBND cấp xã",
        "collective",
        (
            "UBND các xã, thị trấn",
            "UBND các xã, phường",
            "UBND các phường",
            "UBND các xã",
            "Các xã, phường, thị trấn",
            "Các xã, thị trấn",
            "Các xã, phường",
            "UBND xã, phường, thị trấn",
            "UBND xã, thị trấn",
        ),
        covers="",
    ),
    CatalogUnit(
        "Các phòng, ban chuyên môn",
        "Các phòng, ban chuyên môn",
        "collective",
        (
            "Các phòng, ban",
            "Các phòng, ban, ngành",
            "Các phòng, ban, đơn vị",
            "Các phòng chuyên môn",
            "Các cơ quan chuyên môn",
            "Các phòng, ban chuyên môn thuộc UBND huyện",
            "Các phòng, ban chuyên môn thuộc UBND quận",
            "Các cơ quan chuyên môn thuộc UBND huyện",
            "Các cơ quan chuyên môn thuộc UBND quận",
        ),
        covers="",
    ),
    CatalogUnit(
        "Các doanh nghiệp viễn thông",
        "Các DN viễn thông",
        "collective",
        (
            "Các doanh nghiệp viễn thông trên địa bàn",
            "Doanh nghiệp viễn thông",
            "Các DNVT",
            "Các nhà mạng",
        ),
        covers="",
    ),
    CatalogUnit(
        "Các cơ quan, đơn vị liên quan",
        "Các cơ quan, đơn vị liên quan",
        "collective",
        (
            "Các đơn vị liên quan",
            "Các cơ quan liên quan",
            "Các cơ quan, đơn vị có liên quan",
            "Cơ quan, đơn vị liên quan",
            "Các cơ quan, tổ chức liên quan",
        ),
        covers="",
    ),
]

CATALOG: tuple[CatalogUnit, ...] = (*DEPARTMENTS, *DISTRICTS, *OTHERS, *COLLECTIVES)
