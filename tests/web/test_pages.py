"""The overview and the contest pages as each role sees them, over the real services and database."""

from __future__ import annotations

import io
from typing import Any

from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from bot.app import App
from bot.core.clock import vn_time
from db import models as m
from tests.conftest import FakeClock
from tests.contests.helpers import Chat, contest_def, make_contest
from tests.web.conftest import link_for, sign_in


async def add_students(app: App, names: list[str]) -> list[Chat]:
    """Students of the demo class with both consents, each with a chat of their own."""
    now = app.clock()
    chats = []
    async with app.uow_factory() as uow:
        klass = (await uow.classes.for_teacher((await uow.users.by_account("console", "gv")).id))[0]  # type: ignore[union-attr]
        for i, name in enumerate(names):
            user = await uow.users.create("telegram", f"s{i}", f"s{i}", "vi", now)
            await uow.users.update(user.id, display_name=name, onboarded=True)
            await uow.classes.add_member(user.id, klass.id, now)
            await uow.consents.add(user.id, "child", "in_chat", "2026-01", now)
            await uow.consents.add(user.id, "guardian", "paper_form", "2026-01", now)
            chats.append(Chat(app, "telegram", f"s{i}"))
        await uow.commit()
    return chats


async def sit(chat: Chat, right: int) -> None:
    """The official attempt: `right` answers right, the rest wrong, then a prediction."""
    await chat.start_official()
    answered = 0
    while "🔮" not in chat.text:
        labels = [label for _t, label in chat.options]
        good = next(i for i, label in enumerate(labels) if label.startswith("Đáp án đúng"))
        pick = good if answered < right else (good + 1) % len(labels)
        await chat.tap_token(chat.options[pick][0])
        answered += 1
    await chat.say("2")
    assert "Em đã nộp bài" in chat.text, chat.text


async def test_the_organizer_follows_a_round_and_downloads_its_results(
    web_app: App, client: TestClient[Any, Any], clock: FakeClock
) -> None:
    d = contest_def(clock(), title="Hội thi Tìm hiểu pháp luật 2026")
    await make_contest(web_app, d)
    bình, an = await add_students(web_app, ["Trần Văn Bình", "Lê Thị An"])
    await sit(bình, right=5)
    clock.advance(seconds=30)
    await sit(an, right=3)
    await sign_in(client, await link_for(web_app, "btc"))

    listing = await (await client.get("/hoi-thi")).text()
    assert "Hội thi Tìm hiểu pháp luật 2026" in listing and "đang mở" in listing
    opens = vn_time(d.rounds[0].opens_at)
    assert opens in listing  # Vietnam time, as the organizer reads it

    async with web_app.sessions() as s:
        round_id = (await s.scalars(select(m.ContestRound.id))).one()
    page = await (await client.get(f"/hoi-thi/vong/{round_id}")).text()
    assert page.index("Trần Văn Bình") < page.index("Lê Thị An")  # 5/5 ranks above 3/5
    assert "5/5" in page and "3/5" in page and "nhiều câu đúng hơn" in page

    download = await client.get(f"/hoi-thi/vong/{round_id}/ket-qua.xlsx")
    assert download.status == 200 and "attachment" in download.headers["Content-Disposition"]
    assert "ket-qua-hoi-thi-tim-hieu-phap-luat-2026" in download.headers["Content-Disposition"]  # from the title
    workbook = load_workbook(io.BytesIO(await download.read()))
    cells = {str(c.value) for row in workbook.worksheets[0].iter_rows() for c in row if c.value is not None}
    assert {"Trần Văn Bình", "Lê Thị An"} <= cells
    async with web_app.sessions() as s:
        audit = (await s.scalars(select(m.AuditLog.detail).where(m.AuditLog.action == "contest.export"))).all()
    assert [a.get("via") for a in audit] == ["web"]


async def test_a_round_that_does_not_exist_is_a_clear_page_not_an_error(
    web_app: App, client: TestClient[Any, Any]
) -> None:
    await sign_in(client, await link_for(web_app, "btc"))
    for path in ("/hoi-thi/vong/999", "/hoi-thi/vong/abc", "/hoi-thi/vong/999/ket-qua.xlsx"):
        response = await client.get(path)
        assert response.status == 404 and "Không tìm thấy trang này" in await response.text()


async def test_a_teacher_sees_the_overview_of_their_own_class(web_app: App, client: TestClient[Any, Any]) -> None:
    await add_students(web_app, ["Phạm Minh Châu"])
    await sign_in(client, await link_for(web_app, "gv"))
    html = await (await client.get("/")).text()
    assert "Năm báo cáo 2027: từ 16/11/2026 đến 15/11/2027." in html  # 28/11/2026 is in the year ending 15/11/2027
    assert "Hạn báo cáo tiếp theo: 15/06/2027." in html
    assert "7A" in html  # the demo class, in the class table
