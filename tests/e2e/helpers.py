"""The whole running bot in-process (`bot.app.serve_app`, what `python -m bot run` runs) against the fake
Telegram and Zalo servers, with users who type and tap."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable
from typing import Any

from pydantic import SecretStr
from sqlalchemy import func, select

from bot.app import App, serve_app
from bot.broadcasts.sender import BroadcastSender
from db import models as m
from tests.fakes.telegram_server import FakeTelegramServer
from tests.fakes.zalo_server import FakeZaloServer, text_update

ZALO_TOKEN = "123:TEST"


def configure(app: App, telegram: FakeTelegramServer | None, zalo: FakeZaloServer | None, **extra: Any) -> None:
    """Point the real channels at the fakes. The platform limits keep their real defaults."""
    update: dict[str, Any] = {"shutdown_grace_seconds": 5.0, **extra}
    if telegram is not None:
        update |= {
            "telegram_bot_token": SecretStr(telegram.token),
            "telegram_api_base": telegram.url,
            "telegram_poll_timeout": 1,
        }
    if zalo is not None:
        update |= {"zalo_bot_token": SecretStr(ZALO_TOKEN), "zalo_api_base": zalo.url, "zalo_poll_timeout": 1}
    app.settings = app.settings.model_copy(update=update)


class RunningBot:
    """`serve_app(app, channels, stop)` in a task, as `python -m bot run` runs it; `stop()` is what SIGTERM does.
    `senders` are the broadcast senders it made (one per start)."""

    def __init__(self, app: App, channels: list[str], notice_seconds: float = 0.2) -> None:
        self.app, self.channels, self.notice_seconds = app, channels, notice_seconds
        self.stop_event = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.senders: list[BroadcastSender] = []

    def _make_sender(self, transports: dict[str, Any]) -> BroadcastSender:
        sender = self.app.broadcast_sender(transports, poll_seconds=0.2)
        self.senders.append(sender)
        return sender

    async def start(self) -> RunningBot:
        self.stop_event = asyncio.Event()
        self.task = asyncio.create_task(
            serve_app(
                self.app,
                self.channels,
                self.stop_event,
                notice_seconds=self.notice_seconds,
                make_sender=self._make_sender,
            )
        )
        started = len(self.senders)
        await until(lambda: len(self.senders) > started or self.task.done())  # type: ignore[union-attr]
        if self.task.done():
            self.task.result()
        return self

    async def stop(self) -> None:
        self.stop_event.set()
        assert self.task is not None
        await asyncio.wait_for(self.task, 30)


async def until(predicate: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def inbox_settled(app: App) -> bool:
    async with app.sessions() as s:
        unfinished = (
            await s.execute(select(func.count()).where(m.InboundUpdate.status.in_(("pending", "handled"))))
        ).scalar_one()
    return int(unfinished) == 0


class TelegramUser:
    """A Telegram user in a private chat; waits for the bot's answers through the inbox."""

    def __init__(self, app: App, server: FakeTelegramServer, user_id: int) -> None:
        self.app, self.server, self.user_id = app, server, user_id

    async def _deliver(self, update: dict[str, Any]) -> str:
        before = len(self.server.sent(self.user_id))
        update = self.server.enqueue_update(update)
        await _handled(self.app, "telegram", str(update["update_id"]))
        return "\n\n".join(c.text for c in self.server.sent(self.user_id)[before:])

    async def send(self, text: str) -> str:
        return await self._deliver(self.server.message_update(self.user_id, text))

    def button(self, label_part: str) -> tuple[int, str]:
        found = [
            (mid, msg)
            for (chat, mid), msg in self.server.messages.items()
            if chat == str(self.user_id) and msg.get("reply_markup")
        ]
        assert found, "no message with buttons"
        mid, msg = max(found, key=lambda x: x[0])
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

    def labels(self) -> list[str]:
        """The lettered options of the newest message with buttons ("A. ..." lines), in order."""
        mid, _data = self.button("")
        text = self.server.messages[(str(self.user_id), mid)].get("text") or ""
        return [m.group(2) for line in text.splitlines() if (m := re.match(r"^([A-J])\. (.*)$", line))]

    async def tap(self, label_part: str) -> str:
        mid, data = self.button(label_part)
        return await self._deliver(self.server.callback_update(self.user_id, data, mid))


class ZaloUser:
    """A Zalo user typing in a private chat (chat id = user id on Zalo)."""

    def __init__(self, app: App, server: FakeZaloServer, chat_id: str) -> None:
        self.app, self.server, self.chat_id = app, server, chat_id

    async def say(self, text: str) -> str:
        before = len(self.server.sent(self.chat_id))
        update = text_update(self.chat_id, text)
        self.server.enqueue(update)
        await _handled(self.app, "zalo", str(update["message"]["message_id"]), suffix=True)
        return "\n\n".join(self.server.texts(self.chat_id)[before:])


async def _handled(app: App, channel: str, key: str, suffix: bool = False, timeout: float = 20.0) -> None:  # noqa: ASYNC109
    """Until the inbox row of the update is finished (its replies sent)."""
    deadline = time.monotonic() + timeout
    column = m.InboundUpdate.external_id
    cond = column.endswith(key) if suffix else column == key
    while time.monotonic() < deadline:
        async with app.sessions() as s:
            status = (
                await s.execute(select(m.InboundUpdate.status).where(m.InboundUpdate.channel == channel, cond))
            ).scalar_one_or_none()
        if status in ("done", "dead"):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{channel} update {key} was not handled")


def option(screen: str, label_part: str) -> str:
    """The number or letter typed for the option containing `label_part` (text channels)."""
    for line in reversed(screen.splitlines()):
        match = re.match(r"^([0-9]+|[A-J])\. (.*)$", line)
        if match and label_part in match.group(2):
            return match.group(1)
    raise AssertionError(f"no option with {label_part!r} in:\n{screen}")


@contextlib.asynccontextmanager
async def running(app: App, channels: list[str], **kw: Any):  # type: ignore[no-untyped-def]
    bot = await RunningBot(app, channels, **kw).start()
    try:
        yield bot
    finally:
        if bot.task is not None and not bot.task.done():
            await bot.stop()


async def give_consent(app: App, user_ids: list[int], by: int | None = None) -> None:
    """The child's own consent in chat and a guardian's paper form, as a school records them."""
    now = app.clock()
    async with app.uow_factory() as uow:
        for uid in user_ids:
            await uow.consents.add(uid, "child", "in_chat", "2026-01", now)
            await uow.consents.add(uid, "guardian", "paper_form", "2026-01", now, recorded_by=by)
        await uow.commit()
