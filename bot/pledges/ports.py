"""What pledges need: the pledges and their text versions, confirmations, the students and linked parents a pledge
is for, the tallies by class, and the reminders sent."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from bot.accounts.ports import AccountsEnv, AccountsUnitOfWork, ClassRec
from bot.core.context import Context
from bot.core.ports import UserRec

STUDENT = "student"
PARENT = "parent"


@dataclass(slots=True)
class PledgeRec:
    id: int
    school_id: int | None  # None: every school of the district
    school_year: str
    title: str
    template: str | None
    version: int  # the current text
    text: str
    opens_at: dt.datetime
    closes_at: dt.datetime  # the first instant after the window
    created_by: int | None
    created_at: dt.datetime


@dataclass(slots=True)
class ConfirmationRec:
    version: int
    signer: str  # student|parent
    confirmed_by: int
    confirmed_at: dt.datetime


@dataclass(slots=True)
class ClassTally:
    """One class's figures for a pledge. Students count only while their consent is in force; a parent's side of a
    student is confirmed when a linked parent confirmed for them."""

    class_id: int
    students: int = 0
    students_confirmed: int = 0  # the current version
    students_earlier: int = 0  # an earlier version only (the text changed since)
    parents_linked: int = 0  # students with a parent's account linked to them
    parents_confirmed: int = 0  # the current version

    @property
    def students_missing(self) -> int:
        return self.students - self.students_confirmed

    @property
    def parents_missing(self) -> int:
        return self.students - self.parents_confirmed

    def add(self, other: ClassTally) -> None:
        self.students += other.students
        self.students_confirmed += other.students_confirmed
        self.students_earlier += other.students_earlier
        self.parents_linked += other.parents_linked
        self.parents_confirmed += other.parents_confirmed


@dataclass(slots=True)
class SignerRow:
    """A student of a class list: whether they, and a parent for them, confirmed (the latest version each)."""

    student_id: int
    name: str
    student_version: int | None
    student_at: dt.datetime | None
    parent_linked: bool
    parent_version: int | None
    parent_at: dt.datetime | None


@dataclass(slots=True)
class RecipientRec:
    """Someone a pledge's notices go to: a student, or a parent linked to a student (`student_id` the child)."""

    user_id: int
    locale: str
    student_id: int
    signer: str
    class_id: int
    confirmed: bool  # the current version
    earlier: bool  # only an earlier version


class PledgeRepository(Protocol):
    async def create(
        self,
        school_id: int | None,
        school_year: str,
        title: str,
        template: str | None,
        text: str,
        opens_at: dt.datetime,
        closes_at: dt.datetime,
        created_by: int | None,
        now: dt.datetime,
    ) -> PledgeRec: ...
    async def get(self, pledge_id: int) -> PledgeRec | None: ...
    async def add_version(self, pledge_id: int, text: str, created_by: int | None, now: dt.datetime) -> int:
        """Store a new text as the next version and make it current; returns its number."""
        ...

    async def set_window(self, pledge_id: int, opens_at: dt.datetime, closes_at: dt.datetime) -> None: ...
    async def listed(self, school_id: int | None) -> list[PledgeRec]:
        """Newest first: every pledge (`school_id` None), or the district's and that school's."""
        ...

    async def current(self, school_id: int, school_year: str, now: dt.datetime) -> list[PledgeRec]:
        """The district's and the school's pledges of that school year that have not closed yet."""
        ...

    async def overlapping(self, start: dt.datetime, end: dt.datetime) -> list[PledgeRec]: ...
    async def classes(self, pledge: PledgeRec) -> list[ClassRec]:
        """The classes a pledge is for: of its school year, of its school (or every school), not archived."""
        ...

    async def confirm(
        self, pledge_id: int, version: int, student_id: int, signer: str, confirmed_by: int, now: dt.datetime
    ) -> bool:
        """False (nothing written) when that side already confirmed that version."""
        ...

    async def confirmations(self, pledge_id: int, student_id: int) -> list[ConfirmationRec]: ...
    async def tallies(
        self, pledge: PledgeRec, class_ids: list[int], before: dt.datetime | None = None
    ) -> dict[int, ClassTally]:
        """Per class, counted in the database; `before`: confirmations made before that instant only."""
        ...

    async def signers(self, pledge: PledgeRec, class_id: int) -> list[SignerRow]: ...
    async def recipients(self, pledge: PledgeRec, class_ids: list[int]) -> list[RecipientRec]: ...
    async def children(self, parent_id: int) -> list[UserRec]:
        """The students whose guardian consent this parent gave through a parent link, still in force, and whose
        own agreement is in force."""
        ...

    async def reminded(self, pledge_id: int, class_ids: list[int], day: dt.date) -> set[int]: ...
    async def add_reminder(
        self, pledge_id: int, class_id: int, day: dt.date, sent_by: int | None, recipients: int, now: dt.datetime
    ) -> bool: ...


class PledgesUnitOfWork(AccountsUnitOfWork, Protocol):
    pledges: PledgeRepository


class PledgesEnv(AccountsEnv, Protocol):
    @property
    def web_base_url(self) -> str: ...


Ctx = Context[PledgesUnitOfWork, PledgesEnv]
