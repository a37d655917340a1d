"""A broadcast to 300 OA followers through the real transport: the fake OA's per-second limit is kept (no -32)
and each follower gets the lesson once."""

from __future__ import annotations

import collections

from sqlalchemy import func, select

from bot.app import App
from bot.broadcasts import service as broadcasts
from bot.channels.zalo_oa.client import OAClient
from bot.channels.zalo_oa.transport import OATransport
from bot.core.sendlimit import LocalSendLimit, Pace
from db import models as m
from tests.broadcasts.fakes import fake_sleep
from tests.broadcasts.helpers import make_school
from tests.channels.zalo_oa.conftest import FakeTokens
from tests.conftest import FakeClock
from tests.fakes.zalo_oa import FakeOAServer

LESSON = "an-toan-giao-thong-lower-secondary-1"


async def test_a_broadcast_to_300_followers_keeps_the_oa_limit_and_reaches_each_once(
    app: App, oa: FakeOAServer, clock: FakeClock
) -> None:
    school = await make_school(app, classes=1, per_class=300, channel="zalo_oa")
    followers = app.oa_followers()
    users = [f"u{uid}" for uid in school.students[school.class_ids[0]]]
    for user in users:  # each wrote to the OA this week
        await followers.interacted(oa.oa_id, user, clock())
        oa.last_interaction[user] = clock()
    async with app.uow_factory() as uow:
        await broadcasts.create_broadcast(uow, school.teacher, "lesson", LESSON, school.class_ids, app.content, clock())
        await uow.commit()

    oa.rate_per_second = 5
    oa.rate_clock = lambda: clock().timestamp()
    sleep = fake_sleep(clock)
    limit = LocalSendLimit(Pace(per_second=5, chat_per_second=1000, chat_burst=1000), clock=oa.rate_clock, sleep=sleep)
    client = OAClient(FakeTokens(oa), oa.url)

    async def vi(_address: object) -> object:
        return lambda message: app.i18n.gettext("vi", message)

    transport = OATransport(client, oa.oa_id, vi, limit, followers, clock)  # type: ignore[arg-type]
    start = clock()
    try:
        await app.broadcast_sender({"zalo_oa": transport}, clock, sleep).run_until_empty()
    finally:
        await client.aclose()

    assert oa.errors == []  # never over the limit, never outside a window
    per_user = collections.Counter(s["user_id"] for s in oa.sent)
    assert set(per_user) == set(users) and set(per_user.values()) == {1}
    times = sorted(s["at"].timestamp() for s in oa.sent)
    assert max(sum(1 for t in times[i:] if t < times[i] + 1.0) for i in range(len(times))) <= 5
    assert (clock() - start).total_seconds() >= 300 / 5 - 1  # the pace, not a burst
    async with app.sessions() as s:
        counts = dict((await s.execute(select(m.Delivery.status, func.count()).group_by(m.Delivery.status))).all())
    assert counts == {"sent": 300}
