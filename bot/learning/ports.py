"""What learning needs: lesson progress, quiz attempts and their answers; and what it reads besides the database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from bot.accounts.ports import AccountsEnv, AccountsUnitOfWork
from bot.content.loader import Content
from bot.core.context import Context


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


class LearningUnitOfWork(AccountsUnitOfWork, Protocol):
    progress: ProgressRepository
    attempts: AttemptRepository


class LearningEnv(AccountsEnv, Protocol):
    @property
    def content(self) -> Content: ...
    @property
    def practice_questions(self) -> int: ...


Ctx = Context[LearningUnitOfWork, LearningEnv]
