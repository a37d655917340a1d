"""An in-memory unit of work for the unit layer: the rules of the services run against it with no database.

`World` is the stored state (what a database would hold). Each `FakeUnitOfWork` works on a copy of it and writes
the copy back only on `commit()`, so a rule that fails before committing leaves the world as it was, as a real
transaction would. It implements the repositories the unit tests need (schools, classes, rosters, consents,
audit, users, reports, and pledges that are none); a test that reaches a repository it lacks fails with
AttributeError rather than passing silently."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bot.accounts.ports import ClassRec, ConsentRec, SchoolRec
from bot.broadcasts.ports import MemberRec, RosterRec
from bot.core.ports import AuditRec, UserRec
from bot.core.roles import Role
from bot.reports.ports import CountRow, ReportFigures, ReportScope, StandardTally


@dataclass
class AuditRow:
    actor_id: int | None
    action: str
    scope: str
    detail: dict[str, Any]
    at: dt.datetime


@dataclass
class World:
    users: dict[int, UserRec] = field(default_factory=dict)
    schools: dict[int, SchoolRec] = field(default_factory=dict)
    classes: dict[int, ClassRec] = field(default_factory=dict)
    members: dict[int, list[int]] = field(default_factory=dict)  # class id -> user ids
    roster: dict[int, RosterRec] = field(default_factory=dict)
    unlisted: set[tuple[int, int]] = field(default_factory=set)  # (class id, user id)
    consents: dict[int, list[ConsentRec]] = field(default_factory=dict)
    audit: list[AuditRow] = field(default_factory=list)
    # What the reports repository answers (the SQL aggregation is the database tests' business).
    figures: ReportFigures | None = None
    figure_calls: list[tuple[Any, ...]] = field(default_factory=list)
    next_id: int = 1

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    # --- building a world in a test ---

    def add_user(self, name: str | None, role: str = Role.STUDENT, school_id: int | None = None) -> UserRec:
        user = UserRec(self.new_id(), name, "vi", role, school_id, True)
        self.users[user.id] = user
        return user

    def add_school(self, name: str) -> SchoolRec:
        school = SchoolRec(self.new_id(), name)
        self.schools[school.id] = school
        return school

    def add_class(self, school: SchoolRec, teacher: UserRec | None, name: str, grade: int = 6) -> ClassRec:
        klass = ClassRec(self.new_id(), school.id, teacher.id if teacher else None, name, grade, "2026-2027", name)
        self.classes[klass.id] = klass
        self.members[klass.id] = []
        return klass

    def join(self, user: UserRec, klass: ClassRec) -> None:
        self.members[klass.id].append(user.id)


class _Repo:
    def __init__(self, state: World) -> None:
        self.s = state


class FakeUsers(_Repo):
    async def get(self, user_id: int) -> UserRec | None:
        return self.s.users.get(user_id)


class FakeSchools(_Repo):
    async def create(self, name: str, now: dt.datetime) -> SchoolRec:
        return self.s.add_school(name)

    async def get(self, school_id: int) -> SchoolRec | None:
        return self.s.schools.get(school_id)

    async def list(self) -> list[SchoolRec]:
        return list(self.s.schools.values())


class FakeClasses(_Repo):
    async def get(self, class_id: int) -> ClassRec | None:
        return self.s.classes.get(class_id)

    async def by_code(self, join_code: str) -> ClassRec | None:
        return next((c for c in self.s.classes.values() if c.join_code == join_code), None)

    async def for_teacher(self, teacher_id: int) -> list[ClassRec]:
        return [c for c in self.s.classes.values() if c.teacher_id == teacher_id and not c.archived]

    async def for_school(self, school_id: int) -> list[ClassRec]:
        return [c for c in self.s.classes.values() if c.school_id == school_id and not c.archived]

    async def of_student(self, user_id: int) -> list[ClassRec]:
        return [self.s.classes[cid] for cid, users in self.s.members.items() if user_id in users]

    async def add_member(self, user_id: int, class_id: int, now: dt.datetime) -> bool:
        if user_id in self.s.members[class_id]:
            return False
        self.s.members[class_id].append(user_id)
        return True

    async def member_count(self, class_id: int) -> int:
        return len(self.s.members[class_id])


class FakeRosters(_Repo):
    async def add_entries(self, class_id: int, rows: list[tuple[str, str, str | None]], now: dt.datetime) -> int:
        for full_name, key, code in rows:
            entry = RosterRec(self.s.new_id(), class_id, full_name, key, code, None)
            self.s.roster[entry.id] = entry
        return len(rows)

    async def entries(self, class_id: int) -> list[RosterRec]:
        return [e for e in self.s.roster.values() if e.class_id == class_id]

    async def link(self, entry_id: int, user_id: int) -> bool:
        # As the SQL does: only a free row, and only a student not linked to another row of the class.
        entry = self.s.roster[entry_id]
        taken = any(e.user_id == user_id and e.class_id == entry.class_id for e in self.s.roster.values())
        if entry.user_id is not None or taken:
            return False
        entry.user_id = user_id
        return True

    async def members(self, class_id: int) -> list[MemberRec]:
        return [MemberRec(uid, self.s.users[uid].display_name) for uid in self.s.members[class_id]]

    async def unlisted(self, class_id: int) -> set[int]:
        return {uid for cid, uid in self.s.unlisted if cid == class_id}

    async def mark_unlisted(self, class_id: int, user_id: int, decided_by: int | None, now: dt.datetime) -> bool:
        if (class_id, user_id) in self.s.unlisted:
            return False
        self.s.unlisted.add((class_id, user_id))
        return True

    async def clear_unlisted(self, class_id: int) -> None:
        self.s.unlisted = {(cid, uid) for cid, uid in self.s.unlisted if cid != class_id}


class FakeConsents(_Repo):
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
        rec = ConsentRec(kind, method, notice_version, now, None, reference, recorded_by)
        self.s.consents.setdefault(user_id, []).append(rec)

    async def active(self, user_id: int) -> list[ConsentRec]:
        return [c for c in self.s.consents.get(user_id, []) if c.withdrawn_at is None]

    async def withdraw(self, user_id: int, now: dt.datetime) -> int:
        active = [c for c in self.s.consents.get(user_id, []) if c.withdrawn_at is None]
        for c in active:
            c.withdrawn_at = now
        return len(active)


class FakeAudit(_Repo):
    async def add(
        self, actor_id: int | None, action: str, scope: str, detail: dict[str, Any], now: dt.datetime
    ) -> None:
        self.s.audit.append(AuditRow(actor_id, action, scope, detail, now))

    async def chain(self) -> list[AuditRec]:
        raise NotImplementedError("the audit chain's hashing is the database tests' business")


class FakeReports(_Repo):
    async def figures(self, *args: Any, **_options: Any) -> ReportFigures:
        self.s.figure_calls.append(args)
        return self.s.figures or empty_figures()

    async def standard(self, school_year: str, school_id: int | None) -> StandardTally:
        return StandardTally(school_year, [])


class FakePledges(_Repo):
    """No pledges (their rules and SQL are tested against the database: tests/pledges)."""

    async def overlapping(self, start: dt.datetime, end: dt.datetime) -> list[Any]:
        return []


def empty_figures(schools: dict[int, str] | None = None) -> ReportFigures:
    return ReportFigures(CountRow(None, {}, 0), [], [], [], [], [], schools or {}, {}, {})


class FakeUnitOfWork:
    def __init__(self, world: World) -> None:
        self.world = world
        self.committed = False

    async def __aenter__(self) -> FakeUnitOfWork:
        self.state = copy.deepcopy(self.world)
        self.users = FakeUsers(self.state)
        self.schools = FakeSchools(self.state)
        self.classes = FakeClasses(self.state)
        self.rosters = FakeRosters(self.state)
        self.consents = FakeConsents(self.state)
        self.audit = FakeAudit(self.state)
        self.reports = FakeReports(self.state)
        self.pledges = FakePledges(self.state)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        del self.state  # anything not committed is dropped

    async def commit(self) -> None:
        self.world.__dict__.update(copy.deepcopy(self.state).__dict__)
        self.committed = True

    async def rollback(self) -> None:
        self.state.__dict__.update(copy.deepcopy(self.world).__dict__)


class FakeUnitOfWorkFactory:
    def __init__(self, world: World | None = None) -> None:
        self.world = world or World()

    def __call__(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.world)


__all__ = ["FakeUnitOfWork", "FakeUnitOfWorkFactory", "ReportScope", "World", "empty_figures"]
