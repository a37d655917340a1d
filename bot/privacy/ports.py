"""What privacy needs: parent links, data-subject requests, and every row about one user (export, erase, purge)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from bot.accounts.ports import AccountsEnv, AccountsUnitOfWork
from bot.core.context import Context
from bot.core.ports import UserRec


@dataclass(slots=True)
class ParentLinkRec:
    id: int
    code: str
    student_id: int
    expires_at: dt.datetime
    used_by: int | None


@dataclass(slots=True)
class PrivacyRequestRec:
    id: int
    user_id: int | None
    kind: str  # export|withdraw|erase
    status: str  # pending|done
    requested_at: dt.datetime
    due_at: dt.datetime
    completed_at: dt.datetime | None


class ParentLinkRepository(Protocol):
    async def create(
        self, code: str, student_id: int, created_by: int | None, expires_at: dt.datetime, now: dt.datetime
    ) -> ParentLinkRec: ...
    async def by_code(self, code: str) -> ParentLinkRec | None: ...
    async def mark_used(self, link_id: int, user_id: int, now: dt.datetime) -> bool: ...


class PrivacyRepository(Protocol):
    """Data-subject requests, and the personal data of one user found by following foreign keys to users."""

    async def add_request(
        self, user_id: int, requested_by: int | None, kind: str, now: dt.datetime, due_at: dt.datetime
    ) -> PrivacyRequestRec: ...
    async def complete_request(self, request_id: int, now: dt.datetime) -> None: ...
    async def requests(self, status: str | None = None, kind: str | None = None) -> list[PrivacyRequestRec]: ...
    async def class_members(self, class_id: int) -> list[UserRec]: ...
    async def children_of(self, parent_id: int) -> list[UserRec]: ...
    async def export(self, user_id: int, own_copy: bool = True) -> dict[str, list[dict[str, Any]]]:
        """Every row about the user; `own_copy` False (a parent's request) leaves out their mailbox letters."""
        ...

    async def erase(self, user_id: int) -> dict[str, int]: ...
    async def inactive_users(self, before: dt.datetime) -> list[int]: ...
    async def purge_old(
        self,
        before: dt.datetime,
        inbox_before: dt.datetime,
        now: dt.datetime,
        mailbox_before: dt.datetime | None = None,
    ) -> dict[str, int]: ...


class PrivacyUnitOfWork(AccountsUnitOfWork, Protocol):
    parent_links: ParentLinkRepository
    privacy: PrivacyRepository


class PrivacyEnv(AccountsEnv, Protocol):
    @property
    def retention_days(self) -> int: ...
    @property
    def mailbox_retention_days(self) -> int: ...


Ctx = Context[PrivacyUnitOfWork, PrivacyEnv]
