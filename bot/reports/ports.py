"""What reports need: the period's participation figures, aggregated by the database, and the pledges' tallies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
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


class ReportsUnitOfWork(PledgesUnitOfWork, Protocol):
    """Accounts' repositories, the pledges' (their tallies go in the annex) and the reports' own."""

    reports: ReportRepository


class ReportsEnv(AccountsEnv, Protocol):
    @property
    def reports(self) -> ReportOptions: ...


Ctx = Context[ReportsUnitOfWork, ReportsEnv]
