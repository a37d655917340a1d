"""What reports need: the period's participation figures, aggregated by the database, and the pledges' tallies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.accounts.ports import AccountsEnv, ClassRec
from bot.core.context import Context
from bot.pledges.ports import PledgesUnitOfWork
from bot.reports.options import ReportOptions


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
    ref: str  # the contest's id, as the participation records store it
    entered: int
    submitted: int
    avg_score: float | None
    max_score: int | None
    prizes: dict[int, int]  # prize rank -> number awarded
    title: str = ""  # the contest's title (the ref when the contest is gone)


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
    # Letters to the school counsellor by kind of worry (counts only; not for a report on some classes).
    mailbox: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class StandardSchoolRow:
    """One school and the "An toàn về ANTT" standard in the report's school year."""

    school_id: int
    name: str
    registered: bool
    self_assessed: bool
    result: str | None  # dat|chua_dat, once evaluated
    evaluated_on: dt.date | None


@dataclass(slots=True)
class StandardTally:
    """The plan's target "100 % cơ sở giáo dục đăng ký và đạt tiêu chuẩn An toàn về ANTT", school by school."""

    school_year: str
    rows: list[StandardSchoolRow]

    @property
    def registered(self) -> int:
        return sum(r.registered for r in self.rows)

    @property
    def self_assessed(self) -> int:
        return sum(r.self_assessed for r in self.rows)

    @property
    def met(self) -> int:
        return sum(r.result == "dat" for r in self.rows)

    @property
    def unregistered(self) -> list[str]:
        return [r.name for r in self.rows if not r.registered]

    @property
    def not_met(self) -> list[str]:
        return [r.name for r in self.rows if r.registered and r.result != "dat"]


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
        mailbox_kind: str | None = None,
    ) -> ReportFigures: ...
    async def standard(self, school_year: str, school_id: int | None) -> StandardTally:
        """Every school (or the one school) with its registration for the standard in `school_year`."""
        ...


@dataclass(frozen=True, slots=True)
class SnapshotRec:
    """An overview's figures as last computed (`payload`: JSON), with the newest record they include."""

    key: str
    period: str
    scope: str
    upto_id: int
    computed_at: dt.datetime
    payload: str
    viewed_at: dt.datetime


class SnapshotRepository(Protocol):
    async def latest_activity_id(self) -> int: ...
    async def get(self, key: str) -> SnapshotRec | None: ...
    async def save(self, rec: SnapshotRec) -> None:
        """Insert or replace, and end its refresh claim."""

    async def claim(self, key: str, now: dt.datetime, taken_before: dt.datetime) -> bool:
        """Mark `key` as being refreshed unless another process has claimed it after `taken_before`."""

    async def viewed(self, key: str, now: dt.datetime) -> None: ...
    async def stale(self, viewed_after: dt.datetime, latest_id: int) -> list[SnapshotRec]:
        """The snapshots someone looked at after `viewed_after` that miss newer records."""

    async def forget_unviewed(self, viewed_before: dt.datetime) -> int: ...


class ReportsUnitOfWork(PledgesUnitOfWork, Protocol):
    """Accounts' repositories, the pledges' (their tallies go in the annex) and the reports' own."""

    reports: ReportRepository
    snapshots: SnapshotRepository


class ReportsEnv(AccountsEnv, Protocol):
    @property
    def reports(self) -> ReportOptions: ...


Ctx = Context[ReportsUnitOfWork, ReportsEnv]
