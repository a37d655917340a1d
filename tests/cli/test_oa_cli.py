"""`python -m bot zalo-oa authorize | status` as an operator runs them, against the fake Zalo OAuth server: the
consent URL with PKCE, the pasted redirect, the tokens stored encrypted, and never a token on the screen."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet

from bot.channels.zalo_oa.oauth import ZaloOAuth
from bot.runtime.oa_cli import code_from, pkce_pair
from bot.runtime.oa_grants import GrantRefused, GrantUnavailable
from tests.fakes.zalo_oauth import FakeZaloOAuth, challenge_of
from tests.runtime.oa_kit import oa_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloOAuth]:
    server = await FakeZaloOAuth().start()
    try:
        yield server
    finally:
        await server.stop()


async def start(tmp_path: Path, env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("ZALO_", "DATABASE_URL", "TELEGRAM_"))}
    full.update(env, PYTHONIOENCODING="utf-8")
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "zalo-oa",
        *args,
        cwd=tmp_path,
        env=full,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def run(tmp_path: Path, env: dict[str, str], *args: str, stdin: str = "") -> tuple[int, str, str]:
    proc = await start(tmp_path, env, *args)
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), 120)
    return proc.returncode or 0, out.decode(), err.decode()


async def authorize(tmp_path: Path, env: dict[str, str], fake: FakeZaloOAuth, pasted: str = "") -> tuple[int, str]:
    """Runs `authorize`, consents at the fake with the printed URL's challenge, pastes the redirect address."""
    proc = await start(tmp_path, env, "authorize")
    assert proc.stdout is not None and proc.stdin is not None
    seen, line = "", ""
    while "/v4/oa/permission" not in line:
        line = (await asyncio.wait_for(proc.stdout.readline(), 120)).decode()
        assert line, seen
        seen += line
    url = urlsplit(line.strip())
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{fake.url}/v4/oa/permission"
    assert query["app_id"] == fake.app_id and query["redirect_uri"] == env["ZALO_OA_REDIRECT_URI"]
    code = fake.consent(query["code_challenge"])
    redirect = f"{env['ZALO_OA_REDIRECT_URI']}?oa_id=579745863508352884&code={code}&state={query['state']}"
    out, err = await asyncio.wait_for(proc.communicate((pasted or redirect).encode() + b"\n"), 120)
    return proc.returncode or 0, seen + out.decode() + err.decode()


async def test_authorize_then_status_stores_encrypted_tokens_and_shows_no_secret(
    tmp_path: Path, fake: FakeZaloOAuth
) -> None:
    env = oa_env(f"sqlite:///{tmp_path / 'oa.db'}", fake)
    code, out = await authorize(tmp_path, env, fake)
    assert code == 0, out
    assert "Đã lưu quyền truy cập của Official Account" in out and "mã hóa" in out
    assert fake.exchanges == 1  # the code verifier matched the challenge in the URL (PKCE S256)
    status_code, status, err = await run(tmp_path, env, "status")
    assert status_code == 0, status + err
    assert "đã lưu token" in status and "còn hạn" in status and "Làm mới lần cuối: chưa lần nào" in status
    for text in (out, status, err):
        assert (
            "AT-" not in text and "RT-" not in text and fake.secret not in text and env["ZALO_OA_TOKEN_KEY"] not in text
        )
    # With another key the status says so, and a new authorize refuses to overwrite without --replace.
    wrong = {**env, "ZALO_OA_TOKEN_KEY": Fernet.generate_key().decode()}
    status_code, status, _ = await run(tmp_path, wrong, "status")
    assert status_code == 1 and "KHÓA SAI" in status
    code, out = await authorize(tmp_path, wrong, fake)
    assert code == 2 and "--replace" in out and "không mở được" in out
    _, status, _ = await run(tmp_path, env, "status")
    assert "đã lưu token (lần thứ 1" in status  # untouched


async def test_a_paste_without_our_code_stores_nothing(tmp_path: Path, fake: FakeZaloOAuth) -> None:
    env = oa_env(f"sqlite:///{tmp_path / 'oa.db'}", fake)
    other = f"{env['ZALO_OA_REDIRECT_URI']}?code=abc&state=not-ours"
    code, out = await authorize(tmp_path, env, fake, pasted=other)
    assert code == 1 and "Không thấy mã cấp quyền" in out and fake.exchanges == 0
    code, out = await authorize(tmp_path, env, fake, pasted="code-that-zalo-never-gave")
    assert code == 1 and "Zalo từ chối mã cấp quyền" in out
    status_code, status, _ = await run(tmp_path, env, "status")
    assert status_code == 1 and "Chưa có token Zalo OA" in status


async def test_missing_settings_are_named(tmp_path: Path, fake: FakeZaloOAuth) -> None:
    env = oa_env(f"sqlite:///{tmp_path / 'oa.db'}", fake)
    del env["ZALO_OA_TOKEN_KEY"], env["ZALO_OA_REDIRECT_URI"]
    code, _, err = await run(tmp_path, env, "status")
    assert code == 2 and "Chưa đặt ZALO_OA_TOKEN_KEY, ZALO_OA_REDIRECT_URI" in err and "Traceback" not in err


def test_the_code_is_taken_from_the_pasted_address_or_alone() -> None:
    assert code_from("https://truong.example.vn/cb?code=Abc-1_x&state=s1&oa_id=9", "s1") == "Abc-1_x"
    assert code_from("  Abc-1_x \n", "s1") == "Abc-1_x"
    assert code_from("https://truong.example.vn/cb?code=Abc&state=other", "s1") is None
    assert code_from("https://truong.example.vn/cb?error=access_denied&state=s1", "s1") is None
    assert code_from("", "s1") is None and code_from("tôi không biết", "s1") is None
    verifier, challenge = pkce_pair()
    assert len(verifier) == 43 and challenge == challenge_of(verifier) and "=" not in challenge


async def test_the_oauth_client_reads_zalo_answers(fake: FakeZaloOAuth) -> None:
    oauth = ZaloOAuth(fake.url, fake.app_id, fake.secret)
    wrong_secret = ZaloOAuth(fake.url, fake.app_id, "not-the-secret")
    try:
        first = fake.issue()
        pair = await oauth.refresh(first.refresh_token)
        assert pair.expires_in == 3600 and fake.access_valid(pair.access_token)  # from the quoted "3600"
        assert pair.access_token not in repr(pair)
        with pytest.raises(GrantRefused):  # single use
            await oauth.refresh(first.refresh_token)
        with pytest.raises(GrantUnavailable):  # a configuration error does not condemn the refresh token
            await wrong_secret.refresh(pair.refresh_token)
        assert fake.refresh_valid(pair.refresh_token)
        for body in ({"error": -118, "message": "invalid_grant"}, {"error": "invalid_grant"}):
            fake.fail_next = [(200, body)]
            with pytest.raises(GrantRefused):
                await oauth.refresh(pair.refresh_token)
        for status, body in ((200, {"error": -32, "message": "limit"}), (500, {}), (200, {"access_token": "x"})):
            fake.fail_next = [(status, body)]
            with pytest.raises(GrantUnavailable):
                await oauth.refresh(pair.refresh_token)
        fake.fail_next = [
            (
                200,
                {"access_token": "a", "refresh_token": "r", "expires_in": 90000, "refresh_token_expires_in": "7776000"},
            )
        ]
        assert (await oauth.refresh(pair.refresh_token)).refresh_expires_in == 7776000
    finally:
        await oauth.aclose()
        await wrong_secret.aclose()
