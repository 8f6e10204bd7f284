"""Two officers of one unit press "Gửi" on an extension request at the same instant: one request
is taken, the other officer is told of it. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from storage.models import ExtensionRequest
from tests.test_contribution import World, world  # noqa: F401 (the fixture)


async def test_two_requests_sent_at_once_leave_one_pending(world: World) -> None:  # noqa: F811
    an = await world.officer("8301", "Sở TT&TT")
    binh = await world.officer("8302", "Sở TT&TT")
    for person, day in ((an, "30/09/2027"), (binh, "31/12/2027")):
        await person.command("/giahan VII.3")
        await person.say(day)
        await person.say("Chờ kinh phí")

    answers = await asyncio.gather(an.press("Gửi"), binh.press("Gửi"))

    assert sum("chờ phê duyệt" in a and "đã có đề nghị" not in a for a in answers) == 1
    assert sum("đã có đề nghị gia hạn" in a for a in answers) == 1
    async with world.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(ExtensionRequest))
    assert count == 1
