"""The overview of a school or the district shows the figures as last computed at once and computes newer ones in
the background; a teacher's overview is always counted on the spot. Over the real database."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.app import App
from bot.core import activity
from bot.reports import snapshots
from bot.reports.options import ReportOptions
from bot.reports.ports import ReportScope
from bot.reports.service import figures_for, parse_period
from bot.web.background import BACKGROUND, Background
from db import models as m
from tests.conftest import FakeClock
from tests.web.conftest import link_for, sign_in

NUMBERS = itertools.count(1)
LESSONS_OPENED = re.compile(r"<dt>Lượt mở bài</dt><dd>(\d+)</dd>")


async def opened_lessons(app: App, n: int) -> None:
    """`n` new students of the demo class each open a lesson now."""
    now = app.clock()
    async with app.uow_factory() as uow:
        teacher = await uow.users.by_account("console", "gv")
        assert teacher is not None
        klass = (await uow.classes.for_teacher(teacher.id))[0]
        for _ in range(n):
            ident = f"hs-{next(NUMBERS)}"
            user = await uow.users.create("telegram", ident, ident, "vi", now)
            await uow.classes.add_member(user.id, klass.id, now)
            await uow.activity.add_for_student(activity.LESSON_OPENED, now, user.id, topic="ma-tuy")
        await uow.commit()


async def shown(client: TestClient[Any, Any]) -> tuple[int, str]:
    html = await (await client.get("/")).text()
    found = LESSONS_OPENED.search(html)
    assert found, html
    return int(found.group(1)), html


async def test_the_district_overview_shows_the_last_figures_at_once_and_then_the_new_ones(
    web_app: App, client: TestClient[Any, Any], clock: FakeClock
) -> None:
    await opened_lessons(web_app, 2)
    await sign_in(client, await link_for(web_app, "btc"))
    first, html = await shown(client)
    assert first == 2 and "Số liệu tính đến" in html  # computed on the first visit, exact
    assert "<title>Tổng quan – antt-bot</title>" in html and html.count('id="topics"') == 1

    clock.advance(seconds=90)
    await opened_lessons(web_app, 1)
    stale, html = await shown(client)
    assert stale == 2  # the page did not wait for the count
    assert "số liệu mới đang được tính" in html and 'hx-trigger="load delay:5s"' in html

    await client.app[BACKGROUND].idle()
    fresh, html = await shown(client)
    assert fresh == 3 and "số liệu mới đang được tính" not in html
    async with web_app.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(m.FigureSnapshot)) == 1


async def test_a_teacher_sees_every_new_record_at_once(
    web_app: App, client: TestClient[Any, Any], clock: FakeClock
) -> None:
    await opened_lessons(web_app, 1)
    await sign_in(client, await link_for(web_app, "gv"))
    assert (await shown(client))[0] == 1
    await opened_lessons(web_app, 2)
    n, html = await shown(client)
    assert n == 3 and "đang được tính" not in html
    async with web_app.sessions() as s:  # a teacher's classes are counted on the spot, never kept
        assert await s.scalar(select(func.count()).select_from(m.FigureSnapshot)) == 0


async def test_a_snapshot_gives_back_exactly_the_figures_the_database_counts(web_app: App, clock: FakeClock) -> None:
    await opened_lessons(web_app, 3)
    period = parse_period(str(clock().year + 1), ReportOptions())
    async with web_app.uow_factory() as uow:
        school_id = (await uow.users.by_account("console", "qt")).school_id  # type: ignore[union-attr]
        kind = next(iter(activity.WORRY_KINDS))  # a letter to the counsellor: counted by kind, never who
        await uow.activity.add(activity.MAILBOX_WRITTEN, clock(), None, school_id, None, ref=kind)
        await uow.commit()
    async with web_app.uow_factory() as uow:
        counted = await figures_for(uow, ReportScope(school_id=school_id), period)
    scope = ReportScope(school_id=school_id)
    kept = await snapshots.compute(web_app.reader, web_app.uow_factory, scope, period, clock())
    async with web_app.uow_factory() as uow:
        rec = await uow.snapshots.get(snapshots.key_of(ReportScope(school_id=school_id), period))
    assert rec is not None and snapshots.loads(rec.payload) == counted == kept.figures
    assert counted.totals.counts[activity.LESSON_OPENED] == 3 and counted.classes  # not an empty comparison
    assert counted.mailbox == {kind: 1}


async def test_one_process_at_a_time_refreshes_a_snapshot_and_a_dead_claim_lapses(
    web_app: App, clock: FakeClock
) -> None:
    period = parse_period(str(clock().year + 1), ReportOptions())
    await snapshots.compute(web_app.reader, web_app.uow_factory, ReportScope(), period, clock())
    key = snapshots.key_of(ReportScope(), period)
    now = clock()

    async def claim(at: dt.datetime) -> bool:
        async with web_app.uow_factory() as uow:
            won = await uow.snapshots.claim(key, at, at - snapshots.CLAIM_LASTS)
            await uow.commit()
            return won

    assert await asyncio.gather(claim(now), claim(now)) in ([True, False], [False, True])
    assert not await claim(now + dt.timedelta(minutes=4))  # the first process is still at it
    assert await claim(now + dt.timedelta(minutes=6))  # it died: another takes over


async def test_the_job_refreshes_what_people_looked_at_and_forgets_the_rest(web_app: App, clock: FakeClock) -> None:
    period = parse_period(str(clock().year + 1), ReportOptions())
    await snapshots.compute(web_app.reader, web_app.uow_factory, ReportScope(), period, clock())
    assert await snapshots.keep_fresh(web_app.reader, web_app.uow_factory, clock()) == 0  # nothing new
    await opened_lessons(web_app, 2)
    assert await snapshots.keep_fresh(web_app.reader, web_app.uow_factory, clock()) == 1
    async with web_app.uow_factory() as uow:
        rec = await uow.snapshots.get(snapshots.key_of(ReportScope(), period))
    assert rec is not None and snapshots.loads(rec.payload).totals.counts[activity.LESSON_OPENED] == 2

    later = clock() + snapshots.FORGET_AFTER + dt.timedelta(days=1)
    assert await snapshots.keep_fresh(web_app.reader, web_app.uow_factory, later) == 0
    async with web_app.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(m.FigureSnapshot)) == 0


async def test_a_first_count_that_takes_long_shows_a_page_that_waits_for_it(
    web_app: App, client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    await opened_lessons(web_app, 2)
    monkeypatch.setattr(snapshots, "FIRST_WAIT", 0.0)  # a district's first count: longer than the page waits
    await sign_in(client, await link_for(web_app, "btc"))
    response = await client.get("/")
    html = await response.text()
    assert response.status == 200 and "lần đầu số liệu của phạm vi này được tính" in html
    assert 'hx-trigger="every 5s"' in html and "Lượt mở bài" not in html
    await client.app[BACKGROUND].idle()
    assert (await shown(client))[0] == 2  # counted meanwhile, kept: now at once


async def test_a_scope_asked_again_while_it_is_counted_is_counted_once() -> None:
    background = Background()
    started: list[int] = []
    gate = asyncio.Event()

    async def count(n: int) -> int:
        started.append(n)
        await gate.wait()
        return n

    first = background.once("all", lambda: count(1))
    again = background.once("all", lambda: count(2))
    other = background.once("school:1", lambda: count(3))
    await asyncio.sleep(0)
    gate.set()
    assert (await first, await again, await other) == (1, 1, 3) and started == [1, 3]
    assert await background.once("all", lambda: count(4)) == 4  # the first one ended: a new count
