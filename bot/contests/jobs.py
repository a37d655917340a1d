"""Contest work for the running bot: at start, the attempts whose deadline passed while it was down are submitted."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.contests import service as svc
from bot.contests.ports import ContestsUnitOfWork
from bot.core.clock import Clock

log = logging.getLogger(__name__)


async def reconcile(uow_factory: Callable[[], ContestsUnitOfWork], clock: Clock) -> int:
    """Submit every contest attempt whose deadline passed while the bot was down (REL-12); call at start."""
    async with uow_factory() as uow:
        closed = await svc.close_overdue(uow, clock())
        await uow.commit()
    if closed:
        log.info("closed %s overdue contest attempts at their deadlines", closed)
    return closed
