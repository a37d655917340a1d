"""Running a round from the web console: close and publish ask first and need the form's CSRF token; the open
round's progress refreshes; the results download as CSV; a teacher's session changes nothing."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.app import App
from db import models as m
from tests.conftest import FakeClock
from tests.contests.helpers import contest_def, make_contest
from tests.web.conftest import csrf_of, link_for, origin, sign_in
from tests.web.test_pages import add_students, sit

OPEN = ("scheduled", "open")  # open by its written times, or opened by hand


async def round_status(app: App) -> str:
    async with app.sessions() as s:
        return str((await s.scalars(select(m.ContestRound.status))).one())


async def round_id(app: App) -> int:
    async with app.sessions() as s:
        return int((await s.scalars(select(m.ContestRound.id))).one())


async def post(client: TestClient[Any, Any], path: str, csrf: str | None) -> Any:
    data = {"csrf": csrf} if csrf is not None else {}
    return await client.post(path, data=data, headers=origin(client), allow_redirects=False)


async def test_the_organizer_closes_and_publishes_after_confirming(
    web_app: App, client: TestClient[Any, Any], clock: FakeClock
) -> None:
    await make_contest(web_app, contest_def(clock(), title="Hội thi An toàn giao thông"))
    (student,) = await add_students(web_app, ["Trần Văn Bình"])
    await sit(student, right=5)
    await sign_in(client, await link_for(web_app, "btc"))
    rid = await round_id(web_app)
    page = await (await client.get(f"/hoi-thi/vong/{rid}")).text()
    assert f'href="/hoi-thi/vong/{rid}/dong"' in page and "Tiến độ vòng thi" in page

    ask = await (await client.get(f"/hoi-thi/vong/{rid}/dong")).text()
    assert "Học sinh không bắt đầu bài mới được nữa" in ask
    assert await round_status(web_app) in OPEN  # asking changes nothing

    refused = await post(client, f"/hoi-thi/vong/{rid}/dong", None)
    assert refused.status == 403 and await round_status(web_app) in OPEN
    done = await post(client, f"/hoi-thi/vong/{rid}/dong", csrf_of(ask))
    assert done.status == 303 and done.headers["Location"] == f"/hoi-thi/vong/{rid}?xong=dong"
    assert await round_status(web_app) == "closed"
    shown = await (await client.get(done.headers["Location"])).text()
    assert re.search(r"Đã đóng .*\.", shown) and f'href="/hoi-thi/vong/{rid}/cong-bo"' in shown

    ask = await (await client.get(f"/hoi-thi/vong/{rid}/cong-bo")).text()
    assert "1 bài chính thức, 1 giải cá nhân" in ask and "không sửa được nữa" in ask
    done = await post(client, f"/hoi-thi/vong/{rid}/cong-bo", csrf_of(ask))
    assert done.status == 303 and await round_status(web_app) == "published"
    shown = await (await client.get(done.headers["Location"])).text()
    assert "1 học sinh đạt giải sẽ nhận được tin nhắn chúc mừng" in shown

    again = await post(client, f"/hoi-thi/vong/{rid}/cong-bo", csrf_of(ask))
    assert again.status == 409 and "đã được công bố rồi" in await again.text()
    async with web_app.sessions() as s:
        actions = (await s.scalars(select(m.AuditLog.action).where(m.AuditLog.action.like("contest.%")))).all()
    assert [a for a in actions if a in ("contest.close", "contest.publish")] == ["contest.close", "contest.publish"]

    csv = await client.get(f"/hoi-thi/vong/{rid}/ket-qua.csv")
    body = (await csv.read()).decode("utf-8-sig")
    assert csv.status == 200 and "Trần Văn Bình" in body


async def test_the_progress_of_an_open_round_counts_who_started_and_who_submitted(
    web_app: App, client: TestClient[Any, Any], clock: FakeClock
) -> None:
    await make_contest(web_app, contest_def(clock()))
    first, second = await add_students(web_app, ["Trần Văn Bình", "Lê Thị An"])
    await sign_in(client, await link_for(web_app, "btc"))
    rid = await round_id(web_app)
    assert "Chưa có ai bắt đầu thi." in await (await client.get(f"/hoi-thi/vong/{rid}/tien-do")).text()
    await sit(first, right=4)
    await second.start_official()
    fragment = await (await client.get(f"/hoi-thi/vong/{rid}/tien-do")).text()
    assert 'hx-trigger="every 5s"' in fragment and "<html" not in fragment  # a fragment, swapped into the page
    cells = re.findall(r"<td>(\d+)</td>", fragment)
    assert cells[-2:] == ["2", "1"]  # the total row: 2 started, 1 submitted


async def test_a_teacher_cannot_run_a_round(web_app: App, client: TestClient[Any, Any], clock: FakeClock) -> None:
    await make_contest(web_app, contest_def(clock()))
    await sign_in(client, await link_for(web_app, "gv"))
    csrf = csrf_of(await (await client.get("/")).text())
    rid = await round_id(web_app)
    for action in ("dong", "mo", "cong-bo"):
        response = await post(client, f"/hoi-thi/vong/{rid}/{action}", csrf)
        assert response.status == 403
    assert await round_status(web_app) in OPEN
