"""Contest jobs for the running bot: the start-up reconciler and the sender of prize notices."""

from __future__ import annotations

import logging
from typing import Any

from bot.core.events import ChannelAddress
from bot.core.replies import Reply
from bot.core.services import contests as svc
from bot.runtime.transport import DeliveryStatus, Transport

log = logging.getLogger(__name__)


async def reconcile(app: Any) -> int:
    """Submit every contest attempt whose deadline passed while the bot was down (REL-12); call at start."""
    async with app.uow_factory() as uow:
        closed = await svc.close_overdue(uow, app.clock())
        await uow.commit()
    if closed:
        log.info("closed %s overdue contest attempts at their deadlines", closed)
    return closed


async def deliver_notices(app: Any, transports: dict[str, Transport], limit: int = 200) -> int:
    """Send pending notices (e.g. prizes) to each user's reachable accounts; returns how many were sent.

    A notice is marked sent once one account took it. Notices nobody could take stay pending; the student
    also sees them the next time they open the contest (/thi)."""
    sent = 0
    async with app.uow_factory() as uow:
        notices = await uow.contests.pending_notices(limit=limit)
        accounts = {n.user_id: await uow.contests.accounts(n.user_id) for n in notices}
    for notice in notices:
        for acc in accounts[notice.user_id]:
            transport = transports.get(acc.channel)
            if transport is None or acc.unreachable:
                continue
            result = await transport.deliver(
                ChannelAddress(acc.channel, acc.chat_id, acc.external_id), [Reply(notice.text)]
            )
            if result.status is DeliveryStatus.SENT:
                async with app.uow_factory() as uow:
                    await uow.contests.mark_notices_sent([notice.id], app.clock())
                    await uow.commit()
                sent += 1
                break
    return sent
