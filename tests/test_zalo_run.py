"""`tiendo run` with ZALO_BOT_TOKEN, as an operator starts it: plain words about the bot's
account, a refused token, and the webhook mode on tiendo's own HTTP server."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from tests.fake_zalo import TOKEN, FakeZalo
from tests.test_telegram_crash import start_bot
from tests.test_zalo_journey import USER, cli, env_for, free_port, said

SECRET = "s3cret-for-zalo-hooks"


async def test_run_says_plainly_when_the_bot_cannot_join_groups(
    tmp_path: Path, sqlite_url: str
) -> None:
    fake = FakeZalo(can_join_groups=False)
    await fake.start()
    env = env_for(
        sqlite_url,
        tmp_path,
        ZALO_BOT_TOKEN=TOKEN,
        ZALO_API_BASE_URL=fake.url,
        HTTP_PORT=str(free_port()),
    )
    bot = await start_bot(env)
    try:
        await fake.push_text(USER, "/trogiup")
        assert "/start" in await said(fake, 1)
    finally:
        bot.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(bot.communicate(), 30)
        await fake.stop()
    assert bot.returncode == 0
    assert "không được vào nhóm" in err.decode() and "can_join_groups" in err.decode()
    assert "getUpdates" in fake.calls and TOKEN not in err.decode()


async def test_run_refuses_a_wrong_zalo_token(tmp_path: Path, sqlite_url: str) -> None:
    fake = FakeZalo()
    await fake.start()
    try:
        env = env_for(sqlite_url, tmp_path, ZALO_BOT_TOKEN="123:wrong", ZALO_API_BASE_URL=fake.url)
        code, _, err = await cli(env, "run")
    finally:
        await fake.stop()
    assert code == 1 and "ZALO_BOT_TOKEN không hợp lệ" in err and "Traceback" not in err


async def test_run_serves_zalo_by_webhook(tmp_path: Path, sqlite_url: str) -> None:
    fake = FakeZalo()
    await fake.start()
    port = free_port()
    env = env_for(
        sqlite_url,
        tmp_path,
        ZALO_BOT_TOKEN=TOKEN,
        ZALO_API_BASE_URL=fake.url,
        HTTP_PORT=str(port),
        WEBHOOK_URL=f"http://127.0.0.1:{port}",
        WEBHOOK_SECRET=SECRET,
    )
    bot = await start_bot(env)
    try:
        for _ in range(200):
            if fake.webhook["url"]:
                break
            await asyncio.sleep(0.05)
        assert fake.webhook == {
            "url": f"http://127.0.0.1:{port}/zalo/webhook",
            "secret_token": SECRET,
            "updated_at": fake.webhook["updated_at"],
        }
        await fake.push_text(USER, "/trogiup")  # delivered to the webhook by the platform
        assert "/start" in await said(fake, 1)
        assert fake.deliveries == [(200, "ok")]
        event = fake.text_event(USER, "/trogiup")
        assert (await fake.deliver(fake.webhook["url"], event, secret="not-the-secret"))[0] == 403
        assert "getUpdates" not in fake.calls
    finally:
        bot.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(bot.communicate(), 30)
        await fake.stop()
    assert bot.returncode == 0, err.decode()[-2000:]
    assert SECRET not in err.decode() and TOKEN not in err.decode()
