"""Notices (a prize, a reply for a student) go out to each user's reachable account within seconds; a notice
nobody could take stays pending, and the feature that wrote it shows it the next time the user comes by."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from bot.core.clock import Clock
from bot.core.delivery import DeliveryStatus, Transport
from bot.core.events import ChannelAddress
from bot.core.ports import UnitOfWork
from bot.core.replies import Reply

log = logging.getLogger(__name__)


async def deliver_notices(
    uow_factory: Callable[[], UnitOfWork], clock: Clock, transports: dict[str, Transport], limit: int = 200
) -> int:
    """Send pending notices to each user's reachable accounts; returns how many were sent. A notice is marked
    sent once one account took it."""
    sent = 0
    async with uow_factory() as uow:
        notices = await uow.notices.pending(limit=limit)
        accounts = {n.user_id: await uow.users.accounts(n.user_id) for n in notices}
    for notice in notices:
        for acc in accounts[notice.user_id]:
            transport = transports.get(acc.channel)
            if transport is None or acc.unreachable:
                continue
            result = await transport.deliver(
                ChannelAddress(acc.channel, acc.chat_id, acc.external_id), [Reply(notice.text)]
            )
            if result.status is DeliveryStatus.SENT:
                async with uow_factory() as uow:
                    await uow.notices.mark_sent([notice.id], clock())
                    await uow.commit()
                sent += 1
                break
    return sent


async def notices_loop(
    uow_factory: Callable[[], UnitOfWork],
    clock: Clock,
    transports: dict[str, Transport],
    stop: asyncio.Event,
    every: float,
) -> None:
    """Notices go out within `every` seconds of being written; a failure is logged and tried next round."""
    while not stop.is_set():
        try:
            while await deliver_notices(uow_factory, clock, transports):  # a full batch: go on at once
                if stop.is_set():
                    return
        except Exception:
            log.exception("notices could not be sent; trying again later")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
