"""Seed a benchmark database: one school, classes of 40, and N onboarded students with Telegram accounts."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import insert

from bot.config import Settings
from db import models as m
from db.migrate import upgrade
from db.session import create_engine, session_factory

FIRST_CHAT_ID = 100_000


async def seed_students(database_url: str, students: int, channel: str = "telegram") -> None:
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    now = dt.datetime.now(dt.UTC)
    async with sessions() as s, s.begin():
        school = m.School(name="Trường THCS Đo Tải", created_at=now)
        s.add(school)
        await s.flush()
        classes = []
        for c in range((students + 39) // 40):
            klass = m.SchoolClass(
                school_id=school.id,
                name=f"7/{c + 1}",
                grade=7,
                school_year="2026-2027",
                join_code=f"B{c:05d}",
                archived=False,
                created_at=now,
            )
            s.add(klass)
            classes.append(klass)
        await s.flush()
        users = [
            {"display_name": f"Học Sinh {i}", "locale": "vi", "role": "student", "onboarded": True, "created_at": now}
            for i in range(students)
        ]
        ids = (await s.execute(insert(m.User).returning(m.User.id), users)).scalars().all()
        await s.execute(
            insert(m.ChannelAccount),
            [
                {
                    "user_id": uid,
                    "channel": channel,
                    "external_id": str(FIRST_CHAT_ID + i),
                    "chat_id": str(FIRST_CHAT_ID + i),
                    "unreachable": False,
                    "created_at": now,
                }
                for i, uid in enumerate(ids)
            ],
        )
        await s.execute(
            insert(m.Membership),
            [
                {"user_id": uid, "class_id": classes[i // 40].id, "role": "student", "joined_at": now}
                for i, uid in enumerate(ids)
            ],
        )
        await s.execute(
            insert(m.Consent),
            [
                {
                    "user_id": uid,
                    "kind": kind,
                    "method": "paper_form" if kind == "guardian" else "in_chat",
                    "notice_version": "2026-01",
                    "given_at": now,
                }
                for uid in ids
                for kind in ("child", "guardian")
            ],
        )
    await engine.dispose()


def seed(database_url: str, students: int, channel: str = "telegram") -> None:
    upgrade(database_url)
    asyncio.run(seed_students(database_url, students, channel))


if __name__ == "__main__":
    import sys

    seed(sys.argv[1] if len(sys.argv) > 1 else Settings().database_url, int(sys.argv[2]) if len(sys.argv) > 2 else 100)
