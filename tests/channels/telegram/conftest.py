"""The real Telegram channel (`run`) against the fake Bot API server, and a chat user that types and taps."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.app import App
from bot.channels.telegram.app import TelegramChannel, run
from db import models as m
from tests.fakes.telegram_server import Call, FakeTelegramServer


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as srv:
        yield srv


def configure(app: App, server: FakeTelegramServer, **extra: Any) -> None:
    app.settings = app.settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(server.token),
            "telegram_api_base": server.url,
            "telegram_poll_timeout": 1,
            "shutdown_grace_seconds": 5.0,
            # Real limits are tested on the limiter itself; here they would only make the chats slow.
            "telegram_chat_per_second": 50.0,
            "telegram_group_per_minute": 600.0,
            **extra,
        }
    )


class RunningBot:
    """`run(app)` in a task; `stop()` is what SIGTERM does."""

    def __init__(self, app: App, server: FakeTelegramServer) -> None:
        self.app, self.server = app, server
        self.stop_event = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.channel: TelegramChannel | None = None

    async def _ready(self, channel: TelegramChannel) -> None:
        self.channel = channel

    async def start(self) -> RunningBot:
        self.task = asyncio.create_task(
            run(self.app.settings, self.app.channel_deps(), self.stop_event, on_ready=self._ready)
        )
        await self.server.wait_for(lambda s: s.calls("getMe"))
        return self

    async def stop(self) -> None:
        self.stop_event.set()
        assert self.task is not None
        await asyncio.wait_for(self.task, 30)


@pytest.fixture
async def telegram_bot(app: App, server: FakeTelegramServer) -> AsyncIterator[RunningBot]:
    """The bot in polling mode, running until the test ends."""
    configure(app, server)
    bot = await RunningBot(app, server).start()
    try:
        yield bot
    finally:
        await bot.stop()


async def wait_handled(app: App, update_id: int, timeout: float = 15.0) -> None:  # noqa: ASYNC109
    """Until the inbox row of the update is finished (its replies sent) — or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with app.sessions() as s:
            status = (
                await s.execute(
                    select(m.InboundUpdate.status).where(
                        m.InboundUpdate.channel == "telegram", m.InboundUpdate.external_id == str(update_id)
                    )
                )
            ).scalar_one_or_none()
        if status in ("done", "dead"):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"update {update_id} was not handled")


class ChatUser:
    """A Telegram user in a private chat with the bot."""

    def __init__(self, app: App, server: FakeTelegramServer, user_id: int) -> None:
        self.app, self.server, self.user_id = app, server, user_id

    def _since(self, before: int) -> list[Call]:
        return self.server.sent(self.user_id)[before:]

    async def deliver(self, update: dict[str, Any]) -> list[Call]:
        before = len(self.server.sent(self.user_id))
        update = self.server.enqueue_update(update)
        await wait_handled(self.app, update["update_id"])
        return self._since(before)

    async def send(self, text: str) -> str:
        """Type a message; returns the text of what the bot sent or edited in answer."""
        calls = await self.deliver(self.server.message_update(self.user_id, text))
        return "\n\n".join(c.text for c in calls)

    def keyboard_message(self) -> tuple[int, dict[str, Any]]:
        """The newest message in this chat that still has buttons."""
        found = [
            (mid, msg)
            for (chat, mid), msg in self.server.messages.items()
            if chat == str(self.user_id) and msg.get("reply_markup")
        ]
        assert found, "no message with buttons"
        return max(found, key=lambda x: x[0])

    def button(self, label_part: str) -> tuple[int, str]:
        """(message id, callback data) of the button whose label (or lettered line) contains `label_part`."""
        mid, msg = self.keyboard_message()
        buttons = [b for row in msg["reply_markup"]["inline_keyboard"] for b in row]
        for b in buttons:
            if label_part in b["text"] and "callback_data" in b:
                return mid, b["callback_data"]
        for line in (msg.get("text") or "").splitlines():  # lettered prompts: "A. label" lines, buttons "A"
            match = re.match(r"^([A-J])\. (.*)$", line)
            if match and label_part in match.group(2):
                for b in buttons:
                    if b["text"] == match.group(1):
                        return mid, b["callback_data"]
        raise AssertionError(f"no button {label_part!r} in {msg}")

    async def tap(self, label_part: str) -> str:
        mid, data = self.button(label_part)
        calls = await self.deliver(self.server.callback_update(self.user_id, data, mid))
        return "\n\n".join(c.text for c in calls)
