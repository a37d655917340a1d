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


@dataclass(slots=True)
class RosterRec:
    id: int
    class_id: int
    full_name: str
    name_key: str
    student_code: str | None
    user_id: int | None


@dataclass(slots=True)
class MemberRec:
    user_id: int
    display_name: str | None


@dataclass(slots=True)
class BroadcastRec:
    id: int
    school_id: int | None
    created_by: int | None
    kind: str  # lesson|practice
    ref: str  # lesson id, or the topic of a practice quiz
    class_ids: list[int]
    send_at: dt.datetime
    due_on: dt.date | None
    parent_id: int | None
    reminder_on: dt.date | None
    created_at: dt.datetime


@dataclass(slots=True)
class RecipientRec:
    """Where a delivery goes: a student's channel account, or (user_id None, is_group) a class group chat."""

    user_id: int | None
    class_id: int | None
    channel: str
    external_id: str | None
    chat_id: str
    unreachable: bool = False
    is_group: bool = False

    @property
    def target(self) -> str:
        return f"group:{self.channel}:{self.chat_id}" if self.is_group else f"{self.channel}:{self.chat_id}"


@dataclass(slots=True)
class DeliveryRec:
    id: int
    broadcast_id: int
    target: str
    channel: str
    chat_id: str
    external_id: str | None
    is_group: bool
    user_id: int | None
    class_id: int | None
    status: str
    attempts: int
    last_error: str | None
    sent_at: dt.datetime | None


@dataclass(slots=True)
class LearningRec:
    """How far one student got with what a broadcast assigned."""

    opened: bool
    completed: bool


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
    async def finish(self, attempt_id: int, score: int, now: dt.datetime) -> bool:
        """False when the attempt was finished before (nothing changed)."""
        ...

    async def finish_scored(self, attempt_id: int, at: dt.datetime) -> int | None:
        """Finish the attempt as of `at`, scored from its stored answers; returns the score, or None when the
        attempt was finished before (nothing changed)."""
        ...

    async def correct_count(self, attempt_id: int) -> int: ...
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
        """A record tied to the user's latest class (the last of `ClassRepository.of_student`) and its school;
        with no class, to `fallback_school_id`."""
        ...


@dataclass(frozen=True, slots=True)
class ReportScope:
    """Which activity a report covers: everything (both None), one school, or some classes."""

    school_id: int | None = None
    class_ids: tuple[int, ...] | None = None


@dataclass(slots=True)
class CountRow:
    """Participation counts for one group (a school, class, topic, month; key None for the total)."""

    key: Any
    counts: dict[str, int]  # kind -> number of records
    students: int  # distinct students with a participation record


@dataclass(slots=True)
class ContestRow:
    ref: str
    entered: int
    submitted: int
    avg_score: float | None
    max_score: int | None
    prizes: dict[int, int]  # prize rank -> number awarded


@dataclass(slots=True)
class ReportFigures:
    """Everything a report shows, aggregated by the database."""

    totals: CountRow
    by_school: list[CountRow]
    by_class: list[CountRow]
    by_topic: list[CountRow]
    by_month: list[CountRow]  # key = index into the month starts given
    contests: list[ContestRow]
    schools: dict[int, str]  # id -> name, for the schools in scope
    classes: dict[int, ClassRec]
    enrolled_by_class: dict[int, int]  # class id -> students who joined it


class ReportRepository(Protocol):
    async def figures(
        self,
        start: dt.datetime,
        end: dt.datetime,
        scope: ReportScope,
        kinds: tuple[str, ...],
        student_kinds: tuple[str, ...],
        month_starts: list[dt.datetime],
        contest_kinds: tuple[str, str, str],
    ) -> ReportFigures: ...


class InboxRepository(Protocol):
    async def mark_handled(self, inbox_id: int, replies: list[dict[str, Any]], now: dt.datetime) -> bool: ...


class ClassGroupRepository(Protocol):
    async def link(
        self, class_id: int, channel: str, chat_id: str, linked_by: int | None, now: dt.datetime
    ) -> None: ...
    async def unlink(self, channel: str, chat_id: str) -> bool: ...
    async def class_of(self, channel: str, chat_id: str) -> int | None: ...
    async def for_class(self, class_id: int) -> list[tuple[str, str]]: ...


class AccountDirectoryRepository(Protocol):
    async def staff_accounts(self, channel: str) -> list[tuple[str, str, str]]: ...


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


# --- contests ---


@dataclass(slots=True)
class ContestRec:
    id: int
    slug: str
    title: str
    definition: dict[str, Any]
    created_at: dt.datetime


@dataclass(slots=True)
class RoundRec:
    id: int
    contest_id: int
    number: int
    name: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    status: str  # scheduled|open|closed|published
    opened_at: dt.datetime | None
    closed_at: dt.datetime | None
    published_at: dt.datetime | None
    actual: int | None


@dataclass(slots=True)
class RegistrationRec:
    id: int
    contest_id: int
    user_id: int
    display_name: str
    school_id: int | None
    school_name: str
    class_id: int | None
    class_name: str
    grade: int | None
    locked_at: dt.datetime | None


@dataclass(slots=True)
class StudentRoundRec:
    """A round as one student sees it: with its contest, the student's registration in the contest, how many
    official attempts they took in the round, and how many contest attempts of theirs are unfinished (any round)."""

    contest: ContestRec
    round: RoundRec
    registration: RegistrationRec | None
    official_used: int
    running: int


@dataclass(slots=True)
class AnsweringRec:
    """An attempt with what its next answer is checked against: its contest, if it is a contest attempt, and
    how many answers it already has."""

    attempt: AttemptRec
    contest: ContestRec | None
    answered: int


@dataclass(slots=True)
class EntryRec:
    id: int
    round_id: int
    registration_id: int
    user_id: int
    attempt_id: int
    official_no: int | None
    prediction: int | None


@dataclass(slots=True)
class AccountRec:
    channel: str
    external_id: str
    chat_id: str
    unreachable: bool


@dataclass(slots=True)
class NoticeRec:
    id: int
    user_id: int
    text: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


@dataclass(slots=True)
class LiveCount:
    school_id: int | None
    school_name: str
    class_id: int | None
    class_name: str
    started: int  # students with an official attempt in the round
    submitted: int  # of whom finished


@dataclass(slots=True)
class ClassMembers:
    class_id: int
    class_name: str
    school_id: int
    school_name: str
    grade: int
    members: int


@dataclass(slots=True)
class ParticipantRec:
    user_id: int
    school_id: int | None
    class_id: int | None


class ContestRepository(Protocol):
    async def create(
        self, slug: str, title: str, definition: dict[str, Any], created_by: int | None, now: dt.datetime
    ) -> ContestRec: ...
    async def get(self, contest_id: int) -> ContestRec | None: ...
    async def by_slug(self, slug: str) -> ContestRec | None: ...
    async def all(self) -> list[ContestRec]: ...
    async def add_round(
        self, contest_id: int, number: int, name: str, opens_at: dt.datetime, closes_at: dt.datetime
    ) -> RoundRec: ...
    async def rounds(self, contest_id: int) -> list[RoundRec]: ...
    async def round(self, round_id: int) -> RoundRec | None: ...
    async def student_round(self, round_id: int, user_id: int) -> StudentRoundRec | None: ...
    async def student_rounds(self, user_id: int) -> list[tuple[ContestRec, RoundRec, RegistrationRec | None]]:
        """Every round of every contest (by contest, then round number), with the user's registration in
        its contest."""
        ...

    async def update_round(self, round_id: int, **fields: Any) -> None: ...
    async def registration(self, contest_id: int, user_id: int) -> RegistrationRec | None: ...
    async def register(
        self,
        contest_id: int,
        user_id: int,
        display_name: str,
        school_id: int | None,
        school_name: str,
        class_id: int | None,
        class_name: str,
        grade: int | None,
        now: dt.datetime,
    ) -> RegistrationRec | None:
        """The new registration, or None when the user was registered for this contest already."""
        ...

    async def lock_registration(self, registration_id: int, now: dt.datetime) -> None: ...
    async def add_entry(
        self,
        round_id: int,
        registration_id: int,
        user_id: int,
        attempt_id: int,
        official_no: int | None,
        now: dt.datetime,
    ) -> bool: ...
    async def entry_by_attempt(self, attempt_id: int) -> EntryRec | None: ...
    async def attempt_context(self, attempt_id: int) -> tuple[EntryRec, RoundRec, ContestRec] | None: ...
    async def attempt_with_context(
        self, attempt_id: int
    ) -> tuple[AttemptRec, tuple[EntryRec, RoundRec, ContestRec] | None] | None:
        """An attempt with its `attempt_context` (None outside contests)."""
        ...

    async def answering(self, attempt_id: int) -> AnsweringRec | None: ...
    async def entries_of(self, round_id: int, user_id: int) -> list[EntryRec]: ...
    async def running(self, user_id: int) -> list[tuple[EntryRec, AttemptRec]]:
        """The user's unfinished contest attempts (overdue ones too) with their entries, by entry."""
        ...

    async def running_count(self, round_id: int) -> int: ...
    async def set_prediction(self, entry_id: int, prediction: int) -> bool:
        """False when the entry has a prediction already (the first one stays)."""
        ...

    async def overdue_attempts(self, before: dt.datetime, user_id: int | None = None) -> list[AttemptRec]: ...
    async def official_results(self, round_id: int) -> list[Any]: ...
    async def answer_times(self, round_id: int) -> dict[int, list[dt.datetime]]: ...
    async def live_counts(self, round_id: int) -> list[LiveCount]: ...
    async def class_members(self) -> list[ClassMembers]: ...
    async def participants(self, contest_id: int) -> list[ParticipantRec]: ...
    async def accounts(self, user_id: int) -> list[AccountRec]: ...
    async def add_notice(self, user_id: int, text: str, now: dt.datetime) -> None: ...
    async def pending_notices(self, user_id: int | None = None, limit: int = 500) -> list[NoticeRec]: ...
    async def mark_notices_sent(self, notice_ids: list[int], now: dt.datetime) -> None: ...
    async def add_security_event(
        self, user_id: int | None, kind: str, attempt_id: int | None, detail: dict[str, Any], now: dt.datetime
    ) -> None: ...


class RosterRepository(Protocol):
    """Class rosters, members, and the teacher's changes to a class."""

    async def add_entries(self, class_id: int, rows: list[tuple[str, str, str | None]], now: dt.datetime) -> int: ...
    async def entries(self, class_id: int) -> list[RosterRec]: ...
    async def link(self, entry_id: int, user_id: int) -> bool: ...
    async def members(self, class_id: int) -> list[MemberRec]: ...
    async def rename_class(self, class_id: int, name: str) -> None: ...
    async def archive_class(self, class_id: int) -> None: ...
    async def set_join_code(self, class_id: int, code: str) -> None: ...


class BroadcastRepository(Protocol):
    async def create(
        self,
        school_id: int | None,
        created_by: int | None,
        kind: str,
        ref: str,
        class_ids: list[int],
        send_at: dt.datetime,
        due_on: dt.date | None,
        now: dt.datetime,
        parent_id: int | None = None,
        reminder_on: dt.date | None = None,
    ) -> BroadcastRec: ...
    async def get(self, broadcast_id: int) -> BroadcastRec | None: ...
    async def recipients(self, class_ids: list[int]) -> list[RecipientRec]: ...
    async def add_deliveries(self, broadcast_id: int, recipients: list[RecipientRec], now: dt.datetime) -> int: ...
    async def deliveries(self, broadcast_id: int) -> list[DeliveryRec]: ...
    async def delivery(self, delivery_id: int) -> DeliveryRec | None: ...
    async def for_classes(self, class_ids: list[int], limit: int = 20) -> list[BroadcastRec]: ...
    async def for_student(self, user_id: int) -> list[BroadcastRec]: ...
    async def reminder_on(self, parent_id: int, day: dt.date) -> BroadcastRec | None: ...
    async def learning(self, broadcast: BroadcastRec, user_ids: list[int]) -> dict[int, LearningRec]: ...
    async def names(self, user_ids: list[int]) -> dict[int, str]: ...
    async def lock_conversation(self, user_id: int, now: dt.datetime) -> None: ...


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
    class_groups: ClassGroupRepository
    directory: AccountDirectoryRepository
    links: AccountLinkRepository
    contests: ContestRepository
    rosters: RosterRepository
    broadcasts: BroadcastRepository
    reports: ReportRepository
    parent_links: ParentLinkRepository
    privacy: PrivacyRepository

    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...
    async def settle(self) -> None:
        """Within a transaction, end one event's work as a commit would, without committing: write what is
        pending and forget the rows loaded, so the next event starts as in a new unit of work."""


UnitOfWorkFactory = Callable[[], UnitOfWork]
Clock = Callable[[], dt.datetime]
