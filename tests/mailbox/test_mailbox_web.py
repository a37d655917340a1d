"""The safe mailbox in the web console: counsellors of the letter's school read it (audited), reply (the child is
told in the chat) and mark it; the class teacher, the school admin, the organizer and another school's
counsellor get 403/404 and nothing changes; a form without its CSRF token or with bad input changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.app import App
from bot.web.server import make_web_app
from db import models as m
from tests.mailbox.helpers import LETTER, REPLY, STUDENT_NAME, cases, world, write_letter
from tests.reliability.helpers import row_counts, user_id_of
from tests.web.conftest import csrf_of, link_for, origin, sign_in

MakeClient = Callable[..., Awaitable[TestClient[Any, Any]]]


async def signed_in(app: App, aiohttp_client: MakeClient, user: str) -> TestClient[Any, Any]:
    client = await aiohttp_client(make_web_app(app.web_deps()))
    await sign_in(client, await link_for(app, user))
    return client


async def test_a_counsellor_reads_replies_and_marks_a_letter_in_the_console(
    web_app: App, aiohttp_client: MakeClient
) -> None:
    w = await world(web_app)
    await write_letter(w.chat("hs"))
    (case,) = await cases(web_app)
    client = await signed_in(web_app, aiohttp_client, "tv")

    listing = await client.get("/hop-thu")
    html = await listing.text()
    assert listing.status == 200 and f"/hop-thu/{case.id}" in html and "bị bắt nạt" in html and LETTER not in html
    page = await client.get(f"/hop-thu/{case.id}")
    html = await page.text()
    assert page.status == 200 and LETTER in html and "ẩn danh" in html and STUDENT_NAME not in html
    assert 'for="loi"' in html and 'for="trang_thai"' in html  # every input has its label

    tv = await user_id_of(web_app, "tv")
    async with web_app.sessions() as s:
        views = list(
            (
                await s.execute(
                    select(m.AuditLog).where(m.AuditLog.actor_id == tv, m.AuditLog.action == "mailbox.view")
                )
            ).scalars()
        )
        assert [(v.scope, v.detail) for v in views] == [(f"mailbox:{case.id}", {"via": "web"})]

    csrf = csrf_of(html)
    sent = await client.post(
        f"/hop-thu/{case.id}/tra-loi", data={"csrf": csrf, "loi": REPLY}, headers=origin(client), allow_redirects=False
    )
    assert sent.status == 303
    after = await client.get(sent.headers["Location"])
    html = await after.text()
    assert "Đã gửi trả lời cho học sinh" in html and REPLY in html and "đang hỗ trợ" in html
    await w.output.deliver()  # the notices job, as the running bot does every few seconds
    assert "đã trả lời thư em" in w.chat("hs").waiting()

    marked = await client.post(
        f"/hop-thu/{case.id}/trang-thai",
        data={"csrf": csrf, "trang_thai": "closed"},
        headers=origin(client),
        allow_redirects=False,
    )
    assert marked.status == 303
    assert (await cases(web_app))[0].status == "closed"


async def test_no_one_else_reads_a_letter_in_the_console_and_bad_posts_change_nothing(
    web_app: App, aiohttp_client: MakeClient
) -> None:
    w = await world(web_app)
    await write_letter(w.chat("hs"))
    (case,) = await cases(web_app)
    for who in ("gv", "qt", "btc"):
        client = await signed_in(web_app, aiohttp_client, who)
        for path in ("/hop-thu", f"/hop-thu/{case.id}"):
            response = await client.get(path)
            text = await response.text()
            assert response.status == 403 and LETTER not in text and "thầy/cô tư vấn" in text, (who, path)
        home = await (await client.get("/")).text()
        before = await row_counts(web_app)
        response = await client.post(
            f"/hop-thu/{case.id}/tra-loi",
            data={"csrf": csrf_of(home), "loi": "Em ơi cô đây"},
            headers=origin(client),
            allow_redirects=False,
        )
        assert response.status == 403 and await row_counts(web_app) == before

    # Another school's counsellor: the letter does not exist for them, and their list is empty.
    other = await signed_in(web_app, aiohttp_client, "gv2")
    response = await other.get(f"/hop-thu/{case.id}")
    assert response.status == 404 and LETTER not in await response.text()
    assert f"/hop-thu/{case.id}" not in await (await other.get("/hop-thu")).text()
    home = await (await other.get("/")).text()
    before = await row_counts(web_app)
    for action, data in (("tra-loi", {"loi": "Chào em"}), ("trang-thai", {"trang_thai": "closed"})):
        response = await other.post(
            f"/hop-thu/{case.id}/{action}", data={"csrf": csrf_of(home), **data}, headers=origin(other)
        )
        assert response.status == 404
    assert await row_counts(web_app) == before

    # The counsellor: without the CSRF token, an empty reply or an unknown state, nothing changes.
    client = await signed_in(web_app, aiohttp_client, "tv")
    html = await (await client.get(f"/hop-thu/{case.id}")).text()
    before = await row_counts(web_app)
    no_csrf = await client.post(f"/hop-thu/{case.id}/tra-loi", data={"loi": REPLY}, headers=origin(client))
    assert no_csrf.status == 403
    empty = await client.post(
        f"/hop-thu/{case.id}/tra-loi", data={"csrf": csrf_of(html), "loi": "  "}, headers=origin(client)
    )
    assert empty.status == 422 and "Thầy/cô gõ lời trả lời" in await empty.text()
    bad = await client.post(
        f"/hop-thu/{case.id}/trang-thai", data={"csrf": csrf_of(html), "trang_thai": "xoa"}, headers=origin(client)
    )
    assert bad.status == 422 and "Trạng thái này không có" in await bad.text()
    missing = await client.get("/hop-thu/99999")
    assert missing.status == 404
    after = await row_counts(web_app)
    assert {k for k in after if after[k] != before[k]} <= {"audit_log"}  # only the views were recorded
    assert (await cases(web_app))[0].status == "new"
