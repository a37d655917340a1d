"""What the web console stores: one-time sign-in links and browser sessions (only hashes of their secrets), files
behind links, and the reports it makes in the background."""

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
    ) -> int:
        """The new file's id."""
        ...

    async def get(self, token_hash: str, now: dt.datetime) -> WebFileRec | None: ...
    async def by_id(self, file_id: int, user_id: int, now: dt.datetime) -> WebFileRec | None:
        """A file of `user_id` by its id (a report job's), while it is kept."""
        ...

    async def purge(self, now: dt.datetime) -> int: ...


@dataclass(slots=True)
class WebReportJobRec:
    id: int
    user_id: int
    scope: str  # as asked: mine|all|school:ID|class:ID
    period: str  # the period's tag
    kind: str  # the period's kind: half|year
    state: str  # queued|running|done|failed
    step: str
    error: str | None
    docx_file_id: int | None
    xlsx_file_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class WebReportJobRepository(Protocol):
    async def start(
        self, user_id: int, scope: str, period: str, kind: str, now: dt.datetime, stale_before: dt.datetime
    ) -> tuple[int, bool]:
        """A new queued job, or the one of the same user, scope, period and kind still queued or running (updated
        since `stale_before`; an older one is failed as stale first): (its id, whether it is new). At most one such
        job exists even when two processes start it at once."""
        ...

    async def get(self, job_id: int) -> WebReportJobRec | None: ...
    async def recent(self, user_id: int, limit: int) -> list[WebReportJobRec]: ...
    async def claim(self, job_id: int, now: dt.datetime) -> bool:
        """Queued -> running: True for the one runner that moved it."""
        ...

    async def progress(self, job_id: int, step: str, now: dt.datetime) -> None:
        """The step a running job is at (and the sign that its process is alive)."""
        ...

    async def finish(self, job_id: int, docx_file_id: int, xlsx_file_id: int, now: dt.datetime) -> None: ...
    async def fail(self, job_id: int, error: str, now: dt.datetime) -> None: ...
    async def purge(self, before: dt.datetime) -> int:
        """Jobs created before `before` are forgotten (their files expire on their own)."""
        ...


class WebUnitOfWork(ReportsUnitOfWork, MailboxUnitOfWork, Protocol):
    web_files: WebFileRepository
    web_report_jobs: WebReportJobRepository
    web: WebRepository


class WebEnv(Protocol):
    @property
    def web_base_url(self) -> str: ...
