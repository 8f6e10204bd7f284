"""The role table is the one place that decides: whatever command is registered, everyone whose
role the table does not allow it, in a kind of chat it does not allow, is refused (with the
way to the private chat when their role may use it there) and the refusal is audited; /trogiup
lists exactly what the table allows; a revoked person is refused everything; `tiendo roles`
prints the same table.

The tests walk handlers.roles.TABLE, so the commands other features add are covered as soon as
they are registered: every one at the handler level, and a representative set of people and
chats through the fake Telegram and Zalo servers.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers import registry  # noqa: F401  (importing it fills the role table)
from handlers.dispatcher import Dispatcher
from handlers.events import Incoming
from handlers.feature import Command, Where, Who
from handlers.i18n import catalog, t
from handlers.roles import TABLE
from storage.db import create_engine, session_factory
from storage.models import AuditLog, BoundChat, Conversation, Person
from storage.repositories import people
from tests.plan_factory import NOW, config, load_plan, make_invite
from tests.test_committee import MESSENGERS, Running, join

REFUSED = "command.refused"
# Who sends, by their messenger id; where, by the chat's id (a private chat's is the sender's).
SENDERS = {
    Who.GUEST: "9000",
    Who.OFFICER: "1001",
    Who.HEAD: "1002",
    Who.COMMITTEE: "1003",
    Who.ADMIN: "7000",
}
GROUP_CHATS = {Where.GROUP: "-100500", Where.COMMITTEE_GROUP: "-100600"}
_updates = itertools.count(1)


def refused_pairs(command: Command) -> list[tuple[Who, Where]]:
    """Every (role, kind of chat) the table does not allow `command` to."""
    return [(who, where) for who in Who for where in Where if not command.allows(who, where)]


def expected_refusal(command: Command, who: Who, where: Where) -> str:
    """In a group, a command the role may send privately points there; otherwise, a no."""
    if where != Where.PRIVATE and command.allows(who, Where.PRIVATE):
        return t("vi", "private_chat_only", command=command.name)
    return t("vi", "permission_denied")


@dataclass
class Office:
    """Everyone of every role, talking to the dispatcher in their private chat or a group."""

    dispatcher: Dispatcher
    sessions: async_sessionmaker[AsyncSession]
    channel: str

    async def send(self, who: Who, where: Where, text: str) -> str:
        sender = SENDERS[who]
        command = text.lstrip("/").split()
        event = Incoming(
            channel=self.channel,
            chat_id=sender if where == Where.PRIVATE else GROUP_CHATS[where],
            sender_id=sender,
            sender_name=f"Người {who.value}",
            received_at=NOW,
            chat_type="private" if where == Where.PRIVATE else "group",
            text=text,
            command=command[0] if text.startswith("/") else None,
            args=tuple(command[1:]) if text.startswith("/") else (),
            update_key=f"u{next(_updates)}",
        )
        handled = await self.dispatcher.handle(event)
        return "\n".join(reply.text for reply in handled.replies)


@asynccontextmanager
async def office(folder: Path, url: str, channel: str = "telegram") -> AsyncIterator[Office]:
    """The small plan; an officer, a head and a committee member of Sở TT&TT who joined with
    invites; an admin from ADMINS; the committee group bound by that admin."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    await load_plan(sessions, folder)
    admins = frozenset({(channel, SENDERS[Who.ADMIN])})
    dispatcher = Dispatcher(sessions, config(folder / "data", admins), clock=lambda: NOW)
    staff = Office(dispatcher, sessions, channel)
    for who in (Who.OFFICER, Who.HEAD, Who.COMMITTEE):
        code = await make_invite(sessions, "Sở TT&TT", who.value)
        assert "Chào" in await staff.send(who, Where.PRIVATE, f"/start {code}")
    assert "Đã gắn nhóm này" in await staff.send(Who.ADMIN, Where.COMMITTEE_GROUP, "/ganhom")
    try:
        yield staff
    finally:
        await engine.dispose()


async def last_entry(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, AuditLog | None]:
    async with sessions() as session:
        total = await session.scalar(select(func.count()).select_from(AuditLog))
        last = await session.scalar(select(AuditLog).order_by(AuditLog.id.desc()).limit(1))
    return int(total or 0), last


def check_refusal_entry(entry: AuditLog | None, command: Command, who: Who, where: Where) -> str:
    """What is wrong with the audit entry of this refusal ("" when nothing)."""
    if entry is None or entry.action != REFUSED or entry.entity_id != command.name:
        return f"no {REFUSED} entry for /{command.name}"
    if (entry.details.get("role"), entry.details.get("chat")) != (who.value, where.value):
        return f"entry names {entry.details}"
    return ""


async def test_every_command_is_refused_wherever_the_table_says_no(
    tmp_path: Path, sqlite_url: str
) -> None:
    commands = list(TABLE)
    assert {"tinhhinh", "ganhom", "gohom", "baocao", "trogiup"} <= {c.name for c in commands}
    problems: list[str] = []
    async with office(tmp_path, sqlite_url) as staff:
        for command in commands:
            pairs = refused_pairs(command)
            # Every pair by the command's name, and each alias once, by the first pair refused.
            sends = [(f"/{command.name}", *pair) for pair in pairs]
            sends += [(f"/{alias}", *pairs[0]) for alias in command.aliases if pairs]
            for typed, who, where in sends:
                entries, _ = await last_entry(staff.sessions)
                answer = await staff.send(who, where, typed)
                count, entry = await last_entry(staff.sessions)
                case = f"{typed} by {who.value} in {where.value}"
                if expected_refusal(command, who, where) not in answer:
                    problems.append(f"{case}: answered {answer[:80]!r}")
                if count != entries + 1:
                    problems.append(f"{case}: {count - entries} audit entries written")
                elif wrong := check_refusal_entry(entry, command, who, where):
                    problems.append(f"{case}: {wrong}")
        async with staff.sessions() as session:
            opened = await session.scalar(
                select(func.count()).where(Conversation.dialog.is_not(None))
            )
            bound = (await session.scalars(select(BoundChat.chat_id))).all()
    assert problems == []
    assert opened == 0  # no refused command started anything
    assert bound == [GROUP_CHATS[Where.COMMITTEE_GROUP]]  # a refused /ganhom bound nothing


async def test_help_lists_exactly_what_the_table_allows(tmp_path: Path, sqlite_url: str) -> None:
    vi = catalog("vi")
    has_unit = {Who.GUEST: False, Who.ADMIN: False}  # the admin of ADMINS has no unit
    async with office(tmp_path, sqlite_url) as staff:
        for who, where in itertools.product(Who, Where):
            shown = set((await staff.send(who, where, "/trogiup")).splitlines())
            if who == Who.GUEST and where == Where.PRIVATE:
                assert shown == {vi["help_newcomer"]}
                continue
            allowed = {
                vi[f"help_{command.name}"]
                for command in TABLE
                if command.listed
                and command.allows(who, where)
                and (has_unit.get(who, True) or not command.needs_unit)
            }
            assert shown == {vi["help_title"], *allowed}, (who, where)
    for command in TABLE:
        if command.listed:
            assert all(f"help_{command.name}" in catalog(lang) for lang in ("vi", "en"))


async def test_a_revoked_person_is_refused_and_audited(tmp_path: Path, sqlite_url: str) -> None:
    async with office(tmp_path, sqlite_url) as staff:
        assert "VII.3" in await staff.send(Who.OFFICER, Where.PRIVATE, "/nhiemvu")
        async with staff.sessions() as session:
            officer = await people.find_by_identity(session, "telegram", SENDERS[Who.OFFICER])
            assert officer is not None
            officer.revoked_at = NOW
            await session.commit()
        revoked = t("vi", "access_revoked")
        assert await staff.send(Who.OFFICER, Where.PRIVATE, "/nhiemvu") == revoked
        assert await staff.send(Who.OFFICER, Where.PRIVATE, "/trogiup") == revoked
        assert await staff.send(Who.OFFICER, Where.COMMITTEE_GROUP, "/tinhhinh") == revoked
        assert await staff.send(Who.OFFICER, Where.COMMITTEE_GROUP, "Chào cả nhà") == ""
        async with staff.sessions() as session:
            entries = (
                await session.scalars(select(AuditLog).where(AuditLog.action == REFUSED))
            ).all()
            kept = await session.get(Person, officer.id)
    assert [(e.entity_id, e.details["reason"]) for e in entries] == [
        ("nhiemvu", "revoked"),
        ("trogiup", "revoked"),
        ("tinhhinh", "revoked"),
    ]
    assert all(e.actor.startswith(f"person:{officer.id} ") for e in entries)
    assert kept is not None and kept.revoked_at is not None  # refused, not deleted


# Through the real messengers: people in the chats the fake servers know (test_committee.py).
ON_MESSENGERS = (
    ("officer", Who.OFFICER, None),
    ("officer", Who.OFFICER, "other_group"),
    ("guest", Who.GUEST, "other_group"),
    ("head", Who.HEAD, "group"),
)
KIND = {None: Where.PRIVATE, "other_group": Where.GROUP, "group": Where.COMMITTEE_GROUP}


@pytest.mark.parametrize("messenger", sorted(MESSENGERS))
async def test_refusals_through_both_messengers(
    tmp_path: Path, sqlite_url: str, messenger: str
) -> None:
    async with MESSENGERS[messenger](sqlite_url, tmp_path / "data") as bot:
        await load_plan(bot.sessions, tmp_path)
        await join(bot, "officer")
        await join(bot, "head", role="head")
        assert "Đã gắn" in await bot.users.ask("admin", "/ganhom", in_group="group")
        sent = await refuse_all(bot)
        async with bot.sessions() as session:
            entries = (
                await session.scalars(select(AuditLog).where(AuditLog.action == REFUSED))
            ).all()
            bound = (await session.scalars(select(BoundChat.chat_id))).all()
    assert [(e.entity_id, e.details["channel"]) for e in entries] == [
        (name, messenger) for name in sent
    ]
    assert bound == [bot.users.ids["group"]]  # /ganhom refused in the other group: not bound
    assert "ganhom" in sent


async def refuse_all(bot: Running) -> list[str]:
    """Each person of ON_MESSENGERS sends every command the table refuses them in their chat;
    the names sent, in order."""
    sent: list[str] = []
    for person, who, chat in ON_MESSENGERS:
        where = KIND[chat]
        for command in TABLE:
            if command.allows(who, where):
                continue
            answer = await bot.users.ask(person, f"/{command.name}", in_group=chat)
            assert expected_refusal(command, who, where) in answer, (command.name, person, chat)
            sent.append(command.name)
    return sent


def test_the_operator_reads_the_same_table(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("roles")

    assert result.code == 0, result.err
    blocks = {}
    for block in result.out.split("\n\n")[1:]:  # after the heading, a block per command
        head, *lines = block.splitlines()
        blocks[head.split()[0]] = (head, lines)
    assert set(blocks) == {f"/{command.name}" for command in TABLE}
    chats = {where: t("vi", f"cli_roles_where_{where.value}") for where in Where}
    for command in TABLE:
        head, lines = blocks[f"/{command.name}"]
        assert all(f"/{alias}" in head for alias in command.aliases)
        for who, line in zip(Who, lines, strict=True):
            allowed = [chats[where] for where in Where if command.allows(who, where)]
            assert line.split(": ", 1)[1] == (", ".join(allowed) or t("vi", "cli_roles_nowhere"))


async def test_a_groups_own_talk_is_left_alone(tmp_path: Path, sqlite_url: str) -> None:
    """Guests chat in the committee group; a lone word that looks like a code but is none
    ("Camon123") gets no answer, while a real invite code shown there gets a warning."""
    async with office(tmp_path, sqlite_url) as staff:
        for where in (Where.GROUP, Where.COMMITTEE_GROUP):
            assert await staff.send(Who.GUEST, where, "Camon123") == ""
            assert await staff.send(Who.OFFICER, where, "dongy") == ""
        code = await make_invite(staff.sessions, "Sở TT&TT", "officer")
        shown = await staff.send(Who.GUEST, Where.COMMITTEE_GROUP, code.lower())
        assert "chỉ dùng trong cuộc trò chuyện riêng" in shown
