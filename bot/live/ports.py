"""What the live round needs: its schedule, who joined it, and the figures its standings are counted from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from bot.contests.ports import ContestsUnitOfWork, LiveBookings


@dataclass(slots=True)
class LiveRec:
    id: int
    round_id: int
    class_ids: list[int]
    questions: list[list[Any]]  # [[question id, shown option order], ...], the same for everyone
    question_seconds: int
    pause_seconds: int
    starts_at: dt.datetime
    created_by: int | None
    created_at: dt.datetime


@dataclass(slots=True)
class ParticipantRec:
    user_id: int
    attempt_id: int
    school_id: int | None
    class_id: int | None


@dataclass(slots=True)
class ClassTally:
    """One class of a live round: its students who joined, and their answers to the questions closed so far."""

    school_id: int | None
    school_name: str
    class_id: int | None
    class_name: str
    joined: int
    correct: int  # correct answers to the closed questions


class LiveRepository(LiveBookings, Protocol):
    async def create(
        self,
        round_id: int,
        class_ids: list[int],
        questions: list[list[Any]],
        question_seconds: int,
        pause_seconds: int,
        starts_at: dt.datetime,
        created_by: int | None,
        now: dt.datetime,
    ) -> LiveRec | None:
        """The new live round; None when the round has one already."""
        ...

    async def get(self, live_id: int) -> LiveRec | None: ...
    async def by_round(self, round_id: int) -> LiveRec | None: ...
    async def participant(self, live_id: int, user_id: int) -> ParticipantRec | None: ...
    async def join(
        self,
        live_id: int,
        user_id: int,
        attempt_id: int,
        school_id: int | None,
        school_name: str,
        class_id: int | None,
        class_name: str,
        now: dt.datetime,
    ) -> bool:
        """False when the student had joined already (the first join stays)."""
        ...

    async def align_start(self, attempt_id: int, starts_at: dt.datetime) -> None:
        """Set the attempt's start to the live round's start (everyone's attempt lasts the same)."""
        ...

    async def tallies(self, live_id: int, closed: int) -> list[ClassTally]:
        """Joined students and correct answers to questions 0..closed-1, by school and class, in one query."""
        ...


class LiveUnitOfWork(ContestsUnitOfWork, Protocol):
    live: LiveRepository
