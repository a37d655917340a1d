"""Sending to Zalo OA users at the OA's pace, within its rules: replies quote the user's message (free replies),
messages the OA starts (broadcasts, notices) go only to users who interacted in the past 7 days and never at
night; a user the OA cannot reach now is reported "not sent" with the reason, not tried again in a loop."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.channels.zalo_oa.client import (
    NIGHT_BAN,
    NOT_FOLLOWING,
    OUTSIDE_WINDOW,
    RATE_LIMITED,
    RESTRICTED,
    TOKEN_ERRORS,
    OAApiError,
    OAClient,
    OANetworkError,
)
from bot.channels.zalo_oa.mapping import CHANNEL
from bot.channels.zalo_oa.render import FilePart, TextPart, Translate, file_note, render
from bot.core.clock import VN_TZ
from bot.core.delivery import DeliveryResult, DeliveryStatus, not_sent
from bot.core.events import ChannelAddress
from bot.core.replies import Reply
from bot.core.sendlimit import SendLimit
from bot.runtime.oa_followers import FollowerState
from bot.runtime.oa_tokens import OAAuthorizationNeeded, OATokenUnavailable

log = logging.getLogger(__name__)

WINDOW = dt.timedelta(days=7)
NIGHT_START, NIGHT_END = 22, 6  # Vietnam time: no message the OA starts (reference §2.5)
REFUSALS = {
    OUTSIDE_WINDOW: "oa_window",
    NOT_FOLLOWING: "oa_not_following",
    RESTRICTED: "oa_restricted",
    NIGHT_BAN: "oa_night",
}
TOO_BIG = -210  # a parameter or size over the limit
RATE_PAUSE = 1.0  # seconds every send waits after the OA's "limit call api" (-32)


class Followers(Protocol):
    async def interacted(self, oa_id: str, user_id: str, at: dt.datetime, following: bool | None = None) -> None: ...
    async def refused(self, oa_id: str, user_id: str, reason: str) -> None: ...
    async def state(self, oa_id: str, user_id: str) -> FollowerState | None: ...


def night_left(now: dt.datetime) -> float:
    """Seconds until 06:00 Vietnam time when `now` is in the OA's night (22:00–06:00), else 0."""
    local = now.astimezone(VN_TZ)
    if NIGHT_END <= local.hour < NIGHT_START:
        return 0.0
    morning = local.replace(hour=NIGHT_END, minute=0, second=0, microsecond=0)
    if local.hour >= NIGHT_START:
        morning += dt.timedelta(days=1)
    return max((morning - local).total_seconds(), 1.0)


class OATransport:
    """Delivers replies to one OA user. -32 → RETRY (everyone waits), a refused follower → FAILED "not sent"
    with the reason (remembered until they write again), other errors FAILED, network errors RETRY."""

    channel = CHANNEL

    def __init__(
        self,
        client: OAClient,
        oa_id: str,
        translate_for: Callable[[ChannelAddress], Awaitable[Translate]],
        limit: SendLimit,
        followers: Followers,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.client, self.oa_id = client, oa_id
        self.translate_for = translate_for
        self.limit, self.followers, self.clock = limit, followers, clock
        # Messages already sent of a delivery that stopped half-way: its retry skips them (no duplicates).
        self._partial: dict[tuple[str, str], int] = {}

    async def deliver(self, address: ChannelAddress, replies: list[Reply]) -> DeliveryResult:
        """A message the OA starts (a broadcast, a notice): only inside the user's window, never at night."""
        wait = night_left(self.clock())
        if wait:
            return DeliveryResult(DeliveryStatus.RETRY, retry_after=wait, error=f"not_sent:{REFUSALS[NIGHT_BAN]}")
        state = await self.followers.state(self.oa_id, address.user_id)
        if state is not None and state.not_reachable:
            return not_sent(state.not_reachable)
        last = state.last_interaction_at if state else None
        if last is None or self.clock() - last > WINDOW:
            return not_sent(REFUSALS[OUTSIDE_WINDOW])
        return await self.reply(address, replies)

    async def reply(self, address: ChannelAddress, replies: list[Reply], quote: str = "") -> DeliveryResult:
        """Replies to what the user just did, quoting their message when there is one."""
        _ = await self.translate_for(address)
        parts = render(replies, _)
        key = (address.user_id, _fingerprint(parts))
        done = self._partial.pop(key, 0)
        for sent, part in enumerate(parts[done:], start=done):
            result = await self._send_part(address, part, quote, _)
            if result is not None:
                if result.status is DeliveryStatus.RETRY and sent:
                    if len(self._partial) > 10_000:
                        self._partial.clear()
                    self._partial[key] = sent
                return result
            quote = ""  # the first message quotes the user's; the rest follow it
        return DeliveryResult(DeliveryStatus.SENT)

    async def _send_part(
        self, address: ChannelAddress, part: TextPart | FilePart, quote: str, _: Translate
    ) -> DeliveryResult | None:
        """None when sent; otherwise why not."""
        try:
            if isinstance(part, FilePart):
                await self.limit.acquire(None)
                try:
                    found = await self.client.upload(
                        part.kind, part.attachment.filename, part.attachment.content, part.attachment.mime_type
                    )
                except OAApiError as exc:
                    if exc.transient:
                        raise
                    # The OA refused the file itself (type, size): say so in words instead.
                    log.warning("zalo oa upload refused: %s", exc.code)
                    message = {"text": file_note(part.attachment, _, too_big=exc.code == TOO_BIG)}
                else:
                    message = part.message(found)
            else:
                message = part.message(quote)
            await self.limit.acquire(None)
            await self.client.send(address.user_id, message)
        except OAAuthorizationNeeded:
            log.error("zalo oa: no valid token; run `python -m bot zalo-oa authorize`")
            return DeliveryResult(DeliveryStatus.RETRY, retry_after=60.0, error="oa_authorize")
        except OATokenUnavailable as exc:  # its message says why, never holds a token
            log.warning("zalo oa: no valid access token now, will retry: %s", exc)
            return DeliveryResult(DeliveryStatus.RETRY, retry_after=30.0, error="oa_token_unavailable")
        except OAApiError as exc:
            if exc.code in REFUSALS:
                reason = REFUSALS[exc.code]
                if exc.code != NIGHT_BAN:  # the night ends by itself; the others when the user writes
                    await self.followers.refused(self.oa_id, address.user_id, reason)
                return not_sent(reason)
            if exc.code == RATE_LIMITED or exc.code == 429:
                await self.limit.pause(RATE_PAUSE)
                return DeliveryResult(DeliveryStatus.RETRY, retry_after=RATE_PAUSE, error=f"zalo_oa {exc.code}")
            if exc.transient or exc.code in TOKEN_ERRORS:  # a fresh token was refused too: the store's trouble
                return DeliveryResult(DeliveryStatus.RETRY, error=f"zalo_oa {exc.code}")
            log.warning("zalo oa send failed permanently: %s", exc.code)
            return DeliveryResult(DeliveryStatus.FAILED, error=f"zalo_oa {exc.code}")
        except OANetworkError as exc:
            return DeliveryResult(DeliveryStatus.RETRY, error=str(exc))
        return None


def _fingerprint(parts: list[TextPart | FilePart]) -> str:
    """The same replies give the same key (files by name and size: hashing megabytes for it is waste)."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, FilePart):
            digest.update(f"\x00f{part.attachment.filename}:{len(part.attachment.content)}".encode())
        else:
            digest.update(f"\x00t{part.text}{part.buttons!r}".encode())
    return digest.hexdigest()
