"""REL-1 (iii) through the real Telegram channel: an update whose replies Telegram keeps refusing (5xx) is
retried a few times, then moved to the dead letters with one log line; the worker is not stuck on it and the
same student is served normally once Telegram answers again."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import select

from bot.app import App
from db import models as m
from tests.channels.telegram.conftest import ChatUser, RunningBot, configure, wait_handled
from tests.fakes.telegram_server import FakeTelegramServer
from tests.reliability.crashkit import FIRST_ID, seed_students

pytestmark = pytest.mark.reliability


async def no_wait(_seconds: float) -> None:
    await asyncio.sleep(0)


async def test_an_update_that_keeps_failing_goes_to_dead_letters(app: App, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    await seed_students(app, 1)
    async with FakeTelegramServer() as server:
        configure(app, server)
        bot = await RunningBot(app, server).start()
        try:
            while bot.channel is None:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            # Retries happen at once here; their number and order are what is checked, not their pace.
            bot.channel.limiter.sleep = no_wait
            bot.channel.worker.retry_base_seconds = 0.01
            bot.channel.worker.max_attempts = 3
            server.fail_next("sendMessage", 502, "Bad Gateway", chat_id=FIRST_ID, times=None)

            student = ChatUser(app, server, FIRST_ID)
            update = server.enqueue_update(server.message_update(FIRST_ID, "/help"))
            await wait_handled(app, update["update_id"])
            async with app.sessions() as s:
                row = (
                    await s.execute(
                        select(m.InboundUpdate).where(m.InboundUpdate.external_id == str(update["update_id"]))
                    )
                ).scalar_one()
            assert row.status == "dead" and row.attempts == 3
            dead_lines = [r for r in caplog.records if "dead letters" in r.getMessage()]
            assert len(dead_lines) == 1 and "Học Sinh" not in caplog.text

            server.clear_failures()
            assert "115" in await student.send("/help")  # the help screen, with the emergency numbers
        finally:
            await bot.stop()
