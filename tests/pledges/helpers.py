"""A district for the pledge tests, built through the console as people would: the demo school (admin qt, teacher
gv with 7A and its students, teacher gv3 with 7B), a second school (admin qt2, teacher gv2 with 8B), parents who
linked through the parent code, and the admin's pledge published from a template."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.accounts.seed import seed_demo
from bot.app import App
from bot.channels.console.app import ConsoleSession
from db import models as m
from tests.core.test_console_flows import option_number
from tests.reliability.helpers import code_in, user_id_of

STUDENTS_7A = {"hs1": "Nguyễn Văn An", "hs2": "Trần Thị Bình", "hs3": "Lê Văn Cường", "hs4": "Phạm Thị Dung"}
TEMPLATE = "Cam kết an toàn giao thông (thử)"


@dataclass
class District:
    code_7a: str
    code_7b: str
    code_8b: str
    class_7a: int
    class_7b: int
    class_8b: int
    school: int
    other_school: int


async def join(app: App, user: str, code: str, name: str, class_name: str) -> ConsoleSession:
    """A student onboards: language, their own agreement, the class code, their name."""
    session = ConsoleSession(app.dispatcher, user=user)
    screen = await session.send("/start")
    screen = await session.send(option_number(screen, "Tiếng Việt"))
    screen = await session.send(option_number(screen, "Em đồng ý"))
    screen = await session.send(code)
    assert f"Em đã vào lớp {class_name}" in screen, screen
    screen = await session.send(name)
    assert f"Cảm ơn {name}" in screen
    return session


async def link_parent(app: App, student: ConsoleSession, parent_user: str) -> ConsoleSession:
    """The student makes the parent code; the parent opens it on their own account and agrees."""
    screen = await student.send("/privacy")
    code = code_in(await student.send(option_number(screen, "Mã để bố mẹ đồng ý")))
    parent = ConsoleSession(app.dispatcher, user=parent_user)
    screen = await parent.send(f"/start {code}")
    screen = await parent.send(option_number(screen, "Tôi đồng ý"))
    assert "đã ghi nhận sự đồng ý" in screen
    return parent


async def district(app: App) -> District:
    demo = await seed_demo(app.uow_factory, app.clock)
    now = app.clock()
    async with app.uow_factory() as uow:
        other = await uow.schools.create("Trường THCS Bên Kia", now)
        ids = {}
        for external_id, role, name, school in (
            ("gv3", "teacher", "Cô Lớp Bên", demo.school_id),
            ("gv2", "teacher", "Cô Bên Kia", other.id),
            ("qt2", "school_admin", "Thầy Bên Kia", other.id),
        ):
            user = await uow.users.create("console", external_id, external_id, "vi", now, role=role)
            await uow.users.update(user.id, display_name=name, onboarded=True, school_id=school)
            ids[external_id] = user.id
        b7 = await uow.classes.create(demo.school_id, ids["gv3"], "7B", 7, "2026-2027", "LOPB7B", now)
        b8 = await uow.classes.create(other.id, ids["gv2"], "8B", 8, "2026-2027", "BENKIA8", now)
        a7 = await uow.classes.by_code(demo.class_code)
        assert a7 is not None
        await uow.commit()
    return District(demo.class_code, b7.join_code, b8.join_code, a7.id, b7.id, b8.id, demo.school_id, other.id)


async def publish(app: App, admin: str = "qt", template: str = TEMPLATE, window: str = "") -> str:
    """The admin publishes a template: from now to the end of 14 days, or the window typed."""
    session = ConsoleSession(app.dispatcher, user=admin)
    screen = await session.send("/camket")
    screen = await session.send(option_number(screen, "Tạo bản cam kết"))
    screen = await session.send(option_number(screen, template))
    screen = await session.send(window) if window else await session.send(option_number(screen, "14 ngày"))
    assert "Xem trước bản cam kết" in screen, screen
    return await session.send(option_number(screen, "Công bố"))


async def pledge_id(app: App, title: str = TEMPLATE) -> int:
    async with app.sessions() as s:
        return int((await s.execute(select(m.Pledge.id).where(m.Pledge.title == title))).scalar_one())


async def confirmations(app: App) -> list[tuple[int, int, str, int]]:
    """(version, student, signer, confirmed by) of every stored confirmation."""
    async with app.sessions() as s:
        rows = await s.execute(
            select(
                m.PledgeConfirmation.version,
                m.PledgeConfirmation.student_id,
                m.PledgeConfirmation.signer,
                m.PledgeConfirmation.confirmed_by,
            ).order_by(m.PledgeConfirmation.id)
        )
        return [(int(v), int(s_), str(sig), int(by)) for v, s_, sig, by in rows.all()]


async def notices_for(app: App, external_id: str) -> list[str]:
    uid = await user_id_of(app, external_id)
    async with app.sessions() as s:
        return list(
            (await s.execute(select(m.Notice.text).where(m.Notice.user_id == uid).order_by(m.Notice.id))).scalars()
        )


async def sign(session: ConsoleSession, title: str = TEMPLATE, label: str = "Em đã đọc") -> str:
    """Open /camket, the pledge, and confirm."""
    screen = await session.send("/camket")
    screen = await session.send(option_number(screen, title))
    return await session.send(option_number(screen, label))
