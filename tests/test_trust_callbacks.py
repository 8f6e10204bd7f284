"""A client can send any callback data: forged buttons are refused and asked again, never stored.

An officer (or someone replaying Telegram updates) presses buttons no message offered: a 999%
percent, digits Python half accepts ("²"), a task id no database integer holds, ids from another
step, garbage. Each is "that choice is no longer valid" and the same question again: nothing is
stored, the dialog stays where it was, no traceback. Typed answers meet the same range rules.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.web import TELEGRAM_PATH
from handlers.dispatcher import Dispatcher
from handlers.events import Reply
from handlers.options import GRAMMAR, PERCENT, TASK, parse
from handlers.steps import OFFERED
from storage.db import create_engine, session_factory
from storage.models import Conversation, ExtensionRequest, Person, Report, Task
from tests.fake_telegram import FakeTelegram
from tests.plan_factory import NOW, Officer, config, load_plan, make_invite, pdf_file
from tests.test_telegram import (
    USER,
    count_rows,
    press,
    reply_to,
    running_bot,
    text_update,
    webhook_post,
    webhook_server,
)

NOT_VALID = "Lựa chọn này không còn hiệu lực."
SECRET = "s3cret-token-123"
# The issue's forged buttons: a stored 999%, and three crashes.
FROM_THE_ISSUE = ["p:999", "p:²", "t:²", "t:99999999999999999999999"]
MALFORMED = [
    "", " ", "\x00", "p:", "t:", "pg:", "st:", "c:", "p", "t", ":", ":50", "p::50", "x:1", "zz",
    "p:101", "p:-1", "t:-5", "t:0", "p:+5", "p:050", "p:1e2", "p:50.0", "p:0x10", "p:٥٠",
    "p:５０", "t:５", "pg:²", "p: 50", " p:50", "p:50 ", "p:50\n", "p:5\x000", "t:1\x00",
    "t:9223372036854775808", "pg:10001", "pg:99999999999999999999", "t:1" + "0" * 70,
    "c:send" + " " * 60, "a" * 65, "ST:done", "st:DONE", "st:done:x", "skip:1", "files_done:x",
    "lang:fr", "e:nothing", "c:maybe", "Gửi", "c:gửi", "st:dóne",
]  # fmt: skip
# One valid id of every kind: at a step that does not offer its kind, it is another step's.
EVERY_KIND = {
    "t": "t:1", "pg": "pg:1", "p": "p:50", "st": "st:done", "c": "c:send", "e": "e:results",
    "lang": "lang:en", "skip": "skip", "files_done": "files_done",
}  # fmt: skip


@dataclass
class World:
    sessions: async_sessionmaker[AsyncSession]
    data: Path

    async def officer(self, unit: str = "Sở TT&TT", user_id: str = "2001") -> Officer:
        person = Officer(Dispatcher(self.sessions, config(self.data), clock=lambda: NOW), user_id)
        await person.command(f"/start {await make_invite(self.sessions, unit)}")
        return person

    async def state(self) -> tuple[Any, ...]:
        async with self.sessions() as session:
            row = await session.scalar(select(Conversation))
            assert row is not None
            return row.dialog, row.step, row.data

    async def stored(self) -> tuple[int, ...]:
        """What a forged answer must never add to: reports, requests, people's languages."""
        async with self.sessions() as session:
            counts = [
                int(await session.scalar(select(func.count()).select_from(model)) or 0)
                for model in (Report, ExtensionRequest)
            ]
            languages = list(await session.scalars(select(Person.language)))
        return (*counts, languages.count("en"))


@pytest.fixture
async def world(tmp_path: Path, db_url: str) -> AsyncIterator[World]:
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    await load_plan(sessions, tmp_path)
    yield World(sessions, tmp_path / "data")
    await engine.dispose()


# ---- the grammar itself --------------------------------------------------------------------


@pytest.mark.parametrize("raw", FROM_THE_ISSUE + MALFORMED)
def test_a_malformed_id_is_no_choice_of_any_kind(raw: str) -> None:
    assert parse(raw, GRAMMAR.values()) is None


@pytest.mark.parametrize(
    ("raw", "value"),
    [("t:1", 1), ("t:9223372036854775807", 2**63 - 1), ("pg:0", 0), ("pg:10000", 10_000),
     ("p:0", 0), ("p:100", 100), ("st:in_progress", "in_progress"), ("c:cancel", "cancel"),
     ("e:files", "files"), ("lang:vi", "vi"), ("skip", None), ("files_done", None)],
)  # fmt: skip
def test_every_well_formed_id_parses_to_its_typed_value(raw: str, value: object) -> None:
    choice = parse(raw, GRAMMAR.values())
    assert choice is not None and choice.value == value and type(choice.value) is type(value)
    assert parse(raw, [kind for kind in GRAMMAR.values() if kind is not choice.kind]) is None


def test_typed_numbers_meet_the_same_range_as_pressed_ones() -> None:
    assert [PERCENT.typed(text) for text in ("0", "050", "100", "-0")] == [0, 50, 100, 0]
    assert [PERCENT.typed(text) for text in ("101", "-1", "9" * 5000, "５０", "²")] == [None] * 5
    assert TASK.typed("9223372036854775808") is None and TASK.typed("1") == 1
    with pytest.raises(ValueError):
        PERCENT.id(101)  # the bot itself can never offer what it would refuse


# ---- every step, every forged id -----------------------------------------------------------

Reach = Callable[[Officer], Awaitable[object]]


async def _report_to(an: Officer, *answers: str) -> None:
    """/baocao VII.3, then each answer: a label to press, or (after "=") text to type."""
    await an.command("/baocao VII.3")
    for answer in answers:
        await (an.say(answer[1:]) if answer.startswith("=") else an.press(answer))


async def _extension_confirm(an: Officer) -> None:
    await an.command("/giahan VII.3")
    await an.say("31/12/2027")
    await an.say("Chờ bố trí kinh phí")


TO_FILES = ("Đang thực hiện", "=50", "=Đã khảo sát", "Bỏ qua", "Bỏ qua")
STEPS: dict[str, tuple[Reach, set[str]]] = {
    "report task": (lambda an: an.command("/baocao"), {"t", "pg"}),
    "status": (lambda an: _report_to(an), {"st"}),
    "percent": (lambda an: _report_to(an, *TO_FILES[:1]), {"p"}),
    "results": (lambda an: _report_to(an, *TO_FILES[:2]), set()),
    "difficulties": (lambda an: _report_to(an, *TO_FILES[:3]), {"skip"}),
    "proposals": (lambda an: _report_to(an, *TO_FILES[:4]), {"skip"}),
    "files": (lambda an: _report_to(an, *TO_FILES), {"files_done"}),
    "confirm": (lambda an: _report_to(an, *TO_FILES, "Bỏ qua"), {"c"}),
    "edit": (lambda an: _report_to(an, *TO_FILES, "Bỏ qua", "Sửa"), {"e"}),
    "language": (lambda an: an.command("/ngonngu"), {"lang"}),
    "extension task": (lambda an: an.command("/giahan"), {"t", "pg"}),
    "extension date": (lambda an: an.command("/giahan VII.3"), set()),
    "extension confirm": (_extension_confirm, {"c"}),
}


def _same_question(asked: list[Reply], again: list[Reply]) -> bool:
    def shape(reply: Reply) -> tuple[str, list[str]]:
        return reply.text, [option.id for option in reply.options]

    return shape(asked[-1]) == shape(again[-1])


@pytest.mark.parametrize("step", list(STEPS))
async def test_a_forged_button_at_any_step_is_refused_and_asked_again(
    world: World, step: str, caplog: pytest.LogCaptureFixture
) -> None:
    reach, offered = STEPS[step]
    an = await world.officer()
    await reach(an)
    asked, before, stored = an.last, await world.state(), await world.stored()
    assert before[0] and before[2][OFFERED] is not None  # the officer stands at the step
    others = [raw for prefix, raw in EVERY_KIND.items() if prefix not in offered]
    if "c" in offered and step.startswith("extension"):
        others.append("c:edit")  # the report's summary has it, this one does not

    with caplog.at_level(logging.INFO):
        for raw in FROM_THE_ISSUE + MALFORMED + others:
            replies = await an.send(an.event(option_id=raw, message_id="1"))

            assert replies[0].text == NOT_VALID, (raw, replies)
            assert len(replies) == 2 and _same_question(asked, replies), raw
            assert await world.state() == before, raw
            assert await world.stored() == stored, raw
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "refused option" in caplog.text


async def test_a_contribution_cannot_edit_what_it_never_had(world: World) -> None:
    police = await world.officer("Công an TP", "8002")
    await police.command("/baocao VII.3")  # a cooperating unit: results, no status, no percent
    await police.say("Đã kết nối camera")
    await police.press("Bỏ qua")
    await police.press("Bỏ qua")
    await police.press("Bỏ qua")
    await police.press("Sửa")
    before = await world.state()
    for raw in ("e:status", "e:percent"):
        replies = await police.send(police.event(option_id=raw))
        assert replies[0].text == NOT_VALID and await world.state() == before


async def test_after_forged_buttons_the_report_goes_on_as_meant(world: World) -> None:
    an = await world.officer()
    await an.command("/baocao")
    for raw in FROM_THE_ISSUE:
        await an.send(an.event(option_id=raw))
    await an.press("VII.3")
    await an.press("Đang thực hiện")
    for raw in FROM_THE_ISSUE:
        await an.send(an.event(option_id=raw))
    await an.press("50%")
    await an.say("Đã lắp đặt máy chủ")
    await an.press("Bỏ qua")
    await an.press("Bỏ qua")
    await an.upload(pdf_file())
    await an.press("Xong")
    assert "Đã gửi báo cáo số" in await an.press("Gửi")
    async with world.sessions() as session:
        percents = list(await session.scalars(select(Report.percent)))
    assert percents == [50]


async def test_typed_and_pressed_percents_meet_one_rule(world: World) -> None:
    an = await world.officer()
    await _report_to(an, "Đang thực hiện")
    before = await world.state()
    assert "từ 0 đến 100, bạn đã gõ 150" in await an.say("150")
    assert "“p:150” không phải là số" in await an.say("p:150")  # typed, it is only text
    assert (await an.send(an.event(option_id="p:150")))[0].text == NOT_VALID
    assert "bạn đã gõ -1" in await an.say("-1")
    assert "không phải là số" in await an.say("５０")  # fullwidth digits are not typed numbers
    assert "không phải là số" in await an.say("²")
    huge = await an.say("9" * 5000)  # longer than int() reads: refused, not a crash
    assert "Tỷ lệ phải từ 0 đến 100" in huge
    assert await world.state() == before and await world.stored() == (0, 0, 0)
    assert "Kết quả" in await an.say("100")


async def test_numbered_and_worded_answers_still_choose(world: World) -> None:
    an = await world.officer()
    await _report_to(an, "Đang thực hiện", "=50", "=Đã khảo sát")
    assert "Đề xuất" in await an.say("số 1")  # "Bỏ qua" by its number
    assert "Gửi tệp" in await an.say("bo qua")  # and by its words
    await an.say("Xong")
    assert "Bạn muốn sửa" in await an.say("2")


async def test_a_forged_button_with_no_dialog_open_is_a_stale_choice(world: World) -> None:
    an = await world.officer()
    for raw in [*FROM_THE_ISSUE, "", "\x00"]:
        replies = await an.send(an.event(option_id=raw))
        assert [r.text for r in replies] == [
            "Lựa chọn này thuộc một thao tác đã kết thúc. Gõ /trogiup để xem các lệnh."
        ]
    assert await count_rows(world.sessions, Conversation) == 0


# ---- from outside: Telegram's updates, polled and through the webhook -------------------------


async def test_the_issues_forged_buttons_on_telegram_are_refused(
    fake: FakeTelegram, tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running_bot(fake, db_url, tmp_path / "data") as bot:
        await load_plan(bot.sessions, tmp_path)  # type: ignore[arg-type]
        code = await make_invite(bot.sessions, "Sở TT&TT")  # type: ignore[arg-type]
        await fake.push_text(USER, f"/start {code}")
        await fake.push_text(USER, "/baocao")
        tasks = await reply_to(fake, 2)
        sent = 2
        for raw in FROM_THE_ISSUE:  # at "which task?"
            await fake.press(USER, raw, tasks.message_id)
            sent += 2
            refusal, again = (await fake.wait_sent(USER, sent))[-2:]
            assert refusal.text == NOT_VALID and again.buttons == tasks.buttons, raw
        status = await press(fake, tasks, "VII.3", sent + 1)
        percent = await press(fake, status, "Đang thực hiện", sent + 2)
        sent += 2
        for raw in FROM_THE_ISSUE:  # at the percent
            await fake.press(USER, raw, percent.message_id)
            sent += 2
            refusal, again = (await fake.wait_sent(USER, sent))[-2:]
            assert refusal.text == NOT_VALID and again.text == percent.text, raw

        assert await count_rows(bot.sessions, Report) == 0
        async with bot.sessions() as session:  # type: ignore[attr-defined]
            state = await session.scalar(select(Conversation))
            assert state is not None and state.step == "percent" and "percent" not in state.data
        results = await press(fake, percent, "75%", sent + 1)
        assert "Kết quả" in results.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors and "Traceback" not in caplog.text


def _press_update(update_id: int, data: str, message_id: int) -> dict[str, Any]:
    chat = {"id": USER, "type": "private"}
    message = {"message_id": message_id, "date": 1764000000, "chat": chat, "text": "…"}
    sender = {"id": USER, "is_bot": False, "first_name": "An"}
    query = {"id": f"q{update_id}", "from": sender, "chat_instance": "c", "data": data}
    return {"update_id": update_id, "callback_query": {**query, "message": message}}


async def test_forged_buttons_through_the_webhook_are_answered_once_with_a_200(
    fake: FakeTelegram, tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        running_bot(fake, db_url, tmp_path / "data", polling=False) as bot,
        webhook_server(bot, SECRET) as base,
    ):
        await load_plan(bot.sessions, tmp_path)  # type: ignore[arg-type]
        code = await make_invite(bot.sessions, "Sở TT&TT")  # type: ignore[arg-type]
        url = base + TELEGRAM_PATH
        assert await webhook_post(url, text_update(1, f"/start {code}"), SECRET) == 200
        assert await webhook_post(url, text_update(2, "/baocao VII.3"), SECRET) == 200
        status = fake.to(USER)[-1]
        async with bot.sessions() as session:  # type: ignore[attr-defined]
            foreign = await session.scalar(select(Task.id).where(Task.code == "VII.1"))
        forged = [*FROM_THE_ISSUE, f"t:{foreign}", "p:50", "c:send", "a" * 300]

        for number, raw in enumerate(forged, start=10):
            update = _press_update(number, raw, status.message_id)
            # Redelivered, as Telegram does after a 500: each is a 200 and answered once.
            codes = [await webhook_post(url, update, SECRET) for _ in range(2)]
            assert codes == [200, 200], raw

        texts = [sent.text for sent in (await fake.wait_sent(USER, 2 + 2 * len(forged)))[2:]]
        assert texts.count(NOT_VALID) == len(forged) and len(texts) == 2 * len(forged)
        assert await count_rows(bot.sessions, Report) == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
