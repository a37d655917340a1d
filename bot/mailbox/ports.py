"""What the safe mailbox needs: the counsellors a school admin names, the letters of a school and their threads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from bot.accounts.ports import AccountsEnv, AccountsUnitOfWork
from bot.core.context import Context

NEW, HELPING, CLOSED = "new", "helping", "closed"
STATUSES: tuple[str, ...] = (NEW, HELPING, CLOSED)


@dataclass(slots=True)
class StaffRec:
    user_id: int
    display_name: str | None
    role: str


@dataclass(slots=True)
class CaseRec:
    id: int
    school_id: int
    writer_id: int
    kind: str
    anonymous: bool
    urgent: bool
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None


@dataclass(slots=True)
class MessageRec:
    id: int
    case_id: int
    from_writer: bool
    body: str
    created_at: dt.datetime


class MailboxRepository(Protocol):
    async def school_staff(self, school_id: int) -> list[StaffRec]:
        """Teachers and school admins of the school, by name."""
        ...

    async def counsellors(self, school_id: int) -> list[StaffRec]:
        """The named counsellors who are still staff of the school."""
        ...

    async def name_counsellor(self, school_id: int, user_id: int, named_by: int | None, now: dt.datetime) -> bool:
        """False when they were named already."""
        ...

    async def remove_counsellor(self, school_id: int, user_id: int) -> bool: ...
    async def add_case(
        self, school_id: int, writer_id: int, kind: str, anonymous: bool, urgent: bool, body: str, now: dt.datetime
    ) -> CaseRec: ...
    async def get_case(self, case_id: int) -> CaseRec | None: ...
    async def cases_of_school(self, school_id: int, limit: int = 50) -> list[CaseRec]:
        """Open letters first (urgent, then oldest), then the latest closed ones."""
        ...

    async def cases_of_writer(self, writer_id: int) -> list[CaseRec]: ...
    async def messages(self, case_id: int) -> list[MessageRec]: ...
    async def add_message(
        self, case_id: int, from_writer: bool, author_id: int | None, body: str, now: dt.datetime
    ) -> None: ...
    async def set_status(self, case_id: int, status: str, now: dt.datetime) -> None: ...


class MailboxUnitOfWork(AccountsUnitOfWork, Protocol):
    mailbox: MailboxRepository


Ctx = Context[MailboxUnitOfWork, AccountsEnv]
