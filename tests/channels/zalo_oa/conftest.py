"""A Zalo OA channel wired to the fake OA server through the real client, webhook and transport."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.app import App
from bot.channels.zalo_oa.app import ZaloOAChannel
from bot.channels.zalo_oa.client import OAClient
from bot.channels.zalo_oa.mapping import event_key, is_echo
from bot.core.sendlimit import LocalSendLimit, Pace
from db import models as m
from tests.fakes.zalo_oa import FakeOAServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeTokens:
    """A test double of the `OATokenSource` port: takes a token from the fake OA (as the real store would
    after the OAuth exchange) and fetches a new one after `expired()`."""

    def __init__(self, fake: FakeOAServer) -> None:
        self.fake = fake
        self.current: str | None = None
        self.expired_calls: list[str] = []

    async def access_token(self) -> str:
        if self.current is None:
            self.current = self.fake.issue_token()
        return self.current

    async def expired(self, token: str) -> None:
        self.expired_calls.append(token)
        if self.current == token:
            self.current = None


def oa_settings(app: App, fake: FakeOAServer, port: int, **extra: Any) -> Any:
    return app.settings.model_copy(
        update={
            "zalo_oa_app_id": fake.app_id,
            "zalo_oa_secret_key": SecretStr(fake.secret),
            "zalo_oa_id": fake.oa_id,
            "zalo_oa_api_base": fake.url,
            "zalo_oa_webhook_port": port,
            "webhook_host": "127.0.0.1",
            **extra,
        }
    )


class OABot:
    """Runs a ZaloOAChannel against the fake; `say()` writes as a user, `tap()` taps a button; both return the
    texts the bot sent back."""

    def __init__(self, app: App, fake: FakeOAServer) -> None:
        self.app, self.fake = app, fake
        self.tokens = FakeTokens(fake)
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.channel: ZaloOAChannel | None = None
        self.keys: set[str] = set()

    async def start(self, **settings: Any) -> OABot:
        port = free_port()
        self.app.settings = oa_settings(self.app, self.fake, port, **settings)
        self.app.oa_tokens = self.tokens
        client = OAClient(self.tokens, self.fake.url)
        limit = LocalSendLimit(Pace(per_second=1000, chat_per_second=1000, chat_burst=1000))
        self.channel = ZaloOAChannel(
            self.app.settings, self.app.channel_deps(), self.tokens, self.app.oa_followers(), client, limit
        )
        self.fake.webhook_url = f"http://127.0.0.1:{port}/zalo-oa/webhook"
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

    async def stored(self) -> int:
        async with self.app.sessions() as s:
            return int((await s.execute(select(func.count()).select_from(m.InboundUpdate))).scalar_one())

    async def settle(self) -> None:
        assert self.channel is not None and self.channel.worker is not None
        while True:
            async with self.app.sessions() as s:
                unfinished = (
                    await s.execute(select(func.count()).where(m.InboundUpdate.status.in_(("pending", "handled"))))
                ).scalar_one()
            if await self.stored() >= len(self.keys) and not unfinished:
                break
            await asyncio.sleep(0.005)
        await asyncio.wait_for(self.channel.worker.idle(), 10)

    async def post(self, event: dict[str, Any], **kwargs: Any) -> int:
        status = await self.fake.post_event(event, **kwargs)
        key = event_key(event)
        if status == 200 and key is not None and not is_echo(event, self.fake.oa_id):
            self.keys.add(key)
        await self.settle()
        return status

    async def say(self, user: str, text: str) -> str:
        before = len(self.fake.messages(user))
        await self.post(self.fake.text_event(user, text))
        return "\n\n".join(self.fake.texts(user)[before:])

    def last_buttons(self, user: str) -> list[dict[str, Any]]:
        for message in reversed(self.fake.messages(user)):
            found = self.fake.buttons(message)
            if found:
                return found
        raise AssertionError(f"no buttons sent to {user}")

    async def tap(self, user: str, label_part: str) -> str:
        """Tap the button whose title contains `label_part`: Zalo sends its payload back as the user's text."""
        for button in self.last_buttons(user):
            if label_part in button["title"]:
                return await self.say(user, button["payload"])
        raise AssertionError(f"no button with {label_part!r} in {self.last_buttons(user)}")


@pytest.fixture
async def oa(clock: Any) -> AsyncIterator[FakeOAServer]:
    async with FakeOAServer(clock=clock) as server:
        yield server


@pytest.fixture
async def oa_bot(app: App, oa: FakeOAServer) -> AsyncIterator[OABot]:
    runner = await OABot(app, oa).start()
    try:
        yield runner
    finally:
        await runner.close()
