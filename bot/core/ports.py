"""What the kernel needs from the outside world, as protocols and plain records: users and their conversations,
and the small ports every feature writes (participation records, the audit trail, notices, security events).
Each feature adds its own ports (`bot/<feature>/ports.py`) to the unit of work; the database implements them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, Self


@dataclass(slots=True)
class UserRec:
    id: int
    display_name: str | None
    locale: str
    role: str  # a `bot.core.roles.Role` value
    school_id: int | None
    onboarded: bool


@dataclass(slots=True)
class ConversationRec:
    flow: str = ""
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    # {"options": [[token, action, label], ...], "lettered": bool, "text": str, "columns": int, "pinned": [...]}
    prompt: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class AccountRec:
    """One of a user's channel accounts (a user may have several: Telegram, Zalo)."""

    channel: str
    external_id: str
    chat_id: str
    unreachable: bool


@dataclass(slots=True)
class AuditRec:
    id: int
    at: dt.datetime
    actor_id: int | None
    action: str
    scope: str
    detail: dict[str, Any]
    prev_hash: str | None
    hash: str | None


@dataclass(slots=True)
class NoticeRec:
    """A message for one user, sent when one of their accounts can take it (a prize, a reply)."""

    id: int
    user_id: int
    text: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


class UserRepository(Protocol):
    async def by_account(self, channel: str, external_id: str) -> UserRec | None: ...
    async def for_event(self, channel: str, external_id: str) -> tuple[UserRec, ConversationRec] | None:
        """The user of an account with their conversation, locked for this unit of work; None when either the
        user or their conversation does not exist yet."""
        ...

    async def create(
        self,
        channel: str,
        external_id: str,
        chat_id: str,
        locale: str,
        now: dt.datetime,
        role: str = "student",
    ) -> UserRec: ...
    async def get(self, user_id: int) -> UserRec | None: ...
    async def update(self, user_id: int, **fields: Any) -> None: ...
    async def set_reachable(self, channel: str, external_id: str, reachable: bool) -> None: ...
    async def accounts(self, user_id: int) -> list[AccountRec]: ...
    async def staff_accounts(self, channel: str) -> list[tuple[str, str, str]]:
        """(external id, role, locale) of every staff account on `channel` (for their command menus)."""
        ...


class ConversationRepository(Protocol):
    async def get(self, user_id: int) -> ConversationRec: ...
    async def save(self, user_id: int, conv: ConversationRec, now: dt.datetime) -> None: ...


class AuditRepository(Protocol):
    async def add(
        self, actor_id: int | None, action: str, scope: str, detail: dict[str, Any], now: dt.datetime
    ) -> None: ...
    async def chain(self) -> list[AuditRec]: ...


class ActivityRepository(Protocol):
    """Participation records for the reports (`bot.core.activity` names the kinds)."""

    async def add(
        self,
        kind: str,
        at: dt.datetime,
        user_id: int | None,
        school_id: int | None,
        class_id: int | None,
        topic: str | None = None,
        ref: str | None = None,
        value: int | None = None,
    ) -> None: ...
    async def add_for_student(
        self,
        kind: str,
        at: dt.datetime,
        user_id: int,
        topic: str | None = None,
        ref: str | None = None,
        value: int | None = None,
        fallback_school_id: int | None = None,
    ) -> None:
        """A record tied to the user's latest class and its school; with no class, to `fallback_school_id`."""
        ...

    async def add_anonymous(
        self,
        kind: str,
        at: dt.datetime,
        user_id: int,
        fallback_school_id: int | None = None,
        topic: str | None = None,
        ref: str | None = None,
        value: int | None = None,
    ) -> None:
        """A record that keeps only the school of `user_id`'s latest class (else `fallback_school_id`): counted,
        never who."""
        ...


class NoticeRepository(Protocol):
    async def add(self, user_id: int, text: str, now: dt.datetime) -> None: ...
    async def pending(self, user_id: int | None = None, limit: int = 500) -> list[NoticeRec]: ...
    async def mark_sent(self, notice_ids: list[int], now: dt.datetime) -> None: ...


class SecurityRepository(Protocol):
    """Refused actions worth reviewing (forged or late contest answers): ids and reasons, never message text."""

    async def add(
        self, user_id: int | None, kind: str, attempt_id: int | None, detail: dict[str, Any], now: dt.datetime
    ) -> None: ...


class InboxRepository(Protocol):
    async def mark_handled(self, inbox_id: int, replies: list[dict[str, Any]], now: dt.datetime) -> bool:
        """Mark a stored update handled, with its replies; False when it was handled before (nothing changed)."""
        ...

    async def forget_text(self, inbox_id: int, text: str) -> None:
        """The stored update keeps its shape (it can still be parsed to send its replies) but no longer holds
        `text`: what a child typed about being hurt or in danger is never kept."""
        ...


class UnitOfWork(Protocol):
    """One per handled event. Repositories never commit; `commit()` does, once. Features extend this protocol
    with their own repositories (e.g. `bot.contests.ports.ContestsUnitOfWork`)."""

    users: UserRepository
    conversations: ConversationRepository
    audit: AuditRepository
    activity: ActivityRepository
    notices: NoticeRepository
    security: SecurityRepository
    inbox: InboxRepository

    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...
    async def settle(self) -> None:
        """Within a transaction, end one event's work as a commit would, without committing: write what is
        pending and forget the rows loaded, so the next event starts as in a new unit of work."""


UnitOfWorkFactory = Callable[[], UnitOfWork]
