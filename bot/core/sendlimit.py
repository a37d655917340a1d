"""The outgoing limit of one bot, as a port: every platform call waits for a slot here first, so the calls of
all the bot's processes together keep to what the platform allows one bot.

`SendLimit.acquire` returns once a call may go (and counts it); `pause` makes every process wait after a 429.
`bulk=False` is a reply in the chat of the user who acted: Telegram's overall pace is for messages the bot
starts, so such a call keeps only the per-chat limit (as the channels' own limiters do).

Two implementations: `LocalSendLimit` below (this process only: the pace the channels keep by themselves when
no `REDIS_URL` is set, and the fallback of the shared one) and `bot.runtime.redis_limit.RedisSendLimit`
(one limit for every process, kept atomically in Redis)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

Sleep = Callable[[float], Awaitable[object]]


@dataclass(frozen=True)
class Pace:
    """What one bot may send: `per_second` over all chats (bulk), `chat_per_second` per chat with `chat_burst`
    at once, `group_per_minute` per group chat."""

    per_second: float = 25.0
    chat_per_second: float = 1.0
    chat_burst: int = 3
    group_per_minute: float = 20.0
    window: float = 1.0  # seconds over which `per_second` is counted


class SendLimit(Protocol):
    async def acquire(self, chat: str | None, *, group: bool = False, bulk: bool = True) -> None: ...

    async def pause(self, seconds: float) -> None: ...


# (bot key, pace) -> the limit of that bot; the composition root gives the channels one (or none: local pace).
SendLimits = Callable[[str, Pace], SendLimit]


class LocalSendLimit:
    """The same rules as the shared limit, for this process only: a sliding window of the bulk calls made
    (never more than `per_second` within `window`), a GCRA per chat (burst, then one per interval), a sliding
    minute per group chat, and a pause for everything after a 429."""

    def __init__(
        self,
        pace: Pace,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.pace, self.clock, self.sleep = pace, clock, sleep
        self._made: deque[float] = deque()
        self._chat_tat: dict[str, float] = {}
        self._groups: dict[str, deque[float]] = {}
        self._paused_until = 0.0

    def wait(self, chat: str | None, group: bool, bulk: bool, now: float) -> float:
        """Seconds until a call may go; 0 when it may go now."""
        p = self.pace
        wait = max(self._paused_until - now, 0.0)
        if bulk:
            made = self._made
            while made and made[0] <= now - p.window:
                made.popleft()
            if len(made) >= max(int(p.per_second * p.window), 1):
                wait = max(wait, made[0] + p.window - now)
        if chat is not None:
            interval = 1.0 / p.chat_per_second
            tat = self._chat_tat.get(chat, 0.0)
            wait = max(wait, tat - interval * (max(p.chat_burst, 1) - 1) - now)
            if group:
                window = self._groups.get(chat)
                if window is not None:
                    while window and window[0] <= now - 60.0:
                        window.popleft()
                    if len(window) >= max(int(p.group_per_minute), 1):
                        wait = max(wait, window[0] + 60.0 - now)
        return wait

    def record(self, chat: str | None, group: bool, bulk: bool, now: float) -> None:
        if bulk:
            self._made.append(now)
        if chat is not None:
            interval = 1.0 / self.pace.chat_per_second
            self._chat_tat[chat] = max(self._chat_tat.get(chat, 0.0), now) + interval
            if group:
                self._groups.setdefault(chat, deque()).append(now)
            if len(self._chat_tat) > 50_000:  # forget chats that have been quiet
                self._chat_tat = {c: t for c, t in self._chat_tat.items() if t > now}

    async def acquire(self, chat: str | None, *, group: bool = False, bulk: bool = True) -> None:
        # The check and the record have no await between them: atomic within this event loop.
        while (wait := self.wait(chat, group, bulk, self.clock())) > 0:
            await self.sleep(max(wait, 1e-4))
        self.record(chat, group, bulk, self.clock())

    async def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.clock() + seconds)


def bot_key(channel: str, token: str) -> str:
    """The key of one bot's limit: the same in every process of that bot, without the token in it."""
    return f"{channel}:{hashlib.sha256(token.encode()).hexdigest()[:16]}"
