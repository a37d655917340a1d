"""REL-5: `python -m bot broadcast send` is killed with SIGKILL in the middle of a broadcast to 200 students on
Telegram (the fake Bot API) and started again.

After the restart every reachable student has the lesson exactly once, except the deliveries that were in the
transport's hands at the kill: those stay `sending` (or become `unknown` once older than the sender's
`stale_after`) and are not sent again — the sender's documented choice (at most once for the message in
flight; the teacher's view reports them as "không rõ"). So: no chat gets the lesson twice, every other
delivery is `sent`, and the unknown ones are no more than the sender's calls in flight."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App
from bot.broadcasts import service as broadcasts
from db import models as m
from db.migrate import upgrade_async
from tests.fakes.content import write_test_content
from tests.fakes.telegram_server import FakeTelegramServer
from tests.reliability.crashkit import BotProcess, bot_env, checker_app, seed_students

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

STUDENTS = 200
LESSON = "an-toan-giao-thong-lower-secondary-1"
MAX_IN_FLIGHT = 8  # broadcast_sender.ChannelLimits.max_in_flight


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as srv:
        yield srv


async def statuses(app: App) -> dict[str, str]:
    async with app.sessions() as s:
        rows = (await s.execute(select(m.Delivery.chat_id, m.Delivery.status))).all()
    return {chat: status for chat, status in rows}


def received(server: FakeTelegramServer) -> Counter[str]:
    return Counter(c.chat_id or "" for c in server.calls("sendMessage") if c.status == 200)


async def test_kill_9_in_the_middle_of_a_broadcast_sends_nothing_twice(
    tmp_path: Path, database_url: str, server: FakeTelegramServer
) -> None:
    write_test_content(tmp_path / "content")
    await upgrade_async(database_url)
    app = checker_app(tmp_path, database_url)
    try:
        class_id, _ids = await seed_students(app, STUDENTS)
        async with app.uow_factory() as uow:
            await broadcasts.create_broadcast(uow, None, "lesson", LESSON, [class_id], app.content, app.clock())
            await uow.commit()
        env = bot_env(tmp_path, server, database_url)

        sender = await BotProcess(tmp_path, env, "broadcast", "send").start()
        while len(received(server)) < STUDENTS * 0.4:
            assert sender.proc is not None and sender.proc.returncode is None, sender.output()[-2000:]
            await asyncio.sleep(0.02)
        await sender.kill9()
        at_kill = await statuses(app)
        got_at_kill = received(server)
        in_flight = {chat for chat, st in at_kill.items() if st == "sending"}

        sender = await BotProcess(tmp_path, env, "broadcast", "send").start()
        assert await sender.wait() == 0, sender.output()[-2000:]
        final = await statuses(app)
        got = received(server)

        print(
            f"\n[{database_url.split(':')[0]}] at the kill: {sum(1 for s in at_kill.values() if s == 'sent')} sent, "
            f"{len(in_flight)} in flight, {len(got_at_kill)} chats had it; after restart: "
            f"{Counter(final.values())}, chats with it {len(got)}, most messages in one chat {max(got.values())}"
        )
        assert len(final) == STUDENTS
        assert max(got.values()) == 1, "a student got the lesson twice"
        assert len(in_flight) <= MAX_IN_FLIGHT
        for chat, status in final.items():
            if chat in in_flight:
                assert status in ("sending", "unknown"), (chat, status)  # not sent again
            else:
                assert status == "sent" and got[chat] == 1, (chat, status)
    finally:
        await app.close()
