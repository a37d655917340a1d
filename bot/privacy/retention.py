"""Retention: deletes personal data nobody needs any more. Run daily (`python -m bot privacy purge`, or a
scheduler calling `purge`). Participation counts for the reports stay, no longer linked to anyone."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

from bot.privacy import service as privacy
from bot.privacy.ports import PrivacyUnitOfWork


async def purge(
    uow_factory: Callable[[], PrivacyUnitOfWork],
    now: dt.datetime,
    retention_days: int,
    inbox_days: int,
    mailbox_days: int | None = None,
) -> dict[str, int]:
    """Carry out queued deletion requests, delete accounts unused for `retention_days`, answers, lesson progress
    and pledge confirmations older than that, handled platform updates older than `inbox_days`, and the mailbox's
    letters closed more than `mailbox_days` ago (default `retention_days`)."""
    cutoff = now - dt.timedelta(days=retention_days)
    inbox_cutoff = now - dt.timedelta(days=inbox_days)
    mailbox_cutoff = now - dt.timedelta(days=retention_days if mailbox_days is None else mailbox_days)
    totals: Counter[str] = Counter()
    async with uow_factory() as uow:
        for request in await uow.privacy.requests(status="pending", kind=privacy.ERASE):
            if request.user_id is not None:
                await privacy.erase_user(uow, request.user_id, None, now)
                totals["accounts_erased_on_request"] += 1
        for user_id in await uow.privacy.inactive_users(cutoff):
            await privacy.erase_user(uow, user_id, None, now)
            totals["inactive_accounts_erased"] += 1
        totals.update(await uow.privacy.purge_old(cutoff, inbox_cutoff, now, mailbox_cutoff))
        await uow.audit.add(None, "privacy.purge", "all", {"rows": dict(totals)}, now)
        await uow.commit()
    return dict(totals)
