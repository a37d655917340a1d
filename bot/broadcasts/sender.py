"""The broadcast sender: drains pending deliveries through each channel's transport within that platform's
limits, waits out 429s, marks blocked recipients unreachable, and never sends one delivery twice.

Exactly once, and the one message in flight at a crash. Each delivery is *claimed* (status `sending`, with
`claimed_at`) in its own committed transaction before the transport is called, and marked `sent` (or
`blocked`, `failed`, back to `pending` for a retry) in another one after. So a row is only ever handed to the
transport by the one sender that claimed it, and a `sent` row is never sent again.

- A stopped sender (its task cancelled, Ctrl-C, SIGTERM) takes no new row and lets the sends already started
  finish and be marked, so a stop-and-restart neither loses nor repeats a message.
- A sender that dies hard between claim and mark leaves the row `sending` (at most `max_in_flight` rows, the
  calls under way; the limits are waited out *before* claiming, so a claimed row is one about to go out): the
  platform may or may not have received that message, and Telegram and Zalo offer no way to ask. On the next
  start, rows `sending` for longer than `stale_after` become `unknown` and are NOT sent again (at most once
  for those messages).
  We chose this over resending because a child who gets the same lesson twice is the visible failure the
  issue forbids, while a possibly-missed message is already covered: it is reported ("không rõ") in the
  teacher's view, the lesson is listed under "Bài được giao", and the teacher's reminder reaches everyone
  who has not completed it. `stale_after` must be longer than a transport call can take, so a live sender's
  row (with several senders on PostgreSQL) is never taken for a dead one's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from bot.broadcasts.ports import BroadcastRec, BroadcastsUnitOfWork, DeliveryRec
from bot.broadcasts.service import render_delivery
from bot.content.loader import Content
from bot.core import activity
from bot.core.clock import Clock
from bot.core.delivery import DeliveryResult, DeliveryStatus, Transport
from bot.core.events import ChannelAddress
from bot.core.i18n import I18n

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
SECOND = dt.timedelta(seconds=1)
MINUTE = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class ChannelLimits:
    per_second: int  # messages per second over all chats of this bot
    chat_interval: float = 1.0  # seconds between two messages to one chat
    group_per_minute: int = 20  # messages per minute to one group chat
    max_in_flight: int = 8  # transport calls running at once (throughput with a real round trip)


# Telegram allows about 30/s in bulk; 25 leaves headroom. Zalo publishes no figure: stay well below.
DEFAULT_LIMITS: dict[str, ChannelLimits] = {
    "telegram": ChannelLimits(per_second=25),
    "zalo": ChannelLimits(per_second=5),
    "console": ChannelLimits(per_second=50, chat_interval=0.0),
}


def _forget(busy: set[str], chat: str, _task: asyncio.Task[None]) -> None:
    busy.discard(chat)


class RateLimiter:
    """Sliding windows for one channel in this process: overall per second, per chat, per group per minute,
    and a pause for everything after a 429. Several sender processes would need a shared limiter."""

    def __init__(self, limits: ChannelLimits) -> None:
        self.limits = limits
        self.recent: deque[dt.datetime] = deque()
        self.last_chat: dict[str, dt.datetime] = {}
        self.group_recent: dict[str, deque[dt.datetime]] = {}
        self.paused_until: dt.datetime | None = None

    def wait(self, chat: str, is_group: bool, now: dt.datetime) -> float:
        """Seconds until a message to `chat` may go; 0 when it may go now."""
        until = now
        if self.paused_until is not None and self.paused_until > until:
            until = self.paused_until
        while self.recent and self.recent[0] <= now - SECOND:
            self.recent.popleft()
        if len(self.recent) >= self.limits.per_second:
            until = max(until, self.recent[-self.limits.per_second] + SECOND)
        last = self.last_chat.get(chat)
        if last is not None:
            until = max(until, last + dt.timedelta(seconds=self.limits.chat_interval))
        if is_group:
            window = self.group_recent.get(chat)
            if window is not None:
                while window and window[0] <= now - MINUTE:
                    window.popleft()
                if len(window) >= self.limits.group_per_minute:
                    until = max(until, window[-self.limits.group_per_minute] + MINUTE)
        return (until - now).total_seconds()

    def record(self, chat: str, is_group: bool, now: dt.datetime) -> None:
        self.recent.append(now)
        self.last_chat[chat] = now
        if is_group:
            self.group_recent.setdefault(chat, deque()).append(now)
        if len(self.last_chat) > 50_000:  # forget chats whose interval is long over
            horizon = now - dt.timedelta(seconds=max(self.limits.chat_interval, 1.0))
            self.last_chat = {c: t for c, t in self.last_chat.items() if t > horizon}

    def pause(self, until: dt.datetime) -> None:
        if self.paused_until is None or until > self.paused_until:
            self.paused_until = until


class BroadcastSender:
    """Drive with `await drain_once()` (send what is due now, return the number sent) or `await run(stop)`.

    `sleep` is injectable so tests run on a fake clock (default `asyncio.sleep`); `limits` override the
    defaults per channel (the composition root passes the configured ones)."""

    def __init__(
        self,
        uow_factory: Callable[[], BroadcastsUnitOfWork],
        transports: dict[str, Transport],
        content: Content,
        i18n: I18n,
        clock: Clock,
        sleep: Sleep | None = None,
        limits: dict[str, ChannelLimits] | None = None,
        *,
        stale_after: float = 300.0,
        max_attempts: int = 5,
        retry_base_seconds: float = 5.0,
        poll_seconds: float = 5.0,
    ) -> None:
        self.uow_factory = uow_factory
        self.transports = transports
        self.content = content
        self.i18n = i18n
        self.clock = clock
        self.sleep: Sleep = sleep or asyncio.sleep
        merged = {**DEFAULT_LIMITS, **(limits or {})}
        self.limiters = {ch: RateLimiter(merged.get(ch, ChannelLimits(per_second=5))) for ch in transports}
        self.stale_after = dt.timedelta(seconds=stale_after)
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self.poll_seconds = poll_seconds
        self._claimed: set[int] = set()  # rows this process has in hand (queued, claimed or being sent)
        self._tasks: set[asyncio.Task[None]] = set()
        self._recovered = False
        self._broadcasts: dict[int, BroadcastRec] = {}
        self.sent = 0

    @property
    def in_flight(self) -> set[asyncio.Task[None]]:
        return set(self._tasks)

    async def recover(self) -> int:
        """Rows a dead sender left `sending` become `unknown` (see the module docstring); returns how many.
        The first call also rebuilds the rate windows from the rows."""
        now = self.clock()
        async with self.uow_factory() as uow:
            n = await uow.broadcasts.recover_stale(now - self.stale_after)
            # The platform counts per bot, not per process: carry on the windows of the sender before us.
            for channel, limiter in self.limiters.items() if not self._recovered else ():
                for chat, is_group, at in await uow.broadcasts.recent_attempts(channel, now - MINUTE):
                    limiter.record(chat, is_group, at)
                until = await uow.broadcasts.paused_until(channel, now)
                if until is not None:
                    limiter.pause(until)
            await uow.commit()
        if n:
            log.warning("%d deliveries were interrupted while sending; marked unknown, not sent again", n)
        self._recovered = True
        return n

    async def drain_once(self) -> int:
        """Send every delivery due now (scheduled time reached, retry time reached); returns the number sent."""
        if not self._recovered:
            await self.recover()
        before = self.sent
        await asyncio.gather(*(self._drain_channel(ch) for ch in self.transports))
        return self.sent - before

    async def run_until_empty(self) -> int:
        """Drain, waiting out retries, until no delivery due by now is left (later schedules are left)."""
        start = self.clock()
        total = 0
        while True:
            total += await self.drain_once()
            nxt = await self._next_due(scheduled_before=start)
            if nxt is None:
                return total
            await self.sleep(max((nxt - self.clock()).total_seconds(), 0.001))

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until `stop` is set; scheduled broadcasts go out when their time comes."""
        while not stop.is_set():
            await self.recover()  # another sender (PostgreSQL) may have died meanwhile
            await self.drain_once()
            nxt = await self._next_due()
            wait = self.poll_seconds
            if nxt is not None:
                wait = min(wait, max((nxt - self.clock()).total_seconds(), 0.001))
            sleeper = asyncio.ensure_future(self.sleep(wait))
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
            for waiter in (sleeper, stopper):
                waiter.cancel()

    async def _next_due(self, scheduled_before: dt.datetime | None = None) -> dt.datetime | None:
        async with self.uow_factory() as uow:
            times = [await uow.broadcasts.next_due_at(ch, scheduled_before) for ch in self.transports]
        known = [t for t in times if t is not None]
        return min(known) if known else None

    async def _drain_channel(self, channel: str) -> None:
        limiter = self.limiters[channel]
        slots = asyncio.Semaphore(limiter.limits.max_in_flight)
        mine: set[asyncio.Task[None]] = set()
        busy: set[str] = set()  # chats with a message in hand: never two at once to one chat
        try:
            while True:
                now = self.clock()
                async with self.uow_factory() as uow:
                    rows = await uow.broadcasts.candidates(channel, now, limit=200)
                rows = [r for r in rows if r[0] not in self._claimed and r[1] not in busy]
                if not rows:
                    if not mine:
                        return
                    await asyncio.wait(mine, return_when=asyncio.FIRST_COMPLETED)
                    continue
                waits = [(limiter.wait(chat, group, now), (i, chat, group)) for i, chat, group in rows]
                ready = [item for w, item in waits if w <= 0]
                if not ready:  # every chat is within its interval (or the channel is paused after a 429)
                    await self.sleep(max(min(w for w, _ in waits), 0.001))
                    continue
                for delivery_id, chat, group in ready:
                    if chat in busy:
                        continue
                    await slots.acquire()
                    self._claimed.add(delivery_id)
                    busy.add(chat)
                    task = asyncio.create_task(self._send_one(channel, delivery_id, chat, group, slots))
                    mine.add(task)
                    self._tasks.add(task)
                    task.add_done_callback(mine.discard)
                    task.add_done_callback(self._tasks.discard)
                    task.add_done_callback(partial(_forget, busy, chat))
        finally:
            # Stopping: take nothing new, but let what has started finish and be marked.
            if mine:
                await asyncio.gather(*mine, return_exceptions=True)

    async def _send_one(
        self, channel: str, delivery_id: int, chat: str, is_group: bool, slots: asyncio.Semaphore
    ) -> None:
        limiter = self.limiters[channel]
        try:
            # Wait for the limits before claiming, so a claimed row is one about to go out.
            await self._wait_for_limits(limiter, chat, is_group)
            try:
                async with self.uow_factory() as uow:
                    delivery = await uow.broadcasts.claim(delivery_id, self.clock())
                    if delivery is None:  # another sender has it, or it was settled meanwhile
                        return
                    broadcast = self._broadcasts.get(delivery.broadcast_id)
                    if broadcast is None:  # a broadcast never changes once stored
                        broadcast = await uow.broadcasts.get(delivery.broadcast_id)
                        assert broadcast is not None
                        self._broadcasts[broadcast.id] = broadcast
                    reply = await render_delivery(uow, delivery, broadcast, self.content, self.i18n, self.clock())
                    await uow.commit()
            except Exception as exc:  # nothing was claimed (rolled back): try this row again later
                log.warning("delivery %d could not be prepared: %s", delivery_id, type(exc).__name__)
                await self._defer(delivery_id, type(exc).__name__)
                return
            # Check and record the limits with no await in between, right before the call.
            await self._wait_for_limits(limiter, chat, is_group)
            limiter.record(chat, is_group, self.clock())
            address = reply.to or ChannelAddress(channel, chat, delivery.external_id or chat)
            try:
                result = await self.transports[channel].deliver(address, [reply])
            except Exception as exc:  # a transport bug or a network error: retry later
                log.warning("delivery %d raised %s", delivery_id, type(exc).__name__)
                result = DeliveryResult(DeliveryStatus.RETRY, error=type(exc).__name__)
            await self._finish(channel, delivery, broadcast, result)
        finally:
            self._claimed.discard(delivery_id)
            slots.release()

    async def _defer(self, delivery_id: int, error: str) -> None:
        now = self.clock()
        async with self.uow_factory() as uow:
            row = await uow.broadcasts.delivery(delivery_id)
            if row is not None:
                backoff = dt.timedelta(seconds=self.retry_base_seconds * 2**row.attempts)
                await uow.broadcasts.defer(
                    delivery_id, now, now + backoff, error, row.attempts + 1 >= self.max_attempts
                )
                await uow.commit()

    async def _wait_for_limits(self, limiter: RateLimiter, chat: str, is_group: bool) -> None:
        while (wait := limiter.wait(chat, is_group, self.clock())) > 0:
            await self.sleep(max(wait, 0.001))

    async def _finish(self, channel: str, d: DeliveryRec, broadcast: BroadcastRec, result: DeliveryResult) -> None:
        school_id = broadcast.school_id
        now = self.clock()
        limiter = self.limiters[channel]
        async with self.uow_factory() as uow:
            repo = uow.broadcasts
            if result.status is DeliveryStatus.SENT:
                if d.user_id is not None:  # one student's accounts are settled one at a time
                    await repo.lock_conversation(d.user_id, now)
                await repo.finish(d.id, "sent", now)
                # Once per student, on the first of their accounts reached; reminders are not new lessons.
                if (
                    d.user_id is not None
                    and broadcast.parent_id is None
                    and await repo.sent_to_user(broadcast.id, d.user_id) == 1
                ):
                    topic = self._topic(broadcast)
                    await uow.activity.add(
                        activity.LESSON_DELIVERED, now, d.user_id, school_id, d.class_id, topic, broadcast.ref
                    )
                self.sent += 1
            elif result.status is DeliveryStatus.BLOCKED:
                await repo.finish(d.id, "blocked", now, result.error or "blocked")
                if not d.is_group and d.external_id:
                    await uow.users.set_reachable(channel, d.external_id, False)
                await repo.skip_target(channel, d.chat_id)
            elif result.status is DeliveryStatus.RETRY and result.retry_after is not None:
                # 429: the whole channel waits; the same row goes again, and the wait is not a failure.
                until = now + dt.timedelta(seconds=result.retry_after)
                limiter.pause(until)
                await repo.finish(d.id, "pending", now, "retry_after", next_attempt_at=until)
            elif result.status is DeliveryStatus.RETRY and d.attempts < self.max_attempts:
                backoff = self.retry_base_seconds * 2 ** (d.attempts - 1)
                await repo.finish(
                    d.id, "pending", now, result.error or "retry", next_attempt_at=now + dt.timedelta(seconds=backoff)
                )
            else:
                await repo.finish(d.id, "failed", now, result.error or result.status.value)
            await uow.commit()

    def _topic(self, broadcast: BroadcastRec) -> str | None:
        if broadcast.kind == "lesson":
            lesson = self.content.lessons.get(broadcast.ref)
            return lesson.topic if lesson else None
        return str(broadcast.ref)
