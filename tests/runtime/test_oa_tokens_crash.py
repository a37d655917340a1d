"""Real processes and kill -9: a bot process refreshing the Zalo OA's token is killed at each point of the
refresh, then a restarted store must still give a token valid at the fake OAuth server, or say clearly why not,
and never send a spent refresh token more than once; two processes asking together refresh once."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import oa_token_source
from bot.core.clock import utc_now
from db.migrate import upgrade_async
from tests.conftest import FakeClock
from tests.fakes.zalo_oauth import FakeZaloOAuth
from tests.runtime.oa_kit import oa_env, oa_settings

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


class Child:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []

    async def line(self, prefix: str, timeout: float = 60) -> str:  # noqa: ASYNC109
        """The next line of output that starts with `prefix` (or an ERROR line, which fails the test)."""
        assert self.proc.stdout is not None
        while True:
            raw = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
            if not raw:
                raise AssertionError(f"the child ended without {prefix!r}: {self.lines}")
            text = raw.decode().strip()
            self.lines.append(text)
            if text.startswith("ERROR"):
                raise AssertionError(text)
            if text.startswith(prefix):
                return text[len(prefix) :].strip()

    async def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(self.proc.wait(), 30) == -signal.SIGKILL


async def start_child(env: dict[str, str], *args: str) -> Child:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("ZALO_", "DATABASE_URL"))}
    full.update(env)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.runtime.oa_token_child",
        *args,
        cwd=ROOT,
        env=full,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    return Child(proc)


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloOAuth]:
    server = await FakeZaloOAuth().start()
    try:
        yield server
    finally:
        await server.stop()


async def _authorized_near_expiry(database_url: str, fake: FakeZaloOAuth) -> tuple[str, str]:
    """A stored pair whose access token has 4 minutes left (inside the 5-minute margin: the next ask refreshes)."""
    await upgrade_async(database_url)
    fake.expires_in = "240"
    pair = fake.issue()
    fake.expires_in = "3600"
    async with oa_token_source(oa_settings(database_url, fake), utc_now) as (store, _):
        await store.save_authorized(pair)
    return pair.access_token, pair.refresh_token


async def test_killed_before_the_refresh_token_left_the_restart_refreshes_with_it(
    database_url: str, fake: FakeZaloOAuth
) -> None:
    old_access, old_refresh = await _authorized_near_expiry(database_url, fake)
    child = await start_child(oa_env(database_url, fake), "--pause-at", "before_request")
    assert await child.line("PAUSED") == "before_request"
    await child.kill9()
    assert fake.refreshes == 0 and fake.refresh_valid(old_refresh)
    async with oa_token_source(oa_settings(database_url, fake), utc_now) as (store, _):
        assert (await store.status()).in_flight is not None  # the record of the refresh that never left
        token = await store.access_token()
        status = await store.status()
    assert token != old_access and fake.access_valid(token)
    assert fake.refreshes == 1 and fake.reused == 0
    assert status.in_flight is None and status.refused_at is None and status.generation == 2


async def test_killed_after_the_commit_the_restart_uses_the_new_pair(database_url: str, fake: FakeZaloOAuth) -> None:
    old_access, _ = await _authorized_near_expiry(database_url, fake)
    child = await start_child(oa_env(database_url, fake), "--pause-at", "after_commit")
    assert await child.line("PAUSED") == "after_commit"
    await child.kill9()
    async with oa_token_source(oa_settings(database_url, fake), utc_now) as (store, _):
        token = await store.access_token()
    assert token != old_access and fake.access_valid(token)
    assert fake.refreshes == 1 and fake.reused == 0  # no second refresh: the new pair was durable


@pytest.mark.parametrize("where", ["after_response", "server_answering"])
async def test_killed_between_the_answer_and_the_commit_nothing_breaks_and_the_loss_is_reported(
    database_url: str, fake: FakeZaloOAuth, where: str
) -> None:
    """The one window no client can close: Zalo has spent the refresh token, its answer dies with the process
    (killed right after reading it, or while the server was answering). The restart finds the write-ahead record,
    tries the old refresh token once (refused: it was spent), keeps the stored pair intact and the old access
    token in service while it lasts, and says that an OA admin must authorize again."""
    old_access, old_refresh = await _authorized_near_expiry(database_url, fake)
    holder: list[Child] = []
    if where == "server_answering":

        async def kill_client() -> None:
            await holder[0].kill9()

        fake.on_refresh = kill_client
        child = await start_child(oa_env(database_url, fake))
        holder.append(child)
        await asyncio.wait_for(child.proc.wait(), 120)
        fake.on_refresh = None
    else:
        child = await start_child(oa_env(database_url, fake), "--pause-at", "after_response")
        assert await child.line("PAUSED") == "after_response"
        await child.kill9()
    assert fake.refreshes == 1 and not fake.refresh_valid(old_refresh)
    async with oa_token_source(oa_settings(database_url, fake), utc_now) as (store, _):
        token = await store.access_token()
        assert token == old_access and fake.access_valid(token)  # the bot goes on for the minutes left
        assert await store.access_token() == old_access
        status = await store.status()
    assert fake.refreshes == 1 and fake.reused == 1  # the spent token was tried exactly once more, and refused
    assert status.refused_at is not None and "bị ngắt" in (status.refused_reason or "")
    assert status.in_flight is None and status.generation == 1 and status.key_ok


async def _authorized_ten_minutes_ago(database_url: str, fake: FakeZaloOAuth) -> str:
    """A stored pair with 50 minutes left, issued 10 minutes ago."""
    await upgrade_async(database_url)
    pair = fake.issue()
    clock = FakeClock(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10))
    async with oa_token_source(oa_settings(database_url, fake), clock) as (store, _):
        await store.save_authorized(pair)
    return pair.access_token


@pytest.mark.parametrize("trigger", ["expired", "near_expiry"])
async def test_two_processes_asking_together_refresh_once(database_url: str, fake: FakeZaloOAuth, trigger: str) -> None:
    """Both processes had the token and the OA refused it to both (expired() then access_token()), or both see it
    about to expire: one refresh at the fake, which would refuse a second use of the refresh token."""
    if trigger == "expired":
        old_access = await _authorized_ten_minutes_ago(database_url, fake)
    else:
        old_access, _ = await _authorized_near_expiry(database_url, fake)
    fake.delay = 0.5  # the first process is still waiting for Zalo when the second asks
    env = oa_env(database_url, fake)
    flags = ["--wait", "--expire"] if trigger == "expired" else ["--wait"]
    children = [await start_child(env, *flags) for _ in range(2)]
    for child in children:
        await child.line("READY")
    for child in children:  # both ask at once
        assert child.proc.stdin is not None
        child.proc.stdin.write(b"go\n")
    await asyncio.gather(*(c.proc.stdin.drain() for c in children if c.proc.stdin is not None))
    tokens = [await child.line("TOKEN") for child in children]
    for child in children:
        assert await asyncio.wait_for(child.proc.wait(), 30) == 0
    assert tokens[0] == tokens[1] != old_access and fake.access_valid(tokens[0])
    assert fake.refreshes == 1 and fake.reused == 0
    async with oa_token_source(oa_settings(database_url, fake), utc_now) as (store, _):
        status = await store.status()
    assert status.generation == 2 and status.access_expires_at is not None
    assert status.access_expires_at > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=50)
