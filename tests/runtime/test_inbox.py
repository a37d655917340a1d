"""The durable inbox: stored before acknowledged, handled once, replies sent after the commit, dead letters."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App
from bot.core.events import ChannelAddress, IncomingEvent
from bot.core.replies import Reply
from bot.runtime.inbox import InboxWorker
from db import models as m


def parse(payload: dict[str, Any]) -> IncomingEvent | None:
    if payload.get("ignore"):
        return None
    addr = ChannelAddress("test", str(payload["user"]), str(payload["user"]))
    return IncomingEvent.text_message(addr, payload["text"])


class CollectingSender:
    def __init__(self, fail_times: int = 0) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail_times = fail_times

    async def __call__(self, event: IncomingEvent, replies: list[Reply]) -> None:
        if self.fail_times:
            self.fail_times -= 1
            raise ConnectionError("platform unavailable")
        self.sent += [(event.address.user_id, r.text) for r in replies]


async def run_until_idle(worker: InboxWorker) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(worker.started.wait(), 10)
    await asyncio.wait_for(worker.idle(), 10)
    stop.set()
    await task


async def inbox_rows(app: App) -> list[m.InboundUpdate]:
    async with app.sessions() as s:
        return list((await s.execute(select(m.InboundUpdate).order_by(m.InboundUpdate.id))).scalars())


async def test_the_same_update_twice_is_stored_and_answered_once(app: App) -> None:
    sender = CollectingSender()
    worker = app.inbox_worker("test", "bot1", parse, sender)
    results = await asyncio.gather(*(worker.submit("u-1", {"user": 7, "text": "/help"}) for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    await run_until_idle(worker)
    assert len(sender.sent) == 1 and "111" in sender.sent[0][1]
    rows = await inbox_rows(app)
    assert [(r.external_id, r.status) for r in rows] == [("u-1", "done")]


async def test_after_a_crash_pending_updates_are_handled_and_handled_ones_are_sent(app: App) -> None:
    # A previous process stored two updates, handled the first (state and replies committed) and died.
    first = app.inbox_worker("test", "bot1", parse, CollectingSender())
    await first.submit("a", {"user": 1, "text": "/start"})
    await first.submit("b", {"user": 2, "text": "/help"})
    rows = await inbox_rows(app)
    assert await app.dispatcher.handle(parse(rows[0].payload), inbox_id=rows[0].id)  # type: ignore[arg-type]

    sender = CollectingSender()
    restarted = app.inbox_worker("test", "bot1", parse, sender)
    await run_until_idle(restarted)
    assert sorted(u for u, _ in sender.sent) == ["1", "2"]
    assert [r.status for r in await inbox_rows(app)] == ["done", "done"]
    async with app.sessions() as s:
        users = (await s.execute(select(m.ChannelAccount))).scalars().all()
        assert len(users) == 2  # the first update was not applied a second time


async def test_an_update_that_keeps_failing_goes_to_dead_letters(app: App, caplog: pytest.LogCaptureFixture) -> None:
    sender = CollectingSender(fail_times=10)
    worker = app.inbox_worker("test", "bot1", parse, sender, max_attempts=3, retry_base_seconds=0.01)
    await worker.submit("x", {"user": 3, "text": "/help"})
    with caplog.at_level(logging.ERROR):
        await run_until_idle(worker)
    rows = await inbox_rows(app)
    assert rows[0].status == "dead" and rows[0].attempts == 3 and "ConnectionError" in (rows[0].error or "")
    assert any("dead letters" in r.getMessage() for r in caplog.records)


async def test_a_transient_send_failure_is_retried_without_handling_twice(app: App) -> None:
    sender = CollectingSender(fail_times=1)
    worker = app.inbox_worker("test", "bot1", parse, sender, retry_base_seconds=0.01)
    await worker.submit("y", {"user": 4, "text": "/start"})
    await run_until_idle(worker)
    assert len(sender.sent) == 1 and "Choose your language" in sender.sent[0][1]
    assert [r.status for r in await inbox_rows(app)] == ["done"]


async def test_ignored_updates_are_marked_done_without_replies(app: App) -> None:
    sender = CollectingSender()
    worker = app.inbox_worker("test", "bot1", parse, sender)
    await worker.submit("z", {"ignore": True})
    await run_until_idle(worker)
    assert sender.sent == [] and [r.status for r in await inbox_rows(app)] == ["done"]


async def test_with_several_processes_a_fresh_row_is_left_to_the_one_handling_it(app: App, clock: Any) -> None:
    # Webhook mode, two processes on one inbox: the first has handled an update and is sending its replies.
    first = app.inbox_worker("test", "bot1", parse, CollectingSender())
    await first.submit("a", {"user": 1, "text": "/help"})
    rows = await inbox_rows(app)
    assert await app.dispatcher.handle(parse(rows[0].payload), inbox_id=rows[0].id)  # type: ignore[arg-type]

    other = app.inbox_worker("test", "bot1", parse, CollectingSender(), sweep_min_age_seconds=60)
    assert await other.sweep() == 0  # not taken over: its replies would go out twice
    clock.advance(seconds=61)  # the first process died: now the row is taken over and its replies sent
    sender = CollectingSender()
    late = app.inbox_worker("test", "bot1", parse, sender, sweep_min_age_seconds=60)
    await run_until_idle(late)
    assert [u for u, _ in sender.sent] == ["1"]
    assert [r.status for r in await inbox_rows(app)] == ["done"]


async def test_a_batch_is_stored_in_one_go_and_each_update_answered_once(app: App) -> None:
    sender = CollectingSender()
    worker = app.inbox_worker("test", "bot1", parse, sender)
    batch = [(f"u-{i}", {"user": i, "text": "/help"}) for i in range(20)]
    assert await worker.submit_many(batch) == [True] * 20
    assert await worker.submit_many(batch[:3]) == [False] * 3  # a redelivered batch stores nothing again
    await run_until_idle(worker)
    assert sorted(int(u) for u, _ in sender.sent) == list(range(20))
    assert {r.status for r in await inbox_rows(app)} == {"done"} and len(await inbox_rows(app)) == 20


async def test_after_the_database_server_drops_our_connections_updates_are_still_handled_once(app: App) -> None:
    """No ping before each checkout: a connection PostgreSQL closed fails once, and the inbox tries again."""
    if app.engine.dialect.name != "postgresql":
        pytest.skip("a server-side disconnect is a PostgreSQL matter")
    from sqlalchemy import text

    sender = CollectingSender()
    worker = app.inbox_worker("test", "bot1", parse, sender, retry_base_seconds=0.01)
    await worker.submit("before", {"user": 5, "text": "/help"})
    await run_until_idle(worker)
    # Another session ends every connection of ours (a server restart does the same).
    from db.session import create_engine

    admin_url = app.engine.url.set(database="postgres").render_as_string(hide_password=False)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db"),
            {"db": app.engine.url.database},
        )
    await admin.dispose()
    try:
        await worker.submit("after", {"user": 5, "text": "/help"})
    except Exception:  # the store met a dropped connection: the platform delivers the update again
        await worker.submit("after", {"user": 5, "text": "/help"})
    await run_until_idle(worker)
    rows = await inbox_rows(app)
    assert [(r.external_id, r.status) for r in rows] == [("before", "done"), ("after", "done")]
    assert len(sender.sent) == 2
