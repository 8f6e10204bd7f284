"""Bulk INSERTs and UPDATEs whose rows are turned into the driver's own values before a
transaction's first write.

On SQLite the first write of a transaction takes the file's one write lock, held until the
commit, and every dialog step that writes waits for it. SQLAlchemy turns each row's values
into the driver's (dates and times into text, JSON into text, booleans into numbers) as it
executes: for 20,000 rows, most of the time the lock was held. Here the same public type
processors (TypeEngine.bind_processor, per dialect) run first, with nothing locked, and the
statement is then sent as it is (Connection.exec_driver_sql): the lock covers the database's
own work only. The values only known once earlier rows are written (a new plan's id, a new
group's, a new task's) are filled in at the last moment; they are plain integers.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, bindparam, insert, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Later:
    """A value known only once earlier rows are written: `kind` ("plan", "group", "task")
    and what names it (a group's number, a task's code)."""

    kind: str
    key: Any = None


Resolve = Callable[[Later], int]


@dataclass
class Prepared:
    """One statement and its rows in the driver's values; a `Later` stands where an id
    is still to come."""

    sql: str
    rows: list[list[Any]]
    later: list[int]  # positions that may hold a Later

    def parameters(self, resolve: Resolve) -> list[tuple[Any, ...]]:
        if not self.later:
            return [tuple(row) for row in self.rows]
        filled = []
        for row in self.rows:
            for position in self.later:
                value = row[position]
                if isinstance(value, Later):
                    row[position] = resolve(value)
            filled.append(tuple(row))
        return filled


def prepare_insert(
    dialect: Dialect, table: Table, rows: Sequence[Mapping[str, Any]], later: Iterable[str] = ()
) -> Prepared:
    """An INSERT of `rows` into `table`: every column but the key, from the row or the
    column's default. The columns named in `later` may hold a Later."""
    columns = [column for column in table.columns if not column.primary_key]
    values: dict[str, Any] = {column.name: bindparam(column.name) for column in columns}
    # inline(): no RETURNING of the new key, which a bulk insert does not read back.
    compiled = insert(table).inline().values(values).compile(dialect=dialect)
    order = _order(compiled.positiontup, table)
    complete = [_complete(row, columns) for row in rows]
    return _prepared(dialect, str(compiled), order, complete, later)


def prepare_update(
    dialect: Dialect,
    table: Table,
    names: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    later: Iterable[str] = (),
) -> Prepared:
    """An UPDATE of the columns `names` of the rows whose ids `rows` give (key "id")."""
    values: dict[str, Any] = {name: bindparam(name) for name in names}
    statement = update(table).where(table.c.id == bindparam("row_id")).values(values)
    compiled = statement.compile(dialect=dialect)
    order = _order(compiled.positiontup, table)
    as_params = [{**row, "row_id": row["id"]} for row in rows]
    return _prepared(dialect, str(compiled), order, as_params, later)


async def execute(session: AsyncSession, prepared: Prepared, resolve: Resolve) -> None:
    """Send `prepared` as one executemany (the caller's transaction; it commits)."""
    if prepared.rows:
        connection = await session.connection()
        await connection.exec_driver_sql(prepared.sql, prepared.parameters(resolve))


def _order(positions: Sequence[str] | None, table: Table) -> list[tuple[str, Column[Any]]]:
    """The statement's parameters in order, each with its column ("row_id": the key)."""
    if positions is None:
        raise ValueError("a dialect with a positional paramstyle is expected")
    return [(name, table.c.id if name == "row_id" else table.c[name]) for name in positions]


def _prepared(
    dialect: Dialect,
    sql: str,
    order: list[tuple[str, Column[Any]]],
    rows: Sequence[Mapping[str, Any]],
    later: Iterable[str],
) -> Prepared:
    late = set(later)
    steps = [(name, _processor(dialect, column, name in late)) for name, column in order]
    prepared = [[_value(row[name], process) for name, process in steps] for row in rows]
    positions = [i for i, (name, _process) in enumerate(steps) if name in late]
    return Prepared(sql, prepared, positions)


def _processor(dialect: Dialect, column: Column[Any], late: bool) -> Callable[[Any], Any] | None:
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if late and process is not None:
        raise ValueError(f"{column.name}: an id filled in late must need no conversion")
    return process


def _value(value: Any, process: Callable[[Any], Any] | None) -> Any:
    if isinstance(value, Later):
        return value
    if isinstance(value, enum.Enum):  # the str enums the models use, as SQLAlchemy sends them
        value = value.value
    return value if process is None else process(value)


def _complete(row: Mapping[str, Any], columns: list[Column[Any]]) -> dict[str, Any]:
    """`row` with each missing column's default (a constant) or NULL (when it may be)."""
    missing = [column for column in columns if column.name not in row]
    if not missing:
        return dict(row)
    complete = dict(row)
    for column in missing:
        default = column.default
        if default is not None and default.is_scalar:
            complete[column.name] = getattr(default, "arg", None)
        elif default is None and column.nullable:
            complete[column.name] = None
        else:
            raise ValueError(f"{column.table.name}.{column.name}: no value and no constant default")
    return complete
