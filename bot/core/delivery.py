"""The outgoing side of a channel, as the runtime sees it: deliver replies to an address, say how it went."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.core.events import ChannelAddress
from bot.core.i18n import N_
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


# A message the platform will not take now for a reason of its rules (the Zalo OA's windows): FAILED with the
# error "not_sent:<reason>", never retried in a loop, and shown to the teacher as "chưa gửi được (<reason>)".
NOT_SENT = "not_sent:"
NOT_SENT_REASONS = {
    "oa_window": N_("người nhận chưa nhắn tin cho Zalo OA của trường trong 7 ngày qua"),
    "oa_not_following": N_("người nhận chưa quan tâm Zalo OA của trường"),
    "oa_restricted": N_("người nhận đã chặn loại tin này từ Zalo OA"),
    "oa_night": N_("Zalo không cho OA gửi tin từ 22 giờ đến 6 giờ sáng"),
}


def not_sent(reason: str) -> DeliveryResult:
    return DeliveryResult(DeliveryStatus.FAILED, error=NOT_SENT + reason)


def not_sent_reason(error: str | None) -> str | None:
    """The reason code of a "not sent" error, or None for any other error."""
    if error and error.startswith(NOT_SENT):
        return error[len(NOT_SENT) :]
    return None
