"""SQL of the live round: its schedule, its participants, and its standings counted in one query."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.contests.ports import LiveBooking
from bot.live.ports import ClassTally, LiveRec, ParticipantRec
from bot.live.service import last_answer_at
from db import models as m
from db import models_live as ml
from db.sql import SqlRepository, hot, p


def _live(row: ml.LiveRound) -> LiveRec:
    return LiveRec(
        row.id,
        row.round_id,
        [int(c) for c in row.class_ids],
        [list(q) for q in row.questions],
        row.question_seconds,
        row.pause_seconds,
        row.starts_at,
        row.created_by,
        row.created_at,
    )


_live_rounds = ml.LiveRound.__table__
_registrations = m.ContestRegistration.__table__
# Every official start asks it (`LiveBookings`): on the fast path, one row or none.
_BOOKING = hot(
    select(*_live_rounds.c, _registrations.c.class_id.label("reg_class_id"))
    .select_from(
        _live_rounds.outerjoin(
            _registrations,
            and_(_registrations.c.contest_id == p("contest_id"), _registrations.c.user_id == p("user_id")),
        )
    )
    .where(_live_rounds.c.round_id == p("round_id"))
)


class SqlLiveRepository(SqlRepository):
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
        row = ml.LiveRound(
            round_id=round_id,
            class_ids=class_ids,
            questions=questions,
            question_seconds=question_seconds,
            pause_seconds=pause_seconds,
            starts_at=starts_at,
            created_by=created_by,
            created_at=now,
        )
        try:
            async with self.session.begin_nested():
                self.session.add(row)
                await self.session.flush()
        except IntegrityError:
            return None
        return _live(row)

    async def get(self, live_id: int) -> LiveRec | None:
        row = await self.session.get(ml.LiveRound, live_id)
        return _live(row) if row else None

    async def by_round(self, round_id: int) -> LiveRec | None:
        row = (await self.session.execute(select(ml.LiveRound).where(ml.LiveRound.round_id == round_id))).scalar()
        return _live(row) if row else None

    async def booking(self, round_id: int, contest_id: int, user_id: int) -> LiveBooking | None:
        params = {"round_id": round_id, "contest_id": contest_id, "user_id": user_id}
        row = (await self.session.execute(_BOOKING, params)).first()
        if row is None or row.reg_class_id is None:
            return None
        live = _live(row)  # type: ignore[arg-type]
        return LiveBooking(live.starts_at, last_answer_at(live)) if row.reg_class_id in live.class_ids else None

    async def participant(self, live_id: int, user_id: int) -> ParticipantRec | None:
        p = ml.LiveParticipant
        row = (
            await self.session.execute(
                select(p.user_id, p.attempt_id, p.school_id, p.class_id).where(
                    p.live_id == live_id, p.user_id == user_id
                )
            )
        ).first()
        return ParticipantRec(*row) if row else None

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
        values = {
            "live_id": live_id,
            "user_id": user_id,
            "attempt_id": attempt_id,
            "school_id": school_id,
            "school_name": school_name,
            "class_id": class_id,
            "class_name": class_name,
            "joined_at": now,
        }
        try:
            async with self.session.begin_nested():
                await self.session.execute(insert(ml.LiveParticipant).values(**values))
        except IntegrityError:
            return False
        return True

    async def align_start(self, attempt_id: int, starts_at: dt.datetime) -> None:
        await self.session.execute(
            update(m.QuizAttempt).where(m.QuizAttempt.id == attempt_id).values(started_at=starts_at)
        )

    async def tallies(self, live_id: int, closed: int) -> list[ClassTally]:
        p, a = ml.LiveParticipant, m.AttemptAnswer
        correct = (
            select(a.attempt_id, func.count().label("n"))
            .join(p, and_(p.attempt_id == a.attempt_id, p.live_id == live_id))
            .where(a.seq < closed, a.correct.is_(True))
            .group_by(a.attempt_id)
            .subquery()
        )
        rows = await self.session.execute(
            select(
                p.school_id,
                p.school_name,
                p.class_id,
                p.class_name,
                func.count(p.id),
                func.coalesce(func.sum(correct.c.n), 0),
            )
            .outerjoin(correct, correct.c.attempt_id == p.attempt_id)
            .where(p.live_id == live_id)
            .group_by(p.school_id, p.school_name, p.class_id, p.class_name)
        )
        return [ClassTally(s, sn, c, cn, int(j), int(n)) for s, sn, c, cn, j, n in rows]
