"""What the durable inbox needs from the database: store updates once, find the unfinished ones, settle them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from bot.core.ports import InboxRepository, UnitOfWork


@dataclass(slots=True)
class InboxRow:
    id: int
    payload: dict[str, Any]
    status: str  # pending|handled (unfinished ones only are read back)
    replies: list[dict[str, Any]] | None


class InboxStore(InboxRepository, Protocol):
    async def store(
        self, channel: str, bot_id: str, external_id: str, payload: dict[str, Any], now: dt.datetime
    ) -> int | None:
        """Insert the update; its id, or None when the same update was stored before."""
        ...

    async def mark_done_many(self, inbox_ids: list[int], now: dt.datetime) -> None: ...
    async def fail(self, inbox_id: int, error: str, max_attempts: int, now: dt.datetime) -> str:
        """Count a failed attempt; the update's status after it ("dead" after `max_attempts`)."""
        ...

    async def unfinished(
        self, channel: str, bot_id: str, limit: int = 500, after_id: int = 0, received_before: dt.datetime | None = None
    ) -> list[InboxRow]: ...


class RuntimeUnitOfWork(UnitOfWork, Protocol):
    inbox: InboxStore
