"""The Zalo OA's followers as the channel sees them: when each last interacted (the OA's 7-day window for
messages it starts) and whether the OA refused the last one. Kept in the database behind this port."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.runtime.ports import RuntimeUnitOfWork


@dataclass(frozen=True, slots=True)
class FollowerState:
    last_interaction_at: dt.datetime | None
    following: bool | None
    not_reachable: str | None


class OAFollowerStore(Protocol):
    async def interacted(self, oa_id: str, user_id: str, at: dt.datetime, following: bool | None) -> None:
        """The user wrote, tapped or followed at `at` (or unfollowed: `following` False); a refusal is forgotten."""
        ...

    async def refused(self, oa_id: str, user_id: str, reason: str, now: dt.datetime) -> None:
        """The OA refused a message it started (not following, outside the window, restricted)."""
        ...

    async def state(self, oa_id: str, user_id: str) -> FollowerState | None: ...


class OAUnitOfWork(RuntimeUnitOfWork, Protocol):
    oa_followers: OAFollowerStore


class FollowerLog:
    """The store in units of work of its own, for the channel (one short transaction a call)."""

    def __init__(self, uow_factory: Callable[[], OAUnitOfWork], clock: Callable[[], dt.datetime]) -> None:
        self.uow_factory, self.clock = uow_factory, clock

    async def interacted(self, oa_id: str, user_id: str, at: dt.datetime, following: bool | None = None) -> None:
        async with self.uow_factory() as uow:
            await uow.oa_followers.interacted(oa_id, user_id, at, following)
            await uow.commit()

    async def refused(self, oa_id: str, user_id: str, reason: str) -> None:
        async with self.uow_factory() as uow:
            await uow.oa_followers.refused(oa_id, user_id, reason, self.clock())
            await uow.commit()

    async def state(self, oa_id: str, user_id: str) -> FollowerState | None:
        async with self.uow_factory() as uow:
            return await uow.oa_followers.state(oa_id, user_id)
