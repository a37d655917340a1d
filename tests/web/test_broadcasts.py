"""Gửi bài from the web console: preview who it reaches (nothing stored yet), send, then the status per class;
a reminder once a day; another teacher's broadcast is not there."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update

from bot.app import App
from db import models as m
from tests.web.conftest import csrf_of, link_for, origin, sign_in
from tests.web.test_pages import add_students


async def broadcasts_stored(app: App) -> int:
    async with app.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(m.Broadcast)) or 0)


async def test_a_teacher_previews_sends_and_follows_a_lesson(web_app: App, client: TestClient[Any, Any]) -> None:
    await add_students(web_app, ["Trần Văn Bình", "Lê Thị An"])
    await sign_in(client, await link_for(web_app, "gv"))
    form_page = await (await client.get("/gui-bai")).text()
    lesson = re.search(r'<option value="(lesson\.[^"]+)">', form_page)
    assert lesson and "An toàn giao thông" in form_page
    async with web_app.sessions() as s:
        class_id = (await s.scalars(select(m.SchoolClass.id))).one()
    fields = {"csrf": csrf_of(form_page), "bai": lesson.group(1), "lop": str(class_id), "luc": "now", "han": "3"}
    shown = await client.post("/gui-bai/xem-truoc", data=fields, headers=origin(client))
    text = await shown.text()
    assert shown.status == 200 and "2 học sinh nhận được" in text and "sau 3 ngày" in text
    assert await broadcasts_stored(web_app) == 0  # a preview stores nothing
    sent = await client.post("/gui-bai", data=fields, headers=origin(client), allow_redirects=False)
    assert sent.status == 303 and await broadcasts_stored(web_app) == 1
    status = await (await client.get(sent.headers["Location"])).text()
    assert "Chưa hoàn thành (2)" in status and "Trần Văn Bình" in status and "đang chờ gửi" in status
    remind = sent.headers["Location"] + "/nhac"
    first = await client.post(remind, data={"csrf": fields["csrf"]}, headers=origin(client), allow_redirects=False)
    assert first.status == 303
    again = await client.post(remind, data={"csrf": fields["csrf"]}, headers=origin(client))
    assert again.status == 409 and "Hôm nay thầy/cô đã nhắc bài này rồi" in await again.text()


async def test_a_bad_form_and_a_foreign_class_change_nothing(web_app: App, client: TestClient[Any, Any]) -> None:
    await add_students(web_app, ["Trần Văn Bình"])
    await sign_in(client, await link_for(web_app, "gv"))
    csrf = csrf_of(await (await client.get("/gui-bai")).text())
    missing = await client.post("/gui-bai", data={"csrf": csrf, "bai": "lesson.x"}, headers=origin(client))
    assert missing.status == 422 and "ít nhất một lớp" in await missing.text()
    foreign = {"csrf": csrf, "bai": "practice.an-toan-giao-thong", "lop": "9999", "luc": "now", "han": "0"}
    refused = await client.post("/gui-bai", data=foreign, headers=origin(client))
    assert refused.status == 422 and "Không tìm thấy lớp này" in await refused.text()
    assert await broadcasts_stored(web_app) == 0
    assert (await client.get("/gui-bai/9999")).status == 404


async def test_a_message_the_oa_could_not_send_shows_with_its_reason(
    web_app: App, client: TestClient[Any, Any]
) -> None:
    await add_students(web_app, ["Trần Văn Bình", "Lê Thị An"])
    await sign_in(client, await link_for(web_app, "gv"))
    form_page = await (await client.get("/gui-bai")).text()
    lesson = re.search(r'<option value="(lesson\.[^"]+)">', form_page)
    assert lesson
    async with web_app.sessions() as s:
        class_id = (await s.scalars(select(m.SchoolClass.id))).one()
    fields = {"csrf": csrf_of(form_page), "bai": lesson.group(1), "lop": str(class_id), "luc": "now", "han": "3"}
    sent = await client.post("/gui-bai", data=fields, headers=origin(client), allow_redirects=False)
    # What the broadcast sender stores when the Zalo OA's 7-day window is closed for one student.
    async with web_app.sessions() as s:
        binh = (await s.scalars(select(m.User.id).where(m.User.display_name == "Trần Văn Bình"))).one()
        await s.execute(
            update(m.Delivery)
            .where(m.Delivery.user_id == binh)
            .values(status="failed", attempts=1, last_error="not_sent:oa_window")
        )
        await s.commit()
    status = await (await client.get(sent.headers["Location"])).text()
    assert "Trần Văn Bình (" in status
    assert "chưa gửi được (người nhận chưa nhắn tin cho Zalo OA của trường trong 7 ngày qua)" in status
    assert status.count("chưa gửi được") == 1  # Lê Thị An is still waiting
