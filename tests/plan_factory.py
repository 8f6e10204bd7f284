"""A small real plan in a real database, and a person-shaped driver for the dispatcher."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.dispatcher import Dispatcher, HandlerConfig
from handlers.events import Incoming, IncomingFile, Reply
from storage.importer import import_plan
from storage.models import Unit
from storage.repositories import invites
from storage.samples.builder import AppendixGroup, AppendixTask, Layout, write_appendix
from storage.units import find_unit

T = AppendixTask
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 09:00 in Hai Phong
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
_updates = itertools.count(1)


def small_plan() -> list[AppendixGroup]:
    return [
        AppendixGroup(
            "I",
            "Công tác tuyên truyền, nâng cao nhận thức",
            [
                T(1, "Tuyên truyền chuyển đổi số", "Sở TT&TT", "Báo Hải Phòng", "Quý IV/2027"),
                T(2, "Hội nghị chuyên đề", "Sở Nội vụ", "Sở TT&TT", "Thường xuyên"),
                T(3, "Tài liệu tuyên truyền", "Sở TT&TT", "", "Tháng 6/2022"),
            ],
        ),
        AppendixGroup(
            "VII",
            "Phát triển chính quyền số",
            [
                T(1, "Dịch vụ công trực tuyến", "VP UBND TP", "", "Quý IV/2022"),
                T(3, "Trung tâm điều hành thông minh", "Sở TT&TT", "Công an TP", "30/6/2027"),
                T(4, "Số hóa hồ sơ một cửa", "UBND các quận, huyện", "", "Năm 2027"),
            ],
        ),
    ]


async def load_plan(
    sessions: async_sessionmaker[AsyncSession],
    folder: Path,
    groups: list[AppendixGroup] | None = None,
    plan: str | None = None,
    titles: tuple[str, ...] | None = None,
) -> None:
    """Import `groups` (the small plan by default) as an appendix, into the plan named `plan`
    (or as the importer decides without it), the title rows `titles` above the table."""
    layout = Layout(titles=titles) if titles else None
    name = f"{plan or 'plan'}.xlsx".replace(" ", "_")
    path = write_appendix(folder / name, groups or small_plan(), layout)
    await import_plan(sessions, path, plan_name=plan)


async def make_invite(
    sessions: async_sessionmaker[AsyncSession],
    unit_name: str,
    role: str = "officer",
    uses: int = 1,
    expires: timedelta | None = timedelta(days=7),
) -> str:
    async with sessions() as session:
        unit = await find_unit(session, unit_name)
        assert unit is not None, unit_name
        invite = await invites.create(
            session,
            unit_id=unit.id,
            role=role,
            max_uses=uses,
            expires_at=NOW + expires if expires else None,
            now=NOW,
        )
        await session.commit()
        return invite.code


async def unit_id(sessions: async_sessionmaker[AsyncSession], name: str) -> int:
    async with sessions() as session:
        unit = await session.scalar(select(Unit).where(Unit.name == name))
        assert unit is not None
        return unit.id


def config(data_dir: Path, admins: frozenset[tuple[str, str]] = frozenset()) -> HandlerConfig:
    return HandlerConfig(data_dir=data_dir, tz=TZ, default_language="vi", admins=admins)


def pdf_file(
    name: str = "bao_cao.pdf", content: bytes = PDF, size: int | None = None
) -> IncomingFile:
    async def read() -> bytes:
        return content

    return IncomingFile(name, "application/pdf", len(content) if size is None else size, read)


@dataclass
class Officer:
    """Talks to the dispatcher as one person in one private chat would."""

    dispatcher: Dispatcher
    user_id: str
    name: str = "Nguyễn Văn An"
    channel: str = "telegram"
    last: list[Reply] = field(default_factory=list)

    def event(self, **kwargs: Any) -> Incoming:
        return Incoming(
            channel=self.channel,
            chat_id=self.user_id,
            sender_id=self.user_id,
            sender_name=self.name,
            received_at=NOW,
            update_key=str(next(_updates)),
            **kwargs,
        )

    async def send(self, event: Incoming) -> list[Reply]:
        handled = await self.dispatcher.handle(event)
        self.last = handled.replies
        return handled.replies

    async def command(self, text: str) -> str:
        name, *args = text.lstrip("/").split()
        return self.text_of(await self.send(self.event(command=name, args=tuple(args), text=text)))

    async def say(self, text: str) -> str:
        return self.text_of(await self.send(self.event(text=text)))

    async def press(self, label_start: str) -> str:
        option = self.option(label_start)
        return self.text_of(await self.send(self.event(option_id=option.id, message_id="1")))

    async def upload(self, *files: IncomingFile) -> str:
        return self.text_of(await self.send(self.event(files=files)))

    def option(self, label_start: str):  # type: ignore[no-untyped-def]
        for reply in reversed(self.last):
            for option in reply.options:
                if option.label.startswith(label_start):
                    return option
        raise AssertionError(f"no option {label_start!r} in {self.labels()}")

    def labels(self) -> list[str]:
        return [o.label for reply in self.last for o in reply.options]

    @staticmethod
    def text_of(replies: list[Reply]) -> str:
        return "\n".join(reply.text for reply in replies)


def district_plan() -> list[AppendixGroup]:
    """A district's plan: its own phòng, xã and local bodies, each written as offices do,
    some of them in two spellings (full and abbreviated, "và" or a dash)."""
    return [
        AppendixGroup(
            "I",
            "Công tác tuyên truyền, nâng cao nhận thức",
            [
                T(
                    1,
                    "Tuyên truyền chuyển đổi số trên hệ thống truyền thanh cơ sở",
                    "Phòng Văn hoá - Thông tin",
                    "Trung tâm Văn hoá, Thông tin và Thể thao huyện; UBND các xã, thị trấn",
                    "Quý IV/2027",
                ),
                T(
                    2,
                    "Bồi dưỡng kỹ năng số cho cán bộ, công chức",
                    "Phòng Văn hóa và Thông tin",
                    "Phòng Nội vụ, Phòng Giáo dục và Đào tạo",
                    "Hằng năm",
                ),
                T(
                    3,
                    "Hội nghị triển khai kế hoạch",
                    "Văn phòng HĐND và UBND huyện",
                    "Phòng TN&MT",
                    "Tháng 6/2027",
                ),
            ],
        ),
        AppendixGroup(
            "II",
            "Phát triển chính quyền số",
            [
                T(
                    1,
                    "Vận hành hệ thống quản lý văn bản và điều hành",
                    "VP HĐND-UBND huyện",
                    "Phòng Tài chính - Kế hoạch, Phòng Tài nguyên và Môi trường",
                    "Thường xuyên",
                ),
                T(
                    2,
                    "Số hoá hồ sơ đất đai",
                    "Phòng Tài nguyên và Môi trường",
                    "UBND xã An Thái, UBND xã An Thắng",
                    "Năm 2027",
                ),
                T(
                    3,
                    "Bố trí kinh phí chuyển đổi số",
                    "Phòng Tài chính - Kế hoạch",
                    "Sở TT&TT; Phòng Lao động - Thương binh và Xã hội",
                    "Năm 2027",
                ),
                T(
                    4,
                    "Bảo đảm an toàn thông tin",
                    "Công an huyện",
                    "Các phòng, ban chuyên môn",
                    "Thường xuyên",
                ),
                T(
                    5,
                    "Điểm phục vụ dịch vụ công trực tuyến tại xã",
                    "UBND xã An Thái",
                    "Trung tâm VH-TT&TT huyện",
                    "Quý II/2027",
                ),
            ],
        ),
    ]
