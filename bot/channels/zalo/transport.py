"""Sending to Zalo at a conservative pace: the `Transport` the inbox worker, broadcasts and contest notices use."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.channels.zalo.client import ZaloApiError, ZaloClient, ZaloNetworkError, ZaloUnauthorized
from bot.channels.zalo.render import Translate, render_messages
from bot.core.delivery import DeliveryResult, DeliveryStatus
from bot.core.events import ChannelAddress
from bot.core.replies import Reply
from bot.core.sendlimit import SendLimit

log = logging.getLogger(__name__)


class _Bucket:
    """A token bucket: `rate` sends a second on average, up to `burst` at once."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, now

    def wait_time(self, now: float) -> float:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        # A hair of tolerance: float sums like 0.2 * 5 must not leave a wait too small to pass.
        return 0.0 if self.tokens >= 1 - 1e-9 else max((1 - self.tokens) / self.rate, 0.001)

    def take(self) -> None:
        self.tokens -= 1


class RateLimiter:
    """Keeps to an overall rate and a per-chat rate, and pauses everything after a 429.

    No rate is published for the Zalo Bot API (only the 429 code), so the defaults are cautious."""

    def __init__(
        self,
        per_second: float = 5.0,
        per_chat_per_second: float = 1.0,
        chat_burst: int = 3,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        shared: SendLimit | None = None,
    ) -> None:
        self.clock, self.sleep = clock, sleep
        # The limit of this bot over all its processes (Redis), asked after this process's own pace.
        self.shared = shared
        self.per_chat, self.chat_burst = per_chat_per_second, chat_burst
        self._all = _Bucket(per_second, max(1.0, per_second), clock())
        self._chats: dict[str, _Bucket] = {}
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.clock() + seconds)

    async def pause_all(self, seconds: float) -> None:
        """After a 429: this process and, with a shared limit, every process of this bot wait."""
        self.pause(seconds)
        if self.shared is not None:
            await self.shared.pause(seconds)

    async def acquire(self, chat_id: str) -> None:
        async with self._lock:  # one sender at a time decides; the others queue in order
            while True:
                now = self.clock()
                chat = self._chats.get(chat_id)
                if chat is None:
                    chat = self._chats[chat_id] = _Bucket(self.per_chat, self.chat_burst, now)
                wait = max(self._paused_until - now, self._all.wait_time(now), chat.wait_time(now))
                if wait <= 0:
                    self._all.take()
                    chat.take()
                    break
                await self.sleep(wait)
            if len(self._chats) > 10_000:  # forget idle chats (full buckets) so memory stays flat
                self._chats = {k: b for k, b in self._chats.items() if b.tokens < b.burst}
        if self.shared is not None:  # outside the lock: waiting for another process's calls holds no one here
            await self.shared.acquire(chat_id, bulk=True)


class ZaloTransport:
    """Delivers replies to one Zalo chat. 429 → RETRY (and everyone waits), 403 → RETRY (transient on Zalo),
    400 → FAILED, 401 → raised (the token is wrong; nothing else will work either)."""

    channel = "zalo"

    def __init__(
        self,
        client: ZaloClient,
        translate_for: Callable[[ChannelAddress], Awaitable[Translate]],
        limiter: RateLimiter | None = None,
        *,
        send_retries: int = 2,
    ) -> None:
        self.client = client
        self.translate_for = translate_for
        self.limiter = limiter or RateLimiter()
        self.send_retries = send_retries
        # Messages already sent of a delivery that stopped half-way: its retry skips them (no duplicates).
        self._partial: dict[tuple[str, str], int] = {}

    async def deliver(self, address: ChannelAddress, replies: list[Reply]) -> DeliveryResult:
        _ = await self.translate_for(address)
        texts = render_messages(replies, _)
        key = (address.chat_id, hashlib.sha256("\x00".join(texts).encode()).hexdigest())
        done = self._partial.pop(key, 0)
        result = await self._send_all(address, texts[done:])
        if result.status is DeliveryStatus.RETRY and result.sent:
            if len(self._partial) > 10_000:
                self._partial.clear()
            self._partial[key] = done + result.sent
        return result.result

    async def _send_all(self, address: ChannelAddress, texts: list[str]) -> _Outcome:
        for sent, text in enumerate(texts):
            result = await self._send_one(address, text)
            if result is not None:
                return _Outcome(result, sent)
        return _Outcome(DeliveryResult(DeliveryStatus.SENT), len(texts))

    async def _send_one(self, address: ChannelAddress, text: str) -> DeliveryResult | None:
        """None when sent; otherwise why not."""
        await self.limiter.acquire(address.chat_id)
        try:
            await self.client.send_message(address.chat_id, text, retries=self.send_retries)
        except ZaloUnauthorized:
            raise
        except ZaloApiError as exc:
            if exc.code == 429:
                delay = self.client.backoff(self.send_retries + 1, exc.retry_after)
                await self.limiter.pause_all(delay)
                return DeliveryResult(DeliveryStatus.RETRY, retry_after=delay, error=f"zalo {exc.code}")
            if exc.transient:
                return DeliveryResult(DeliveryStatus.RETRY, error=f"zalo {exc.code}")
            log.warning("zalo sendMessage failed permanently: %s", exc.code)
            return DeliveryResult(DeliveryStatus.FAILED, error=f"zalo {exc.code}")
        except ZaloNetworkError as exc:
            return DeliveryResult(DeliveryStatus.RETRY, error=str(exc))
        return None


@dataclass(frozen=True)
class _Outcome:
    result: DeliveryResult
    sent: int

    @property
    def status(self) -> DeliveryStatus:
        return self.result.status
