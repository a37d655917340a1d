"""`python -m bot run` with a Telegram and a Zalo token serves both from one process, and one SIGTERM stops
both channels and the background jobs cleanly (exit code 0)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.e2e.helpers import ZALO_TOKEN, until
from tests.fakes.content import write_test_content
from tests.fakes.telegram_server import FakeTelegramServer
from tests.fakes.zalo_server import FakeZaloServer, text_update

pytestmark = pytest.mark.slow


async def test_one_process_serves_telegram_and_zalo_and_stops_on_one_sigterm(tmp_path: Path) -> None:
    write_test_content(tmp_path / "content")
    async with FakeTelegramServer() as tg, FakeZaloServer(token=ZALO_TOKEN, idle_timeout=0.05) as zalo:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_", "WEBHOOK_"))}
        env.update(
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            CONTENT_DIR=str(tmp_path / "content"),
            TELEGRAM_BOT_TOKEN=tg.token,
            TELEGRAM_API_BASE=tg.url,
            TELEGRAM_POLL_TIMEOUT="1",
            ZALO_BOT_TOKEN=ZALO_TOKEN,
            ZALO_API_BASE=zalo.url,
            ZALO_POLL_TIMEOUT="1",
            SHUTDOWN_GRACE_SECONDS="5",
        )
        log = (tmp_path / "bot.log").open("ab")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env, stdout=log, stderr=log
        )
        try:
            tg.enqueue_update(tg.message_update(4242, "/start"))
            zalo.enqueue(text_update("zalo-4243", "/start"))
            await until(lambda: tg.sent(4242) and zalo.sent("zalo-4243"), timeout=60, what="answers on both")
        finally:
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 40)
    assert code == 0, (tmp_path / "bot.log").read_text()
    assert "Em chọn ngôn ngữ" in tg.sent(4242)[0].text
    assert any("Em chọn ngôn ngữ" in t for t in zalo.texts("zalo-4243"))
