"""Classes in the web console: the join code and link, a printable page with a QR code, and a roster sheet whose
bad rows are named before anything changes; another teacher's class is not there."""

from __future__ import annotations

import io
from typing import Any

from aiohttp import FormData
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.app import App
from bot.broadcasts.roster_xlsx import write_roster
from db import models as m
from tests.web.conftest import csrf_of, link_for, origin, sign_in


async def demo_class(app: App) -> tuple[int, str]:
    async with app.sessions() as s:
        klass = (await s.scalars(select(m.SchoolClass))).one()
        return klass.id, klass.join_code


async def roster_rows(app: App) -> int:
    async with app.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(m.RosterEntry)) or 0)


def sheet(rows: list[tuple[str, str | None]], csrf: str | None) -> FormData:
    form = FormData()
    if csrf is not None:
        form.add_field("csrf", csrf)
    form.add_field("tep", io.BytesIO(write_roster(rows)), filename="danh-sach.xlsx")
    return form


async def test_a_teacher_sees_the_join_code_and_prints_a_poster(web_app: App, client: TestClient[Any, Any]) -> None:
    web_app.dispatcher.settings.bot_username = "antt_demo_bot"  # as the Telegram channel sets it at start
    class_id, code = await demo_class(web_app)
    await sign_in(client, await link_for(web_app, "gv"))
    html = await (await client.get("/lop")).text()
    assert code in html and f"https://t.me/antt_demo_bot?start={code}" in html
    poster = await (await client.get(f"/lop/{class_id}/in")).text()
    assert "<svg" in poster and f"/vaolop {code}" in poster


async def test_a_sheet_with_a_bad_row_changes_nothing_and_names_the_row(
    web_app: App, client: TestClient[Any, Any]
) -> None:
    class_id, _code = await demo_class(web_app)
    await sign_in(client, await link_for(web_app, "gv"))
    csrf = csrf_of(await (await client.get("/lop")).text())
    bad = await client.post(
        f"/lop/{class_id}/danh-sach",
        data=sheet([("Trần Văn Bình", "HS01"), ("", "HS02")], csrf),
        headers=origin(client),
    )
    text = await bad.text()
    assert bad.status == 422 and "chưa có gì thay đổi" in text and "Dòng 3: thiếu họ và tên." in text
    assert await roster_rows(web_app) == 0
    no_token = await client.post(
        f"/lop/{class_id}/danh-sach", data=sheet([("Trần Văn Bình", "HS01")], None), headers=origin(client)
    )
    assert no_token.status == 403 and await roster_rows(web_app) == 0
    good = await client.post(
        f"/lop/{class_id}/danh-sach",
        data=sheet([("Trần Văn Bình", "HS01"), ("Lê Thị An", "HS02")], csrf),
        headers=origin(client),
    )
    assert good.status == 200 and "Đã nhập 2 em" in await good.text()
    assert await roster_rows(web_app) == 2


async def test_the_class_pages_are_for_those_who_manage_the_class(web_app: App, client: TestClient[Any, Any]) -> None:
    class_id, _code = await demo_class(web_app)
    await sign_in(client, await link_for(web_app, "btc"))
    assert (await client.get("/lop")).status == 403
    assert (await client.get(f"/lop/{class_id + 100}/in")).status == 403
    await sign_in(client, await link_for(web_app, "qt"))  # the school admin manages every class of the school
    assert (await client.get(f"/lop/{class_id}/in")).status == 200
    missing = await client.get(f"/lop/{class_id + 100}/in")
    assert missing.status == 404 and "Không tìm thấy lớp này" in await missing.text()
