"""SQL of pledges: pledges and their text versions, confirmations, the students and linked parents of a pledge's
classes (only while their consent is in force), the tallies counted in the database, and the reminders sent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from bot.accounts.ports import ClassRec
from bot.core.ports import UserRec
from bot.core.text import fold
from bot.pledges.ports import (
    PARENT,
    STUDENT,
    ClassTally,
    ConfirmationRec,
    PledgeRec,
    RecipientRec,
    SignerRow,
)
from db import models as m
from db.repositories import user_rec
from db.sql import SqlRepository, insert_ignore, rowcount

P, V, C = m.Pledge, m.PledgeVersion, m.PledgeConfirmation
M, U, K = m.Membership, m.User, m.Consent


def _rec(row: m.Pledge, text: str) -> PledgeRec:
    return PledgeRec(
        row.id,
        row.school_id,
        row.school_year,
        row.title,
        row.template,
        row.version,
        text,
        row.opens_at,
        row.closes_at,
        row.created_by,
        row.created_at,
    )


def _with_text() -> Any:
    return select(P, V.text).join(V, and_(V.pledge_id == P.id, V.version == P.version))


def _class(row: m.SchoolClass) -> ClassRec:
    return ClassRec(
        row.id, row.school_id, row.teacher_id, row.name, row.grade, row.school_year, row.join_code, row.archived
    )


# Each EXISTS below reads its own alias, so it never correlates with a table the outer query joins.


def _child_agreed(user_id: Any) -> ColumnElement[bool]:
    """The student's own agreement is in force (withdrawing it stops all processing, pledges included)."""
    k = aliased(K)
    return exists().where(k.user_id == user_id, k.kind == "child", k.withdrawn_at.is_(None))


def _parent_link(user_id: Any, parent_id: int | None = None) -> ColumnElement[bool]:
    """A parent's account (that one, with `parent_id`) gave the guardian consent for this student through a
    parent link, still in force."""
    k = aliased(K)
    by = k.recorded_by.is_not(None) if parent_id is None else k.recorded_by == parent_id
    return exists().where(
        k.user_id == user_id, k.kind == "guardian", k.method == "parent_link", k.withdrawn_at.is_(None), by
    )


def _confirmed(pledge: PledgeRec, user_id: Any, signer: str, current: bool, before: dt.datetime | None) -> Any:
    c = aliased(C)
    conds: list[Any] = [c.pledge_id == pledge.id, c.student_id == user_id, c.signer == signer]
    if current:
        conds.append(c.version == pledge.version)
    if before is not None:
        conds.append(c.confirmed_at < before)
    return exists().where(*conds)


def _members(class_ids: list[int]) -> Any:
    """(class id, student) of the classes' students whose own agreement is in force."""
    return (
        select(M.class_id, U.id.label("user_id"), U.locale)
        .join(U, U.id == M.user_id)
        .where(M.class_id.in_(class_ids), U.role == "student", _child_agreed(U.id))
    )


class SqlPledgeRepository(SqlRepository):
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
    ) -> PledgeRec:
        row = m.Pledge(
            school_id=school_id,
            school_year=school_year,
            title=title,
            template=template,
            version=1,
            opens_at=opens_at,
            closes_at=closes_at,
            created_by=created_by,
            created_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        self.session.add(m.PledgeVersion(pledge_id=row.id, version=1, text=text, created_by=created_by, created_at=now))
        await self.session.flush()
        return _rec(row, text)

    async def get(self, pledge_id: int) -> PledgeRec | None:
        found = (await self.session.execute(_with_text().where(P.id == pledge_id))).first()
        return _rec(found[0], found[1]) if found else None

    async def add_version(self, pledge_id: int, text: str, created_by: int | None, now: dt.datetime) -> int:
        # The row lock (PostgreSQL) keeps two editors from taking the same number; SQLite has one writer anyway.
        current = (
            await self.session.execute(select(P.version).where(P.id == pledge_id).with_for_update())
        ).scalar_one()
        version = int(current) + 1
        self.session.add(
            m.PledgeVersion(pledge_id=pledge_id, version=version, text=text, created_by=created_by, created_at=now)
        )
        await self.session.execute(update(P).where(P.id == pledge_id).values(version=version))
        await self.session.flush()
        return version

    async def set_window(self, pledge_id: int, opens_at: dt.datetime, closes_at: dt.datetime) -> None:
        await self.session.execute(update(P).where(P.id == pledge_id).values(opens_at=opens_at, closes_at=closes_at))

    async def listed(self, school_id: int | None) -> list[PledgeRec]:
        stmt = _with_text().order_by(P.opens_at.desc(), P.id.desc()).limit(50)
        if school_id is not None:
            stmt = stmt.where(or_(P.school_id.is_(None), P.school_id == school_id))
        return [_rec(row, text) for row, text in (await self.session.execute(stmt)).all()]

    async def current(self, school_id: int, school_year: str, now: dt.datetime) -> list[PledgeRec]:
        stmt = _with_text().where(
            or_(P.school_id.is_(None), P.school_id == school_id), P.school_year == school_year, P.closes_at > now
        )
        return [_rec(row, text) for row, text in (await self.session.execute(stmt.order_by(P.id))).all()]

    async def overlapping(self, start: dt.datetime, end: dt.datetime) -> list[PledgeRec]:
        stmt = _with_text().where(P.opens_at < end, P.closes_at > start).order_by(P.opens_at, P.id)
        return [_rec(row, text) for row, text in (await self.session.execute(stmt)).all()]

    async def classes(self, pledge: PledgeRec) -> list[ClassRec]:
        S = m.SchoolClass
        stmt = select(S).where(S.school_year == pledge.school_year, S.archived.is_(False))
        if pledge.school_id is not None:
            stmt = stmt.where(S.school_id == pledge.school_id)
        rows = (await self.session.execute(stmt.order_by(S.school_id, S.grade, S.name, S.id))).scalars()
        return [_class(r) for r in rows]

    async def confirm(
        self, pledge_id: int, version: int, student_id: int, signer: str, confirmed_by: int, now: dt.datetime
    ) -> bool:
        stmt = insert_ignore(self.session, C.__table__, ["pledge_id", "version", "student_id", "signer"]).values(
            pledge_id=pledge_id,
            version=version,
            student_id=student_id,
            signer=signer,
            confirmed_by=confirmed_by,
            confirmed_at=now,
        )
        return bool(rowcount(await self.session.execute(stmt)))

    async def confirmations(self, pledge_id: int, student_id: int) -> list[ConfirmationRec]:
        rows = await self.session.execute(
            select(C.version, C.signer, C.confirmed_by, C.confirmed_at)
            .where(C.pledge_id == pledge_id, C.student_id == student_id)
            .order_by(C.version, C.id)
        )
        return [ConfirmationRec(int(v), s, int(by), at) for v, s, by, at in rows.all()]

    async def tallies(
        self, pledge: PledgeRec, class_ids: list[int], before: dt.datetime | None = None
    ) -> dict[int, ClassTally]:
        if not class_ids:
            return {}

        def count(cond: Any) -> Any:
            return func.sum(case((cond, 1), else_=0))

        student_now = _confirmed(pledge, U.id, STUDENT, True, before)
        student_ever = _confirmed(pledge, U.id, STUDENT, False, before)
        stmt = (
            select(
                M.class_id,
                func.count(),
                count(student_now),
                count(and_(student_ever, ~student_now)),
                count(_parent_link(U.id)),
                count(_confirmed(pledge, U.id, PARENT, True, before)),
            )
            .join(U, U.id == M.user_id)
            .where(M.class_id.in_(class_ids), U.role == "student", _child_agreed(U.id))
            .group_by(M.class_id)
        )
        return {
            int(cid): ClassTally(int(cid), int(n), int(s or 0), int(e or 0), int(linked or 0), int(par or 0))
            for cid, n, s, e, linked, par in (await self.session.execute(stmt)).all()
        }

    async def signers(self, pledge: PledgeRec, class_id: int) -> list[SignerRow]:
        R = m.RosterEntry
        name = func.coalesce(R.full_name, U.display_name, "")
        students = (
            await self.session.execute(
                select(U.id, name, _parent_link(U.id))
                .join(M, M.user_id == U.id)
                .outerjoin(R, and_(R.user_id == U.id, R.class_id == M.class_id))
                .where(M.class_id == class_id, U.role == "student", _child_agreed(U.id))
            )
        ).all()
        ids = [int(uid) for uid, _n, _l in students]
        latest: dict[tuple[int, str], tuple[int, dt.datetime]] = {}
        if ids:
            rows = await self.session.execute(
                select(C.student_id, C.signer, C.version, C.confirmed_at)
                .where(C.pledge_id == pledge.id, C.student_id.in_(ids))
                .order_by(C.version, C.id)
            )
            for sid, signer, version, at in rows.all():
                latest[(int(sid), signer)] = (int(version), at)  # the last one read is the latest version
        out = []
        for uid, full_name, linked in students:
            s = latest.get((int(uid), STUDENT))
            par = latest.get((int(uid), PARENT))
            out.append(
                SignerRow(
                    int(uid),
                    str(full_name),
                    s[0] if s else None,
                    s[1] if s else None,
                    bool(linked),
                    par[0] if par else None,
                    par[1] if par else None,
                )
            )
        # A Vietnamese class list is read by given name (the last word), then by the whole name.
        return sorted(
            out, key=lambda r: (fold(r.name.split()[-1]) if r.name.split() else "", fold(r.name), r.student_id)
        )

    async def recipients(self, pledge: PledgeRec, class_ids: list[int]) -> list[RecipientRec]:
        if not class_ids:
            return []
        now_student = _confirmed(pledge, U.id, STUDENT, True, None)
        ever_student = _confirmed(pledge, U.id, STUDENT, False, None)
        students = await self.session.execute(
            _members(class_ids).add_columns(now_student, ever_student).order_by(M.class_id, U.id)
        )
        out = [
            RecipientRec(int(uid), locale, int(uid), STUDENT, int(cid), bool(now), bool(ever) and not bool(now))
            for cid, uid, locale, now, ever in students.all()
        ]
        parent = aliased(m.User)
        now_parent = _confirmed(pledge, U.id, PARENT, True, None)
        ever_parent = _confirmed(pledge, U.id, PARENT, False, None)
        parents = await self.session.execute(
            select(M.class_id, U.id, parent.id, parent.locale, now_parent, ever_parent)
            .join(U, U.id == M.user_id)
            .join(K, and_(K.user_id == U.id, K.kind == "guardian", K.method == "parent_link", K.withdrawn_at.is_(None)))
            .join(parent, parent.id == K.recorded_by)
            .where(M.class_id.in_(class_ids), U.role == "student", parent.role == "parent", _child_agreed(U.id))
            .order_by(M.class_id, U.id, parent.id)
        )
        out += [
            RecipientRec(int(pid), locale, int(sid), PARENT, int(cid), bool(now), bool(ever) and not bool(now))
            for cid, sid, pid, locale, now, ever in parents.all()
        ]
        return out

    async def children(self, parent_id: int) -> list[UserRec]:
        rows = (
            await self.session.execute(
                select(U).where(U.role == "student", _child_agreed(U.id), _parent_link(U.id, parent_id)).order_by(U.id)
            )
        ).scalars()
        return [user_rec(r) for r in rows]

    async def reminded(self, pledge_id: int, class_ids: list[int], day: dt.date) -> set[int]:
        R = m.PledgeReminder
        rows = await self.session.execute(
            select(R.class_id).where(R.pledge_id == pledge_id, R.class_id.in_(class_ids), R.day == day)
        )
        return {int(c) for c in rows.scalars()}

    async def add_reminder(
        self, pledge_id: int, class_id: int, day: dt.date, sent_by: int | None, recipients: int, now: dt.datetime
    ) -> bool:
        stmt = insert_ignore(self.session, m.PledgeReminder.__table__, ["pledge_id", "class_id", "day"]).values(
            pledge_id=pledge_id, class_id=class_id, day=day, sent_by=sent_by, recipients=recipients, created_at=now
        )
        return bool(rowcount(await self.session.execute(stmt)))
