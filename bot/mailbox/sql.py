"""SQL of the safe mailbox: counsellors of a school, letters and their threads."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, delete, select, update

from bot.mailbox.ports import CLOSED, CaseRec, MessageRec, StaffRec
from db import models as m
from db.sql import SqlRepository, rowcount

_SCHOOL_STAFF = ("teacher", "school_admin")


def _case(row: m.MailboxCase) -> CaseRec:
    return CaseRec(
        row.id,
        row.school_id,
        row.writer_id,
        row.kind,
        row.anonymous,
        row.urgent,
        row.status,
        row.created_at,
        row.updated_at,
        row.closed_at,
    )


class SqlMailboxRepository(SqlRepository):
    async def school_staff(self, school_id: int) -> list[StaffRec]:
        rows = await self.session.execute(
            select(m.User.id, m.User.display_name, m.User.role)
            .where(m.User.school_id == school_id, m.User.role.in_(_SCHOOL_STAFF))
            .order_by(m.User.display_name, m.User.id)
        )
        return [StaffRec(int(i), name, role) for i, name, role in rows.all()]

    async def counsellors(self, school_id: int) -> list[StaffRec]:
        rows = await self.session.execute(
            select(m.User.id, m.User.display_name, m.User.role)
            .join(m.MailboxCounsellor, m.MailboxCounsellor.user_id == m.User.id)
            .where(
                m.MailboxCounsellor.school_id == school_id,
                m.User.school_id == school_id,
                m.User.role.in_(_SCHOOL_STAFF),
            )
            .order_by(m.User.display_name, m.User.id)
        )
        return [StaffRec(int(i), name, role) for i, name, role in rows.all()]

    async def name_counsellor(self, school_id: int, user_id: int, named_by: int | None, now: dt.datetime) -> bool:
        found = await self.session.execute(
            select(m.MailboxCounsellor.id).where(
                m.MailboxCounsellor.school_id == school_id, m.MailboxCounsellor.user_id == user_id
            )
        )
        if found.first() is not None:
            return False
        self.session.add(m.MailboxCounsellor(school_id=school_id, user_id=user_id, named_by=named_by, named_at=now))
        await self.session.flush()
        return True

    async def remove_counsellor(self, school_id: int, user_id: int) -> bool:
        result = await self.session.execute(
            delete(m.MailboxCounsellor).where(
                m.MailboxCounsellor.school_id == school_id, m.MailboxCounsellor.user_id == user_id
            )
        )
        return bool(rowcount(result))

    async def add_case(
        self, school_id: int, writer_id: int, kind: str, anonymous: bool, urgent: bool, body: str, now: dt.datetime
    ) -> CaseRec:
        row = m.MailboxCase(
            school_id=school_id,
            writer_id=writer_id,
            kind=kind,
            anonymous=anonymous,
            urgent=urgent,
            status="new",
            created_at=now,
            updated_at=now,
            closed_at=None,
        )
        self.session.add(row)
        await self.session.flush()
        self.session.add(m.MailboxMessage(case_id=row.id, from_writer=True, author_id=None, body=body, created_at=now))
        await self.session.flush()
        return _case(row)

    async def get_case(self, case_id: int) -> CaseRec | None:
        row = await self.session.get(m.MailboxCase, case_id)
        return _case(row) if row else None

    async def cases_of_school(self, school_id: int, limit: int = 50) -> list[CaseRec]:
        C = m.MailboxCase
        rows = await self.session.execute(
            select(C)
            .where(C.school_id == school_id)
            .order_by(
                case((C.status == CLOSED, 1), else_=0),
                case((C.urgent.is_(True), 0), else_=1),
                case((C.status == CLOSED, C.closed_at), else_=None).desc(),
                C.created_at,
                C.id,
            )
            .limit(limit)
        )
        return [_case(r) for r in rows.scalars()]

    async def cases_of_writer(self, writer_id: int) -> list[CaseRec]:
        rows = await self.session.execute(
            select(m.MailboxCase).where(m.MailboxCase.writer_id == writer_id).order_by(m.MailboxCase.id.desc())
        )
        return [_case(r) for r in rows.scalars()]

    async def messages(self, case_id: int) -> list[MessageRec]:
        M = m.MailboxMessage
        rows = await self.session.execute(select(M).where(M.case_id == case_id).order_by(M.created_at, M.id))
        return [MessageRec(r.id, r.case_id, r.from_writer, r.body, r.created_at) for r in rows.scalars()]

    async def add_message(
        self, case_id: int, from_writer: bool, author_id: int | None, body: str, now: dt.datetime
    ) -> None:
        self.session.add(
            m.MailboxMessage(case_id=case_id, from_writer=from_writer, author_id=author_id, body=body, created_at=now)
        )
        await self.session.execute(update(m.MailboxCase).where(m.MailboxCase.id == case_id).values(updated_at=now))
        await self.session.flush()

    async def set_status(self, case_id: int, status: str, now: dt.datetime) -> None:
        await self.session.execute(
            update(m.MailboxCase)
            .where(m.MailboxCase.id == case_id)
            .values(status=status, updated_at=now, closed_at=now if status == CLOSED else None)
        )
