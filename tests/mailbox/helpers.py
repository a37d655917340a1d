"""Shared steps for the safe mailbox's tests: a demo school with two counsellors, a second school with its own,
a child's letter typed through the console, the text of every table."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.accounts.seed import seed_demo
from bot.app import App
from bot.channels.console.app import ConsoleSession
from bot.channels.console.transport import ConsoleOutput
from db import models as m
from db.base import Base
from tests.core.test_console_flows import onboard_student, option_number

__all__ = ["World", "add_staff", "option_number", "stored_text", "world", "write_letter"]

LETTER = "Bạn Tuấn lớp 8B hay đánh em ở nhà xe, em sợ lắm"
REPLY = "Cô đã đọc thư của em. Giờ ra chơi em ghé phòng tư vấn tầng 2 nhé, cô chờ em."
STUDENT_NAME = "Nguyễn Văn An"


@dataclass
class World:
    app: App
    output: ConsoleOutput
    school_id: int
    other_school_id: int
    class_code: str

    def chat(self, user: str) -> ConsoleSession:
        return ConsoleSession(self.app.dispatcher, user=user, output=self.output)


async def add_staff(app: App, external_id: str, name: str, role: str, school_id: int) -> int:
    async with app.uow_factory() as uow:
        user = await uow.users.create("console", external_id, external_id, "vi", app.clock(), role=role)
        await uow.users.update(user.id, display_name=name, onboarded=True, school_id=school_id)
        await uow.commit()
        return user.id


async def name_counsellor(app: App, school_id: int, user_id: int) -> None:
    async with app.uow_factory() as uow:
        await uow.mailbox.name_counsellor(school_id, user_id, None, app.clock())
        await uow.commit()


async def world(app: App, counsellors: bool = True) -> World:
    """The demo school (admin qt, teacher gv of 7A, counsellors tv and tv2 when `counsellors`), a second school
    with its counsellor gv2, and the student hs in 7A."""
    demo = await seed_demo(app.uow_factory, app.clock)
    tv = await add_staff(app, "tv", "Cô Tư Vấn", "teacher", demo.school_id)
    tv2 = await add_staff(app, "tv2", "Thầy Tư Vấn Hai", "teacher", demo.school_id)
    async with app.uow_factory() as uow:
        other = await uow.schools.create("Trường THCS Bên Cạnh", app.clock())
        await uow.commit()
    gv2 = await add_staff(app, "gv2", "Cô Trường Khác", "teacher", other.id)
    await name_counsellor(app, other.id, gv2)
    if counsellors:
        await name_counsellor(app, demo.school_id, tv)
        await name_counsellor(app, demo.school_id, tv2)
    w = World(app, app.console_output(), demo.school_id, other.id, demo.class_code)
    await onboard_student(app, w.chat("hs"), demo.class_code, STUDENT_NAME)
    return w


async def write_letter(
    student: ConsoleSession, text: str = LETTER, kind: str = "Bị bắt nạt", who: str = "ẩn danh", urgent: bool = False
) -> str:
    screen = await student.send("/hopthu")
    screen = await student.send(option_number(screen, "Viết thư mới"))
    screen = await student.send(option_number(screen, kind))
    screen = await student.send(option_number(screen, who))
    screen = await student.send(option_number(screen, "Gấp" if urgent else "Không gấp"))
    assert "Tin nhắn tiếp theo em gõ" in screen, screen
    return await student.send(text)


async def stored_text(app: App, skip: tuple[str, ...] = ()) -> str:
    """Every value of every row (but the tables in `skip`), as one string."""
    out = []
    async with app.sessions() as s:
        for table in Base.metadata.sorted_tables:
            if table.name not in skip:
                out += [repr(tuple(row)) for row in (await s.execute(select(table))).all()]
    return "\n".join(out)


async def cases(app: App) -> list[m.MailboxCase]:
    async with app.sessions() as s:
        return list((await s.execute(select(m.MailboxCase).order_by(m.MailboxCase.id))).scalars())
