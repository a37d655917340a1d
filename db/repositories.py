"""SQLAlchemy implementations of the core's repository ports. They never commit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import ports
from db import models as m


def insert_ignore(session: AsyncSession, table: Any, index_elements: list[str]) -> Any:
    """`INSERT ... ON CONFLICT DO NOTHING` for the session's dialect."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    return make(table).on_conflict_do_nothing(index_elements=index_elements)


def _user(row: m.User) -> ports.UserRec:
    return ports.UserRec(row.id, row.display_name, row.locale, row.role, row.school_id, row.onboarded)


def _class(row: m.SchoolClass) -> ports.ClassRec:
    return ports.ClassRec(
        row.id,
        row.school_id,
        row.teacher_id,
        row.name,
        row.grade,
        row.school_year,
        row.join_code,
        row.archived,
    )


def _attempt(row: m.QuizAttempt) -> ports.AttemptRec:
    return ports.AttemptRec(
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


class _Repo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session


class SqlUserRepository(_Repo):
    async def by_account(self, channel: str, external_id: str) -> ports.UserRec | None:
        row = (
            await self.session.execute(
                select(m.User)
                .join(m.ChannelAccount, m.ChannelAccount.user_id == m.User.id)
                .where(m.ChannelAccount.channel == channel, m.ChannelAccount.external_id == external_id)
            )
        ).scalar_one_or_none()
        return _user(row) if row else None

    async def create(
        self,
        channel: str,
        external_id: str,
        chat_id: str,
        locale: str,
        now: dt.datetime,
        role: str = "student",
    ) -> ports.UserRec:
        user = m.User(locale=locale, role=role, onboarded=False, created_at=now)
        self.session.add(user)
        await self.session.flush()
        self.session.add(
            m.ChannelAccount(user_id=user.id, channel=channel, external_id=external_id, chat_id=chat_id, created_at=now)
        )
        await self.session.flush()
        return _user(user)

    async def get(self, user_id: int) -> ports.UserRec | None:
        row = await self.session.get(m.User, user_id)
        return _user(row) if row else None

    async def update(self, user_id: int, **fields: Any) -> None:
        if fields:
            await self.session.execute(update(m.User).where(m.User.id == user_id).values(**fields))

    async def set_reachable(self, channel: str, external_id: str, reachable: bool) -> None:
        await self.session.execute(
            update(m.ChannelAccount)
            .where(
                m.ChannelAccount.channel == channel,
                m.ChannelAccount.external_id == external_id,
                m.ChannelAccount.unreachable == reachable,
            )
            .values(unreachable=not reachable)
        )


class SqlSchoolRepository(_Repo):
    async def create(self, name: str, now: dt.datetime) -> ports.SchoolRec:
        row = m.School(name=name, created_at=now)
        self.session.add(row)
        await self.session.flush()
        return ports.SchoolRec(row.id, row.name)

    async def get(self, school_id: int) -> ports.SchoolRec | None:
        row = await self.session.get(m.School, school_id)
        return ports.SchoolRec(row.id, row.name) if row else None

    async def list(self) -> list[ports.SchoolRec]:
        rows = (await self.session.execute(select(m.School).order_by(m.School.id))).scalars()
        return [ports.SchoolRec(r.id, r.name) for r in rows]


class SqlClassRepository(_Repo):
    async def create(
        self,
        school_id: int,
        teacher_id: int | None,
        name: str,
        grade: int,
        school_year: str,
        join_code: str,
        now: dt.datetime,
    ) -> ports.ClassRec:
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

    async def get(self, class_id: int) -> ports.ClassRec | None:
        row = await self.session.get(m.SchoolClass, class_id)
        return _class(row) if row else None

    async def by_code(self, join_code: str) -> ports.ClassRec | None:
        row = (
            await self.session.execute(select(m.SchoolClass).where(m.SchoolClass.join_code == join_code))
        ).scalar_one_or_none()
        return _class(row) if row else None

    async def for_teacher(self, teacher_id: int) -> list[ports.ClassRec]:
        rows = (
            await self.session.execute(
                select(m.SchoolClass)
                .where(m.SchoolClass.teacher_id == teacher_id, m.SchoolClass.archived.is_(False))
                .order_by(m.SchoolClass.id)
            )
        ).scalars()
        return [_class(r) for r in rows]

    async def for_school(self, school_id: int) -> list[ports.ClassRec]:
        rows = (
            await self.session.execute(
                select(m.SchoolClass)
                .where(m.SchoolClass.school_id == school_id, m.SchoolClass.archived.is_(False))
                .order_by(m.SchoolClass.id)
            )
        ).scalars()
        return [_class(r) for r in rows]

    async def of_student(self, user_id: int) -> list[ports.ClassRec]:
        rows = (
            await self.session.execute(
                select(m.SchoolClass)
                .join(m.Membership, m.Membership.class_id == m.SchoolClass.id)
                .where(m.Membership.user_id == user_id)
                .order_by(m.Membership.joined_at)
            )
        ).scalars()
        return [_class(r) for r in rows]

    async def add_member(self, user_id: int, class_id: int, now: dt.datetime) -> bool:
        stmt = insert_ignore(self.session, m.Membership, ["user_id", "class_id"]).values(
            user_id=user_id, class_id=class_id, role="student", joined_at=now
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount)

    async def member_count(self, class_id: int) -> int:
        return int(
            (
                await self.session.execute(
                    select(func.count()).select_from(m.Membership).where(m.Membership.class_id == class_id)
                )
            ).scalar_one()
        )


class SqlInviteRepository(_Repo):
    async def create(
        self,
        code: str,
        role: str,
        school_id: int,
        created_by: int | None,
        expires_at: dt.datetime,
        now: dt.datetime,
    ) -> ports.InviteRec:
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
        return ports.InviteRec(row.id, row.code, row.role, row.school_id, row.expires_at, row.used_by)

    async def by_code(self, code: str) -> ports.InviteRec | None:
        row = (await self.session.execute(select(m.Invite).where(m.Invite.code == code))).scalar_one_or_none()
        return ports.InviteRec(row.id, row.code, row.role, row.school_id, row.expires_at, row.used_by) if row else None

    async def mark_used(self, invite_id: int, user_id: int, now: dt.datetime) -> bool:
        result = await self.session.execute(
            update(m.Invite)
            .where(m.Invite.id == invite_id, m.Invite.used_by.is_(None))
            .values(used_by=user_id, used_at=now)
        )
        return bool(result.rowcount)


class SqlConversationRepository(_Repo):
    async def get(self, user_id: int) -> ports.ConversationRec:
        row = await self.session.get(m.Conversation, user_id)
        if row is None:
            return ports.ConversationRec()
        return ports.ConversationRec(row.flow, row.step, dict(row.data or {}), dict(row.prompt or {}))

    async def save(self, user_id: int, conv: ports.ConversationRec, now: dt.datetime) -> None:
        row = await self.session.get(m.Conversation, user_id)
        if row is None:
            self.session.add(
                m.Conversation(
                    user_id=user_id,
                    flow=conv.flow,
                    step=conv.step,
                    data=conv.data,
                    prompt=conv.prompt,
                    version=1,
                    updated_at=now,
                )
            )
        else:
            row.flow, row.step, row.data, row.prompt = (
                conv.flow,
                conv.step,
                dict(conv.data),
                dict(conv.prompt),
            )
            row.version += 1
            row.updated_at = now


class SqlProgressRepository(_Repo):
    async def _row(self, user_id: int, lesson_id: str) -> m.LessonProgress | None:
        return (
            await self.session.execute(
                select(m.LessonProgress).where(
                    m.LessonProgress.user_id == user_id, m.LessonProgress.lesson_id == lesson_id
                )
            )
        ).scalar_one_or_none()

    async def get(self, user_id: int, lesson_id: str) -> ports.ProgressRec | None:
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

    async def for_user(self, user_id: int) -> list[ports.ProgressRec]:
        rows = (
            await self.session.execute(
                select(m.LessonProgress).where(m.LessonProgress.user_id == user_id).order_by(m.LessonProgress.opened_at)
            )
        ).scalars()
        return [_progress(r) for r in rows]


def _progress(row: m.LessonProgress) -> ports.ProgressRec:
    return ports.ProgressRec(row.lesson_id, row.topic, row.card_index, row.opened_at, row.completed_at, row.check_score)


class SqlAttemptRepository(_Repo):
    async def create(
        self,
        user_id: int,
        kind: str,
        topic: str | None,
        ref: str | None,
        questions: list[Any],
        now: dt.datetime,
        deadline_at: dt.datetime | None = None,
    ) -> ports.AttemptRec:
        row = m.QuizAttempt(
            user_id=user_id,
            kind=kind,
            topic=topic,
            ref=ref,
            questions=questions,
            started_at=now,
            deadline_at=deadline_at,
            total=len(questions),
        )
        self.session.add(row)
        await self.session.flush()
        return _attempt(row)

    async def get(self, attempt_id: int) -> ports.AttemptRec | None:
        row = await self.session.get(m.QuizAttempt, attempt_id)
        return _attempt(row) if row else None

    async def add_answer(
        self, attempt_id: int, seq: int, question_id: str, chosen: int, correct: bool, now: dt.datetime
    ) -> bool:
        stmt = insert_ignore(self.session, m.AttemptAnswer, ["attempt_id", "seq"]).values(
            attempt_id=attempt_id,
            seq=seq,
            question_id=question_id,
            chosen=chosen,
            correct=correct,
            answered_at=now,
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount)

    async def answers(self, attempt_id: int) -> list[ports.AnswerRec]:
        rows = (
            await self.session.execute(
                select(m.AttemptAnswer).where(m.AttemptAnswer.attempt_id == attempt_id).order_by(m.AttemptAnswer.seq)
            )
        ).scalars()
        return [ports.AnswerRec(r.seq, r.question_id, r.chosen, r.correct, r.answered_at) for r in rows]

    async def finish(self, attempt_id: int, score: int, now: dt.datetime) -> None:
        await self.session.execute(
            update(m.QuizAttempt)
            .where(m.QuizAttempt.id == attempt_id, m.QuizAttempt.finished_at.is_(None))
            .values(finished_at=now, score=score)
        )

    async def for_user(self, user_id: int, kind: str | None = None) -> list[ports.AttemptRec]:
        stmt = select(m.QuizAttempt).where(m.QuizAttempt.user_id == user_id)
        if kind:
            stmt = stmt.where(m.QuizAttempt.kind == kind)
        rows = (await self.session.execute(stmt.order_by(m.QuizAttempt.id))).scalars()
        return [_attempt(r) for r in rows]


class SqlConsentRepository(_Repo):
    async def add(
        self,
        user_id: int,
        kind: str,
        method: str,
        notice_version: str,
        now: dt.datetime,
        recorded_by: int | None = None,
    ) -> None:
        self.session.add(
            m.Consent(
                user_id=user_id,
                kind=kind,
                method=method,
                notice_version=notice_version,
                recorded_by=recorded_by,
                given_at=now,
            )
        )
        await self.session.flush()

    async def active(self, user_id: int) -> list[ports.ConsentRec]:
        rows = (
            await self.session.execute(
                select(m.Consent).where(m.Consent.user_id == user_id, m.Consent.withdrawn_at.is_(None))
            )
        ).scalars()
        return [ports.ConsentRec(r.kind, r.method, r.notice_version, r.given_at, r.withdrawn_at) for r in rows]

    async def withdraw(self, user_id: int, now: dt.datetime) -> int:
        result = await self.session.execute(
            update(m.Consent)
            .where(m.Consent.user_id == user_id, m.Consent.withdrawn_at.is_(None))
            .values(withdrawn_at=now)
        )
        return int(result.rowcount or 0)


class SqlAuditRepository(_Repo):
    async def add(
        self, actor_id: int | None, action: str, scope: str, detail: dict[str, Any], now: dt.datetime
    ) -> None:
        await self.session.execute(
            insert(m.AuditLog).values(actor_id=actor_id, action=action, scope=scope, detail=detail, at=now)
        )


class SqlInboxRepository(_Repo):
    """The inbox of inbound updates: stored once per key before acknowledging, then handled, then sent."""

    async def store(
        self, channel: str, bot_id: str, external_id: str, payload: dict[str, Any], now: dt.datetime
    ) -> int | None:
        """Insert the update; returns its id, or None when the same update was stored before."""
        stmt = (
            insert_ignore(self.session, m.InboundUpdate, ["channel", "bot_id", "external_id"])
            .values(
                channel=channel,
                bot_id=bot_id,
                external_id=external_id,
                payload=payload,
                status="pending",
                attempts=0,
                received_at=now,
            )
            .returning(m.InboundUpdate.id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def mark_handled(self, inbox_id: int, replies: list[dict[str, Any]], now: dt.datetime) -> bool:
        """False when the update was already handled: the caller must then roll back its changes."""
        result = await self.session.execute(
            update(m.InboundUpdate)
            .where(m.InboundUpdate.id == inbox_id, m.InboundUpdate.status == "pending")
            .values(status="handled", replies=replies, handled_at=now)
        )
        return bool(result.rowcount)

    async def mark_done(self, inbox_id: int, now: dt.datetime) -> None:
        await self.session.execute(
            update(m.InboundUpdate)
            .where(m.InboundUpdate.id == inbox_id)
            .values(status="done", processed_at=now, replies=None)
        )

    async def fail(self, inbox_id: int, error: str, max_attempts: int, now: dt.datetime) -> str:
        row = await self.session.get(m.InboundUpdate, inbox_id)
        if row is None:
            return "missing"
        row.attempts += 1
        row.error = error[:500]
        if row.attempts >= max_attempts:
            row.status, row.processed_at = "dead", now
        return row.status

    async def unfinished(self, channel: str, bot_id: str, limit: int = 500, after_id: int = 0) -> list[m.InboundUpdate]:
        rows = (
            await self.session.execute(
                select(m.InboundUpdate)
                .where(
                    m.InboundUpdate.channel == channel,
                    m.InboundUpdate.bot_id == bot_id,
                    m.InboundUpdate.status.in_(("pending", "handled")),
                    m.InboundUpdate.id > after_id,
                )
                .order_by(m.InboundUpdate.id)
                .limit(limit)
            )
        ).scalars()
        return list(rows)

    async def get(self, inbox_id: int) -> m.InboundUpdate | None:
        return await self.session.get(m.InboundUpdate, inbox_id)


class SqlActivityRepository(_Repo):
    async def add(
        self,
        kind: str,
        at: dt.datetime,
        user_id: int | None,
        school_id: int | None,
        class_id: int | None,
        topic: str | None = None,
        ref: str | None = None,
        value: int | None = None,
    ) -> None:
        await self.session.execute(
            insert(m.Activity).values(
                kind=kind,
                at=at,
                user_id=user_id,
                school_id=school_id,
                class_id=class_id,
                topic=topic,
                ref=ref,
                value=value,
            )
        )


# --- broadcasts ---


def _broadcast(row: m.Broadcast) -> ports.BroadcastRec:
    return ports.BroadcastRec(
        row.id,
        row.school_id,
        row.created_by,
        row.kind,
        row.ref,
        [int(c) for c in row.class_ids or []],
        row.send_at,
        row.due_on,
        row.parent_id,
        row.reminder_on,
        row.created_at,
    )


def _delivery(row: m.Delivery) -> ports.DeliveryRec:
    return ports.DeliveryRec(
        row.id,
        row.broadcast_id,
        row.target,
        row.channel,
        row.chat_id,
        row.external_id,
        row.is_group,
        row.user_id,
        row.class_id,
        row.status,
        row.attempts,
        row.last_error,
        row.sent_at,
    )


class SqlRosterRepository(_Repo):
    async def add_entries(self, class_id: int, rows: list[tuple[str, str, str | None]], now: dt.datetime) -> int:
        for full_name, name_key, code in rows:
            self.session.add(
                m.RosterEntry(
                    class_id=class_id, full_name=full_name, name_key=name_key, student_code=code, created_at=now
                )
            )
        await self.session.flush()
        return len(rows)

    async def entries(self, class_id: int) -> list[ports.RosterRec]:
        rows = (
            await self.session.execute(
                select(m.RosterEntry).where(m.RosterEntry.class_id == class_id).order_by(m.RosterEntry.id)
            )
        ).scalars()
        return [ports.RosterRec(r.id, r.class_id, r.full_name, r.name_key, r.student_code, r.user_id) for r in rows]

    async def link(self, entry_id: int, user_id: int) -> bool:
        entry = await self.session.get(m.RosterEntry, entry_id)
        if entry is None or entry.user_id is not None:
            return False
        taken = (
            await self.session.execute(
                select(m.RosterEntry.id).where(
                    m.RosterEntry.class_id == entry.class_id, m.RosterEntry.user_id == user_id
                )
            )
        ).first()
        if taken is not None:
            return False
        entry.user_id = user_id
        await self.session.flush()
        return True

    async def members(self, class_id: int) -> list[ports.MemberRec]:
        rows = await self.session.execute(
            select(m.User.id, m.User.display_name)
            .join(m.Membership, m.Membership.user_id == m.User.id)
            .where(m.Membership.class_id == class_id, m.Membership.role == "student")
            .order_by(m.Membership.joined_at, m.User.id)
        )
        return [ports.MemberRec(uid, name) for uid, name in rows]

    async def rename_class(self, class_id: int, name: str) -> None:
        await self.session.execute(update(m.SchoolClass).where(m.SchoolClass.id == class_id).values(name=name))

    async def archive_class(self, class_id: int) -> None:
        await self.session.execute(update(m.SchoolClass).where(m.SchoolClass.id == class_id).values(archived=True))

    async def set_join_code(self, class_id: int, code: str) -> None:
        await self.session.execute(update(m.SchoolClass).where(m.SchoolClass.id == class_id).values(join_code=code))


class SqlBroadcastRepository(_Repo):
    """Broadcast jobs and their deliveries; the sender's queue operations are at the end."""

    async def create(
        self,
        school_id: int | None,
        created_by: int | None,
        kind: str,
        ref: str,
        class_ids: list[int],
        send_at: dt.datetime,
        due_on: dt.date | None,
        now: dt.datetime,
        parent_id: int | None = None,
        reminder_on: dt.date | None = None,
    ) -> ports.BroadcastRec:
        row = m.Broadcast(
            school_id=school_id,
            created_by=created_by,
            kind=kind,
            ref=ref,
            class_ids=list(class_ids),
            send_at=send_at,
            due_on=due_on,
            parent_id=parent_id,
            reminder_on=reminder_on,
            created_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return _broadcast(row)

    async def get(self, broadcast_id: int) -> ports.BroadcastRec | None:
        row = await self.session.get(m.Broadcast, broadcast_id)
        return _broadcast(row) if row else None

    async def recipients(self, class_ids: list[int]) -> list[ports.RecipientRec]:
        if not class_ids:
            return []
        rows = await self.session.execute(
            select(
                m.Membership.user_id,
                m.Membership.class_id,
                m.ChannelAccount.channel,
                m.ChannelAccount.external_id,
                m.ChannelAccount.chat_id,
                m.ChannelAccount.unreachable,
            )
            .join(m.ChannelAccount, m.ChannelAccount.user_id == m.Membership.user_id)
            .join(m.SchoolClass, m.SchoolClass.id == m.Membership.class_id)
            .where(
                m.Membership.class_id.in_(class_ids),
                m.Membership.role == "student",
                m.SchoolClass.archived.is_(False),
            )
            .order_by(m.Membership.class_id, m.Membership.user_id, m.ChannelAccount.id)
        )
        return [ports.RecipientRec(*row) for row in rows]

    async def add_deliveries(self, broadcast_id: int, recipients: list[ports.RecipientRec], now: dt.datetime) -> int:
        added = 0
        for rec in recipients:
            stmt = insert_ignore(self.session, m.Delivery, ["broadcast_id", "target"]).values(
                broadcast_id=broadcast_id,
                target=rec.target,
                channel=rec.channel,
                chat_id=rec.chat_id,
                external_id=rec.external_id,
                is_group=rec.is_group,
                user_id=rec.user_id,
                class_id=rec.class_id,
                # Known-unreachable accounts are not tried again; they are reported as such.
                status="unreachable" if rec.unreachable else "pending",
                attempts=0,
                created_at=now,
            )
            added += (await self.session.execute(stmt)).rowcount or 0
        return added

    async def deliveries(self, broadcast_id: int) -> list[ports.DeliveryRec]:
        rows = (
            await self.session.execute(
                select(m.Delivery).where(m.Delivery.broadcast_id == broadcast_id).order_by(m.Delivery.id)
            )
        ).scalars()
        return [_delivery(r) for r in rows]

    async def delivery(self, delivery_id: int) -> ports.DeliveryRec | None:
        row = await self.session.get(m.Delivery, delivery_id)
        return _delivery(row) if row else None

    async def for_classes(self, class_ids: list[int], limit: int = 20) -> list[ports.BroadcastRec]:
        if not class_ids:
            return []
        ids = select(m.Delivery.broadcast_id).where(m.Delivery.class_id.in_(class_ids)).distinct()
        rows = (
            await self.session.execute(
                select(m.Broadcast)
                .where(m.Broadcast.id.in_(ids), m.Broadcast.parent_id.is_(None))
                .order_by(m.Broadcast.id.desc())
                .limit(limit)
            )
        ).scalars()
        return [_broadcast(r) for r in rows]

    async def for_student(self, user_id: int) -> list[ports.BroadcastRec]:
        ids = select(m.Delivery.broadcast_id).where(m.Delivery.user_id == user_id).distinct()
        rows = (
            await self.session.execute(
                select(m.Broadcast)
                .where(m.Broadcast.id.in_(ids), m.Broadcast.parent_id.is_(None))
                .order_by(m.Broadcast.id.desc())
            )
        ).scalars()
        return [_broadcast(r) for r in rows]

    async def reminder_on(self, parent_id: int, day: dt.date) -> ports.BroadcastRec | None:
        row = (
            await self.session.execute(
                select(m.Broadcast).where(m.Broadcast.parent_id == parent_id, m.Broadcast.reminder_on == day)
            )
        ).scalar_one_or_none()
        return _broadcast(row) if row else None

    async def learning(self, broadcast: ports.BroadcastRec, user_ids: list[int]) -> dict[int, ports.LearningRec]:
        out = {uid: ports.LearningRec(False, False) for uid in user_ids}
        if not user_ids:
            return out
        if broadcast.kind == "lesson":
            rows = await self.session.execute(
                select(m.LessonProgress.user_id, m.LessonProgress.completed_at).where(
                    m.LessonProgress.lesson_id == broadcast.ref, m.LessonProgress.user_id.in_(user_ids)
                )
            )
            for uid, completed_at in rows:
                out[uid] = ports.LearningRec(True, completed_at is not None)
        else:
            # A practice quiz counts from the moment it was assigned.
            rows = await self.session.execute(
                select(m.QuizAttempt.user_id, m.QuizAttempt.finished_at).where(
                    m.QuizAttempt.kind == "practice",
                    m.QuizAttempt.topic == broadcast.ref,
                    m.QuizAttempt.started_at >= broadcast.created_at,
                    m.QuizAttempt.user_id.in_(user_ids),
                )
            )
            for uid, finished_at in rows:
                out[uid] = ports.LearningRec(True, out[uid].completed or finished_at is not None)
        return out

    async def names(self, user_ids: list[int]) -> dict[int, str]:
        if not user_ids:
            return {}
        out = {
            uid: name or ""
            for uid, name in await self.session.execute(
                select(m.User.id, m.User.display_name).where(m.User.id.in_(user_ids))
            )
        }
        # The name on the school's roster wins over the name the student typed.
        for uid, name in await self.session.execute(
            select(m.RosterEntry.user_id, m.RosterEntry.full_name).where(m.RosterEntry.user_id.in_(user_ids))
        ):
            out[uid] = name
        return out

    # The sender's queue. Every call runs in its own short transaction, committed by the caller.

    async def recover_stale(self, claimed_before: dt.datetime) -> int:
        """Rows left `sending` by a sender that died: they may have gone out, so they become `unknown`."""
        result = await self.session.execute(
            update(m.Delivery)
            .where(m.Delivery.status == "sending", m.Delivery.claimed_at < claimed_before)
            .values(status="unknown", last_error="interrupted while sending")
        )
        return int(result.rowcount or 0)

    def _due(self, channel: str, now: dt.datetime) -> Any:
        return (
            select(m.Delivery.id, m.Delivery.chat_id, m.Delivery.is_group)
            .join(m.Broadcast, m.Broadcast.id == m.Delivery.broadcast_id)
            .where(
                m.Delivery.status == "pending",
                m.Delivery.channel == channel,
                m.Broadcast.send_at <= now,
                (m.Delivery.next_attempt_at.is_(None)) | (m.Delivery.next_attempt_at <= now),
            )
        )

    async def candidates(self, channel: str, now: dt.datetime, limit: int = 100) -> list[tuple[int, str, bool]]:
        rows = await self.session.execute(self._due(channel, now).order_by(m.Delivery.id).limit(limit))
        return [(int(i), str(c), bool(g)) for i, c, g in rows]

    async def next_due_at(self, channel: str, scheduled_before: dt.datetime | None = None) -> dt.datetime | None:
        """When the earliest pending row of the channel becomes due (scheduled, or waiting to retry); only
        broadcasts scheduled before `scheduled_before` when it is given."""
        stmt = (
            select(m.Broadcast.send_at, func.min(func.coalesce(m.Delivery.next_attempt_at, m.Broadcast.send_at)))
            .join(m.Broadcast, m.Broadcast.id == m.Delivery.broadcast_id)
            .where(m.Delivery.status == "pending", m.Delivery.channel == channel)
            .group_by(m.Broadcast.id, m.Broadcast.send_at)
        )
        if scheduled_before is not None:
            stmt = stmt.where(m.Broadcast.send_at <= scheduled_before)
        times = [max(send_at, due) for send_at, due in await self.session.execute(stmt)]
        return min(times) if times else None

    async def claim(self, delivery_id: int, now: dt.datetime) -> ports.DeliveryRec | None:
        """Take a pending row for sending. On PostgreSQL a row another sender holds is skipped, not waited for."""
        row = (
            await self.session.execute(
                select(m.Delivery)
                .where(m.Delivery.id == delivery_id, m.Delivery.status == "pending")
                .with_for_update(skip_locked=True)
            )
        ).scalar_one_or_none()
        if row is None:
            return None
        row.status, row.claimed_at, row.attempts = "sending", now, row.attempts + 1
        await self.session.flush()
        return _delivery(row)

    async def lock_conversation(self, user_id: int, now: dt.datetime) -> None:
        """Hold the student's conversation row until commit (PostgreSQL; SQLite writers are serial anyway),
        so a delivery never writes back a conversation read before the student's own last step. The row is
        loaded into the session, so reading the conversation next costs nothing."""
        locked = select(m.Conversation).where(m.Conversation.user_id == user_id).with_for_update()
        if (await self.session.execute(locked)).scalar_one_or_none() is None:
            await self.session.execute(
                insert_ignore(self.session, m.Conversation, ["user_id"]).values(
                    user_id=user_id, flow="", step="", data={}, prompt={}, version=0, updated_at=now
                )
            )
            await self.session.execute(locked)

    async def defer(self, delivery_id: int, now: dt.datetime, until: dt.datetime, error: str, give_up: bool) -> None:
        """A pending row that could not even be prepared: try again later, or give up."""
        await self.session.execute(
            update(m.Delivery)
            .where(m.Delivery.id == delivery_id, m.Delivery.status == "pending")
            .values(
                status="failed" if give_up else "pending",
                attempts=m.Delivery.attempts + 1,
                next_attempt_at=until,
                last_error=error[:200],
                attempted_at=now,
            )
        )

    async def sent_to_user(self, broadcast_id: int, user_id: int) -> int:
        """How many of the student's accounts this broadcast reached (one student may use two channels)."""
        return int(
            (
                await self.session.execute(
                    select(func.count())
                    .select_from(m.Delivery)
                    .where(
                        m.Delivery.broadcast_id == broadcast_id,
                        m.Delivery.user_id == user_id,
                        m.Delivery.status == "sent",
                    )
                )
            ).scalar_one()
        )

    async def skip_target(self, channel: str, chat_id: str) -> int:
        """After a block: the same chat's other pending rows are not tried, they are reported unreachable."""
        result = await self.session.execute(
            update(m.Delivery)
            .where(m.Delivery.channel == channel, m.Delivery.chat_id == chat_id, m.Delivery.status == "pending")
            .values(status="unreachable", last_error="blocked earlier")
        )
        return int(result.rowcount or 0)

    async def finish(
        self,
        delivery_id: int,
        status: str,
        now: dt.datetime,
        error: str | None = None,
        next_attempt_at: dt.datetime | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status, "last_error": error[:200] if error else None, "attempted_at": now}
        if status == "sent":
            values["sent_at"] = now
        if status == "pending":
            values["next_attempt_at"] = next_attempt_at
        await self.session.execute(
            update(m.Delivery).where(m.Delivery.id == delivery_id, m.Delivery.status == "sending").values(**values)
        )

    async def recent_attempts(self, channel: str, since: dt.datetime) -> list[tuple[str, bool, dt.datetime]]:
        """(chat, is group, when) of the attempts that ended since `since`, oldest first."""
        rows = await self.session.execute(
            select(m.Delivery.chat_id, m.Delivery.is_group, m.Delivery.attempted_at)
            .where(m.Delivery.channel == channel, m.Delivery.attempted_at > since)
            .order_by(m.Delivery.attempted_at)
        )
        return [(str(c), bool(g), t) for c, g, t in rows]

    async def paused_until(self, channel: str, now: dt.datetime) -> dt.datetime | None:
        """The end of a 429 wait that is still running, if any."""
        return (
            await self.session.execute(
                select(func.max(m.Delivery.next_attempt_at)).where(
                    m.Delivery.channel == channel,
                    m.Delivery.status == "pending",
                    m.Delivery.last_error == "retry_after",
                    m.Delivery.next_attempt_at > now,
                )
            )
        ).scalar_one_or_none()

    async def pending_count(self, channels: list[str]) -> int:
        return int(
            (
                await self.session.execute(
                    select(func.count())
                    .select_from(m.Delivery)
                    .where(m.Delivery.status.in_(("pending", "sending")), m.Delivery.channel.in_(channels))
                )
            ).scalar_one()
        )

    async def list_recent(self, limit: int = 50) -> list[ports.BroadcastRec]:
        rows = (await self.session.execute(select(m.Broadcast).order_by(m.Broadcast.id.desc()).limit(limit))).scalars()
        return [_broadcast(r) for r in rows]

    async def status_counts(self, broadcast_id: int) -> dict[str, int]:
        rows = await self.session.execute(
            select(m.Delivery.status, func.count())
            .where(m.Delivery.broadcast_id == broadcast_id)
            .group_by(m.Delivery.status)
        )
        return {str(s): int(n) for s, n in rows}


__all__ = ["delete", "insert_ignore"]
