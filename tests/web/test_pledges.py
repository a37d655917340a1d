"""Pledges in the web console: the tallies of each one's scope (the teacher's class, the admin's classes, the
organizer's schools), the printable list of a class with the names (audited), the reminder behind the form's token,
and the pages of another class or another school answering "not found"."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.app import App
from db import models as m
from tests.pledges.helpers import (
    STUDENTS_7A,
    TEMPLATE,
    district,
    join,
    link_parent,
    notices_for,
    pledge_id,
    publish,
    sign,
)
from tests.web.conftest import csrf_of, link_for, origin, sign_in


def cells(html: str, first: str) -> list[str]:
    """The cells of the table row whose header cell is `first`."""
    row = re.search(rf"<th scope=\"row\">{re.escape(first)}</th>(.*?)</tr>", html, re.S)
    assert row, html
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row.group(1), re.S)]


async def three_and_two(app: App) -> tuple[int, Any]:
    """The acceptance figures: 7A has 4 students, 3 of them and 2 parents (of 3 linked) confirmed; 7B has one."""
    d = await district(app)
    students = {u: await join(app, u, d.code_7a, name, "7A") for u, name in STUDENTS_7A.items()}
    parents = [await link_parent(app, students[s], p) for p, s in (("ph1", "hs1"), ("ph2", "hs2"), ("ph3", "hs3"))]
    await join(app, "hs5", d.code_7b, "Hoàng Văn Em", "7B")
    await publish(app)
    for user in ("hs1", "hs2", "hs3"):
        await sign(students[user])
    for parent, child in zip(parents[:2], ("Nguyễn Văn An", "Trần Thị Bình"), strict=True):
        await sign(parent, f"{TEMPLATE} – {child}", "Tôi đã đọc")
    return await pledge_id(app), d


async def test_each_role_sees_the_tallies_of_its_scope_and_the_teacher_prints_the_class(
    web_app: App, client: TestClient[Any, Any]
) -> None:
    pid, d = await three_and_two(web_app)
    await sign_in(client, await link_for(web_app, "gv"))
    listing = await (await client.get("/cam-ket")).text()
    assert TEMPLATE in listing and "3/4" in listing and "2/4" in listing
    page = await client.get(f"/cam-ket/{pid}")
    html = await page.text()
    assert page.status == 200
    # students, confirmed, not, earlier version only, parents confirmed, not, parents linked, the list
    assert cells(html, "7A") == ["4", "3", "1", "0", "2", "2", "3", "In danh sách 7A"]
    assert 'scope="row">7B<' not in html

    sheet = await client.get(f"/cam-ket/{pid}/lop/{d.class_7a}")
    text = await sheet.text()
    assert sheet.status == 200 and "Danh sách ký cam kết – lớp 7A" in text
    for name in STUDENTS_7A.values():
        assert name in text
    assert cells(text, "Nguyễn Văn An")[0].startswith("✅ 09:00 28/11/2026") and cells(text, "Nguyễn Văn An")[
        1
    ].startswith("✅")
    assert cells(text, "Lê Văn Cường")[1] == "chưa ký" and cells(text, "Phạm Thị Dung") == [
        "chưa ký",
        "chưa liên kết",
        "",
    ]
    assert "Cộng: 4 học sinh" in text and text.count("3 đã ký") == 1 and text.count("2 đã ký") == 1
    async with web_app.sessions() as s:
        audit = (await s.execute(select(m.AuditLog).where(m.AuditLog.action == "pledge.list"))).scalar_one()
    assert audit.scope == f"class:{d.class_7a}" and audit.detail == {"pledge": pid, "rows": 4, "via": "web"}

    # Another teacher's class, a class of no pledge, a pledge that does not exist: the same "not found".
    assert (await client.get(f"/cam-ket/{pid}/lop/{d.class_7b}")).status == 404
    assert (await client.get(f"/cam-ket/{pid}/lop/{d.class_8b}")).status == 404
    assert (await client.get(f"/cam-ket/{pid + 99}")).status == 404

    await sign_in(client, await link_for(web_app, "qt"))
    html = await (await client.get(f"/cam-ket/{pid}")).text()
    assert cells(html, "7A")[:7] == ["4", "3", "1", "0", "2", "2", "3"]
    assert cells(html, "7B")[:7] == ["1", "0", "1", "0", "0", "1", "0"]
    assert cells(html, "Cộng") == ["5", "3", "2", "0", "2", "3", "3", ""]
    assert (await client.get(f"/cam-ket/{pid}/lop/{d.class_7b}")).status == 200  # the admin's school

    await sign_in(client, await link_for(web_app, "btc"))
    html = await (await client.get(f"/cam-ket/{pid}")).text()
    assert cells(html, "Trường THCS Thử Nghiệm") == ["5", "3", "2", "0", "2", "3", "3"]
    assert "In danh sách" not in html and "Nguyễn Văn An" not in html  # organizers see counts, never names
    assert (await client.get(f"/cam-ket/{pid}/lop/{d.class_7a}")).status == 404


async def test_another_school_sees_nothing_and_the_reminder_needs_the_forms_token(
    web_app: App, client: TestClient[Any, Any]
) -> None:
    pid, _d = await three_and_two(web_app)
    await sign_in(client, await link_for(web_app, "qt2"))
    assert TEMPLATE not in await (await client.get("/cam-ket")).text()
    assert (await client.get(f"/cam-ket/{pid}")).status == 404
    csrf = csrf_of(await (await client.get("/cam-ket")).text())
    assert (await client.post(f"/cam-ket/{pid}/nhac", data={"csrf": csrf}, headers=origin(client))).status == 404

    await sign_in(client, await link_for(web_app, "gv"))
    html = await (await client.get(f"/cam-ket/{pid}")).text()
    before = len(await notices_for(web_app, "hs4"))
    assert (await client.post(f"/cam-ket/{pid}/nhac", data={}, headers=origin(client))).status == 403
    assert len(await notices_for(web_app, "hs4")) == before
    done = await client.post(f"/cam-ket/{pid}/nhac", data={"csrf": csrf_of(html)}, headers=origin(client))
    assert done.status == 200 and "Đã gửi lời nhắc tới 2 học sinh và phụ huynh chưa ký (1 lớp)." in await done.text()
    assert "🔔 Nhắc em" in (await notices_for(web_app, "hs4"))[-1]  # hs4, and the parent of hs3
    again = await client.post(f"/cam-ket/{pid}/nhac", data={"csrf": csrf_of(html)}, headers=origin(client))
    assert again.status == 409 and "Hôm nay thầy/cô đã nhắc" in await again.text()
    async with web_app.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(m.PledgeReminder)) == 1
