"""The units a plan names that the catalog does not know: wrong cuts, typos, and new units.

A piece of a unit cell that matched no known name is judged once: a part of a known name cut
off at one of its own dashes or commas is a wrong cut; a name a letter or two away from a known
one (with the same leading word) is a typo; anything else that reads as a name is a new unit.
New names in one file that are spellings of one another become one unit, the fullest spelling
its name and the others its aliases. Only `--add-units` creates them, inside the import's
own transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.appendix import COLUMN_NAMES, ParsedTask, Problem
from storage.models import AuditLog, UnitAlias
from storage.textfold import words
from storage.unit_cells import head_of
from storage.unit_names import group_spellings, kind_of
from storage.units import UnitIndex, new_unit

UNIT_ROLES = ("lead", "coop")
# "Như trên" ("as above") and its short form name no unit: the row must say which.
_AS_ABOVE = ({"nhu", "tren"}, {"nt"}, {"nhu", "tren", "tr"})


@dataclass
class NewUnit:
    """A unit the file names and the catalog lacks, with every spelling the file uses."""

    name: str
    short_name: str
    kind: str
    spellings: list[str]
    rows: list[int] = field(default_factory=list)

    @property
    def aliases(self) -> list[str]:
        return [s for s in self.spellings if s != self.name]


def unknown_units(
    tasks: Iterable[ParsedTask], index: UnitIndex
) -> tuple[list[Problem], list[NewUnit]]:
    """The problems of the pieces no known unit covers, and the new units among them."""
    problems: list[Problem] = []
    rows: dict[str, list[int]] = {}
    for task in tasks:
        for role in UNIT_ROLES:
            cell = getattr(task, role)
            if not cell:
                continue
            for piece in index.match_roles(cell).unknown:
                problem = _judge(piece, index)
                if problem is None:
                    rows.setdefault(piece, [])
                    if task.row not in rows[piece]:
                        rows[piece].append(task.row)
                else:
                    problems.append(Problem(task.row, COLUMN_NAMES[role], piece, problem))
    return problems, _new_units(rows)


def _judge(piece: str, index: UnitIndex) -> str | None:
    """Why `piece` cannot be a new unit, or None when it can."""
    letters = [ch for ch in piece if ch.isalpha()]
    if len(letters) < 2 or set(words(piece)) in _AS_ABOVE:
        return "không phải tên một đơn vị; hãy ghi rõ tên đơn vị"
    whole = index.fragment_of(piece)
    if whole is not None:
        return (
            f"chỉ là một phần của tên đơn vị “{whole}” (tên bị cắt ở dấu gạch ngang hoặc dấu "
            "phẩy?); hãy ghi đủ tên đơn vị"
        )
    typo = index.typo_of(piece)
    if typo:
        return f"không nhận ra đơn vị; có phải là: {', '.join(typo)}? Hãy sửa cho đúng tên"
    if not _reads_as_name(piece):
        reason = (
            "không nhận ra đơn vị (tên đơn vị thường bắt đầu bằng Sở, Phòng, Ban, UBND, Trung tâm…)"
        )
        if piece[:1].isupper():  # a proper name after all, perhaps: say how to add it whole
            reason += f'. Nếu đúng là tên một đơn vị, thêm bằng: tiendo units add "{piece}"'
        return reason
    return None


def _reads_as_name(piece: str) -> bool:
    """A unit's name begins with an organisation word ("Phòng …", "Công an …", "Các …") or
    is an abbreviation ("TTYT huyện"); "chưa xác định" or a stray remark is not one."""
    first = piece.split()[0]
    letters = [ch for ch in first if ch.isalpha()]
    plural = words(piece)[:1] == ["cac"]
    return plural or bool(head_of(piece)) or (len(letters) >= 2 and first.isupper())


def _new_units(rows: dict[str, list[int]]) -> list[NewUnit]:
    found = []
    for group in group_spellings(rows):
        seen = sorted({row for spelling in group.spellings for row in rows[spelling]})
        name = group.name
        found.append(
            NewUnit(
                name=name,
                short_name=group.short_name,
                kind=kind_of(name),
                spellings=[name, *group.others],
                rows=seen,
            )
        )
    return found


async def create_units(
    session: AsyncSession, units: list[NewUnit], index: UnitIndex, actor: str, now: datetime
) -> None:
    """Store `units` with all their spellings (one audit row each) and teach `index` them."""
    taken = set((await session.scalars(select(UnitAlias.key))).all())
    created = []
    for unit in units:
        row = new_unit(unit.name, unit.short_name, unit.kind, unit.spellings, taken)
        session.add(row)
        created.append((row, unit))
    await session.flush()
    for row, unit in created:
        index.add(row)
        details = {"name": unit.name, "aliases": unit.aliases, "rows": unit.rows}
        session.add(
            AuditLog(
                at=now,
                actor=actor,
                action="unit.created",
                entity="unit",
                entity_id=str(row.id),
                details=details,
            )
        )
