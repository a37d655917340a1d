"""Tools for the kill -9 tests: a bot subprocess, a roster seeded straight into the database, and an index of
what the fake Telegram server showed each chat (kept incrementally, so 200 waiting students stay cheap)."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sys
import time
from collections import defaultdict
from pathlib import Path

from bot.app import App, build_app
from bot.config import Settings
from bot.content.loader import load_content
from tests.fakes.telegram_server import Call, FakeTelegramServer

SHOWN = {"sendMessage", "editMessageText", "sendDocument"}
FIRST_ID = 500_000  # Telegram user ids (= private chat ids) of the simulated students


def bot_env(tmp_path: Path, server: FakeTelegramServer, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_", "WEBHOOK_", "FLOOD_"))}
    env.update(
        DATABASE_URL=database_url,
        CONTENT_DIR=str(tmp_path / "content"),
        TELEGRAM_BOT_TOKEN=server.token,
        TELEGRAM_API_BASE=server.url,
        TELEGRAM_POLL_TIMEOUT="1",
        SHUTDOWN_GRACE_SECONDS="10",
        # The limiter has its own tests; here the fake server is local and the run should be quick.
        TELEGRAM_RATE_PER_SECOND="2000",
        TELEGRAM_CHAT_PER_SECOND="50",
        BROADCAST_TELEGRAM_PER_SECOND="30",
        # The production flood limit stays on: paced students must never meet it.
        FLOOD_EVENTS="5",
        FLOOD_SECONDS="2",
        **extra,
    )
    return env


class BotProcess:
    """`python -m bot <args>` with its output in a log file; kill9() is a crash, sigterm() a clean stop."""

    def __init__(self, tmp_path: Path, env: dict[str, str], *args: str) -> None:
        self.tmp_path, self.env, self.args = tmp_path, env, args or ("run", "--channel", "telegram")
        self.proc: asyncio.subprocess.Process | None = None
        self.log = tmp_path / "bot.log"

    async def start(self) -> BotProcess:
        out = self.log.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *self.args, cwd=self.tmp_path, env=self.env, stdout=out, stderr=out
        )
        out.close()
        return self

    async def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(self.proc.wait(), 30) == -signal.SIGKILL

    async def sigterm(self) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), 60)

    async def wait(self, timeout: float = 120) -> int:  # noqa: ASYNC109
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def checker_app(tmp_path: Path, database_url: str) -> App:
    """An App in the test process on the bot's database (real clock), to seed and to check rows."""
    settings = Settings(database_url=database_url, content_dir=tmp_path / "content", _env_file=None)  # type: ignore[call-arg]
    return build_app(settings, content=load_content(tmp_path / "content"))


async def seed_students(app: App, n: int) -> tuple[int, list[int]]:
    """One school, one class, `n` onboarded Telegram students with both consents; returns (class id, user ids)."""
    now = app.clock()
    async with app.uow_factory() as uow:
        school = await uow.schools.create("Trường THCS Hòa Bình", now)
        klass = await uow.classes.create(school.id, None, "7A", 7, "2026-2027", "CRASH7A", now)
        ids = []
        for i in range(n):
            ext = str(FIRST_ID + i)
            user = await uow.users.create("telegram", ext, ext, "vi", now)
            await uow.users.update(user.id, display_name=f"Học Sinh {i}", onboarded=True)
            await uow.classes.add_member(user.id, klass.id, now)
            await uow.consents.add(user.id, "child", "in_chat", "2026-01", now)
            await uow.consents.add(user.id, "guardian", "paper_form", "2026-01", now)
            ids.append(user.id)
        await uow.commit()
    return klass.id, ids


class Screens:
    """What each chat was shown (successful sends and edits), indexed as the fake server records calls."""

    def __init__(self, server: FakeTelegramServer) -> None:
        self.server = server
        self._seen = 0
        self.by_chat: dict[str, list[Call]] = defaultdict(list)
        self.not_modified = 0  # edits that repeated the content: answered 400 "message is not modified"

    def pump(self) -> None:
        calls = self.server._calls
        for call in calls[self._seen :]:
            if call.method in SHOWN and call.status == 200:
                self.by_chat[call.chat_id or ""].append(call)
            elif call.method == "editMessageText" and call.status == 400:
                self.not_modified += 1
        self._seen = len(calls)

    def count(self, chat: str) -> int:
        self.pump()
        return len(self.by_chat[chat])

    async def until(self, chat: str, since: int, expect: str, timeout: float = 120.0) -> str:  # noqa: ASYNC109
        """Text of what the chat was shown after `since`, once some message contains `expect`."""
        deadline = time.monotonic() + timeout
        while True:
            self.pump()
            fresh = self.by_chat[chat][since:]
            if any(expect in c.text for c in fresh):
                return "\n\n".join(c.text for c in fresh)
            if time.monotonic() > deadline:
                raise AssertionError(f"chat {chat} never showed {expect!r}; got {[c.text[:60] for c in fresh]}")
            await asyncio.sleep(0.05)

    def adjacent_repeats(self, chat: str) -> int:
        """New messages identical (text and buttons) to the message sent just before them in the chat: what a
        student would see as "the bot said the same thing twice"."""
        sends = [c for c in self.by_chat[chat] if c.method == "sendMessage"]
        return sum(
            1
            for a, b in itertools.pairwise(sends)
            if a.text == b.text and a.params.get("reply_markup") == b.params.get("reply_markup")
        )
