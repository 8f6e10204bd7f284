"""Cutting a cell that names several units into pieces, without cutting any one name.

Official names hold the same marks that separate names in a list: "Sở Lao động - Thương binh
và Xã hội", "Trung tâm Văn hoá, Thông tin và Thể thao huyện", "UBND các xã, thị trấn". So a
cell is cut in two stages. Strong separators (";", new lines, bullets) always end a name; weak
ones ("," "/" "–" " - " " + " "và" "với" "cùng") only might. Between weak separators lie atoms;
storage.units first takes the longest runs of atoms that are known names, and what is left is
joined back here by the way Vietnamese unit names begin: a new name starts with an
organisation word ("Sở", "Phòng", "UBND", "Trung tâm", …) followed by a proper name, while
"Thương binh và Xã hội", "Kế hoạch" or "thị trấn" carry on the name before them. A list after
a shared word ("Các sở: Nội vụ, Tài chính") gives each name that word; role markers ("(chủ
trì)", "phối hợp với …") say which units of a cell lead and which help.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storage.textfold import words

_PARENS = re.compile(r"\([^)]*\)")
# Words about a unit's part or remit, not its name: "Sở TT&TT chủ trì, phối hợp với …",
# "Chủ trì: …", "… theo chức năng, nhiệm vụ được giao".
_REMARKS = re.compile(
    r"\b(?:chủ trì|phối hợp(?:\s+với)?|cơ quan thường trực|đầu mối"
    r"|theo chức năng(?:\s*,?\s*nhiệm vụ)?(?:\s+được giao)?"
    r"|theo (?:phân cấp|thẩm quyền|lĩnh vực)(?:\s+(?:quản lý|phụ trách))?)\b\s*:?",
    re.IGNORECASE,
)
_STRONG = re.compile(r"[;\n\r]+")
_BULLET = re.compile(r"^\s*(?:[-–—•+*·]|\d{1,2}[.)]|[a-zđ]\))\s+")
# The capturing group keeps each separator, so a run of atoms can be put back as written.
_WEAK = re.compile(r"(\s*[,/]\s*|\s+[-+]\s+|\s*[–—]\s*|\s+(?:và|với|cùng)\s+)", re.IGNORECASE)
_EDGE = " .:-–—\t,"
# "Các sở: Nội vụ, Tài chính", "UBND các huyện: An Dương, An Lão": an organisation word of one
# level, then a colon, then the names it is shared by; folded (without "các") → the word each
# name takes.
SHARED_HEADS = {
    "so": "Sở",
    "phong": "Phòng",
    "ban": "Ban",
    "quan": "UBND quận",
    "huyen": "UBND huyện",
    "xa": "UBND xã",
    "phuong": "UBND phường",
    "thi tran": "UBND thị trấn",
    "ubnd quan": "UBND quận",
    "ubnd huyen": "UBND huyện",
    "ubnd xa": "UBND xã",
    "ubnd phuong": "UBND phường",
    "ubnd thi tran": "UBND thị trấn",
}
_SHARED = re.compile(
    r"(?:^|(?<=[,;]))\s*(?P<head>(?:(?:ubnd|ủy ban nhân dân|uỷ ban nhân dân)\s+)?(?:các\s+)?"
    r"(?:sở|phòng|ban|quận|huyện|xã|phường|thị trấn))\s*:\s*",
    re.IGNORECASE,
)

# Organisation words that make a name on their own with a place word after them
# ("Công an huyện", "UBND quận", "Thanh tra huyện").
COMPLETE_HEADS = (
    "ubnd",
    "uy ban nhan dan",
    "hdnd",
    "hoi dong nhan dan",
    "cong an",
    "thanh tra",
    "kho bac",
    "bao hiem xa hoi",
    "bhxh",
    "toa an",
    "vien kiem sat",
    "huyen uy",
    "quan uy",
    "thanh uy",
    "dang uy",
    "huyen doan",
    "quan doan",
    "thanh doan",
    "ban chi huy quan su",
    "bo chi huy quan su",
)
# Organisation words that start a name only when a proper name follows ("Phòng Nội vụ",
# "xã An Thái"): "xã hội" or "các phòng, ban chuyên môn" do not.
NAMED_HEADS = (
    "so",
    "phong",
    "ban",
    "trung tam",
    "van phong",
    "vp",
    "chi cuc",
    "cuc",
    "tong cuc",
    "vien",
    "hoi",
    "lien doan",
    "uy ban",
    "doan",
    "truong",
    "benh vien",
    "dai",
    "bao",
    "buu dien",
    "cong ty",
    "tong cong ty",
    "tap doan",
    "chi nhanh",
    "ngan hang",
    "doi",
    "hat",
    "tram",
    "xi nghiep",
    "hop tac xa",
    "bo",
    "xa",
    "phuong",
    "thi tran",
    "thi xa",
    "quan",
    "huyen",
    "thanh pho",
    "nha",
    "thu vien",
    "bao tang",
    "cang",
)
# Words naming a level of local government: a name holding one is a place's own body.
LEVEL_WORDS = ("xa", "phuong", "thi tran", "thi xa", "quan", "huyen")
# Abbreviations that belong together across "và" or a dash: "Văn phòng HĐND và UBND huyện".
JOINED_PAIRS = (("hdnd", "ubnd"), ("dbqh", "hdnd"))


# "(chủ trì)", "chủ trì", "Chủ trì:", "phối hợp với", "(phối hợp)": who leads and who helps,
# written inside one cell ("Sở TT&TT chủ trì, phối hợp với Sở Nội vụ").
_ROLE_MARK = re.compile(
    r"(?P<open>\(\s*)?\b(?P<role>chủ\s+trì|phối\s+hợp)\b(?P<with>\s+(?:với|cùng)\b)?"
    r"(?P<colon>\s*:)?(?P<close>\s*\))?",
    re.IGNORECASE,
)
LEAD, COOP = "lead", "coop"


@dataclass(frozen=True)
class RolePart:
    """A stretch of a unit cell and the role a marker gives it (None: unmarked); `last_only`
    when a bracketed marker ("Sở TT&TT (chủ trì)") speaks of the last unit before it only."""

    text: str
    role: str | None = None
    last_only: bool = False


def role_parts(cell: str) -> list[RolePart]:
    """The cell cut at its role markers: a marker after units ("X chủ trì", "Y (phối hợp)")
    speaks of the units since the last ";" or line break, one before them ("Chủ trì: X",
    "phối hợp với Y") of the units up to the next marker. A cell without markers is one
    unmarked part."""
    parts: list[RolePart] = []
    pos, ahead = 0, None  # `ahead`: the role a marker before the current text gave it
    cell = _without_remarks_in_brackets(cell)
    for mark in _ROLE_MARK.finditer(cell):
        role = LEAD if words(mark["role"])[0] == "chu" else COOP
        before = cell[pos : mark.start()]
        leading = bool(mark["with"] or mark["colon"]) or not before.strip(_EDGE + "\n;")
        if leading and not mark["open"]:
            parts.append(RolePart(before, ahead))
            ahead = role
        else:
            rest, own = _last_segment(before)
            parts += [RolePart(rest, ahead), RolePart(own, role, last_only=bool(mark["open"]))]
            ahead = None
        pos = mark.end()
    parts.append(RolePart(cell[pos:], ahead))
    return [part for part in parts if part.text.strip(_EDGE + "\n;")]


def _without_remarks_in_brackets(cell: str) -> str:
    """The cell without bracketed remarks ("(Trung tâm CNTT chủ trì thực hiện)"), keeping
    brackets that only mark a role ("(chủ trì)") and brackets that hold the whole cell."""

    def drop(match: re.Match[str]) -> str:
        marker = _ROLE_MARK.fullmatch(match.group(0).strip())
        return match.group(0) if marker and marker["open"] and marker["close"] else " "

    stripped = _PARENS.sub(drop, cell)
    return stripped if stripped.strip(_EDGE + "\n;") else cell


def _last_segment(text: str) -> tuple[str, str]:
    """`text` cut before its last strong separator (";", a line break)."""
    found = list(_STRONG.finditer(text.rstrip(_EDGE + "\n;")))
    if not found:
        return "", text
    cut = found[-1].end()
    return text[:cut], text[cut:]


@dataclass(frozen=True)
class Atom:
    """Text between weak separators, and the separator written before it ("" for the first)."""

    text: str
    separator: str = ""
    # The organisation word a list shares ("Sở" in "Các sở: Nội vụ, Tài chính"), or "".
    head: str = ""


def segments(cell: str) -> list[list[Atom]]:
    """The cell's segments (between strong separators), each as its atoms. Names listed after
    a shared organisation word ("Các sở: Nội vụ, Tài chính") are a segment of their own whose
    atoms carry that word ("Sở")."""
    found: list[list[Atom]] = []
    for line in _STRONG.split(strip_notes(cell)):
        segment = _BULLET.sub("", line).strip(_EDGE)
        shared = _SHARED.search(segment)
        if shared is None:
            found.append(_atoms(segment))
            continue
        head = SHARED_HEADS[" ".join(w for w in words(shared["head"]) if w != "cac")]
        found.append(_atoms(segment[: shared.start()]))
        found.append(_atoms(segment[shared.end() :], head))
    return [atoms for atoms in found if atoms]


def _atoms(segment: str, head: str = "") -> list[Atom]:
    parts = _WEAK.split(segment.strip(_EDGE))
    atoms = [Atom(parts[0].strip(_EDGE), "", head)]
    for index in range(1, len(parts) - 1, 2):
        atoms.append(Atom(parts[index + 1].strip(_EDGE), parts[index], head))
    return [atom for atom in atoms if atom.text]


def strip_notes(cell: str) -> str:
    """The cell without remarks ("(chủ trì)", "theo chức năng, nhiệm vụ"), unless the
    brackets hold all of it."""
    stripped = _REMARKS.sub(" , ", _PARENS.sub(" ", cell))
    if stripped.strip(_EDGE + "\n"):
        return stripped
    return _REMARKS.sub(" , ", cell.replace("(", " ").replace(")", " "))


def joined(atoms: list[Atom]) -> str:
    """A run of atoms as written, with the separators between them."""
    text = atoms[0].text
    for atom in atoms[1:]:
        text += atom.separator + atom.text
    return text


def starts_name(atom: Atom, previous: str = "") -> bool:
    """True when the atom begins a unit's name rather than carrying on the one before it."""
    folded = " ".join(words(atom.text))
    last = words(previous)[-1:] if previous else []
    first = words(atom.text)[:1]
    if last and first and (last[0], first[0]) in JOINED_PAIRS:
        return False
    if _has_head(folded, COMPLETE_HEADS):
        return True
    head = _has_head(folded, NAMED_HEADS)
    if head:
        rest = atom.text.split()[len(head.split()) :]
        return any(_proper(word) for word in rest)
    token = atom.text.split()[0]
    letters = [ch for ch in token if ch.isalpha()]
    return len(letters) >= 3 and token.isupper() and "&" not in token


def head_of(text: str) -> str:
    """The organisation word a name begins with (folded), or ""."""
    folded = " ".join(words(text))
    return _has_head(folded, COMPLETE_HEADS) or _has_head(folded, NAMED_HEADS)


def is_local(text: str) -> bool:
    """True for the body of a place ("UBND xã An Thái", "Công an huyện"): names that differ
    by one letter there are different places, not typing slips."""
    folded = f" {' '.join(words(text))} "
    return any(f" {level} " in folded for level in LEVEL_WORDS)


def _has_head(folded: str, heads: tuple[str, ...]) -> str:
    for head in sorted(heads, key=len, reverse=True):
        if folded == head or folded.startswith(head + " "):
            return head
    return ""


def _proper(word: str) -> bool:
    """A word written with a capital, or an abbreviation: the start of a proper name."""
    first = next((ch for ch in word if ch.isalnum()), "")
    return bool(first) and (first.isupper() or first.isdigit())
