"""The role table: which role may run which command in which kind of chat.

It is filled from the features' declarations (`handlers.registry`) and is the one place that
decides: the router refuses by it, `/trogiup` lists by it, `tiendo roles` prints it.
"""

from __future__ import annotations

from collections.abc import Iterator

from handlers.feature import Command, Feature, Where, Who


class RoleTableError(RuntimeError):
    """Two features claim one command name (a programming error, found at start-up)."""


class RoleTable:
    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}
        self._names: dict[str, str] = {}  # every name and alias → the command's name

    def add(self, feature: Feature) -> None:
        for command in feature.commands:
            for name in (command.name, *command.aliases):
                if name in self._names:
                    raise RoleTableError(f"/{name} of {feature.name} is already a command")
                self._names[name] = command.name
            self._commands[command.name] = command

    def command(self, typed: str) -> Command | None:
        """The command a typed name or alias stands for."""
        name = self._names.get(typed)
        return None if name is None else self._commands[name]

    def __iter__(self) -> Iterator[Command]:
        return iter(self._commands.values())

    def listed_for(self, who: Who, where: Where, has_unit: bool) -> list[Command]:
        """The commands /trogiup shows this person here: those they may run, in order."""
        return [
            command
            for command in self
            if command.listed
            and command.allows(who, where)
            and (has_unit or not command.needs_unit)
        ]


TABLE = RoleTable()
