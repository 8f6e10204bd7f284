"""What an appendix's title rows say about its plan: the plan's name, the issuing document, the
period, and a short name for chat.

Offices repeat the document above the table: "(Kèm theo Quyết định số 284/QĐ-UBND ngày
24/01/2022 của UBND thành phố)", "Kế hoạch số 45/KH-UBND ngày 20/02/2023"; the plan's own title
sits beside it ("KẾ HOẠCH CHUYỂN ĐỔI SỐ NĂM 2023"). Nothing here touches the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from storage.textfold import strip_marks, words

# "số 284/QĐ-UBND ngày 24/01/2022", "số 45/KH-UBND ngày 20 tháng 02 năm 2023"
_DECISION = re.compile(
    r"số\s*:?\s*(\d+[\w./\-&]*/[\w.\-&Đđ]+)\s*,?\s*ngày\s+"
    r"(\d{1,2})\s*(?:/|-|\.|\s+tháng\s+)\s*(\d{1,2})\s*(?:/|-|\.|\s+năm\s+)\s*(\d{4})",
    re.IGNORECASE,
)
# A title line naming the document kind first; its abbreviation makes the short name.
KINDS = (
    ("chuong trinh", "CT"),
    ("ke hoach", "KH"),
    ("de an", "ĐA"),
    ("nghi quyet", "NQ"),
    ("quyet dinh", "QĐ"),
    ("chi thi", "CTh"),
)
_LEAD_IN = re.compile(
    r"^(?:danh\s+mục\s+(?:các\s+)?nhiệm\s+vụ\s+(?:thực\s+hiện\s+|của\s+)?)", re.IGNORECASE
)
_CITATION = re.compile(r"^\w+ \w+ so \d")
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_PERIOD = re.compile(r"\b((?:19|20)\d{2})\s*[-–—]\s*((?:19|20)\d{2})\b")
_ONE_YEAR = re.compile(r"\bnăm\s+((?:19|20)\d{2})\b", re.IGNORECASE)
SHORT_MAX = 40


@dataclass(frozen=True)
class PlanTitle:
    """What the title rows say; empty strings where they say nothing."""

    name: str = ""
    decision: str = ""  # "284/QĐ-UBND ngày 24/01/2022"
    period: str = ""  # "2023", "2022-2025"


def read_title(lines: Iterable[str]) -> PlanTitle:
    """The plan's name, issuing document and period, from the title rows above the table."""
    texts = [" ".join(line.split()) for line in lines if line and line.strip()]
    decision = _decision(texts)
    name = next((n for n in (_name(text) for text in texts) if n), "")
    return PlanTitle(name=name, decision=decision, period=period_of(name))


def _decision(texts: list[str]) -> str:
    # The "Kèm theo …" line names the document the appendix belongs to; another line may cite
    # an older one (the resolution the plan carries out).
    ordered = sorted(texts, key=lambda text: "kem theo" not in strip_marks(text))
    for text in ordered:
        match = _DECISION.search(text)
        if match:
            number, day, month, year = match.groups()
            return f"{number} ngày {int(day):02d}/{int(month):02d}/{year}"
    return ""


def _name(text: str) -> str:
    """The line as a plan's name, or "" when it is no name (PHỤ LỤC, Kèm theo …)."""
    line = text.strip(" ()[]")
    folded = " ".join(words(line))
    if not folded or folded.startswith(("phu luc", "kem theo", "ban hanh kem")):
        return ""
    line = _LEAD_IN.sub("", line)
    folded = " ".join(words(line))
    if not folded.startswith(tuple(kind for kind, _ in KINDS)) or len(folded.split()) < 3:
        return ""  # not a document's title, or only its kind ("KẾ HOẠCH")
    if _CITATION.match(folded):
        return ""  # "Kế hoạch số 45/KH-UBND ngày 20/02/2023": a citation, not a title
    return _sentence_case(line)


def _sentence_case(line: str) -> str:
    """ "KẾ HOẠCH CHUYỂN ĐỔI SỐ NĂM 2023" → "Kế hoạch chuyển đổi số năm 2023"; a title already
    in mixed case stays as written. Document numbers keep their capitals (03-NQ/TU)."""
    letters = [ch for ch in line if ch.isalpha()]
    if not letters or not all(ch.isupper() for ch in letters):
        return line[0].upper() + line[1:]
    shaped = []
    for word in line.split():
        shaped.append(word if any(ch.isdigit() for ch in word) else word.lower())
    text = " ".join(shaped)
    return text[0].upper() + text[1:]


def period_of(name: str) -> str:
    """ "giai đoạn 2022-2025" → "2022-2025"; "năm 2023" → "2023"; "" when unsaid."""
    span = _PERIOD.search(name)
    if span:
        return f"{span.group(1)}-{span.group(2)}"
    one = _ONE_YEAR.search(name)
    return one.group(1) if one else ""


def name_from_file(path: Path) -> str:
    """A name for a plan whose title rows give none: the file's name, tidied."""
    stem = " ".join(path.stem.replace("_", " ").replace("-", " ").split())
    return (stem[:1].upper() + stem[1:]) if stem else "Kế hoạch"


def short_name(names: Iterable[str], decision: str, taken: Iterable[str]) -> str:
    """A short name for chat, unique among `taken` (compared folded), from the first of
    `names` that gives one: the kind of document and its year ("KH 2023") or the decision's
    number ("CT 284"); else the kind and a counter ("KH 2")."""
    names = [name for name in names if name]
    base = next((found for found in (_short_base(n, decision) for n in names) if found), "")
    return unique_short(base, _kind(names[0]) if names else "KH", taken)


def _kind(name: str) -> str:
    return next((abbr for key, abbr in KINDS if " ".join(words(name)).startswith(key)), "KH")


def _short_base(name: str, decision: str) -> str:
    years = _YEAR.findall(name)
    number = re.match(r"\d+", decision)
    if _ONE_YEAR.search(name) and len(set(years)) == 1:
        return f"{_kind(name)} {years[0]}"
    if number:
        return f"{_kind(name)} {number.group(0)}"
    return ""


def key(text: str) -> str:
    """How plan names are compared: no case, no diacritics, no spaces or punctuation
    ("KH2023" = "KH 2023" = "kh 2023")."""
    return "".join(words(text))


def unique_short(base: str, kind: str, taken: Iterable[str]) -> str:
    keys = {key(name) for name in taken}
    if base and key(base) not in keys:
        return base[:SHORT_MAX]
    counter = 1
    while True:
        candidate = f"{base} ({counter + 1})" if base else f"{kind} {counter}"
        if key(candidate) not in keys:
            return candidate[:SHORT_MAX]
        counter += 1
