"""What contests need: contests, rounds, registrations, entries, and the figures results are ranked from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from bot.contests.ranking import Entry, Ranked, UnitResult
from bot.core.context import Context
from bot.learning.ports import AttemptRec, LearningEnv, LearningUnitOfWork


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
    its first question with no answer (the number of its answers while they were given in order)."""

    attempt: AttemptRec
    contest: ContestRec | None
    answered: int
    stored: int = 0  # its answers: more than `answered` when some were given out of order


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
class LiveCount:
    """A round's progress in one class (the school and class of the registration)."""

    school_id: int | None
    school_name: str
    class_id: int | None
    class_name: str
    registered: int  # students registered for the round's contest
    started: int  # of whom with an official attempt in the round
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


@dataclass(slots=True)
class LiveBooking:
    """A live round (`bot.live`) that a student's class takes a round in, as the contest's rules need it: when
    its first question opens, and until when a student may still join it (its last question's close)."""

    starts_at: dt.datetime
    joinable_until: dt.datetime


@dataclass(slots=True)
class FrozenResults:
    """A published round as it was published (`published_*` tables). The entries are rebuilt from the frozen
    rows: `attempt_id` is the frozen row's id, and `flagged` holds those ids (plus stand-ins for flagged attempts
    that were not a student's best, so its size is the published count)."""

    published_at: dt.datetime
    actual: int
    ranked: list[Ranked]
    units: list[UnitResult]
    flagged: set[int]


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

    async def roster_name(self, class_id: int, user_id: int) -> str | None:
        """The name on the class roster row the student is matched to (the school's spelling), if any."""
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
    async def official_results(self, round_id: int) -> list[Entry]: ...
    async def results_version(self, round_id: int) -> tuple[int, dt.datetime | None, int | None]:
        """What changes when the round's results may: its submitted official attempts, the last submission, the
        last entry."""
        ...

    async def too_fast(self, round_id: int, min_median_seconds: float) -> set[int]:
        """The round's official attempts whose median server-measured time per question (from the start to the
        first answer, then between answers) is below `min_median_seconds` (CHEAT-5: flagged for review only)."""
        ...

    async def live_counts(self, round_id: int) -> list[LiveCount]:
        """Registered, started and submitted by school and class, every class with a registration: one query."""
        ...

    async def class_members(self) -> list[ClassMembers]: ...
    async def participants(self, contest_id: int) -> list[ParticipantRec]: ...
    async def freeze(
        self,
        round_id: int,
        actual: int,
        ranked: list[Ranked],
        units: list[UnitResult],
        flagged: set[int],
        collective_unit: str,
        now: dt.datetime,
    ) -> None:
        """Store the round's results as published (`flagged`: attempt ids to review)."""
        ...

    async def frozen(self, round_id: int) -> FrozenResults | None:
        """The results stored when the round was published; None for a round published before they were kept."""
        ...


class LiveBookings(Protocol):
    """What the contest's rules read of the live rounds (stored by `bot.live`, which builds on the contests)."""

    async def booking(self, round_id: int, contest_id: int, user_id: int) -> LiveBooking | None:
        """The round's live round when the class of the user's registration in the contest takes it, else None."""
        ...


class ContestsUnitOfWork(LearningUnitOfWork, Protocol):
    contests: ContestRepository
    live: LiveBookings


class ContestsEnv(LearningEnv, Protocol):
    @property
    def web_base_url(self) -> str:
        """Where the contest page is served ("": not here, the chat only)."""
        ...


Ctx = Context[ContestsUnitOfWork, ContestsEnv]
