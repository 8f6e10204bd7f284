"""On Zalo every refusal of the officer's journey reads as on Telegram: a clear reason, then the
question again, nothing stored; groups, stickers and strangers are answered as they should be."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.models import ChannelIdentity, EvidenceFile, Report
from tests.fake_zalo import with_shape
from tests.plan_factory import PDF, load_plan, make_invite
from tests.test_zalo_journey import USER, count_rows, fake_zalo, join, number_of, running_zalo, said

GROUP = "f00dcafe0000000000aa"


async def test_refusals_of_the_report_dialog_on_zalo(tmp_path: Path, db_url: str) -> None:
    async with fake_zalo() as fake, running_zalo(fake, db_url, tmp_path / "data") as bot:
        await join(bot, tmp_path)
        sent = 1

        async def answer(text: str, expect: int = 1) -> str:
            nonlocal sent
            await fake.push_text(USER, text)
            sent += expect
            return "\n".join(s.text for s in (await fake.wait_sent(USER, sent))[-expect:])

        unknown = await answer("/baocao XX.99", 2)  # the reason, then the list of tasks
        assert "Không tìm thấy nhiệm vụ “XX.99”" in unknown and "Trả lời 1, 2" in unknown
        foreign = await answer("VII.1", 2)  # another unit's task, typed at the choice
        assert "VII.1" in foreign and "Trả lời 1, 2" in foreign
        tasks = await answer("9", 2)  # there is no option 9: asked again
        assert "Không tìm thấy nhiệm vụ “9”" in tasks and "Trả lời 1, 2, 3 hoặc 4" in tasks
        status = await answer(number_of(tasks, "VII.3"))
        assert "Tình trạng" in status
        again = await answer("hôm nay trời đẹp", 2)
        assert "Chưa rõ tình trạng" in again and "Trả lời 1, 2, 3, 4 hoặc 5" in again
        await answer(number_of(status, "Đang thực hiện"))
        assert "Tỷ lệ phải từ 0 đến 100, bạn đã gõ 150" in await answer("150", 2)
        assert "không phải là số" in await answer("nhiều", 2)
        assert "số nguyên" in await answer("12,5", 2)
        await answer("40")
        await answer("Đã\x00 khảo\x07 sát")  # control characters are dropped at the edge
        await answer("Bỏ qua")
        await answer("Bỏ qua")
        await fake.push_document(USER, "virus.exe", b"MZ\x90", "application/octet-stream")
        sent += 2
        refused = "\n".join(s.text for s in (await fake.wait_sent(USER, sent))[-2:])
        assert "Không nhận tệp “virus.exe”" in refused
        url = fake.host(PDF, "application/pdf", "pdf")
        fake.expire(url)
        await fake.push(fake.document_event(USER, url, "mat.pdf", "application/pdf", len(PDF)))
        sent += 2
        gone = "\n".join(s.text for s in (await fake.wait_sent(USER, sent))[-2:])
        assert "Không tải được tệp “mat.pdf”" in gone
        await fake.push_sticker(USER)
        sent += 1
        assert "chưa được hỗ trợ" in (await fake.wait_sent(USER, sent))[-1].text
        await fake.push_document(USER, "bien_ban.pdf", PDF)
        sent += 1
        assert "Đã nhận 1 tệp: bien_ban.pdf" in (await fake.wait_sent(USER, sent))[-1].text
        summary = await answer("Xong")
        assert "Đã gửi báo cáo" in await answer(number_of(summary, "Gửi"))

        async with bot.sessions() as session:
            reports = (await session.scalars(select(Report))).all()
            names = (await session.scalars(select(EvidenceFile.file_name))).all()
        assert [(r.percent, r.status, r.results) for r in reports] == [
            (40, "in_progress", "Đã khảo sát")
        ]
        assert names == ["bien_ban.pdf"]


async def test_strangers_wrong_codes_and_groups_on_zalo(tmp_path: Path, sqlite_url: str) -> None:
    async with fake_zalo() as fake, running_zalo(fake, sqlite_url, tmp_path / "data") as bot:
        await load_plan(bot.sessions, tmp_path)
        await fake.push_text(USER, "xin chào")
        assert "Bạn chưa đăng ký" in await said(fake, 1)
        await fake.push_text(USER, "/nhiemvu")
        assert "Bạn chưa đăng ký" in await said(fake, 2)
        await fake.push_text(USER, "ABCDEFGH")  # a code alone, but a wrong one
        assert "Mã mời không đúng" in await said(fake, 3)
        invite = await make_invite(bot.sessions, "Sở TT&TT")
        await fake.push_text(USER, invite.lower(), group=GROUP)  # a code shown in a group
        assert "chỉ dùng trong cuộc trò chuyện riêng" in await said(fake, 1, GROUP)
        await fake.push_text(USER, invite)  # the code alone, as a first message
        assert "Sở Thông tin và Truyền thông" in await said(fake, 4)

        await fake.push_text(USER, "/nhiemvu", group=GROUP)
        assert "chỉ dùng trong cuộc trò chuyện riêng" in await said(fake, 2, GROUP)
        await fake.push_text(USER, "/baocao VII.3", group=GROUP)
        assert "chỉ dùng trong cuộc trò chuyện riêng" in await said(fake, 3, GROUP)
        await fake.push_text(USER, "chào cả nhà", group=GROUP)  # the group's own talk
        await fake.push_sticker(USER, group=GROUP)
        await fake.push_text(USER, "/trogiup", group=GROUP)  # a command still answered
        help_in_group = await said(fake, 4, GROUP)  # with what may be asked in a group
        assert "/trogiup" in help_in_group and "/baocao" not in help_in_group
        assert len(fake.to(GROUP)) == 4  # nothing said to the talk or the sticker
        assert not any("VII.3 ·" in s.text for s in fake.to(GROUP))

        # No event_name, the sender's name as first_name, ids as numbers: still understood.
        shape = with_shape(fake, event_name=False, name_field="first_name", numeric_ids=True)
        await fake.push(fake.text_event("778899", "/trogiup", shape=shape, name="Lê Thị B"))
        assert "/start" in await said(fake, 1, "778899")
        await fake.push_unsupported(USER)
        assert "chưa được hỗ trợ" in await said(fake, 5)
        async with bot.sessions() as session:
            identities = (await session.scalars(select(ChannelIdentity))).all()
        assert [(i.channel, i.external_id, i.chat_id) for i in identities] == [("zalo", USER, USER)]
        assert await count_rows(bot.sessions, Report) == 0
