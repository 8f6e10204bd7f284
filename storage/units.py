"""Recognising units however a plan spells them, in cells that name several at once.

Every spelling folds to a key (storage.unit_names); a unit's keys come from its names, the
catalog's variants and generated abbreviations ("Sở Thông tin và Truyền thông" → "Sở TT&TT",
"STTTT"). A cell is cut into atoms (storage.unit_cells) and the longest runs of atoms that are
known names are taken first, so no known name is ever cut, whatever dashes or commas it holds;
the rest is joined back into whole names. A leftover piece is then either a fragment of a known
name (a wrong cut), a likely typo of one, or a name the catalog does not know.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Unit, UnitAlias
from storage.textfold import words
from storage.unit_catalog import CATALOG, CatalogUnit
from storage.unit_cells import (
    LEAD,
    Atom,
    head_of,
    is_local,
    joined,
    role_parts,
    segments,
    starts_name,
    strip_notes,
)
from storage.unit_names import fold, generated_aliases, spelling_keys

__all__ = [
    "CellMatch",
    "RoleMatch",
    "UnitConflict",
    "UnitIndex",
    "add_unit",
    "all_units",
    "closest_units",
    "find_unit",
    "fold",
    "generated_aliases",
    "seed_units",
]

_TRAILING = ("tp", "hp", "tphp", "thanhpho")
RELATED_NAME = "Các cơ quan, đơn vị liên quan"
# A leftover piece this close to a known name (same leading word) is taken for a typing slip.
TYPO_RATIO = 0.85


def _catalog_spellings(entry: CatalogUnit) -> dict[str, str]:
    """Each key of a catalog unit, with the spelling it came from (the name's own first)."""
    found: dict[str, str] = {}
    for text in (
        entry.name,
        entry.short_name,
        *entry.aliases,
        *sorted(generated_aliases(entry.name)),
    ):
        key = fold(text)
        if key:
            found.setdefault(key, text)
    return found


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
        for key, text in sorted(_catalog_spellings(entry).items()):
            if key not in taken:
                unit.aliases.append(UnitAlias(alias=text, key=key))
                taken.add(key)
    await session.flush()
    return added


@dataclass
class CellMatch:
    """The units a cell names, in order, and the pieces that matched no unit.

    `items` keeps both in the cell's order (a Unit, or the text of an unknown piece)."""

    units: list[Unit] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    items: list[Unit | str] = field(default_factory=list)

    def add(self, item: Unit | str) -> None:
        if isinstance(item, str):
            if item not in self.unknown:
                self.unknown.append(item)
                self.items.append(item)
        elif all(existing is not item for existing in self.units):
            self.units.append(item)
            self.items.append(item)


@dataclass
class RoleMatch:
    """The units a lead cell names, as leads and as cooperating units, and its unknown pieces.

    Without role markers every unit of the cell leads. When some are marked ("Sở TT&TT
    (chủ trì); Sở Nội vụ"), the units marked "chủ trì" lead and the others cooperate; when
    only "phối hợp" is marked, the unmarked units lead. Unknown pieces keep their place, as
    text, so a task led only by a unit still to be added is not taken for one without a lead."""

    lead: list[Unit | str] = field(default_factory=list)
    coop: list[Unit | str] = field(default_factory=list)

    @property
    def unknown(self) -> list[str]:
        return list(dict.fromkeys(item for item in self.lead + self.coop if isinstance(item, str)))


@dataclass(frozen=True)
class _Shape:
    """A known spelling cut into its leading word and the rest, for typo checks."""

    head: str
    rest: str
    name: str


class UnitIndex:
    """All known spellings in memory, for matching many cells quickly."""

    def __init__(self, units: Iterable[Unit]) -> None:
        self._by_key: dict[str, Unit] = {}
        self._names: dict[str, str] = {}
        self._fragments: dict[str, str] = {}
        self._shapes: list[_Shape] = []
        self._cells: dict[str, CellMatch] = {}
        for unit in units:
            self.add(unit)

    @classmethod
    async def load(cls, session: AsyncSession) -> UnitIndex:
        return cls((await session.scalars(_with_aliases())).all())

    def add(self, unit: Unit) -> None:
        """Know `unit` (with its aliases loaded) from now on."""
        texts = [unit.name, unit.short_name, *(a.alias for a in unit.aliases)]
        for key in {fold(unit.name), fold(unit.short_name), *(a.key for a in unit.aliases)}:
            self._by_key.setdefault(key, unit)
            self._names.setdefault(key, unit.name)
        for text in texts:
            self._learn_shape(text, unit.name)
        self._cells.clear()

    def _learn_shape(self, text: str, name: str) -> None:
        head = head_of(text)
        if head:
            rest = fold(" ".join(words(text)[len(head.split()) :]))
            self._shapes.append(_Shape(head, rest, name))
        for atoms in segments(text):
            for key in _fragment_keys(atoms):
                self._fragments.setdefault(key, name)

    def find(self, text: str) -> Unit | None:
        key = fold(strip_notes(text))
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

    def fragment_of(self, piece: str) -> str | None:
        """The known name `piece` is a cut-off part of ("Sở Lao động"), or None."""
        key = fold(piece)
        return None if key in self._by_key else self._fragments.get(key)

    def typo_of(self, piece: str) -> list[str]:
        """Known names `piece` is most likely a typing slip of, best first.

        Only names with the same leading word count ("Sở Thông tin và Truyền thôg" against
        the other "Sở …"), compared on the rest of the folded name, so a shared "Sở" or
        "Phòng" never makes two names close; bodies of places ("UBND xã An Hưng") are never
        taken for typos of one another."""
        head = head_of(piece)
        if not head or is_local(piece):
            return []
        rest = fold(" ".join(words(piece)[len(head.split()) :]))
        scored: dict[str, float] = {}
        for shape in self._shapes:
            if shape.head != head or len(rest) < 3 or is_local(shape.name):
                continue
            ratio = difflib.SequenceMatcher(None, rest, shape.rest).ratio()
            if ratio >= TYPO_RATIO and _edits(rest, shape.rest) <= max(1, len(rest) // 8):
                scored[shape.name] = max(scored.get(shape.name, 0.0), ratio)
        return [name for name, _ in sorted(scored.items(), key=lambda item: -item[1])[:3]]

    def match_cell(self, text: str) -> CellMatch:
        """Split a cell into the units it names; unknown pieces are kept for the error report.

        The result is shared between equal cells: read it, do not change it."""
        cached = self._cells.get(text)
        if cached is None:
            cached = self._cells[text] = self._match(text)
        return cached

    def match_roles(self, text: str) -> RoleMatch:
        """The cell's units split by the role markers written in it (see RoleMatch)."""
        marked: dict[str | None, list[Unit | str]] = {None: [], LEAD: [], "coop": []}
        for part in role_parts(text):
            items = self.match_cell(part.text).items
            if part.role is None or not items:
                marked[None] += items
            elif part.last_only:
                marked[None] += items[:-1]
                marked[part.role].append(items[-1])
            else:
                marked[part.role] += items
        if marked[LEAD]:
            lead, coop = marked[LEAD], marked[None] + marked["coop"]
        else:
            lead, coop = marked[None], marked["coop"]
        lead = _once(lead)
        return RoleMatch(lead, [item for item in _once(coop) if not _within(item, lead)])

    def _match(self, text: str) -> CellMatch:
        result = CellMatch()
        for atoms in segments(text):
            self._match_atoms(atoms, result)
        return result

    def _match_atoms(self, atoms: list[Atom], result: CellMatch) -> None:
        pending: list[Atom] = []
        start = 0
        while start < len(atoms):
            found = self._longest_known(atoms, start)
            if found is not None:
                unit, start = found
                self._settle(pending, result)
                pending = []
                result.add(unit)
                continue
            atom = atoms[start]
            if pending and not _starts_listed_name(atom, pending[-1].text):
                pending.append(atom)
            else:
                self._settle(pending, result)
                pending = [atom]
            start += 1
        self._settle(pending, result)

    def _longest_known(self, atoms: list[Atom], start: int) -> tuple[Unit, int] | None:
        head = atoms[start].head
        for end in range(len(atoms), start, -1):
            text = joined(atoms[start:end])
            unit = (self.find(f"{head} {text}") if head else None) or self.find(text)
            if unit is not None:
                return unit, end
        return None

    def _settle(self, pending: list[Atom], result: CellMatch) -> None:
        """A run of atoms no known name covers: one piece, or the related-bodies collective."""
        if not pending:
            return
        piece = joined(pending)
        if pending[0].head:
            piece = f"{pending[0].head} {piece}"
        related = self.find(RELATED_NAME)
        if related is not None and "lienquan" in fold(piece) and head_of(piece) in ("", "cac"):
            result.add(related)
        else:
            result.add(piece)


def _starts_listed_name(atom: Atom, previous: str) -> bool:
    """Whether `atom` begins a name; in a list sharing its organisation word ("Các phòng: Nội
    vụ, Tư pháp") every item after a comma does."""
    if atom.head and atom.separator.strip() in (",", ";"):
        return True
    return starts_name(atom, previous)


def _within(item: Unit | str, items: list[Unit | str]) -> bool:
    return any(other is item or (isinstance(item, str) and other == item) for other in items)


def _once(items: list[Unit | str]) -> list[Unit | str]:
    """`items` without repeats, in order."""
    kept: list[Unit | str] = []
    for item in items:
        if not _within(item, kept):
            kept.append(item)
    return kept


def _fragment_keys(atoms: list[Atom]) -> set[str]:
    """Keys of the parts a name falls into when cut at its own separators: its beginnings
    ("Sở Lao động") and the parts that cannot stand as a name ("Thương binh và Xã hội")."""
    keys: set[str] = set()
    for start in range(len(atoms)):
        if start and starts_name(Atom(atoms[start].text)):
            continue
        for end in range(start + 1, len(atoms) + 1):
            if (start, end) != (0, len(atoms)):
                keys.add(fold(joined(atoms[start:end])))
    keys.discard("")
    return keys


def _edits(a: str, b: str) -> int:
    """Levenshtein distance between two short keys."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def _with_aliases() -> Select[Unit]:
    return select(Unit).options(selectinload(Unit.aliases))


def _key_variants(key: str) -> list[str]:
    variants = [key]
    for suffix in _TRAILING:
        if key.endswith(suffix) and len(key) > len(suffix) + 2:
            variants.append(key.removesuffix(suffix))
    if key.startswith("cac") and len(key) > 5:
        variants.append(key.removeprefix("cac"))
    return variants


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
    """A new unit's spelling already belongs to another unit, or only cuts a known name."""


async def add_unit(
    session: AsyncSession, name: str, short_name: str, kind: str, aliases: Iterable[str] = ()
) -> Unit:
    """Register a unit the catalog lacks, with its spellings; refuses spellings already taken
    and names that are only a part of a known name. Names are kept composed (NFC) and with
    plain single spaces, however the terminal passed them."""
    index = await UnitIndex.load(session)
    name, short_name = tidy(name), tidy(short_name)
    aliases = [tidy(alias) for alias in aliases]
    for text in (name, short_name, *aliases):
        existing = index.find(text) if text else None
        if existing is not None:
            raise UnitConflict(f"“{text}” đã là tên của đơn vị “{existing.name}”")
    whole = index.fragment_of(name)
    if whole is not None:
        raise UnitConflict(f"“{name}” chỉ là một phần của tên đơn vị “{whole}”")
    taken = set((await session.scalars(select(UnitAlias.key))).all())
    unit = new_unit(name, short_name, kind, aliases, taken)
    session.add(unit)
    await session.flush()
    return unit


def tidy(text: str) -> str:
    """`text` composed (NFC), its spaces (non-breaking ones too) made single and plain."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def new_unit(
    name: str, short_name: str, kind: str, spellings: Iterable[str], taken: set[str]
) -> Unit:
    """A Unit with every key of its spellings not in `taken` (which it then adds to)."""
    unit = Unit(name=name, short_name=short_name or name, kind=kind, covers="", aliases=[])
    texts: dict[str, str] = {}
    for text in (name, short_name, *spellings):
        for key in sorted(spelling_keys(text)) if text else ():
            texts.setdefault(key, text if key == fold(text) else key)
    for key, text in texts.items():
        if key not in taken:
            unit.aliases.append(UnitAlias(alias=text, key=key))
            taken.add(key)
    return unit
