"""What a feature declares: its commands (names, aliases, who may run them and where) and its
dialogs' step tables.

A feature is one module ending in `FEATURE = Feature(...)`; `handlers.registry` lists the
features, and checks each when it is registered: a command or alias named twice, or a step
that leads to a step its dialog does not have, fails at start-up instead of in a chat.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from handlers.context import Ctx
from handlers.events import Reply
from handlers.steps import Dialog
from storage.models import Role


class Who(StrEnum):
    """Who sends a command: someone not registered, or a person of one role."""

    GUEST = "guest"
    OFFICER = Role.OFFICER.value
    HEAD = Role.HEAD.value
    COMMITTEE = Role.COMMITTEE.value
    ADMIN = Role.ADMIN.value


class Where(StrEnum):
    """The kind of chat a command is sent in."""

    PRIVATE = "private"
    GROUP = "group"  # a group the bot is in, not bound to anything
    COMMITTEE_GROUP = "committee_group"  # a group bound with /ganhom


MEMBERS = (Who.OFFICER, Who.HEAD, Who.COMMITTEE, Who.ADMIN)
# Those who report for a unit (the committee reads, it does not report).
UNIT_ROLES = (Who.OFFICER, Who.HEAD, Who.ADMIN)
EVERYONE = (Who.GUEST, *MEMBERS)
ALL_CHATS = tuple(Where)
GROUPS = (Where.GROUP, Where.COMMITTEE_GROUP)
Access = frozenset[tuple[Who, Where]]


def allow(who: Iterable[Who], where: Iterable[Where]) -> Access:
    """Every pair of these roles and these kinds of chat."""
    chats = tuple(where)
    return frozenset((person, chat) for person in who for chat in chats)


@dataclass(frozen=True)
class Command:
    name: str
    run: Callable[[Ctx], Awaitable[list[Reply]]]
    access: Access
    aliases: tuple[str, ...] = ()
    starts_dialog: bool = False
    # Runs on one unit's data: a person of an allowed role without a unit is told to join one.
    needs_unit: bool = False
    # Shown by /trogiup to those who may run it (False for /start, which greets instead).
    listed: bool = True

    def allows(self, who: Who, where: Where) -> bool:
        return (who, where) in self.access


@dataclass(frozen=True)
class Feature:
    name: str
    commands: tuple[Command, ...] = ()
    dialogs: dict[str, Dialog] = field(default_factory=dict)
