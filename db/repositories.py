"""The kernel's SQL repositories: users and their accounts, conversations, the audit chain, participation
records, notices and security events. Each feature's own are in its `sql` module. They never commit."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Integer, Table, func, insert, inspect, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from bot.core import ports
from bot.core.audit import audit_hash
from db import models as m
from db.sql import SqlRepository, hot, p, sql_statement

_users: Table = m.User.__table__  # type: ignore[assignment]
_accounts: Table = m.ChannelAccount.__table__  # type: ignore[assignment]
_convs: Table = m.Conversation.__table__  # type: ignore[assignment]
_notices: Table = m.Notice.__table__  # type: ignore[assignment]
_activity: Table = m.Activity.__table__  # type: ignore[assignment]
_classes: Table = m.SchoolClass.__table__  # type: ignore[assignment]
_memberships: Table = m.Membership.__table__  # type: ignore[assignment]


# One user by id, on the fast path (`session.get` spends about a millisecond in the ORM on a row the pages read
# once per request); a user already in this session's identity map is taken from there, as `session.get` does.
_USER = hot(select(*_users.c).where(_users.c.id == p("user_id")))

_USER_BY_ACCOUNT = hot(
    select(*_users.c, _accounts.c.unreachable)
    .join_from(_users, _accounts, _accounts.c.user_id == _users.c.id)
    .where(_accounts.c.channel == p("channel"), _accounts.c.external_id == p("external_id"))
)


# An event's user with their conversation, locked (see _CONVERSATION), in one query; users without a
# conversation row yet (their first event) take the two-query path.
_USER_FOR_EVENT = hot(
    select(*_users.c, _accounts.c.unreachable, _convs.c.flow, _convs.c.step, _convs.c.data, _convs.c.prompt)
    .join_from(_users, _accounts, _accounts.c.user_id == _users.c.id)
    .join(_convs, _convs.c.user_id == _users.c.id)
    .where(_accounts.c.channel == p("channel"), _accounts.c.external_id == p("external_id"))
    .with_for_update(of=_convs)
)


_SET_REACHABLE = hot(
    update(_accounts)
    .where(
        _accounts.c.channel == p("b_channel"),
        _accounts.c.external_id == p("b_external_id"),
        _accounts.c.unreachable == p("b_was"),
    )
    .values(unreachable=p("b_unreachable"))
)


# FOR UPDATE: two events of one user handled at once (two processes, a double tap) take turns on PostgreSQL
# instead of the later commit putting back the state the earlier one replaced. (SQLite write transactions are
# already serialised by BEGIN IMMEDIATE; SQLAlchemy does not emit the clause there.)
_CONVERSATION = hot(
    select(_convs.c.flow, _convs.c.step, _convs.c.data, _convs.c.prompt)
    .where(_convs.c.user_id == p("user_id"))
    .with_for_update()
)


_PENDING_NOTICES = hot(
    select(*_notices.c).where(_notices.c.sent_at.is_(None)).order_by(_notices.c.id).limit(p("limit", type_=Integer))
)


_PENDING_NOTICES_OF_USER = hot(_PENDING_NOTICES.where(_notices.c.user_id == p("user_id")))


_ADD_ACTIVITY = hot(
    insert(_activity).values(
        kind=p("b_kind"),
        at=p("b_at"),
        user_id=p("b_user_id"),
        school_id=p("b_school_id"),
        class_id=p("b_class_id"),
        topic=p("b_topic"),
        ref=p("b_ref"),
        value=p("b_value"),
    )
)


def _latest_class(column: Any) -> Any:
    return (
        select(column)
        .join_from(_memberships, _classes, _classes.c.id == _memberships.c.class_id)
        .where(_memberships.c.user_id == p("b_user_id"))
        .order_by(_memberships.c.joined_at.desc(), _memberships.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


# A participation record tied to the student's latest class and its school, in one statement.
_ADD_ACTIVITY_FOR_STUDENT = hot(
    insert(_activity).values(
        kind=p("b_kind"),
        at=p("b_at"),
        user_id=p("b_user_id"),
        school_id=func.coalesce(_latest_class(_classes.c.school_id), p("b_fallback_school_id", type_=Integer)),
        class_id=_latest_class(_classes.c.id),
        topic=p("b_topic"),
        ref=p("b_ref"),
        value=p("b_value"),
    )
)


# A record that keeps only the school: of the user's latest class, else the given one; no user, no class.
_ADD_ACTIVITY_ANONYMOUS = hot(
    insert(_activity).values(
        kind=p("b_kind"),
        at=p("b_at"),
        user_id=None,
        school_id=func.coalesce(_latest_class(_classes.c.school_id), p("b_fallback_school_id", type_=Integer)),
        class_id=None,
        topic=p("b_topic"),
        ref=p("b_ref"),
        value=p("b_value"),
    )
)


_SAVE_CONVERSATION = hot(
    sql_statement(
        "INSERT INTO conversations (user_id, flow, step, data, prompt, version, updated_at)"
        " VALUES (:user_id, :flow, :step, :data, :prompt, 1, :now)"
        " ON CONFLICT (user_id) DO UPDATE SET flow = excluded.flow, step = excluded.step, data = excluded.data,"
        " prompt = excluded.prompt, version = conversations.version + 1, updated_at = excluded.updated_at",
        _convs,
        now="updated_at",
    )
)


def user_rec(row: m.User) -> ports.UserRec:
    return ports.UserRec(row.id, row.display_name, row.locale, row.role, row.school_id, row.onboarded)


class SqlUserRepository(SqlRepository):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self._unreachable: dict[tuple[str, str], bool] = {}

    async def by_account(self, channel: str, external_id: str) -> ports.UserRec | None:
        found = (await self.session.execute(_USER_BY_ACCOUNT, {"channel": channel, "external_id": external_id})).first()
        if found is None:
            return None
        # Remembered for this unit of work: set_reachable then skips an UPDATE that would change nothing.
        self._unreachable[(channel, external_id)] = bool(found.unreachable)
        return user_rec(found)  # type: ignore[arg-type]

    async def for_event(self, channel: str, external_id: str) -> tuple[ports.UserRec, ports.ConversationRec] | None:
        found = (await self.session.execute(_USER_FOR_EVENT, {"channel": channel, "external_id": external_id})).first()
        if found is None:
            return None
        self._unreachable[(channel, external_id)] = bool(found.unreachable)
        conv = ports.ConversationRec(found.flow, found.step, dict(found.data or {}), dict(found.prompt or {}))
        return user_rec(found), conv  # type: ignore[arg-type]

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
        return user_rec(user)

    async def get(self, user_id: int) -> ports.UserRec | None:
        loaded = self.session.identity_map.get(identity_key(m.User, user_id))
        if loaded is not None and not inspect(loaded).expired_attributes:  # expired (a rollback): read it again
            return user_rec(cast(m.User, loaded))
        found = (await self.session.execute(_USER, {"user_id": user_id})).first()
        return user_rec(found) if found else None  # type: ignore[arg-type]

    async def update(self, user_id: int, **fields: Any) -> None:
        if fields:
            await self.session.execute(update(m.User).where(m.User.id == user_id).values(**fields))

    async def set_reachable(self, channel: str, external_id: str, reachable: bool) -> None:
        if self._unreachable.get((channel, external_id)) is (not reachable):
            return  # read in this unit of work and already so
        self._unreachable.pop((channel, external_id), None)
        await self.session.execute(
            _SET_REACHABLE,
            {"b_channel": channel, "b_external_id": external_id, "b_was": reachable, "b_unreachable": not reachable},
        )

    async def accounts(self, user_id: int) -> list[ports.AccountRec]:
        rows = (
            await self.session.execute(
                select(m.ChannelAccount).where(m.ChannelAccount.user_id == user_id).order_by(m.ChannelAccount.id)
            )
        ).scalars()
        return [ports.AccountRec(r.channel, r.external_id, r.chat_id, r.unreachable) for r in rows]

    async def staff_accounts(self, channel: str) -> list[tuple[str, str, str]]:
        """(external user id, role, locale) of every staff account on `channel` (students and parents have theirs)."""
        rows = await self.session.execute(
            select(m.ChannelAccount.external_id, m.User.role, m.User.locale)
            .join(m.User, m.User.id == m.ChannelAccount.user_id)
            .where(m.ChannelAccount.channel == channel, m.User.role.notin_(("student", "parent")))
            .order_by(m.ChannelAccount.id)
        )
        return [(str(ext), str(role), str(locale)) for ext, role, locale in rows]


class SqlConversationRepository(SqlRepository):
    async def get(self, user_id: int) -> ports.ConversationRec:
        row = (await self.session.execute(_CONVERSATION, {"user_id": user_id})).first()
        if row is None:
            return ports.ConversationRec()
        return ports.ConversationRec(row.flow, row.step, dict(row.data or {}), dict(row.prompt or {}))

    async def save(self, user_id: int, conv: ports.ConversationRec, now: dt.datetime) -> None:
        """One upsert, without reading the row again (it was read, and locked, by `get`)."""
        await self.session.execute(
            _SAVE_CONVERSATION,
            {
                "user_id": user_id,
                "flow": conv.flow,
                "step": conv.step,
                "data": dict(conv.data),
                "prompt": dict(conv.prompt),
                "now": now,
            },
        )


class SqlAuditRepository(SqlRepository):
    """Append-only and hash-chained: each row stores the previous row's hash and its own."""

    async def add(
        self, actor_id: int | None, action: str, scope: str, detail: dict[str, Any], now: dt.datetime
    ) -> None:
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            # Writers take turns until commit, so two rows never chain to the same predecessor.
            # (SQLite write transactions already start with BEGIN IMMEDIATE.)
            await self.session.execute(text("SELECT pg_advisory_xact_lock(7305071)"))
        prev = (
            await self.session.execute(select(m.AuditLog.hash).order_by(m.AuditLog.id.desc()).limit(1))
        ).scalar_one_or_none()
        digest = audit_hash(prev, now, actor_id, action, scope, detail)
        await self.session.execute(
            insert(m.AuditLog).values(
                actor_id=actor_id, action=action, scope=scope, detail=detail, at=now, prev_hash=prev, hash=digest
            )
        )

    async def chain(self) -> list[ports.AuditRec]:
        rows = (await self.session.execute(select(m.AuditLog).order_by(m.AuditLog.id))).scalars()
        return [
            ports.AuditRec(r.id, r.at, r.actor_id, r.action, r.scope, dict(r.detail or {}), r.prev_hash, r.hash)
            for r in rows
        ]


class SqlActivityRepository(SqlRepository):
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
            _ADD_ACTIVITY,
            {
                "b_kind": kind,
                "b_at": at,
                "b_user_id": user_id,
                "b_school_id": school_id,
                "b_class_id": class_id,
                "b_topic": topic,
                "b_ref": ref,
                "b_value": value,
            },
        )

    async def add_for_student(
        self,
        kind: str,
        at: dt.datetime,
        user_id: int,
        topic: str | None = None,
        ref: str | None = None,
        value: int | None = None,
        fallback_school_id: int | None = None,
    ) -> None:
        """A record tied to the user's latest class (the last of `classes.of_student`) and its school; with no
        class, to `fallback_school_id`. One statement: the class is looked up inside the INSERT."""
        await self.session.execute(
            _ADD_ACTIVITY_FOR_STUDENT,
            {
                "b_kind": kind,
                "b_at": at,
                "b_user_id": user_id,
                "b_fallback_school_id": fallback_school_id,
                "b_topic": topic,
                "b_ref": ref,
                "b_value": value,
            },
        )

    async def add_anonymous(
        self,
        kind: str,
        at: dt.datetime,
        user_id: int,
        fallback_school_id: int | None = None,
        topic: str | None = None,
        ref: str | None = None,
        value: int | None = None,
    ) -> None:
        await self.session.execute(
            _ADD_ACTIVITY_ANONYMOUS,
            {
                "b_kind": kind,
                "b_at": at,
                "b_user_id": user_id,
                "b_fallback_school_id": fallback_school_id,
                "b_topic": topic,
                "b_ref": ref,
                "b_value": value,
            },
        )


class SqlNoticeRepository(SqlRepository):
    async def add(self, user_id: int, text: str, now: dt.datetime) -> None:
        await self.session.execute(insert(m.Notice).values(user_id=user_id, text=text, created_at=now))

    async def pending(self, user_id: int | None = None, limit: int = 500) -> list[ports.NoticeRec]:
        if user_id is None:
            rows = await self.session.execute(_PENDING_NOTICES, {"limit": limit})
        else:
            rows = await self.session.execute(_PENDING_NOTICES_OF_USER, {"limit": limit, "user_id": user_id})
        return [ports.NoticeRec(r.id, r.user_id, r.text, r.created_at, r.sent_at) for r in rows]

    async def mark_sent(self, notice_ids: list[int], now: dt.datetime) -> None:
        if notice_ids:
            await self.session.execute(
                update(m.Notice).where(m.Notice.id.in_(notice_ids), m.Notice.sent_at.is_(None)).values(sent_at=now)
            )


class SqlSecurityRepository(SqlRepository):
    """Refused actions worth reviewing; never any message text."""

    async def add(
        self, user_id: int | None, kind: str, attempt_id: int | None, detail: dict[str, Any], now: dt.datetime
    ) -> None:
        await self.session.execute(
            insert(m.SecurityEvent).values(user_id=user_id, kind=kind, attempt_id=attempt_id, detail=detail, at=now)
        )
