"""Signing in to the web console from the chat: a one-time link, spent only by the page's POST, 10 minutes;
then an HttpOnly session cookie; sign-out; CSRF and Origin on every form; roles and scopes as in the chat."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.app import App
from bot.channels.console.app import ConsoleSession
from db import models as m
from tests.conftest import FakeClock
from tests.web.conftest import csrf_of, keep_cookie, link_for, origin, sign_in


async def count(app: App, model: Any) -> int:
    async with app.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_link_from_the_chat_signs_the_organizer_in_once(web_app: App, client: TestClient[Any, Any]) -> None:
    token = await link_for(web_app, "btc")
    # Opening the link (or a messenger's preview fetching it) only shows the button.
    for _ in range(2):
        shown = await client.get(f"/dang-nhap?t={token}")
        assert shown.status == 200
        assert "Đăng nhập trang quản lý" in await shown.text()
    response = await client.post("/dang-nhap", data={"t": token}, headers=origin(client), allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie  # the base URL is HTTPS
    keep_cookie(client, response)
    home = await client.get("/")
    html = await home.text()
    assert home.status == 200 and "Tổng quan" in html and "Hạn báo cáo tiếp theo" in html
    assert home.headers["Referrer-Policy"] == "same-origin" and home.headers["X-Frame-Options"] == "DENY"
    # The same link again: refused, and no second session.
    again = await client.post("/dang-nhap", data={"t": token}, headers=origin(client))
    assert again.status == 400 and "Đường dẫn này đã được dùng" in await again.text()
    assert await count(web_app, m.WebSession) == 1
    async with web_app.sessions() as s:
        stored = (await s.scalars(select(m.WebLogin.token_hash))).all()
        actions = (await s.scalars(select(m.AuditLog.action))).all()
    assert token not in stored  # only its hash is kept
    assert "web.sign_in" in actions


async def test_an_expired_or_made_up_link_opens_nothing(
    web_app: App, client: TestClient[Any, Any], clock: FakeClock
) -> None:
    token = await link_for(web_app, "qt")
    clock.advance(minutes=10, seconds=1)
    for bad in (token, "x" * 43, ""):
        response = await client.post("/dang-nhap", data={"t": bad}, headers=origin(client))
        assert response.status == 400
        assert "Thầy/cô gõ /web trong chat" in await response.text()
    assert await count(web_app, m.WebSession) == 0
    assert (await client.get("/")).status == 401


async def test_forms_need_the_csrf_token_and_our_origin(web_app: App, client: TestClient[Any, Any]) -> None:
    await sign_in(client, await link_for(web_app, "gv"))
    html = await (await client.get("/")).text()
    # Another site's form: refused whatever it carries.
    foreign = await client.post("/dang-xuat", data={"csrf": csrf_of(html)}, headers={"Origin": "https://evil.example"})
    assert foreign.status == 403
    no_token = await client.post("/dang-xuat", data={}, headers=origin(client))
    assert no_token.status == 403 and "tải lại trang" in await no_token.text()
    assert (await client.get("/")).status == 200  # still signed in: nothing happened
    out = await client.post("/dang-xuat", data={"csrf": csrf_of(html)}, headers=origin(client))
    assert out.status == 200 and "đã đăng xuất" in await out.text()
    assert await count(web_app, m.WebSession) == 0
    assert (await client.get("/")).status == 401


async def test_a_tampered_cookie_is_no_session(web_app: App, client: TestClient[Any, Any]) -> None:
    await sign_in(client, await link_for(web_app, "btc"))
    client.session.cookie_jar.update_cookies({"antt_sid": "forged-session-id"})
    response = await client.get("/hoi-thi")
    assert response.status == 401 and "gõ /web trong chat" in await response.text()


async def test_students_get_no_link_and_teachers_no_contest_pages(web_app: App, client: TestClient[Any, Any]) -> None:
    screen = await ConsoleSession(web_app.dispatcher, user="hs").send("/web")
    assert "quanly.example.vn" not in screen
    assert await count(web_app, m.WebLogin) == 0
    await sign_in(client, await link_for(web_app, "gv"))
    refused = await client.get("/hoi-thi")
    assert refused.status == 403 and "ban tổ chức" in await refused.text()
    assert (await client.get("/hoi-thi/vong/1/ket-qua.xlsx")).status == 403
    html = await (await client.get("/")).text()
    assert 'href="/hoi-thi"' not in html  # no menu entry for what the role cannot open


async def test_an_unknown_page_is_a_vietnamese_page_with_the_right_status(
    web_app: App, client: TestClient[Any, Any]
) -> None:
    await sign_in(client, await link_for(web_app, "btc"))
    missing = await client.get("/khong-co-trang-nay")
    assert missing.status == 404 and "Không tìm thấy trang này" in await missing.text()
    assert missing.headers["X-Frame-Options"] == "DENY"
