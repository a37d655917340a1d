"""The broadcast sender: limits, 429 and 403 answers, and exactly one message per reachable student across
a stop and restart (and at most one after a hard crash in the middle of a send)."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt

from sqlalchemy import func, select, update

from bot.app import App
from bot.broadcasts import service as broadcasts
from bot.broadcasts.sender import ChannelLimits
from bot.core.delivery import DeliveryResult, DeliveryStatus
from db import models as m
from tests.broadcasts.fakes import Call, FakeTransport, check_limits, fake_sleep
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
    first = app.broadcast_sender({"telegram": fake}, clock, fake_sleep(clock), limits)
    task = asyncio.create_task(first.run_until_empty())
    fake.notify_at = 250
    await fake.reached.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    del first  # a new process: nothing of the old sender survives but the database
    assert 250 <= len(fake.received) < 590

    second = app.broadcast_sender({"telegram": fake}, clock, fake_sleep(clock), limits)
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


async def test_a_429_pauses_the_channel_for_retry_after_and_the_same_message_ends_sent(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    school = await make_school(app, classes=1, per_class=12)
    bid = await _broadcast(app, school, school.class_ids)

    class FifthIs429(FakeTransport):
        async def deliver(self, address, replies):  # type: ignore[no-untyped-def]
            if len(self.calls) == 4:
                self.calls.append(Call(self.clock(), address.chat_id, DeliveryStatus.RETRY))
                return DeliveryResult(DeliveryStatus.RETRY, retry_after=3.0, error="Too Many Requests")
            return await super().deliver(address, replies)

    fake = FifthIs429("telegram", clock)
    limits = {"telegram": ChannelLimits(per_second=25, max_in_flight=1)}
    await app.broadcast_sender({"telegram": fake}, clock, fake_sleep(clock), limits).run_until_empty()
    fifth = fake.calls[4]
    assert fifth.status is DeliveryStatus.RETRY
    assert fake.calls[5].at - fifth.at >= dt.timedelta(seconds=3)
    assert fifth.chat_id in fake.received and len(fake.received) == 12 == len(set(fake.received))
    rows = await delivery_rows(app, bid)
    retried = next(r for r in rows if r.chat_id == fifth.chat_id)
    assert (retried.status, retried.attempts) == ("sent", 2)


async def test_a_hard_crash_mid_send_leaves_that_one_unknown_and_it_is_not_sent_again(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    school = await make_school(app, classes=1, per_class=10)
    bid = await _broadcast(app, school, school.class_ids)
    hang = asyncio.Event()

    class DiesOnThird(FakeTransport):
        async def deliver(self, address, replies):  # type: ignore[no-untyped-def]
            result = await super().deliver(address, replies)
            if len(self.received) == 3:
                hang.set()
                await asyncio.Event().wait()  # the platform has it; the process dies before we hear back
            return result

    fake = DiesOnThird("telegram", clock)
    limits = {"telegram": ChannelLimits(per_second=25, max_in_flight=1)}
    first = app.broadcast_sender({"telegram": fake}, clock, fake_sleep(clock), limits)
    task = asyncio.create_task(first.run_until_empty())
    await hang.wait()
    for t in first.in_flight:  # a hard crash: nothing gets to finish
        t.cancel()
    task.cancel()
    await asyncio.gather(task, *first.in_flight, return_exceptions=True)
    assert collections.Counter(r.status for r in await delivery_rows(app, bid))["sending"] == 1

    clock.advance(seconds=301)  # longer than any transport call may take
    plain = FakeTransport("telegram", clock)
    await app.broadcast_sender({"telegram": plain}, clock, fake_sleep(clock), limits).run_until_empty()
    assert len(fake.received) == 3 and len(plain.received) == 7
    assert set(fake.received).isdisjoint(plain.received)  # nobody got it twice
    rows = await delivery_rows(app, bid)
    assert collections.Counter(r.status for r in rows) == {"sent": 9, "unknown": 1}
    async with app.uow_factory() as uow:
        view = await broadcasts.progress(uow, await uow.broadcasts.get(bid))  # type: ignore[arg-type]
    assert (view.total.delivered, view.total.unknown) == (9, 1)


async def test_a_scheduled_broadcast_waits_for_its_time(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    school = await make_school(app, classes=1, per_class=3)
    async with app.uow_factory() as uow:
        await broadcasts.create_broadcast(
            uow,
            school.teacher,
            "practice",
            "an-toan-mang",
            school.class_ids,
            app.content,
            app.clock(),
            send_at=app.clock() + dt.timedelta(hours=2),
            due_on=dt.date(2026, 12, 1),
        )
        await uow.commit()
    fake = FakeTransport("telegram", clock)
    sender = app.broadcast_sender({"telegram": fake}, clock, fake_sleep(clock))
    assert await sender.run_until_empty() == 0 and fake.calls == []
    clock.advance(hours=2)
    assert await sender.run_until_empty() == 3
    assert all("Luyện tập" in r.text and "01/12/2026" in r.text for _a, r in fake.replies)
    assert [r.choice_labels[0] for _a, r in fake.replies] == ["✍️ Làm bài"] * 3


async def test_group_targets_get_at_most_20_a_minute_each(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    from bot.broadcasts.ports import RecipientRec

    school = await make_school(app, classes=1, per_class=1)
    now = app.clock()
    async with app.uow_factory() as uow:
        ids = []
        for _i in range(25):
            bc = await uow.broadcasts.create(school.school_id, None, "lesson", LESSON, school.class_ids, now, None, now)
            await uow.broadcasts.add_deliveries(
                bc.id, [RecipientRec(None, school.class_ids[0], "telegram", None, "-100777", is_group=True)], now
            )
            ids.append(bc.id)
        await uow.commit()
    fake = FakeTransport("telegram", clock)
    await app.broadcast_sender({"telegram": fake}, clock, fake_sleep(clock)).run_until_empty()
    times = sorted(c.at for c in fake.calls)
    assert len(times) == 25
    for i in range(len(times) - 20):
        assert times[i + 20] - times[i] >= dt.timedelta(minutes=1)
    assert all(r.prompt is None and "/assigned" in r.text for _a, r in fake.replies)


async def test_two_senders_at_once_never_send_one_delivery_twice(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    school = await make_school(app, classes=1, per_class=120)
    bid = await _broadcast(app, school, school.class_ids)
    fake = FakeTransport("telegram", clock)
    limits = {"telegram": ChannelLimits(per_second=25, max_in_flight=4)}
    a = app.broadcast_sender({"telegram": fake}, clock, fake_sleep(clock), limits)
    b = app.broadcast_sender({"telegram": fake}, clock, fake_sleep(clock), limits)
    sent_a, sent_b = await asyncio.gather(a.run_until_empty(), b.run_until_empty())
    assert sent_a + sent_b == 120
    assert len(fake.received) == 120 == len(set(fake.received))
    assert {r.status for r in await delivery_rows(app, bid)} == {"sent"}


async def test_students_on_two_channels_get_it_on_both_and_count_once(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    school = await make_school(app, classes=1, per_class=20)
    both = school.students[school.class_ids[0]][:12]
    async with app.sessions() as s:
        for uid in both:
            s.add(
                m.ChannelAccount(
                    user_id=uid, channel="zalo", external_id=f"z{uid}", chat_id=f"z{uid}", created_at=app.clock()
                )
            )
        await s.commit()
    bid = await _broadcast(app, school, school.class_ids)
    tg, zl = FakeTransport("telegram", clock), FakeTransport("zalo", clock)
    await app.broadcast_sender({"telegram": tg, "zalo": zl}, clock, fake_sleep(clock)).run_until_empty()
    assert len(tg.received) == 20 and sorted(zl.received) == sorted(f"z{u}" for u in both)
    check_limits(zl.calls, per_second=5)
    async with app.sessions() as s:
        delivered = (
            await s.execute(select(func.count()).select_from(m.Activity).where(m.Activity.kind == "lesson_delivered"))
        ).scalar_one()
    async with app.uow_factory() as uow:
        view = await broadcasts.progress(uow, await uow.broadcasts.get(bid))  # type: ignore[arg-type]
    assert delivered == 20 == view.total.students == view.total.delivered


async def test_the_running_sender_sends_a_scheduled_broadcast_when_its_time_comes(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    school = await make_school(app, classes=1, per_class=3)
    send_at = app.clock() + dt.timedelta(hours=2)
    async with app.uow_factory() as uow:
        await broadcasts.create_broadcast(
            uow, school.teacher, "lesson", LESSON, school.class_ids, app.content, app.clock(), send_at=send_at
        )
        await uow.commit()
    fake = FakeTransport("telegram", clock, notify_at=3)
    stop = asyncio.Event()
    sender = app.broadcast_sender({"telegram": fake}, clock, fake_sleep(clock), poll_seconds=600)
    task = asyncio.create_task(sender.run(stop))
    await fake.reached.wait()
    stop.set()
    await task
    assert len(fake.received) == 3 and min(c.at for c in fake.calls) >= send_at
