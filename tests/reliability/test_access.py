"""PRIV-5/PRIV-6: roles × staff actions (allowed or refused; a refusal changes nothing), teachers see only
their classes and school admins only their school, and the audit log is a hash chain that shows tampering."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest
from sqlalchemy import delete, select, text, update

from bot.accounts.ports import ClassRec
from bot.accounts.seed import seed_demo
from bot.accounts.service import can_manage_class
from bot.app import App
from bot.channels.console.app import ConsoleSession
from bot.core.ports import UserRec
from bot.privacy.service import verify_audit_chain
from db import models as m
from db.migrate import upgrade
from tests.reliability.helpers import new_student, option_number, row_counts, user_id_of

pytestmark = pytest.mark.reliability

ROLES = ("student", "parent", "teacher", "school_admin", "organizer")
ACTIONS = {
    # action: (what is typed, roles allowed)
    "class list": ("/classes", {"teacher", "school_admin"}),
    "create class": ("/newclass", {"teacher", "school_admin"}),
    "invite": ("/invite", {"school_admin", "organizer"}),
    "consent": ("/consent", {"teacher", "school_admin"}),
    "new school": ("/newschool", {"organizer"}),
    "safety standard": ("/tieuchuan", {"school_admin", "organizer"}),
}
USERS = {"student": "hs", "parent": "ph", "teacher": "gv", "school_admin": "qt", "organizer": "btc"}


def shows(class_name: str, screen: str) -> bool:
    """The class name as a word of its own: a random join code such as "8BGZ2A" is not class 8B."""
    return re.search(rf"(?<![A-Z0-9]){class_name}(?![A-Z0-9])", screen) is not None


async def two_schools(app: App) -> None:
    """The demo school (teacher gv with 7A, admin qt) and a second school (teacher gv2 with 8B, admin qt2)."""
    demo = await seed_demo(app.uow_factory, app.clock)
    await new_student(app, "hs", demo.class_code, "Nguyễn Văn An")
    now = app.clock()
    async with app.uow_factory() as uow:
        other = await uow.schools.create("Trường THCS Bên Kia", now)
        for external_id, role, name in (("gv2", "teacher", "Cô Bên Kia"), ("qt2", "school_admin", "Thầy Bên Kia")):
            user = await uow.users.create("console", external_id, external_id, "vi", now, role=role)
            await uow.users.update(user.id, display_name=name, onboarded=True, school_id=other.id)
            if role == "teacher":
                await uow.classes.create(other.id, user.id, "8B", 8, "2026-2027", "BENKIA8", now)
        parent = await uow.users.create("console", "ph", "ph", "vi", now, role="parent")
        await uow.users.update(parent.id, onboarded=True)
        await uow.commit()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(ACTIONS))
async def test_role_action_matrix(app: App, role: str, action: str) -> None:
    await two_schools(app)
    typed, allowed = ACTIONS[action]
    session = ConsoleSession(app.dispatcher, user=USERS[role])
    before = await row_counts(app)
    screen = await session.send(typed)
    if role not in allowed:
        assert "chỉ dành cho" in screen, screen
        after = await row_counts(app)
        assert after == before, "a refused action changed the database"
        return
    assert "chỉ dành cho" not in screen
    if role != "organizer":  # the district's organizers see every school; everybody else only their own
        assert not shows("8B", screen) and "Bên Kia" not in screen


async def test_teachers_see_only_their_classes_and_admins_only_their_school(app: App) -> None:
    await two_schools(app)
    screens = {u: await ConsoleSession(app.dispatcher, user=u).send("/classes") for u in ("gv", "qt", "gv2", "qt2")}
    assert shows("7A", screens["gv"]) and not shows("8B", screens["gv"])
    assert shows("7A", screens["qt"]) and not shows("8B", screens["qt"])
    assert shows("8B", screens["gv2"]) and not shows("7A", screens["gv2"])
    assert shows("8B", screens["qt2"]) and not shows("7A", screens["qt2"])
    consent = await ConsoleSession(app.dispatcher, user="gv2").send("/consent")
    assert shows("8B", consent) and not shows("7A", consent)


def test_who_may_act_for_a_class() -> None:
    def user(role: str, uid: int, school: int | None) -> UserRec:
        return UserRec(uid, "x", "vi", role, school, True)

    own = ClassRec(1, school_id=10, teacher_id=5, name="7A", grade=7, school_year="2026-2027", join_code="AAAA")
    cases = [
        (user("teacher", 5, 10), True),
        (user("teacher", 6, 10), False),  # same school, not their class
        (user("school_admin", 7, 10), True),
        (user("school_admin", 8, 11), False),  # another school
        (user("school_admin", 9, None), False),
        (user("organizer", 1, None), False),
        (user("student", 2, 10), False),
        (user("parent", 3, None), False),
    ]
    assert [can_manage_class(u, own) for u, _ in cases] == [ok for _, ok in cases]


async def test_a_tampered_button_for_another_teachers_class_is_refused_and_changes_nothing(app: App) -> None:
    await two_schools(app)
    other_teacher = ConsoleSession(app.dispatcher, user="gv2")
    await other_teacher.send("/consent")
    uid = await user_id_of(app, "gv2")
    async with app.sessions() as s:
        class_7a = (await s.execute(select(m.SchoolClass.id).where(m.SchoolClass.name == "7A"))).scalar_one()
        conv = await s.get(m.Conversation, uid)
        assert conv is not None
        # As if the stored choice had been forged to point at a class of the other school.
        conv.prompt = {**conv.prompt, "options": [["f0f0f0f0", f"consent.class:{class_7a}", "7A"]]}
        await s.commit()
    before = await row_counts(app)
    screen = await other_teacher.send("1")
    assert "chỉ xem được lớp của mình" in screen and "Nguyễn Văn An" not in screen
    assert await row_counts(app) == before


async def test_the_audit_log_is_a_hash_chain_and_tampering_shows(app: App) -> None:
    await two_schools(app)
    teacher = ConsoleSession(app.dispatcher, user="gv")
    screen = await teacher.send("/newclass")
    screen = await teacher.send("9C")
    await teacher.send(option_number(screen, "9"))
    student = ConsoleSession(app.dispatcher, user="hs")
    screen = await student.send("/privacy")
    await student.send(option_number(screen, "Nhận bản sao dữ liệu"))
    async with app.uow_factory() as uow:
        check = await verify_audit_chain(uow)
        rows = await uow.audit.chain()
    assert check.ok and check.rows == len(rows) >= 3
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    export = next(r for r in rows if r.action == "privacy.export")
    assert export.actor_id == await user_id_of(app, "hs") and export.scope.startswith("user:")

    victim = rows[1]
    async with app.sessions() as s:
        await s.execute(update(m.AuditLog).where(m.AuditLog.id == victim.id).values(scope="school:999"))
        await s.commit()
    async with app.uow_factory() as uow:
        check = await verify_audit_chain(uow)
    assert (check.ok, check.broken_at) == (False, victim.id)

    async with app.sessions() as s:  # put it back, then remove a row instead
        await s.execute(update(m.AuditLog).where(m.AuditLog.id == victim.id).values(scope=victim.scope))
        await s.commit()
    async with app.uow_factory() as uow:
        assert (await verify_audit_chain(uow)).ok
    async with app.sessions() as s:
        await s.execute(delete(m.AuditLog).where(m.AuditLog.id == victim.id))
        await s.commit()
    async with app.uow_factory() as uow:
        check = await verify_audit_chain(uow)
    assert (check.ok, check.broken_at) == (False, rows[2].id)


async def test_deleting_a_user_row_does_not_rewrite_the_audit_chain(app: App) -> None:
    """Account merging deletes a users row; no cascade may touch the rows that user wrote."""
    await two_schools(app)
    teacher = ConsoleSession(app.dispatcher, user="gv2")
    screen = await teacher.send("/newclass")
    screen = await teacher.send("9D")
    await teacher.send(option_number(screen, "9"))
    gv2 = await user_id_of(app, "gv2")
    async with app.sessions() as s:
        await s.execute(update(m.SchoolClass).where(m.SchoolClass.teacher_id == gv2).values(teacher_id=None))
        await s.execute(delete(m.User).where(m.User.id == gv2))
        await s.commit()
    async with app.uow_factory() as uow:
        check = await verify_audit_chain(uow)
        actors = {r.actor_id for r in await uow.audit.chain()}
    assert check.ok and gv2 in actors


async def test_concurrent_audit_writers_keep_one_chain(app: App) -> None:
    now = app.clock()

    async def write(i: int) -> None:
        async with app.uow_factory() as uow:
            await uow.audit.add(None, "test.concurrent", f"n:{i}", {"i": i}, now + dt.timedelta(microseconds=i))
            await uow.commit()

    await asyncio.gather(*(write(i) for i in range(20)))
    async with app.uow_factory() as uow:
        check = await verify_audit_chain(uow)
    assert check.ok and check.rows == 20


def test_the_migration_chains_audit_rows_written_before_it(database_url: str) -> None:
    from db.session import create_engine

    upgrade(database_url, "0001")

    async def seed_old_rows() -> None:
        engine = create_engine(database_url)
        try:
            async with engine.begin() as conn:
                for i in range(3):
                    await conn.execute(
                        text("INSERT INTO audit_log (at, action, scope, detail) VALUES (:at, :a, :s, :d)"),
                        {"at": dt.datetime(2026, 11, 1, 8, i), "a": "old", "s": f"school:{i}", "d": '{"n": 1}'},
                    )
        finally:
            await engine.dispose()

    async def verify() -> bool:
        from bot.app import unit_of_work_factory
        from db.session import session_factory

        engine = create_engine(database_url)
        try:
            async with unit_of_work_factory(session_factory(engine))() as uow:
                check = await verify_audit_chain(uow)
                return check.ok and check.rows == 3
        finally:
            await engine.dispose()

    asyncio.run(seed_old_rows())
    upgrade(database_url)
    assert asyncio.run(verify())
