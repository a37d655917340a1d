"""What the web console stores: one-time sign-in links and browser sessions (only hashes of their secrets)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from bot.reports.ports import ReportsUnitOfWork


@dataclass(slots=True)
class WebSessionRec:
    user_id: int
    csrf: str
    expires_at: dt.datetime


class WebRepository(Protocol):
    async def add_login(self, token_hash: str, user_id: int, expires_at: dt.datetime, now: dt.datetime) -> None: ...
    async def use_login(self, token_hash: str, now: dt.datetime) -> int | None:
        """Spend a link: the user id if it was unused and not expired (at most once, even under races)."""
        ...

    async def add_session(
        self, sid_hash: str, user_id: int, csrf: str, expires_at: dt.datetime, now: dt.datetime
    ) -> None: ...
    async def find_session(self, sid_hash: str, now: dt.datetime) -> WebSessionRec | None: ...
    async def end_session(self, sid_hash: str) -> None: ...
    async def purge(self, now: dt.datetime) -> int: ...


class WebUnitOfWork(ReportsUnitOfWork, Protocol):
    web: WebRepository


class WebEnv(Protocol):
    @property
    def web_base_url(self) -> str: ...
