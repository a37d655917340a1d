"""SQLAlchemy implementations of the core's repository ports. They never commit."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, fields
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Table,
    Text,
    bindparam,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import ports
from bot.core.services.audit_chain import audit_hash
from db import models as m
from db.fast import hot


def insert_ignore(session: AsyncSession, table: Any, index_elements: list[str]) -> Any:
    """`INSERT ... ON CONFLICT DO NOTHING` for the session's dialect."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    return make(table).on_conflict_do_nothing(index_elements=index_elements)


# Statements on the hot path (every event, every contest answer) are built once, with bound parameters, and run
# as Core statements on the tables: SQLAlchemy then skips building the statement, computing its cache key and
# loading ORM objects, which was most of the bot's CPU per update. Rows are read by column name.
_users, _accounts = m.User.__table__, m.ChannelAccount.__table__
_convs, _attempts, _answers = m.Conversation.__table__, m.QuizAttempt.__table__, m.AttemptAnswer.__table__
_inbox = m.InboundUpdate.__table__
_entries, _rounds, _contests = m.ContestEntry.__table__, m.ContestRound.__table__, m.Contest.__table__
_p = bindparam

_USER_BY_ACCOUNT = hot(
    select(*_users.c, _accounts.c.unreachable)
    .join_from(_users, _accounts, _accounts.c.user_id == _users.c.id)
    .where(_accounts.c.channel == _p("channel"), _accounts.c.external_id == _p("external_id"))
)
# An event's user with their conversation, locked (see _CONVERSATION), in one query; users without a
# conversation row yet (their first event) take the two-query path.
_USER_FOR_EVENT = hot(
    select(*_users.c, _accounts.c.unreachable, _convs.c.flow, _convs.c.step, _convs.c.data, _convs.c.prompt)
    .join_from(_users, _accounts, _accounts.c.user_id == _users.c.id)
    .join(_convs, _convs.c.user_id == _users.c.id)
    .where(_accounts.c.channel == _p("channel"), _accounts.c.external_id == _p("external_id"))
    .with_for_update(of=_convs)
)
_SET_REACHABLE = hot(
    update(_accounts)
    .where(
        _accounts.c.channel == _p("b_channel"),
        _accounts.c.external_id == _p("b_external_id"),
        _accounts.c.unreachable == _p("b_was"),
    )
    .values(unreachable=_p("b_unreachable"))
)
# FOR UPDATE: two events of one user handled at once (two processes, a double tap) take turns on PostgreSQL
# instead of the later commit putting back the state the earlier one replaced. (SQLite write transactions are
# already serialised by BEGIN IMMEDIATE; SQLAlchemy does not emit the clause there.)
_CONVERSATION = hot(
    select(_convs.c.flow, _convs.c.step, _convs.c.data, _convs.c.prompt)
    .where(_convs.c.user_id == _p("user_id"))
    .with_for_update()
)
_ATTEMPT = hot(select(*_attempts.c).where(_attempts.c.id == _p("attempt_id")))
_ANSWERS = hot(select(*_answers.c).where(_answers.c.attempt_id == _p("attempt_id")).order_by(_answers.c.seq))
_CONTEXT_COLUMNS = (
    *(c.label(f"e_{c.name}") for c in _entries.c),
    *(c.label(f"r_{c.name}") for c in _rounds.c),
    _contests.c.id.label("c_id"),
    _contests.c.slug.label("c_slug"),
    _contests.c.title.label("c_title"),
    _contests.c.created_at.label("c_created_at"),
)
_ATTEMPT_CONTEXT = hot(
    select(*_CONTEXT_COLUMNS)
    .join_from(_entries, _rounds, _rounds.c.id == _entries.c.round_id)
    .join(_contests, _contests.c.id == _rounds.c.contest_id)
    .where(_entries.c.attempt_id == _p("attempt_id"))
)


def _of_attempt(statement: Any) -> Any:
    """`statement` for one attempt (`attempt_id`), joined to its entry, round and contest, which an attempt outside
    contests does not have."""
    return (
        statement.select_from(_attempts)
        .outerjoin(_entries, _entries.c.attempt_id == _attempts.c.id)
        .outerjoin(_rounds, _rounds.c.id == _entries.c.round_id)
        .outerjoin(_contests, _contests.c.id == _rounds.c.contest_id)
        .where(_attempts.c.id == _p("attempt_id"))
    )


# An attempt with its entry, round and contest (none for an attempt outside contests), in one query.
_ATTEMPT_WITH_CONTEXT = _of_attempt(select(*(c.label(f"a_{c.name}") for c in _attempts.c), *_CONTEXT_COLUMNS))
# What a contest answer needs, in one query: the attempt, its contest (none for a practice attempt) and how many
# answers it has. Only the columns used: every datetime read from SQLite is parsed from text.
_ANSWERING = hot(
    _of_attempt(
        select(
            *(c.label(f"a_{c.name}") for c in _attempts.c),
            _contests.c.id.label("c_id"),
            _contests.c.slug.label("c_slug"),
            _contests.c.title.label("c_title"),
            _contests.c.created_at.label("c_created_at"),
            select(func.count())
            .select_from(_answers)
            .where(_answers.c.attempt_id == _attempts.c.id)
            .scalar_subquery()
            .label("answered"),
        )
    )
)
_CONTESTS = select(
    _contests.c.id.label("c_id"),
    _contests.c.slug.label("c_slug"),
    _contests.c.title.label("c_title"),
    _contests.c.created_at.label("c_created_at"),
)
_CONTEST_DEFINITION = hot(select(_contests.c.definition).where(_contests.c.id == _p("contest_id")))
_MARK_HANDLED = hot(
    update(_inbox)
    .where(_inbox.c.id == _p("inbox_id"), _inbox.c.status == "pending")
    .values(status="handled", replies=_p("b_replies", type_=_inbox.c.replies.type), handled_at=_p("now"))
)
_MARK_DONE = (
    update(_inbox)
    .where(_inbox.c.id.in_(_p("ids", expanding=True)))
    .values(status="done", processed_at=_p("now"), replies=None)
)

# The once-per-attempt contest steps (/thi, registration, the start, the prediction) and the participation
# records, prebuilt the same way as the answer path's statements: a few of them each, every step.
_consents: Table = m.Consent.__table__  # type: ignore[assignment]
_classes: Table = m.SchoolClass.__table__  # type: ignore[assignment]
_memberships: Table = m.Membership.__table__  # type: ignore[assignment]
_schools: Table = m.School.__table__  # type: ignore[assignment]
_registrations: Table = m.ContestRegistration.__table__  # type: ignore[assignment]
_notices: Table = m.Notice.__table__  # type: ignore[assignment]
_activity: Table = m.Activity.__table__  # type: ignore[assignment]
_CONTEST_COLUMNS = (
    _contests.c.id.label("c_id"),
    _contests.c.slug.label("c_slug"),
    _contests.c.title.label("c_title"),
    _contests.c.created_at.label("c_created_at"),
)
_ACTIVE_CONSENTS = select(*_consents.c).where(_consents.c.user_id == _p("user_id"), _consents.c.withdrawn_at.is_(None))
# Ordered by joining time, then by membership (two joins at the same instant still have an order): a student's
# latest class is the last one, here and in _ADD_ACTIVITY_FOR_STUDENT.
_CLASSES_OF_STUDENT = (
    select(*_classes.c)
    .join_from(_classes, _memberships, _memberships.c.class_id == _classes.c.id)
    .where(_memberships.c.user_id == _p("user_id"))
    .order_by(_memberships.c.joined_at, _memberships.c.id)
)
_SCHOOL = select(_schools.c.id, _schools.c.name).where(_schools.c.id == _p("school_id"))
_ROUND = select(*_rounds.c).where(_rounds.c.id == _p("round_id"))
_ROUNDS = select(*_rounds.c).where(_rounds.c.contest_id == _p("contest_id")).order_by(_rounds.c.number)
# A round as one student sees it, in one query: its contest, the student's registration in the contest, their
# official attempts in the round and their unfinished contest attempts (any round).
_STUDENT_ROUND = (
    select(
        *(c.label(f"r_{c.name}") for c in _rounds.c),
        *_CONTEST_COLUMNS,
        *(c.label(f"g_{c.name}") for c in _registrations.c),
        select(func.count())
        .select_from(_entries)
        .where(
            _entries.c.round_id == _rounds.c.id,
            _entries.c.user_id == _p("user_id"),
            _entries.c.official_no.is_not(None),
        )
        .scalar_subquery()
        .label("official_used"),
        select(func.count())
        .select_from(_entries)
        .join(_attempts, _attempts.c.id == _entries.c.attempt_id)
        .where(_entries.c.user_id == _p("user_id"), _attempts.c.finished_at.is_(None))
        .scalar_subquery()
        .label("running"),
    )
    .join_from(_rounds, _contests, _contests.c.id == _rounds.c.contest_id)
    .outerjoin(
        _registrations,
        (_registrations.c.contest_id == _contests.c.id) & (_registrations.c.user_id == _p("user_id")),
    )
    .where(_rounds.c.id == _p("round_id"))
)
# Every round of every contest with the student's registration in that contest, if any: the contest home page.
_STUDENT_ROUNDS = (
    select(
        *_CONTEST_COLUMNS,
        *(c.label(f"r_{c.name}") for c in _rounds.c),
        *(c.label(f"g_{c.name}") for c in _registrations.c),
    )
    .join_from(_contests, _rounds, _rounds.c.contest_id == _contests.c.id)
    .outerjoin(
        _registrations,
        (_registrations.c.contest_id == _contests.c.id) & (_registrations.c.user_id == _p("user_id")),
    )
    .order_by(_contests.c.id, _rounds.c.number)
)
_REGISTRATION = select(*_registrations.c).where(
    _registrations.c.contest_id == _p("contest_id"), _registrations.c.user_id == _p("user_id")
)
_LOCK_REGISTRATION = (
    update(_registrations)
    .where(_registrations.c.id == _p("b_id"), _registrations.c.locked_at.is_(None))
    .values(locked_at=_p("b_now"))
)
_ENTRIES_OF = (
    select(*_entries.c)
    .where(_entries.c.round_id == _p("round_id"), _entries.c.user_id == _p("user_id"))
    .order_by(_entries.c.id)
)
_ENTRY_BY_ATTEMPT = select(*_entries.c).where(_entries.c.attempt_id == _p("attempt_id"))
_RUNNING = (
    select(*(c.label(f"e_{c.name}") for c in _entries.c), *(c.label(f"a_{c.name}") for c in _attempts.c))
    .join_from(_entries, _attempts, _attempts.c.id == _entries.c.attempt_id)
    .where(_entries.c.user_id == _p("user_id"), _attempts.c.finished_at.is_(None))
    .order_by(_entries.c.id)
)
_SET_PREDICTION = (
    update(_entries)  # type: ignore[arg-type]
    .where(_entries.c.id == _p("b_id"), _entries.c.prediction.is_(None))
    .values(prediction=_p("b_prediction"))
)
_OVERDUE = (
    select(*_attempts.c)
    .join_from(_attempts, _entries, _entries.c.attempt_id == _attempts.c.id)
    .where(_attempts.c.finished_at.is_(None), _attempts.c.deadline_at < _p("before"))
    .order_by(_attempts.c.id)
)
_OVERDUE_OF_USER = _OVERDUE.where(_attempts.c.user_id == _p("user_id"))
_PENDING_NOTICES = (
    select(*_notices.c).where(_notices.c.sent_at.is_(None)).order_by(_notices.c.id).limit(_p("limit", type_=Integer))
)
_PENDING_NOTICES_OF_USER = _PENDING_NOTICES.where(_notices.c.user_id == _p("user_id"))
_FINISH_ATTEMPT = (
    update(_attempts)  # type: ignore[arg-type]
    .where(_attempts.c.id == _p("b_id"), _attempts.c.finished_at.is_(None))
    .values(finished_at=_p("b_now"), score=_p("b_score"))
)
_CORRECT_ANSWERS = (
    select(func.count())
    .select_from(_answers)
    .where(_answers.c.attempt_id == _p("attempt_id"), _answers.c.correct.is_(True))
)
# Finishing with the score counted from the stored answers, in one statement.
_FINISH_SCORED = (
    update(_attempts)  # type: ignore[arg-type]
    .where(_attempts.c.id == _p("b_id"), _attempts.c.finished_at.is_(None))
    .values(
        finished_at=_p("b_at"),
        score=select(func.count())
        .select_from(_answers)
        .where(_answers.c.attempt_id == _p("b_id"), _answers.c.correct.is_(True))
        .scalar_subquery(),
    )
    .returning(_attempts.c.score)
)
_ADD_ACTIVITY = insert(_activity).values(
    kind=_p("b_kind"),
    at=_p("b_at"),
    user_id=_p("b_user_id"),
    school_id=_p("b_school_id"),
    class_id=_p("b_class_id"),
    topic=_p("b_topic"),
    ref=_p("b_ref"),
    value=_p("b_value"),
)


def _latest_class(column: Any) -> Any:
    return (
        select(column)
        .join_from(_memberships, _classes, _classes.c.id == _memberships.c.class_id)
        .where(_memberships.c.user_id == _p("b_user_id"))
        .order_by(_memberships.c.joined_at.desc(), _memberships.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


# A participation record tied to the student's latest class and its school, in one statement.
_ADD_ACTIVITY_FOR_STUDENT = insert(_activity).values(
    kind=_p("b_kind"),
    at=_p("b_at"),
    user_id=_p("b_user_id"),
    school_id=func.coalesce(_latest_class(_classes.c.school_id), _p("b_fallback_school_id", type_=Integer)),
    class_id=_latest_class(_classes.c.id),
    topic=_p("b_topic"),
    ref=_p("b_ref"),
    value=_p("b_value"),
)


def _sql(sql: str, table: Any, returning: Any = None, now: str = "") -> Any:
    """A statement written as SQL, each `:param` typed like the column of that name (`:now` like `now`).

    For the upserts: SQLAlchemy does not cache the dialect-specific `INSERT ... ON CONFLICT` constructs and
    compiled them again on every call; the `ON CONFLICT` syntax below is the same on SQLite and PostgreSQL,
    and a text statement is compiled once."""
    names = dict.fromkeys(re.findall(r"(?<!:):(\w+)", sql))
    stmt = text(sql).bindparams(*(bindparam(n, type_=table.c[now if n == "now" else n].type) for n in names))
    return stmt.columns(returning) if returning is not None else stmt


_SAVE_CONVERSATION = hot(
    _sql(
        "INSERT INTO conversations (user_id, flow, step, data, prompt, version, updated_at)"
        " VALUES (:user_id, :flow, :step, :data, :prompt, 1, :now)"
        " ON CONFLICT (user_id) DO UPDATE SET flow = excluded.flow, step = excluded.step, data = excluded.data,"
        " prompt = excluded.prompt, version = conversations.version + 1, updated_at = excluded.updated_at",
        _convs,
        now="updated_at",
    )
)
_ADD_ANSWER = hot(
    _sql(
        "INSERT INTO attempt_answers (attempt_id, seq, question_id, chosen, correct, answered_at)"
        " VALUES (:attempt_id, :seq, :question_id, :chosen, :correct, :now) ON CONFLICT (attempt_id, seq) DO NOTHING",
        _answers,
        now="answered_at",
    )
)
_STORE_UPDATE = hot(
    _sql(
        "INSERT INTO inbound_updates (channel, bot_id, external_id, payload, status, attempts, received_at)"
        " VALUES (:channel, :bot_id, :external_id, :payload, 'pending', 0, :now)"
        " ON CONFLICT (channel, bot_id, external_id) DO NOTHING RETURNING id",
        _inbox,
        returning=_inbox.c.id,
        now="received_at",
    )
)
_CREATE_ATTEMPT = _sql(
    "INSERT INTO quiz_attempts (user_id, kind, topic, ref, questions, started_at, deadline_at, total)"
    " VALUES (:user_id, :kind, :topic, :ref, :questions, :started_at, :deadline_at, :total) RETURNING id",
    _attempts,
    returning=_attempts.c.id,
)
_REGISTER = _sql(
    "INSERT INTO contest_registrations (contest_id, user_id, display_name, school_id, school_name, class_id,"
    " class_name, grade, created_at) VALUES (:contest_id, :user_id, :display_name, :school_id, :school_name,"
    " :class_id, :class_name, :grade, :now) ON CONFLICT (contest_id, user_id) DO NOTHING RETURNING id",
    _registrations,
    returning=_registrations.c.id,
    now="created_at",
)
_ADD_ENTRY = _sql(
    "INSERT INTO contest_entries (round_id, registration_id, user_id, attempt_id, official_round_id, official_no,"
    " created_at) VALUES (:round_id, :registration_id, :user_id, :attempt_id, NULL, NULL, :now)",
    _entries,
    now="created_at",
)
# The UNIQUE (official_round_id, user_id, official_no) constraint decides which of two concurrent starts counts.
_ADD_OFFICIAL_ENTRY = _sql(
    "INSERT INTO contest_entries (round_id, registration_id, user_id, attempt_id, official_round_id, official_no,"
    " created_at) VALUES (:round_id, :registration_id, :user_id, :attempt_id, :round_id, :official_no, :now)"
    " ON CONFLICT (official_round_id, user_id, official_no) DO NOTHING",
    _entries,
    now="created_at",
)
# The contest steps' prebuilt statements run on the fast path too (db/fast.py).
for _hot in (
    _ATTEMPT_WITH_CONTEXT,
    _OVERDUE,
    _OVERDUE_OF_USER,
    _PENDING_NOTICES,
    _PENDING_NOTICES_OF_USER,
    _FINISH_SCORED,
    _FINISH_ATTEMPT,
    _CORRECT_ANSWERS,
    _ADD_ACTIVITY,
    _ADD_ACTIVITY_FOR_STUDENT,
    _REGISTER,
    _CREATE_ATTEMPT,
    _ADD_ENTRY,
    _ADD_OFFICIAL_ENTRY,
    _RUNNING,
    _STUDENT_ROUND,
    _STUDENT_ROUNDS,
    _LOCK_REGISTRATION,
    _ENTRIES_OF,
    _ENTRY_BY_ATTEMPT,
    _SET_PREDICTION,
    _REGISTRATION,
    _ROUND,
    _ROUNDS,
    _SCHOOL,
    _CLASSES_OF_STUDENT,
    _ACTIVE_CONSENTS,
):
    hot(_hot)

# Contest definitions by (database, id, slug, created_at): read-only once created, and several kB of JSON each.
_DEFINITIONS: dict[tuple[Any, ...], dict[str, Any]] = {}


def _prefixed(row: Any, prefix: str) -> dict[str, Any]:
    """The columns of one table in a joined row, labelled `<prefix><column>`, by column name."""
    n = len(prefix)
    return {k[n:]: v for k, v in row._mapping.items() if k.startswith(prefix)}


_FIELDS: dict[type, tuple[str, ...]] = {}


def _prefixed_rec(cls: Any, row: Any, prefix: str) -> Any:
    """A record dataclass from the columns of one table in a joined row, labelled `<prefix><field>`."""
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in fields(cls))
    mapping = row._mapping
    return cls(*[mapping[prefix + n] for n in names])


def _attempt_of(row: Any, prefix: str) -> ports.AttemptRec:
    rec: ports.AttemptRec = _prefixed_rec(ports.AttemptRec, row, prefix)
    rec.questions = list(rec.questions)
    return rec


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
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self._unreachable: dict[tuple[str, str], bool] = {}

    async def by_account(self, channel: str, external_id: str) -> ports.UserRec | None:
        found = (await self.session.execute(_USER_BY_ACCOUNT, {"channel": channel, "external_id": external_id})).first()
        if found is None:
            return None
        # Remembered for this unit of work: set_reachable then skips an UPDATE that would change nothing.
        self._unreachable[(channel, external_id)] = bool(found.unreachable)
        return _user(found)  # type: ignore[arg-type]

    async def for_event(self, channel: str, external_id: str) -> tuple[ports.UserRec, ports.ConversationRec] | None:
        found = (await self.session.execute(_USER_FOR_EVENT, {"channel": channel, "external_id": external_id})).first()
        if found is None:
            return None
        self._unreachable[(channel, external_id)] = bool(found.unreachable)
        conv = ports.ConversationRec(found.flow, found.step, dict(found.data or {}), dict(found.prompt or {}))
        return _user(found), conv  # type: ignore[arg-type]

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
        if self._unreachable.get((channel, external_id)) is (not reachable):
            return  # read in this unit of work and already so
        self._unreachable.pop((channel, external_id), None)
        await self.session.execute(
            _SET_REACHABLE,
            {"b_channel": channel, "b_external_id": external_id, "b_was": reachable, "b_unreachable": not reachable},
        )


class SqlSchoolRepository(_Repo):
    async def create(self, name: str, now: dt.datetime) -> ports.SchoolRec:
        row = m.School(name=name, created_at=now)
        self.session.add(row)
        await self.session.flush()
        return ports.SchoolRec(row.id, row.name)

    async def get(self, school_id: int) -> ports.SchoolRec | None:
        row = (await self.session.execute(_SCHOOL, {"school_id": school_id})).first()
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
        rows = await self.session.execute(_CLASSES_OF_STUDENT, {"user_id": user_id})
        return [_class(r) for r in rows]  # type: ignore[arg-type]

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
        return ports.AttemptRec(
            attempt_id, user_id, kind, topic, ref, list(questions), now, deadline_at, None, None, len(questions)
        )

    async def get(self, attempt_id: int) -> ports.AttemptRec | None:
        row = (await self.session.execute(_ATTEMPT, {"attempt_id": attempt_id})).first()
        return _attempt(row) if row else None  # type: ignore[arg-type]

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
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def answers(self, attempt_id: int) -> list[ports.AnswerRec]:
        rows = await self.session.execute(_ANSWERS, {"attempt_id": attempt_id})
        return [ports.AnswerRec(r.seq, r.question_id, r.chosen, r.correct, r.answered_at) for r in rows]

    async def finish(self, attempt_id: int, score: int, now: dt.datetime) -> bool:
        """False when the attempt was finished before (nothing changed)."""
        result = await self.session.execute(_FINISH_ATTEMPT, {"b_id": attempt_id, "b_now": now, "b_score": score})
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def finish_scored(self, attempt_id: int, at: dt.datetime) -> int | None:
        """Finish the attempt as of `at`, scored from its stored answers; returns the score, or None when the
        attempt was finished before (nothing changed)."""
        score = (await self.session.execute(_FINISH_SCORED, {"b_id": attempt_id, "b_at": at})).scalar_one_or_none()
        return None if score is None else int(score)

    async def correct_count(self, attempt_id: int) -> int:
        return int((await self.session.execute(_CORRECT_ANSWERS, {"attempt_id": attempt_id})).scalar_one())

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

    async def active(self, user_id: int) -> list[ports.ConsentRec]:
        rows = await self.session.execute(_ACTIVE_CONSENTS, {"user_id": user_id})
        return [
            ports.ConsentRec(r.kind, r.method, r.notice_version, r.given_at, r.withdrawn_at, r.reference, r.recorded_by)
            for r in rows
        ]

    async def withdraw(self, user_id: int, now: dt.datetime) -> int:
        result = await self.session.execute(
            update(m.Consent)
            .where(m.Consent.user_id == user_id, m.Consent.withdrawn_at.is_(None))
            .values(withdrawn_at=now)
        )
        return int(result.rowcount or 0)


class SqlAuditRepository(_Repo):
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


class SqlInboxRepository(_Repo):
    """The inbox of inbound updates: stored once per key before acknowledging, then handled, then sent."""

    async def store(
        self, channel: str, bot_id: str, external_id: str, payload: dict[str, Any], now: dt.datetime
    ) -> int | None:
        """Insert the update; returns its id, or None when the same update was stored before."""
        params = {"channel": channel, "bot_id": bot_id, "external_id": external_id, "payload": payload, "now": now}
        return (await self.session.execute(_STORE_UPDATE, params)).scalar_one_or_none()

    async def mark_handled(self, inbox_id: int, replies: list[dict[str, Any]], now: dt.datetime) -> bool:
        """False when the update was already handled: the caller must then roll back its changes."""
        result = await self.session.execute(_MARK_HANDLED, {"inbox_id": inbox_id, "b_replies": replies, "now": now})
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def mark_done(self, inbox_id: int, now: dt.datetime) -> None:
        await self.session.execute(
            update(m.InboundUpdate)
            .where(m.InboundUpdate.id == inbox_id)
            .values(status="done", processed_at=now, replies=None)
        )

    async def mark_done_many(self, inbox_ids: list[int], now: dt.datetime) -> None:
        await self.session.execute(_MARK_DONE, {"ids": list(inbox_ids), "now": now})

    async def fail(self, inbox_id: int, error: str, max_attempts: int, now: dt.datetime) -> str:
        row = await self.session.get(m.InboundUpdate, inbox_id)
        if row is None:
            return "missing"
        row.attempts += 1
        row.error = error[:500]
        if row.attempts >= max_attempts:
            row.status, row.processed_at = "dead", now
        return row.status

    async def unfinished(
        self,
        channel: str,
        bot_id: str,
        limit: int = 500,
        after_id: int = 0,
        received_before: dt.datetime | None = None,
    ) -> list[m.InboundUpdate]:
        rows = (
            await self.session.execute(
                select(m.InboundUpdate)
                .where(
                    m.InboundUpdate.channel == channel,
                    m.InboundUpdate.bot_id == bot_id,
                    m.InboundUpdate.status.in_(("pending", "handled")),
                    m.InboundUpdate.id > after_id,
                    *([m.InboundUpdate.received_at < received_before] if received_before is not None else []),
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


# --- zalo ---


class SqlAccountLinkRepository(_Repo):
    async def create_code(self, code: str, user_id: int, expires_at: dt.datetime, now: dt.datetime) -> None:
        # One live code per user: asking again replaces the previous one.
        await self.session.execute(
            delete(m.LinkCode).where(m.LinkCode.user_id == user_id, m.LinkCode.used_at.is_(None))
        )
        await self.session.execute(
            insert(m.LinkCode).values(code=code, user_id=user_id, expires_at=expires_at, created_at=now)
        )

    async def by_code(self, code: str) -> ports.LinkCodeRec | None:
        row = (await self.session.execute(select(m.LinkCode).where(m.LinkCode.code == code))).scalar_one_or_none()
        return ports.LinkCodeRec(row.id, row.code, row.user_id, row.expires_at, row.used_at) if row else None

    async def use_code(self, code_id: int, now: dt.datetime) -> bool:
        result = await self.session.execute(
            update(m.LinkCode).where(m.LinkCode.id == code_id, m.LinkCode.used_at.is_(None)).values(used_at=now)
        )
        return bool(result.rowcount)

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


# --- contests ---


def _round(row: m.ContestRound) -> ports.RoundRec:
    return ports.RoundRec(
        row.id,
        row.contest_id,
        row.number,
        row.name,
        row.opens_at,
        row.closes_at,
        row.status,
        row.opened_at,
        row.closed_at,
        row.published_at,
        row.actual,
    )


def _registration(row: m.ContestRegistration) -> ports.RegistrationRec:
    return ports.RegistrationRec(
        row.id,
        row.contest_id,
        row.user_id,
        row.display_name,
        row.school_id,
        row.school_name,
        row.class_id,
        row.class_name,
        row.grade,
        row.locked_at,
    )


def _entry(row: m.ContestEntry) -> ports.EntryRec:
    return ports.EntryRec(
        row.id, row.round_id, row.registration_id, row.user_id, row.attempt_id, row.official_no, row.prediction
    )


def _contest(row: m.Contest) -> ports.ContestRec:
    return ports.ContestRec(row.id, row.slug, row.title, dict(row.definition or {}), row.created_at)


class SqlContestRepository(_Repo):
    async def create(
        self, slug: str, title: str, definition: dict[str, Any], created_by: int | None, now: dt.datetime
    ) -> ports.ContestRec:
        row = m.Contest(slug=slug, title=title, definition=definition, created_by=created_by, created_at=now)
        self.session.add(row)
        await self.session.flush()
        return _contest(row)

    # Contests are read without their definition, which comes from the per-process cache (see _contest_of).
    async def get(self, contest_id: int) -> ports.ContestRec | None:
        row = (await self.session.execute(_CONTESTS.where(_contests.c.id == contest_id))).first()
        return await self._contest_of(row) if row else None

    async def by_slug(self, slug: str) -> ports.ContestRec | None:
        row = (await self.session.execute(_CONTESTS.where(_contests.c.slug == slug))).first()
        return await self._contest_of(row) if row else None

    async def all(self) -> list[ports.ContestRec]:
        rows = (await self.session.execute(_CONTESTS.order_by(_contests.c.id))).all()
        return [await self._contest_of(r) for r in rows]

    async def add_round(
        self, contest_id: int, number: int, name: str, opens_at: dt.datetime, closes_at: dt.datetime
    ) -> ports.RoundRec:
        row = m.ContestRound(
            contest_id=contest_id, number=number, name=name, opens_at=opens_at, closes_at=closes_at, status="scheduled"
        )
        self.session.add(row)
        await self.session.flush()
        return _round(row)

    async def rounds(self, contest_id: int) -> list[ports.RoundRec]:
        rows = await self.session.execute(_ROUNDS, {"contest_id": contest_id})
        return [_round(r) for r in rows]  # type: ignore[arg-type]

    async def round(self, round_id: int) -> ports.RoundRec | None:
        row = (await self.session.execute(_ROUND, {"round_id": round_id})).first()
        return _round(row) if row else None  # type: ignore[arg-type]

    async def student_round(self, round_id: int, user_id: int) -> ports.StudentRoundRec | None:
        """A round as the user sees it (see StudentRoundRec), in one query."""
        row = (await self.session.execute(_STUDENT_ROUND, {"round_id": round_id, "user_id": user_id})).first()
        if row is None:
            return None
        return ports.StudentRoundRec(
            await self._contest_of(row),
            _prefixed_rec(ports.RoundRec, row, "r_"),
            _prefixed_rec(ports.RegistrationRec, row, "g_") if row.g_id is not None else None,
            int(row.official_used),
            int(row.running),
        )

    async def student_rounds(
        self, user_id: int
    ) -> list[tuple[ports.ContestRec, ports.RoundRec, ports.RegistrationRec | None]]:
        """Every round of every contest (by contest, then round number), each with the user's registration in
        its contest: one query."""
        out = []
        for row in await self.session.execute(_STUDENT_ROUNDS, {"user_id": user_id}):
            reg = _prefixed_rec(ports.RegistrationRec, row, "g_") if row.g_id is not None else None
            out.append((await self._contest_of(row), _prefixed_rec(ports.RoundRec, row, "r_"), reg))
        return out

    async def update_round(self, round_id: int, **fields: Any) -> None:
        await self.session.execute(update(m.ContestRound).where(m.ContestRound.id == round_id).values(**fields))

    async def registration(self, contest_id: int, user_id: int) -> ports.RegistrationRec | None:
        row = (await self.session.execute(_REGISTRATION, {"contest_id": contest_id, "user_id": user_id})).first()
        return _registration(row) if row else None  # type: ignore[arg-type]

    async def register(
        self,
        contest_id: int,
        user_id: int,
        display_name: str,
        school_id: int | None,
        school_name: str,
        class_id: int | None,
        class_name: str,
        grade: int | None,
        now: dt.datetime,
    ) -> ports.RegistrationRec | None:
        """The new registration, or None when the user was registered for this contest already."""
        params = {
            "contest_id": contest_id,
            "user_id": user_id,
            "display_name": display_name,
            "school_id": school_id,
            "school_name": school_name,
            "class_id": class_id,
            "class_name": class_name,
            "grade": grade,
            "now": now,
        }
        reg_id = (await self.session.execute(_REGISTER, params)).scalar_one_or_none()
        if reg_id is None:
            return None
        return ports.RegistrationRec(
            reg_id, contest_id, user_id, display_name, school_id, school_name, class_id, class_name, grade, None
        )

    async def lock_registration(self, registration_id: int, now: dt.datetime) -> None:
        await self.session.execute(_LOCK_REGISTRATION, {"b_id": registration_id, "b_now": now})

    async def add_entry(
        self,
        round_id: int,
        registration_id: int,
        user_id: int,
        attempt_id: int,
        official_no: int | None,
        now: dt.datetime,
    ) -> bool:
        """False when this official attempt number is taken already (the UNIQUE constraint decides)."""
        params: dict[str, Any] = {
            "round_id": round_id,
            "registration_id": registration_id,
            "user_id": user_id,
            "attempt_id": attempt_id,
            "now": now,
        }
        if official_no is None:
            await self.session.execute(_ADD_ENTRY, params)
            return True
        result = await self.session.execute(_ADD_OFFICIAL_ENTRY, {**params, "official_no": official_no})
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def entry_by_attempt(self, attempt_id: int) -> ports.EntryRec | None:
        row = (await self.session.execute(_ENTRY_BY_ATTEMPT, {"attempt_id": attempt_id})).first()
        return _entry(row) if row else None  # type: ignore[arg-type]

    async def attempt_context(self, attempt_id: int) -> tuple[ports.EntryRec, ports.RoundRec, ports.ContestRec] | None:
        """The entry, round and contest of a contest attempt: one query, with the contest's definition read
        once per process (a contest's definition is never changed once created)."""
        row = (await self.session.execute(_ATTEMPT_CONTEXT, {"attempt_id": attempt_id})).first()
        return await self._context(row) if row is not None else None

    async def attempt_with_context(
        self, attempt_id: int
    ) -> tuple[ports.AttemptRec, tuple[ports.EntryRec, ports.RoundRec, ports.ContestRec] | None] | None:
        """An attempt with its `attempt_context` (None outside contests), in one query."""
        row = (await self.session.execute(_ATTEMPT_WITH_CONTEXT, {"attempt_id": attempt_id})).first()
        if row is None:
            return None
        return _attempt_of(row, "a_"), await self._context(row) if row.e_id is not None else None

    async def answering(self, attempt_id: int) -> ports.AnsweringRec | None:
        """Everything a contest answer is checked against, in one query (it runs for every answer)."""
        row = (await self.session.execute(_ANSWERING, {"attempt_id": attempt_id})).first()
        if row is None:
            return None
        attempt = ports.AttemptRec(
            row.a_id,
            row.a_user_id,
            row.a_kind,
            row.a_topic,
            row.a_ref,
            list(row.a_questions),
            row.a_started_at,
            row.a_deadline_at,
            row.a_finished_at,
            row.a_score,
            row.a_total,
        )
        contest = await self._contest_of(row) if row.c_id is not None else None
        return ports.AnsweringRec(attempt, contest, int(row.answered))

    async def _contest_of(self, row: Any) -> ports.ContestRec:
        """The contest of a row with `c_` columns, with its definition read once per process (a contest's
        definition is never changed once created; the same dict is handed out, so keep it unchanged)."""
        key = (str(self.session.bind.url) if self.session.bind else "", row.c_id, row.c_slug, row.c_created_at)
        definition = _DEFINITIONS.get(key)
        if definition is None:
            found = (await self.session.execute(_CONTEST_DEFINITION, {"contest_id": row.c_id})).scalar_one()
            definition = _DEFINITIONS[key] = dict(found or {})
        return ports.ContestRec(row.c_id, row.c_slug, row.c_title, definition, row.c_created_at)

    async def _context(self, row: Any) -> tuple[ports.EntryRec, ports.RoundRec, ports.ContestRec]:
        e = _prefixed(row, "e_")
        entry = ports.EntryRec(
            e["id"],
            e["round_id"],
            e["registration_id"],
            e["user_id"],
            e["attempt_id"],
            e["official_no"],
            e["prediction"],
        )
        rnd = _round(SimpleNamespace(**_prefixed(row, "r_")))  # type: ignore[arg-type]
        return entry, rnd, await self._contest_of(row)

    async def entries_of(self, round_id: int, user_id: int) -> list[ports.EntryRec]:
        rows = await self.session.execute(_ENTRIES_OF, {"round_id": round_id, "user_id": user_id})
        return [_entry(r) for r in rows]  # type: ignore[arg-type]

    async def running(self, user_id: int) -> list[tuple[ports.EntryRec, ports.AttemptRec]]:
        """The user's unfinished contest attempts (overdue ones too) with their entries, by entry: one query."""
        rows = await self.session.execute(_RUNNING, {"user_id": user_id})
        return [(_prefixed_rec(ports.EntryRec, r, "e_"), _attempt_of(r, "a_")) for r in rows]

    async def running_count(self, round_id: int) -> int:
        return int(
            (
                await self.session.execute(
                    select(func.count())
                    .select_from(m.ContestEntry)
                    .join(m.QuizAttempt, m.QuizAttempt.id == m.ContestEntry.attempt_id)
                    .where(m.ContestEntry.round_id == round_id, m.QuizAttempt.finished_at.is_(None))
                )
            ).scalar_one()
        )

    async def set_prediction(self, entry_id: int, prediction: int) -> bool:
        """False when the entry has a prediction already (the first one stays)."""
        result = await self.session.execute(_SET_PREDICTION, {"b_id": entry_id, "b_prediction": prediction})
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def overdue_attempts(self, before: dt.datetime, user_id: int | None = None) -> list[ports.AttemptRec]:
        if user_id is None:
            rows = await self.session.execute(_OVERDUE, {"before": before})
        else:
            rows = await self.session.execute(_OVERDUE_OF_USER, {"before": before, "user_id": user_id})
        return [_attempt(r) for r in rows]  # type: ignore[arg-type]

    async def official_results(self, round_id: int) -> list[Any]:
        from bot.core.services.ranking import Entry

        rows = await self.session.execute(
            select(m.ContestEntry, m.ContestRegistration, m.QuizAttempt)
            .join(m.ContestRegistration, m.ContestRegistration.id == m.ContestEntry.registration_id)
            .join(m.QuizAttempt, m.QuizAttempt.id == m.ContestEntry.attempt_id)
            .where(m.ContestEntry.official_round_id == round_id, m.QuizAttempt.finished_at.is_not(None))
            .order_by(m.ContestEntry.id)
        )
        return [
            Entry(
                registration_id=reg.id,
                user_id=reg.user_id,
                name=reg.display_name,
                school_id=reg.school_id,
                school_name=reg.school_name,
                class_id=reg.class_id,
                class_name=reg.class_name,
                score=int(att.score or 0),
                total=att.total,
                prediction=entry.prediction,
                started_at=att.started_at,
                finished_at=att.finished_at,
                attempt_id=att.id,
            )
            for entry, reg, att in rows
        ]

    async def answer_times(self, round_id: int) -> dict[int, list[dt.datetime]]:
        rows = await self.session.execute(
            select(m.AttemptAnswer.attempt_id, m.AttemptAnswer.answered_at)
            .join(m.ContestEntry, m.ContestEntry.attempt_id == m.AttemptAnswer.attempt_id)
            .where(m.ContestEntry.official_round_id == round_id)
            .order_by(m.AttemptAnswer.attempt_id, m.AttemptAnswer.seq)
        )
        out: dict[int, list[dt.datetime]] = {}
        for attempt_id, at in rows:
            out.setdefault(attempt_id, []).append(at)
        return out

    async def live_counts(self, round_id: int) -> list[ports.LiveCount]:
        reg, att, ent = m.ContestRegistration, m.QuizAttempt, m.ContestEntry
        rows = await self.session.execute(
            select(
                reg.school_id,
                reg.school_name,
                reg.class_id,
                reg.class_name,
                func.count(func.distinct(ent.user_id)),
                func.count(func.distinct(att.user_id)).filter(att.finished_at.is_not(None)),
            )
            .join(reg, reg.id == ent.registration_id)
            .join(att, att.id == ent.attempt_id)
            .where(ent.official_round_id == round_id)
            .group_by(reg.school_id, reg.school_name, reg.class_id, reg.class_name)
            .order_by(reg.school_name, reg.class_name)
        )
        return [ports.LiveCount(*row) for row in rows]

    async def class_members(self) -> list[ports.ClassMembers]:
        counts = (
            select(m.Membership.class_id, func.count().label("n"))
            .where(m.Membership.role == "student")
            .group_by(m.Membership.class_id)
            .subquery()
        )
        rows = await self.session.execute(
            select(
                m.SchoolClass.id,
                m.SchoolClass.name,
                m.SchoolClass.school_id,
                m.School.name,
                m.SchoolClass.grade,
                func.coalesce(counts.c.n, 0),
            )
            .join(m.School, m.School.id == m.SchoolClass.school_id)
            .outerjoin(counts, counts.c.class_id == m.SchoolClass.id)
            .where(m.SchoolClass.archived.is_(False))
            .order_by(m.SchoolClass.id)
        )
        return [ports.ClassMembers(*row) for row in rows]

    async def participants(self, contest_id: int) -> list[ports.ParticipantRec]:
        reg, att, ent = m.ContestRegistration, m.QuizAttempt, m.ContestEntry
        rows = await self.session.execute(
            select(reg.user_id, reg.school_id, reg.class_id)
            .where(
                reg.contest_id == contest_id,
                select(ent.id)
                .join(att, att.id == ent.attempt_id)
                .where(ent.registration_id == reg.id, ent.official_round_id.is_not(None), att.finished_at.is_not(None))
                .exists(),
            )
            .order_by(reg.id)
        )
        return [ports.ParticipantRec(*row) for row in rows]

    async def accounts(self, user_id: int) -> list[ports.AccountRec]:
        rows = (
            await self.session.execute(
                select(m.ChannelAccount).where(m.ChannelAccount.user_id == user_id).order_by(m.ChannelAccount.id)
            )
        ).scalars()
        return [ports.AccountRec(r.channel, r.external_id, r.chat_id, r.unreachable) for r in rows]

    async def add_notice(self, user_id: int, text: str, now: dt.datetime) -> None:
        await self.session.execute(insert(m.Notice).values(user_id=user_id, text=text, created_at=now))

    async def pending_notices(self, user_id: int | None = None, limit: int = 500) -> list[ports.NoticeRec]:
        if user_id is None:
            rows = await self.session.execute(_PENDING_NOTICES, {"limit": limit})
        else:
            rows = await self.session.execute(_PENDING_NOTICES_OF_USER, {"limit": limit, "user_id": user_id})
        return [ports.NoticeRec(r.id, r.user_id, r.text, r.created_at, r.sent_at) for r in rows]

    async def mark_notices_sent(self, notice_ids: list[int], now: dt.datetime) -> None:
        if notice_ids:
            await self.session.execute(
                update(m.Notice).where(m.Notice.id.in_(notice_ids), m.Notice.sent_at.is_(None)).values(sent_at=now)
            )

    async def add_security_event(
        self, user_id: int | None, kind: str, attempt_id: int | None, detail: dict[str, Any], now: dt.datetime
    ) -> None:
        await self.session.execute(
            insert(m.SecurityEvent).values(user_id=user_id, kind=kind, attempt_id=attempt_id, detail=detail, at=now)
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


# --- telegram ---
class SqlClassGroupRepository(_Repo):
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
        return bool(result.rowcount)  # type: ignore[attr-defined]

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


class SqlAccountDirectoryRepository(_Repo):
    """Who is reachable where, by role: used to give staff their command menus on a platform."""

    async def staff_accounts(self, channel: str) -> list[tuple[str, str, str]]:
        """(external user id, role, locale) of every non-student account on `channel`."""
        rows = await self.session.execute(
            select(m.ChannelAccount.external_id, m.User.role, m.User.locale)
            .join(m.User, m.User.id == m.ChannelAccount.user_id)
            .where(m.ChannelAccount.channel == channel, m.User.role != "student")
            .order_by(m.ChannelAccount.id)
        )
        return [(str(ext), str(role), str(locale)) for ext, role, locale in rows]


# --- privacy ---

# Tables that keep their link to an emptied account: they hold no personal data by design (audit rows carry ids,
# actions and counts; requests carry kinds and dates), and the audit log's hash chain must not change.
KEEP_ON_ERASE = frozenset({"audit_log", "privacy_requests"})
# Keys under which platform updates name a person: {"from": {"id": ...}}, {"sender": {"id": ...}}, ...
_PARTY_KEYS = ("from", "sender", "user", "chat", "recipient")


@dataclass(frozen=True)
class PersonalLink:
    """A foreign key that leads from a user to rows about them: directly, or through rows the user owns."""

    table: Table
    column: Column[Any]
    parent: Table
    owning: bool  # ON DELETE CASCADE: the row belongs to the user and goes with them


def personal_data_links(metadata: MetaData = m.Base.metadata) -> dict[str, list[PersonalLink]]:
    """Every table that holds rows about a user, with the keys that lead there, in dependency order.

    Generated from the models, so a new table with a foreign key to users (or to a table the user owns, like
    attempt answers under attempts) is exported and erased without anyone remembering to add it."""
    owned = {"users"}
    out: dict[str, list[PersonalLink]] = {}
    for table in metadata.sorted_tables:
        if table.name == "users":
            continue
        links = [
            PersonalLink(table, fk.parent, fk.column.table, (fk.ondelete or "").upper() == "CASCADE")
            for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name)
            if fk.column.table.name in owned
        ]
        if links:
            out[table.name] = links
            if any(link.owning for link in links):
                owned.add(table.name)
    return out


def _mentions(node: Any, external_id: str) -> bool:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _PARTY_KEYS and isinstance(value, dict) and str(value.get("id")) == external_id:
                return True
            if _mentions(value, external_id):
                return True
    elif isinstance(node, list):
        return any(_mentions(item, external_id) for item in node)
    return False


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


class SqlParentLinkRepository(_Repo):
    async def create(
        self, code: str, student_id: int, created_by: int | None, expires_at: dt.datetime, now: dt.datetime
    ) -> ports.ParentLinkRec:
        row = m.ParentLink(
            code=code, student_id=student_id, created_by=created_by, expires_at=expires_at, created_at=now
        )
        self.session.add(row)
        await self.session.flush()
        return ports.ParentLinkRec(row.id, row.code, row.student_id, row.expires_at, row.used_by)

    async def by_code(self, code: str) -> ports.ParentLinkRec | None:
        row = (await self.session.execute(select(m.ParentLink).where(m.ParentLink.code == code))).scalar_one_or_none()
        return ports.ParentLinkRec(row.id, row.code, row.student_id, row.expires_at, row.used_by) if row else None

    async def mark_used(self, link_id: int, user_id: int, now: dt.datetime) -> bool:
        result = await self.session.execute(
            update(m.ParentLink)
            .where(m.ParentLink.id == link_id, m.ParentLink.used_by.is_(None))
            .values(used_by=user_id, used_at=now)
        )
        return bool(result.rowcount)


def _request(row: m.PrivacyRequest) -> ports.PrivacyRequestRec:
    return ports.PrivacyRequestRec(
        row.id, row.user_id, row.kind, row.status, row.requested_at, row.due_at, row.completed_at
    )


class SqlPrivacyRepository(_Repo):
    async def add_request(
        self, user_id: int, requested_by: int | None, kind: str, now: dt.datetime, due_at: dt.datetime
    ) -> ports.PrivacyRequestRec:
        row = m.PrivacyRequest(
            user_id=user_id, requested_by=requested_by, kind=kind, status="pending", requested_at=now, due_at=due_at
        )
        self.session.add(row)
        await self.session.flush()
        return _request(row)

    async def complete_request(self, request_id: int, now: dt.datetime) -> None:
        await self.session.execute(
            update(m.PrivacyRequest)
            .where(m.PrivacyRequest.id == request_id, m.PrivacyRequest.status == "pending")
            .values(status="done", completed_at=now)
        )

    async def requests(self, status: str | None = None, kind: str | None = None) -> list[ports.PrivacyRequestRec]:
        stmt = select(m.PrivacyRequest).order_by(m.PrivacyRequest.id)
        if status:
            stmt = stmt.where(m.PrivacyRequest.status == status)
        if kind:
            stmt = stmt.where(m.PrivacyRequest.kind == kind)
        return [_request(r) for r in (await self.session.execute(stmt)).scalars()]

    async def class_members(self, class_id: int) -> list[ports.UserRec]:
        rows = (
            await self.session.execute(
                select(m.User)
                .join(m.Membership, m.Membership.user_id == m.User.id)
                .where(m.Membership.class_id == class_id, m.User.role == "student")
                .order_by(m.User.display_name, m.User.id)
            )
        ).scalars()
        return [_user(r) for r in rows]

    async def children_of(self, parent_id: int) -> list[ports.UserRec]:
        rows = (
            await self.session.execute(
                select(m.User)
                .where(
                    m.User.id.in_(
                        select(m.Consent.user_id).where(
                            m.Consent.recorded_by == parent_id, m.Consent.method == "parent_link"
                        )
                    )
                )
                .order_by(m.User.id)
            )
        ).scalars()
        return [_user(r) for r in rows]

    # Rows about a user, found by following foreign keys from users.id.

    def _where(self, link: PersonalLink, user_id: int, links: dict[str, list[PersonalLink]]) -> Any:
        if link.parent.name == "users":
            return link.column == user_id
        return link.column.in_(select(link.parent.c.id).where(self._owned(link.parent.name, user_id, links)))

    def _owned(self, name: str, user_id: int, links: dict[str, list[PersonalLink]]) -> Any:
        return or_(*(self._where(link, user_id, links) for link in links[name] if link.owning))

    async def _accounts(self, user_id: int) -> list[tuple[str, str]]:
        rows = await self.session.execute(
            select(m.ChannelAccount.channel, m.ChannelAccount.external_id).where(m.ChannelAccount.user_id == user_id)
        )
        return [(c, e) for c, e in rows.all()]

    async def _inbox_rows(self, accounts: list[tuple[str, str]]) -> list[m.InboundUpdate]:
        """Stored platform updates sent by (or to) these accounts: matched on the channel and the platform
        user id inside the payload (a text search narrows, the JSON check decides)."""
        found: list[m.InboundUpdate] = []
        for channel, external_id in accounts:
            rows = (
                await self.session.execute(
                    select(m.InboundUpdate)
                    .where(
                        m.InboundUpdate.channel == channel,
                        cast(m.InboundUpdate.payload, Text).contains(external_id, autoescape=True),
                    )
                    .order_by(m.InboundUpdate.id)
                )
            ).scalars()
            found += [r for r in rows if _mentions(r.payload, external_id)]
        return found

    async def export(self, user_id: int) -> dict[str, list[dict[str, Any]]]:
        links = personal_data_links()
        tables = m.Base.metadata.tables
        out: dict[str, list[dict[str, Any]]] = {}
        users = tables["users"]
        rows = (await self.session.execute(select(users).where(users.c.id == user_id))).mappings().all()
        out["users"] = [_jsonable(dict(r)) for r in rows]
        for name, table_links in links.items():
            table = tables[name]
            stmt = select(table).where(or_(*(self._where(link, user_id, links) for link in table_links)))
            rows = (await self.session.execute(stmt.order_by(*table.primary_key.columns))).mappings().all()
            out[name] = [_jsonable(dict(r)) for r in rows]
        audit = tables["audit_log"]  # no foreign key on purpose (see the model); what the person did
        rows = await self.session.execute(select(audit).where(audit.c.actor_id == user_id).order_by(audit.c.id))
        out["audit_log"] = [_jsonable(dict(r)) for r in rows.mappings().all()]
        out["inbound_updates"] = [
            {
                "id": r.id,
                "channel": r.channel,
                "received_at": r.received_at.isoformat(),
                "payload": _jsonable(r.payload),
            }
            for r in await self._inbox_rows(await self._accounts(user_id))
        ]
        return out

    async def erase(self, user_id: int) -> dict[str, int]:
        """Remove the user's personal data everywhere; returns the number of rows changed per table.

        Rows the user owns are deleted (children first), other references are set to NULL (so the
        participation records stay as anonymous counts), stored updates from their accounts lose their
        payload, and the users row is emptied (its id stays, pointing at no one)."""
        links = personal_data_links()
        tables = m.Base.metadata.tables
        counts: dict[str, int] = {}
        name = (await self.session.execute(select(m.User.display_name).where(m.User.id == user_id))).scalar()
        if name and len(name) >= 4:
            counts.update(await self._scrub_mentions(name))
        inbox = await self._inbox_rows(await self._accounts(user_id))
        if inbox:
            await self.session.execute(
                update(m.InboundUpdate)
                .where(m.InboundUpdate.id.in_([r.id for r in inbox]))
                .values(payload={}, replies=None, error=None)
            )
            counts["inbound_updates"] = len(inbox)
        for name in reversed(list(links)):
            if name in KEEP_ON_ERASE:
                continue
            table, table_links = tables[name], links[name]
            changed = 0
            owning = [link for link in table_links if link.owning or not link.column.nullable]
            if owning:
                result = await self.session.execute(
                    delete(table).where(or_(*(self._where(link, user_id, links) for link in owning)))
                )
                changed += int(result.rowcount or 0)
            for link in table_links:
                if link in owning:
                    continue
                result = await self.session.execute(
                    update(table).where(self._where(link, user_id, links)).values({link.column.name: None})
                )
                changed += int(result.rowcount or 0)
            if changed:
                counts[name] = changed
        users = tables["users"]
        emptied: dict[str, Any] = {c.name: None for c in users.columns if c.nullable and not c.primary_key}
        emptied["onboarded"] = False
        await self.session.execute(update(users).where(users.c.id == user_id).values(emptied))
        counts["users"] = 1
        return counts

    async def _scrub_mentions(self, name: str) -> dict[str, int]:
        """Other people's conversation state and unsent replies can show this name (a teacher's list of
        students): reset them. JSON may store the name escaped (\\u...) or as is, so both are searched."""
        forms = {name, json.dumps(name)[1:-1]}

        def mentions(column: Any) -> Any:
            return or_(*(cast(column, Text).contains(f, autoescape=True) for f in forms))

        conversations = await self.session.execute(
            update(m.Conversation)
            .where(or_(mentions(m.Conversation.prompt), mentions(m.Conversation.data)))
            .values(flow="", step="", data={}, prompt={})
        )
        replies = await self.session.execute(
            update(m.InboundUpdate)
            .where(m.InboundUpdate.replies.is_not(None), mentions(m.InboundUpdate.replies))
            .values(replies=None)
        )
        return {
            k: int(v or 0)
            for k, v in (("conversations", conversations.rowcount), ("inbound_updates", replies.rowcount))
            if v
        }

    async def inactive_users(self, before: dt.datetime) -> list[int]:
        last_seen = func.coalesce(m.Conversation.updated_at, m.User.created_at)
        rows = await self.session.execute(
            select(m.User.id)
            .outerjoin(m.Conversation, m.Conversation.user_id == m.User.id)
            .where(
                m.User.role.in_(("student", "parent")),
                last_seen < before,
                select(m.ChannelAccount.id).where(m.ChannelAccount.user_id == m.User.id).exists(),
            )
            .order_by(m.User.id)
        )
        return [int(i) for i in rows.scalars()]

    async def purge_old(self, before: dt.datetime, inbox_before: dt.datetime, now: dt.datetime) -> dict[str, int]:
        """Remove personal records older than the retention period; participation counts stay, unlinked."""
        old_attempts = select(m.QuizAttempt.id).where(m.QuizAttempt.started_at < before)
        steps: list[tuple[str, Any]] = [
            ("attempt_answers", delete(m.AttemptAnswer).where(m.AttemptAnswer.attempt_id.in_(old_attempts))),
            ("quiz_attempts", delete(m.QuizAttempt).where(m.QuizAttempt.started_at < before)),
            ("lesson_progress", delete(m.LessonProgress).where(m.LessonProgress.opened_at < before)),
            (
                "activity",
                update(m.Activity)
                .where(m.Activity.at < before, m.Activity.user_id.is_not(None))
                .values(user_id=None, class_id=m.Activity.class_id),
            ),
            (
                "inbound_updates",
                delete(m.InboundUpdate).where(
                    m.InboundUpdate.status.in_(("done", "dead")), m.InboundUpdate.received_at < inbox_before
                ),
            ),
            ("parent_links", delete(m.ParentLink).where(m.ParentLink.expires_at < now)),
        ]
        counts: dict[str, int] = {}
        for name, stmt in steps:
            result = await self.session.execute(stmt)
            if result.rowcount:
                counts[name] = int(result.rowcount)
        return counts
