"""What the web console stores: one-time sign-in links and browser sessions (only hashes of their secrets)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from bot.mailbox.ports import MailboxUnitOfWork
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


@dataclass(slots=True)
class WebFileRec:
    user_id: int
    filename: str
    mime_type: str
    content: bytes


class WebFileRepository(Protocol):
    async def add(
        self,
        token_hash: str,
        user_id: int,
        filename: str,
        mime_type: str,
        content: bytes,
        expires_at: dt.datetime,
        now: dt.datetime,
    ) -> None: ...
    async def get(self, token_hash: str, now: dt.datetime) -> WebFileRec | None: ...
    async def purge(self, now: dt.datetime) -> int: ...


class WebUnitOfWork(ReportsUnitOfWork, MailboxUnitOfWork, Protocol):
    web_files: WebFileRepository
    web: WebRepository


class WebEnv(Protocol):
    @property
    def web_base_url(self) -> str: ...
