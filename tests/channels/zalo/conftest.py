"""A Zalo bot wired to the fake Zalo server through the real client, in polling or webhook mode."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.app import App
from bot.channels.zalo.app import ZaloChannel
from bot.channels.zalo.client import ZaloClient
from bot.channels.zalo.mapping import external_id, is_self_echo, unwrap
from bot.channels.zalo.transport import RateLimiter
from db import models as m
from tests.fakes.zalo_server import FakeZaloServer, text_update

TOKEN = "123:TEST"
SECRET = "s3cret-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def option(screen: str, label_part: str) -> str:
    """The number or letter shown in front of the option containing `label_part`."""
    for line in reversed(screen.splitlines()):
        match = re.match(r"^([0-9]+|[A-J])\. (.*)$", line)
        if match and label_part in match.group(2):
            return match.group(1)
    raise AssertionError(f"no option with {label_part!r} in:\n{screen}")


class ZaloBot:
    """Runs a ZaloChannel against the fake server; `say()` types as a user and returns what the bot answered."""

    def __init__(self, app: App, fake: FakeZaloServer, webhook: bool = False) -> None:
        self.app, self.fake, self.webhook = app, fake, webhook
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.channel: ZaloChannel | None = None
        self.sleeps: list[float] = []
        self.keys: set[str] = set()  # the updates sent that the bot must store and answer

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    async def start(self, **settings: Any) -> ZaloBot:
        update = {
            "zalo_bot_token": SecretStr(TOKEN),
            "zalo_api_base": self.fake.url,
            "zalo_poll_timeout": 30,
            "zalo_webhook_port": free_port(),
            "webhook_host": "127.0.0.1",
            **settings,
        }
        if self.webhook:
            update["zalo_webhook_url"] = f"http://127.0.0.1:{update['zalo_webhook_port']}/zalo/webhook"
            update["zalo_webhook_secret"] = SecretStr(SECRET)
        self.app.settings = self.app.settings.model_copy(update=update)
        client = ZaloClient(TOKEN, self.fake.url, sleep=self._sleep, backoff_base=0.5)
        self.channel = ZaloChannel(self.app.settings, self.app.channel_deps(), client, RateLimiter(1000, 1000, 1000))
        self.task = asyncio.create_task(self.channel.run(self.stop))
        ready = asyncio.create_task(self.channel.ready.wait())
        await asyncio.wait({ready, self.task}, return_when=asyncio.FIRST_COMPLETED)
        if self.task.done():
            ready.cancel()
            self.task.result()
        return self

    async def close(self) -> None:
        self.stop.set()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self.task, 10)

    async def settle(self) -> None:
        """Wait until every update sent so far is stored and handled, and its replies sent (the inbox says)."""
        assert self.channel is not None and self.channel.worker is not None
        while True:
            stored, unfinished = await self._inbox_counts()
            if stored >= len(self.keys) and not unfinished:
                break
            await asyncio.sleep(0.005)
        await asyncio.wait_for(self.channel.worker.idle(), 10)

    async def _inbox_counts(self) -> tuple[int, int]:
        async with self.app.sessions() as s:
            stored = (await s.execute(select(func.count()).select_from(m.InboundUpdate))).scalar_one()
            unfinished = (
                await s.execute(select(func.count()).where(m.InboundUpdate.status.in_(("pending", "handled"))))
            ).scalar_one()
            return int(stored), int(unfinished)

    async def send(self, update: dict[str, Any]) -> int | None:
        key = external_id(unwrap(update)[0])
        if key is not None and not is_self_echo(unwrap(update)[0], self.fake.bot_id):
            self.keys.add(key)
        if self.webhook:
            status = await self.fake.post_webhook(update)
            await self.settle()
            return status
        self.fake.enqueue(update)
        await self.settle()
        return None

    async def say(self, chat_id: str, text: str, message_id: str | None = None) -> str:
        before = len(self.fake.sent(chat_id))
        await self.send(text_update(chat_id, text, message_id=message_id))
        return "\n\n".join(self.fake.texts(chat_id)[before:])


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZaloServer]:
    async with FakeZaloServer(token=TOKEN, idle_timeout=0.02) as server:
        yield server


@pytest.fixture
async def bot(app: App, zalo: FakeZaloServer) -> AsyncIterator[ZaloBot]:
    runner = await ZaloBot(app, zalo).start()
    try:
        yield runner
    finally:
        await runner.close()


@pytest.fixture
async def webhook_bot(app: App, zalo: FakeZaloServer) -> AsyncIterator[ZaloBot]:
    runner = await ZaloBot(app, zalo, webhook=True).start()
    try:
        yield runner
    finally:
        await runner.close()
