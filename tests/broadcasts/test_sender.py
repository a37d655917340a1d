"""The broadcast sender: limits, 429 and 403 answers, and exactly one message per reachable student across
a stop and restart (and at most one after a hard crash in the middle of a send)."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt

from sqlalchemy import func, select, update

from bot.app import App
from bot.core.services import broadcasts
from bot.runtime.broadcast_sender import BroadcastSender, ChannelLimits
from bot.runtime.transport import DeliveryStatus
from db import models as m
from tests.broadcasts.fakes import FakeTransport, check_limits, fake_sleep
from tests.broadcasts.helpers import delivery_rows, make_school

LESSON = "an-toan-giao-thong-lower-secondary-1"


async def _broadcast(app: App, school, class_ids: list[int]) -> int:  # type: ignore[no-untyped-def]
    async with app.uow_factory() as uow:
        bc, _plan = await broadcasts.create_broadcast(
            uow, school.teacher, "lesson", LESSON, class_ids, app.content, app.clock()
        )
        await uow.commit()
    return bc.id


async def test_three_classes_stop_and_restart_every_reachable_student_gets_it_once(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    school = await make_school(app, classes=3, per_class=200)
    everyone = [uid for ids in school.students.values() for uid in ids]
    already_unreachable = everyone[5:10]  # blocked the bot in an earlier broadcast
    blocked_now = {school.chats[uid] for uid in everyone[100:600:50]}  # block it during this one
    async with app.sessions() as s:
        await s.execute(
            update(m.ChannelAccount).where(m.ChannelAccount.user_id.in_(already_unreachable)).values(unreachable=True)
        )
        await s.commit()
    bid = await _broadcast(app, school, school.class_ids)

    fake = FakeTransport("telegram", clock, blocked=blocked_now, retry_every=97, retry_after=3.0)
    limits = {"telegram": ChannelLimits(per_second=25, max_in_flight=4)}
    first = BroadcastSender(app, {"telegram": fake}, clock, fake_sleep(clock), limits)
    task = asyncio.create_task(first.run_until_empty())
    fake.notify_at = 250
    await fake.reached.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    del first  # a new process: nothing of the old sender survives but the database
    assert 250 <= len(fake.received) < 590

    second = BroadcastSender(app, {"telegram": fake}, clock, fake_sleep(clock), limits)
    await second.run_until_empty()

    reachable = {school.chats[uid] for uid in everyone} - blocked_now - {school.chats[u] for u in already_unreachable}
    received = collections.Counter(fake.received)
    assert set(received) == reachable and set(received.values()) == {1}
    assert not blocked_now & set(received)
    # Blocked recipients were tried once, never again; earlier-unreachable ones not at all.
    tried = collections.Counter(c.chat_id for c in fake.calls if c.status is DeliveryStatus.BLOCKED)
    assert set(tried) == blocked_now and set(tried.values()) == {1}
    assert not {school.chats[u] for u in already_unreachable} & {c.chat_id for c in fake.calls}

    rows = await delivery_rows(app, bid)
    statuses = collections.Counter(r.status for r in rows)
    assert statuses == {"sent": len(reachable), "blocked": len(blocked_now), "unreachable": 5}
    assert all(r.sent_at is not None for r in rows if r.status == "sent")
    async with app.sessions() as s:
        flagged = set(
            (await s.execute(select(m.ChannelAccount.chat_id).where(m.ChannelAccount.unreachable.is_(True)))).scalars()
        )
        delivered = (
            await s.execute(select(func.count()).select_from(m.Activity).where(m.Activity.kind == "lesson_delivered"))
        ).scalar_one()
    assert flagged == blocked_now | {school.chats[u] for u in already_unreachable}
    assert delivered == len(reachable)

    # The limits held over every request, answered or not, and a 429 silenced the channel for retry_after.
    check_limits(fake.calls, per_second=25, chat_interval=1.0)
    retries = [c for c in fake.calls if c.status is DeliveryStatus.RETRY]
    assert retries
    for r in retries:
        assert not [c for c in fake.calls if r.at < c.at < r.at + dt.timedelta(seconds=3)]

    # The teacher's view reports the unreachable students as such.
    async with app.uow_factory() as uow:
        view = await broadcasts.progress(uow, await uow.broadcasts.get(bid))  # type: ignore[arg-type]
    assert view.total.students == 600
    assert view.total.delivered == len(reachable) and view.total.unreachable == len(blocked_now) + 5

    # A later broadcast skips everyone who is unreachable now.
    bid2 = await _broadcast(app, school, school.class_ids[:1])
    rows2 = await delivery_rows(app, bid2)
    unreachable_in_first = {school.chats[u] for u in school.students[school.class_ids[0]]} & (
        blocked_now | {school.chats[u] for u in already_unreachable}
    )
    assert {r.chat_id for r in rows2 if r.status == "unreachable"} == unreachable_in_first
