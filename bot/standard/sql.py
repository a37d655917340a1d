"""SQL of the standard: one row per school and school year."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from bot.standard.ports import Answer, StandardRec
from db import models as m
from db.sql import SqlRepository

R = m.StandardRegistration


def _rec(row: m.StandardRegistration) -> StandardRec:
    return StandardRec(
        row.id,
        row.school_id,
        row.school_year,
        row.registered_at,
        {cid: Answer.from_json(a) for cid, a in (row.answers or {}).items()},
        row.self_assessed_at,
        row.result,
        row.evaluated_on,
        row.evaluation_note,
    )


class SqlStandardRepository(SqlRepository):
    async def get(self, school_id: int, school_year: str) -> StandardRec | None:
        stmt = select(R).where(R.school_id == school_id, R.school_year == school_year)
        row = (await self.session.execute(stmt)).scalar_one_or_none()
        return _rec(row) if row is not None else None

    async def for_year(self, school_year: str) -> list[StandardRec]:
        stmt = select(R).where(R.school_year == school_year).order_by(R.school_id)
        return [_rec(row) for row in (await self.session.execute(stmt)).scalars()]

    async def register(self, school_id: int, school_year: str, by: int, now: dt.datetime) -> StandardRec:
        row = R(school_id=school_id, school_year=school_year, registered_by=by, registered_at=now, answers={})
        self.session.add(row)
        await self.session.flush()
        return _rec(row)

    async def save_answers(self, rec_id: int, answers: dict[str, Answer]) -> None:
        data = {cid: a.as_json() for cid, a in answers.items()}
        await self.session.execute(update(R).where(R.id == rec_id).values(answers=data))

    async def mark_self_assessed(self, rec_id: int, now: dt.datetime) -> None:
        await self.session.execute(update(R).where(R.id == rec_id).values(self_assessed_at=now))

    async def record_evaluation(
        self, rec_id: int, result: str, on: dt.date, note: str, by: int, now: dt.datetime
    ) -> None:
        values = dict(result=result, evaluated_on=on, evaluation_note=note, evaluated_by=by, evaluated_at=now)
        await self.session.execute(update(R).where(R.id == rec_id).values(**values))
