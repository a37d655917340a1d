"""A seeded district for report tests: two schools, three classes, staff of every role, students and a few
hundred participation records of every kind, including some just outside the period."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.core import activity as a
from bot.core.ports import UnitOfWorkFactory

VN = ZoneInfo("Asia/Ho_Chi_Minh")
TOPICS = ("ma-tuy", "bao-luc-hoc-duong", "an-toan-giao-thong", "phong-chay-chua-chay", "an-toan-mang")
TOPIC_KINDS = (
    a.LESSON_DELIVERED,
    a.LESSON_OPENED,
    a.LESSON_COMPLETED,
    a.PRACTICE_FINISHED,
    a.CONTEST_ENTERED,
    a.CONTEST_SUBMITTED,
)


@dataclass
class Dataset:
    school_a: int = 0
    school_b: int = 0
    classes: dict[str, int] = field(default_factory=dict)  # "A1" -> id
    users: dict[str, int] = field(default_factory=dict)  # console id -> user id
    students: dict[str, list[int]] = field(default_factory=dict)  # class name -> user ids


async def seed_dataset(uow_factory: UnitOfWorkFactory, now: dt.datetime, rows: int = 400) -> Dataset:
    rnd = random.Random(20260615)
    d = Dataset()
    async with uow_factory() as uow:
        a_school = await uow.schools.create("Trường THCS Lê Lợi", now)
        b_school = await uow.schools.create("Trường Tiểu học Hòn Tre", now)
        d.school_a, d.school_b = a_school.id, b_school.id
        staff = {
            "btc": ("organizer", None),
            "qtA": ("school_admin", a_school.id),
            "qtB": ("school_admin", b_school.id),
            "gv1": ("teacher", a_school.id),
            "gv2": ("teacher", a_school.id),
            "gv3": ("teacher", b_school.id),
        }
        for ext, (role, school_id) in staff.items():
            user = await uow.users.create("console", ext, ext, "vi", now, role=role)
            await uow.users.update(user.id, onboarded=True, school_id=school_id, display_name=ext)
            d.users[ext] = user.id
        layout = {"A1": (a_school.id, "gv1", 7, 8), "A2": (a_school.id, "gv2", 8, 6), "B1": (b_school.id, "gv3", 4, 5)}
        for name, (school_id, teacher, grade, n) in layout.items():
            klass = await uow.classes.create(school_id, d.users[teacher], name, grade, "2025-2026", f"C{name}X", now)
            d.classes[name] = klass.id
            d.students[name] = []
            for i in range(n):
                student = await uow.users.create("console", f"hs{name}{i}", f"hs{name}{i}", "vi", now)
                await uow.users.update(student.id, onboarded=True, school_id=school_id, display_name=f"HS {i}")
                await uow.classes.add_member(student.id, klass.id, now)
                d.students[name].append(student.id)
        school_of = {"A1": a_school.id, "A2": a_school.id, "B1": b_school.id}
        teacher_of = {"A1": d.users["gv1"], "A2": d.users["gv2"], "B1": d.users["gv3"]}
        first = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
        span = int((dt.datetime(2026, 7, 31, tzinfo=dt.UTC) - first).total_seconds())

        async def add(kind: str, at: dt.datetime, name: str | None) -> None:
            topic = rnd.choice(TOPICS) if kind in TOPIC_KINDS else None
            ref = value = None
            if kind in (a.CONTEST_ENTERED, a.CONTEST_SUBMITTED, a.CONTEST_AWARDED):
                ref = rnd.choice(("hoi-thi-19-8", "hoi-thi-thang-5"))
            if kind in (a.CONTEST_SUBMITTED, a.PRACTICE_FINISHED):
                value = rnd.randint(0, 20)
            if kind == a.CONTEST_AWARDED:
                value = rnd.randint(1, 4)
            if name is None:  # help from someone without a school: counted, with no place
                await uow.activity.add(kind, at, None, None, None, topic, ref, value)
                return
            if kind == a.HELP_VIEWED:
                await uow.activity.add(kind, at, None, school_of[name], None, topic, ref, value)
            elif kind == a.BROADCAST_SENT:
                await uow.activity.add(kind, at, teacher_of[name], school_of[name], d.classes[name], None, None, 8)
            else:
                # The last student of each class never takes part.
                user = rnd.choice(d.students[name][:-1])
                await uow.activity.add(kind, at, user, school_of[name], d.classes[name], topic, ref, value)

        for _ in range(rows):
            at = first + dt.timedelta(seconds=rnd.randrange(span))
            await add(rnd.choice(a.ALL_KINDS), at, rnd.choice(("A1", "A1", "A2", "B1")))
        # Records on either side of the 2026-H1 bounds, which are Vietnam-time days.
        for at in (
            dt.datetime(2025, 12, 31, 16, 59, 59, tzinfo=dt.UTC),  # 31/12 23:59:59 in Vietnam: outside
            dt.datetime(2025, 12, 31, 17, 0, 0, tzinfo=dt.UTC),  # 1/1 00:00 in Vietnam: inside
            dt.datetime(2026, 6, 15, 16, 59, 59, tzinfo=dt.UTC),  # 15/6 23:59:59: inside
            dt.datetime(2026, 6, 15, 17, 0, 0, tzinfo=dt.UTC),  # 16/6 00:00: outside
        ):
            await add(a.LESSON_OPENED, at, "B1")
        await add(a.HELP_VIEWED, dt.datetime(2026, 3, 3, 3, tzinfo=dt.UTC), None)
        await uow.commit()
    return d
