"""SQL of contests: contests, rounds, registrations and entries, the one-query reads of each contest step,
and the figures results are ranked from."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Table,
    and_,
    case,
    cast,
    func,
    insert,
    select,
    update,
)

from bot.contests.ports import (
    AnsweringRec,
    ClassMembers,
    ContestRec,
    EntryRec,
    FrozenResults,
    LiveCount,
    ParticipantRec,
    RegistrationRec,
    RoundRec,
    StudentRoundRec,
)
from bot.contests.ranking import Entry, Ranked, Unit, UnitResult
from bot.learning.ports import AttemptRec
from bot.learning.sql import attempt_of, attempt_rec, first_unanswered
from db import models as m
from db.sql import SqlRepository, hot, p, prefixed, prefixed_rec, rowcount, sql_statement

_attempts: Table = m.QuizAttempt.__table__  # type: ignore[assignment]
_answers: Table = m.AttemptAnswer.__table__  # type: ignore[assignment]
_entries: Table = m.ContestEntry.__table__  # type: ignore[assignment]
_rounds: Table = m.ContestRound.__table__  # type: ignore[assignment]
_contests: Table = m.Contest.__table__  # type: ignore[assignment]
_registrations: Table = m.ContestRegistration.__table__  # type: ignore[assignment]


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
    .where(_entries.c.attempt_id == p("attempt_id"))
)


def _of_attempt(statement: Any) -> Any:
    """`statement` for one attempt (`attempt_id`), joined to its entry, round and contest, which an attempt outside
    contests does not have."""
    return (
        statement.select_from(_attempts)
        .outerjoin(_entries, _entries.c.attempt_id == _attempts.c.id)
        .outerjoin(_rounds, _rounds.c.id == _entries.c.round_id)
        .outerjoin(_contests, _contests.c.id == _rounds.c.contest_id)
        .where(_attempts.c.id == p("attempt_id"))
    )


# An attempt with its entry, round and contest (none for an attempt outside contests), in one query.
_ATTEMPT_WITH_CONTEXT = hot(_of_attempt(select(*(c.label(f"a_{c.name}") for c in _attempts.c), *_CONTEXT_COLUMNS)))


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
            first_unanswered(_attempts.c.id).label("answered"),
            select(func.count()).where(_answers.c.attempt_id == _attempts.c.id).scalar_subquery().label("stored"),
        )
    )
)


_CONTESTS = select(
    _contests.c.id.label("c_id"),
    _contests.c.slug.label("c_slug"),
    _contests.c.title.label("c_title"),
    _contests.c.created_at.label("c_created_at"),
)


_CONTEST_DEFINITION = hot(select(_contests.c.definition).where(_contests.c.id == p("contest_id")))


_CONTEST_COLUMNS = (
    _contests.c.id.label("c_id"),
    _contests.c.slug.label("c_slug"),
    _contests.c.title.label("c_title"),
    _contests.c.created_at.label("c_created_at"),
)


_ROUND = hot(select(*_rounds.c).where(_rounds.c.id == p("round_id")))


_ROUNDS = hot(select(*_rounds.c).where(_rounds.c.contest_id == p("contest_id")).order_by(_rounds.c.number))


# A round as one student sees it, in one query: its contest, the student's registration in the contest, their
# official attempts in the round and their unfinished contest attempts (any round).
_STUDENT_ROUND = hot(
    select(
        *(c.label(f"r_{c.name}") for c in _rounds.c),
        *_CONTEST_COLUMNS,
        *(c.label(f"g_{c.name}") for c in _registrations.c),
        select(func.count())
        .select_from(_entries)
        .where(
            _entries.c.round_id == _rounds.c.id,
            _entries.c.user_id == p("user_id"),
            _entries.c.official_no.is_not(None),
        )
        .scalar_subquery()
        .label("official_used"),
        select(func.count())
        .select_from(_entries)
        .join(_attempts, _attempts.c.id == _entries.c.attempt_id)
        .where(_entries.c.user_id == p("user_id"), _attempts.c.finished_at.is_(None))
        .scalar_subquery()
        .label("running"),
    )
    .join_from(_rounds, _contests, _contests.c.id == _rounds.c.contest_id)
    .outerjoin(
        _registrations,
        (_registrations.c.contest_id == _contests.c.id) & (_registrations.c.user_id == p("user_id")),
    )
    .where(_rounds.c.id == p("round_id"))
)


# Every round of every contest with the student's registration in that contest, if any: the contest home page.
_STUDENT_ROUNDS = hot(
    select(
        *_CONTEST_COLUMNS,
        *(c.label(f"r_{c.name}") for c in _rounds.c),
        *(c.label(f"g_{c.name}") for c in _registrations.c),
    )
    .join_from(_contests, _rounds, _rounds.c.contest_id == _contests.c.id)
    .outerjoin(
        _registrations,
        (_registrations.c.contest_id == _contests.c.id) & (_registrations.c.user_id == p("user_id")),
    )
    .order_by(_contests.c.id, _rounds.c.number)
)


_REGISTRATION = hot(
    select(*_registrations.c).where(
        _registrations.c.contest_id == p("contest_id"), _registrations.c.user_id == p("user_id")
    )
)


_LOCK_REGISTRATION = hot(
    update(_registrations)
    .where(_registrations.c.id == p("b_id"), _registrations.c.locked_at.is_(None))
    .values(locked_at=p("b_now"))
)


_ENTRIES_OF = hot(
    select(*_entries.c)
    .where(_entries.c.round_id == p("round_id"), _entries.c.user_id == p("user_id"))
    .order_by(_entries.c.id)
)


_ENTRY_BY_ATTEMPT = hot(select(*_entries.c).where(_entries.c.attempt_id == p("attempt_id")))


_RUNNING = hot(
    select(*(c.label(f"e_{c.name}") for c in _entries.c), *(c.label(f"a_{c.name}") for c in _attempts.c))
    .join_from(_entries, _attempts, _attempts.c.id == _entries.c.attempt_id)
    .where(_entries.c.user_id == p("user_id"), _attempts.c.finished_at.is_(None))
    .order_by(_entries.c.id)
)


_SET_PREDICTION = hot(
    update(_entries)  # type: ignore[arg-type]
    .where(_entries.c.id == p("b_id"), _entries.c.prediction.is_(None))
    .values(prediction=p("b_prediction"))
)


_OVERDUE = hot(
    select(*_attempts.c)
    .join_from(_attempts, _entries, _entries.c.attempt_id == _attempts.c.id)
    .where(_attempts.c.finished_at.is_(None), _attempts.c.deadline_at < p("before"))
    .order_by(_attempts.c.id)
)


_OVERDUE_OF_USER = hot(_OVERDUE.where(_attempts.c.user_id == p("user_id")))


_REGISTER = hot(
    sql_statement(
        "INSERT INTO contest_registrations (contest_id, user_id, display_name, school_id, school_name, class_id,"
        " class_name, grade, created_at) VALUES (:contest_id, :user_id, :display_name, :school_id, :school_name,"
        " :class_id, :class_name, :grade, :now) ON CONFLICT (contest_id, user_id) DO NOTHING RETURNING id",
        _registrations,
        returning=_registrations.c.id,
        now="created_at",
    )
)


_ADD_ENTRY = hot(
    sql_statement(
        "INSERT INTO contest_entries (round_id, registration_id, user_id, attempt_id, official_round_id, official_no,"
        " created_at) VALUES (:round_id, :registration_id, :user_id, :attempt_id, NULL, NULL, :now)",
        _entries,
        now="created_at",
    )
)


# The UNIQUE (official_round_id, user_id, official_no) constraint decides which of two concurrent starts counts.
_ADD_OFFICIAL_ENTRY = hot(
    sql_statement(
        "INSERT INTO contest_entries (round_id, registration_id, user_id, attempt_id, official_round_id, official_no,"
        " created_at) VALUES (:round_id, :registration_id, :user_id, :attempt_id, :round_id, :official_no, :now)"
        " ON CONFLICT (official_round_id, user_id, official_no) DO NOTHING",
        _entries,
        now="created_at",
    )
)


# Contest definitions by (database, id, slug, created_at): read-only once created, and several kB of JSON each.
_DEFINITIONS: dict[tuple[Any, ...], dict[str, Any]] = {}


def _round(row: m.ContestRound) -> RoundRec:
    return RoundRec(
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


def _registration(row: m.ContestRegistration) -> RegistrationRec:
    return RegistrationRec(
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


def _entry(row: m.ContestEntry) -> EntryRec:
    return EntryRec(
        row.id, row.round_id, row.registration_id, row.user_id, row.attempt_id, row.official_no, row.prediction
    )


def _contest(row: m.Contest) -> ContestRec:
    return ContestRec(row.id, row.slug, row.title, dict(row.definition or {}), row.created_at)


class SqlContestRepository(SqlRepository):
    async def create(
        self, slug: str, title: str, definition: dict[str, Any], created_by: int | None, now: dt.datetime
    ) -> ContestRec:
        row = m.Contest(slug=slug, title=title, definition=definition, created_by=created_by, created_at=now)
        self.session.add(row)
        await self.session.flush()
        return _contest(row)

    # Contests are read without their definition, which comes from the per-process cache (see _contest_of).
    async def get(self, contest_id: int) -> ContestRec | None:
        row = (await self.session.execute(_CONTESTS.where(_contests.c.id == contest_id))).first()
        return await self._contest_of(row) if row else None

    async def by_slug(self, slug: str) -> ContestRec | None:
        row = (await self.session.execute(_CONTESTS.where(_contests.c.slug == slug))).first()
        return await self._contest_of(row) if row else None

    async def all(self) -> list[ContestRec]:
        rows = (await self.session.execute(_CONTESTS.order_by(_contests.c.id))).all()
        return [await self._contest_of(r) for r in rows]

    async def add_round(
        self, contest_id: int, number: int, name: str, opens_at: dt.datetime, closes_at: dt.datetime
    ) -> RoundRec:
        row = m.ContestRound(
            contest_id=contest_id, number=number, name=name, opens_at=opens_at, closes_at=closes_at, status="scheduled"
        )
        self.session.add(row)
        await self.session.flush()
        return _round(row)

    async def rounds(self, contest_id: int) -> list[RoundRec]:
        rows = await self.session.execute(_ROUNDS, {"contest_id": contest_id})
        return [_round(r) for r in rows]  # type: ignore[arg-type]

    async def round(self, round_id: int) -> RoundRec | None:
        row = (await self.session.execute(_ROUND, {"round_id": round_id})).first()
        return _round(row) if row else None  # type: ignore[arg-type]

    async def student_round(self, round_id: int, user_id: int) -> StudentRoundRec | None:
        """A round as the user sees it (see StudentRoundRec), in one query."""
        row = (await self.session.execute(_STUDENT_ROUND, {"round_id": round_id, "user_id": user_id})).first()
        if row is None:
            return None
        return StudentRoundRec(
            await self._contest_of(row),
            prefixed_rec(RoundRec, row, "r_"),
            prefixed_rec(RegistrationRec, row, "g_") if row.g_id is not None else None,
            int(row.official_used),
            int(row.running),
        )

    async def student_rounds(self, user_id: int) -> list[tuple[ContestRec, RoundRec, RegistrationRec | None]]:
        """Every round of every contest (by contest, then round number), each with the user's registration in
        its contest: one query."""
        out = []
        for row in await self.session.execute(_STUDENT_ROUNDS, {"user_id": user_id}):
            reg = prefixed_rec(RegistrationRec, row, "g_") if row.g_id is not None else None
            out.append((await self._contest_of(row), prefixed_rec(RoundRec, row, "r_"), reg))
        return out

    async def update_round(self, round_id: int, **fields: Any) -> None:
        await self.session.execute(update(m.ContestRound).where(m.ContestRound.id == round_id).values(**fields))

    async def roster_name(self, class_id: int, user_id: int) -> str | None:
        stmt = select(m.RosterEntry.full_name).where(
            m.RosterEntry.class_id == class_id, m.RosterEntry.user_id == user_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def registration(self, contest_id: int, user_id: int) -> RegistrationRec | None:
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
    ) -> RegistrationRec | None:
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
        return RegistrationRec(
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
        return bool(rowcount(result))

    async def entry_by_attempt(self, attempt_id: int) -> EntryRec | None:
        row = (await self.session.execute(_ENTRY_BY_ATTEMPT, {"attempt_id": attempt_id})).first()
        return _entry(row) if row else None  # type: ignore[arg-type]

    async def attempt_context(self, attempt_id: int) -> tuple[EntryRec, RoundRec, ContestRec] | None:
        """The entry, round and contest of a contest attempt: one query, with the contest's definition read
        once per process (a contest's definition is never changed once created)."""
        row = (await self.session.execute(_ATTEMPT_CONTEXT, {"attempt_id": attempt_id})).first()
        return await self._context(row) if row is not None else None

    async def attempt_with_context(
        self, attempt_id: int
    ) -> tuple[AttemptRec, tuple[EntryRec, RoundRec, ContestRec] | None] | None:
        """An attempt with its `attempt_context` (None outside contests), in one query."""
        row = (await self.session.execute(_ATTEMPT_WITH_CONTEXT, {"attempt_id": attempt_id})).first()
        if row is None:
            return None
        return attempt_of(row, "a_"), await self._context(row) if row.e_id is not None else None

    async def answering(self, attempt_id: int) -> AnsweringRec | None:
        """Everything a contest answer is checked against, in one query (it runs for every answer)."""
        row = (await self.session.execute(_ANSWERING, {"attempt_id": attempt_id})).first()
        if row is None:
            return None
        attempt = AttemptRec(
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
        return AnsweringRec(attempt, contest, int(row.answered), int(row.stored))

    async def _contest_of(self, row: Any) -> ContestRec:
        """The contest of a row with `c_` columns, with its definition read once per process (a contest's
        definition is never changed once created; the same dict is handed out, so keep it unchanged)."""
        bind: Any = self.session.bind
        key = (str(bind.url) if bind is not None else "", row.c_id, row.c_slug, row.c_created_at)
        definition = _DEFINITIONS.get(key)
        if definition is None:
            found = (await self.session.execute(_CONTEST_DEFINITION, {"contest_id": row.c_id})).scalar_one()
            definition = _DEFINITIONS[key] = dict(found or {})
        return ContestRec(row.c_id, row.c_slug, row.c_title, definition, row.c_created_at)

    async def _context(self, row: Any) -> tuple[EntryRec, RoundRec, ContestRec]:
        e = prefixed(row, "e_")
        entry = EntryRec(
            e["id"],
            e["round_id"],
            e["registration_id"],
            e["user_id"],
            e["attempt_id"],
            e["official_no"],
            e["prediction"],
        )
        rnd = _round(SimpleNamespace(**prefixed(row, "r_")))  # type: ignore[arg-type]
        return entry, rnd, await self._contest_of(row)

    async def entries_of(self, round_id: int, user_id: int) -> list[EntryRec]:
        rows = await self.session.execute(_ENTRIES_OF, {"round_id": round_id, "user_id": user_id})
        return [_entry(r) for r in rows]  # type: ignore[arg-type]

    async def running(self, user_id: int) -> list[tuple[EntryRec, AttemptRec]]:
        """The user's unfinished contest attempts (overdue ones too) with their entries, by entry: one query."""
        rows = await self.session.execute(_RUNNING, {"user_id": user_id})
        return [(prefixed_rec(EntryRec, r, "e_"), attempt_of(r, "a_")) for r in rows]

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
        return bool(rowcount(result))

    async def overdue_attempts(self, before: dt.datetime, user_id: int | None = None) -> list[AttemptRec]:
        if user_id is None:
            rows = await self.session.execute(_OVERDUE, {"before": before})
        else:
            rows = await self.session.execute(_OVERDUE_OF_USER, {"before": before, "user_id": user_id})
        return [attempt_rec(r) for r in rows]  # type: ignore[arg-type]

    async def official_results(self, round_id: int) -> list[Entry]:
        reg, att, ent = m.ContestRegistration, m.QuizAttempt, m.ContestEntry
        rows = await self.session.execute(
            # Columns, not whole rows: a district round is 15,000 attempts, each with its questions as JSON.
            select(
                reg.id,
                reg.user_id,
                # Once the student is matched to the class roster, the school's spelling of the name ("Trần Văn
                # Bình") is the one printed, not what was typed on a phone ("Tran Van Binh").
                func.coalesce(m.RosterEntry.full_name, reg.display_name),
                reg.school_id,
                reg.school_name,
                reg.class_id,
                reg.class_name,
                att.score,
                att.total,
                ent.prediction,
                att.started_at,
                att.finished_at,
                att.id,
            )
            .select_from(ent)
            .join(reg, reg.id == ent.registration_id)
            .join(att, att.id == ent.attempt_id)
            .outerjoin(
                m.RosterEntry, and_(m.RosterEntry.class_id == reg.class_id, m.RosterEntry.user_id == reg.user_id)
            )
            .where(ent.official_round_id == round_id, att.finished_at.is_not(None))
            .order_by(ent.id)
        )
        # The columns above are Entry's fields, in order (a score may be NULL in an attempt cut short).
        return [
            Entry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], int(r[7] or 0), r[8], r[9], r[10], r[11], r[12])
            for r in rows
        ]

    async def results_version(self, round_id: int) -> tuple[int, dt.datetime | None, int | None]:
        ent, att = m.ContestEntry, m.QuizAttempt
        stmt = (
            select(func.count(att.finished_at), func.max(att.finished_at), func.max(ent.id))
            .select_from(ent)
            .join(att, att.id == ent.attempt_id)
            .where(ent.official_round_id == round_id)
        )
        n, last, entry = (await self.session.execute(stmt)).one()
        return int(n), last, entry

    async def too_fast(self, round_id: int, min_median_seconds: float) -> set[int]:
        # The gaps (start to first answer, then between answers) where the answers are: the median of n gaps is
        # below the limit exactly when more than n // 2 are. Times in whole microseconds.
        ans, ent, att = m.AttemptAnswer, m.ContestEntry, m.QuizAttempt
        dialect = self.session.bind.dialect.name if self.session.bind is not None else "sqlite"

        def micros(col: Any) -> Any:
            if dialect == "postgresql":
                return cast(func.extract("epoch", col) * 1_000_000, BigInteger)
            # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff": the whole seconds (strftime would round "04.999999" up, so
            # it reads the first 19 characters only), then the six digits after the point.
            seconds = cast(func.strftime("%s", func.substr(col, 1, 19)), Integer)
            return seconds * 1_000_000 + cast(func.substr(col, 21, 6), Integer)

        previous = func.lag(micros(ans.answered_at)).over(partition_by=ans.attempt_id, order_by=ans.seq)
        gaps = (
            select(
                ans.attempt_id.label("aid"),
                (micros(ans.answered_at) - func.coalesce(previous, micros(att.started_at))).label("gap"),
            )
            .join(ent, ent.attempt_id == ans.attempt_id)
            .join(att, att.id == ans.attempt_id)
            .where(ent.official_round_id == round_id)
            .subquery()
        )
        below = func.sum(case((gaps.c.gap < min_median_seconds * 1_000_000, 1), else_=0))
        stmt = select(gaps.c.aid).group_by(gaps.c.aid).having(below >= func.count() // 2 + 1)
        return {int(aid) for aid in (await self.session.execute(stmt)).scalars()}

    async def live_counts(self, round_id: int) -> list[LiveCount]:
        """The registrations of the round's contest, each with its official attempts in the round (joined on the
        user, which the entry's registration shares, so the UNIQUE (official_round_id, user_id, …) index serves
        it), grouped by the school and class written at registration."""
        reg, att, ent = m.ContestRegistration, m.QuizAttempt, m.ContestEntry
        contest_id = select(m.ContestRound.contest_id).where(m.ContestRound.id == round_id).scalar_subquery()
        rows = await self.session.execute(
            select(
                reg.school_id,
                reg.school_name,
                reg.class_id,
                reg.class_name,
                func.count(func.distinct(reg.user_id)),
                func.count(func.distinct(ent.user_id)),
                func.count(func.distinct(att.user_id)).filter(att.finished_at.is_not(None)),
            )
            .select_from(reg)
            .outerjoin(ent, and_(ent.official_round_id == round_id, ent.user_id == reg.user_id))
            .outerjoin(att, att.id == ent.attempt_id)
            .where(reg.contest_id == contest_id)
            .group_by(reg.school_id, reg.school_name, reg.class_id, reg.class_name)
            .order_by(reg.school_name, reg.class_name)
        )
        return [LiveCount(*row) for row in rows]

    async def class_members(self) -> list[ClassMembers]:
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
        return [ClassMembers(*row) for row in rows]

    async def participants(self, contest_id: int) -> list[ParticipantRec]:
        reg, att, ent = m.ContestRegistration, m.QuizAttempt, m.ContestEntry
        # One uncorrelated subquery, read once (a correlated EXISTS was quadratic: no index by registration).
        finished = (
            select(ent.registration_id)
            .join(att, att.id == ent.attempt_id)
            .where(
                ent.round_id.in_(select(m.ContestRound.id).where(m.ContestRound.contest_id == contest_id)),
                ent.official_round_id.is_not(None),
                att.finished_at.is_not(None),
            )
        )
        rows = await self.session.execute(
            select(reg.user_id, reg.school_id, reg.class_id)
            .where(reg.contest_id == contest_id, reg.id.in_(finished))
            .order_by(reg.id)
        )
        return [ParticipantRec(*row) for row in rows]

    async def freeze(
        self,
        round_id: int,
        actual: int,
        ranked: list[Ranked],
        units: list[UnitResult],
        flagged: set[int],
        collective_unit: str,
        now: dt.datetime,
    ) -> None:
        self.session.add(
            m.PublishedRound(
                round_id=round_id,
                published_at=now,
                actual=actual,
                entries=len(ranked),
                flagged=len(flagged),
                collective_unit=collective_unit,
            )
        )
        await self.session.flush()
        if ranked:
            await self.session.execute(
                insert(m.PublishedResult),
                [
                    {
                        "round_id": round_id,
                        "rank": r.rank,
                        "user_id": r.entry.user_id,
                        "display_name": r.entry.name,
                        "school_id": r.entry.school_id,
                        "school_name": r.entry.school_name,
                        "class_id": r.entry.class_id,
                        "class_name": r.entry.class_name,
                        "score": r.entry.score,
                        "total": r.entry.total,
                        "prediction": r.entry.prediction,
                        "distance": r.distance,
                        "started_at": r.entry.started_at,
                        "finished_at": r.entry.finished_at,
                        "separated_by": r.separated_by,
                        "prize": r.prize,
                        "flags": ["too_fast"] if r.entry.attempt_id in flagged else [],
                        "erased": False,
                    }
                    for r in ranked
                ],
            )
        if units:
            await self.session.execute(
                insert(m.PublishedUnit),
                [
                    {
                        "round_id": round_id,
                        "rank": u.rank,
                        "unit_id": u.unit.id,
                        "name": u.unit.name,
                        "school_name": u.unit.school_name,
                        "members": u.unit.members,
                        "participants": u.participants,
                        "rate": u.rate,
                        "separated_by": u.separated_by,
                        "prize": u.prize,
                    }
                    for u in units
                ],
            )

    async def frozen(self, round_id: int) -> FrozenResults | None:
        head = await self.session.get(m.PublishedRound, round_id)
        if head is None:
            return None
        rows = (
            await self.session.execute(
                select(m.PublishedResult).where(m.PublishedResult.round_id == round_id).order_by(m.PublishedResult.rank)
            )
        ).scalars()
        ranked, flagged = [], set()
        for row in rows:
            entry = Entry(
                registration_id=0,
                user_id=row.user_id or 0,
                name=row.display_name,
                school_id=row.school_id,
                school_name=row.school_name,
                class_id=row.class_id,
                class_name=row.class_name,
                score=row.score,
                total=row.total,
                prediction=row.prediction,
                started_at=row.started_at,
                finished_at=row.finished_at,
                attempt_id=row.id,
                erased=row.erased,
            )
            ranked.append(Ranked(row.rank, entry, row.distance, row.separated_by, row.prize))
            if row.flags:
                flagged.add(row.id)
        # Flagged attempts that were not a student's best have no row: negative stand-ins keep the count.
        flagged |= {-i for i in range(1, head.flagged - len(flagged) + 1)}
        units = (
            await self.session.execute(
                select(m.PublishedUnit).where(m.PublishedUnit.round_id == round_id).order_by(m.PublishedUnit.rank)
            )
        ).scalars()
        return FrozenResults(
            head.published_at,
            head.actual,
            ranked,
            [
                UnitResult(
                    u.rank,
                    Unit(int(u.unit_id), u.name, u.members, u.school_name),
                    u.participants,
                    u.rate,
                    u.separated_by,
                    u.prize,
                )
                for u in units
            ],
            flagged,
        )
