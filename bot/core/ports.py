"""What the core needs from the outside world, as protocols and plain records. The db layer implements them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(slots=True)
class UserRec:
    id: int
    display_name: str | None
    locale: str
    role: str  # student|teacher|school_admin|organizer
    school_id: int | None
    onboarded: bool


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
class ConversationRec:
    flow: str = ""
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    # {"options": [[token, action], ...], "lettered": bool}
    prompt: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ProgressRec:
    lesson_id: str
    topic: str
    card_index: int
    opened_at: dt.datetime
    completed_at: dt.datetime | None
    check_score: int | None


@dataclass(slots=True)
class AttemptRec:
    id: int
    user_id: int
    kind: str
    topic: str | None
    ref: str | None
    questions: list[Any]  # [[question_id, [option order]], ...]
    started_at: dt.datetime
    deadline_at: dt.datetime | None
    finished_at: dt.datetime | None
    score: int | None
    total: int


@dataclass(slots=True)
class AnswerRec:
    seq: int
    question_id: str
    chosen: int
    correct: bool
    answered_at: dt.datetime


@dataclass(slots=True)
class ConsentRec:
    kind: str
    method: str
    notice_version: str
    given_at: dt.datetime
    withdrawn_at: dt.datetime | None
    reference: str | None = None
    recorded_by: int | None = None


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


class UserRepository(Protocol):
    async def by_account(self, channel: str, external_id: str) -> UserRec | None: ...
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


class ConversationRepository(Protocol):
    async def get(self, user_id: int) -> ConversationRec: ...
    async def save(self, user_id: int, conv: ConversationRec, now: dt.datetime) -> None: ...


class ProgressRepository(Protocol):
    async def get(self, user_id: int, lesson_id: str) -> ProgressRec | None: ...
    async def open(self, user_id: int, lesson_id: str, topic: str, version: int, now: dt.datetime) -> None: ...
    async def set_card(self, user_id: int, lesson_id: str, card_index: int) -> None: ...
    async def complete(self, user_id: int, lesson_id: str, score: int, now: dt.datetime) -> None: ...
    async def for_user(self, user_id: int) -> list[ProgressRec]: ...


class AttemptRepository(Protocol):
    async def create(
        self,
        user_id: int,
        kind: str,
        topic: str | None,
        ref: str | None,
        questions: list[Any],
        now: dt.datetime,
        deadline_at: dt.datetime | None = None,
    ) -> AttemptRec: ...
    async def get(self, attempt_id: int) -> AttemptRec | None: ...
    async def add_answer(
        self, attempt_id: int, seq: int, question_id: str, chosen: int, correct: bool, now: dt.datetime
    ) -> bool: ...
    async def answers(self, attempt_id: int) -> list[AnswerRec]: ...
    async def finish(self, attempt_id: int, score: int, now: dt.datetime) -> None: ...
    async def for_user(self, user_id: int, kind: str | None = None) -> list[AttemptRec]: ...


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


class AuditRepository(Protocol):
    async def add(
        self, actor_id: int | None, action: str, scope: str, detail: dict[str, Any], now: dt.datetime
    ) -> None: ...
    async def chain(self) -> list[AuditRec]: ...


class ActivityRepository(Protocol):
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


class InboxRepository(Protocol):
    async def mark_handled(self, inbox_id: int, replies: list[dict[str, Any]], now: dt.datetime) -> bool: ...


# --- privacy ---


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
    async def export(self, user_id: int) -> dict[str, list[dict[str, Any]]]: ...
    async def erase(self, user_id: int) -> dict[str, int]: ...
    async def inactive_users(self, before: dt.datetime) -> list[int]: ...
    async def purge_old(self, before: dt.datetime, inbox_before: dt.datetime, now: dt.datetime) -> dict[str, int]: ...


class UnitOfWork(Protocol):
    """One per handled event. Repositories never commit; `commit()` does, once."""

    users: UserRepository
    schools: SchoolRepository
    classes: ClassRepository
    invites: InviteRepository
    conversations: ConversationRepository
    progress: ProgressRepository
    attempts: AttemptRepository
    consents: ConsentRepository
    audit: AuditRepository
    inbox: InboxRepository
    activity: ActivityRepository
    parent_links: ParentLinkRepository
    privacy: PrivacyRepository

    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
Clock = Callable[[], dt.datetime]
