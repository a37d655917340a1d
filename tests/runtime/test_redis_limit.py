"""The outgoing limit shared by a bot's processes, on a real Redis at 127.0.0.1:6379 (skipped when it does not
answer, unless REQUIRE_REDIS=1): two limits as two processes would hold them (and two real subprocesses) never
send more together than one bot may, every call goes through, the per-chat and group limits and a 429's pause
hold for all; without Redis the local pace is kept and the outage logged once. The local implementation keeps
the same rules on a virtual clock."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.app import build_app
from bot.channels.telegram import app as telegram_app
from bot.channels.telegram.app import make_bot
from bot.channels.telegram.ratelimit import WINDOW, RateLimiter
from bot.channels.telegram.transport import TelegramTransport
from bot.channels.zalo import app as zalo_app
from bot.config import Settings
from bot.content.loader import Content
from bot.core.delivery import DeliveryStatus
from bot.core.events import ChannelAddress
from bot.core.replies import Reply
from bot.core.sendlimit import LocalSendLimit, Pace, bot_key
from bot.runtime.redis_limit import RedisSendLimit, RedisSendLimits
from tests.fakes.telegram_server import FakeTelegramServer

ROOT = Path(__file__).resolve().parents[2]
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"
REQUIRE_REDIS = os.environ.get("REQUIRE_REDIS") == "1"


def _redis_answers() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_available() -> None:
    if _redis_answers():
        return
    if REQUIRE_REDIS:
        pytest.fail(f"REQUIRE_REDIS=1 but Redis does not answer at {REDIS_HOST}:{REDIS_PORT}")
    pytest.skip(f"no Redis answers at {REDIS_HOST}:{REDIS_PORT} (start redis-server to run the shared-limit tests)")


@pytest.fixture
async def prefix(redis_available: None) -> AsyncIterator[str]:
    """A key prefix of this test's own; its keys are deleted after it."""
    name = f"test:{uuid.uuid4().hex}:"
    yield name
    limits = RedisSendLimits(REDIS_URL)
    keys = [k async for k in limits.redis.scan_iter(match="{" + name + "*")]
    if keys:
        await limits.redis.delete(*keys)
    await limits.aclose()


@pytest.fixture
async def two(prefix: str) -> AsyncIterator[tuple[RedisSendLimits, RedisSendLimits]]:
    """Two clients of their own, as two bot processes hold them."""
    a, b = RedisSendLimits(REDIS_URL, prefix), RedisSendLimits(REDIS_URL, prefix)
    yield a, b
    await a.aclose()
    await b.aclose()


def max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window - 1e-9:
            start += 1
        best = max(best, end - start + 1)
    return best


# A bot process in miniature: waits for the common start, then sends `n` bulk calls to chats of its own as fast
# as the shared limit lets it; prints the Redis time of each admission.
PROCESS = """
import asyncio, json, sys, time
from bot.core.sendlimit import Pace
from bot.runtime.redis_limit import RedisSendLimit, RedisSendLimits

async def main(url, prefix, name, n, per_second, start):
    limits = RedisSendLimits(url, prefix)
    limit = limits("telegram:bot", Pace(per_second=per_second))
    await asyncio.sleep(max(start - time.time(), 0))
    times = await asyncio.gather(*(limit.acquire_at(f"{name}{i}") for i in range(n)))
    await limits.aclose()
    print(json.dumps(times))

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])))
"""


async def test_two_processes_sending_together_never_exceed_the_bots_limit(prefix: str) -> None:
    per_second, each = 15, 30
    start = time.time() + 1.5  # both have imported and connected by then
    procs = [
        await asyncio.create_subprocess_exec(
            *[sys.executable, "-c", PROCESS, REDIS_URL, prefix, name, str(each), str(per_second), str(start)],
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        for name in ("a", "b")
    ]
    outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 60)
    assert [p.returncode for p in procs] == [0, 0]
    times = [t for out, _err in outputs for t in json.loads(out)]
    assert len(times) == 2 * each and None not in times  # every call went through, all through Redis
    assert max_in_window(times, 1.0) <= per_second
    # Alone, each process could have sent its 30 within about a second; together they took the bot's pace.
    assert max(times) - min(times) >= (2 * each - per_second) / per_second - 0.05


async def test_two_limits_share_each_chats_pace_and_a_groups_minute(two: tuple[RedisSendLimits, ...]) -> None:
    pace = Pace(per_second=100, chat_per_second=5, chat_burst=2, group_per_minute=3)
    a, b = (limits("telegram:bot", pace) for limits in two)
    chat_times = await asyncio.gather(*(lim.acquire_at("student", bulk=False) for lim in (a, b) * 5))
    chat_times = sorted(t for t in chat_times if t is not None)
    assert len(chat_times) == 10
    # A burst of 2, then one every 0.2 s on average (never ahead of that schedule), whichever process sends.
    first = chat_times[0]
    assert all(t - first >= (k - 1) * 0.2 - 0.002 for k, t in enumerate(chat_times))
    assert max_in_window(chat_times, 1.0) <= 2 + 5

    for lim in (a, b, a):
        await asyncio.wait_for(lim.acquire("-100class", group=True), 2)
    with pytest.raises(TimeoutError):  # a fourth message to the group within the minute waits
        await asyncio.wait_for(b.acquire("-100class", group=True), 0.5)
    await asyncio.wait_for(b.acquire("-100other", group=True), 2)  # another group is not held


async def test_a_429_seen_by_one_process_pauses_the_other(two: tuple[RedisSendLimits, ...]) -> None:
    a, b = (limits("telegram:bot", Pace()) for limits in two)
    await a.acquire("x")
    await a.pause(0.6)
    t = time.monotonic()
    await b.acquire("y")
    assert time.monotonic() - t >= 0.55
    await b.pause(0.1)  # a shorter pause never shortens a longer one
    await a.pause(0.5)
    await b.pause(0.1)
    t = time.monotonic()
    await a.acquire("z")
    assert time.monotonic() - t >= 0.45


async def test_two_telegram_transports_keep_the_bots_pace_at_the_platform(two: tuple[RedisSendLimits, ...]) -> None:
    """The channels' sending path: two processes' transports of one bot, each under its own pace of 10/s, send
    at 10/s together as the fake Bot API counts them; a 429 one of them gets holds the other too."""
    async with FakeTelegramServer() as server:
        transports, bots = [], []
        for limits in two:
            bot = make_bot(server.token, server.url)
            # As the channel makes it (make_limiter): counted over WINDOW, a little over 1 s, for the jitter of
            # the way from the admission to the platform.
            pace = Pace(per_second=10, chat_per_second=50, window=WINDOW)
            shared = limits(bot_key("telegram", server.token), pace)
            limiter = RateLimiter(10, 50, shared=shared)
            transports.append(TelegramTransport(bot, limiter, lambda: None))  # type: ignore[arg-type]
            bots.append(bot)
        try:

            async def send(transport: TelegramTransport, chat: int) -> DeliveryStatus:
                address = ChannelAddress("telegram", str(chat), str(chat))
                result = await transport.deliver(address, [Reply(text="Bài học mới")])
                return result.status

            statuses = await asyncio.gather(*(send(transports[i % 2], 5000 + i) for i in range(30)))
            assert set(statuses) == {DeliveryStatus.SENT}
            arrivals = [c.at for c in server.sent()]
            assert len(arrivals) == 30
            assert max_in_window(arrivals, 1.0) <= 10
            assert max(arrivals) - min(arrivals) >= 1.9

            server.fail_next("sendMessage", 429, retry_after=1)
            first = asyncio.create_task(send(transports[0], 6000))
            await server.wait_for(lambda srv: srv.calls("sendMessage", chat_id=6000))
            refused = server.calls("sendMessage", chat_id=6000)[0]
            assert refused.status == 429
            # The other process sends after the 429: it waits out the pause the first one was told.
            assert await send(transports[1], 6001) is DeliveryStatus.SENT
            assert await first is DeliveryStatus.SENT  # waited out, then sent
            assert server.sent(6001)[0].at >= refused.at + 0.95
        finally:
            for bot in bots:
                await bot.session.close()


async def test_without_redis_the_local_pace_holds_and_the_outage_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limits = RedisSendLimits("redis://127.0.0.1:1/0", retry_seconds=0.3)  # nothing listens there
    limit = limits("telegram:bot", Pace(per_second=5, chat_per_second=100))
    caplog.set_level(logging.INFO, "bot.runtime.redis_limit")
    t = time.monotonic()
    for i in range(12):
        await asyncio.wait_for(limit.acquire(f"c{i}"), 5)
    elapsed = time.monotonic() - t
    await limits.aclose()
    assert elapsed >= 2 - 0.05  # 12 at 5 a second in this process: the third window opens after 2 s
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Redis does not answer" in warnings[0].getMessage()


async def test_redis_answering_again_is_logged_and_shared_again(prefix: str, caplog: pytest.LogCaptureFixture) -> None:
    limits = RedisSendLimits(REDIS_URL, prefix, retry_seconds=0.0)
    limit: Any = limits("telegram:bot", Pace())
    caplog.set_level(logging.INFO, "bot.runtime.redis_limit")
    limit._went_down(ConnectionError("test"))
    assert await limit.acquire_at("a") is not None  # asked Redis again at once (retry_seconds=0)
    await limits.aclose()
    assert [r.levelno for r in caplog.records] == [logging.WARNING, logging.INFO]


# --- the local implementation, on a virtual clock ------------------------------------------------------------


class VirtualTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)


async def test_the_local_limit_keeps_the_same_rules_in_one_process() -> None:
    vt = VirtualTime()
    limit = LocalSendLimit(Pace(per_second=25, chat_per_second=1, chat_burst=3), clock=vt.clock, sleep=vt.sleep)
    sent: dict[str, list[float]] = {}
    for i in range(200):
        for chat, group in ((f"s{i}", False), ("busy", False), ("-100group", True)):
            if chat == "-100group" and i % 5:
                continue
            await limit.acquire(chat, group=group)
            sent.setdefault(chat, []).append(vt.now)
    everything = [t for times in sent.values() for t in times]
    assert len(everything) == 200 + 200 + 40
    assert max_in_window(everything, 1.0) <= 25
    assert max_in_window(sent["busy"][3:], 1.0) <= 1
    assert max_in_window(sent["-100group"], 60.0) <= 20

    await limit.pause(3.0)
    paused_at = vt.now
    await limit.acquire("late", bulk=False)
    assert vt.now >= paused_at + 3.0


def test_a_bots_key_is_the_same_everywhere_and_never_shows_the_token() -> None:
    token = "123456:ABC-secret"
    assert bot_key("telegram", token) == bot_key("telegram", token) != bot_key("zalo", token)
    assert "secret" not in bot_key("telegram", token) and "123456" not in bot_key("telegram", token)


async def test_redis_url_gives_every_channel_of_the_app_the_shared_limit(test_content: Content, tmp_path: Path) -> None:
    """REDIS_URL set: the channels' limiters ask the shared limit under the bot's key; empty: they keep their own."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    plain = build_app(Settings(database_url=database_url, _env_file=None), content=test_content)  # type: ignore[call-arg]
    shared = build_app(
        Settings(database_url=database_url, redis_url=REDIS_URL, _env_file=None),  # type: ignore[call-arg]
        content=test_content,
    )
    try:
        assert plain.send_limits is None and plain.channel_deps().send_limits is None
        settings = shared.settings.model_copy(update={"telegram_bot_token": SecretStr("123:abc")})
        limiter = telegram_app.make_limiter(settings, shared.channel_deps(), "123:abc")
        assert isinstance(limiter.shared, RedisSendLimit)
        assert limiter.shared.bulk_key == "{antt:limit:" + bot_key("telegram", "123:abc") + "}:bulk"
        assert telegram_app.make_limiter(settings, plain.channel_deps(), "123:abc").shared is None
        settings = settings.model_copy(update={"zalo_bot_token": SecretStr("zalo-token")})
        assert isinstance(zalo_app.make_limiter(settings, shared.channel_deps()).shared, RedisSendLimit)
        assert zalo_app.make_limiter(settings, plain.channel_deps()).shared is None
    finally:
        await plain.close()
        await shared.close()
