"""Report queries: participation aggregated in SQL (GROUP BY with conditional sums); no activity row reaches Python."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, distinct, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.accounts.ports import ClassRec
from bot.reports.ports import (
    ContestRow,
    CountRow,
    ReportFigures,
    ReportScope,
    SnapshotRec,
    StandardSchoolRow,
    StandardTally,
)
from db import models as m
from db.sql import SqlRepository, rowcount

A = m.Activity


def _scope_filter(scope: ReportScope) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if scope.school_id is not None:
        conds.append(A.school_id == scope.school_id)
    if scope.class_ids is not None:
        # An empty tuple is a teacher without classes: nothing matches.
        conds.append(A.class_id.in_(scope.class_ids))
    return conds


class SqlReportRepository(SqlRepository):
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
    ) -> ReportFigures:
        where = and_(A.at >= start, A.at < end, *_scope_filter(scope))
        count_cols = [func.sum(case((A.kind == k, 1), else_=0)) for k in kinds]
        students_col = func.count(distinct(case((A.kind.in_(student_kinds), A.user_id), else_=None)))

        async def grouped(dim: Any | None) -> list[CountRow]:
            cols: list[Any] = [*count_cols, students_col]
            stmt = select(dim, *cols) if dim is not None else select(*cols)
            stmt = stmt.where(where)
            if dim is not None:
                stmt = stmt.group_by(dim)
            rows = (await self.session.execute(stmt)).all()
            out = []
            for row in rows:
                values = list(row)
                key = values.pop(0) if dim is not None else None
                counts = {k: int(v or 0) for k, v in zip(kinds, values[: len(kinds)], strict=True)}
                out.append(CountRow(key, counts, int(values[-1] or 0)))
            return out

        # Months are Vietnam-time calendar months: the boundaries arrive as UTC instants, so one CASE maps each
        # record to its month index on any dialect, with no time-zone function in SQL.
        month_dim: Any = (
            case(*[(A.at < b, i) for i, b in enumerate(month_starts[1:])], else_=len(month_starts) - 1)
            if len(month_starts) > 1
            else case((A.at >= month_starts[0], 0), else_=0)
        ).label("month")

        totals = await grouped(None)
        # "+ 0": grouping on the bare column makes SQLite walk the (school_id, at) index and fetch each of the
        # millions of rows by rowid, three times slower than one scan and a sort; PostgreSQL is unaffected.
        by_school = await grouped((A.school_id + 0).label("school"))
        by_class = await grouped(A.class_id)
        by_topic = await grouped(A.topic)
        by_month = await grouped(month_dim)

        entered, submitted, awarded = contest_kinds
        contest_stmt = (
            select(
                A.ref,
                func.sum(case((A.kind == entered, 1), else_=0)),
                func.sum(case((A.kind == submitted, 1), else_=0)),
                func.avg(case((A.kind == submitted, A.value), else_=None)),
                func.max(case((A.kind == submitted, A.value), else_=None)),
            )
            .where(where, A.kind.in_(contest_kinds))
            .group_by(A.ref)
            .order_by(A.ref)
        )
        contests = {
            str(ref): ContestRow(str(ref), int(e or 0), int(s or 0), None if avg is None else float(avg), mx, {})
            for ref, e, s, avg, mx in (await self.session.execute(contest_stmt)).all()
        }
        prize_stmt = (
            select(A.ref, A.value, func.count())
            .where(where, A.kind == awarded, A.value.is_not(None))
            .group_by(A.ref, A.value)
        )
        for ref, rank, n in (await self.session.execute(prize_stmt)).all():
            contests[str(ref)].prizes[int(rank)] = int(n)
        ids = [int(ref) for ref in contests if ref.isdigit()]
        if ids:
            title_stmt = select(m.Contest.id, m.Contest.title).where(m.Contest.id.in_(ids))
            for cid, title in (await self.session.execute(title_stmt)).all():
                contests[str(cid)].title = title
        for row in contests.values():
            row.title = row.title or row.ref

        school_stmt = select(m.School.id, m.School.name).order_by(m.School.name)
        class_stmt = select(m.SchoolClass).order_by(m.SchoolClass.school_id, m.SchoolClass.grade, m.SchoolClass.name)
        if scope.school_id is not None:
            school_stmt = school_stmt.where(m.School.id == scope.school_id)
            class_stmt = class_stmt.where(m.SchoolClass.school_id == scope.school_id)
        if scope.class_ids is not None:
            class_stmt = class_stmt.where(m.SchoolClass.id.in_(scope.class_ids))
            school_stmt = school_stmt.where(
                m.School.id.in_(select(m.SchoolClass.school_id).where(m.SchoolClass.id.in_(scope.class_ids)))
            )
        schools = {sid: name for sid, name in (await self.session.execute(school_stmt)).all()}
        classes = {
            c.id: ClassRec(c.id, c.school_id, c.teacher_id, c.name, c.grade, c.school_year, c.join_code, c.archived)
            for c in (await self.session.execute(class_stmt)).scalars()
        }
        enrol_stmt = (
            select(m.Membership.class_id, func.count())
            .where(m.Membership.role == "student", m.Membership.class_id.in_(list(classes)))
            .group_by(m.Membership.class_id)
        )
        enrolled = {cid: int(n) for cid, n in (await self.session.execute(enrol_stmt)).all()} if classes else {}

        # The safe mailbox's letters by kind: anonymous records of a school, so none for a report on classes.
        mailbox: dict[str, int] = {}
        if mailbox_kind is not None and scope.class_ids is None:
            mailbox_stmt = select(A.ref, func.count()).where(where, A.kind == mailbox_kind).group_by(A.ref)
            mailbox = {str(ref): int(n) for ref, n in (await self.session.execute(mailbox_stmt)).all()}

        empty = CountRow(None, dict.fromkeys(kinds, 0), 0)
        return ReportFigures(
            totals=totals[0] if totals else empty,
            by_school=by_school,
            by_class=by_class,
            by_topic=by_topic,
            by_month=by_month,
            contests=list(contests.values()),
            schools=schools,
            classes=classes,
            enrolled_by_class=enrolled,
            mailbox=mailbox,
        )

    async def standard(self, school_year: str, school_id: int | None) -> StandardTally:
        R = m.StandardRegistration
        stmt = (
            select(m.School.id, m.School.name, R.id, R.self_assessed_at, R.result, R.evaluated_on)
            .outerjoin(R, and_(R.school_id == m.School.id, R.school_year == school_year))
            .order_by(m.School.name)
        )
        if school_id is not None:
            stmt = stmt.where(m.School.id == school_id)
        rows = [
            StandardSchoolRow(sid, name, rid is not None, assessed is not None, result, on)
            for sid, name, rid, assessed, result, on in (await self.session.execute(stmt)).all()
        ]
        return StandardTally(school_year, rows)


S = m.FigureSnapshot


def _snapshot(row: Any) -> SnapshotRec:
    return SnapshotRec(row.key, row.period, row.scope, row.upto_id, row.computed_at, row.payload, row.viewed_at)


class SqlSnapshotRepository(SqlRepository):
    async def latest_activity_id(self) -> int:
        # max() of the primary key: one step down its index on both databases.
        return int((await self.session.execute(select(func.max(A.id)))).scalar() or 0)

    async def get(self, key: str) -> SnapshotRec | None:
        row = (await self.session.execute(select(S.__table__).where(S.key == key))).first()
        return _snapshot(row) if row is not None else None

    async def save(self, rec: SnapshotRec) -> None:
        dialect = self.session.bind.dialect.name if self.session.bind is not None else "sqlite"
        make = pg_insert if dialect == "postgresql" else sqlite_insert
        values = {
            "key": rec.key,
            "period": rec.period,
            "scope": rec.scope,
            "upto_id": rec.upto_id,
            "computed_at": rec.computed_at,
            "payload": rec.payload,
            "viewed_at": rec.viewed_at,
            "refreshing_since": None,
        }
        stmt = make(S).values(**values)
        changed = {k: stmt.excluded[k] for k in values if k not in ("key", "viewed_at")}
        await self.session.execute(stmt.on_conflict_do_update(index_elements=["key"], set_=changed))

    async def claim(self, key: str, now: dt.datetime, taken_before: dt.datetime) -> bool:
        free = or_(S.refreshing_since.is_(None), S.refreshing_since < taken_before)
        result = await self.session.execute(update(S).where(S.key == key, free).values(refreshing_since=now))
        return rowcount(result) == 1

    async def viewed(self, key: str, now: dt.datetime) -> None:
        await self.session.execute(update(S).where(S.key == key).values(viewed_at=now))

    async def stale(self, viewed_after: dt.datetime, latest_id: int) -> list[SnapshotRec]:
        stmt = select(S.__table__).where(S.viewed_at > viewed_after, S.upto_id < latest_id).order_by(S.viewed_at.desc())
        return [_snapshot(row) for row in (await self.session.execute(stmt)).all()]

    async def forget_unviewed(self, viewed_before: dt.datetime) -> int:
        return rowcount(await self.session.execute(delete(S).where(S.viewed_at < viewed_before)))
