"""Webhook mode: the secret header is checked first (401, nothing stored), updates are stored before the 200,
redeliveries get one reply, and the bot refuses to start without a strong secret."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.app import App
from bot.channels.telegram.app import run
from bot.channels.telegram.webhook import SECRET_HEADER, WebhookConfigError, make_webhook_app
from db import models as m
from tests.channels.telegram.conftest import RunningBot, configure, wait_handled
from tests.fakes.telegram_server import FakeTelegramServer

SECRET = "s3cr3t-Value_for-the-webhook-0123456789"
HOOK_URL = "https://bot.example.edu.vn/telegram/hook"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def webhook_bot(app: App, server: FakeTelegramServer) -> AsyncIterator[str]:
    """The bot in webhook mode; yields the local URL Telegram would post to."""
    port = free_port()
    configure(
        app,
        server,
        telegram_webhook_url=HOOK_URL,
        telegram_webhook_secret=SecretStr(SECRET),
        webhook_host="127.0.0.1",
        webhook_port=port,
    )
    bot = await RunningBot(app, server).start()
    await server.wait_for(lambda s: s.calls("setWebhook"))
    try:
        yield f"http://127.0.0.1:{port}/telegram/hook"
    finally:
        await bot.stop()


async def post(url: str, body: Any, secret: str | None = SECRET, raw: bytes | None = None) -> int:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with aiohttp.ClientSession() as session:
        if raw is not None:
            headers["Content-Type"] = "application/json"
            async with session.post(url, data=raw, headers=headers) as resp:
                return resp.status
        async with session.post(url, json=body, headers=headers) as resp:
            return resp.status


async def inbox_count(app: App) -> int:
    async with app.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(m.InboundUpdate))).scalar_one())


async def test_the_secret_is_checked_before_anything_is_stored(
    app: App, server: FakeTelegramServer, webhook_bot: str
) -> None:
    hook = server.calls("setWebhook")[0].params
    assert hook["url"] == HOOK_URL and hook["secret_token"] == SECRET
    assert server.token not in hook["url"] and str(hook.get("drop_pending_updates", "false")).lower() != "true"

    update = server.message_update(3001, "/help", update_id=5001)
    assert await post(webhook_bot, update, secret=None) == 401
    assert await post(webhook_bot, update, secret="wrong-" + SECRET[6:]) == 401
    assert await post(webhook_bot, update, secret="") == 401
    assert await inbox_count(app) == 0 and server.sent(3001) == []

    assert await post(webhook_bot, update) == 200
    await wait_handled(app, 5001)
    assert "• 111 –" in server.sent(3001)[0].text


async def test_the_same_update_ten_times_at_once_gets_one_reply(
    app: App, server: FakeTelegramServer, webhook_bot: str
) -> None:
    update = server.message_update(3002, "/help", update_id=5002)
    statuses = await asyncio.gather(*(post(webhook_bot, update) for _ in range(10)))
    assert statuses == [200] * 10
    await wait_handled(app, 5002)
    assert await post(webhook_bot, update) == 200  # a late redelivery too
    await asyncio.sleep(0.3)
    assert await inbox_count(app) == 1 and len(server.sent(3002)) == 1


async def test_bad_bodies_are_refused_without_storing(app: App, server: FakeTelegramServer, webhook_bot: str) -> None:
    assert await post(webhook_bot, None, raw=b"{not json") == 400
    assert await post(webhook_bot, None, raw=b"[1, 2]") == 400
    huge = b'{"update_id": 1, "message": {"text": "' + b"a" * (1024 * 1024) + b'"}}'
    assert await post(webhook_bot, None, raw=huge) == 413
    assert await inbox_count(app) == 0


async def test_a_failed_store_answers_500_so_telegram_retries() -> None:
    async def broken_store(_update_id: int, _payload: dict[str, Any]) -> bool:
        raise ConnectionError("database unavailable")

    runner = web.AppRunner(make_webhook_app(SECRET, broken_store, "/hook"), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        assert await post(f"http://127.0.0.1:{port}/hook", {"update_id": 1}) == 500
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("secret", "url", "message"),
    [
        (None, HOOK_URL, "refuses to start without a secret"),
        ("short", HOOK_URL, "32-256 characters"),
        (SECRET, "https://bot.example.edu.vn/123456:TEST", "must not appear"),
    ],
)
async def test_webhook_mode_refuses_to_start_without_a_strong_secret(
    app: App, server: FakeTelegramServer, secret: str | None, url: str, message: str
) -> None:
    configure(app, server, telegram_webhook_url=url, telegram_webhook_secret=SecretStr(secret) if secret else None)
    with pytest.raises(WebhookConfigError, match=message):
        await run(app.settings, app.channel_deps(), asyncio.Event())
    assert server.calls() == []  # not even getMe: nothing happens without the secret
