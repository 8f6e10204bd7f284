"""The spellings of one unit's name: folded keys, abbreviations officials write, and grouping.

A name folds to a key (no case, no diacritics, i/y alike, "&", "-" and "và" ignored). From a
full name come the abbreviations offices write: initials of the words after a leading "Sở",
"Phòng", "Ban", "Trung tâm", "Văn phòng" ("Phòng Tài nguyên và Môi trường" → "Phòng TN&MT",
"Phòng TN-MT"), and the short forms of those leading words ("Văn phòng" → "VP"). New names
found in one file are grouped when one is written as another's spelling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from storage.models import UnitKind
from storage.textfold import words
from storage.unit_cells import LEVEL_WORDS, head_of

_PHRASES = (("thanh pho", "tp"), ("uy ban nhan dan", "ubnd"), ("hai phong", "hp"))
# Leading words, their short forms, and whether "S" + initials is written too (STTTT).
_PREFIXES: tuple[tuple[str, str, bool], ...] = (
    ("van phong", "vp", False),
    ("trung tam", "tt", False),
    ("chi cuc", "cc", False),
    ("so", "s", True),
    ("phong", "p", False),
    ("ban", "b", False),
)
_SWAPS = (("van phong", "vp"), ("trung tam", "tt"), ("hoi dong nhan dan", "hdnd"))
_ABBREVIATION = re.compile(r"^[A-ZĐ0-9&\-]{2,}$")


def fold(text: str) -> str:
    """The matching key of a unit name: "Sở TT&TT" and "sở tt-tt" give the same key."""
    joined = " " + " ".join(words(text)) + " "
    for phrase, short in _PHRASES:
        joined = joined.replace(f" {phrase} ", f" {short} ")
    return "".join(w.replace("y", "i") for w in joined.split() if w != "va")


def generated_aliases(name: str) -> set[str]:
    """Abbreviations officials write for a unit (as text to fold): initials, short prefixes."""
    parts = [w for w in words(name) if w != "va"]
    joined = " ".join(parts)
    aliases: set[str] = set()
    for prefix, short, with_letter in _PREFIXES:
        if joined.startswith(prefix + " "):
            aliases |= _initials(name, prefix, short, with_letter)
            break
    for long_form, short_form in _SWAPS:
        if f" {long_form} " in f" {joined} ":
            aliases.add(f" {joined} ".replace(f" {long_form} ", f" {short_form} ").strip())
    if parts[:1] == ["ubnd"] and len(parts) >= 3 and parts[1] in ("quan", "huyen"):
        place = " ".join(parts[2:])
        letter = parts[1][0]
        aliases |= {place, f"{parts[1]} {place}", f"{letter} {place}", f"ubnd {letter} {place}"}
    return aliases


def _initials(name: str, prefix: str, short: str, letter: bool) -> set[str]:
    """ "Phòng Tài nguyên và Môi trường" → "phong tnmt"; nothing when the rest is abbreviated."""
    tokens = [t for t in re.split(r"[\s,\-–—&+/]+", name) if t]
    rest = tokens[len(prefix.split()) :]
    if any(_ABBREVIATION.match(token) for token in rest):
        return set()
    rest_words = [w for w in words(" ".join(rest)) if w != "va"]
    level = rest_words[-1:] if rest_words[-1:] and rest_words[-1] in LEVEL_WORDS else []
    content = rest_words[: len(rest_words) - len(level)]
    if len(content) < 2:
        return set()
    initials = "".join(w[0] for w in content)
    tail = f" {level[0]}" if level else ""
    found = {f"{prefix} {initials}{tail}", f"{short} {initials}{tail}"}
    if letter:
        found.add(f"{short}{initials}{tail}")
    return found


def spelling_keys(name: str) -> set[str]:
    """Every key under which `name` may be written."""
    return {key for key in {fold(name), *(fold(a) for a in generated_aliases(name))} if key}


def kind_of(name: str) -> str:
    """The kind a new unit gets from how its name begins."""
    parts = words(name)
    if parts[:1] == ["cac"] or (parts[:1] == ["ubnd"] and parts[1:2] == ["cac"]):
        return UnitKind.COLLECTIVE.value
    head = head_of(name)
    if head == "so":
        return UnitKind.DEPARTMENT.value
    if head in ("ubnd", "uy ban nhan dan") and parts[1:2] in (["quan"], ["huyen"]):
        return UnitKind.DISTRICT.value
    return UnitKind.OTHER.value


@dataclass
class NameGroup:
    """Names from one file that are spellings of one unit; `name` is the fullest of them."""

    spellings: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return max(self.spellings, key=lambda s: (len(fold(s)), self.counts[s], -self._at(s)))

    @property
    def short_name(self) -> str:
        return min(self.spellings, key=lambda s: (len(fold(s)), -self.counts[s], self._at(s)))

    @property
    def others(self) -> list[str]:
        """The spellings other than the name, in the order they were met."""
        return [s for s in self.spellings if s != self.name]

    def _at(self, spelling: str) -> int:
        return self.spellings.index(spelling)


def group_spellings(names: Iterable[str]) -> list[NameGroup]:
    """Group names written as spellings of one another (same key, or one is the other's
    abbreviation); two generated abbreviations that merely coincide do not join names."""
    order: list[str] = []
    counts: dict[str, int] = {}
    for name in names:
        if name not in counts:
            order.append(name)
        counts[name] = counts.get(name, 0) + 1
    parent = list(range(len(order)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    literal: dict[str, int] = {}
    for i, name in enumerate(order):
        key = fold(name)
        if key in literal:
            parent[root(i)] = root(literal[key])
        literal.setdefault(key, i)
    for i, name in enumerate(order):
        for key in spelling_keys(name):
            if key in literal:
                parent[root(i)] = root(literal[key])
    groups: dict[int, NameGroup] = {}
    for i, name in enumerate(order):
        group = groups.setdefault(root(i), NameGroup())
        group.spellings.append(name)
        group.counts[name] = counts[name]
    return list(groups.values())
