"""The outgoing side of a channel, as the runtime sees it: deliver replies to an address, say how it went."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.core.events import ChannelAddress
from bot.core.replies import Reply


class DeliveryStatus(StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"  # the user blocked the bot / cannot be reached (Telegram 403): do not retry
    RETRY = "retry"  # transient (429 with retry_after, 5xx, timeouts): try again later
    FAILED = "failed"  # permanent for this message (400 bad request ...)


@dataclass(frozen=True)
class DeliveryResult:
    status: DeliveryStatus
    retry_after: float | None = None
    error: str | None = None


class Transport(Protocol):
    """Implemented by each platform channel (Telegram, Zalo); keeps to that platform's rate limits itself."""

    channel: str

    async def deliver(self, address: ChannelAddress, replies: list[Reply]) -> DeliveryResult: ...
