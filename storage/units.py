"""Recognising units however a plan spells them.

Every spelling folds to a key (no case, no diacritics, i/y alike, "&" and "và" ignored, "thành
phố" = "TP"); a unit's keys come from its names, the catalog's variants and generated
abbreviations ("Sở Thông tin và Truyền thông" → "Sở TT&TT", "STTTT"). Cells naming several units
are split on ";", new lines, commas and "và", always preferring the longest run that is itself
a unit, so "Các sở, ban, ngành" and "Sở Kế hoạch và Đầu tư" each stay one unit.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Unit, UnitAlias
from storage.textfold import words
from storage.unit_catalog import CATALOG, CatalogUnit

_PHRASES = (("thanh pho", "tp"), ("uy ban nhan dan", "ubnd"), ("hai phong", "hp"))
_TRAILING = ("tp", "hp", "tphp", "thanhpho")
_PARENS = re.compile(r"\([^)]*\)")
_CHUNKS = re.compile(r"[;\n\r]+|\s-\s(?=\S)|\s\+\s")
_AND = re.compile(r"\s+(?:và|va|với|cùng)\s+", re.IGNORECASE)
RELATED_NAME = "Các cơ quan, đơn vị liên quan"


def fold(text: str) -> str:
    """The matching key of a unit name: "Sở TT&TT" and "sở tt-tt" give the same key."""
    joined = " " + " ".join(words(text)) + " "
    for phrase, short in _PHRASES:
        joined = joined.replace(f" {phrase} ", f" {short} ")
    return "".join(w.replace("y", "i") for w in joined.split() if w != "va")


def generated_aliases(name: str) -> set[str]:
    """Abbreviations officials write for a unit: initials after "Sở", district prefixes."""
    parts = [w for w in words(name) if w != "va"]
    aliases: set[str] = set()
    if len(parts) >= 2 and parts[0] == "so":
        initials = "".join(w[0] for w in parts[1:])
        aliases |= {f"so {initials}", f"s{initials}"}
    if parts[:1] == ["ubnd"] and len(parts) >= 3 and parts[1] in ("quan", "huyen"):
        place = " ".join(parts[2:])
        letter = parts[1][0]
        aliases |= {place, f"{parts[1]} {place}", f"{letter} {place}", f"ubnd {letter} {place}"}
    return aliases


def _catalog_keys(entry: CatalogUnit) -> set[str]:
    texts = {entry.name, entry.short_name, *entry.aliases, *generated_aliases(entry.name)}
    return {fold(text) for text in texts if fold(text)}


async def seed_units(session: AsyncSession) -> int:
    """Add the catalog's units and spellings that are missing; returns how many units were added."""
    units = {unit.name: unit for unit in (await session.scalars(_with_aliases())).all()}
    taken = set((await session.scalars(select(UnitAlias.key))).all())
    added = 0
    for entry in CATALOG:
        unit = units.get(entry.name)
        if unit is None:
            unit = Unit(
                aliases=[],
                name=entry.name,
                short_name=entry.short_name,
                kind=entry.kind,
                covers=entry.covers,
            )
            session.add(unit)
            units[entry.name] = unit
            added += 1
        for key in sorted(_catalog_keys(entry) - taken):
            unit.aliases.append(
                UnitAlias(alias=entry.name if key == fold(entry.name) else key, key=key)
            )
            taken.add(key)
    await session.flush()
    return added


@dataclass
class CellMatch:
    """The units a cell names, in order, and the pieces that matched no unit."""

    units: list[Unit] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


class UnitIndex:
    """All known spellings in memory, for matching many cells quickly."""

    def __init__(self, units: Iterable[Unit]) -> None:
        self._by_key: dict[str, Unit] = {}
        self._names: dict[str, str] = {}
        for unit in units:
            for key in {fold(unit.name), fold(unit.short_name), *(a.key for a in unit.aliases)}:
                self._by_key.setdefault(key, unit)
                self._names.setdefault(key, unit.name)

    @classmethod
    async def load(cls, session: AsyncSession) -> UnitIndex:
        return cls((await session.scalars(_with_aliases())).all())

    def find(self, text: str) -> Unit | None:
        key = fold(_PARENS.sub(" ", text))
        if not key:
            return None
        for candidate in _key_variants(key):
            if candidate in self._by_key:
                return self._by_key[candidate]
        return None

    def closest(self, text: str, n: int = 3) -> list[str]:
        """Names of the units most like `text`: by spelling, and by the words they share."""
        key, wanted = fold(text), set(words(text))
        scores: dict[str, float] = {}
        for candidate, name in self._names.items():
            spelling = difflib.SequenceMatcher(None, key, candidate).ratio()
            shared = len(wanted & set(words(name))) / max(len(wanted | set(words(name))), 1)
            scores[name] = max(scores.get(name, 0.0), spelling, shared)
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        return [name for name, score in ranked[:n] if score >= 0.3]

    def match_cell(self, text: str) -> CellMatch:
        """Split a cell into the units it names; unknown pieces are kept for the error report."""
        result = CellMatch()
        for chunk in _CHUNKS.split(_PARENS.sub(" ", text)):
            pieces = [p.strip(" .:-–\t") for p in chunk.split(",")]
            self._match_pieces([p for p in pieces if p], result)
        return result

    def _match_pieces(self, pieces: list[str], result: CellMatch) -> None:
        start = 0
        while start < len(pieces):
            for end in range(len(pieces), start, -1):
                unit = self.find(", ".join(pieces[start:end]))
                if unit is not None:
                    _add(result, unit)
                    start = end
                    break
            else:
                self._match_joined(pieces[start], result)
                start += 1

    def _match_joined(self, piece: str, result: CellMatch) -> None:
        """A piece like "Sở TT&TT và Sở Nội vụ": split on "và" only if every part is a unit."""
        parts = [p.strip() for p in _AND.split(piece) if p.strip()]
        found = [self.find(part) for part in parts]
        if len(parts) > 1 and all(found):
            for unit in found:
                _add(result, unit)  # type: ignore[arg-type]
            return
        related = self.find(RELATED_NAME)
        if related is not None and "lienquan" in fold(piece):
            _add(result, related)
            return
        result.unknown.append(piece)


def _with_aliases() -> Select[tuple[Unit]]:
    return select(Unit).options(selectinload(Unit.aliases))


def _key_variants(key: str) -> list[str]:
    variants = [key]
    for suffix in _TRAILING:
        if key.endswith(suffix) and len(key) > len(suffix) + 2:
            variants.append(key.removesuffix(suffix))
    if key.startswith("cac") and len(key) > 5:
        variants.append(key.removeprefix("cac"))
    return variants


def _add(result: CellMatch, unit: Unit) -> None:
    if all(existing is not unit for existing in result.units):
        result.units.append(unit)


async def all_units(session: AsyncSession) -> list[Unit]:
    """Every known unit, by kind then name."""
    return list((await session.scalars(select(Unit).order_by(Unit.kind, Unit.name))).all())


async def find_unit(session: AsyncSession, text: str) -> Unit | None:
    """The unit `text` names, however it is spelled, or None."""
    return (await UnitIndex.load(session)).find(text)


async def closest_units(session: AsyncSession, text: str, n: int = 3) -> list[str]:
    """The names of the known units closest to `text`, best first."""
    return (await UnitIndex.load(session)).closest(text, n)


class UnitConflict(ValueError):
    """A new unit's spelling already belongs to another unit."""


async def add_unit(
    session: AsyncSession, name: str, short_name: str, kind: str, aliases: Iterable[str] = ()
) -> Unit:
    """Register a unit the catalog lacks, with its spellings; refuses spellings already taken."""
    index = await UnitIndex.load(session)
    texts = {name, short_name, *aliases, *generated_aliases(name)}
    for text in (name, short_name, *aliases):
        existing = index.find(text)
        if existing is not None:
            raise UnitConflict(f"“{text}” đã là tên của đơn vị “{existing.name}”")
    taken = set((await session.scalars(select(UnitAlias.key))).all())
    unit = Unit(name=name, short_name=short_name or name, kind=kind, covers="", aliases=[])
    for key in sorted({fold(t) for t in texts if fold(t)} - taken):
        unit.aliases.append(UnitAlias(alias=key, key=key))
    session.add(unit)
    await session.flush()
    return unit
