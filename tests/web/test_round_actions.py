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
from tests.contests.helpers import Chat, contest_def, make_contest
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

    pdf = await client.get(f"/hoi-thi/vong/{rid}/giay-khen.pdf")
    assert pdf.status == 200 and (await pdf.read()).startswith(b"%PDF")
    assert (
        pdf.headers["Content-Disposition"].endswith('.pdf"')
        and "giay-khen-hoi-thi-an-toan-giao-thong" in pdf.headers["Content-Disposition"]
    )

    csv = await client.get(f"/hoi-thi/vong/{rid}/ket-qua.csv")
    body = (await csv.read()).decode("utf-8-sig")
    assert csv.status == 200 and "Trần Văn Bình" in body


async def student_of_another_school(app: App, name: str) -> Chat:
    """A student of a second school's class 8B, with both consents."""
    now = app.clock()
    async with app.uow_factory() as uow:
        school = await uow.schools.create("Trường THCS Đông Hòa", now)
        klass = await uow.classes.create(school.id, None, "8B", 8, "2026-2027", "DH8B01", now)
        user = await uow.users.create("zalo", "z1", "z1", "vi", now)
        await uow.users.update(user.id, display_name=name, onboarded=True)
        await uow.classes.add_member(user.id, klass.id, now)
        await uow.consents.add(user.id, "child", "in_chat", "2026-01", now)
        await uow.consents.add(user.id, "guardian", "paper_form", "2026-01", now)
        await uow.commit()
    return Chat(app, "zalo", "z1")


def counts(fragment: str) -> dict[str, int]:
    """The total row of the progress table: registered, started, submitted."""
    return {k: int(v) for k, v in re.findall(r'<td data-count="(\w+)">(\d+)</td>', fragment)}


async def test_the_progress_of_an_open_round_counts_who_registered_started_and_submitted(
    web_app: App, client: TestClient[Any, Any], clock: FakeClock
) -> None:
    await make_contest(web_app, contest_def(clock()))
    first, second, third = await add_students(web_app, ["Trần Văn Bình", "Lê Thị An", "Phạm Minh Châu"])
    await sign_in(client, await link_for(web_app, "btc"))
    rid = await round_id(web_app)
    assert "Chưa có ai đăng ký dự thi." in await (await client.get(f"/hoi-thi/vong/{rid}/tien-do")).text()
    await sit(first, right=4)
    await second.start_official()
    await third.say("/thi")
    await third.tap("Đúng, em đăng ký")  # registered, not started yet
    fragment = await (await client.get(f"/hoi-thi/vong/{rid}/tien-do")).text()
    assert 'hx-trigger="every 5s"' in fragment and "<html" not in fragment  # a fragment, swapped into the page
    assert counts(fragment) == {"registered": 3, "started": 2, "submitted": 1}
    assert '<th scope="row">7A</th><td>3</td><td>2</td><td>1</td>' in fragment
    assert "subtotal" not in fragment  # one school: no line per school

    other = await student_of_another_school(web_app, "Vũ Quốc Việt")
    await other.say("/thi")
    await other.tap("Đúng, em đăng ký")
    fragment = await (await client.get(f"/hoi-thi/vong/{rid}/tien-do")).text()
    assert counts(fragment) == {"registered": 4, "started": 2, "submitted": 1}
    rows = [re.sub(r"<[^>]+>", "|", r) for r in re.findall(r"<tr[^>]*>(.*?)</tr>", fragment)]
    cells = [[c for c in r.split("|") if c] for r in rows]
    assert ["Trường THCS Đông Hòa", "1", "0", "0"] in cells  # the school's own line
    assert ["Trường THCS Đông Hòa", "8B", "1", "0", "0"] in cells
    # The chat's count is of attempts, as before: the class where nobody started is not listed.
    chat = Chat(web_app, "console", "btc")
    await chat.say("/thi")
    await chat.tap("Hội thi thử nghiệm")
    await chat.tap("Đợt 1")
    await chat.tap("Số người tham gia")
    assert "7A: 1/2" in chat.text and "8B" not in chat.text, chat.text


async def test_a_teacher_cannot_run_a_round(web_app: App, client: TestClient[Any, Any], clock: FakeClock) -> None:
    await make_contest(web_app, contest_def(clock()))
    await sign_in(client, await link_for(web_app, "gv"))
    csrf = csrf_of(await (await client.get("/")).text())
    rid = await round_id(web_app)
    for action in ("dong", "mo", "cong-bo"):
        response = await post(client, f"/hoi-thi/vong/{rid}/{action}", csrf)
        assert response.status == 403
    assert await round_status(web_app) in OPEN
