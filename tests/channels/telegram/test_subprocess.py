"""`python -m bot run` with TELEGRAM_BOT_TOKEN and TELEGRAM_API_BASE set serves a student against a Bot API
server it did not make: polling, then webhook mode with the secret; SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.channels.telegram.webhook import SECRET_HEADER
from tests.channels.telegram.test_webhook import free_port
from tests.fakes.content import write_test_content
from tests.fakes.telegram_server import FakeTelegramServer

pytestmark = pytest.mark.slow
SECRET = "subprocess-webhook-secret-0123456789abcdef"


class Student:
    """Types and taps in a private chat, and waits for what the bot sends back (the process is out of reach)."""

    def __init__(self, server: FakeTelegramServer, user_id: int, hook: str | None = None) -> None:
        self.server, self.user_id, self.hook = server, user_id, hook

    async def _deliver(self, update: dict[str, Any], expect: str) -> str:
        before = len(self.server.sent(self.user_id))
        if self.hook is None:
            self.server.enqueue_update(update)
        else:
            update.setdefault("update_id", self.server._next_update_id)
            self.server._next_update_id += 1
            async with (
                aiohttp.ClientSession() as session,
                session.post(self.hook, json=update, headers={SECRET_HEADER: SECRET}) as resp,
            ):
                assert resp.status == 200
        await self.server.wait_for(lambda s: any(expect in c.text for c in s.sent(self.user_id)[before:]), timeout=20)
        return "\n\n".join(c.text for c in self.server.sent(self.user_id)[before:])

    async def send(self, text: str, expect: str) -> str:
        return await self._deliver(self.server.message_update(self.user_id, text), expect)

    async def tap(self, label_part: str, expect: str) -> str:
        found = [
            (mid, msg)
            for (chat, mid), msg in self.server.messages.items()
            if chat == str(self.user_id) and msg.get("reply_markup")
        ]
        mid, msg = max(found, key=lambda x: x[0])
        buttons = [b for row in msg["reply_markup"]["inline_keyboard"] for b in row]
        data = next((b["callback_data"] for b in buttons if label_part in b["text"]), None)
        if data is None:  # a lettered answer: find its letter in the text
            letter = next(
                m.group(1)
                for line in msg["text"].splitlines()
                if (m := re.match(r"^([A-J])\. (.*)$", line)) and label_part in m.group(2)
            )
            data = next(b["callback_data"] for b in buttons if b["text"] == letter)
        return await self._deliver(self.server.callback_update(self.user_id, data, mid), expect)


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as srv:
        yield srv


def environment(tmp_path: Path, server: FakeTelegramServer, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_", "WEBHOOK_"))}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        CONTENT_DIR=str(tmp_path / "content"),
        TELEGRAM_BOT_TOKEN=server.token,
        TELEGRAM_API_BASE=server.url,
        TELEGRAM_POLL_TIMEOUT="1",
        SHUTDOWN_GRACE_SECONDS="5",
        TELEGRAM_CHAT_PER_SECOND="20",
        **extra,
    )
    return env


async def start_bot(tmp_path: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    log = (tmp_path / "bot.log").open("ab")
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env, stdout=log, stderr=log
    )


async def stop_bot(proc: asyncio.subprocess.Process, tmp_path: Path) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(proc.wait(), 40)
    assert code == 0, (tmp_path / "bot.log").read_text()


async def seed(tmp_path: Path, env: dict[str, str]) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "seed", "demo", cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    match = re.search(r"mã lớp: (\w+)", out.decode())
    assert proc.returncode == 0 and match, out
    return match.group(1)


async def a_student_session(student: Student, code: str) -> None:
    await student.send(f"/start {code}", "Em chọn ngôn ngữ nhé")
    await student.tap("Tiếng Việt", "Em có đồng ý không?")
    await student.tap("Em đồng ý", "Em đã vào lớp 7A")
    await student.send("Đỗ Minh Khoa", "Cảm ơn Đỗ Minh Khoa")
    screen = await student.send("/help", "• 115 –")
    assert all(f"• {n} –" in screen for n in ("111", "112", "113", "114", "115"))
    await student.send("/lessons", "Em muốn học chủ đề nào?")
    await student.tap("An toàn giao thông", "Em chọn một bài nhé")
    await student.tap("(lower_secondary)", "(1/4)")
    for card in (2, 3, 4):
        await student.tap("Tiếp theo", f"({card}/4)")
    await student.tap("Làm câu hỏi kiểm tra", "Câu 1/2")
    await student.tap("Đáp án đúng", "Câu 2/2")
    await student.tap("Đáp án đúng", "Em đúng 2/2 câu")
    await student.send("/practice", "Em muốn luyện tập chủ đề nào?")
    await student.tap("ma túy", "Câu 1/5")
    for i in range(5):
        expect = f"Câu {i + 2}/5" if i < 4 else "Em đúng 4/5 câu"
        await student.tap("sai một" if i == 0 else "Đáp án đúng", expect)


async def test_polling_then_webhook_in_a_real_process(tmp_path: Path, server: FakeTelegramServer) -> None:
    write_test_content(tmp_path / "content")
    env = environment(tmp_path, server)
    code = await seed(tmp_path, env)

    proc = await start_bot(tmp_path, env)
    try:
        await server.wait_for(lambda s: s.calls("getUpdates"), timeout=30)
        await a_student_session(Student(server, 7001), code)
    finally:
        await stop_bot(proc, tmp_path)

    port = free_port()
    hook_env = environment(
        tmp_path,
        server,
        TELEGRAM_WEBHOOK_URL="https://bot.example.edu.vn/tg",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        WEBHOOK_HOST="127.0.0.1",
        WEBHOOK_PORT=str(port),
    )
    proc = await start_bot(tmp_path, hook_env)
    try:
        await server.wait_for(lambda s: s.calls("setWebhook"), timeout=30)
        assert server.webhook["secret_token"] == SECRET
        await a_student_session(Student(server, 7002, hook=f"http://127.0.0.1:{port}/tg"), code)
    finally:
        await stop_bot(proc, tmp_path)


async def test_webhook_mode_without_a_secret_does_not_start(tmp_path: Path, server: FakeTelegramServer) -> None:
    write_test_content(tmp_path / "content")
    env = environment(tmp_path, server, TELEGRAM_WEBHOOK_URL="https://bot.example.edu.vn/tg")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    _out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode != 0 and b"TELEGRAM_WEBHOOK_SECRET" in err
    assert server.calls() == []
