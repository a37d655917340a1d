"""`python -m bot run` with a Zalo token, against the fake Zalo server: polling mode and webhook mode."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.channels.zalo.conftest import free_port, option
from tests.fakes.content import write_test_content
from tests.fakes.zalo_server import FakeZaloServer, text_update

TOKEN = "123:TEST"
SECRET = "subprocess-secret"
ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow


class BotProcess:
    def __init__(self, tmp_path: Path, fake: FakeZaloServer, webhook: bool) -> None:
        self.fake, self.webhook = fake, webhook
        self.db = tmp_path / "bot.db"
        self.stderr = tmp_path / "stderr.txt"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("ZALO_", "TELEGRAM_"))},
            "DATABASE_URL": f"sqlite+aiosqlite:///{self.db}",
            "CONTENT_DIR": str(write_test_content(tmp_path / "content")),
            "ZALO_BOT_TOKEN": TOKEN,
            "ZALO_API_BASE": fake.url,
            "LOG_LEVEL": "DEBUG",
        }
        if webhook:
            port = free_port()
            self.env |= {
                "ZALO_WEBHOOK_URL": f"http://127.0.0.1:{port}/zalo/webhook",
                "ZALO_WEBHOOK_SECRET": SECRET,
                "ZALO_WEBHOOK_PORT": str(port),
                "WEBHOOK_HOST": "127.0.0.1",
            }
        self.proc: asyncio.subprocess.Process | None = None
        self.sent_updates = 0

    def seed(self) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "bot", "seed", "demo"], env=self.env, cwd=ROOT, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        found = re.search(r"mã lớp: ([A-Z0-9]+)", out.stdout)
        assert found, out.stdout
        return found.group(1)

    async def start(self) -> None:
        with self.stderr.open("wb") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=self.env, cwd=ROOT, stdout=err, stderr=err
            )
        for _ in range(3000):
            if (self.fake.webhook_url if self.webhook else self.fake.method_calls("getUpdates")) or (
                self.proc.returncode is not None
            ):
                break
            await asyncio.sleep(0.01)
        assert self.proc.returncode is None, self.stderr.read_text()

    async def stop(self) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.proc.wait(), 20)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        return self.proc.returncode or 0

    def _inbox(self) -> tuple[int, int]:
        with sqlite3.connect(self.db) as conn:
            row = conn.execute(
                "SELECT count(*), coalesce(sum(status IN ('pending', 'handled')), 0) FROM inbound_updates"
            ).fetchone()
        return int(row[0]), int(row[1])

    async def say(self, chat: str, text: str) -> str:
        before = len(self.fake.sent(chat))
        update = text_update(chat, text)
        if self.webhook:
            assert await self.fake.post_webhook(update) == 200
        else:
            self.fake.enqueue(update)
        self.sent_updates += 1
        for _ in range(2000):
            stored, unfinished = self._inbox()
            if stored >= self.sent_updates and not unfinished:
                break
            assert self.proc is not None and self.proc.returncode is None, self.stderr.read_text()
            await asyncio.sleep(0.01)
        else:
            raise AssertionError(f"no answer to {text!r}:\n{self.stderr.read_text()[-3000:]}")
        return "\n\n".join(self.fake.texts(chat)[before:])


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZaloServer]:
    async with FakeZaloServer(token=TOKEN, idle_timeout=0.2) as server:
        yield server


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_python_m_bot_run_serves_zalo(tmp_path: Path, zalo: FakeZaloServer, webhook: bool) -> None:
    bot = BotProcess(tmp_path, zalo, webhook)
    class_code = await asyncio.to_thread(bot.seed)
    await bot.start()
    try:
        screen = await bot.say("z1", "/start")
        screen = await bot.say("z1", option(screen, "Tiếng Việt"))
        screen = await bot.say("z1", option(screen, "Em đồng ý"))
        screen = await bot.say("z1", class_code)
        assert "Em đã vào lớp 7A" in screen
        screen = await bot.say("z1", "Phạm Minh Khôi")
        assert "Cảm ơn Phạm Minh Khôi" in screen
        assert "113" in await bot.say("z1", "trợ giúp")
        screen = await bot.say("z1", "/lessons")
        screen = await bot.say("z1", option(screen, "Phòng cháy"))
        screen = await bot.say("z1", "1")
        assert "(1/4)" in screen
        screen = await bot.say("z1", "luyện tập")
        screen = await bot.say("z1", option(screen, "ma túy"))
        for i in range(5):
            assert f"Câu {i + 1}/5" in screen
            screen = await bot.say("z1", option(screen, "Đáp án đúng").lower())
        assert "Em đúng 5/5 câu" in screen
    finally:
        code = await bot.stop()
    log = bot.stderr.read_text()
    assert code == 0, log
    assert TOKEN not in log and "Phạm Minh Khôi" not in log
    assert ("webhook mode" if webhook else "polling mode") in log


def test_webhook_mode_without_a_secret_refuses_to_start(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ZALO_", "TELEGRAM_"))},
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        "CONTENT_DIR": str(write_test_content(tmp_path / "content")),
        "ZALO_BOT_TOKEN": TOKEN,
        "ZALO_API_BASE": "http://127.0.0.1:9",
        "ZALO_WEBHOOK_URL": "https://bot.example.org/zalo/webhook",
    }
    out = subprocess.run(
        [sys.executable, "-m", "bot", "run"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode != 0 and "ZALO_WEBHOOK_SECRET" in out.stderr
