"""Outgoing Bot API calls kept within Telegram's limits: ~25 messages/s overall for bulk sends (broadcasts,
notices), 1/s per chat (small bursts), 20/min per group; a 429 pauses every send for its `retry_after`, then the
same call is tried again. A reply to a user's own action keeps only the per-chat limit: Telegram's overall limit
is for messages the bot starts, and holding replies under it would cap a contest at 25 answers a second."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram.exceptions import (
    RestartingTelegram,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from bot.core.delivery import DeliveryResult, DeliveryStatus
from bot.core.sendlimit import SendLimit

log = logging.getLogger(__name__)

T = TypeVar("T")

# Errors that mean "done" although Telegram said 400: the edit was already there.
HARMLESS = ("message is not modified",)
WINDOW = 1.05  # seconds: the sliding window of the overall limit, with a margin for jitter


class _Bucket:
    """GCRA: at most `burst` at once, then one per `interval` seconds."""

    __slots__ = ("interval", "tat", "tolerance")

    def __init__(self, interval: float, burst: int) -> None:
        self.interval, self.tolerance, self.tat = interval, interval * (max(burst, 1) - 1), 0.0

    def earliest(self, not_before: float) -> float:
        return max(not_before, self.tat - self.tolerance)

    def commit(self, at: float) -> None:
        self.tat = max(self.tat, at) + self.interval


class RateLimiter:
    """Reserves a send time that satisfies every bucket, sleeps until then; shared by replies and broadcasts."""

    def __init__(
        self,
        per_second: float = 25.0,
        chat_per_second: float = 1.0,
        chat_burst: int = 3,
        group_per_minute: float = 20.0,
        group_burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        shared: SendLimit | None = None,
    ) -> None:
        self.clock, self.sleep = clock, sleep
        # The limit of this bot over all its processes (Redis), asked after this process's own pace.
        self.shared = shared
        self._global = _Bucket(1.0 / per_second, 1)
        self._chat_args = (1.0 / chat_per_second, chat_burst)
        self._group_args = (60.0 / group_per_minute, group_burst)
        self._chats: dict[str, _Bucket] = {}
        self.paused_until = 0.0
        # The reservations above space the calls evenly, but a task that wakes late (a busy event loop) sends
        # together with the next ones. So the last bulk calls actually made are counted too: never more than
        # `per_second` within WINDOW seconds (a little over 1 s, so network jitter cannot make 1 s hold more).
        self._per_window = max(int(per_second), 1)
        self._made: deque[float] = deque()

    def pause(self, seconds: float) -> None:
        """After a 429: nothing goes out to this bot for `seconds`."""
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    def _bucket(self, chat_id: str, group: bool) -> _Bucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if len(self._chats) > 50_000:  # forget chats that have been quiet (a long broadcast)
                now = self.clock()
                self._chats = {k: b for k, b in self._chats.items() if b.tat > now}
            bucket = self._chats[chat_id] = _Bucket(*(self._group_args if group else self._chat_args))
        return bucket

    async def acquire(self, chat_id: str | None, group: bool = False, *, bulk: bool = True) -> None:
        """Wait for a send slot. `bulk=False` (a reply to the user's own action) skips the overall bucket."""
        while True:
            now = self.clock()
            chat = self._bucket(chat_id, group) if chat_id is not None else None
            at = max(now, self.paused_until)
            if bulk:
                at = self._global.earliest(at)
            if chat is not None:
                at = max(at, chat.earliest(at))
            if bulk:
                self._global.commit(at)
            if chat is not None:
                chat.commit(at)
            if at > now:
                await self.sleep(at - now)
            if self.paused_until <= self.clock():
                if bulk:  # replies to a user's own action are not bulk sends: they are not counted
                    await self._window()
                if self.shared is not None:
                    await self.shared.acquire(chat_id, group=group, bulk=bulk)
                return
            # a 429 arrived while waiting: take a new place after the pause

    async def _window(self) -> None:
        while True:
            now = self.clock()
            # A small tolerance: float rounding must not keep a call that is exactly WINDOW old in the window.
            while self._made and self._made[0] <= now - WINDOW + 1e-9:
                self._made.popleft()
            if len(self._made) < self._per_window:
                self._made.append(now)
                return
            await self.sleep(max(self._made[0] + WINDOW - now, 1e-6))

    async def call(
        self,
        make: Callable[[], Awaitable[T]],
        chat_id: str | None,
        group: bool = False,
        *,
        attempts: int = 5,
        bulk: bool = True,
    ) -> tuple[DeliveryResult, T | None]:
        """Run one Bot API call within the limits; 429 and network trouble are retried, 403 means BLOCKED."""
        last = ""
        for attempt in range(attempts):
            await self.acquire(chat_id, group, bulk=bulk)
            try:
                return DeliveryResult(DeliveryStatus.SENT), await make()
            except TelegramRetryAfter as exc:
                log.warning("Telegram asked to slow down: waiting %ss", exc.retry_after)
                self.pause(float(exc.retry_after))
                if self.shared is not None:  # every process of this bot waits, not only this one
                    await self.shared.pause(float(exc.retry_after))
                last = "429"
                continue  # waiting out a 429 is not a failure
            except TelegramForbiddenError as exc:
                return DeliveryResult(DeliveryStatus.BLOCKED, error=exc.message), None
            except TelegramBadRequest as exc:
                if any(h in exc.message for h in HARMLESS):
                    return DeliveryResult(DeliveryStatus.SENT), None
                log.warning("Telegram refused a %s: %s", type(exc.method).__name__, exc.message)
                return DeliveryResult(DeliveryStatus.FAILED, error=exc.message), None
            except (TelegramNetworkError, TelegramServerError, RestartingTelegram) as exc:
                last = type(exc).__name__
                await self.sleep(min(0.5 * 2**attempt, 10.0))
        retry_after = max(self.paused_until - self.clock(), 1.0)
        return DeliveryResult(DeliveryStatus.RETRY, retry_after=retry_after, error=last), None
