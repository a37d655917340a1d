"""The OA channel with the REAL token store, as `python -m bot run --channel zalo_oa` wires it (`channel_runs`,
`App.oa_token_source()`): the fake OA accepts exactly the access tokens the fake OAuth server issued and still
valid. A stored pair answers a student; a token the OA refuses is refreshed once and the new pair is stored
encrypted; while the OAuth server does not answer, the reply is retried, not lost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select, text

from bot.accounts.seed import seed_demo
from bot.app import App, channel_runs
from bot.channels.zalo_oa.app import ZaloOAChannel
from bot.runtime.oa_grants import TokenPair
from bot.runtime.oa_token_store import OATokenStore
from db import models as m
from tests.channels.zalo_oa.conftest import OABot, free_port, oa_settings
from tests.conftest import FakeClock
from tests.fakes.zalo_oa import FakeOAServer
from tests.fakes.zalo_oauth import FakeZaloOAuth
from tests.runtime.oa_kit import KEY


class RealTokensBot(OABot):
    """OABot through the running bot's own wiring: no token source of the test's (`app.oa_tokens` stays None)."""

    def __init__(self, app: App, fake: FakeOAServer, oauth: FakeZaloOAuth) -> None:
        super().__init__(app, fake)
        self.oauth = oauth
        self.run_task: asyncio.Task[None] | None = None

    async def start(self, **settings: Any) -> RealTokensBot:
        port = free_port()
        self.app.settings = oa_settings(
            self.app,
            self.fake,
            port,
            zalo_oa_app_secret=SecretStr(self.oauth.secret),
            zalo_oa_oauth_base=self.oauth.url,
            zalo_oa_token_key=SecretStr(KEY),
            **settings,
        )
        assert self.app.oa_tokens is None
        self.fake.webhook_url = f"http://127.0.0.1:{port}/zalo-oa/webhook"
        found: asyncio.Future[ZaloOAChannel] = asyncio.get_running_loop().create_future()

        async def on_ready(channel: ZaloOAChannel) -> None:
            found.set_result(channel)

        self.task = asyncio.create_task(channel_runs(self.app, ["zalo_oa"])["zalo_oa"](self.stop, on_ready))
        await asyncio.wait({found, self.task}, return_when=asyncio.FIRST_COMPLETED)
        if self.task.done():
            self.task.result()
        self.channel = found.result()
        await asyncio.wait_for(self.channel.ready.wait(), 10)
        return self

    def store(self) -> OATokenStore:
        assert self.channel is not None
        tokens = self.channel.client.tokens
        assert isinstance(tokens, OATokenStore)  # the real store, not a test double
        return tokens


async def authorize(app: App, pair: TokenPair) -> None:
    """What `zalo-oa authorize` does once the code is exchanged: `save_authorized` on the app's store."""
    async with app.oa_token_source() as store:
        assert isinstance(store, OATokenStore)
        await store.save_authorized(pair)


async def sealed_rows(app: App) -> list[dict[str, Any]]:
    async with app.engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(text("SELECT * FROM oa_tokens"))]


@pytest.fixture
async def oauth(oa: FakeOAServer) -> AsyncIterator[FakeZaloOAuth]:
    server = await FakeZaloOAuth(app_id=oa.app_id).start()
    oa.accepts = server.access_valid  # the OA takes what the OAuth server issued and did not expire
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def real_bot(app: App, oa: FakeOAServer, oauth: FakeZaloOAuth) -> AsyncIterator[RealTokensBot]:
    # The settings the store opens with must be in place before `authorize`: start() sets them, so start first.
    runner = await RealTokensBot(app, oa, oauth).start()
    try:
        yield runner
    finally:
        await runner.close()


async def test_a_stored_pair_answers_and_a_refused_token_is_refreshed_once(
    app: App, real_bot: RealTokensBot, oa: FakeOAServer, oauth: FakeZaloOAuth, clock: FakeClock
) -> None:
    await seed_demo(app.uow_factory, app.clock)
    first = oauth.issue()
    await authorize(app, first)

    assert "111" in await real_bot.say("ou1", "/help")
    assert oa.sent[-1]["token"] == first.access_token and oauth.refreshes == 0

    clock.advance(minutes=10)  # the token is not new any more: a refusal means it is dead
    oauth.expire(first.access_token)  # revoked before its hour: the OA answers -216
    assert "111" in await real_bot.say("ou1", "/help")

    assert oauth.refreshes == 1 and oauth.reused == 0  # refreshed once, the refresh token used once
    assert [code for _path, code in oa.errors] == [-216]
    second = oa.sent[-1]["token"]
    assert second != first.access_token and oauth.access_valid(second)
    assert len(oa.texts("ou1")) == 2
    [row] = await sealed_rows(app)
    assert row["generation"] == 2
    stored = " ".join(str(v) for v in row.values())
    assert second not in stored and first.access_token not in stored and "AT-" not in stored and "RT-" not in stored
    # A new process opens the new pair from the database (decrypted with the key) and needs no refresh.
    async with app.oa_token_source() as again:
        assert await again.access_token() == second
    assert oauth.refreshes == 1


async def test_while_the_oauth_server_does_not_answer_the_reply_is_retried_then_sent(
    app: App, real_bot: RealTokensBot, oa: FakeOAServer, oauth: FakeZaloOAuth, clock: FakeClock, caplog: Any
) -> None:
    await seed_demo(app.uow_factory, app.clock)
    pair = oauth.issue()
    await authorize(app, pair)
    clock.advance(hours=2)  # the access token's hour is over; the OAuth server is down
    oauth.fail_next = [(503, {"error": "unavailable"})]
    with caplog.at_level(logging.WARNING):
        assert await oa.post_event(oa.text_event("ou1", "/help")) == 200
        for _ in range(1000):
            if "cannot send now (oa_token_unavailable)" in caplog.text:
                break
            await asyncio.sleep(0.01)
        async with app.sessions() as s:
            row = (await s.scalars(select(m.InboundUpdate))).one()
    # Kept with its reply waiting, and no failed attempt counted: an outage never makes a dead letter of it.
    assert (row.status, row.attempts) == ("handled", 0)
    assert "no valid access token now" in caplog.text and oa.sent == [] and oauth.refreshes == 0
    assert pair.access_token not in caplog.text and pair.refresh_token not in caplog.text

    clock.advance(seconds=31)  # past the store's pause after a failed refresh; the server is back
    oauth.fail_next = []
    for _ in range(3000):  # the inbox tries again after 1 s, 2 s, 4 s...
        if oa.texts("ou1"):
            break
        await asyncio.sleep(0.01)
    assert "111" in "\n".join(oa.texts("ou1")) and oauth.refreshes == 1
    assert oa.sent[-1]["token"] != pair.access_token


async def test_a_message_that_came_before_the_oa_was_authorized_is_answered_once_it_is(
    app: App, real_bot: RealTokensBot, oa: FakeOAServer, oauth: FakeZaloOAuth, caplog: Any
) -> None:
    await seed_demo(app.uow_factory, app.clock)
    with caplog.at_level(logging.WARNING):
        assert await oa.post_event(oa.text_event("ou1", "/help")) == 200
        for _ in range(1000):
            if "cannot send now (oa_authorize)" in caplog.text:
                break
            await asyncio.sleep(0.01)
    assert "cannot send now (oa_authorize)" in caplog.text and oa.sent == []
    await authorize(app, oauth.issue())  # an admin runs `zalo-oa authorize`
    for _ in range(3000):
        if oa.texts("ou1"):
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(1.5)  # a second try would have come by now
    assert "111" in "\n".join(oa.texts("ou1")) and len(oa.texts("ou1")) == 1
    async with app.sessions() as s:
        row = (await s.scalars(select(m.InboundUpdate))).one()
    assert row.attempts == 0 and row.status in ("handled", "done")
