"""The teacher's progress view equals counts computed independently, straight from the stored rows."""

from __future__ import annotations

import random

from sqlalchemy import distinct, func, select

from bot.app import App
from bot.broadcasts import service as broadcasts
from db import models as m
from tests.broadcasts.fakes import FakeTransport, fake_sleep
from tests.broadcasts.helpers import make_school

LESSON = "ma-tuy-lower-secondary-1"


async def test_progress_view_equals_counts_from_the_stored_rows(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    school = await make_school(app, classes=2, per_class=30)
    everyone = [u for ids in school.students.values() for u in ids]
    rng = random.Random(7)
    blocked = {school.chats[u] for u in rng.sample(everyone, 6)}
    async with app.uow_factory() as uow:
        bc, _plan = await broadcasts.create_broadcast(
            uow, school.teacher, "lesson", LESSON, school.class_ids, app.content, app.clock()
        )
        await uow.commit()
    await app.broadcast_sender(
        {"telegram": FakeTransport("telegram", clock, blocked=blocked)}, clock, fake_sleep(clock)
    ).run_until_empty()
    # Some students open the lesson, some of those finish it; one who never got it opens it from the menu.
    now = app.clock()
    opened = rng.sample(everyone, 25)
    async with app.uow_factory() as uow:
        for i, uid in enumerate(opened):
            await uow.progress.open(uid, LESSON, "ma-tuy", 1, now)
            if i % 2:
                await uow.progress.complete(uid, LESSON, 2, now)
        await uow.progress.open(everyone[0], "ma-tuy-primary-1", "ma-tuy", 1, now)  # another lesson: no effect
        await uow.commit()

    async with app.uow_factory() as uow:
        view = await broadcasts.progress(uow, bc)

    async with app.sessions() as s:

        async def count(stmt) -> int:  # type: ignore[no-untyped-def]
            return int((await s.execute(stmt)).scalar_one())

        d = m.Delivery
        for class_id in [None, *school.class_ids]:
            where = [d.broadcast_id == bc.id, d.user_id.is_not(None)]
            if class_id is not None:
                where.append(d.class_id == class_id)
            students = await count(select(func.count(distinct(d.user_id))).where(*where))
            recipients = select(d.user_id).where(*where)
            p = m.LessonProgress
            # A student who opened the lesson has it, whatever became of the message.
            opened_ids = select(p.user_id).where(p.lesson_id == LESSON)
            delivered = await count(
                select(func.count(distinct(d.user_id))).where(*where, (d.status == "sent") | d.user_id.in_(opened_ids))
            )
            unreachable = await count(
                select(func.count(distinct(d.user_id))).where(
                    *where, d.status.in_(("blocked", "unreachable")), d.user_id.not_in(opened_ids)
                )
            )
            opened_n = await count(select(func.count()).where(p.lesson_id == LESSON, p.user_id.in_(recipients)))
            completed_n = await count(
                select(func.count()).where(
                    p.lesson_id == LESSON, p.user_id.in_(recipients), p.completed_at.is_not(None)
                )
            )
            got = view.total if class_id is None else view.per_class[class_id]
            assert (got.students, got.delivered, got.unreachable, got.opened, got.completed) == (
                students,
                delivered,
                unreachable,
                opened_n,
                completed_n,
            )
        blocked_opened = sum(school.chats[u] in blocked for u in opened)
        assert view.total.students == 60 and view.total.delivered == 54 + blocked_opened
        assert view.total.unreachable == 6 - blocked_opened
        not_done = {s.user_id for s in view.not_completed}
        done = set(
            (
                await s.execute(
                    select(m.LessonProgress.user_id).where(
                        m.LessonProgress.lesson_id == LESSON, m.LessonProgress.completed_at.is_not(None)
                    )
                )
            ).scalars()
        )
        assert not_done == set(everyone) - done
