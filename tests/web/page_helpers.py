"""Helpers of the contest page's tests: students of the demo class, Telegram initData signed with a known token,
the page's one-time link as the chat gives it, a client that keeps the page's session."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import re
from typing import Any
from urllib.parse import urlencode

from aiohttp.test_utils import TestClient

from bot.app import App
from bot.channels.telegram.webapp import init_data_checker
from bot.web.render import WebDeps
from tests.contests.helpers import Chat
from tests.web.conftest import BASE_URL

TOKEN = "123456:TEST-token-for-the-mini-app"
PAGE_LINK = re.compile(re.escape(BASE_URL) + r"/thi/vao\?t=([A-Za-z0-9_-]+)")


def page_deps(app: App) -> WebDeps:
    return dataclasses.replace(app.web_deps(), check_init_data=init_data_checker(TOKEN))


async def add_students(app: App, names: list[str], channel: str = "zalo", guardian: bool = True) -> list[Chat]:
    """Students of the demo class with their consents (the guardian's unless told), each with a chat."""
    now = app.clock()
    chats = []
    async with app.uow_factory() as uow:
        klass = (await uow.classes.for_teacher((await uow.users.by_account("console", "gv")).id))[0]  # type: ignore[union-attr]
        for i, name in enumerate(names):
            ext = f"{channel}{i}"
            user = await uow.users.create(channel, ext, ext, "vi", now)
            await uow.users.update(user.id, display_name=name, onboarded=True)
            await uow.classes.add_member(user.id, klass.id, now)
            await uow.consents.add(user.id, "child", "in_chat", "2026-01", now)
            if guardian:
                await uow.consents.add(user.id, "guardian", "paper_form", "2026-01", now)
            chats.append(Chat(app, channel, ext))
        await uow.commit()
    return chats


def sign_init_data(fields: dict[str, Any], token: str = TOKEN) -> str:
    """initData as Telegram makes it: the fields, and the HMAC-SHA256 of their sorted lines keyed with
    HMAC-SHA256("WebAppData", token)."""
    values = {k: json.dumps(v, separators=(",", ":")) if isinstance(v, dict) else str(v) for k, v in fields.items()}
    check = "\n".join(f"{k}={values[k]}" for k in sorted(values))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    values["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(values)


def telegram_fields(user_id: str, now: dt.datetime, **extra: Any) -> dict[str, Any]:
    return {
        "query_id": "AAH",
        "user": {"id": int(user_id), "first_name": "Bình", "language_code": "vi"},
        "auth_date": int(now.timestamp()),
        **extra,
    }


def origin(client: TestClient[Any, Any]) -> dict[str, str]:
    return {"Origin": str(client.make_url("")).rstrip("/")}


def keep_session(client: TestClient[Any, Any], response: Any) -> None:
    """The cookie is `Secure` (HTTPS address); over the test server's plain HTTP the test hands it back."""
    client.session.cookie_jar.update_cookies({"antt_thi": response.cookies["antt_thi"].value})


async def page_link(chat: Chat) -> str:
    """What the chat gives for “Làm bài trên trang web”: the one-time link's token."""
    await chat.say("/thi")
    if any("Đúng, em đăng ký" in label for _t, label in chat.options):
        await chat.tap("Đúng, em đăng ký")
    await chat.tap("Làm bài trên trang web")
    found = PAGE_LINK.search(chat.text)
    assert found, chat.text
    return found.group(1)


async def enter(client: TestClient[Any, Any], token: str) -> Any:
    response = await client.post("/thi/vao", data={"t": token}, headers=origin(client), allow_redirects=False)
    if response.status == 303:
        keep_session(client, response)
    return response


async def api(client: TestClient[Any, Any], path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    if body is None:
        response = await client.get(f"/thi/api/{path}")
    else:
        response = await client.post(f"/thi/api/{path}", json=body, headers=origin(client))
    return response.status, await response.json()
