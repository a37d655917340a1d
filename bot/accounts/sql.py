"""SQL of accounts: schools, classes and memberships, invites, consents, class group chats, linking codes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Table,
    delete,
    func,
    insert,
    select,
    update,
)

from bot.accounts.ports import ClassRec, ConsentRec, InviteRec, LinkCodeRec, SchoolRec
from db import models as m
from db.sql import SqlRepository, hot, insert_ignore, p, rowcount

_consents: Table = m.Consent.__table__  # type: ignore[assignment]
_classes: Table = m.SchoolClass.__table__  # type: ignore[assignment]
_memberships: Table = m.Membership.__table__  # type: ignore[assignment]
_schools: Table = m.School.__table__  # type: ignore[assignment]


_ACTIVE_CONSENTS = hot(
    select(*_consents.c).where(_consents.c.user_id == p("user_id"), _consents.c.withdrawn_at.is_(None))
)


# Ordered by joining time, then by membership (two joins at the same instant still have an order): a student's
# latest class is the last one, here and in _ADD_ACTIVITY_FOR_STUDENT.
_CLASSES_OF_STUDENT = hot(
    select(*_classes.c)
    .join_from(_classes, _memberships, _memberships.c.class_id == _classes.c.id)
    .where(_memberships.c.user_id == p("user_id"))
    .order_by(_memberships.c.joined_at, _memberships.c.id)
)


_SCHOOL = hot(select(_schools.c.id, _schools.c.name).where(_schools.c.id == p("school_id")))


def _class(row: m.SchoolClass) -> ClassRec:
    return ClassRec(
        row.id,
        row.school_id,
        row.teacher_id,
        row.name,
        row.grade,
        row.school_year,
        row.join_code,
        row.archived,
    )


class SqlSchoolRepository(SqlRepository):
    async def create(self, name: str, now: dt.datetime) -> SchoolRec:
        row = m.School(name=name, created_at=now)
        self.session.add(row)
        await self.session.flush()
        return SchoolRec(row.id, row.name)

    async def get(self, school_id: int) -> SchoolRec | None:
        row = (await self.session.execute(_SCHOOL, {"school_id": school_id})).first()
        return SchoolRec(row.id, row.name) if row else None

    async def list(self) -> list[SchoolRec]:
        rows = (await self.session.execute(select(m.School).order_by(m.School.id))).scalars()
        return [SchoolRec(r.id, r.name) for r in rows]


class SqlClassRepository(SqlRepository):
    async def create(
        self,
        school_id: int,
        teacher_id: int | None,
        name: str,
        grade: int,
        school_year: str,
        join_code: str,
        now: dt.datetime,
    ) -> ClassRec:
        row = m.SchoolClass(
            school_id=school_id,
            teacher_id=teacher_id,
            name=name,
            grade=grade,
            school_year=school_year,
            join_code=join_code,
            archived=False,
            created_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return _class(row)

    async def get(self, class_id: int) -> ClassRec | None:
        row = await self.session.get(m.SchoolClass, class_id)
        return _class(row) if row else None

    async def by_code(self, join_code: str) -> ClassRec | None:
        row = (
            await self.session.execute(select(m.SchoolClass).where(m.SchoolClass.join_code == join_code))
        ).scalar_one_or_none()
        return _class(row) if row else None

    async def for_teacher(self, teacher_id: int) -> list[ClassRec]:
        rows = (
            await self.session.execute(
                select(m.SchoolClass)
                .where(m.SchoolClass.teacher_id == teacher_id, m.SchoolClass.archived.is_(False))
                .order_by(m.SchoolClass.id)
            )
        ).scalars()
        return [_class(r) for r in rows]

    async def for_school(self, school_id: int) -> list[ClassRec]:
        rows = (
            await self.session.execute(
                select(m.SchoolClass)
                .where(m.SchoolClass.school_id == school_id, m.SchoolClass.archived.is_(False))
                .order_by(m.SchoolClass.id)
            )
        ).scalars()
        return [_class(r) for r in rows]

    async def of_student(self, user_id: int) -> list[ClassRec]:
        rows = await self.session.execute(_CLASSES_OF_STUDENT, {"user_id": user_id})
        return [_class(r) for r in rows]  # type: ignore[arg-type]

    async def add_member(self, user_id: int, class_id: int, now: dt.datetime) -> bool:
        stmt = insert_ignore(self.session, m.Membership, ["user_id", "class_id"]).values(
            user_id=user_id, class_id=class_id, role="student", joined_at=now
        )
        result = await self.session.execute(stmt)
        return bool(rowcount(result))

    async def member_count(self, class_id: int) -> int:
        return int(
            (
                await self.session.execute(
                    select(func.count()).select_from(m.Membership).where(m.Membership.class_id == class_id)
                )
            ).scalar_one()
        )


class SqlInviteRepository(SqlRepository):
    async def create(
        self,
        code: str,
        role: str,
        school_id: int,
        created_by: int | None,
        expires_at: dt.datetime,
        now: dt.datetime,
    ) -> InviteRec:
        row = m.Invite(
            code=code,
            role=role,
            school_id=school_id,
            created_by=created_by,
            expires_at=expires_at,
            created_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return InviteRec(row.id, row.code, row.role, row.school_id, row.expires_at, row.used_by)

    async def by_code(self, code: str) -> InviteRec | None:
        row = (await self.session.execute(select(m.Invite).where(m.Invite.code == code))).scalar_one_or_none()
        return InviteRec(row.id, row.code, row.role, row.school_id, row.expires_at, row.used_by) if row else None

    async def mark_used(self, invite_id: int, user_id: int, now: dt.datetime) -> bool:
        result = await self.session.execute(
            update(m.Invite)
            .where(m.Invite.id == invite_id, m.Invite.used_by.is_(None))
            .values(used_by=user_id, used_at=now)
        )
        return bool(rowcount(result))


class SqlConsentRepository(SqlRepository):
    async def add(
        self,
        user_id: int,
        kind: str,
        method: str,
        notice_version: str,
        now: dt.datetime,
        recorded_by: int | None = None,
        reference: str | None = None,
    ) -> None:
        self.session.add(
            m.Consent(
                user_id=user_id,
                kind=kind,
                method=method,
                notice_version=notice_version,
                recorded_by=recorded_by,
                given_at=now,
                reference=reference,
            )
        )
        await self.session.flush()

    async def active(self, user_id: int) -> list[ConsentRec]:
        rows = await self.session.execute(_ACTIVE_CONSENTS, {"user_id": user_id})
        return [
            ConsentRec(r.kind, r.method, r.notice_version, r.given_at, r.withdrawn_at, r.reference, r.recorded_by)
            for r in rows
        ]

    async def withdraw(self, user_id: int, now: dt.datetime) -> int:
        result = await self.session.execute(
            update(m.Consent)
            .where(m.Consent.user_id == user_id, m.Consent.withdrawn_at.is_(None))
            .values(withdrawn_at=now)
        )
        return rowcount(result)


class SqlAccountLinkRepository(SqlRepository):
    async def create_code(self, code: str, user_id: int, expires_at: dt.datetime, now: dt.datetime) -> None:
        # One live code per user: asking again replaces the previous one.
        await self.session.execute(
            delete(m.LinkCode).where(m.LinkCode.user_id == user_id, m.LinkCode.used_at.is_(None))
        )
        await self.session.execute(
            insert(m.LinkCode).values(code=code, user_id=user_id, expires_at=expires_at, created_at=now)
        )

    async def by_code(self, code: str) -> LinkCodeRec | None:
        row = (await self.session.execute(select(m.LinkCode).where(m.LinkCode.code == code))).scalar_one_or_none()
        return LinkCodeRec(row.id, row.code, row.user_id, row.expires_at, row.used_at) if row else None

    async def use_code(self, code_id: int, now: dt.datetime) -> bool:
        result = await self.session.execute(
            update(m.LinkCode).where(m.LinkCode.id == code_id, m.LinkCode.used_at.is_(None)).values(used_at=now)
        )
        return bool(rowcount(result))

    async def learning_data(self, user_id: int) -> int:
        """How many rows of learning or teaching data the user has (attempts, lessons, classes)."""
        total = 0
        for stmt in (
            select(func.count()).select_from(m.QuizAttempt).where(m.QuizAttempt.user_id == user_id),
            select(func.count()).select_from(m.LessonProgress).where(m.LessonProgress.user_id == user_id),
            select(func.count()).select_from(m.Membership).where(m.Membership.user_id == user_id),
            select(func.count()).select_from(m.SchoolClass).where(m.SchoolClass.teacher_id == user_id),
        ):
            total += int((await self.session.execute(stmt)).scalar_one())
        return total

    async def move_accounts(self, from_user: int, to_user: int) -> None:
        await self.session.execute(
            update(m.ChannelAccount).where(m.ChannelAccount.user_id == from_user).values(user_id=to_user)
        )

    async def delete_user(self, user_id: int) -> None:
        """Removes the user and, by cascade, what hangs on it (conversation, consents, codes)."""
        await self.session.execute(delete(m.User).where(m.User.id == user_id))


# --- telegram ---
class SqlClassGroupRepository(SqlRepository):
    """Group chats linked to classes; one class per group chat (linking again moves the group)."""

    async def link(self, class_id: int, channel: str, chat_id: str, linked_by: int | None, now: dt.datetime) -> None:
        row = (
            await self.session.execute(
                select(m.ClassGroup).where(m.ClassGroup.channel == channel, m.ClassGroup.chat_id == chat_id)
            )
        ).scalar_one_or_none()
        if row is None:
            self.session.add(
                m.ClassGroup(class_id=class_id, channel=channel, chat_id=chat_id, linked_by=linked_by, linked_at=now)
            )
        else:
            row.class_id, row.linked_by, row.linked_at = class_id, linked_by, now
        await self.session.flush()

    async def unlink(self, channel: str, chat_id: str) -> bool:
        result = await self.session.execute(
            delete(m.ClassGroup).where(m.ClassGroup.channel == channel, m.ClassGroup.chat_id == chat_id)
        )
        return bool(rowcount(result))

    async def class_of(self, channel: str, chat_id: str) -> int | None:
        return (
            await self.session.execute(
                select(m.ClassGroup.class_id).where(m.ClassGroup.channel == channel, m.ClassGroup.chat_id == chat_id)
            )
        ).scalar_one_or_none()

    async def for_class(self, class_id: int) -> list[tuple[str, str]]:
        """(channel, chat_id) of every group linked to the class."""
        rows = await self.session.execute(
            select(m.ClassGroup.channel, m.ClassGroup.chat_id)
            .where(m.ClassGroup.class_id == class_id)
            .order_by(m.ClassGroup.id)
        )
        return [(str(c), str(chat)) for c, chat in rows]
