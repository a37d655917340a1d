"""`python -m bot run --channel zalo_oa` as a process: the signed webhook listens, takes a good event into the
inbox, refuses a forged one, and stops cleanly on SIGINT. Without an OAuth token the reply waits in the inbox
(handled, not lost) and the log says what to run; after `zalo-oa authorize` (against the fake OAuth server, which
the fake OA trusts) the reply goes out with the stored token."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sqlite3
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.channels.zalo_oa.conftest import free_port
from tests.cli.test_oa_cli import authorize
from tests.fakes.content import write_test_content
from tests.fakes.zalo_oa import FakeOAServer
from tests.fakes.zalo_oauth import FakeZaloOAuth
from tests.runtime.oa_kit import oa_env

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow


async def test_the_oa_channel_runs_as_a_process(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "bot.db"
    log = tmp_path / "stderr.txt"
    async with FakeOAServer(clock=lambda: dt.datetime.now(dt.UTC)) as fake:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("ZALO_", "TELEGRAM_"))},
            "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
            "CONTENT_DIR": str(write_test_content(tmp_path / "content")),
            "ZALO_OA_APP_ID": fake.app_id,
            "ZALO_OA_SECRET_KEY": fake.secret,
            "ZALO_OA_ID": fake.oa_id,
            "ZALO_OA_API_BASE": fake.url,
            "ZALO_OA_WEBHOOK_PORT": str(port),
            "ZALO_OA_TOKEN_KEY": Fernet.generate_key().decode(),  # a key, but no token authorized yet
            "WEBHOOK_HOST": "127.0.0.1",
        }
        fake.webhook_url = f"http://127.0.0.1:{port}/zalo-oa/webhook"
        with log.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--channel", "zalo_oa", env=env, cwd=ROOT, stdout=err, stderr=err
            )
        try:
            for _ in range(3000):
                if "webhook listening" in log.read_text() or proc.returncode is not None:
                    break
                await asyncio.sleep(0.01)
            assert proc.returncode is None, log.read_text()
            assert await fake.post_event(fake.text_event("ou1", "/help", msg_id="m-1")) == 200
            assert await fake.post_event(fake.text_event("ou1", "/help"), secret="forged") == 401
            for _ in range(500):
                if "zalo-oa authorize" in log.read_text():
                    break
                await asyncio.sleep(0.01)
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGINT)
            assert await asyncio.wait_for(proc.wait(), 30) == 0, log.read_text()
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT channel, bot_id, external_id, status FROM inbound_updates").fetchall()
        followers = conn.execute("SELECT oa_id, user_id FROM oa_followers").fetchall()
    assert rows == [("zalo_oa", fake.oa_id, "m:m-1", "handled")]  # its reply kept for when a token comes
    assert followers == [(fake.oa_id, "ou1")]
    assert "python -m bot zalo-oa authorize" in log.read_text() and fake.sent == []


async def test_without_the_token_key_the_oa_channel_says_so_and_starts_nothing(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ZALO_", "TELEGRAM_"))},
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "ZALO_OA_APP_ID": "app",
        "ZALO_OA_SECRET_KEY": "secret",
        "ZALO_OA_ID": "oa",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--channel", "zalo_oa", env=env, cwd=ROOT, stderr=asyncio.subprocess.PIPE
    )
    _out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1
    assert err.decode().strip().startswith("Thiếu ZALO_OA_TOKEN_KEY") and "Traceback" not in err.decode()
    assert not (tmp_path / "bot.db").exists()  # nothing was started, not even the database


async def test_authorize_then_run_answers_a_student_with_the_stored_token(tmp_path: Path) -> None:
    """The operator's two commands as processes: `zalo-oa authorize` stores the pair, `run --channel zalo_oa`
    opens it from the database and the reply reaches the OA with that access token."""
    port = free_port()
    db = tmp_path / "bot.db"
    log = tmp_path / "stderr.txt"
    async with FakeOAServer(clock=lambda: dt.datetime.now(dt.UTC)) as fake:
        oauth = await FakeZaloOAuth(app_id=fake.app_id).start()
        fake.accepts = oauth.access_valid  # the OA takes the tokens the OAuth server issued
        try:
            tokens_env = oa_env(f"sqlite+aiosqlite:///{db}", oauth)
            code, out = await authorize(tmp_path, tokens_env, oauth)
            assert code == 0 and oauth.exchanges == 1, out
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith(("ZALO_", "TELEGRAM_"))},
                **tokens_env,
                "CONTENT_DIR": str(write_test_content(tmp_path / "content")),
                "ZALO_OA_SECRET_KEY": fake.secret,
                "ZALO_OA_ID": fake.oa_id,
                "ZALO_OA_API_BASE": fake.url,
                "ZALO_OA_WEBHOOK_PORT": str(port),
                "WEBHOOK_HOST": "127.0.0.1",
            }
            fake.webhook_url = f"http://127.0.0.1:{port}/zalo-oa/webhook"
            with log.open("wb") as err:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bot",
                    "run",
                    "--channel",
                    "zalo_oa",
                    env=env,
                    cwd=ROOT,
                    stdout=err,
                    stderr=err,
                )
            try:
                for _ in range(3000):
                    if "webhook listening" in log.read_text() or proc.returncode is not None:
                        break
                    await asyncio.sleep(0.01)
                assert proc.returncode is None, log.read_text()
                assert await fake.post_event(fake.text_event("ou1", "/help", msg_id="m-1")) == 200
                for _ in range(3000):
                    if fake.sent:
                        break
                    await asyncio.sleep(0.01)
            finally:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGINT)
                assert await asyncio.wait_for(proc.wait(), 30) == 0, log.read_text()
        finally:
            await oauth.stop()
    assert fake.sent and fake.sent[0]["user_id"] == "ou1" and fake.texts("ou1"), log.read_text()
    assert oauth.access_valid(fake.sent[0]["token"]) and fake.errors == []
    assert oauth.refreshes == 0  # the authorized pair was used as stored, no refresh needed
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT external_id, status FROM inbound_updates").fetchall()
        [sealed] = conn.execute("SELECT sealed FROM oa_tokens").fetchone()
    assert rows == [("m:m-1", "done")]
    assert fake.sent[0]["token"] not in sealed and fake.sent[0]["token"] not in log.read_text()
