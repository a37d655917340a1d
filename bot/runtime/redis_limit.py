"""The outgoing limit shared by every process of a bot, kept in Redis (`REDIS_URL`): the only module that imports
`redis` (redis-py's asyncio client).

One Lua script decides each call atomically on the Redis server, with the server's own clock (`TIME`), so the
processes' clocks never matter: the bot's bulk calls in a sorted set (a sliding window: never more than
`per_second` within `window`), each chat's GCRA (a theoretical arrival time: `chat_burst` at once, then one per
interval), each group chat's calls in a sliding minute, and the pause after a 429. A call that may not go yet
gets the wait in microseconds and asks again after it; every call goes through once the window has room. The
keys of one bot share one hash tag (`{…}`), so the script also runs on a Redis Cluster.

Redis briefly unavailable: the process falls back to the same pace kept locally (`LocalSendLimit`), logs once,
and asks Redis again after `retry_seconds`. We chose this over waiting for Redis because replies to children
in a contest must not stop while a cache restarts; the cost is that, for those seconds, each process keeps the
limit on its own (N processes may send up to N times the pace), and the platform's 429s are then waited out
as always. Logged once per outage (a warning when it starts, an info line when Redis answers again)."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from itertools import count

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.core.sendlimit import LocalSendLimit, Pace, SendLimit, Sleep

log = logging.getLogger(__name__)

# KEYS: 1 bulk window (zset), 2 chat GCRA (string, or ""), 3 group window (zset, or ""), 4 pause (string)
# ARGV: 1 bulk 0/1, 2 per-window count, 3 window µs, 4 chat interval µs, 5 chat tolerance µs,
#       6 group count, 7 member id
# Returns {1, now µs} when the call may go (and it is counted), {0, wait µs} when not yet.
SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
local paused = tonumber(redis.call('GET', KEYS[4]) or '0')
if paused > now then wait = paused - now end
local bulk = ARGV[1] == '1'
local window = tonumber(ARGV[3])
if bulk then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now)
  end
end
local interval = tonumber(ARGV[4])
local tat = now
if KEYS[2] ~= '' then
  tat = math.max(tonumber(redis.call('GET', KEYS[2]) or '0'), now)
  wait = math.max(wait, tat - tonumber(ARGV[5]) - now)
end
local minute = 60000000
if KEYS[3] ~= '' then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - minute)
  if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[6]) then
    local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + minute - now)
  end
end
if wait > 0 then return {0, math.ceil(wait)} end
if bulk then
  redis.call('ZADD', KEYS[1], now, ARGV[7])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
end
if KEYS[2] ~= '' then
  local ttl = math.ceil((tat + interval - now) / 1000) + 1000
  redis.call('SET', KEYS[2], string.format('%.0f', tat + interval), 'PX', ttl)
end
if KEYS[3] ~= '' then
  redis.call('ZADD', KEYS[3], now, ARGV[7])
  redis.call('PEXPIRE', KEYS[3], 61000)
end
return {1, now}
"""

# A pause only ever grows: the later of the stored and the new time, in the server's clock.
PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local untilt = now + tonumber(ARGV[1])
local old = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilt > old then
  redis.call('SET', KEYS[1], string.format('%.0f', untilt), 'PX', math.ceil(tonumber(ARGV[1]) / 1000) + 1000)
end
return 1
"""

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class RedisSendLimit:
    """One bot's limit in Redis under `key` (e.g. `antt:limit:telegram:<token hash>`)."""

    def __init__(
        self,
        redis: Redis,
        key: str,
        pace: Pace,
        *,
        retry_seconds: float = 5.0,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis, self.pace, self.sleep, self.clock = redis, pace, sleep, clock
        self.retry_seconds = retry_seconds
        tag = "{" + key + "}"
        self.bulk_key, self.pause_key = f"{tag}:bulk", f"{tag}:pause"
        self._chat_prefix, self._group_prefix = f"{tag}:chat:", f"{tag}:group:"
        self._script = redis.register_script(SCRIPT)
        self._pause_script = redis.register_script(PAUSE)
        self._ids = count()
        self._me = secrets.token_hex(6)  # members of the windows are unique across processes
        self.local = LocalSendLimit(pace, clock=clock, sleep=sleep)
        self._down = False  # Redis did not answer: the local pace until `_retry_at`, then ask again
        self._retry_at = 0.0

    # The pace in the script's units (microseconds)
    def _args(self, bulk: bool) -> list[int | str]:
        p = self.pace
        interval = int(1_000_000 / p.chat_per_second)
        return [
            "1" if bulk else "0",
            max(int(p.per_second * p.window), 1),
            int(p.window * 1_000_000),
            interval,
            interval * (max(p.chat_burst, 1) - 1),
            max(int(p.group_per_minute), 1),
            f"{self._me}:{next(self._ids)}",
        ]

    async def acquire(self, chat: str | None, *, group: bool = False, bulk: bool = True) -> None:
        await self.acquire_at(chat, group=group, bulk=bulk)

    async def acquire_at(self, chat: str | None, *, group: bool = False, bulk: bool = True) -> float | None:
        """`acquire`, returning the Redis server's time of the admission in seconds (None on the fallback):
        what the tests count, in the one clock every process shares."""
        keys = [
            self.bulk_key,
            self._chat_prefix + chat if chat is not None else "",
            self._group_prefix + chat if chat is not None and group else "",
            self.pause_key,
        ]
        while True:
            if self._fallback():
                await self.local.acquire(chat, group=group, bulk=bulk)
                return None
            try:
                ok, value = await self._script(keys=keys, args=self._args(bulk))
            except UNAVAILABLE as exc:
                self._went_down(exc)
                continue
            if self._down:
                self._down = False
                log.info("Redis answers again: the outgoing limit is shared by every process again")
            if int(ok) == 1:
                return int(value) / 1_000_000
            await self.sleep(max(int(value) / 1_000_000, 1e-4))

    async def pause(self, seconds: float) -> None:
        await self.local.pause(seconds)
        if self._fallback():
            return
        try:
            await self._pause_script(keys=[self.pause_key], args=[int(seconds * 1_000_000)])
        except UNAVAILABLE as exc:
            self._went_down(exc)

    def _fallback(self) -> bool:
        """True while Redis is taken for down (then ask it again after `retry_seconds`)."""
        return self._down and self.clock() < self._retry_at

    def _went_down(self, exc: BaseException) -> None:
        if not self._down:
            log.warning(
                "Redis does not answer (%s): the outgoing limit is kept in this process only until it does",
                type(exc).__name__,
            )
        self._down = True
        self._retry_at = self.clock() + self.retry_seconds


class RedisSendLimits:
    """The factory the composition root hands to the channels: one `RedisSendLimit` per bot key, one client."""

    def __init__(self, url: str, prefix: str = "antt:limit:", *, retry_seconds: float = 5.0) -> None:
        # Short timeouts: a Redis that does not answer must not hold a reply for long before the fallback.
        self.redis: Redis = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.prefix, self.retry_seconds = prefix, retry_seconds
        self._limits: dict[str, RedisSendLimit] = {}

    def __call__(self, key: str, pace: Pace) -> SendLimit:
        limit = self._limits.get(key)
        if limit is None or limit.pace != pace:
            limit = self._limits[key] = RedisSendLimit(
                self.redis, self.prefix + key, pace, retry_seconds=self.retry_seconds
            )
        return limit

    async def aclose(self) -> None:
        await self.redis.aclose()
