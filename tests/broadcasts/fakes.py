"""A transport at the platform boundary that records what it was asked to send, and when, and answers
429-like RETRY and 403-like BLOCKED on demand; a sleep that moves the fake clock instead of waiting."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.delivery import DeliveryResult, DeliveryStatus
from bot.core.events import ChannelAddress
from bot.core.replies import Reply


@dataclass
class Call:
    at: dt.datetime
    chat_id: str
    status: DeliveryStatus
    text: str = ""


@dataclass
class FakeTransport:
    channel: str
    clock: Callable[[], dt.datetime]
    blocked: set[str] = field(default_factory=set)
    retry_every: int = 0  # every n-th call answers RETRY with `retry_after`
    retry_after: float = 3.0
    calls: list[Call] = field(default_factory=list)
    replies: list[tuple[ChannelAddress, Reply]] = field(default_factory=list)
    notify_at: int = 0  # set `reached` once this many messages were received
    reached: asyncio.Event = field(default_factory=asyncio.Event)

    async def deliver(self, address: ChannelAddress, replies: list[Reply]) -> DeliveryResult:
        now = self.clock()
        text = replies[0].text if replies else ""
        if address.chat_id in self.blocked:
            self.calls.append(Call(now, address.chat_id, DeliveryStatus.BLOCKED))
            return DeliveryResult(DeliveryStatus.BLOCKED, error="Forbidden: bot was blocked by the user")
        if self.retry_every and (len(self.calls) + 1) % self.retry_every == 0:
            self.calls.append(Call(now, address.chat_id, DeliveryStatus.RETRY))
            return DeliveryResult(DeliveryStatus.RETRY, retry_after=self.retry_after, error="Too Many Requests")
        self.calls.append(Call(now, address.chat_id, DeliveryStatus.SENT, text))
        self.replies += [(address, r) for r in replies]
        if self.notify_at and len(self.received) >= self.notify_at:
            self.reached.set()
        await asyncio.sleep(0)  # the round trip: a stop may land here, after the platform has the message
        return DeliveryResult(DeliveryStatus.SENT)

    @property
    def received(self) -> list[str]:
        return [c.chat_id for c in self.calls if c.status is DeliveryStatus.SENT]


def fake_sleep(clock) -> Callable[[float], object]:  # type: ignore[no-untyped-def]
    async def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)
        await asyncio.sleep(0)

    return sleep


def check_limits(calls: list[Call], per_second: int, chat_interval: float = 1.0) -> None:
    """Sliding windows over the recorded call times: at most `per_second` calls in any [t, t+1s), and at
    least `chat_interval` seconds between two calls to one chat."""
    times = sorted(c.at for c in calls)
    j = 0
    for i, t in enumerate(times):
        while j < len(times) and times[j] < t + dt.timedelta(seconds=1):
            j += 1
        assert j - i <= per_second, f"{j - i} calls in the second from {t}"
    last: dict[str, dt.datetime] = {}
    for c in sorted(calls, key=lambda c: c.at):
        if c.chat_id in last:
            assert (c.at - last[c.chat_id]).total_seconds() >= chat_interval, c.chat_id
        last[c.chat_id] = c.at
