"""SQL of broadcasts: class rosters, broadcast jobs, their deliveries, and the sender's queue."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    delete,
    func,
    select,
    update,
)

from bot.broadcasts.ports import BroadcastRec, DeliveryRec, LearningRec, MemberRec, RecipientRec, RosterRec
from db import models as m
from db.sql import SqlRepository, insert_ignore, rowcount


def _broadcast(row: m.Broadcast) -> BroadcastRec:
    return BroadcastRec(
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


def _delivery(row: m.Delivery) -> DeliveryRec:
    return DeliveryRec(
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


class SqlRosterRepository(SqlRepository):
    async def add_entries(self, class_id: int, rows: list[tuple[str, str, str | None]], now: dt.datetime) -> int:
        for full_name, name_key, code in rows:
            self.session.add(
                m.RosterEntry(
                    class_id=class_id, full_name=full_name, name_key=name_key, student_code=code, created_at=now
                )
            )
        await self.session.flush()
        return len(rows)

    async def entries(self, class_id: int) -> list[RosterRec]:
        rows = (
            await self.session.execute(
                select(m.RosterEntry).where(m.RosterEntry.class_id == class_id).order_by(m.RosterEntry.id)
            )
        ).scalars()
        return [RosterRec(r.id, r.class_id, r.full_name, r.name_key, r.student_code, r.user_id) for r in rows]

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

    async def members(self, class_id: int) -> list[MemberRec]:
        rows = await self.session.execute(
            select(m.User.id, m.User.display_name)
            .join(m.Membership, m.Membership.user_id == m.User.id)
            .where(m.Membership.class_id == class_id, m.Membership.role == "student")
            .order_by(m.Membership.joined_at, m.User.id)
        )
        return [MemberRec(uid, name) for uid, name in rows]

    async def unlisted(self, class_id: int) -> set[int]:
        rows = await self.session.execute(select(m.RosterUnlisted.user_id).where(m.RosterUnlisted.class_id == class_id))
        return {uid for (uid,) in rows}

    async def mark_unlisted(self, class_id: int, user_id: int, decided_by: int | None, now: dt.datetime) -> bool:
        stmt = insert_ignore(self.session, m.RosterUnlisted, ["class_id", "user_id"]).values(
            class_id=class_id, user_id=user_id, decided_by=decided_by, decided_at=now
        )
        return bool(rowcount(await self.session.execute(stmt)))

    async def clear_unlisted(self, class_id: int) -> None:
        await self.session.execute(delete(m.RosterUnlisted).where(m.RosterUnlisted.class_id == class_id))

    async def rename_class(self, class_id: int, name: str) -> None:
        await self.session.execute(update(m.SchoolClass).where(m.SchoolClass.id == class_id).values(name=name))

    async def archive_class(self, class_id: int) -> None:
        await self.session.execute(update(m.SchoolClass).where(m.SchoolClass.id == class_id).values(archived=True))

    async def set_join_code(self, class_id: int, code: str) -> None:
        await self.session.execute(update(m.SchoolClass).where(m.SchoolClass.id == class_id).values(join_code=code))


class SqlBroadcastRepository(SqlRepository):
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
    ) -> BroadcastRec:
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

    async def get(self, broadcast_id: int) -> BroadcastRec | None:
        row = await self.session.get(m.Broadcast, broadcast_id)
        return _broadcast(row) if row else None

    async def recipients(self, class_ids: list[int]) -> list[RecipientRec]:
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
        return [RecipientRec(*row) for row in rows]

    async def add_deliveries(self, broadcast_id: int, recipients: list[RecipientRec], now: dt.datetime) -> int:
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
            added += rowcount(await self.session.execute(stmt))
        return added

    async def deliveries(self, broadcast_id: int) -> list[DeliveryRec]:
        rows = (
            await self.session.execute(
                select(m.Delivery).where(m.Delivery.broadcast_id == broadcast_id).order_by(m.Delivery.id)
            )
        ).scalars()
        return [_delivery(r) for r in rows]

    async def delivery(self, delivery_id: int) -> DeliveryRec | None:
        row = await self.session.get(m.Delivery, delivery_id)
        return _delivery(row) if row else None

    async def for_classes(self, class_ids: list[int], limit: int = 20) -> list[BroadcastRec]:
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

    async def for_student(self, user_id: int) -> list[BroadcastRec]:
        ids = select(m.Delivery.broadcast_id).where(m.Delivery.user_id == user_id).distinct()
        rows = (
            await self.session.execute(
                select(m.Broadcast)
                .where(m.Broadcast.id.in_(ids), m.Broadcast.parent_id.is_(None))
                .order_by(m.Broadcast.id.desc())
            )
        ).scalars()
        return [_broadcast(r) for r in rows]

    async def reminder_on(self, parent_id: int, day: dt.date) -> BroadcastRec | None:
        row = (
            await self.session.execute(
                select(m.Broadcast).where(m.Broadcast.parent_id == parent_id, m.Broadcast.reminder_on == day)
            )
        ).scalar_one_or_none()
        return _broadcast(row) if row else None

    async def learning(self, broadcast: BroadcastRec, user_ids: list[int]) -> dict[int, LearningRec]:
        out = {uid: LearningRec(False, False) for uid in user_ids}
        if not user_ids:
            return out
        if broadcast.kind == "lesson":
            rows = await self.session.execute(
                select(m.LessonProgress.user_id, m.LessonProgress.completed_at).where(
                    m.LessonProgress.lesson_id == broadcast.ref, m.LessonProgress.user_id.in_(user_ids)
                )
            )
            for uid, completed_at in rows:
                out[uid] = LearningRec(True, completed_at is not None)
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
                out[uid] = LearningRec(True, out[uid].completed or finished_at is not None)
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
        return rowcount(result)

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

    async def claim(self, delivery_id: int, now: dt.datetime) -> DeliveryRec | None:
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
        return rowcount(result)

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

    async def list_recent(self, limit: int = 50) -> list[BroadcastRec]:
        rows = (await self.session.execute(select(m.Broadcast).order_by(m.Broadcast.id.desc()).limit(limit))).scalars()
        return [_broadcast(r) for r in rows]

    async def status_counts(self, broadcast_id: int) -> dict[str, int]:
        rows = await self.session.execute(
            select(m.Delivery.status, func.count())
            .where(m.Delivery.broadcast_id == broadcast_id)
            .group_by(m.Delivery.status)
        )
        return {str(s): int(n) for s, n in rows}
