"""The web console served by aiohttp's test server over the real application and database; staff get their
sign-in links by typing /web in the console chat, as they would in Telegram or Zalo."""

from __future__ import annotations

import dataclasses
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.accounts.seed import seed_demo
from bot.app import App, build_app
from bot.channels.console.app import ConsoleSession
from bot.config import Settings
from bot.content.loader import Content
from bot.core.context import CoreSettings
from bot.web.server import make_web_app
from db.base import Base
from tests.conftest import FakeClock

BASE_URL = "https://quanly.example.vn"
LINK = re.compile(re.escape(BASE_URL) + r"/dang-nhap\?t=([A-Za-z0-9_-]+)")


@pytest.fixture
async def web_app(database_url: str, test_content: Content, clock: FakeClock) -> AsyncIterator[App]:
    settings = Settings(database_url=database_url, web_base_url=BASE_URL, _env_file=None)  # type: ignore[call-arg]
    application = build_app(settings, clock=clock, content=test_content, core_settings=CoreSettings())
    async with application.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await seed_demo(application.uow_factory, clock)
    try:
        yield application
    finally:
        await application.close()


@pytest.fixture
async def client(web_app: App, aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]]) -> TestClient[Any, Any]:
    return await aiohttp_client(make_web_app(web_app.web_deps()))


async def link_for(app: App, user: str) -> str:
    """What the bot answers `user` (a demo account: gv, qt, btc) to /web: the token of the link."""
    screen = await ConsoleSession(app.dispatcher, user=user).send("/web")
    found = LINK.search(screen)
    assert found, screen
    return found.group(1)


def origin(client: TestClient[Any, Any]) -> dict[str, str]:
    return {"Origin": str(client.make_url("")).rstrip("/")}


async def sign_in(client: TestClient[Any, Any], token: str) -> None:
    response = await client.post("/dang-nhap", data={"t": token}, headers=origin(client), allow_redirects=False)
    assert response.status == 303, await response.text()
    keep_cookie(client, response)


def keep_cookie(client: TestClient[Any, Any], response: Any) -> None:
    """The cookie is `Secure` (the console's address is HTTPS); the test server speaks plain HTTP, where a
    browser would not send it back, so the test hands it over as the browser would over HTTPS."""
    client.session.cookie_jar.update_cookies({"antt_sid": response.cookies["antt_sid"].value})


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def served(web_app: App) -> AsyncIterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    runner = web.AppRunner(make_web_app(dataclasses.replace(web_app.web_deps(), base_url=url)))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield url
    finally:
        await runner.cleanup()


@pytest.fixture
async def page_served(web_app: App) -> AsyncIterator[str]:
    """The console and the contest page on a real port, Mini App logins checked with the test's bot token."""
    from tests.web.page_helpers import page_deps  # page_helpers imports this module

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    runner = web.AppRunner(make_web_app(dataclasses.replace(page_deps(web_app), base_url=url)))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield url
    finally:
        await runner.cleanup()
