"""Builds a school with a teacher and classes full of students straight in the database, for broadcast tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import insert, select

from bot.app import App
from bot.core.ports import UserRec
from db import models as m


@dataclass
class School:
    school_id: int
    teacher: UserRec
    other_teacher: UserRec
    admin: UserRec
    class_ids: list[int]
    other_class_id: int
    students: dict[int, list[int]] = field(default_factory=dict)  # class id -> user ids
    chats: dict[int, str] = field(default_factory=dict)  # user id -> chat id


async def make_school(app: App, classes: int = 3, per_class: int = 200, channel: str = "telegram") -> School:
    now = app.clock()
    async with app.uow_factory() as uow:
        school = await uow.schools.create("Trường THCS Thử", now)
        staff = {}
        for key, role in (("gv1", "teacher"), ("gv2", "teacher"), ("qt", "school_admin")):
            user = await uow.users.create(channel, key, key, "vi", now, role=role)
            await uow.users.update(user.id, school_id=school.id, onboarded=True, display_name=f"Thầy {key}")
            user.school_id, user.onboarded = school.id, True
            staff[key] = user
        class_ids = []
        for c in range(classes):
            klass = await uow.classes.create(school.id, staff["gv1"].id, f"7A{c + 1}", 7, "2026-2027", f"CODE{c}X", now)
            class_ids.append(klass.id)
        other = await uow.classes.create(school.id, staff["gv2"].id, "8B", 8, "2026-2027", "OTHERX", now)
        await uow.commit()
    result = School(school.id, staff["gv1"], staff["gv2"], staff["qt"], class_ids, other.id)
    async with app.sessions() as session:
        for c, class_id in enumerate(class_ids if per_class else []):
            names = [
                {
                    "display_name": f"Học Sinh {c} {i:03d}",
                    "locale": "vi",
                    "role": "student",
                    "school_id": None,
                    "onboarded": True,
                    "created_at": now,
                }
                for i in range(per_class)
            ]
            ids = list((await session.execute(insert(m.User).returning(m.User.id), names)).scalars())
            await session.execute(
                insert(m.ChannelAccount),
                [
                    {
                        "user_id": uid,
                        "channel": channel,
                        "external_id": f"u{uid}",
                        "chat_id": f"{uid}",
                        "unreachable": False,
                        "created_at": now,
                    }
                    for uid in ids
                ],
            )
            await session.execute(
                insert(m.Membership),
                [{"user_id": uid, "class_id": class_id, "role": "student", "joined_at": now} for uid in ids],
            )
            result.students[class_id] = ids
            result.chats.update({uid: str(uid) for uid in ids})
        await session.commit()
    return result


async def delivery_rows(app: App, broadcast_id: int) -> list[m.Delivery]:
    async with app.sessions() as session:
        return list(
            (await session.execute(select(m.Delivery).where(m.Delivery.broadcast_id == broadcast_id))).scalars()
        )
