"""What accounts need: schools, classes and memberships, invites, consents, class group chats, linking codes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from bot.content.loader import Content
from bot.core.context import Context
from bot.core.ports import UnitOfWork


@dataclass(slots=True)
class SchoolRec:
    id: int
    name: str


@dataclass(slots=True)
class ClassRec:
    id: int
    school_id: int
    teacher_id: int | None
    name: str
    grade: int
    school_year: str
    join_code: str
    archived: bool = False


@dataclass(slots=True)
class InviteRec:
    id: int
    code: str
    role: str
    school_id: int
    expires_at: dt.datetime
    used_by: int | None


@dataclass(slots=True)
class ConsentRec:
    kind: str
    method: str
    notice_version: str
    given_at: dt.datetime
    withdrawn_at: dt.datetime | None
    reference: str | None = None
    recorded_by: int | None = None


class SchoolRepository(Protocol):
    async def create(self, name: str, now: dt.datetime) -> SchoolRec: ...
    async def get(self, school_id: int) -> SchoolRec | None: ...
    async def list(self) -> list[SchoolRec]: ...


class ClassRepository(Protocol):
    async def create(
        self,
        school_id: int,
        teacher_id: int | None,
        name: str,
        grade: int,
        school_year: str,
        join_code: str,
        now: dt.datetime,
    ) -> ClassRec: ...
    async def get(self, class_id: int) -> ClassRec | None: ...
    async def by_code(self, join_code: str) -> ClassRec | None: ...
    async def for_teacher(self, teacher_id: int) -> list[ClassRec]: ...
    async def for_school(self, school_id: int) -> list[ClassRec]: ...
    async def of_student(self, user_id: int) -> list[ClassRec]: ...
    async def add_member(self, user_id: int, class_id: int, now: dt.datetime) -> bool: ...
    async def member_count(self, class_id: int) -> int: ...


class InviteRepository(Protocol):
    async def create(
        self,
        code: str,
        role: str,
        school_id: int,
        created_by: int | None,
        expires_at: dt.datetime,
        now: dt.datetime,
    ) -> InviteRec: ...
    async def by_code(self, code: str) -> InviteRec | None: ...
    async def mark_used(self, invite_id: int, user_id: int, now: dt.datetime) -> bool: ...


class ConsentRepository(Protocol):
    async def add(
        self,
        user_id: int,
        kind: str,
        method: str,
        notice_version: str,
        now: dt.datetime,
        recorded_by: int | None = None,
        reference: str | None = None,
    ) -> None: ...
    async def active(self, user_id: int) -> list[ConsentRec]: ...
    async def withdraw(self, user_id: int, now: dt.datetime) -> int: ...


class ClassGroupRepository(Protocol):
    async def link(
        self, class_id: int, channel: str, chat_id: str, linked_by: int | None, now: dt.datetime
    ) -> None: ...
    async def unlink(self, channel: str, chat_id: str) -> bool: ...
    async def class_of(self, channel: str, chat_id: str) -> int | None: ...
    async def for_class(self, class_id: int) -> list[tuple[str, str]]: ...


@dataclass(slots=True)
class LinkCodeRec:
    id: int
    code: str
    user_id: int
    expires_at: dt.datetime
    used_at: dt.datetime | None


class AccountLinkRepository(Protocol):
    """One-time codes that join a second channel account (Zalo, Telegram) to an existing user."""

    async def create_code(self, code: str, user_id: int, expires_at: dt.datetime, now: dt.datetime) -> None: ...
    async def by_code(self, code: str) -> LinkCodeRec | None: ...
    async def use_code(self, code_id: int, now: dt.datetime) -> bool: ...
    async def learning_data(self, user_id: int) -> int: ...
    async def move_accounts(self, from_user: int, to_user: int) -> None: ...
    async def delete_user(self, user_id: int) -> None: ...


class AccountsUnitOfWork(UnitOfWork, Protocol):
    schools: SchoolRepository
    classes: ClassRepository
    invites: InviteRepository
    consents: ConsentRepository
    class_groups: ClassGroupRepository
    links: AccountLinkRepository


class AccountsEnv(Protocol):
    """The settings accounts read (the composition root's environment has them)."""

    @property
    def invite_ttl_hours(self) -> int: ...
    @property
    def notice_version(self) -> str: ...
    @property
    def content(self) -> Content: ...


Ctx = Context[AccountsUnitOfWork, AccountsEnv]
