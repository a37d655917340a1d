"""The demo school: a school, an organizer, a school admin, a teacher and a class, for trying the bot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.accounts.ports import AccountsUnitOfWork
from bot.core.clock import Clock
from bot.core.codes import new_code
from bot.core.roles import Role

DEMO_SCHOOL = "Trường THCS Thử Nghiệm"
# console user id -> (role, display name)
DEMO_STAFF = {
    "btc": (Role.ORGANIZER, "Ban Tổ Chức"),
    "qt": (Role.SCHOOL_ADMIN, "Cô Quản Trị"),
    "gv": (Role.TEACHER, "Thầy Giáo Viên"),
}


@dataclass
class DemoInfo:
    school_id: int
    class_code: str
    class_name: str


async def seed_demo(uow_factory: Callable[[], AccountsUnitOfWork], clock: Clock) -> DemoInfo:
    """Idempotent: returns the existing demo if there is one."""
    now = clock()
    async with uow_factory() as uow:
        teacher = await uow.users.by_account("console", "gv")
        if teacher is not None and teacher.school_id is not None:
            classes = await uow.classes.for_teacher(teacher.id)
            if classes:
                return DemoInfo(teacher.school_id, classes[0].join_code, classes[0].name)
        school = await uow.schools.create(DEMO_SCHOOL, now)
        ids = {}
        for external_id, (role, name) in DEMO_STAFF.items():
            user = await uow.users.by_account("console", external_id)
            if user is None:
                user = await uow.users.create("console", external_id, external_id, "vi", now, role=role)
            await uow.users.update(
                user.id,
                role=role,
                display_name=name,
                onboarded=True,
                school_id=None if role == Role.ORGANIZER else school.id,
            )
            ids[external_id] = user.id
        code = new_code(6)
        klass = await uow.classes.create(school.id, ids["gv"], "7A", 7, "2026-2027", code, now)
        await uow.audit.add(None, "seed.demo", f"school:{school.id}", {}, now)
        await uow.commit()
        return DemoInfo(school.id, klass.join_code, klass.name)
