"""SQL of learning: lesson progress, quiz attempts and their answers (contest attempts are quiz attempts too)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    case,
    exists,
    func,
    select,
    update,
)

from bot.learning.ports import AnswerRec, AttemptRec, ProgressRec
from db import models as m
from db.sql import SqlRepository, hot, insert_ignore, p, prefixed_rec, rowcount, sql_statement

_attempts: Table = m.QuizAttempt.__table__  # type: ignore[assignment]
_answers: Table = m.AttemptAnswer.__table__  # type: ignore[assignment]


def first_unanswered(attempt_id: ColumnElement[Any]) -> ColumnElement[int]:
    """The first question (seq) of the attempt `attempt_id` with no answer: its number of answers while they
    have no gap (the chat answers in order); the first gap when the contest page answered in another order."""
    a, b = _answers.alias("fa"), _answers.alias("fb")
    after = ~exists().where(b.c.attempt_id == a.c.attempt_id, b.c.seq == a.c.seq + 1)
    gap = select(func.min(a.c.seq + 1)).where(a.c.attempt_id == attempt_id, after).scalar_subquery()
    first = exists().where(_answers.c.attempt_id == attempt_id, _answers.c.seq == 0)
    return case((first, gap), else_=0)


_ATTEMPT = hot(select(*_attempts.c).where(_attempts.c.id == p("attempt_id")))


_ANSWERS = hot(select(*_answers.c).where(_answers.c.attempt_id == p("attempt_id")).order_by(_answers.c.seq))


_FINISH_ATTEMPT = hot(
    update(_attempts)  # type: ignore[arg-type]
    .where(_attempts.c.id == p("b_id"), _attempts.c.finished_at.is_(None))
    .values(finished_at=p("b_now"), score=p("b_score"))
)


_CORRECT_ANSWERS = hot(
    select(func.count())
    .select_from(_answers)
    .where(_answers.c.attempt_id == p("attempt_id"), _answers.c.correct.is_(True))
)


# Finishing with the score counted from the stored answers, in one statement.
_FINISH_SCORED = hot(
    update(_attempts)  # type: ignore[arg-type]
    .where(_attempts.c.id == p("b_id"), _attempts.c.finished_at.is_(None))
    .values(
        finished_at=p("b_at"),
        score=select(func.count())
        .select_from(_answers)
        .where(_answers.c.attempt_id == p("b_id"), _answers.c.correct.is_(True))
        .scalar_subquery(),
    )
    .returning(_attempts.c.score)
)


_ADD_ANSWER = hot(
    sql_statement(
        "INSERT INTO attempt_answers (attempt_id, seq, question_id, chosen, correct, answered_at)"
        " VALUES (:attempt_id, :seq, :question_id, :chosen, :correct, :now) ON CONFLICT (attempt_id, seq) DO NOTHING",
        _answers,
        now="answered_at",
    )
)


_CREATE_ATTEMPT = hot(
    sql_statement(
        "INSERT INTO quiz_attempts (user_id, kind, topic, ref, questions, started_at, deadline_at, total)"
        " VALUES (:user_id, :kind, :topic, :ref, :questions, :started_at, :deadline_at, :total) RETURNING id",
        _attempts,
        returning=_attempts.c.id,
    )
)


def attempt_of(row: Any, prefix: str) -> AttemptRec:
    rec: AttemptRec = prefixed_rec(AttemptRec, row, prefix)
    rec.questions = list(rec.questions)
    return rec


def attempt_rec(row: m.QuizAttempt) -> AttemptRec:
    return AttemptRec(
        row.id,
        row.user_id,
        row.kind,
        row.topic,
        row.ref,
        list(row.questions),
        row.started_at,
        row.deadline_at,
        row.finished_at,
        row.score,
        row.total,
    )


class SqlProgressRepository(SqlRepository):
    async def _row(self, user_id: int, lesson_id: str) -> m.LessonProgress | None:
        return (
            await self.session.execute(
                select(m.LessonProgress).where(
                    m.LessonProgress.user_id == user_id, m.LessonProgress.lesson_id == lesson_id
                )
            )
        ).scalar_one_or_none()

    async def get(self, user_id: int, lesson_id: str) -> ProgressRec | None:
        row = await self._row(user_id, lesson_id)
        return _progress(row) if row else None

    async def open(self, user_id: int, lesson_id: str, topic: str, version: int, now: dt.datetime) -> None:
        stmt = insert_ignore(self.session, m.LessonProgress, ["user_id", "lesson_id"]).values(
            user_id=user_id,
            lesson_id=lesson_id,
            topic=topic,
            content_version=version,
            card_index=0,
            opened_at=now,
        )
        await self.session.execute(stmt)

    async def set_card(self, user_id: int, lesson_id: str, card_index: int) -> None:
        await self.session.execute(
            update(m.LessonProgress)
            .where(
                m.LessonProgress.user_id == user_id,
                m.LessonProgress.lesson_id == lesson_id,
                m.LessonProgress.card_index < card_index,
            )
            .values(card_index=card_index)
        )

    async def complete(self, user_id: int, lesson_id: str, score: int, now: dt.datetime) -> None:
        row = await self._row(user_id, lesson_id)
        if row is not None:
            if row.completed_at is None:
                row.completed_at = now
            row.check_score = max(score, row.check_score or 0)

    async def for_user(self, user_id: int) -> list[ProgressRec]:
        rows = (
            await self.session.execute(
                select(m.LessonProgress).where(m.LessonProgress.user_id == user_id).order_by(m.LessonProgress.opened_at)
            )
        ).scalars()
        return [_progress(r) for r in rows]


def _progress(row: m.LessonProgress) -> ProgressRec:
    return ProgressRec(row.lesson_id, row.topic, row.card_index, row.opened_at, row.completed_at, row.check_score)


class SqlAttemptRepository(SqlRepository):
    async def create(
        self,
        user_id: int,
        kind: str,
        topic: str | None,
        ref: str | None,
        questions: list[Any],
        now: dt.datetime,
        deadline_at: dt.datetime | None = None,
    ) -> AttemptRec:
        params = {
            "user_id": user_id,
            "kind": kind,
            "topic": topic,
            "ref": ref,
            "questions": questions,
            "started_at": now,
            "deadline_at": deadline_at,
            "total": len(questions),
        }
        attempt_id = (await self.session.execute(_CREATE_ATTEMPT, params)).scalar_one()
        return AttemptRec(
            attempt_id, user_id, kind, topic, ref, list(questions), now, deadline_at, None, None, len(questions)
        )

    async def get(self, attempt_id: int) -> AttemptRec | None:
        row = (await self.session.execute(_ATTEMPT, {"attempt_id": attempt_id})).first()
        return attempt_rec(row) if row else None  # type: ignore[arg-type]

    async def add_answer(
        self, attempt_id: int, seq: int, question_id: str, chosen: int, correct: bool, now: dt.datetime
    ) -> bool:
        result = await self.session.execute(
            _ADD_ANSWER,
            {
                "attempt_id": attempt_id,
                "seq": seq,
                "question_id": question_id,
                "chosen": chosen,
                "correct": correct,
                "now": now,
            },
        )
        return bool(rowcount(result))

    async def answers(self, attempt_id: int) -> list[AnswerRec]:
        rows = await self.session.execute(_ANSWERS, {"attempt_id": attempt_id})
        return [AnswerRec(r.seq, r.question_id, r.chosen, r.correct, r.answered_at) for r in rows]

    async def finish(self, attempt_id: int, score: int, now: dt.datetime) -> bool:
        """False when the attempt was finished before (nothing changed)."""
        result = await self.session.execute(_FINISH_ATTEMPT, {"b_id": attempt_id, "b_now": now, "b_score": score})
        return bool(rowcount(result))

    async def finish_scored(self, attempt_id: int, at: dt.datetime) -> int | None:
        """Finish the attempt as of `at`, scored from its stored answers; returns the score, or None when the
        attempt was finished before (nothing changed)."""
        score = (await self.session.execute(_FINISH_SCORED, {"b_id": attempt_id, "b_at": at})).scalar_one_or_none()
        return None if score is None else int(score)

    async def correct_count(self, attempt_id: int) -> int:
        return int((await self.session.execute(_CORRECT_ANSWERS, {"attempt_id": attempt_id})).scalar_one())

    async def for_user(self, user_id: int, kind: str | None = None) -> list[AttemptRec]:
        stmt = select(m.QuizAttempt).where(m.QuizAttempt.user_id == user_id)
        if kind:
            stmt = stmt.where(m.QuizAttempt.kind == kind)
        rows = (await self.session.execute(stmt.order_by(m.QuizAttempt.id))).scalars()
        return [attempt_rec(r) for r in rows]
